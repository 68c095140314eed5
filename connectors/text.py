"""Plain text and Markdown notes: one document per file, Markdown split at headings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from connectors.base import KIND_NOTE, Connector, Document, ItemError, Section

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def read_text_file(path: Path) -> str:
    """Decode a text file: UTF-8 (with or without BOM) first, then a detected charset."""
    raw = path.read_bytes()
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("binary content (NUL bytes), not a text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise ValueError("could not detect the text encoding")
    return str(best)


def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split simple YAML front matter (``key: value`` lines) from a Markdown body."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta: dict[str, str] = {}
    for line in match.group(1).splitlines():
        if ":" in line and not line.startswith((" ", "\t", "-")):
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip().strip("'\"")
    return meta, text[match.end() :]


def markdown_sections(body: str) -> list[Section]:
    """Sections at headings, each located by its heading path ("Trip > Flights")."""
    sections: list[Section] = []
    trail: list[tuple[int, str]] = []
    current: list[str] = []
    in_fence = False

    def flush() -> None:
        text = "\n".join(current).strip()
        if text:
            sections.append(Section(text=text, locator=" > ".join(t for _, t in trail)))
        current.clear()

    for line in body.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            trail = [(lvl, t) for lvl, t in trail if lvl < level]
            trail.append((level, match.group(2)))
        current.append(line)
    flush()
    return sections


class TextConnector(Connector):
    """Plain text (``.txt``) and Markdown (``.md``) files."""

    name = "text"
    kind = KIND_NOTE
    patterns = ("*.txt", "*.md", "*.markdown", "*.text", "*.rst", "*.org")
    description = "Plain text and Markdown notes"

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        text = read_text_file(path)
        stat = path.stat()
        modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
        is_markdown = path.suffix.lower() in (".md", ".markdown")
        meta: dict[str, str] = {}
        if is_markdown:
            meta, body = parse_front_matter(text)
            sections = markdown_sections(body)
        else:
            body = text
            sections = []
        title = meta.get("title") or _first_heading(body) or path.stem
        yield Document(
            key=path.name,
            kind=self.kind,
            title=title,
            text=text,
            author=meta.get("author"),
            timestamp=_parse_date(meta.get("date")) or modified,
            metadata={"path": str(path), "format": "markdown" if is_markdown else "text",
                      **({"front_matter": meta} if meta else {})},
            sections=sections,
        )


def _first_heading(body: str) -> str | None:
    for line in body.splitlines()[:50]:
        match = _HEADING.match(line)
        if match:
            return match.group(2)
    return None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
