"""Tables in CSV/TSV files: each row becomes a record "header: value; …", so that a
retrieved chunk says what each value means. Rows are grouped into sections with
row-range locators ("rows 2-41", numbered as a spreadsheet shows them, the header
being row 1)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.base import Connector, Document, ItemError, Section
from connectors.files.textutil import decode_bytes, file_mtime
from connectors.kinds import KIND_FILE

MAX_CSV_BYTES = 200 * 1024 * 1024
# Beyond this a table is a data set, not a document: the rest is reported, not indexed.
MAX_ROWS = 200_000
# Records per section, and the most characters a section grows to.
ROWS_PER_SECTION = 50
SECTION_CHARS = 4000
_NUMBER = re.compile(r"^[-+]?[\d.,]+%?$")


def sniff_dialect(sample: str, suffix: str) -> type[csv.Dialect] | csv.Dialect:
    """The delimiter and quoting of a CSV sample; a ``.tsv`` is tab-separated."""
    if suffix == ".tsv":
        return csv.excel_tab
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def looks_like_header(row: list[str]) -> bool:
    """A first row is a header when its cells are all filled, distinct and not
    numbers (a data row usually has a number or an empty cell somewhere)."""
    cells = [c.strip() for c in row]
    if not cells or not all(cells):
        return False
    if len({c.lower() for c in cells}) != len(cells):
        return False
    return not any(_NUMBER.match(c) for c in cells)


def row_record(header: list[str], row: list[str]) -> str:
    """ "header: value; header: value" with empty cells left out."""
    parts = []
    for index, value in enumerate(row):
        value = " ".join(value.split())
        if not value:
            continue
        name = header[index] if index < len(header) else f"column {index + 1}"
        parts.append(f"{name}: {value}")
    return "; ".join(parts)


class CsvConnector(Connector):
    """Comma-, semicolon- or tab-separated tables (``.csv``, ``.tsv``)."""

    name = "csv"
    kind = KIND_FILE
    patterns = ("*.csv", "*.tsv")
    description = "CSV/TSV tables: rows as 'header: value' records, row ranges as locators"

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise ValueError(f"CSV file too large ({size:,} bytes)")
        text = decode_bytes(path.read_bytes()).lstrip("\ufeff")
        dialect = sniff_dialect(text[:65536], path.suffix.lower())
        reader = csv.reader(io.StringIO(text, newline=""), dialect)
        header: list[str] = []
        has_header = False
        sections: list[Section] = []
        block: list[str] = []
        block_start = 0
        block_chars = 0
        records = 0
        truncated = False
        row_number = 0

        def flush(last_row: int) -> None:
            nonlocal block, block_chars
            if block:
                locator = f"row {block_start}" if block_start == last_row else f"rows {block_start}-{last_row}"
                sections.append(Section(text="\n".join(block), locator=locator))
            block = []
            block_chars = 0

        last_data_row = 0
        try:
            for row in reader:
                row_number += 1
                if row_number == 1:
                    has_header = looks_like_header(row)
                    if has_header:
                        header = [" ".join(c.split()) for c in row]
                        continue
                    header = [f"column {i + 1}" for i in range(len(row))]
                if not any(cell.strip() for cell in row):
                    continue
                if records >= MAX_ROWS:
                    truncated = True
                    break
                record = row_record(header, row)
                if not block:
                    block_start = row_number
                block.append(record)
                block_chars += len(record) + 1
                records += 1
                last_data_row = row_number
                if len(block) >= ROWS_PER_SECTION or block_chars >= SECTION_CHARS:
                    flush(row_number)
        except csv.Error as exc:
            flush(last_data_row)
            yield ItemError(
                path=str(path),
                reason=f"CSV parse error, rows after {row_number - 1} not read: {exc}",
                item=f"row {row_number}",
            )
        else:
            flush(last_data_row)
        if truncated:
            yield ItemError(
                path=str(path),
                reason=f"more than {MAX_ROWS:,} rows: only the first {MAX_ROWS:,} are indexed",
                item=f"row {row_number}",
            )
        if not sections:
            if row_number:
                yield ItemError(path=str(path), reason="CSV file has no data rows")
            return
        delimiter = getattr(dialect, "delimiter", ",")
        metadata: dict[str, Any] = {
            "format": "csv",
            "columns": header if has_header else len(header),
            "rows": records,
            "delimiter": delimiter,
            "has_header": has_header,
        }
        if truncated:
            metadata["truncated"] = True
        yield Document(
            key=path.name,
            kind=self.kind,
            title=path.stem,
            text="\n".join(s.text for s in sections),
            timestamp=file_mtime(path),
            metadata=metadata,
            sections=sections,
        )
