"""Shared helpers of the file connectors: decoding, text clean-up, dates, zip safety.

Everything here is pure and cheap to import; the text connector uses it too.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zipfile
from datetime import UTC, datetime
from pathlib import Path

# ---------------------------------------------------------------------------------------
# Decoding

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class NotTextError(ValueError):
    """The bytes are not text in any encoding we can recognise (a binary file)."""


def decode_bytes(raw: bytes) -> str:
    """Decode text whose encoding nobody told us.

    Order: a byte-order mark; BOM-less UTF-16/32 (recognised by its pattern of zero
    bytes); UTF-8; then charset-normalizer's best guess; cp1252 as the last resort
    for short Western text the detector cannot decide on. NUL bytes that fit no
    UTF-16/32 pattern mean a binary file, which raises :class:`NotTextError`.
    """
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return raw[len(bom) :].decode(encoding, errors="replace")
    if not raw:
        return ""
    sample = raw[:8192]
    if b"\x00" in sample:
        wide = _guess_wide_encoding(sample)
        if wide is None:
            raise NotTextError("binary content (NUL bytes), not a text file")
        return raw.decode(wide, errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # imported on use: it is not tiny

    best = from_bytes(raw[:1_000_000]).best()
    if best is not None and best.encoding and not best.encoding.startswith("utf_16"):
        try:
            return raw.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    # Every byte is valid in cp1252 except five; latin-1 takes those.
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _guess_wide_encoding(sample: bytes) -> str | None:
    """UTF-16/32 without a BOM: mostly-ASCII text has zeros at fixed byte offsets."""
    n = len(sample) - len(sample) % 4
    if n < 4:
        return None
    sample = sample[:n]
    zeros = [sum(1 for b in sample[i::4] if b == 0) for i in range(4)]
    quarter = n // 4
    if zeros[1] + zeros[2] + zeros[3] > 2.7 * quarter and zeros[0] < 0.2 * quarter:
        return "utf-32-le"
    if zeros[0] + zeros[1] + zeros[2] > 2.7 * quarter and zeros[3] < 0.2 * quarter:
        return "utf-32-be"
    even = zeros[0] + zeros[2]
    odd = zeros[1] + zeros[3]
    half = n // 2
    if odd > 0.6 * half and even < 0.1 * half:
        return "utf-16-le"
    if even > 0.6 * half and odd < 0.1 * half:
        return "utf-16-be"
    return None


def read_text_file(path: Path, max_bytes: int | None = None) -> str:
    """Read and decode a text file (see :func:`decode_bytes`).

    ``max_bytes`` guards against a multi-gigabyte "text" file: larger files raise.
    """
    if max_bytes is not None:
        size = path.stat().st_size
        if size > max_bytes:
            raise ValueError(f"file too large ({size:,} bytes; the limit is {max_bytes:,})")
    return decode_bytes(path.read_bytes())


def decode_markup(raw: bytes) -> str:
    """Decode HTML/XHTML bytes: BOM, then a declared charset, then detection.
    Binary content raises :class:`NotTextError`."""
    for bom, _encoding in _BOMS:
        if raw.startswith(bom):
            return decode_bytes(raw)
    if b"\x00" in raw[:8192]:
        return decode_bytes(raw)  # UTF-16/32 without a BOM, or binary
    head = raw[:2048]
    match = re.search(rb"""(?:encoding|charset)\s*=\s*["']?([A-Za-z0-9._:-]+)""", head, re.I)
    if match:
        name = match.group(1).decode("ascii", "replace")
        try:
            encoding = codecs.lookup(name).name
        except LookupError:
            encoding = ""
        # Browsers read a declared Latin-1 as Windows-1252 (curly quotes, €), and
        # a page declaring UTF-16 in ASCII bytes is lying: detection decides.
        if encoding in ("latin-1", "iso8859-1", "ascii"):
            encoding = "cp1252"
        if encoding and not encoding.startswith(("utf-16", "utf-32")):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                pass
    return decode_bytes(raw)


# ---------------------------------------------------------------------------------------
# Clean-up

