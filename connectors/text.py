"""Plain text and lightweight-markup notes: one document per file.

Markdown, reStructuredText and Org files are split at their headings, each section
located by its heading path ("Trip > Flights"); Markdown front matter (YAML between
``---`` lines, or TOML between ``+++`` lines) becomes metadata, and its ``title``,
``author`` and ``date`` fill the document's fields. Plain text is decoded with its
encoding detected, not assumed (UTF-8, UTF-16/32 with or without BOM, legacy 8-bit
charsets), and cleaned: line ends unified, line-end hyphenation joined, runs of
spaces and blank lines collapsed; code blocks are left alone.

The file name is deliberately not part of the metadata, so that a renamed note keeps
its content hash.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.base import Connector, Document, ItemError, Section
from connectors.files.textutil import (
    clean_text,
    file_mtime,
    join_hyphenation,
    normalise_whitespace,
    parse_iso_date,
    read_text_file,
)
from connectors.kinds import KIND_NOTE

__all__ = [
    "TextConnector",
    "markdown_sections",
    "parse_front_matter",
    "read_text_file",
]

# Text files above this size are not notes; a log file of gigabytes would only
# flood the index.
MAX_TEXT_BYTES = 50 * 1024 * 1024

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ORG_HEADING = re.compile(r"^(\*+)[ \t]+(.+?)[ \t]*$")
_ORG_TITLE = re.compile(r"^#\+title:[ \t]*(.+?)[ \t]*$", re.I | re.M)
_RST_UNDERLINE = re.compile(r"^([=\-`:'\"~^_*+#<>.])\1{2,}[ \t]*$")
_YAML_DELIM = re.compile(r"\A(?:\ufeff)?---[ \t]*\n")
_YAML_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)
_TOML_DELIM = re.compile(r"\A(?:\ufeff)?\+\+\+[ \t]*\n")
_TOML_END = re.compile(r"^\+\+\+[ \t]*$", re.M)
_KEY_LINE = re.compile(r"^([A-Za-z0-9_][\w .-]*?)[ \t]*:(?:[ \t]+(.*?))?[ \t]*$")

_MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".mdx")


# ---------------------------------------------------------------------------------------
# Front matter


def parse_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split front matter from a Markdown body: ``(metadata, body)``.

    YAML front matter (``---`` … ``---`` or ``...``) is read by a small parser of the
    subset people write by hand: ``key: value`` scalars (quoted or not, ``#``
    comments), flow lists ``[a, b]``, block lists of ``- item`` lines, ``|``/``>``
    block scalars and one level of nested mappings. Values stay strings (lists of
    strings, dicts of strings); nothing is executed or resolved. TOML front matter
    (``+++`` … ``+++``) is read with ``tomllib``. Text without front matter, or with
    a block that is not metadata, comes back unchanged with ``{}``.
    """
    start = _YAML_DELIM.match(text)
    if start:
        end = _YAML_END.search(text, start.end())
        if end is None:
            return {}, text
        block = text[start.end() : end.start()]
        meta = _parse_yaml_subset(block)
        if not meta and block.strip():
            return {}, text  # a "---" rule followed by prose, not front matter
        return meta, text[end.end() :].lstrip("\n")
    start = _TOML_DELIM.match(text)
    if start:
        end = _TOML_END.search(text, start.end())
        if end is None:
            return {}, text
        try:
            data = tomllib.loads(text[start.end() : end.start()])
        except tomllib.TOMLDecodeError:
            return {}, text
        return _jsonable(data), text[end.end() :].lstrip("\n")
    return {}, text


