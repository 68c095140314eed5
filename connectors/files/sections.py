"""Building sections from a stream of headings and paragraphs (docx, odt)."""

from __future__ import annotations

from connectors.base import Section
from connectors.files.textutil import clean_text


class SectionBuilder:
    """Collects paragraphs under the current heading path.

    ``heading(level, text)`` starts a new section located by the path of headings
    above it ("Report > Results"); ``paragraph(text)`` adds to the current one.
    Headings are kept in the text as lines of their own, so the section reads whole.
    """

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self._trail: list[tuple[int, str]] = []
        self._current: list[str] = []
        self._all: list[str] = []

    def heading(self, level: int, text: str) -> None:
        text = " ".join(text.split())
        self._flush()
        self._trail = [(lvl, t) for lvl, t in self._trail if lvl < level]
        if text:
            self._trail.append((level, text))
            self._current.append(text)
            self._all.append(text)

    def paragraph(self, text: str) -> None:
        if text.strip():
            self._current.append(text)
            self._all.append(text)

    def _flush(self) -> None:
        body = clean_text("\n\n".join(self._current))
        if body:
            locator = " > ".join(t for _, t in self._trail)
            self.sections.append(Section(text=body, locator=locator))
        self._current = []

    def finish(self) -> tuple[str, list[Section]]:
        """The whole text and the sections; no sections when there was no heading
        (the document is then indexed as one text)."""
        self._flush()
        text = clean_text("\n\n".join(self._all))
        sections = self.sections if any(s.locator for s in self.sections) else []
        return text, sections

    def first_heading(self) -> str | None:
        for section in self.sections:
            if section.locator:
                return section.locator.split(" > ")[0]
        return None
