"""Email connectors: mbox, Maildir, single messages (.eml) and Outlook .msg.

All four turn a message into Documents through :mod:`connectors.email.message`, so
every format gets the same decoding, quote removal, threading and attachments.
"""

from connectors.email.eml import EmlConnector
from connectors.email.maildir import MaildirConnector
from connectors.email.mbox import MboxConnector
from connectors.email.outlook import OutlookMsgConnector

__all__ = ["EmlConnector", "MaildirConnector", "MboxConnector", "OutlookMsgConnector"]
