"""Placeholder: replaced by the real connectors."""

from connectors.base import Connector



class PdfConnector(Connector):
    name = "pdf"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class HtmlConnector(Connector):
    name = "html"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class DocxConnector(Connector):
    name = "docx"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class OdtConnector(Connector):
    name = "odt"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class EpubConnector(Connector):
    name = "epub"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class RtfConnector(Connector):
    name = "rtf"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class CsvConnector(Connector):
    name = "csv"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class CodeConnector(Connector):
    name = "code"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())
