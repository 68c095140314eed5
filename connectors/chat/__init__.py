"""Placeholder: replaced by the real connectors."""

from connectors.base import Connector



class WhatsAppConnector(Connector):
    name = "whatsapp"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class TelegramConnector(Connector):
    name = "telegram"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class SignalConnector(Connector):
    name = "signal"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class SlackConnector(Connector):
    name = "slack"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class DiscordConnector(Connector):
    name = "discord"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())


class MessengerConnector(Connector):
    name = "messenger"

    def iter_documents(self, path):  # type: ignore[no-untyped-def]
        return iter(())
