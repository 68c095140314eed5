"""`satchel eval qa` scoring on a tiny hand-checked file (no model: answers are made
by hand here, so each score can be checked by reading the test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answer.calendar_words import canonical_dates
from assistant.answer.rag import Answer, SourceRef
from assistant.errors import ConfigError
from assistant.evaluation.qa import (
    QAItem,
    load_items,
    matches,
    score_answer,
    summarise,
    token_f1,
)
from assistant.retrieval.search_types import Filters, Result


def result(text: str, source: str = "/mail/invoice.eml", locator: str = "<id-1@x>", title: str = "Invoice") -> Result:
    return Result(1, 1, "email", title, None, None, source, locator, 1.0, text[:40], text, 0.5)


def answer(text: str, answered: bool = True, cited: list[Result] | None = None) -> Answer:
    sources = [SourceRef(n, r, cited=True) for n, r in enumerate(cited or [], 1)]
    return Answer("q", text, answered, sources, None, Filters(), "q")


FILE = [
    {"question": "How much is the invoice?", "answers": ["EUR 420"], "source": "invoice.eml", "type": "single-hop"},
    {"question": "When did Caroline go to the support group?", "answer": "7 May 2023", "category": 2,
     "evidence": [{"id": "D1:3", "when": "2023-05-08T13:58:00", "text": "I went to a support group yesterday."}]},
    {"question": "What did Melanie say about Mars?", "answer": "nothing", "category": 5},
    {"question": "Who signed the lease?", "unanswerable": True},
]  # fmt: skip


def write(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "qa.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_loading_both_layouts(tmp_path: Path) -> None:
    items = load_items(write(tmp_path, FILE))
    assert [i.type for i in items] == ["single-hop", "temporal", "adversarial", "unanswerable"]
    assert [i.unanswerable for i in items] == [False, False, True, True]
    assert items[1].answers == ["7 May 2023"] and items[1].evidence == ["I went to a support group yesterday."]
    assert items[0].source == "invoice.eml"


def test_bad_files_say_where(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "a?", "answer": "b"}\n{oops\n')
    with pytest.raises(ConfigError, match="broken.jsonl:2: not JSON"):
        load_items(broken)
    with pytest.raises(ConfigError, match="needs `answers`"):
        load_items(write(tmp_path, [{"question": "a?"}]))


def test_token_f1_and_matching() -> None:
    assert token_f1("7 May 2023", "on 7 May, 2023") == pytest.approx(6 / 7)
    assert token_f1("the cat", "a dog") == 0.0
    assert matches("The invoice is for EUR 420, due in March.", ["EUR 420"])
    assert matches("7 May 2023", ["on 7 May, 2023"])
    assert not matches("8 May 2023", ["7 May 2023"])  # F1 0.67, but the day differs
    assert not matches("Paris", ["Lisbon"])


def test_a_date_matches_whatever_its_written_form() -> None:
    # a sentence answer with the date in another order (token F1 alone is 0.5)
    assert matches("Maria donated her car on December 21, 2022 [4].", ["21 December 2022"])
    assert matches("They went to Europe in November 2023 [1].", ["November, 2023."])
    assert matches("Il est arrivé le 7 mai 2023 [2].", ["7 May 2023"])
    assert not matches("Maria donated her car on December 22, 2022 [4].", ["21 December 2022"])
    assert not matches("in October 2023", ["November, 2023"])
    assert canonical_dates("the 3rd of May 2024, or Jan 5, 2024") == "the 2024-05-03, or 2024-01-05"


def test_scoring_by_hand(tmp_path: Path) -> None:
    invoice, other = load_items(write(tmp_path, FILE))[:2]
    # right answer, right source cited
    ok = score_answer(invoice, answer("It is EUR 420 [1].", cited=[result("Total EUR 420")]), 2.0)
    assert ok.correct and ok.cited_right and ok.right
    # right answer, wrong source: not right
    elsewhere = result("x", source="/notes/a.md", title="A", locator="")
    wrong_source = score_answer(invoice, answer("EUR 420 [1]", cited=[elsewhere]), 1.0)
    assert wrong_source.correct and not wrong_source.cited_right and not wrong_source.right
    # declined an answerable question: a false decline
    declined = score_answer(invoice, answer("I could not find that.", answered=False), 1.0)
    assert not declined.right and not declined.answered
    # evidence decides the citation when no source is named
    chat = result("Caroline: I went to a support group yesterday. It was great")
    temporal = score_answer(other, answer("On 7 May 2023 [1].", cited=[chat]), 3.0)
    assert temporal.right
    unanswerable = QAItem("Who signed the lease?", [], unanswerable=True, type="unanswerable")
    assert score_answer(unanswerable, answer("Nobody is named.", answered=False), 1.0).right
    assert not score_answer(unanswerable, answer("Marco signed it [1].", cited=[result("x")]), 1.0).right
    none = score_answer(unanswerable, answer("", answered=False), 1.0)
    summary = summarise([ok, wrong_source, declined, temporal, none])
    assert summary["answerable"] == 4 and summary["right"] == 2 and summary["false_declines"] == 1
    assert summary["unanswerable"] == 1 and summary["declined"] == 1
    assert summary["latency_p50_s"] == 1.0 and summary["latency_p95_s"] == 3.0


def test_counts_in_words_match_digits() -> None:
    assert matches("Nate has won 4 video game tournaments [1].", ["Four"])
    assert matches("Joanna found new hiking trails 2 times [1].", ["twice"])
    assert matches("Jon offers one-on-one mentoring [1].", ["One-on-one mentoring"])
    assert not matches("They reconnected after 2 weeks [3].", ["three weeks"])
    assert not matches("Maria adopted 1 dog [2].", ["two"])


def test_an_answer_key_relative_to_a_day_accepts_the_days_it_allows() -> None:
    """LoCoMo-dev writes "when" answers as they were said: "The Friday before
    9 October 2022". Hand-checked on the calendar: 9 October 2022 is a Sunday,
    20 July 2023 a Thursday, 6 March 2023 a Monday, 3 June 2022 a Friday."""
    assert matches("Nate went to a convention on Friday 7 October 2022 [1].", ["The Friday before 9October, 2022."])
    assert not matches("Nate went to a convention on 8 October 2022 [1].", ["The Friday before 9 October 2022"])
    assert matches("Caroline joined on 18 July 2023 [2].", ["The Tuesday before 20 July 2023"])
    # "last week" said on Monday 6 March: any day of 27 February to 5 March
    assert matches("She passed away on 1 March 2023 [1].", ["The week before 6 March 2023"])
    assert matches("She passed away on 27 February 2023 [1].", ["The week before 6 March 2023"])
    assert not matches("She passed away on 6 March 2023 [1].", ["The week before 6 March 2023"])
    assert not matches("She passed away on 20 February 2023 [1].", ["The week before 6 March 2023"])
    # the note's own words still match
    assert matches("In the week before 6 March 2023 [1].", ["The week before 6 March 2023"])
    assert matches("They hiked on Saturday 4 June 2022 [1].", ["The weekend after 3June, 2022."])
    assert not matches("They hiked on 3 June 2022 [1].", ["The weekend after 3 June 2022"])
    assert matches("Two weekends ago, on 25 February 2023 [1].", ["two weekends before 6 March 2023"])
    assert matches("On 5 March 2023 [1].", ["The weekend before 6 March 2023"])


def test_a_word_that_abbreviates_a_month_elsewhere_is_no_date() -> None:
    """The word "ago" is August in Italian and Spanish: "ago, 25 February 2023" was read as
    August 2023 after the day was made ISO."""
    from assistant.answer.calendar_words import canonical_dates

    assert canonical_dates("two weekends ago, 25 February 2023") == "two weekends ago, 2023-02-25"
