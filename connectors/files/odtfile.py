"""OpenDocument text (.odt, and flat .fodt) read straight from its XML.

The standard library is enough: the text lives in ``content.xml`` (paragraphs,
headings with an outline level, lists, tables) and the title and author in
``meta.xml``. Headings become locators.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.base import Connector, Document, ItemError
from connectors.files.sections import SectionBuilder
from connectors.files.textutil import file_mtime, open_zip, parse_iso_date, read_zip_member
from connectors.kinds import KIND_FILE

OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
DC = "http://purl.org/dc/elements/1.1/"

MAX_FLAT_BYTES = 128 * 1024 * 1024


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


# Inline elements whose content is not running text: notes, annotations, indexes.
_SKIP_INLINE = {
    _q(TEXT, "note"),
    _q(OFFICE, "annotation"),
    _q(OFFICE, "annotation-end"),
    _q(TEXT, "tracked-changes"),
}
# Block elements that repeat other text (a table of contents) or are not text.
_SKIP_BLOCK = {
    _q(TEXT, "table-of-content"),
    _q(TEXT, "alphabetical-index"),
    _q(TEXT, "illustration-index"),
    _q(TEXT, "table-index"),
    _q(TEXT, "bibliography"),
    _q(TEXT, "sequence-decls"),
    _q(TEXT, "tracked-changes"),
    _q(OFFICE, "forms"),
}


def _count(value: str | None) -> int:
    """A repeat count from hostile XML: 1 when missing or bad, never huge."""
    try:
        return max(1, min(int(value or 1), 100))
    except ValueError:
        return 1


def inline_text(element: ET.Element) -> str:
    """Text of a paragraph or heading, with ODF's space, tab and break elements."""
    parts: list[str] = [element.text or ""]
    for child in element:
        tag = child.tag
        if tag == _q(TEXT, "s"):
            parts.append(" " * _count(child.get(_q(TEXT, "c"))))
        elif tag == _q(TEXT, "tab"):
            parts.append("\t")
        elif tag == _q(TEXT, "line-break"):
            parts.append("\n")
        elif tag in _SKIP_INLINE:
            pass
        elif tag in (_q(TEXT, "p"), _q(TEXT, "h")):  # inside a frame or text box
            parts.append("\n" + inline_text(child) + "\n")
        else:
            parts.append(inline_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _table_rows(table: ET.Element) -> list[str]:
    rows: list[str] = []
    for row in table.iter(_q(TABLE, "table-row")):
        cells = []
        for cell in row:
            if cell.tag != _q(TABLE, "table-cell"):
                continue
            paragraphs = [inline_text(p) for p in cell if p.tag in (_q(TEXT, "p"), _q(TEXT, "h"))]
            cells.append(" ".join(" ".join(paragraphs).split()))
        while cells and not cells[-1]:
            cells.pop()  # spreadsheet-style trailing empty cells
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def walk_blocks(element: ET.Element, builder: SectionBuilder) -> None:
    for child in element:
        tag = child.tag
        if tag in _SKIP_BLOCK:
            continue
        if tag == _q(TEXT, "h"):
            try:
                level = int(child.get(_q(TEXT, "outline-level"), "1") or 1)
            except ValueError:
                level = 1
            text = inline_text(child)
            if text.strip():
                builder.heading(level, text)
        elif tag == _q(TEXT, "p"):
            builder.paragraph(inline_text(child))
        elif tag == _q(TABLE, "table"):
            rows = _table_rows(child)
            if rows:
                builder.paragraph("\n".join(rows))
        else:  # lists, list items, sections, frames: descend
            walk_blocks(child, builder)


def parse_odf(content: bytes, meta_xml: bytes | None) -> tuple[str, list[Any], dict[str, Any]]:
    """``(text, sections, properties)`` from ``content.xml`` and ``meta.xml`` bytes
    (or one flat ``.fodt`` document passed as ``content``)."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise ValueError(f"broken OpenDocument XML: {exc}") from None
    body = root.find(f"{_q(OFFICE, 'body')}/{_q(OFFICE, 'text')}")
    if body is None:
        raise ValueError("not an OpenDocument text (no office:text body)")
    builder = SectionBuilder()
    walk_blocks(body, builder)
    text, sections = builder.finish()
    props: dict[str, Any] = {}
    meta_root: ET.Element | None = root.find(_q(OFFICE, "meta"))
    if meta_xml is not None:
        try:
            meta_root = ET.fromstring(meta_xml).find(_q(OFFICE, "meta"))
        except ET.ParseError:
            meta_root = None
    if meta_root is not None:
        for key, tag in (
            ("title", _q(DC, "title")),
            ("subject", _q(DC, "subject")),
            ("description", _q(DC, "description")),
            ("language", _q(DC, "language")),
            ("author", _q(DC, "creator")),
            ("initial_creator", _q(META, "initial-creator")),
            ("modified", _q(DC, "date")),
            ("created", _q(META, "creation-date")),
        ):
            found = meta_root.find(tag)
            if found is not None and (found.text or "").strip():
                props[key] = " ".join((found.text or "").split())
        keywords = [k.text.strip() for k in meta_root.iter(_q(META, "keyword")) if k.text]
        if keywords:
            props["keywords"] = keywords
    props["first_heading"] = builder.first_heading()
    return text, sections, props


class OdtConnector(Connector):
    """OpenDocument text files (``.odt``, flat ``.fodt``)."""

    name = "odt"
    kind = KIND_FILE
    patterns = ("*.odt", "*.fodt")
    description = "OpenDocument text: paragraphs, lists and tables, headings as locators"

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        if path.suffix.lower() == ".fodt":
            size = path.stat().st_size
            if size > MAX_FLAT_BYTES:
                raise ValueError(f"flat OpenDocument file too large ({size:,} bytes)")
            text, sections, props = parse_odf(path.read_bytes(), None)
        else:
            with open_zip(path) as archive:
                names = set(archive.namelist())
                if "content.xml" not in names:
                    raise ValueError("not an OpenDocument file (no content.xml)")
                content = read_zip_member(archive, "content.xml")
                meta = read_zip_member(archive, "meta.xml") if "meta.xml" in names else None
            text, sections, props = parse_odf(content, meta)
        if not text:
            yield ItemError(path=str(path), reason="no text in the OpenDocument file")
            return
        first_heading = props.pop("first_heading", None)
        metadata: dict[str, Any] = {"format": "odt"}
        for key in ("subject", "description", "language", "keywords", "created", "modified"):
            if key in props:
                metadata[key] = props[key]
        yield Document(
            key=path.name,
            kind=self.kind,
            title=props.get("title") or first_heading or path.stem,
            text=text,
            author=props.get("author") or props.get("initial_creator"),
            timestamp=parse_iso_date(props.get("modified")) or parse_iso_date(props.get("created")) or file_mtime(path),
            metadata=metadata,
            sections=sections,
        )
