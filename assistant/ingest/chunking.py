"""Structure-aware, token-aware chunking.

Chunks respect the embedder's window (all-MiniLM-L6-v2 reads 256 word pieces, special
tokens included): a chunk's text plus the title prefix it is embedded with never
exceeds it, so nothing is silently truncated. Each chunk keeps a locator a citation
can point to: a page, a heading path, a line range, a chat's time range.

- Documents with sections (PDF pages, Markdown headings, an email body without its
  quotes) are packed section by section; small neighbouring sections share a chunk,
  long ones are split at sentence or line ends with some overlap.
- Chats are chunked by conversation, not by message: windows of consecutive
  messages, split at long silences and by size, carrying who spoke and when.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from assistant.records import ChunkRecord, epoch
from connectors.base import Document, Section
from connectors.kinds import KIND_CHAT, KIND_EMAIL

# Title tokens prepended to every chunk's embedding input ("Subject: ..."), at most.
TITLE_TOKENS = 32
_BREAK = re.compile(r"(?<=[.!?…:;])[\"')\]]*\s+|\n")


@dataclass
class ChunkingOptions:
    chunk_tokens: int = 200
    overlap: int = 32
    chat_gap_minutes: int = 120


@dataclass
class PreparedChunk:
    """A chunk with the exact string that is embedded for it."""

    record: ChunkRecord
    embed_text: str


def title_prefix(title: str, tokenizer: Any) -> str:
    """The document title, cut to TITLE_TOKENS word pieces, as an embedding prefix."""
    title = " ".join(title.split())
    if not title:
        return ""
    enc = tokenizer.encode(title, add_special_tokens=False)
    if len(enc.ids) > TITLE_TOKENS:
        title = title[: enc.offsets[TITLE_TOKENS - 1][1]]
    return title + "\n"


def persons_of(names: Sequence[str | None]) -> str:
    seen: list[str] = []
    for name in names:
        if name:
            low = " ".join(name.lower().split())
            if low not in seen:
                seen.append(low)
    return "; ".join(seen)


# Kinds whose title is not usually in their text (an email's subject, a chat's
# name): it is prepended to each chunk's embedding input. Files and notes are left
# alone: their title is often the file name, and renaming a file must not change its
# vectors (their headings are part of the text anyway).
TITLED_KINDS = frozenset({KIND_EMAIL, KIND_CHAT})


def chunk_document(doc: Document, tokenizer: Any, options: ChunkingOptions) -> list[PreparedChunk]:
    prefix = title_prefix(doc.title, tokenizer) if doc.kind in TITLED_KINDS else ""
    sections = [s for s in doc.indexable_sections() if s.text and s.text.strip()]
    if not sections and not (doc.images and doc.parent_key):
        # a file without text is still found by its name; a photo in a chat or an
        # email waits for OCR (its parent is found by name already)
        sections = [Section(text=doc.title or "", locator="")] if doc.title else []
    if not sections:
        return []
    if doc.kind == KIND_EMAIL and doc.timestamp is not None:
        sections = _dated_mail(sections, doc.timestamp)
    if doc.kind == KIND_CHAT and all(s.timestamp for s in sections):
        pieces = _chat_windows(sections, tokenizer, options)
        persons_default = ""
    else:
        pieces = _pack_sections(sections, tokenizer, options)
        persons_default = persons_of([doc.author, *doc.participants])
    ts = epoch(doc.timestamp)
    chunks: list[PreparedChunk] = []
    for ordinal, piece in enumerate(pieces):
        record = ChunkRecord(
            ordinal=ordinal,
            text=piece.text,
            locator=piece.locator,
            persons=piece.persons or persons_default,
            ts_start=piece.ts_start if piece.ts_start is not None else ts,
            ts_end=piece.ts_end if piece.ts_end is not None else ts,
            n_tokens=piece.n_tokens,
        )
        chunks.append(PreparedChunk(record=record, embed_text=prefix + piece.text))
    return chunks


def _dated_mail(sections: list[Section], sent: datetime) -> list[Section]:
    """A mail's "yesterday" and "next Tuesday" noted with the dates they mean,
    counted from when it was sent (assistant/ingest/relative_time.py)."""
    from assistant.ingest.relative_time import annotate_lines, chat_languages

    languages = chat_languages([s.text for s in sections])
    return [replace(s, text=annotate_lines(s.text, sent, languages)) for s in sections]


@dataclass
class _Piece:
    text: str
    locator: str
    n_tokens: int
    persons: str = ""
    ts_start: int | None = None
    ts_end: int | None = None


def _line_locator(text: str, start: int, end: int) -> str:
    first = text.count("\n", 0, start) + 1
    last = text.count("\n", 0, max(start, end - 1)) + 1
    return f"line {first}" if first == last else f"lines {first}–{last}"


def _split_long(text: str, offsets: list[tuple[int, int]], options: ChunkingOptions) -> list[tuple[int, int, int]]:
    """Split one long text into (char_start, char_end, n_tokens) windows, breaking at
    a sentence or line end in the last 40% of each window when there is one."""
    limit = options.chunk_tokens
    n = len(offsets)
    windows: list[tuple[int, int, int]] = []
    start = 0
    while start < n:
        end = min(start + limit, n)
        if end < n:
            lo_char = offsets[start + int(limit * 0.6)][0]
            hi_char = offsets[end - 1][1]
            best = None
            for match in _BREAK.finditer(text, lo_char, hi_char):
                best = match.end()
            if best is not None:
                # the last token that ends at or before the break
                cut = end
                while cut > start + 1 and offsets[cut - 1][1] > best:
                    cut -= 1
                end = cut
        char_start = offsets[start][0]
        char_end = offsets[end - 1][1] if end < n else len(text)
        windows.append((char_start, char_end, end - start))
        if end >= n:
            break
        start = max(end - options.overlap, start + 1)
    return windows


def _pack_sections(sections: list[Section], tokenizer: Any, options: ChunkingOptions) -> list[_Piece]:
    limit = options.chunk_tokens
    texts = [s.text.strip() for s in sections]
    encodings = tokenizer.encode_batch(texts, add_special_tokens=False)
    whole_text = len(sections) == 1 and not sections[0].locator
    pieces: list[_Piece] = []
    buffer: list[tuple[str, str, int]] = []  # (text, locator, tokens)

    def flush() -> None:
        if not buffer:
            return
        locators = [loc for _, loc, _ in buffer if loc]
        if not locators:
            locator = ""
        elif locators[0] == locators[-1]:
            locator = locators[0]
        else:
            locator = f"{locators[0]} – {locators[-1]}"
        pieces.append(
            _Piece(
                text="\n\n".join(t for t, _, _ in buffer),
                locator=locator,
                n_tokens=sum(n for _, _, n in buffer),
            )
        )
        buffer.clear()

    for section, text, enc in zip(sections, texts, encodings, strict=True):
        n = len(enc.ids)
        if n > limit:
            flush()
            for char_start, char_end, count in _split_long(text, enc.offsets, options):
                locator = section.locator
                if whole_text:
                    locator = _line_locator(text, char_start, char_end)
                pieces.append(_Piece(text=text[char_start:char_end].strip(), locator=locator, n_tokens=count))
            continue
        if buffer and sum(b[2] for b in buffer) + n > limit:
            flush()
        locator = section.locator
        if whole_text and "\n" in text:
            locator = _line_locator(text, 0, len(text))
        buffer.append((text, locator, n))
    flush()
    return [p for p in pieces if p.text]


def _fmt_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def chat_range_locator(first: datetime, last: datetime) -> str:
    if first.date() == last.date():
        if first.strftime("%H:%M") == last.strftime("%H:%M"):
            return _fmt_time(first)
        return f"{_fmt_time(first)}–{last.strftime('%H:%M')}"
    return f"{_fmt_time(first)} – {_fmt_time(last)}"


def _chat_windows(sections: list[Section], tokenizer: Any, options: ChunkingOptions) -> list[_Piece]:
    # callers pass only timestamped sections
    from assistant.ingest.relative_time import annotate, chat_languages

    ordered = sorted(sections, key=lambda s: s.timestamp or datetime.min)
    # "yesterday" in a message is written out as the date it meant (stored, searched
    # and shown to the model): see assistant/ingest/relative_time.py
    languages = chat_languages([s.text for s in ordered])
    lines = [
        f"{_fmt_time(s.timestamp or datetime.min)} {s.author + ': ' if s.author else ''}"
        f"{annotate(s.text.strip(), s.timestamp or datetime.min, languages)}"
        for s in ordered
    ]
    encodings = tokenizer.encode_batch(lines, add_special_tokens=False)
    gap = options.chat_gap_minutes * 60
    limit = options.chunk_tokens
    pieces: list[_Piece] = []
    window: list[tuple[Section, str, int]] = []

    def flush() -> None:
        if not window:
            return
        first = window[0][0].timestamp
        last = window[-1][0].timestamp
        assert first is not None and last is not None
        pieces.append(
            _Piece(
                text="\n".join(line for _, line, _ in window),
                locator=chat_range_locator(first, last),
                n_tokens=sum(n for _, _, n in window),
                persons=persons_of([s.author for s, _, _ in window]),
                ts_start=epoch(first),
                ts_end=epoch(last),
            )
        )
        window.clear()

    previous: datetime | None = None
    for section, line, enc in zip(ordered, lines, encodings, strict=True):
        n = len(enc.ids)
        moment = section.timestamp
        assert moment is not None
        silent = previous is not None and (moment - previous).total_seconds() > gap
        if window and (silent or sum(w[2] for w in window) + n > limit):
            flush()
        previous = moment
        if n > limit:
            for char_start, char_end, count in _split_long(line, enc.offsets, options):
                part = Section(text=line[char_start:char_end], author=section.author, timestamp=moment)
                window.append((part, line[char_start:char_end].strip(), count))
                flush()
            continue
        window.append((section, line, n))
    flush()
    return pieces