def _jsonable(value: Any) -> Any:
    """TOML values as JSON-friendly data (dates become ISO strings)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _parse_yaml_subset(block: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] in " \t":
            continue  # stray indented line: belongs to nothing we understood
        match = _KEY_LINE.match(line)
        if not match:
            if line.startswith("- "):
                continue
            return {}  # not a mapping: not front matter we can read
        key, raw = match.group(1).strip(), (match.group(2) or "")
        raw = _strip_comment(raw)
        # the indented lines that belong to this key
        nested: list[str] = []
        while i < len(lines) and (not lines[i].strip() or lines[i][0] in " \t-"):
            if lines[i].startswith("-") and not lines[i].startswith("- ") and lines[i] != "-":
                break
            nested.append(lines[i])
            i += 1
        while nested and not nested[-1].strip():
            nested.pop()
        if raw in ("|", ">", "|-", ">-", "|+", ">+"):
            body = [n.strip() for n in nested]
            meta[key] = ("\n" if raw.startswith("|") else " ").join(body).strip()
        elif raw:
            meta[key] = _yaml_scalar_or_flow(raw)
        elif any(n.strip().startswith("- ") or n.strip() == "-" for n in nested):
            meta[key] = [
                _yaml_scalar(_strip_comment(n.strip()[1:].strip())) for n in nested if n.strip().startswith("-")
            ]
        elif nested:
            sub = _parse_yaml_subset("\n".join(n.strip() for n in nested))
            meta[key] = sub
        else:
            meta[key] = ""
    return meta


def _strip_comment(raw: str) -> str:
    if raw[:1] in ("'", '"'):
        return raw.strip()
    cut = raw.find(" #")
    return (raw[:cut] if cut >= 0 else raw).strip()


def _yaml_scalar(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in ("'", '"'):
        inner = raw[1:-1]
        return inner.replace("''", "'") if raw[0] == "'" else inner.replace('\\"', '"')
    return raw


def _yaml_scalar_or_flow(raw: str) -> str | list[str]:
    if raw.startswith("[") and raw.endswith("]"):
        inner = raw[1:-1].strip()
        if not inner:
            return []
        return [_yaml_scalar(part) for part in _split_flow(inner)]
    return _yaml_scalar(raw)


def _split_flow(inner: str) -> list[str]:
    """Split ``a, "b, c", d`` at the commas outside quotes."""
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    for char in inner:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
        elif char in ("'", '"'):
            quote = char
            current.append(char)
        elif char == ",":
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


# ---------------------------------------------------------------------------------------
# Headings


def _clean_heading(text: str) -> str:
    """Heading text without inline markup: links, emphasis, code ticks."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [text](url)
    text = re.sub(r"\[([^\]]*)\]\[[^\]]*\]", r"\1", text)  # [text][ref]
    text = re.sub(r"(\*\*|__|\*|_|`|~~)(\S(?:.*?\S)?)\1", r"\2", text)
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags
    return re.sub(r"\s+", " ", text).strip()


def _heading_sections(lines: list[str], headings: dict[int, tuple[int, str]], skip: set[int]) -> list[Section]:
    """Cut ``lines`` at the heading lines (index → (level, text)); ``skip`` holds
    lines that are heading markup only (setext underlines)."""
    sections: list[Section] = []
    trail: list[tuple[int, str]] = []
    current: list[str] = []

    def flush() -> None:
        text = "\n".join(current).strip("\n")
        if text.strip():
            sections.append(Section(text=text, locator=" > ".join(t for _, t in trail)))
        current.clear()

    for index, line in enumerate(lines):
        if index in headings:
            flush()
            level, title = headings[index]
            trail = [(lvl, t) for lvl, t in trail if lvl < level]
            if title:
                trail.append((level, title))
        if index not in skip:
            current.append(line)
    flush()
    return sections


def _fenced_lines(lines: list[str]) -> set[int]:
    """Indexes of lines inside (or delimiting) fenced code blocks."""
    inside: set[int] = set()
    fence = ""
    for index, line in enumerate(lines):
        match = _FENCE.match(line)
        if fence:
            inside.add(index)
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = ""
        elif match:
            fence = match.group(1)
            inside.add(index)
    return inside


def _markdown_headings(lines: list[str]) -> tuple[dict[int, tuple[int, str]], set[int]]:
    fenced = _fenced_lines(lines)
    headings: dict[int, tuple[int, str]] = {}
    underlines: set[int] = set()
    for index, line in enumerate(lines):
        if index in fenced:
            continue
        match = _ATX.match(line)
        if match:
            headings[index] = (len(match.group(1)), _clean_heading(match.group(2) or ""))
            continue
        setext = _SETEXT.match(line)
        if (
            setext
            and index > 0
            and (index - 1) not in fenced
            and (index - 1) not in headings
            and lines[index - 1].strip()
            and not lines[index - 1].startswith(("    ", "\t", ">", "- ", "* ", "+ "))
            and (index - 1) not in underlines
            and (index < 2 or not lines[index - 2].strip() or (index - 2) in headings or (index - 2) in fenced)
        ):
            level = 1 if setext.group(1)[0] == "=" else 2
            headings[index - 1] = (level, _clean_heading(lines[index - 1]))
            underlines.add(index)
    return headings, underlines


def markdown_sections(body: str) -> list[Section]:
    """Sections at Markdown headings (ATX ``#`` and setext underlines; never inside
    fenced code), each located by its heading path ("Trip > Flights"). Text before
    the first heading has an empty locator."""
    lines = body.splitlines()
    headings, underlines = _markdown_headings(lines)
    return _heading_sections(lines, headings, underlines)


def org_sections(body: str) -> list[Section]:
    """Sections at Org headings (``*``, ``**``…), located by heading path."""
    lines = body.splitlines()
    headings: dict[int, tuple[int, str]] = {}
    for index, line in enumerate(lines):
        match = _ORG_HEADING.match(line)
        if match:
            title = re.sub(r"^(TODO|DONE)\s+", "", match.group(2))
            title = re.sub(r"\s+:[\w@#%:]+:$", "", title)  # trailing tags
            headings[index] = (len(match.group(1)), title.strip())
    return _heading_sections(lines, headings, set())


