"""Word-level helpers shared by the filter readers: tokens, the words around a position, and
the spans of a question already taken by one reader."""

from __future__ import annotations

import re

# --------------------------------------------------------------------------- text


def any_of_words(words: str) -> str:
    """An alternation of whitespace-separated words, longest first."""
    return "(?:" + "|".join(sorted(words.split(), key=len, reverse=True)) + ")"


FLAGS = re.IGNORECASE
# quoted phrases, key:value chips (see assistant/tui/view.py) and links are not read
PROTECTED = re.compile(
    r'"[^"]*"|“[^”]*”|(?<!\S)(?:kind|in|type|from|person|with|after|since|before|until|source):\S+|https?://\S+',
    FLAGS,
)
TOKEN = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def words_of(text: str) -> list[str]:
    return [t.lower() for t in TOKEN.findall(text)]


def last_word(text: str) -> str:
    found = words_of(text[-40:])
    return found[-1] if found else ""


def next_word(text: str, pos: int) -> str:
    m = TOKEN.match(text, pos)
    return m.group().lower() if m else ""


def skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


class Spans:
    """Character ranges already used by a filter phrase, or protected."""

    def __init__(self, protected: list[tuple[int, int]]) -> None:
        self.protected = protected
        self.used: list[tuple[int, int]] = []

    def free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self.protected + self.used)

    def unprotected(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self.protected)

    def starts_at(self, pos: int) -> bool:
        return any(s == pos for s, _ in self.used)

    def take(self, start: int, end: int) -> None:
        self.used.append((start, end))
