"""What the screens show, computed without Textual widgets.

Sources, search results and stored turns all become :class:`SourceView`, so one
widget lists them. Filters typed into a question (``kind:chat from:Helena``) are
lifted out into :class:`FilterState`, which the chips show and can remove.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from textual.content import Content

from assistant.answer.rag import SourceRef
from assistant.retrieval.search_types import Filters, Result, parse_date
from connectors.kinds import KIND_CHAT, KIND_EMAIL, KIND_FILE, KIND_NOTE, KINDS

KIND_ICONS = {KIND_EMAIL: "✉", KIND_CHAT: "☏", KIND_FILE: "▤", KIND_NOTE: "✎"}
# What people type for a kind, mapped to the kind the store knows.
KIND_ALIASES = {
    "mail": "email",
    "emails": "email",
    "e-mail": "email",
    "chats": "chat",
    "message": "chat",
    "messages": "chat",
    "files": "file",
    "pdf": "file",
    "doc": "file",
    "docs": "file",
    "document": "file",
    "notes": "note",
}
# key:value filters in a question; a quoted value may hold spaces.
FILTER_KEYS = {
    "kind": "kind",
    "in": "kind",
    "type": "kind",
    "from": "person",
    "person": "person",
    "with": "person",
    "after": "after",
    "since": "after",
    "before": "before",
    "until": "before",
    "source": "source",
}
_TOKEN = re.compile(
    r"(?<!\S)(?P<key>" + "|".join(FILTER_KEYS) + r'):(?:"(?P<quoted>[^"]+)"|(?P<bare>[^\s"]+))',
    re.IGNORECASE,
)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CITATION = re.compile(r"\[(\d+)\](?!\()")
SNIPPET_CHARS = 180


def kind_icon(kind: str) -> str:
    return KIND_ICONS.get(kind, "•")


def person_name(author: str | None) -> str:
    """``Helena Duarte <helena@…>`` reads better as ``Helena Duarte``."""
    if not author:
        return ""
    name = author.split("<", 1)[0].strip().strip('"')
    return name or author.strip("<> ")


def short_date(timestamp: str | None) -> str:
    return timestamp[:10] if timestamp else ""


def display_path(path: str | Path) -> str:
    """A source path as a person reads it: relative to the working folder or ``~``."""
    p = Path(path)
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        try:
            rel = p.relative_to(base)
        except ValueError:
            continue
        if str(rel) != ".":
            return prefix + str(rel)
    return str(p)


def relative_to_roots(path: str, roots: list[str]) -> str:
    """A document's file inside its registered source (``mail/inbox.mbox``)."""
    p = Path(path)
    best: str | None = None
    for root in roots:
        try:
            rel = p.relative_to(root)
        except ValueError:
            continue
        text = str(rel) if str(rel) != "." else p.name
        if best is None or len(text) < len(best):
            best = text
    return best if best is not None else p.name


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "ETA …"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"ETA {seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"ETA {seconds // 60}:{seconds % 60:02d}"


def format_when(value: str | None) -> str:
    """A stored ISO time as ``2026-04-10 11:00`` (no seconds, no zone)."""
    if not value:
        return "never"
    return value.replace("T", " ")[:16]


def snippet_content(snippet: str, limit: int = SNIPPET_CHARS) -> Content:
    """The search snippet with its ``**matches**`` highlighted, in theme colours."""
    parts: list[str | tuple[str, str]] = []
    used = 0
    pos = 0
    for m in _BOLD.finditer(snippet):
        plain = snippet[pos : m.start()]
        parts.append(plain)
        used += len(plain)
        parts.append((m.group(1), "bold $text-accent"))
        used += len(m.group(1))
        pos = m.end()
        if used >= limit:
            break
    else:
        parts.append(snippet[pos:])
    content = Content.assemble(*parts)
    if len(content.plain) > limit:
        content = content[:limit] + "…"
    return content


def linkify_citations(markdown: str) -> str:
    """``[2]`` becomes a link a person can click to open source 2."""
    return _CITATION.sub(lambda m: f"[\\[{m.group(1)}\\]](source:{m.group(1)})", markdown)


@dataclass
class SourceView:
    """One source of an answer, or one search result, as the panels list it."""

    n: int
    kind: str
    title: str
    author: str | None
    timestamp: str | None
    locator: str
    snippet: str
    source: str
    document_id: int
    chunk_id: int
    cited: bool | None = None  # None: a search result, no citation status

    @classmethod
    def from_ref(cls, ref: SourceRef) -> SourceView:
        return cls.from_result(ref.n, ref.result, ref.cited)

    @classmethod
    def from_result(cls, n: int, r: Result, cited: bool | None = None) -> SourceView:
        return cls(
            n=n,
            kind=r.kind,
            title=r.title,
            author=r.author,
            timestamp=r.timestamp,
            locator=r.locator,
            snippet=r.snippet,
            source=r.source,
            document_id=r.document_id,
            chunk_id=r.chunk_id,
            cited=cited,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceView:
        """A source as a stored conversation turn keeps it."""
        return cls(
            n=int(data.get("n") or 0),
            kind=str(data.get("kind") or ""),
            title=str(data.get("title") or ""),
            author=data.get("author"),
            timestamp=data.get("timestamp"),
            locator=str(data.get("locator") or ""),
            snippet=str(data.get("snippet") or ""),
            source=str(data.get("source") or ""),
            document_id=int(data.get("document_id") or 0),
            chunk_id=int(data.get("chunk_id") or 0),
            cited=bool(data.get("cited")),
        )

    def who(self) -> str:
        """Sender of an email, or the chat a message came from."""
        if self.author:
            return person_name(self.author)
        if self.kind == "chat" and self.title:
            return self.title.split(": ", 1)[-1]
        return ""

    def where(self) -> str:
        """Where inside the document: page, section, chat time range. An email's
        message-id says nothing to a person, so it is left out."""
        if self.kind == "email" and self.locator.startswith("message"):
            return ""
        return self.locator

    def when(self) -> str:
        # a chat document's timestamp is the start of its month: the locator says more
        if self.kind == "chat" and self.locator:
            return ""
        return short_date(self.timestamp)

    def prompt(self, roots: list[str], width: int = 80) -> Content:
        """The lines an option list shows for this source, for ``width`` cells:
        title, details, and the snippet wrapped under them with a hanging indent."""
        if self.cited is None:
            mark = Content.styled(f"{self.n:>2} ", "bold $text-primary")
        elif self.cited:
            mark = Content.styled(f"●{self.n} ", "bold $text-success")
        else:
            mark = Content.styled(f"○{self.n} ", "$text-muted")
        title = Content(f"{kind_icon(self.kind)} {self.title or Path(self.source).name}")
        head = Content.assemble(mark, title.stylize("bold"))
        details = [x for x in (self.who(), self.when(), self.where()) if x]
        details.append(relative_to_roots(self.source, roots))
        meta = Content.styled(INDENT + " · ".join(details), "$text-muted")
        lines = [head.truncate(width, ellipsis=True), meta.truncate(width, ellipsis=True)]
        snippet = snippet_content(self.snippet, limit=SNIPPET_LINES * max(width - len(INDENT), 10))
        lines += [INDENT + line for line in wrap_content(snippet, width - len(INDENT), SNIPPET_LINES)]
        return Content("\n").join(lines)


INDENT = "   "
SNIPPET_LINES = 3


def wrap_content(content: Content, width: int, max_lines: int) -> list[Content]:
    """Word-wrap single-spaced content into at most ``max_lines`` lines."""
    width = max(width, 10)
    plain = content.plain
    lines: list[Content] = []
    pos = 0
    while pos < len(plain) and len(lines) < max_lines:
        end = pos + width
        if end >= len(plain):
            lines.append(content[pos:])
            pos = len(plain)
            break
        space = plain.rfind(" ", pos, end + 1)
        cut = space if space > pos else end
        lines.append(content[pos:cut])
        pos = cut + 1 if space > pos else cut
    if pos < len(plain) and lines:
        lines[-1] = lines[-1].truncate(width - 1) + "…"
    return lines


@dataclass
class Chip:
    key: str  # kind, person, after, before, source
    value: str  # what the filter uses: a kind, a name, a date, a source id
    label: str  # what the chip shows

    @property
    def text(self) -> str:
        return f"{self.key}:{self.label}"


@dataclass
class FilterState:
    """The filters of a search or a conversation: what the chips show."""

    chips: list[Chip] = field(default_factory=list)

    def add(self, key: str, value: str, sources: list[dict[str, Any]] | None = None) -> Chip:
        """Add a filter; raises ValueError with a message for the person."""
        key = FILTER_KEYS.get(key.lower(), key.lower())
        value = value.strip()
        if not value:
            raise ValueError(f"{key}: needs a value")
        label = value
        if key == "kind":
            value = KIND_ALIASES.get(value.lower(), value.lower())
            if value not in KINDS:
                raise ValueError(f"kind:{value} is not one of {', '.join(KINDS)}")
            label = value
        elif key in ("after", "before"):
            parse_date(value)  # raises ValueError with the accepted forms
        elif key == "source":
            source = find_source(value, sources or [])
            if source is None:
                raise ValueError(f"source:{value} is not a registered source (see F4)")
            value = str(source["id"])
            label = Path(source["path"]).name or value
        elif key != "person":
            raise ValueError(f"unknown filter {key}:")
        chip = Chip(key, value, label)
        if key in ("after", "before"):
            self.chips = [c for c in self.chips if c.key != key]
        if all((c.key, c.value) != (chip.key, chip.value) for c in self.chips):
            self.chips.append(chip)
        return chip

    def remove(self, index: int) -> None:
        if 0 <= index < len(self.chips):
            del self.chips[index]

    def clear(self) -> None:
        self.chips.clear()

    def filters(self) -> Filters:
        def values(key: str) -> list[str]:
            return [c.value for c in self.chips if c.key == key]

        def date(key: str) -> datetime | None:
            found = values(key)
            return parse_date(found[-1]) if found else None

        return Filters(
            kinds=values("kind"),
            sources=[int(v) for v in values("source")],
            persons=values("person"),
            after=date("after"),
            before=date("before"),
        )


def find_source(ref: str, sources: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A registered source by id, path, or the last part of its path."""
    for s in sources:
        if ref.isdigit() and int(ref) == int(s["id"]):
            return s
    for s in sources:
        if ref in (s["path"], Path(s["path"]).name):
            return s
    return None


def lift_filters(
    text: str, state: FilterState, sources: list[dict[str, Any]], *, complete_only: bool = False
) -> tuple[str, list[str]]:
    """Move ``key:value`` filters out of typed text into ``state``.

    With ``complete_only`` a token is taken only when a space follows it, so that
    ``kind:ch`` is not read while the person is still typing ``kind:chat``.
    Returns the text left and the problems found (one message each)."""
    problems: list[str] = []
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        if complete_only and (m.end() >= len(text) or not text[m.end()].isspace()):
            continue
        value = m.group("quoted") or m.group("bare") or ""
        try:
            state.add(m.group("key"), value, sources)
        except ValueError as exc:
            problems.append(str(exc))
        out.append(text[pos : m.start()])
        pos = m.end()
    out.append(text[pos:])
    left = "".join(out)
    left = re.sub(r"\s{2,}", " ", left) if len(out) > 1 else left
    if len(out) > 1 and not complete_only:
        left = left.strip()
    elif len(out) > 1:
        left = left.lstrip()
    return left, problems
