"""Text out of bytes whose declared charset may be missing, wrong or unknown.

Used for message bodies and headers (:mod:`connectors.email.message`), attachments
(:mod:`connectors.email.attachments`) and Outlook properties.
"""

from __future__ import annotations

import codecs

_CHARSET_ALIASES = {
    "x-unknown": None,
    "unknown": None,
    "unknown-8bit": None,
    "x-user-defined": None,
    "default": None,
    "us-ascii": None,  # 8-bit text labelled ASCII is common: guess instead
    "ascii": None,
    "ansi_x3.4-1968": None,
    "iso-8859-1": "cp1252",  # what every mail client really means by latin-1
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "x-mac-roman": "mac-roman",
    "macintosh": "mac-roman",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "cp-850": "cp850",
    "shift-jis": "shift_jis",
    "x-sjis": "shift_jis",
    "sjis": "shift_jis",
}


def _codec(charset: str | None) -> str | None:
    """A Python codec name for a declared charset, or None when it tells us nothing."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    if name in _CHARSET_ALIASES:
        return _CHARSET_ALIASES[name]
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode text whose declared charset may be missing, wrong or unknown; never raises.

    Declared charset strictly, then UTF-8, then the declared charset with
    replacement, then a detected charset, then cp1252/latin-1 (which always works).
    """
    codec = _codec(charset)
    for candidate in (codec, "utf-8"):
        if candidate:
            try:
                return data.decode(candidate)
            except (UnicodeDecodeError, LookupError, ValueError):
                pass
    if codec:
        try:
            return data.decode(codec, errors="replace")
        except (LookupError, ValueError):
            pass
    if len(data) >= 64:
        try:
            from charset_normalizer import from_bytes

            best = from_bytes(data[:200_000]).best()
            if best is not None and best.encoding:
                return data.decode(best.encoding, errors="replace")
        except Exception:  # noqa: BLE001 - detection is only a guess
            pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")
