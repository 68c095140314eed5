"""Image files (photos, scans, screenshots): a document whose text comes from OCR.

The connector does not open the image: it yields a document titled after the file
with one :class:`ImageRef` to it, and the background OCR pass
(``assistant/ingest/ocr_pass.py``) reads the text later, in a worker process with
limits on pixels, frames, memory and time. So a hostile image (a decompression
bomb, a truncated JPEG) costs the sync nothing and becomes a per-item error in the
OCR pass. Until then (or with OCR off) the image is findable by its file name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from connectors.base import IMAGE_SUFFIXES, KIND_FILE, MIN_IMAGE_BYTES, Connector, Document, ImageRef, ItemError
from connectors.files.textutil import file_mtime


class ImageConnector(Connector):
    """JPEG, PNG, TIFF, WebP, HEIC, BMP and GIF files, read by OCR."""

    name = "image"
    kind = KIND_FILE
    patterns = tuple(f"*{suffix}" for suffix in IMAGE_SUFFIXES)
    description = "Images (photos, scans, screenshots): text by OCR in the background"

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
