"""Filters that people say in words: "emails from Anna last March".

``extract_filters`` reads a question and pulls out the kind, person and date
filters it states, rule-based (no model, well under a millisecond), and returns the
question with those phrases removed so that retrieval looks for the topic words
only. Every filter it sets is described in ``applied`` so that a front end can show
it and the person can correct it.

Choices, and why:

- **Only filter phrases count.** A kind, name or date is a filter only where the
  wording makes it one ("emails from Anna", "in my notes", "did Marco say", "on
  WhatsApp", "in March 2025"). "the email address of the plumber", "file a claim",
  "note that…", "Anna's birthday", "plans for 2025" set nothing. A missed filter
  costs little (the words stay in the query); a wrong one hides every answer.
- **Names come from the store.** Only people in ``known_persons`` are matched (full
  name, first name, last name, first+last, possessive "Anna's"; an address typed
  in full matches that address). The filter value is the canonical lower-case name
  ("anna keller"), which ``Filters.persons`` finds by substring in a chunk's
  persons. A first or last name shared by several people becomes the bare name
  ("anna"): it then matches all of them, and ``applied`` names who they are.
  Names in the question that are not in the store are left alone.
- **Filter phrases leave the query**, the person's name included: once the filter
  holds, the name matches every candidate's persons column equally and only adds
  noise to BM25 (a signature line, a mention) and to the query vector. A name that
  is not in a filter phrase ("is Anna coming?") stays in the query.
- **The query is never empty.** When nothing but filter phrases and function words is
  left ("emails from Anna last March"), ``query`` is the original question and
  ``has_topic`` is False, so a caller may instead list what the filters select.
- **Dates are UTC calendar periods** relative to ``now``; ``before`` is exclusive.
  A month or day without a year is the most recent one not in the future ("in
  April" in April is this April); "last March" is the most recent March strictly
  before the current month. "since X" starts at X, "after X" starts when X ends,
  "before X" ends when X starts, "until X" ends when X ends (X included). "last
  week" is the previous Monday-to-Sunday week; "the last week", "the past two
  weeks", "over the last 3 months" are rolling windows from the start of that day.
  Numeric day/month forms other than ISO ("12/03/2026") are ambiguous and skipped;
  a bare year or month needs a preposition ("in 2025", "since March").
- **Quoted phrases** and ``key:value`` filter tokens are never read nor changed.
- A chat platform ("on WhatsApp") sets kind chat; the platform itself is not a filter
  (kinds are what chunks carry), so chats from other apps can still come back.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from assistant.language.stop_words import QUESTION_WORDS, STOP_WORDS
from assistant.retrieval.search import Filters

__all__ = ["Extracted", "extract_filters"]


@dataclass
class Extracted:
    query: str  # the question without its filter phrases; the question itself when nothing else is left
    filters: Filters
    applied: list[str] = field(default_factory=list)  # "kind: email", "person: Anna Keller", "date: March 2026"
    has_topic: bool = True  # False when the question was nothing but filters (query is then the question)


# --------------------------------------------------------------------------- text


def _w(words: str) -> str:
    """An alternation of whitespace-separated words, longest first."""
    return "(?:" + "|".join(sorted(words.split(), key=len, reverse=True)) + ")"


_FLAGS = re.IGNORECASE
# quoted phrases, key:value chips (see assistant/tui/view.py) and links are not read
_PROTECTED = re.compile(
    r'"[^"]*"|“[^”]*”|(?<!\S)(?:kind|in|type|from|person|with|after|since|before|until|source):\S+|https?://\S+',
    _FLAGS,
)
_TOKEN = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _words(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def _last_word(text: str) -> str:
    found = _words(text[-40:])
    return found[-1] if found else ""


def _next_word(text: str, pos: int) -> str:
    m = _TOKEN.match(text, pos)
    return m.group().lower() if m else ""


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


class _Spans:
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


# --------------------------------------------------------------------------- dates

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "january jan",
            "february feb",
            "march mar",
            "april apr",
            "may",
            "june jun",
            "july jul",
            "august aug",
            "september sep sept",
            "october oct",
            "november nov",
            "december dec",
        ),
        start=1,
    )
    for name in names.split()
}
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|(?:jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?)"
)
_NUMBER_WORDS = {
    w: i for i, w in enumerate("one two three four five six seven eight nine ten eleven twelve".split(), start=1)
}
_NUMW = r"(?:\d{1,3}|" + "|".join(_NUMBER_WORDS) + ")"
_UNIT = r"(?P<u>day|week|month|year)s?"
# (form, pattern with named groups); order matters where two forms start alike
_POINT_FORMS = [
    ("iso_day", r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    ("iso_month", r"(?P<y>\d{4})-(?P<m>\d{1,2})"),
    ("dmy", rf"(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MONTH})(?:,?\s+(?P<y>\d{{4}}))?"),
    ("rel_month", rf"(?P<rel>last|this)\s+(?P<mon>{_MONTH})"),
    ("mdy", rf"(?P<mon>{_MONTH})\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?!\d)(?:,?\s+(?P<y>\d{{4}}))?"),
    ("my", rf"(?P<mon>{_MONTH})(?:,?\s+(?P<y>\d{{4}}))?"),
    ("today", r"(?:earlier\s+)?today|this\s+(?:morning|afternoon|evening)|tonight"),
    ("yesterday", r"yesterday"),
    ("this", r"(?:earlier\s+)?this\s+(?P<u>week|month|year)"),
    ("last", r"(?:last|previous)\s+(?P<u>week|month|year)"),
    ("ago", rf"(?P<n>{_NUMW}|an?)\s+{_UNIT}\s+ago"),
    ("year", r"(?P<y>(?:19|20)\d{2})"),
]
_POINT_RES = [(form, re.compile(pattern, _FLAGS)) for form, pattern in _POINT_FORMS]
_P = r"(?<![\w/.-])(?:" + "|".join(re.sub(r"\(\?P<\w+>", "(?:", p) for _, p in _POINT_FORMS) + r")(?![\w/]|-\d)"
_RANGE = re.compile(
    rf"\b(?:between\s+(?:the\s+)?(?P<a1>{_P})\s+and\s+(?:the\s+)?(?P<b1>{_P})"
    rf"|from\s+(?:the\s+)?(?P<a2>{_P})\s*(?:to|until|till|through|thru|-|–)\s*(?:the\s+)?(?P<b2>{_P}))",
    _FLAGS,
)
_ROLLING = re.compile(
    r"\b(?:(?:in|over|during|within|for|from)\s+)?(?P<the>the\s+)?(?P<w>last|past|previous)\s+"
    rf"(?:(?P<n>{_NUMW}|few|couple(?:\s+of)?)\s+)?{_UNIT}\b",
    _FLAGS,
)
_OPEN = [  # (pattern, which bound, taken from the start or the end of the period)
    (re.compile(rf"\b(?:(?:ever\s+)?since|starting(?:\s+(?:from|in|on))?|as\s+of)\s+(?P<p>{_P})", _FLAGS), "after", 0),
    (re.compile(rf"\b(?:after|later\s+than)\s+(?:the\s+)?(?P<p>{_P})", _FLAGS), "after", 1),
    (re.compile(rf"\b(?:before|prior\s+to|earlier\s+than)\s+(?:the\s+)?(?P<p>{_P})", _FLAGS), "before", 0),
    (re.compile(rf"\b(?:until|till|til|up\s+(?:to|until))\s+(?:the\s+)?(?P<p>{_P})", _FLAGS), "before", 1),
]
_PERIOD = re.compile(
    r"(?:\b(?P<prep>in|during|on|from|throughout|within)\s+(?:the\s+(?:(?:month|year|week|day)\s+of\s+)?)?)?"
    rf"(?P<p>{_P})",
    _FLAGS,
)
_DAY = timedelta(days=1)
_OF = re.compile(r"\s+of\b", _FLAGS)
_THE = re.compile(r"\bthe\s+$", _FLAGS)

Period = tuple[datetime, datetime]


def _point(text: str) -> tuple[str, dict[str, Any]] | None:
    for form, pattern in _POINT_RES:
        m = pattern.fullmatch(text)
        if m:
            return form, m.groupdict()
    return None


def _weak(form: str, groups: dict[str, Any]) -> bool:
    """A bare month, day or year is a date only after a preposition ("in 2025")."""
    return form == "year" or (form in ("dmy", "mdy", "my") and not groups.get("y"))


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


def _month(year: int, month: int) -> Period:
    start = datetime(year, month, 1, tzinfo=UTC)
    return start, _add_months(start, 1)


def _count(word: str | None) -> int:
    if not word:
        return 1
    word = " ".join(word.lower().split())
    if word.isdigit():
        return int(word)
    return {"a": 1, "an": 1, "few": 3, "couple": 2, "couple of": 2}.get(word) or _NUMBER_WORDS.get(word, 1)


def _period(form: str, g: dict[str, Any], now: datetime, year: int | None = None) -> Period | None:
    """The [start, end) of a date point; ``year`` stands in for a missing year."""
    today = _midnight(now)
    try:
        if form == "iso_day":
            start = datetime(int(g["y"]), int(g["m"]), int(g["d"]), tzinfo=UTC)
            return start, start + _DAY
        if form == "iso_month":
            return _month(int(g["y"]), int(g["m"]))
        if form in ("dmy", "mdy"):
            month, day = _MONTHS[g["mon"].lower().rstrip(".")], int(g["d"])
            y = int(g["y"]) if g.get("y") else year
            if y is None:
                y = now.year if (month, day) <= (now.month, now.day) else now.year - 1
            start = datetime(y, month, day, tzinfo=UTC)
            return start, start + _DAY
        if form == "my":
            month = _MONTHS[g["mon"].lower().rstrip(".")]
            y = int(g["y"]) if g.get("y") else year
            if y is None:
                y = now.year if month <= now.month else now.year - 1
            return _month(y, month)
        if form == "rel_month":
            month = _MONTHS[g["mon"].lower().rstrip(".")]
            if g["rel"].lower() == "this":
                return _month(now.year, month)
            return _month(now.year if month < now.month else now.year - 1, month)
        if form == "year":
            return datetime(int(g["y"]), 1, 1, tzinfo=UTC), datetime(int(g["y"]) + 1, 1, 1, tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    if form == "today":
        return today, today + _DAY
    if form == "yesterday":
        return today - _DAY, today
    back = 0 if form == "this" else _count(g.get("n")) if form == "ago" else 1
    unit = str(g["u"]).lower()
    if unit == "day":
        start = today - back * _DAY
        return start, start + _DAY
    if unit == "week":
        start = today - timedelta(days=today.weekday()) - back * timedelta(weeks=1)
        return start, start + timedelta(weeks=1)
    if unit == "month":
        start = _add_months(today.replace(day=1), -back)
        return start, _add_months(start, 1)
    start = datetime(now.year - back, 1, 1, tzinfo=UTC)
    return start, start.replace(year=start.year + 1)


def _range(a: str, b: str, now: datetime) -> Period | None:
    """ "between March and May 2025": the year said once holds for both ends."""
    pa, pb = _point(a), _point(b)
    if not pa or not pb:
        return None
    fa, ga = pa
    fb, gb = pb
    yearless = ("dmy", "mdy", "my")
    first = second = None
    if fa in yearless and not ga.get("y"):
        second = _period(fb, gb, now)
        if second is not None:
            first = _period(fa, ga, now, year=second[0].year)
            if first is not None and first[0] >= second[0]:
                first = _period(fa, ga, now, year=second[0].year - 1)
    elif fb in yearless and not gb.get("y"):
        first = _period(fa, ga, now)
        if first is not None:
            second = _period(fb, gb, now, year=first[0].year)
            if second is not None and second[0] < first[0]:
                second = _period(fb, gb, now, year=first[0].year + 1)
    else:
        first, second = _period(fa, ga, now), _period(fb, gb, now)
    if first is None or second is None or first[0] >= second[1]:
        return None
    return first[0], second[1]


class _DateBounds:
    def __init__(self) -> None:
        self.after: datetime | None = None
        self.before: datetime | None = None

    def narrow(self, after: datetime | None, before: datetime | None) -> bool:
        """Intersect with [after, before); refused (False) when nothing would be left."""
        new_after = max((d for d in (self.after, after) if d), default=None)
        new_before = min((d for d in (self.before, before) if d), default=None)
        if new_after and new_before and new_after >= new_before:
            return False
        self.after, self.before = new_after, new_before
        return True


def _extract_dates(q: str, spans: _Spans, now: datetime) -> _DateBounds:
    bounds = _DateBounds()

    def accept(m: re.Match[str], after: datetime | None, before: datetime | None) -> None:
        if spans.free(m.start(), m.end()) and bounds.narrow(after, before):
            spans.take(m.start(), m.end())

    for m in _RANGE.finditer(q):
        a, b = (m["a1"], m["b1"]) if m["a1"] else (m["a2"], m["b2"])
        found = _range(a, b, now)
        if found:
            accept(m, *found)
    for m in _ROLLING.finditer(q):
        prep = m.group().split()[0].lower() in ("in", "over", "during", "within", "for", "from")
        if not (m["n"] or (m["the"] and prep) or (m["w"].lower() == "past" and (prep or not m["the"]))):
            continue  # "last week" is a calendar week (a point, below); "the last day of school" no date
        if _OF.match(q, m.end()):
            continue  # "the last three days of the trip"
        n, unit = _count(m["n"]), m["u"].lower()
        today = _midnight(now)
        if unit in ("day", "week"):
            start = today - n * (_DAY if unit == "day" else timedelta(weeks=1))
        else:
            start = _add_months(today, -n * (12 if unit == "year" else 1))
        accept(m, start, None)
    for pattern, bound, edge in _OPEN:
        for m in pattern.finditer(q):
            point = _point(m["p"])
            found = _period(*point, now) if point else None
            if found:
                moment = found[edge]
                accept(m, moment if bound == "after" else None, moment if bound == "before" else None)
    for m in _PERIOD.finditer(q):
        point = _point(m["p"])
        if not point or (_weak(*point) and not m["prep"]):
            continue
        if point[0] in ("last", "this", "rel_month") and (_OF.match(q, m.end()) or _THE.search(q, 0, m.start())):
            continue  # "the last week of March", "this year of all years"
        found = _period(*point, now)
        if found:
            accept(m, *found)
    return bounds


_MONTH_NAMES = "January February March April May June July August September October November December".split()


def _month_text(moment: datetime, year: bool = True) -> str:
    """Month names spelled here: strftime's %B follows the process locale."""
    name = _MONTH_NAMES[moment.month - 1]
    return f"{name} {moment.year}" if year else name


