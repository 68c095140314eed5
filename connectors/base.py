"""The connector plugin contract: parsers that turn a person's files into Documents.

Connectors are pure parsers. Given a path they yield :class:`Document` objects and
:class:`ItemError` records; they never touch the store, the index or a model, so they
can be tested alone and a bad item never stops a run.

A third party adds a connector by installing a package that registers a subclass of
:class:`Connector` in the ``satchel.connectors`` entry-point group; the built-in
connectors are registered the same way (see ``pyproject.toml``).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

# The kinds, for connectors written against this module (connectors/kinds.py has the list)
from connectors.kinds import KIND_CHAT as KIND_CHAT
from connectors.kinds import KIND_EMAIL as KIND_EMAIL
from connectors.kinds import KIND_FILE as KIND_FILE
from connectors.kinds import KIND_NOTE as KIND_NOTE


@dataclass
class Section:
    """One structural unit of a document, with the locator a citation points to.

    Examples: a PDF page (``locator="page 3"``), a Markdown heading's text
    (``locator="# Travel > ## Flights"``), one chat message (``author`` and
    ``timestamp`` set, ``locator`` the message time), an email body without quotes.
    The chunker packs sections into chunks and never merges text across
    documents; chat messages are grouped into conversation windows.
    """

    text: str
    locator: str = ""
    author: str | None = None
    timestamp: datetime | None = None


# File name endings of the images OCR reads (HEIC/HEIF where pillow-heif is installed).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif", ".bmp", ".gif")


# Images smaller than this hold no readable text (icons, spacers, stickers, pixels).
MIN_IMAGE_BYTES = 2048


def is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES)


@dataclass
class ImageRef:
    """An image in an item whose text only OCR can read: a scanned PDF page, a photo
    file, a picture in a chat export, an image attached to an email.

    Connectors only point at the image (they stay cheap and never run OCR); the
    background OCR pass (``assistant/ingest/ocr_pass.py``) reads it later, so text
    is searchable first. ``kind`` says how to get the bytes:

    - ``"file"``: the file at ``path``;
    - ``"pdf-page"``: page ``page`` (1-based) of the PDF at ``path``;
    - ``"zip-member"``: the member ``member`` of the zip archive at ``path``;
    - ``"bytes"``: ``data``, carried by the item itself (an email attachment);
    - ``"pdf-bytes"``: ``data`` is a scanned PDF (an email attachment without text
      layer), whose first pages are read.

    ``locator`` is what a citation of the OCR'd text shows ("page 3", a message's
    time and the photo's name). ``text_chars`` is how much text the page already has
    without OCR (a PDF page with a few characters of header may still be a scan).
    """

    locator: str
    kind: str
    path: str = ""
    page: int | None = None
    member: str | None = None
    data: bytes | None = field(default=None, repr=False)
    text_chars: int = 0

    def identity(self) -> list[object]:
        """What the content hash of the item holds of this image (not its bytes)."""
        data = hashlib.sha256(self.data).hexdigest() if self.data is not None else None
        return [self.locator, self.kind, self.page, self.member, data, self.text_chars]


@dataclass
class Document:
    """One item found in a source: an email, a chat, a file, an attachment.

    ``key`` identifies the document within its source unit (the file or folder the
    connector parsed) and must be stable across runs, so that an unchanged item is
    recognised and a vanished one deleted. ``text`` is the whole item as shown to a
    reader; ``sections`` (when given) is what gets indexed, so a connector can keep
    quoted replies or boilerplate out of the chunks while storing the message whole.
    """

    key: str
    kind: str
    title: str
    text: str
    author: str | None = None
    participants: list[str] = field(default_factory=list)
    timestamp: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    # ``key`` of the parent document in the same unit (an email for its attachment)
    parent_key: str | None = None
    # Items with the same dedup key (an email's Message-ID) are indexed once, even
    # when they come from two exports.
    dedup_key: str | None = None
    # Images whose text the OCR pass adds later (chunks with the image's locator).
    images: list[ImageRef] = field(default_factory=list)

    def indexable_sections(self) -> list[Section]:
        """Sections to chunk: the explicit ones, else the whole text as one."""
        if self.sections:
            return self.sections
        return [Section(text=self.text, locator="")]

    def content_hash(self) -> str:
        """Hash of everything that ends up in the store, so any change re-indexes."""
        h = hashlib.sha256()
        payload: dict[str, Any] = {
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
            "author": self.author,
            "participants": self.participants,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "metadata": self.metadata,
            "parent": self.parent_key,
            "sections": [
                (s.text, s.locator, s.author, s.timestamp.isoformat() if s.timestamp else None) for s in self.sections
            ],
        }
        if self.images:  # only when present: every other document keeps its hash
            payload["images"] = [image.identity() for image in self.images]
        h.update(json.dumps(payload, sort_keys=True, default=str).encode("utf-8"))
        return h.hexdigest()


@dataclass
class ItemError:
    """A per-item failure: recorded with its path and reason, and the run goes on."""

    path: str
    reason: str
    # Where inside the file the bad item is (message number, line, page), if known.
    item: str | None = None


def to_utc(moment: datetime | None) -> datetime | None:
    """Normalise to an aware UTC datetime; naive times are taken as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class Connector(ABC):
    """Base class of every connector.

    Subclasses set ``name`` (unique, used by ``satchel add --kind``), ``kind`` (the
    document kind they produce), ``patterns`` (glob patterns of file names they
    claim) and implement :meth:`iter_documents`. A connector that needs to look
    inside a file to be sure (a ``.txt`` that is a WhatsApp export, a ``.json`` that
    is a Telegram export) overrides :meth:`claims` and raises ``priority`` so it is
    asked before the generic ones. A connector that reads a whole folder as one unit
    (Maildir, a Slack export) sets ``claims_directories`` and overrides
    :meth:`claims`.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[str] = KIND_FILE
    patterns: ClassVar[tuple[str, ...]] = ()
    priority: ClassVar[int] = 0
    claims_directories: ClassVar[bool] = False
    description: ClassVar[str] = ""

    def claims(self, path: Path) -> bool:
        """Whether this connector should parse ``path`` (a file, or a folder if
        ``claims_directories``). Must be cheap: it runs for every file in a tree."""
        if path.is_dir():
            return False
        name = path.name.lower()
        return any(fnmatch.fnmatch(name, pattern) for pattern in self.patterns)

    @abstractmethod
    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        """Yield the documents in ``path`` and an :class:`ItemError` for each item
        that cannot be read. Raise only for a failure of the whole unit; the caller
        records it as one error for the path."""
        raise NotImplementedError
