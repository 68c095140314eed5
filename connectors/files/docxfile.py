"""Word documents (.docx) with python-docx: paragraphs and tables in order,
headings as locators, core properties as metadata."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.base import Connector, Document, ItemError, to_utc
from connectors.files.sections import SectionBuilder
from connectors.files.textutil import file_mtime, open_zip
from connectors.kinds import KIND_FILE

_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.I)


def _heading_level(paragraph: Any) -> int | None:
    """Level of a heading paragraph (Title is 0, Heading N is N), else None."""
    style = getattr(paragraph, "style", None)
    name = str(getattr(style, "name", "") or "")
    match = _HEADING_STYLE.match(name.strip())
    if match:
        return int(match.group(1))
    if name.strip().lower() == "title":
        return 0
    # Custom styles based on a heading style ("My Heading" based on "Heading 2").
    base = getattr(style, "base_style", None)
    depth = 0
    while base is not None and depth < 5:
        match = _HEADING_STYLE.match(str(getattr(base, "name", "") or "").strip())
        if match:
            return int(match.group(1))
        base = getattr(base, "base_style", None)
        depth += 1
    return None


def _table_rows(table: Any) -> list[str]:
    """One line per row, cells joined by " | "; merged cells appear once."""
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            text = " ".join(cell.text.split())
            cells.append(text)
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _iter_blocks(document: Any) -> Iterator[Any]:
    """Paragraphs and tables of the body in document order."""
    if hasattr(document, "iter_inner_content"):
        yield from document.iter_inner_content()
        return
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(child, document)
        elif tag == "tbl":
            yield Table(child, document)


class DocxConnector(Connector):
    """Word documents (``.docx``)."""

    name = "docx"
    kind = KIND_FILE
    patterns = ("*.docx",)
    description = "Word documents: text and tables, headings as locators"

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        if path.name.startswith("~$"):
            return  # Word's lock file, not a document
        open_zip(path).close()  # refuses zip bombs before python-docx unpacks
        import docx
        from docx.table import Table

        try:
            document = docx.Document(str(path))
        except Exception as exc:  # python-docx raises many kinds on a broken package
            raise ValueError(f"unreadable Word document: {exc}") from None
        builder = SectionBuilder()
        for block in _iter_blocks(document):
            if isinstance(block, Table):
                rows = _table_rows(block)
                if rows:
                    builder.paragraph("\n".join(rows))
                continue
            level = _heading_level(block)
            if level is not None and block.text.strip():
                builder.heading(level, block.text)
            else:
                builder.paragraph(block.text)
        text, sections = builder.finish()
        if not text:
            yield ItemError(path=str(path), reason="no text in the Word document")
            return
        props = document.core_properties
        metadata: dict[str, Any] = {"format": "docx"}
        for field in ("subject", "keywords", "category", "comments", "language"):
            value = getattr(props, field, None)
            if value:
                metadata[field] = str(value)
        created = to_utc(props.created) if props.created else None
        modified = to_utc(props.modified) if props.modified else None
        if created:
            metadata["created"] = created.isoformat()
        if modified:
            metadata["modified"] = modified.isoformat()
        yield Document(
            key=path.name,
            kind=self.kind,
            title=(props.title or "").strip() or builder.first_heading() or path.stem,
            text=text,
            author=(props.author or "").strip() or None,
            timestamp=modified or created or file_mtime(path),
            metadata=metadata,
            sections=sections,
        )
