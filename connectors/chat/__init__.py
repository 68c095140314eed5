"""Chat-export connectors: WhatsApp, Telegram, Signal, Slack, Discord, Messenger/Instagram.

Each platform has its own module; :mod:`connectors.chat.common` holds the message
model and the month-by-month document builder they share. All of them are pure
parsers that only read the export they are given.
"""

from connectors.chat.discord import DiscordConnector
from connectors.chat.messenger import MessengerConnector
from connectors.chat.signal import SignalConnector
from connectors.chat.slack import SlackConnector
from connectors.chat.telegram import TelegramConnector
from connectors.chat.whatsapp import WhatsAppConnector

__all__ = [
    "DiscordConnector",
    "MessengerConnector",
    "SignalConnector",
    "SlackConnector",
    "TelegramConnector",
    "WhatsAppConnector",
]
