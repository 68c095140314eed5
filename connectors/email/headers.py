"""Header values of real-world mail, decoded tolerantly: encoded words in wrong or unknown
charsets, raw 8-bit headers, address lists that the standard parser rejects, and dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import errors
from email.header import decode_header
from email.message import EmailMessage, Message
from email.utils import parsedate_to_datetime
from typing import Any

from connectors.base import to_utc
from connectors.email.charsets import decode_bytes
from connectors.email.parse import MAX_STRICT_HEADER

# --------------------------------------------------------------------------- text


def fix_surrogates(text: str, charset: str | None = None) -> str:
    """Raw 8-bit header bytes arrive as surrogate escapes: decode them for real."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"), charset)


def _clean(text: str) -> str:
    """One line, single spaces: folding leaves tabs and runs of spaces behind."""
    return " ".join(text.replace("\x00", "").split())


def decode_header_value(raw: str, charset: str | None = None) -> str:
    """Decode an unstructured header ourselves (RFC 2047 with any charset, raw 8-bit)."""
    raw = fix_surrogates(raw, charset)
    unfolded = re.sub(r"\r?\n[ \t]*", " ", raw)
    try:
        parts = decode_header(unfolded)
    except Exception:  # noqa: BLE001
        return _clean(unfolded)
    out: list[str] = []
    for value, part_charset in parts:
        if isinstance(value, str):
            out.append(value)
        elif part_charset is None:
            out.append(value.decode("raw-unicode-escape", errors="replace"))
        else:
            out.append(decode_bytes(value, part_charset))
    return _clean("".join(out))


def raw_header(msg: Message, name: str) -> str | None:
    lname = name.lower()
    try:
        items = msg.raw_items() if isinstance(msg, EmailMessage) else msg.items()
        for key, value in items:
            if key.lower() == lname:
                return str(value)
    except Exception:  # noqa: BLE001
        pass
    return None


def _raw_headers(msg: Message, name: str) -> list[str]:
    lname = name.lower()
    try:
        items = msg.raw_items() if isinstance(msg, EmailMessage) else msg.items()
        return [str(v) for k, v in items if k.lower() == lname]
    except Exception:  # noqa: BLE001
        return []


def header_text(msg: Message, name: str, charset: str | None = None) -> str:
    """A header as readable text: the policy's decoding, or ours if that went wrong."""
    raw = raw_header(msg, name)
    if raw is not None and len(raw) > MAX_STRICT_HEADER:
        return decode_header_value(raw[:MAX_STRICT_HEADER], charset)
    try:
        value = msg.get(name)
        if value is not None:
            text = str(value)
            if "\ufffd" not in text and not any("\udc80" <= c <= "\udcff" for c in text):
                return _clean(text)
    except Exception:  # noqa: BLE001
        pass
    return decode_header_value(raw, charset) if raw is not None else ""


# ---------------------------------------------------------------------- addresses


@dataclass(frozen=True)
class Person:
    name: str
    address: str

    def formatted(self) -> str:
        if self.name and self.address and self.name.lower() != self.address.lower():
            return f"{self.name} <{self.address}>"
        return self.address or self.name


_OBFUSCATED_AT = re.compile(r"^([^\s@<>()]+) at ([^\s@<>()]+\.[^\s@<>()]+)$")


def _person(name: str, address: str, charset: str | None) -> Person | None:
    name = fix_surrogates(name or "", charset).strip().strip('"').strip()
    address = fix_surrogates(address or "", charset).strip().strip("<>").strip()
    if "=?" in name:
        name = decode_header_value(name, charset)
    # Mailman archives write "user at example.com"
    match = _OBFUSCATED_AT.match(address)
    if match:
        address = f"{match.group(1)}@{match.group(2)}"
    if not name and not address:
        return None
    return Person(name=name, address=address.lower() if "@" in address else address)


def addresses(msg: Message, name: str, charset: str | None = None) -> list[Person]:
    """Every address in the header(s) ``name`` (all of them: some messages carry two
    Cc headers), decoded; never raises."""
    found: list[Person] = []
    seen: set[Person] = set()
    raws = _raw_headers(msg, name)
    headers: list[Any] = []
    if all(len(raw) <= MAX_STRICT_HEADER for raw in raws):
        try:
            headers = msg.get_all(name) or []
        except Exception:  # noqa: BLE001
            headers = []
    for index, raw in enumerate(raws):
        if index < len(headers):
            people = _header_addresses(headers[index], raw, charset)
        else:  # too long for the strict parser, or it failed
            people = tolerant_addresses(decode_header_value(raw, charset), charset)
        for person in people:
            if person not in seen:
                seen.add(person)
                found.append(person)
    return found


