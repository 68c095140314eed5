"""E-books (.epub): the chapters in reading order, each one a section located by its
title from the table of contents.

An EPUB is a zip: ``META-INF/container.xml`` names the package document (OPF), whose
manifest lists the files and whose spine gives the reading order; chapter titles
come from the EPUB 3 navigation document or the EPUB 2 NCX. Only the standard
library and the shared HTML-to-text helper are needed.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from connectors.base import Connector, Document, ItemError, Section
from connectors.files.textutil import (
    clean_text,
    decode_markup,
    file_mtime,
    open_zip,
    parse_iso_date,
    read_zip_member,
)
from connectors.kinds import KIND_FILE

CONTAINER = "urn:oasis:names:tc:opendocument:xmlns:container"
OPF = "http://www.idpf.org/2007/opf"
DC = "http://purl.org/dc/elements/1.1/"
NCX = "http://www.daisy.org/z3986/2005/ncx/"
XHTML = "http://www.w3.org/1999/xhtml"
EPUB_OPS = "http://www.idpf.org/2007/ops"

# Font obfuscation is not DRM: the text is readable.
_FONT_OBFUSCATION = ("http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC")
_HTML_TYPES = ("application/xhtml+xml", "text/html", "application/x-dtbook+xml")


def _xml(data: bytes, what: str) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise ValueError(f"broken EPUB: {what} is not valid XML ({exc})") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _join(base_dir: str, href: str) -> str:
    """A zip member name from an href relative to ``base_dir`` (no fragment)."""
    href = unquote(href.split("#", 1)[0])
    joined = posixpath.normpath(posixpath.join(base_dir, href)) if base_dir else href
    return joined.lstrip("/")


def _package_path(archive: zipfile.ZipFile, names: set[str]) -> str:
    if "META-INF/container.xml" in names:
        root = _xml(read_zip_member(archive, "META-INF/container.xml"), "container.xml")
        for rootfile in root.iter(f"{{{CONTAINER}}}rootfile"):
            full_path = rootfile.get("full-path")
            if full_path and full_path in names:
                return full_path
    candidates = sorted(n for n in names if n.lower().endswith(".opf"))
    if not candidates:
        raise ValueError("not an EPUB: no package document (.opf)")
    return candidates[0]


def _check_drm(archive: zipfile.ZipFile, names: set[str]) -> None:
    if "META-INF/encryption.xml" not in names:
        return
    root = _xml(read_zip_member(archive, "META-INF/encryption.xml"), "encryption.xml")
    for method in root.iter():
        if _local(method.tag) == "EncryptionMethod" and method.get("Algorithm", "") not in _FONT_OBFUSCATION:
            raise ValueError("DRM-protected EPUB: the text is encrypted")


def _toc_titles(
    archive: zipfile.ZipFile,
    names: set[str],
    opf_dir: str,
    manifest: dict[str, dict[str, str]],
    spine_toc: str | None,
) -> dict[str, str]:
    """Chapter file → first title the table of contents gives it."""
    titles: dict[str, str] = {}
    nav = next((m for m in manifest.values() if "nav" in m.get("properties", "").split()), None)
    if nav and nav["path"] in names:
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(decode_markup(read_zip_member(archive, nav["path"])), "html.parser")
        toc = None
        for candidate in soup.find_all("nav"):
            kind = str(candidate.get("epub:type") or candidate.get("type") or "")
            if "toc" in kind.split():
                toc = candidate
                break
        toc = toc or soup.find("nav")
        if toc is not None:
            nav_dir = posixpath.dirname(nav["path"])
            for link in toc.find_all("a"):
                href = link.get("href")
                label = " ".join(link.get_text(" ").split())
                if href and label:
                    titles.setdefault(_join(nav_dir, str(href)), label)
    ncx_item = manifest.get(spine_toc or "") or next(
        (m for m in manifest.values() if m.get("media-type") == "application/x-dtbncx+xml"), None
    )
    if ncx_item and ncx_item["path"] in names:
        root = _xml(read_zip_member(archive, ncx_item["path"]), "the NCX table of contents")
        ncx_dir = posixpath.dirname(ncx_item["path"])
        for point in root.iter(f"{{{NCX}}}navPoint"):
            label_el = point.find(f"{{{NCX}}}navLabel/{{{NCX}}}text")
            content_el = point.find(f"{{{NCX}}}content")
            if label_el is None or content_el is None or not content_el.get("src"):
                continue
            label_text = " ".join((label_el.text or "").split())
            if label_text:
                titles.setdefault(_join(ncx_dir, content_el.get("src", "")), label_text)
    return titles


def _chapter_text(markup: str) -> tuple[str, str]:
    """(title from <title> or the first heading, visible text) of one chapter."""
    from bs4 import BeautifulSoup

    from connectors.htmltext import soup_to_text

    soup = BeautifulSoup(markup, "html.parser")
    heading = soup.find(("h1", "h2", "h3"))
    title = " ".join(heading.get_text(" ").split()) if heading is not None else ""
    if not title and soup.title is not None:
        title = " ".join(soup.title.get_text().split())
    root = soup.body or soup
    return title, clean_text(soup_to_text(root))


def parse_epub(path: Path) -> tuple[dict[str, Any], list[Section], list[ItemError]]:
    """``(book metadata, chapter sections, per-chapter errors)``."""
    with open_zip(path) as archive:
        names = set(archive.namelist())
        _check_drm(archive, names)
        opf_path = _package_path(archive, names)
        opf_dir = posixpath.dirname(opf_path)
        package = _xml(read_zip_member(archive, opf_path), opf_path)

        meta: dict[str, Any] = {}
        metadata_el = package.find(f"{{{OPF}}}metadata")
        if metadata_el is not None:
            creators: list[str] = []
            for element in metadata_el:
                if not element.tag.startswith(f"{{{DC}}}"):
                    continue
                value = " ".join((element.text or "").split())
                key = _local(element.tag)
                if not value:
                    continue
                if key == "creator":
                    creators.append(value)
                elif key in ("title", "language", "publisher", "date", "description"):
                    meta.setdefault(key, value)
                elif key == "subject":
                    meta.setdefault("subjects", []).append(value)
            if creators:
                meta["creators"] = creators

        manifest: dict[str, dict[str, str]] = {}
        manifest_el = package.find(f"{{{OPF}}}manifest")
        for item in manifest_el if manifest_el is not None else []:
            item_id, href = item.get("id"), item.get("href")
            if item_id and href:
                manifest[item_id] = {
                    "path": _join(opf_dir, href),
                    "media-type": item.get("media-type", ""),
                    "properties": item.get("properties", ""),
                }
        spine_el = package.find(f"{{{OPF}}}spine")
        # Non-linear items (notes, answers) are still the book's text: keep them.
        spine_ids = [ref.get("idref", "") for ref in (spine_el if spine_el is not None else [])]
        if not spine_ids:  # no spine: every HTML file in manifest order
            spine_ids = [i for i, m in manifest.items() if m["media-type"] in _HTML_TYPES]
        titles = _toc_titles(
            archive,
            names,
            opf_dir,
            manifest,
            spine_el.get("toc") if spine_el is not None else None,
        )

        sections: list[Section] = []
        errors: list[ItemError] = []
        for number, item_id in enumerate(spine_ids, start=1):
            entry = manifest.get(item_id)
            if entry is None or entry["media-type"] not in _HTML_TYPES:
                continue
            if "nav" in entry.get("properties", "").split():
                continue  # the table of contents is not a chapter
            member = entry["path"]
            if member not in names:
                errors.append(
                    ItemError(
                        path=str(path),
                        reason=f"chapter file missing: {member}",
                        item=f"chapter {number}",
                    )
                )
                continue
            try:
                markup = decode_markup(read_zip_member(archive, member))
                own_title, text = _chapter_text(markup)
            except Exception as exc:  # one broken chapter must not lose the book
                errors.append(
                    ItemError(
                        path=str(path),
                        reason=f"unreadable chapter {member}: {exc}",
                        item=f"chapter {number}",
                    )
                )
                continue
            if not text:
                continue
            locator = titles.get(member) or own_title or f"chapter {number}"
            sections.append(Section(text=text, locator=locator))
    return meta, sections, errors


class EpubConnector(Connector):
    """E-books (``.epub``)."""

    name = "epub"
    kind = KIND_FILE
    patterns = ("*.epub",)
    description = "E-books: chapters in reading order, chapter titles as locators"

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        meta, sections, errors = parse_epub(path)
        yield from errors
        if not sections:
            yield ItemError(path=str(path), reason="no readable text in the EPUB")
            return
        creators = meta.pop("creators", [])
        metadata: dict[str, Any] = {"format": "epub", "chapters": len(sections), **meta}
        if creators:
            metadata["creators"] = creators
        metadata.pop("title", None)
        yield Document(
            key=path.name,
            kind=self.kind,
            title=meta.get("title") or path.stem,
            text="\n\n".join(s.text for s in sections),
            author=", ".join(creators) or None,
            timestamp=parse_iso_date(meta.get("date")) or file_mtime(path),
            metadata=metadata,
            sections=sections,
        )
