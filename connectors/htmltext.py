"""HTML to readable plain text, shared by the email and files connectors."""

from __future__ import annotations

import re

# Elements whose content is never text a person reads.
_DROP = ("script", "style", "noscript", "template", "head", "svg", "canvas", "iframe", "object")
# Elements that end a line or paragraph when rendered.
_BLOCK = (
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
    "section", "article", "header", "footer", "blockquote", "pre", "hr", "dd", "dt", "title",
)
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANKS = re.compile(r"\n\s*\n+")


def html_to_text(html: str) -> str:
    """Visible text of an HTML document or fragment: no markup, no CSS or JS, block
    elements on their own lines, whitespace normalised."""
    from bs4 import BeautifulSoup  # imported on use: bs4 is slow to import

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for tag in soup.find_all(_BLOCK):
        tag.insert_before("\n")
        tag.insert_after("\n")
    for cell in soup.find_all(("td", "th")):
        cell.insert_after(" ")
    text = soup.get_text()
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()