def _header_addresses(header: Any, raw: str, charset: str | None) -> list[Person]:
    try:
        addrs = getattr(header, "addresses", None)
        defects = getattr(header, "defects", ())
        clean = not any(isinstance(d, errors.InvalidHeaderDefect) for d in defects)
        if addrs is not None and clean:
            people = [_person(a.display_name, a.addr_spec, charset) for a in addrs]
            result = [p for p in people if p is not None]
            if all("@" in p.address for p in result):
                comment = re.search(r"\(([^()]+)\)\s*$", raw)
                if len(result) == 1 and not result[0].name and comment:
                    # old style "user@host (Full Name)"
                    name = decode_header_value(comment.group(1), charset).strip()
                    result = [Person(name=name, address=result[0].address)]
                return result
    except Exception:  # noqa: BLE001
        pass
    return tolerant_addresses(decode_header_value(raw, charset), charset)


def _split_address_list(value: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    quoted = False
    angle = 0
    paren = 0
    escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"' and not angle:
            quoted = not quoted
        elif not quoted:
            if ch == "<":
                angle += 1
            elif ch == ">" and angle:
                angle -= 1
            elif ch == "(":
                paren += 1
            elif ch == ")" and paren:
                paren -= 1
            elif ch in ",;" and not angle and not paren:
                items.append("".join(current))
                current = []
                continue
        current.append(ch)
    items.append("".join(current))
    items = [item.strip() for item in items if item.strip()]
    merged: list[str] = []
    for item in items:
        # "Doe, John <j@x.com>": an unquoted comma inside a name
        if merged and "@" not in merged[-1] and "<" not in merged[-1] and "<" in item:
            merged[-1] = f"{merged[-1]}, {item}"
        else:
            merged.append(item)
    return merged


def tolerant_addresses(value: str, charset: str | None = None) -> list[Person]:
    """Addresses from a header the strict parser rejects: "a@b.c <d@e.f>" (the angle
    address is the address), "user at host (Name)", unquoted commas in names."""
    people: list[Person] = []
    for item in _split_address_list(value):
        angle = re.search(r"<([^<>]*)>", item)
        if angle:
            name = (item[: angle.start()] + item[angle.end() :]).strip()
            address = angle.group(1)
        else:
            comment = re.search(r"\(([^()]*)\)", item)
            name = comment.group(1) if comment else ""
            address = (item[: comment.start()] + item[comment.end() :]) if comment else item
        name = name.strip().strip('"').strip()
        address = address.strip()
        match = _OBFUSCATED_AT.match(address)
        if match:
            address = f"{match.group(1)}@{match.group(2)}"
        if " " in address and "@" not in address:
            name, address = name or address, ""
        person = _person(name, address, charset)
        if person is not None:
            people.append(person)
    return people


# ------------------------------------------------------------------------- dates


def parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(re.sub(r"\s+", " ", value.strip()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    try:
        return to_utc(moment)
    except (ValueError, OverflowError):
        return None


def message_date(msg: Message) -> tuple[datetime | None, str | None, str | None]:
    """(UTC date, where it came from, why the Date header was not used)."""
    error: str | None = None
    raw = raw_header(msg, "Date")
    if raw is None:
        error = "missing Date header"
    else:
        moment = None
        try:
            header = msg.get("Date")
            moment = getattr(header, "datetime", None)
        except Exception:  # noqa: BLE001
            moment = None
        if isinstance(moment, datetime):
            try:
                return to_utc(moment), "date", None
            except (ValueError, OverflowError):
                pass
        moment = parse_date(raw)
        if moment is not None:
            return moment, "date", None
        error = f"unparsable Date header: {fix_surrogates(raw).strip()[:100]!r}"
    # The newest Received header is stamped by the receiving server: a good stand-in.
    for received in _raw_headers(msg, "Received"):
        _, _, stamp = received.rpartition(";")
        moment = parse_date(stamp)
        if moment is not None:
            return moment, "received", error
    return None, None, error
