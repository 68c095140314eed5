"""Rich Text Format documents (.rtf) with striprtf; title and author from the
``\\info`` group."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import Connector, Document, ItemError
from connectors.files.textutil import clean_text, file_mtime
from connectors.kinds import KIND_FILE

MAX_RTF_BYTES = 100 * 1024 * 1024
_CODEPAGE = re.compile(rb"\\ansicpg(\d{3,5})")
_INFO_FIELD = re.compile(r"\{\\(title|author|subject|keywords|company)\s+((?:[^{}\\]|\\.)*)\}")
_CREATED = re.compile(r"\{\\creatim\\yr(\d{4})\\mo(\d{1,2})\\dy(\d{1,2})(?:\\hr(\d{1,2}))?(?:\\min(\d{1,2}))?")


def _codepage(raw: bytes) -> str:
    match = _CODEPAGE.search(raw[:4096])
    if match:
        name = f"cp{int(match.group(1))}"
        try:
            "".encode(name)
            return name
        except LookupError:
            pass
    return "cp1252"


def rtf_plain_text(rtf: str, encoding: str) -> str:
    """striprtf's conversion, with the document's code page when striprtf takes it."""
    from striprtf.striprtf import rtf_to_text

    try:
        return str(rtf_to_text(rtf, encoding=encoding, errors="replace"))
    except TypeError:  # an older striprtf without the encoding arguments
        return str(rtf_to_text(rtf))
    except LookupError:
        return str(rtf_to_text(rtf, encoding="cp1252", errors="replace"))


def parse_rtf(raw: bytes) -> tuple[str, dict[str, Any]]:
    """``(text, info)`` of an RTF file's bytes."""
    if not raw.lstrip().startswith(b"{\\rtf"):
        raise ValueError("not an RTF document (no {\\rtf header)")
    encoding = _codepage(raw)
    # RTF is 7-bit with escapes; stray 8-bit bytes are taken in the declared code page.
    rtf = raw.decode(encoding, errors="replace")
    info: dict[str, Any] = {}
    for key, value in _INFO_FIELD.findall(rtf[:200_000]):
        plain = " ".join(rtf_plain_text("{\\rtf1 " + value + "}", encoding).split())
        if plain:
            info.setdefault(key, plain)
    created = _CREATED.search(rtf[:200_000])
    if created:
        year, month, day, hour, minute = (int(g) if g else 0 for g in created.groups())
        with contextlib.suppress(ValueError):
            info["created"] = datetime(year, month, day, hour, minute, tzinfo=UTC)
    return clean_text(rtf_plain_text(rtf, encoding)), info


class RtfConnector(Connector):
    """Rich Text Format documents (``.rtf``)."""

    name = "rtf"
    kind = KIND_FILE
    patterns = ("*.rtf",)
    description = "Rich Text Format documents"

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        size = path.stat().st_size
        if size > MAX_RTF_BYTES:
            raise ValueError(f"RTF file too large ({size:,} bytes)")
        text, info = parse_rtf(path.read_bytes())
        if not text:
            yield ItemError(path=str(path), reason="no text in the RTF document")
            return
        created = info.pop("created", None)
        metadata: dict[str, Any] = {"format": "rtf"}
        for key in ("subject", "keywords", "company"):
            if key in info:
                metadata[key] = info[key]
        if created:
            metadata["created"] = created.isoformat()
        yield Document(
            key=path.name,
            kind=self.kind,
            title=info.get("title") or path.stem,
            text=text,
            author=info.get("author"),
            timestamp=created or file_mtime(path),
            metadata=metadata,
        )
