"""Removing quoted replies and forwarded headers from a message's text, plain or HTML."""

from __future__ import annotations

import re

from connectors.htmltext import too_many_tags

# ------------------------------------------------------------------- quote removal


_ATTRIBUTION = re.compile(
    r"^(On\b.+\bwrote|Am\b.+\bschrieb\b.*|Le\b.+\ba écrit|El\b.+\bescribió|"
    r"Il giorno\b.+\bha scritto|Op\b.+\bschreef\b.*|Em\b.+\bescreveu|"
    r"\S.*\b(wrote|writes|schrieb|a écrit|escribió|scrisse)):?\s*$",
    re.IGNORECASE,
)
_ORIGINAL_MARKER = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|"
    r"Mensaje original|Messaggio originale|Oorspronkelijk bericht|Originalmeddelande)"
    r"\s*-{2,}|_{20,})\s*$",
    re.IGNORECASE,
)
_HEADER_BLOCK_FROM = re.compile(r"^\s*\**(From|Von|De|Da|Van|Från)\**\s*:\s*\S", re.IGNORECASE)
_HEADER_BLOCK_NEXT = re.compile(
    r"^\s*\**(Sent|Date|Gesendet|Datum|Envoyé|Enviado|Inviato|Verzonden|Skickat|To|An|À)"
    r"\**\s*:",
    re.IGNORECASE,
)
_FORWARD_MARKER = re.compile(
    r"^\s*(-+\s*Forwarded message\s*-+|Begin forwarded message:|-+\s*Weitergeleitete "
    r"Nachricht\s*-+|-+\s*Message transféré\s*-+)\s*$",
    re.IGNORECASE,
)


def strip_quotes(text: str, is_forward: bool = False) -> str:
    """The new text of a message: without quoted replies, attribution lines, the
    Outlook "Original Message" tail and the signature. Forwarded content is kept: it
    is usually the point of a forward."""
    lines = text.split("\n")
    out: list[str] = []
    forwarded = False
    count = len(lines)
    i = 0
    while i < count:
        line = lines[i]
        stripped = line.strip()
        if _FORWARD_MARKER.match(line):
            forwarded = True
            out.append(line)
            i += 1
            continue
        if not forwarded:
            if line.rstrip("\r") in ("-- ", "--", "-- \u00a0") or stripped == "-- ":
                break
            if _ORIGINAL_MARKER.match(line) and not is_forward:
                break
            if (
                not is_forward
                and _HEADER_BLOCK_FROM.match(line)
                and any(_HEADER_BLOCK_NEXT.match(n) for n in lines[i + 1 : i + 5])
                and _quoted_tail_follows(out)
            ):
                break
        if stripped.startswith(">"):
            i += 1
            continue
        if stripped and _is_attribution(lines, i):
            i += 2 if not _ATTRIBUTION.match(stripped) else 1
            continue
        out.append(line)
        i += 1
    return tidy_quoted_text("\n".join(out))


def _quoted_tail_follows(out: list[str]) -> bool:
    # An Outlook-style header block ends the new text unless it is the very start.
    return any(line.strip() for line in out)


def _is_attribution(lines: list[str], i: int) -> bool:
    line = lines[i].strip()
    if len(line) > 300:  # checked first: the pattern backtracks on very long lines
        return False
    following = [ln.strip() for ln in lines[i + 1 : i + 4] if ln.strip()]
    if _ATTRIBUTION.match(line):
        # only when quoted text follows (or nothing does)
        return not following or following[0].startswith(">")
    if (
        line.lower().startswith(("on ", "am ", "le ", "el "))
        and i + 1 < len(lines)
        and len(lines[i + 1]) < 300
        and _ATTRIBUTION.match(f"{line} {lines[i + 1].strip()}")
    ):
        rest = [ln.strip() for ln in lines[i + 2 : i + 5] if ln.strip()]
        return not rest or rest[0].startswith(">")
    return False


def tidy_quoted_text(text: str) -> str:
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_without_quotes(html: str, is_forward: bool) -> str:
    if too_many_tags(html):
        return html  # text-level quote removal still applies
    from bs4 import BeautifulSoup  # imported on use: bs4 is slow to import

    soup = BeautifulSoup(html, "html.parser")
    selectors = [
        ".gmail_signature",
        ".moz-signature",
        ".moz-cite-prefix",
        "#divRplyFwdMsg",
        "#appendonsend",
        ".yahoo_quoted",
        "blockquote[type=cite]",
    ]
    if not is_forward:
        selectors += [".gmail_quote", "blockquote"]
    for selector in selectors:
        try:
            for tag in soup.select(selector):
                tag.decompose()
        except Exception:  # noqa: BLE001
            continue
    return str(soup)


def html_text(html: str) -> str:
    from connectors.htmltext import html_to_text

    return html_to_text(html)
