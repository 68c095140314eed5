"""Saved web pages and HTML documents: the main text, split at headings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.base import Connector, Document, ItemError, Section
from connectors.files.textutil import (
    clean_text,
    decode_markup,
    file_mtime,
    parse_iso_date,
)
from connectors.htmltext import crude_html_text, soup_to_text, too_many_tags
from connectors.kinds import KIND_FILE

MAX_HTML_BYTES = 50 * 1024 * 1024

# Page chrome that is not the page's content, when it sits outside the main part.
_CHROME = ("nav", "aside")
_CHROME_ROLES = ("navigation", "banner", "contentinfo", "complementary", "search")
# Heading markers survive the conversion to text as private-use characters.
_MARK_OPEN = "\ue000"
_MARK_CLOSE = "\ue001"
_MARKED = re.compile(f"^{_MARK_OPEN}([1-6]){_MARK_OPEN}(.*?){_MARK_CLOSE}$")


def parse_html(markup: str) -> tuple[str, str, list[Section], dict[str, Any]]:
    """``(title, text, sections, metadata)`` of an HTML document.

    The title is ``<title>`` (else the first ``<h1>``); the text is the main
    content: ``<main>`` or ``role="main"`` when present, else the only
    ``<article>``, else ``<body>`` without navigation, asides, site header and
    footer. Sections are cut at ``<h1>``–``<h6>``, located by heading path.
    """
    from bs4 import BeautifulSoup

    if too_many_tags(markup):  # parsing a hostile tree is quadratic: text only
        text = clean_text(crude_html_text(markup))
        return "", text, [Section(text=text)] if text else [], {"crude_conversion": True}
    soup = BeautifulSoup(markup, "html.parser")
    title = ""
    if soup.title and soup.title.string:
        title = " ".join(soup.title.get_text().split())
    metadata: dict[str, Any] = {}
    for meta in soup.find_all("meta"):
        name = str(meta.get("name") or meta.get("property") or "").lower()
        content = " ".join(str(meta.get("content") or "").split())
        if not content:
            continue
        if name in ("author", "description", "keywords", "og:title", "og:site_name"):
            metadata[name] = content
        elif name in ("article:published_time", "date", "dc.date", "dcterms.created"):
            metadata.setdefault("date", content)
    html_tag = soup.find("html")
    if html_tag is not None and html_tag.get("lang"):
        metadata["language"] = str(html_tag.get("lang"))
    if not title:
        title = metadata.get("og:title", "")

    root = _main_part(soup)
    for heading in root.find_all(("h1", "h2", "h3", "h4", "h5", "h6")):
        text = " ".join(heading.get_text(" ").split())
        level = heading.name[1]
        heading.clear()
        heading.append(f"{_MARK_OPEN}{level}{_MARK_OPEN}{text}{_MARK_CLOSE}")
    raw = soup_to_text(root)
    text_lines: list[str] = []
    sections = _sections(raw, text_lines)
    text = clean_text("\n".join(text_lines))
    if not title:
        for section in sections:
            if section.locator:
                title = section.locator.split(" > ")[0]
                break
    return title, text, sections, metadata


def _main_part(soup: Any) -> Any:
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    if main is not None:
        return main
    articles = soup.find_all("article")
    if len(articles) == 1:
        return articles[0]
    root = soup.body or soup
    for tag in root.find_all(_CHROME):
        tag.decompose()
    for tag in root.find_all(attrs={"role": list(_CHROME_ROLES)}):
        tag.decompose()
    # A page's own header and footer (not those inside an article or section).
    for tag in root.find_all(("header", "footer")):
        if tag.find_parent(("article", "section")) is None:
            tag.decompose()
    return root


def _sections(raw: str, text_lines: list[str]) -> list[Section]:
    sections: list[Section] = []
    trail: list[tuple[int, str]] = []
    current: list[str] = []

    def flush() -> None:
        body = clean_text("\n".join(current))
        if body:
            sections.append(Section(text=body, locator=" > ".join(t for _, t in trail)))
        current.clear()

    for line in raw.splitlines():
        match = _MARKED.match(line.strip())
        if match:
            flush()
            level, heading = int(match.group(1)), match.group(2).strip()
            trail = [(lvl, t) for lvl, t in trail if lvl < level]
            if heading:
                trail.append((level, heading))
                current.append(heading)
                text_lines.append(heading)
            continue
        clean = line.replace(_MARK_OPEN, "").replace(_MARK_CLOSE, "")
        current.append(clean)
        text_lines.append(clean)
    flush()
    return sections


class HtmlConnector(Connector):
    """Web pages saved as ``.html``/``.htm``/``.xhtml``."""

    name = "html"
    kind = KIND_FILE
    patterns = ("*.html", "*.htm", "*.xhtml", "*.shtml")
    description = "Web pages: main text, title from <title>, headings as locators"

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        size = path.stat().st_size
        if size > MAX_HTML_BYTES:
            raise ValueError(f"HTML file too large ({size:,} bytes)")
        markup = decode_markup(path.read_bytes())
        title, text, sections, metadata = parse_html(markup)
        if not text:
            yield ItemError(path=str(path), reason="no visible text in the HTML page")
            return
        if not any(s.locator for s in sections):
            sections = []
        metadata["format"] = "html"
        yield Document(
            key=path.name,
            kind=self.kind,
            title=title or path.stem,
            text=text,
            author=metadata.get("author"),
            timestamp=parse_iso_date(metadata.get("date")) or file_mtime(path),
            metadata=metadata,
            sections=sections,
        )