# Ligatures that PDF fonts use and nobody types: searching "first" must find "ﬁrst".
_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)
# Invisible characters that split words for search: soft hyphen, zero-width space and
# joiners, word joiner, BOM.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
# Control characters other than tab and newline (form feeds become newlines first).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_HSPACE = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# A word broken at a line end: a letter, a hyphen (ASCII or U+2010), the line break,
# and the word going on in lower case ("exam-\nple"). "Jean-\nPaul" keeps its hyphen
# but loses the line break.
_HYPHEN_BREAK = re.compile(r"(?<=[^\W\d_])[-\u2010][ \t]*\n[ \t]*(?=[^\W\d_])")


def join_hyphenation(text: str) -> str:
    """Join words hyphenated at a line end: "exam-\\nple" becomes "example".

    Only a letter, a hyphen, a line break and a letter are touched. When the word
    goes on in lower case the hyphen is taken for a typesetting break and dropped;
    before a capital ("Jean-\\nPaul") it is kept. The rest of the word is pulled up
    to the first line, so each line still ends at a word boundary.
    """
    if "\n" not in text:
        return text
    out: list[str] = []
    pos = 0
    for match in _HYPHEN_BREAK.finditer(text):
        if match.start() < pos:  # inside a tail already moved up
            continue
        out.append(text[pos : match.start()])
        tail_start = match.end()
        tail_end = tail_start
        while tail_end < len(text) and not text[tail_end].isspace():
            tail_end += 1
        out.append("" if text[tail_start].islower() else "-")
        out.append(text[tail_start:tail_end])
        rest = tail_end
        while rest < len(text) and text[rest] in " \t":
            rest += 1
        if rest < len(text) and text[rest] != "\n":
            out.append("\n")
        pos = rest
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def normalise_whitespace(text: str, *, keep_indent: bool = False) -> str:
    """Unify line ends, drop control and invisible characters, collapse runs of
    spaces (inside lines, and leading ones unless ``keep_indent``), strip line ends,
    and allow at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\x85", "\n")
    text = _CONTROL.sub("", text.translate(_INVISIBLE))
    lines = []
    for line in text.split("\n"):
        if keep_indent:
            stripped = line.lstrip(" \t")
            indent = line[: len(line) - len(stripped)]
            lines.append((indent + _HSPACE.sub(" ", stripped)).rstrip() if stripped else "")
        else:
            lines.append(_HSPACE.sub(" ", line).strip())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


def clean_text(text: str) -> str:
    """The clean-up every prose extraction gets: ligatures expanded, Unicode in NFC,
    whitespace normalised and line-end hyphenation joined."""
    text = unicodedata.normalize("NFC", text.translate(_LIGATURES))
    return join_hyphenation(normalise_whitespace(text))


# ---------------------------------------------------------------------------------------
# Dates and files


def file_mtime(path: Path) -> datetime:
    """The file's modification time as an aware UTC datetime."""
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def parse_iso_date(value: object) -> datetime | None:
    """An ISO 8601 date or date-time (``2024-03-01``, ``2024-03-01T10:00:00Z``,
    ``2024-03-01 10:00``) as an aware UTC datetime; None when it is not one.
    Naive times are taken as UTC."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value or "").strip().strip("'\"")
        if not text:
            return None
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        if re.fullmatch(r"\d{4}", text):
            text += "-01-01"
        elif re.fullmatch(r"\d{4}-\d{2}", text):
            text += "-01"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# Zip containers (docx, odt, epub) are hostile input too: a zip bomb must not fill the
# memory. These limits are far above any real document.
MAX_ZIP_MEMBERS = 20_000
MAX_ZIP_UNCOMPRESSED = 512 * 1024 * 1024
MAX_ZIP_MEMBER = 128 * 1024 * 1024


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip container after checking it is not a zip bomb."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"not a valid zip container: {exc}") from None
    infos = archive.infolist()
    total = sum(info.file_size for info in infos)
    if len(infos) > MAX_ZIP_MEMBERS or total > MAX_ZIP_UNCOMPRESSED:
        archive.close()
        raise ValueError(f"zip container too large when unpacked ({len(infos)} members, {total:,} bytes)")
    return archive


def read_zip_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """Read one member, refusing members that unpack to more than the limit."""
    info = archive.getinfo(name)
    if info.file_size > MAX_ZIP_MEMBER:
        raise ValueError(f"{name}: member too large when unpacked ({info.file_size:,} bytes)")
    with archive.open(info) as handle:
        data = handle.read(MAX_ZIP_MEMBER + 1)
    if len(data) > MAX_ZIP_MEMBER:
        raise ValueError(f"{name}: member too large when unpacked")
    return data
