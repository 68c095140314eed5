"""Text out of attachment bytes, in memory only.

Attachments are hostile data: they are never written to disk and never handed to an
outside program. PDF and docx parsing happens in process with pypdf and python-docx,
and every failure (encrypted, truncated, malformed) yields no text instead of an
exception. When the files connector grows shared extractors, these can delegate.
"""

from __future__ import annotations

import io
import logging
import time

from connectors.email.charsets import decode_bytes
from connectors.htmltext import html_to_text

# Stop after this many pages / characters / seconds: enough to index, bounded for
# hostile files. The deadline is checked between pages (a single pathological page
# can still take longer: the files connector's isolated worker reads from a path, and
# attachments are never written to disk).
MAX_PDF_PAGES = 500
MAX_TEXT_CHARS = 5_000_000
MAX_PDF_SECONDS = 30.0

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def pdf_text(data: bytes) -> str | None:
    """Text of a PDF given as bytes, pages separated by blank lines; None if unreadable."""
    try:
        from pypdf import PdfReader

        logging.getLogger("pypdf").setLevel(logging.ERROR)
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception:  # noqa: BLE001
                return None
        pages: list[str] = []
        size = 0
        deadline = time.monotonic() + MAX_PDF_SECONDS
        for number, page in enumerate(reader.pages):
            if number >= MAX_PDF_PAGES or size > MAX_TEXT_CHARS or time.monotonic() > deadline:
                break
            try:
                text = page.extract_text() or ""
            except Exception:  # noqa: BLE001 - one bad page does not spoil the rest
                text = ""
            pages.append(text.strip())
            size += len(text)
        return "\n\n".join(p for p in pages if p) or None
    except Exception:  # noqa: BLE001
        return None


def docx_text(data: bytes) -> str | None:
    """Paragraphs and table cells of a .docx given as bytes; None if unreadable."""
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
        lines = [p.text for p in document.paragraphs if p.text.strip()]
        for table in document.tables:
            for row in table.rows:
                cells = [cell.text.strip() for cell in row.cells if cell.text.strip()]
                if cells:
                    lines.append(" | ".join(cells))
        return "\n".join(lines)[:MAX_TEXT_CHARS] or None
    except Exception:  # noqa: BLE001
        return None


def attachment_text(data: bytes, content_type: str, filename: str, charset: str | None = None) -> str | None:
    """Readable text of a text-bearing attachment, or None."""
    name = filename.lower()
    if content_type in ("application/pdf", "application/x-pdf") or name.endswith(".pdf"):
        if not data.startswith(b"%PDF") and b"%PDF" not in data[:1024]:
            return None
        return pdf_text(data)
    if content_type == _DOCX or name.endswith(".docx"):
        return docx_text(data)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # binary content behind a text name
    if data.startswith(b"\xef\xbb\xbf"):
        data, charset = data[3:], "utf-8"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        charset = "utf-16"
    text = decode_bytes(data, charset)[:MAX_TEXT_CHARS]
    if content_type == "text/html" or name.endswith((".html", ".htm")):
        return html_to_text(text)
    return text.replace("\r\n", "\n")
