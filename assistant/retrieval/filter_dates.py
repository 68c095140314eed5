"""Dates said in words in a question ("in March", "last week", "between May and July"): the
period each names, and how a period reads back to the person."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from assistant.retrieval.filter_words import FLAGS, Spans

# --------------------------------------------------------------------------- dates

MONTHS = {
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
_POINT_RES = [(form, re.compile(pattern, FLAGS)) for form, pattern in _POINT_FORMS]
_P = r"(?<![\w/.-])(?:" + "|".join(re.sub(r"\(\?P<\w+>", "(?:", p) for _, p in _POINT_FORMS) + r")(?![\w/]|-\d)"
_RANGE = re.compile(
    rf"\b(?:between\s+(?:the\s+)?(?P<a1>{_P})\s+and\s+(?:the\s+)?(?P<b1>{_P})"
    rf"|from\s+(?:the\s+)?(?P<a2>{_P})\s*(?:to|until|till|through|thru|-|–)\s*(?:the\s+)?(?P<b2>{_P}))",
    FLAGS,
)
_ROLLING = re.compile(
    r"\b(?:(?:in|over|during|within|for|from)\s+)?(?P<the>the\s+)?(?P<w>last|past|previous)\s+"
    rf"(?:(?P<n>{_NUMW}|few|couple(?:\s+of)?)\s+)?{_UNIT}\b",
    FLAGS,
)
_OPEN = [  # (pattern, which bound, taken from the start or the end of the period)
    (re.compile(rf"\b(?:(?:ever\s+)?since|starting(?:\s+(?:from|in|on))?|as\s+of)\s+(?P<p>{_P})", FLAGS), "after", 0),
    (re.compile(rf"\b(?:after|later\s+than)\s+(?:the\s+)?(?P<p>{_P})", FLAGS), "after", 1),
    (re.compile(rf"\b(?:before|prior\s+to|earlier\s+than)\s+(?:the\s+)?(?P<p>{_P})", FLAGS), "before", 0),
    (re.compile(rf"\b(?:until|till|til|up\s+(?:to|until))\s+(?:the\s+)?(?P<p>{_P})", FLAGS), "before", 1),
]
_PERIOD = re.compile(
    r"(?:\b(?P<prep>in|during|on|from|throughout|within)\s+(?:the\s+(?:(?:month|year|week|day)\s+of\s+)?)?)?"
    rf"(?P<p>{_P})",
    FLAGS,
)
_DAY = timedelta(days=1)
_OF = re.compile(r"\s+of\b", FLAGS)
_THE = re.compile(r"\bthe\s+$", FLAGS)

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
            month, day = MONTHS[g["mon"].lower().rstrip(".")], int(g["d"])
            y = int(g["y"]) if g.get("y") else year
            if y is None:
                y = now.year if (month, day) <= (now.month, now.day) else now.year - 1
            start = datetime(y, month, day, tzinfo=UTC)
            return start, start + _DAY
        if form == "my":
            month = MONTHS[g["mon"].lower().rstrip(".")]
            y = int(g["y"]) if g.get("y") else year
            if y is None:
                y = now.year if month <= now.month else now.year - 1
            return _month(y, month)
        if form == "rel_month":
            month = MONTHS[g["mon"].lower().rstrip(".")]
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


def extract_dates(q: str, spans: Spans, now: datetime) -> _DateBounds:
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


def describe_dates(after: datetime | None, before: datetime | None) -> str:
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