def _day_text(moment: datetime) -> str:
    return f"{moment.day} {_month_text(moment)}"


def _moment_text(moment: datetime) -> str:
    return _day_text(moment) if moment == _midnight(moment) else f"{_day_text(moment)} {moment:%H:%M} UTC"


def _describe_dates(after: datetime | None, before: datetime | None) -> str:
    if after and before:
        if after == _midnight(after) and before == _midnight(before):
            if before - after == _DAY:
                return _day_text(after)
            if after.day == 1 and before.day == 1:
                months = (before.year - after.year) * 12 + before.month - after.month
                last = _add_months(before, -1)
                if after.month == 1 and months % 12 == 0:
                    return str(after.year) if months == 12 else f"{after.year} – {last.year}"
                if months == 1:
                    return _month_text(after)
                if after.year == last.year:
                    return f"{_month_text(after, year=False)} – {_month_text(last)}"
                return f"{_month_text(after)} – {_month_text(last)}"
            return f"{_day_text(after)} – {_day_text(before - _DAY)}"
        return f"{_moment_text(after)} – before {_moment_text(before)}"
    if after:
        return f"since {_moment_text(after)}"
    assert before is not None
    return f"before {_moment_text(before)}"


# --------------------------------------------------------------------------- persons

# single-word names that are also common words: matched only when written capitalised
_COMMON = (
    frozenset(
        (
            "may will mark bill grace hope joy rose summer april june august art guy page case sky dawn faith chase "
            "hunter max ray frank jack sue pat rob don drew gene penny ruby amber iris lily ivy jean jade angel sunny "
            "storm ash river rich victor major king young long white black brown green gray grey little love mom dad "
            "mum me you unknown signal slack note email file chat group"
        ).split()
    )
    | STOP_WORDS
    | frozenset(_MONTHS)
)


