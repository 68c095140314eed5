"""What a search takes and gives back: the filters that restrict it, its results and its
outcome, and the dates the CLI's filter flags accept."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class Filters:
    kinds: list[str] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)
    persons: list[str] = field(default_factory=list)
    after: datetime | None = None
    before: datetime | None = None
    # a period the question names without asking for a range ("what did John do in
    # March 2023?"): sources from it rank higher, others still come back
    hint_after: datetime | None = None
    hint_before: datetime | None = None

    def is_empty(self) -> bool:
        return not (self.kinds or self.sources or self.persons or self.after or self.before)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kinds,
            "source": self.sources,
            "person": self.persons,
            "after": self.after.isoformat() if self.after else None,
            "before": self.before.isoformat() if self.before else None,
            "hint_after": self.hint_after.isoformat() if self.hint_after else None,
            "hint_before": self.hint_before.isoformat() if self.hint_before else None,
        }

    def sql(self) -> tuple[str, list[Any]]:
        """A WHERE fragment over the ``chunks`` table aliased ``c``."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.kinds:
            clauses.append(f"c.kind IN ({','.join('?' * len(self.kinds))})")
            params += self.kinds
        if self.sources:
            clauses.append(f"c.source_id IN ({','.join('?' * len(self.sources))})")
            params += self.sources
        for person in self.persons:
            clauses.append("instr(c.persons, ?) > 0")
            params.append(" ".join(person.lower().split()))
        if self.after:
            clauses.append("c.ts_end >= ?")
            params.append(int(self.after.timestamp()))
        if self.before:
            clauses.append("c.ts_start < ?")
            params.append(int(self.before.timestamp()))
        return (" AND ".join(clauses) or "1"), params


@dataclass
class Result:
    chunk_id: int
    document_id: int
    kind: str
    title: str
    author: str | None
    timestamp: str | None
    source: str
    locator: str
    score: float
    snippet: str
    text: str
    similarity: float  # cosine of the query and the chunk vector
    bm25_rank: int | None = None
    dense_rank: int | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("text")
        data.pop("bm25_rank")
        data.pop("dense_rank")
        data["score"] = round(self.score, 6)
        data["similarity"] = round(self.similarity, 4)
        return data


@dataclass
class SearchOutcome:
    query: str
    filters: Filters
    results: list[Result]
    timings_ms: dict[str, float]
    # filters read from the query's words ("emails from Anna last March")
    applied: list[str] = field(default_factory=list)
    # the query that was searched once those words were taken out
    searched: str = ""


def parse_date(value: str, *, end: bool = False) -> datetime:
    """A CLI date: YYYY, YYYY-MM or YYYY-MM-DD (UTC). ``end`` gives the first moment
    after the period, for --before style upper bounds given as a whole period."""
    value = value.strip()
    for fmt, step in (("%Y-%m-%d", "day"), ("%Y-%m", "month"), ("%Y", "year")):
        try:
            moment = datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        if not end:
            return moment
        if step == "day":
            from datetime import timedelta

            return moment + timedelta(days=1)
        if step == "month":
            return moment.replace(year=moment.year + (moment.month == 12), month=moment.month % 12 + 1)
        return moment.replace(year=moment.year + 1)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
