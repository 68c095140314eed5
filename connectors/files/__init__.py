"""Connectors for a person's local files: PDF, web pages, office documents, e-books,
RTF, CSV tables and source code. One module per format; shared helpers in
``textutil`` and ``sections``. Heavy parsers (pypdf, python-docx, bs4) are imported
when a file is parsed, never at import time.

Plain text and Markdown notes are the ``text`` connector (``connectors/text.py``).
"""

from connectors.files.codefile import CodeConnector
from connectors.files.csvfile import CsvConnector
from connectors.files.docxfile import DocxConnector
from connectors.files.epubfile import EpubConnector
from connectors.files.htmlfile import HtmlConnector
from connectors.files.imagefile import ImageConnector
from connectors.files.odtfile import OdtConnector
from connectors.files.pdf import PdfConnector, PdfError, PdfPasswordError, PdfTimeoutError
from connectors.files.rtffile import RtfConnector

__all__ = [
    "CodeConnector",
    "CsvConnector",
    "DocxConnector",
    "EpubConnector",
    "HtmlConnector",
    "ImageConnector",
    "OdtConnector",
    "PdfConnector",
    "PdfError",
    "PdfPasswordError",
    "PdfTimeoutError",
    "RtfConnector",
]