@dataclass(frozen=True)
class _Person:
    display: str
    value: str


@dataclass(frozen=True)
class _Directory:
    people: tuple[_Person, ...]
    keys: dict[tuple[str, ...], tuple[int, ...]]  # name tokens -> people
    addresses: dict[str, int]
    longest: int


_ANGLE = re.compile(r"^(?P<name>.*?)\s*<\s*(?P<addr>[^<>\s]+@[^<>\s]+?)\s*>\s*$")
_NAME_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def _norm_token(token: str) -> str:
    return token.lower().replace("’", "'")


def _split_known(raw: str) -> tuple[str | None, str | None]:
    raw = " ".join(raw.split())
    m = _ANGLE.match(raw)
    name, addr = (m["name"], m["addr"]) if m else (raw, None)
    if addr is None and "@" in raw and " " not in raw:
        name, addr = None, raw
    if name is not None:
        name = name.strip(" \"'")
        if not name or "@" in name:
            name = None
    return name, (addr.lower() if addr else None)


def _name_tokens(name: str) -> list[str]:
    parts = name.split(",")
    if len(parts) == 2:  # "Keller, Anna"
        parts = [parts[1], parts[0]]
    return [_norm_token(t) for part in parts for t in _NAME_TOKEN.findall(part)]


@lru_cache(maxsize=8)
def _directory(known: tuple[str, ...]) -> _Directory:
    """People grouped by shared names and addresses (one person may appear as
    "Anna Keller <anna@x>", "Anna Keller" and "anna@x")."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    entries: list[tuple[str | None, str | None]] = []
    for raw in (part for value in known for part in value.split(";")):
        name, addr = _split_known(raw)
        if not name and not addr:
            continue
        entries.append((name, addr))
        nodes = [f"n:{name.lower()}" if name else "", f"a:{addr}" if addr else ""]
        nodes = [n for n in nodes if n]
        for node in nodes[1:]:
            parent[find(node)] = find(nodes[0])
        find(nodes[0])

    names: dict[str, Counter[str]] = {}
    displays: dict[str, str] = {}
    addrs: dict[str, list[str]] = {}
    order: list[str] = []
    for name, addr in entries:
        root = find(f"n:{name.lower()}" if name else f"a:{addr}")
        if root not in names:
            names[root], addrs[root] = Counter(), []
            order.append(root)
        if name:
            names[root][name.lower()] += 1
            displays.setdefault(name.lower(), name)
        if addr and addr not in addrs[root]:
            addrs[root].append(addr)

    people: list[_Person] = []
    keys: dict[tuple[str, ...], list[int]] = {}
    addresses: dict[str, int] = {}
    for root in order:
        index = len(people)
        if names[root]:
            best = names[root].most_common(1)[0][0]
            people.append(_Person(display=displays[best], value=best))
            token_lists = [_name_tokens(displays[n]) for n in names[root]]
        else:
            people.append(_Person(display=addrs[root][0], value=addrs[root][0]))
            token_lists = []
        for addr in addrs[root]:
            addresses[addr] = index
            local = re.split(r"[._-]+", addr.split("@")[0])
            if not names[root] and len(local) >= 2 and all(p.isalpha() and len(p) > 1 for p in local):
                token_lists.append([p.lower() for p in local])  # anna.keller@ -> Anna Keller
        for tokens in token_lists:
            if not tokens:
                continue
            variants = {tuple(tokens)}
            if len(tokens) >= 2:
                variants |= {(tokens[0],), (tokens[-1],), (tokens[0], tokens[-1])}
            for key in variants:
                if len(key) == 1 and len(key[0]) < 2:
                    continue
                if index not in keys.setdefault(key, []):
                    keys[key].append(index)
    return _Directory(
        people=tuple(people),
        keys={k: tuple(v) for k, v in keys.items()},
        addresses=addresses,
        longest=max((len(k) for k in keys), default=0),
    )


_COMM_WITH = _w(
    "chat chats chatted chatting conversation conversations thread threads message messages messaged messaging "
    "email emails emailed e-mail e-mails texts texted texting talk talks talked talking spoke speak speaking "
    "discuss discussed discussing discussion discussions agree agreed decide decided plan planned planning "
    "argue argued argument correspondence exchange exchanged call calls called dm dms whatsapp telegram signal "
    "slack discord messenger"
)
_COMM_TO = _w(
    "send sends sent write writes wrote written email emailed emails e-mail e-mailed message messaged messages "
    "text texted reply replied replies forward forwarded say said mention mentioned talk talked spoke speak "
    "explain explained respond responded answer answered letter letters note notes complain complained "
    "promise promised mail mails"
)
_SUBJECT_VERBS = _w(
    "say says said saying write writes wrote written writing send sends sent sending mention mentions "
    "mentioned mentioning tell tells told telling ask asks asked asking suggest suggests suggested recommend "
    "recommends recommended reply replies replied answer answers answered share shares shared post posts posted "
    "propose proposes proposed promise promises promised explain explains explained email emails emailed "
    "e-mail e-mailed message messages messaged text texts texted forward forwards forwarded complain complains "
    "complained talk talks talked talking discuss discusses discussed discussing think thinks thought respond "
    "responds responded report reports "
    "reported announce announced confirm confirms confirmed agree agreed decide decided want wants wanted"
)
_COMM_NOUNS = _w(
    "message messages email emails e-mail e-mails mail mails text texts note notes chat chats words reply replies "
    "answer answers letter letters post posts comment comments file files document documents pdf pdfs dm dms "
    "update updates suggestion suggestions recommendation recommendations whatsapps"
)
# "Anna's email" may be her address, "Anna's file" a folder about her: these need
# a word after them that makes them messages ("Anna's email about the rent")
_ATTRIBUTE_NOUNS = frozenset("email e-mail mail text note chat dm file document pdf".split())
_EMAIL_VERB = re.compile(r"e-?mail(?:s|ed|ing)?", _FLAGS)
_BEFORE_PREP = re.compile(r"(?:^|(?<=\W))(?P<w>from|by|cc|cc'd|bcc|between)\s+$", _FLAGS)
_BEFORE_WITH = re.compile(rf"\b{_COMM_WITH}\b(?:\s+\S+){{0,3}}?\s+(?P<w>with)\s+$", _FLAGS)
_BEFORE_TO = re.compile(rf"\b{_COMM_TO}\b(?:\s+\S+){{0,3}}?\s+(?P<w>to)\s+$", _FLAGS)
_BEFORE_OBJECT = re.compile(
    r"\b(?P<w>tell|told|telling|ask|asked|asking|e-?mail|e-?mailed|e-?mailing|message|messaged|text|texted|"
    r"remind|reminded|thank|thanked|invite|invited|cc|cc'd|call|called|answer|answered|"
    r"(?:reply|replied|write|wrote|forward|forwarded)\s+to)\s+$",
    _FLAGS,
)
_BEFORE_ME_AND = re.compile(r"\b(?P<w>me|i)\s+and\s+$", _FLAGS)
_AUX = re.compile(
    r"\b(?P<w>did|does|do|has|have|had|will|would|could|can|was|is|didn't|doesn't|hasn't|haven't|wasn't)\s+$",
    _FLAGS,
)
_AFTER_VERB = re.compile(
    r"\s+(?:(?:ever|also|just|actually|really|originally|first|last|then|once|already|recently|never)\s+)?"
    rf"(?P<v>{_SUBJECT_VERBS})\b",
    _FLAGS,
)
_AFTER_NOUN = re.compile(rf"\s+(?P<n>{_COMM_NOUNS})\b", _FLAGS)
_AFTER_AND_ME = re.compile(r"\s+and\s+(?:i|me)\b", _FLAGS)
_JOIN = re.compile(r"\s*(?:,\s*(?:and\s+)?|and\s+|&\s*)", _FLAGS)


@dataclass
class _Mention:
    start: int  # the name
    end: int  # the name, without a possessive 's
    stop: int  # the name with its possessive 's
    key: tuple[str, ...]
    people: tuple[int, ...]
    address: str | None = None
    phrase: tuple[int, int] | None = None  # set when accepted as a filter phrase
    email: bool = False  # the phrase says it was an email ("did I email Anna")


def _mentions(q: str, spans: _Spans, directory: _Directory) -> list[_Mention]:
    found: list[_Mention] = []
    address_spans: list[tuple[int, int]] = []
    for m in _ADDRESS.finditer(q):
        address_spans.append(m.span())
        addr = m.group().lower()
        if addr in directory.addresses and spans.free(*m.span()):
            found.append(_Mention(m.start(), m.end(), m.end(), (addr,), (directory.addresses[addr],), address=addr))
    tokens = [t for t in _TOKEN.finditer(q) if all(t.end() <= s or t.start() >= e for s, e in address_spans)]
    i = 0
    while i < len(tokens):
        hit = None
        for n in range(min(directory.longest, len(tokens) - i), 0, -1):
            group = tokens[i : i + n]
            if any(not q[a.end() : b.start()].isspace() for a, b in zip(group, group[1:], strict=False)):
                continue
            words = [_norm_token(t.group()) for t in group]
            stop = end = group[-1].end()
            key = tuple(words)
            if key not in directory.keys and words[-1].endswith("'s"):
                key, end = (*words[:-1], words[-1][:-2]), stop - 2
            if key not in directory.keys:
                continue
            if n == 1 and key[0] in _COMMON and not group[0].group()[0].isupper():
                continue
            if q[group[0].start() - 1 : group[0].start()] in (":", "@", "/"):
                continue
            if spans.free(group[0].start(), end):
                hit = _Mention(group[0].start(), end, stop, key, directory.keys[key])
            break
        if hit:
            found.append(hit)
            i += len(hit.key)
        else:
            i += 1
    found.sort(key=lambda x: x.start)
    return found


def _accept(q: str, mention: _Mention, spans: _Spans) -> None:
    pre, possessive = q[: mention.start], mention.stop > mention.end
    for pattern in (_BEFORE_PREP, _BEFORE_WITH, _BEFORE_TO, _BEFORE_OBJECT, _BEFORE_ME_AND):
        m = pattern.search(pre)
        if m:
            mention.phrase = (m.start("w"), mention.stop)
            mention.email = pattern is _BEFORE_OBJECT and bool(_EMAIL_VERB.fullmatch(m["w"]))
            return
    if possessive:
        m = _AFTER_NOUN.match(q, mention.stop)
        if m and m["n"].lower() in _ATTRIBUTE_NOUNS:
            nxt = _skip_space(q, m.end())
            if not (_next_word(q, nxt) in _CONFIRM or spans.starts_at(nxt)):
                return
        if m:
            kind_word = _KIND_WORD.fullmatch(m["n"]) is not None
            mention.phrase = (mention.start, mention.stop if kind_word else m.end())
        return
    m = _AFTER_VERB.match(q, mention.stop)
    if m:
        aux = _AUX.search(pre)
        mention.phrase = (aux.start("w") if aux else mention.start, m.end())
        mention.email = bool(_EMAIL_VERB.fullmatch(m["v"]))
        return
    m = _AFTER_AND_ME.match(q, mention.stop)
    if m:
        mention.phrase = (mention.start, m.end())


def _extract_persons(q: str, spans: _Spans, directory: _Directory) -> tuple[list[tuple[str, str]], bool]:
    """(value, label) per person said as a filter; True when a phrase said "emailed"."""
    if not directory.people:
        return [], False
    mentions = _mentions(q, spans, directory)
    for mention in mentions:
        _accept(q, mention, spans)
    changed = True
    while changed:  # "from Anna and Marco", "Anna and Marco said"
        changed = False
        for a, b in zip(mentions, mentions[1:], strict=False):
            if (a.phrase is None) == (b.phrase is None):
                continue
            joined = _JOIN.fullmatch(q, a.stop, b.start)
            if joined:
                if a.phrase is None:
                    a.phrase = (a.start, b.start)
                else:
                    b.phrase = (a.stop, b.stop)
                changed = True
    out: list[tuple[str, str]] = []
    email = False
    for mention in mentions:
        if mention.phrase is None or not spans.unprotected(*mention.phrase):
            continue
        spans.take(*mention.phrase)
        email = email or mention.email
        if mention.address:
            value, label = mention.address, mention.address
        elif len(mention.people) == 1:
            person = directory.people[mention.people[0]]
            value, label = person.value, person.display
        else:
            said = q[mention.start : mention.end]
            value = " ".join(mention.key)
            names = sorted(directory.people[i].display for i in mention.people)
            who = " or ".join(names) if len(names) <= 3 else f"{len(names)} people"
            label = f"{said} ({who})"
        if value not in [v for v, _ in out]:
            out.append((value, label))
    return out, email


# --------------------------------------------------------------------------- kinds

_PLATFORMS = frozenset("whatsapp telegram signal slack discord messenger instagram".split())
_KIND_OF = {
    **dict.fromkeys("email emails mail mails inbox inboxes mailbox mailboxes".split(), "email"),
    **dict.fromkeys("chat chats groupchat groupchats dm dms".split(), "chat"),
    **dict.fromkeys(_PLATFORMS, "chat"),
    **dict.fromkeys("pdf pdfs document documents docs file files".split(), "file"),
    **dict.fromkeys("note notes".split(), "note"),
}
_COLLECTIONS = (
    frozenset(
        "emails mails inbox inboxes mailbox mailboxes chats groupchats dms pdfs documents docs files notes".split()
    )
    | _PLATFORMS
)
_KIND_WORD = re.compile(
    r"(?<![\w@./:-])(?:group\s*chats?|e-?mails?|mails?|inbox(?:es)?|mailbox(?:es)?|chats?|dms?|whats\s?app|"
    r"telegram|signal|slack|discord|messenger|instagram|pdfs?|documents?|docs|files?|notes?)(?![\w@-])",
    _FLAGS,
)
# nouns that may follow an email/chat word and belong to the same filter ("email thread")
_HEAD = re.compile(
    r"\s+(?:groups?(?:\s+chats?)?|threads?|conversations?|chains?|exchanges?|messages?|correspondence|chats?|dms?)"
    r"(?![\w-])",
    _FLAGS,
)
_PREFIX_DETS = (
    r"(?:(?:my|the|our|your|his|her|their|these|those|this|that|a|an|any|some|all|recent|latest|old|older|last"
    r"|previous|new|unread|shared|[^\W\d_]+['’]s)\s+){0,2}"
)
_BEFORE_PREFIX = re.compile(
    rf"\b(?:in|from|among|across|within|through|of|via|over|by|on|using|per|search|searched|check|checked)\s+{_PREFIX_DETS}$",
    _FLAGS,
)
_BEFORE_DET = re.compile(
    r"\b(?:my|our|his|her|their|all|any|these|those|recent|latest|new|unread|[^\W\d_]+['’]s)\s+$", _FLAGS
)
_AT_START = re.compile(
    r"^\s*(?:(?:show|list|find|get|search|give|me|all|any|my|the|recent|latest|new|unread|some|are|there|were|"
    r"is|which|what)\s+)*$",
    _FLAGS,
)
_FOLLOW_OK = STOP_WORDS | frozenset(
    (
        "sent received mentioning regarding re concerning containing last yesterday today since until till where "
        "which who ever recently lately mention mentioned mentions say said says talk talked discuss discussed "
        "contain contains"
    ).split()
)
_CONFIRM = frozenset(
    (
        "about from by to with regarding re concerning mentioning between on in since before after during sent "
        "received where which who last this yesterday today until till containing mention mentioned mentions say "
        "said says talk talked talking discuss discussed discussing contain contains i we you he she they did do "
        "does have has had were are was is that"
    ).split()
)
# a singular kind word after these is a verb ("I need to file", "did I note")
_VERB_BEFORE = frozenset(
    "to will would should must can could please i we you they he she didn't don't did do does doesn't let's lets "
    "not never also just shall".split()
)
# ...and before these ("file a claim", "note that", "email the plumber")
_VERB_OBJECTS = frozenset(
    "a an the that this these those it them him her me us my your our their his down how for".split()
)


def _extract_kinds(q: str, spans: _Spans) -> list[str]:
    kinds: list[str] = []
    for m in _KIND_WORD.finditer(q):
        start, end = m.span()
        if not spans.free(start, end):
            continue
        word = re.sub(r"[\s-]", "", m.group().lower())
        platform, collection = word in _PLATFORMS, word in _COLLECTIONS
        kind = _KIND_OF[word]
        # what follows must fit a filter: nothing, a filter phrase, a function word, "thread"
        nxt = _skip_space(q, end)
        follow = _next_word(q, nxt)
        head = _HEAD.match(q, end) if kind in ("email", "chat") else None
        if head:
            end, follow_ok = head.end(), True
        else:
            follow_ok = nxt >= len(q) or not follow or spans.starts_at(nxt) or follow in _FOLLOW_OK
        if not follow_ok:
            continue
        pre = q[:start]
        phrase: tuple[int, int] | None = None
        prefix = _BEFORE_PREFIX.search(pre)
        det = _BEFORE_DET.search(pre)
        if prefix:
            phrase = (prefix.start(), end)
        elif collection and det:
            phrase = (det.start(), end)
        elif end > m.end() and (platform or word in ("email", "mail", "chat", "dm", "groupchat")):
            phrase = (start, end)  # "WhatsApp messages", "email thread"
        elif not platform:
            singular = not collection
            if singular and (_last_word(pre) in _VERB_BEFORE or follow in _VERB_OBJECTS):
                continue
            confirmed = follow in _CONFIRM or spans.starts_at(nxt) or (collection and not follow)
            if confirmed or _AT_START.match(pre):
                phrase = (start, end)
        if phrase is None:
            continue
        spans.take(*phrase)
        if kind not in kinds:
            kinds.append(kind)
    return kinds


# --------------------------------------------------------------------------- query

_EDGE = frozenset(
    "about regarding concerning re from in on and or with to of for by at via over during since before after "
    "between until".split()
)
_TRAILING_ONLY = frozenset("the a an my".split())
_FILLER = frozenset(
    (
        "messages message texts text conversation conversations chats chat thread threads stuff thing things "
        "anything everything something say said says write wrote written send sent mention mentioned talk talked "
        "discuss discussed tell told ask asked get got received recent latest last first new unread list show "
        "find search see look read all me"
    ).split()
)


def _tidy(text: str, edges: frozenset[str] = frozenset()) -> str:
    """``text`` without the function words a removed filter phrase left at its
    edges; ``edges`` adds those of the question's own language."""
    text = " ".join(text.split())
    text = re.sub(r"\s+([?.!,;:])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    tail = re.search(r"[?.!]*$", text)
    end_mark = tail.group() if tail else ""
    words = text[: len(text) - len(end_mark)].split()
    lead, trail = _EDGE | edges | {""}, _EDGE | _TRAILING_ONLY | edges | {""}
    while words and _edge_key(words[0]) in lead:
        words.pop(0)
    while words and _edge_key(words[-1]) in trail:
        words.pop()
    body = " ".join(words).strip(" ,;:")
    return body + end_mark if body else ""


def _edge_key(word: str) -> str:
    from assistant.language.keywords import fold

    return fold(word.strip(",;:").rstrip("'’"))


def _has_topic(text: str) -> bool:
    ignore = STOP_WORDS | QUESTION_WORDS | _FILLER
    return any(w not in ignore for w in _words(text))


# --------------------------------------------------------------------------- entry point


def _without(question: str, used: list[tuple[int, int]], edges: frozenset[str] = frozenset()) -> str:
    """The question without the given character ranges, tidied."""
    removed = bytearray(len(question))
    for start, end in used:
        removed[start:end] = b"\x01" * (end - start)
    return _tidy("".join(ch for ch, gone in zip(question, removed, strict=True) if not gone), edges)


def extract_filters(question: str, *, known_persons: Iterable[str], now: datetime) -> Extracted:
    """The kind, person and date filters a question states in words, and the
    question without them. ``now`` anchors relative dates (naive means UTC).

    A question in French, Italian, German or Spanish is read through an English
    gloss of its filter words (assistant/retrieval/filter_language.py); what is
    left for search stays in its own words."""
    from assistant.retrieval import filter_language

    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    known = tuple(known_persons)
    as_english = _extract(question, question, known, now)
    if not filter_language.may_need_gloss(question):
        return as_english
    language = filter_language.question_language(question)
    if language not in filter_language.GLOSSED_LANGUAGES:
        return as_english
    gloss = filter_language.english_gloss(question, language)
    edges = filter_language.edge_words(language, _EDGE | _TRAILING_ONLY)
    glossed = _extract(question, gloss.text, known, now, gloss.to_question, edges)
    # a question read as French by chance keeps its English reading when that finds more
    return glossed if len(glossed.applied) >= len(as_english.applied) else as_english


def _same_span(start: int, end: int) -> tuple[int, int]:
    return start, end


def _extract(
    question: str,
    text: str,
    known: tuple[str, ...],
    now: datetime,
    to_question: Callable[[int, int], tuple[int, int]] = _same_span,
    edges: frozenset[str] = frozenset(),
) -> Extracted:
    """The filters read from ``text`` (the question, or its English gloss whose
    spans ``to_question`` maps back), and the question without them."""
    spans = _Spans([m.span() for m in _PROTECTED.finditer(text)])
    # a chunk's persons string ("a <x>; b") may be passed as it is
    directory = _directory(known)
    # "from April Jones" is a person before it is a month
    full_names = [(m.start, m.end) for m in _mentions(text, spans, directory) if len(m.key) > 1 or m.address]
    spans.protected += full_names
    dates = _extract_dates(text, spans, now)
    date_spans = list(spans.used)
    del spans.protected[len(spans.protected) - len(full_names) :]
    persons, emailed = _extract_persons(text, spans, directory)
    kinds = _extract_kinds(text, spans)
    if emailed and "email" not in kinds:
        kinds.append("email")

    filters = Filters(kinds=kinds, persons=[v for v, _ in persons])
    applied = [f"kind: {k}" for k in kinds] + [f"person: {label}" for _, label in persons]
    if dates.after or dates.before:
        period = _describe_dates(dates.after, dates.before)
        if kinds or persons or not _has_topic(_without(text, spans.used)):
            # "emails from March", "what did Anna write last week", "yesterday":
            # a range of items
            filters.after, filters.before = dates.after, dates.before
            applied.append(f"date: {period}")
        else:
            # "what did John do in March 2023?": the event may be told of later
            # ("last month I went to…"), so the period ranks, it does not hide
            filters.hint_after, filters.hint_before = dates.after, dates.before
            applied.append(f"date hint: {period}")
            spans.used = [span for span in spans.used if span not in date_spans]

    has_topic = _has_topic(_without(text, spans.used))
    rest = _without(question, [to_question(*span) for span in spans.used], edges)
    if spans.used and rest and has_topic:
        return Extracted(query=rest, filters=filters, applied=applied)
    if not spans.used:
        return Extracted(query=question, filters=filters, applied=applied, has_topic=_has_topic(text))
    return Extracted(query=question, filters=filters, applied=applied, has_topic=False)
