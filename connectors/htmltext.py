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
    hidden elements, block elements on their own lines, whitespace normalised.
    Hostile markup (thousands of nested tags) gets the linear regex conversion."""
    if too_many_tags(html):
        return crude_html_text(html)
    from bs4 import BeautifulSoup  # imported on use: bs4 is slow to import

    try:
        return soup_to_text(BeautifulSoup(html, "html.parser"))
    except RecursionError:
        return crude_html_text(html)


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


# Above this many tags an HTML body is converted with regular expressions: parsing a
# tree is quadratic in nesting depth, and spam nests thousands of elements on purpose.
MAX_HTML_TAGS = 8000
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_HTML_DROP_TAGS = ("script", "style", "head", "title", "template", "noscript")
_HTML_BREAK = re.compile(r"<(?:br|p|div|tr|li|h[1-6]|table|ul|ol|blockquote|hr|pre)\b[^>]*>", re.I)
_HTML_TAG = re.compile(r"<[^>]*>")


def _drop_elements(html: str) -> str:
    """Remove script/style/... elements with their content, in one linear scan."""
    lower = html.translate(_ASCII_LOWER)  # str.lower() may change the length
    out: list[str] = []
    pos = 0
    # next occurrence of each tag, searched again only once passed (keeps it linear)
    upcoming = {tag: lower.find(f"<{tag}") for tag in _HTML_DROP_TAGS}
    while True:
        for tag, at in upcoming.items():
            if 0 <= at < pos:
                upcoming[tag] = lower.find(f"<{tag}", pos)
        found = [(at, tag) for tag, at in upcoming.items() if at >= 0]
        if not found:
            out.append(html[pos:])
            break
        at, tag = min(found)
        out.append(html[pos:at])
        end = lower.find(f"</{tag}", at)
        if end < 0:
            break  # unclosed: the rest is not text
        close = lower.find(">", end)
        pos = len(html) if close < 0 else close + 1
    return " ".join(out)


def crude_html_text(html: str) -> str:
    import html as html_lib

    text = _HTML_BREAK.sub("\n", _drop_elements(html))
    text = html_lib.unescape(_HTML_TAG.sub(" ", text))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def too_many_tags(html: str) -> bool:
    return html.count("<") > MAX_HTML_TAGS
