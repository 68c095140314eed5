"""HTML to readable plain text, shared by the email and files connectors."""

from __future__ import annotations

import re
from typing import Any

# Elements whose content is never text a person reads.
_DROP = ("script", "style", "noscript", "template", "head", "svg", "canvas", "iframe", "object")
# Elements that end a line or paragraph when rendered.
_BLOCK = (
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
    "section", "article", "header", "footer", "blockquote", "pre", "hr", "dd", "dt", "title",
    "main", "nav", "aside", "figure", "figcaption", "form", "fieldset", "address", "details",
    "summary", "dl",
)  # fmt: skip
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANKS = re.compile(r"\n\s*\n+")
# Inline styles that hide an element (an email's invisible preheader, a page's
# off-screen menu): what nobody sees is not the document's text.
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def html_to_text(html: str) -> str:
    """Visible text of an HTML document or fragment: no markup, no CSS or JS, no
    hidden elements, block elements on their own lines, whitespace normalised."""
    from bs4 import BeautifulSoup  # imported on use: bs4 is slow to import

    return soup_to_text(BeautifulSoup(html, "html.parser"))


def soup_to_text(node: Any) -> str:
    """Visible text of a parsed BeautifulSoup document or element.

    Works in place: ``node`` is modified (dropped elements, inserted line breaks),
    so pass a copy if the tree is needed afterwards.
    """
    for tag in node.find_all(_DROP):
        tag.decompose()
    for tag in node.find_all(_is_hidden):
        tag.decompose()
    for tag in node.find_all(_BLOCK):
        tag.insert_before("\n")
        tag.insert_after("\n")
    for cell in node.find_all(("td", "th")):
        cell.insert_after(" ")
    text = node.get_text()
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def _is_hidden(tag: Any) -> bool:
    attrs = getattr(tag, "attrs", None)
    if not attrs:
        return False
    if "hidden" in attrs:
        return True
    if str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    style = attrs.get("style")
    return bool(style and _HIDDEN_STYLE.search(str(style)))
