"""Placeholder: replaced by the real connectors."""

from connectors.base import Connector



class MboxConnector(Connector):
    name = "mbox"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class MaildirConnector(Connector):
    name = "maildir"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class EmlConnector(Connector):
    name = "eml"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class OutlookMsgConnector(Connector):
    name = "msg"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())
