"""Image files (photos, scans, screenshots): a document whose text comes from OCR.

The connector does not open the image: it yields a document titled after the file
with one :class:`ImageRef` to it, and the background OCR pass
(``assistant/ingest/ocr_pass.py``) reads the text later, in a worker process with
limits on pixels, frames, memory and time. So a hostile image (a decompression
bomb, a truncated JPEG) costs the sync nothing and becomes a per-item error in the
OCR pass. Until then (or with OCR off) the image is findable by its file name.

Photos of an unpacked chat export (WhatsApp media beside its chat ``.txt``, Telegram
``photos/`` beside ``result.json``) are left to the chat connector, which attaches
each to its message: read here too, each would be found twice.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from pathlib import Path

from connectors.base import IMAGE_SUFFIXES, MIN_IMAGE_BYTES, Connector, Document, ImageRef, ItemError
from connectors.files.textutil import file_mtime
from connectors.kinds import KIND_FILE

# Media file names of WhatsApp (Android, iPhone) and Telegram Desktop exports.
_WHATSAPP_MEDIA = re.compile(r"^(?:(?:IMG|STK|DOC)-\d{8}-WA\d+|\d{8}-(?:PHOTO|STICKER)-\d{4}-\d\d-\d\d-)", re.I)
_TELEGRAM_PHOTO = re.compile(r"^photo_\d+@\d\d-\d\d-\d{4}_\d\d-\d\d-\d\d", re.I)


@functools.lru_cache(maxsize=256)
def _chat_export_folder(folder: str, mtime_ns: int, platform: str) -> bool:
    """Whether ``folder`` holds a WhatsApp chat ``.txt`` (or, for Telegram, a
    ``result.json``); asked once per folder and version of it (``mtime_ns``)."""
    if platform == "telegram":
        from connectors.chat.common import read_head
        from connectors.chat.telegram import looks_like_telegram

        result = Path(folder) / "result.json"
        return result.is_file() and looks_like_telegram(read_head(result))
    from connectors.chat.common import read_head
    from connectors.chat.whatsapp import looks_like_whatsapp

    try:
        names = sorted(n for n in os.listdir(folder) if n.lower().endswith(".txt"))[:20]
    except OSError:
        return False
    return any(looks_like_whatsapp(read_head(Path(folder) / name)) for name in names)


def read_by_a_chat_connector(path: Path) -> bool:
    """Whether the image is a photo of an unpacked chat export that the chat
    connector reads with its message."""
    try:
        if _WHATSAPP_MEDIA.match(path.name):
            folder = path.parent
            return _chat_export_folder(str(folder), folder.stat().st_mtime_ns, "whatsapp")
        if _TELEGRAM_PHOTO.match(path.name) and path.parent.name in ("photos", "files"):
            folder = path.parent.parent
            return _chat_export_folder(str(folder), folder.stat().st_mtime_ns, "telegram")
    except OSError:
        return False
    return False


class ImageConnector(Connector):
    """JPEG, PNG, TIFF, WebP, HEIC, BMP and GIF files, read by OCR."""

    name = "image"
    kind = KIND_FILE
    patterns = tuple(f"*{suffix}" for suffix in IMAGE_SUFFIXES)
    description = "Images (photos, scans, screenshots): text by OCR in the background"

    def claims(self, path: Path) -> bool:
        return super().claims(path) and not read_by_a_chat_connector(path)

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        size = path.stat().st_size
        if size < MIN_IMAGE_BYTES:
            return  # an icon: nothing to read, and no error worth showing
        yield Document(
            key=path.name,
            kind=self.kind,
            title=path.name,
            text="",
            timestamp=file_mtime(path),
            metadata={"format": "image", "bytes": size},
            images=[ImageRef(locator=path.name, kind="file", path=str(path))],
        )