def rst_sections(body: str) -> list[Section]:
    """Sections at reStructuredText titles (a line underlined, optionally also
    overlined, with a punctuation character); levels follow the order in which the
    underline styles first appear, as in docutils."""
    lines = body.splitlines()
    headings: dict[int, tuple[int, str]] = {}
    markup: set[int] = set()
    styles: list[tuple[str, bool]] = []
    for index in range(1, len(lines)):
        under = _RST_UNDERLINE.match(lines[index])
        title = lines[index - 1].strip()
        if not under or not title or _RST_UNDERLINE.match(lines[index - 1]):
            continue
        if len(lines[index].rstrip()) < len(title):
            continue
        overlined = index >= 2 and lines[index - 2].rstrip() == lines[index].rstrip()
        style = (under.group(1), overlined)
        if style not in styles:
            styles.append(style)
        headings[index - 1] = (styles.index(style) + 1, title)
        markup.add(index)
        if overlined:
            markup.add(index - 2)
    # An overline belongs to the heading below it, not to the section above.
    for line in [i for i in markup if i + 1 in headings]:
        headings[line] = headings.pop(line + 1)
        markup.add(line + 1)
    return _heading_sections(lines, headings, markup - set(headings))


def _first_heading(sections: list[Section]) -> str | None:
    for section in sections:
        if section.locator:
            return section.locator.split(" > ")[0]
    return None


# ---------------------------------------------------------------------------------------
# Clean-up that leaves code alone


def clean_markup(body: str) -> str:
    """Clean prose lines of a Markdown file (see ``textutil.clean_text``) but keep
    fenced code blocks and indentation exactly as written (right-stripped only)."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    fenced = _fenced_lines(lines)
    out: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        if prose:
            cleaned = join_hyphenation(normalise_whitespace("\n".join(prose), keep_indent=True))
            # keep the blank lines that set the block off from code around it
            if out and not prose[0].strip():
                cleaned = "\n" + cleaned
            if not prose[-1].strip() and cleaned.strip():
                cleaned += "\n"
            out.append(cleaned)
            prose.clear()

    for index, line in enumerate(lines):
        if index in fenced:
            flush()
            out.append(line.rstrip())
        else:
            prose.append(line)
    flush()
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _as_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, list):
        names = [str(v.get("name", "")) if isinstance(v, dict) else str(v) for v in value]
        joined = ", ".join(n for n in names if n)
        return joined or None
    if isinstance(value, dict):
        return str(value.get("name") or "") or None
    return str(value)


class TextConnector(Connector):
    """Plain text, Markdown, reStructuredText and Org notes."""

    name = "text"
    kind = KIND_NOTE
    patterns = (
        "*.txt",
        "*.text",
        "*.md",
        "*.markdown",
        "*.mdown",
        "*.mkd",
        "*.mdx",
        "*.rst",
        "*.org",
    )
    description = "Plain text, Markdown (front matter, headings), reStructuredText, Org"

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        raw = read_text_file(path, max_bytes=MAX_TEXT_BYTES)
        suffix = path.suffix.lower()
        meta: dict[str, Any] = {}
        sections: list[Section]
        if suffix in _MARKDOWN_SUFFIXES:
            fmt = "markdown"
            meta, body = parse_front_matter(raw.lstrip("\ufeff"))
            body = clean_markup(body)
            sections = markdown_sections(body)
        elif suffix == ".org":
            fmt = "org"
            body = clean_markup(raw)
            sections = org_sections(body)
            found = _ORG_TITLE.search(body)
            if found:
                meta["title"] = found.group(1)
        elif suffix == ".rst":
            fmt = "rst"
            body = clean_markup(raw)
            sections = rst_sections(body)
        else:
            fmt = "text"
            body = clean_text(raw)
            sections = []
        if not body.strip():
            return  # an empty note has nothing to index
        if sections and not any(s.locator for s in sections):
            sections = []  # no headings: the whole text is the one section
        title = _as_text(meta.get("title")) or _first_heading(sections) or path.stem
        date = None
        for key in ("date", "created", "published", "updated"):
            date = parse_iso_date(_as_text(meta.get(key)))
            if date:
                break
        metadata: dict[str, Any] = {"format": fmt}
        if meta:
            metadata["front_matter"] = meta
            tags = meta.get("tags") or meta.get("keywords")
            if tags:
                metadata["tags"] = (
                    [str(t) for t in tags]
                    if isinstance(tags, list)
                    else [t.strip() for t in str(tags).split(",") if t.strip()]
                )
        yield Document(
            key=path.name,
            kind=self.kind,
            title=title,
            text=body,
            author=_as_text(meta.get("author")) or _as_text(meta.get("authors")),
            timestamp=date or file_mtime(path),
            metadata=metadata,
            sections=sections,
        )
