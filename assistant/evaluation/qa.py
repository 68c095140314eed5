"""Answer-quality evaluation on the current store (``satchel eval qa FILE``).

For the project (tuning gates and prompts on development sets large enough to mean
something) and for people comparing models on their own data. A question file is
JSON Lines; each line one question (docs/evaluation.md has the format):

    {"question": "...", "answers": ["..."], "source": "invoice-2024.eml",
     "evidence": ["the message text that holds it"], "type": "temporal"}
    {"question": "...", "unanswerable": true}

LoCoMo's layout (``answer``, ``category``, ``evidence: [{"text", "when"}]``) is read
as it is: category 5 (adversarial) is unanswerable, 1-4 name the question type.

Scores, overall and per question type:

- right: the answer matches an accepted answer (normalised containment either way,
  or token F1 >= ``CORRECT_F1``) *and* a cited source is the expected one (the
  ``source`` fragment in its path, locator or title; else a cited chunk holds an
  evidence text; else any citation);
- declined: the answerer withdrew or found nothing; on unanswerable questions that is
  right, on answerable ones a false decline;
- evidence recall@k: the share of evidence texts found in the top k search results;
- token F1 (SQuAD-style, best over the accepted answers);
- latency p50/p95 and the token meter (prompt and generated tokens).
"""

from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.answer.answer_forms import gold_days, said_days, words_to_digits
from assistant.answer.calendar_words import canonical_dates
from assistant.answer.grounding import CITATION
from assistant.errors import ConfigError
from assistant.evaluation.beir import percentile

if TYPE_CHECKING:
    from assistant.answer.rag import Answer
    from assistant.core import Satchel
    from assistant.retrieval.search_types import Result

# An answer is taken as matching an accepted one at this token F1 or above, when
# neither contains the other: "7 May 2023" against "on 7 May, 2023" (F1 0.86).
CORRECT_F1 = 0.6
LOCOMO_TYPES = {1: "multi-hop", 2: "temporal", 3: "inference", 4: "single-hop", 5: "adversarial"}
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = re.compile(r"[^\w\s]")


@dataclass
class QAItem:
    question: str
    answers: list[str]
    unanswerable: bool = False
    source: str | None = None
    evidence: list[str] = field(default_factory=list)
    type: str = "all"


def normalise(text: str) -> str:
    """Lower case, no accents, no punctuation or articles, single spaces."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _PUNCTUATION.sub(" ", text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def token_f1(prediction: str, truth: str) -> float:
    pred, gold = normalise(prediction).split(), normalise(truth).split()
    if not pred or not gold:
        return float(pred == gold)
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+", normalise(text)))


def matches(prediction: str, answers: Iterable[str]) -> bool:
    """Whether a prediction says an accepted answer. Overlap alone is not enough when
    the answer holds numbers: "8 May 2023" does not say "7 May 2023". Dates are
    compared whatever their written form, counts whether in words or digits, and an
    answer key relative to a day ("The week before 6 March 2023") accepts any day
    it allows (assistant/answer/answer_forms.py)."""
    prediction = words_to_digits(canonical_dates(CITATION.sub(" ", prediction)))  # "[2]" is no count
    said = normalise(prediction)
    for answer in answers:
        answer = words_to_digits(canonical_dates(answer))
        allowed = gold_days(answer)  # "The Friday before 2022-10-09"
        if allowed and said_days(prediction) & allowed:
            return True
        gold = normalise(answer)
        if gold and (gold in said or (said and said in gold and len(said) >= 0.5 * len(gold))):
            return True
        if token_f1(prediction, answer) >= CORRECT_F1 and _numbers(answer) <= _numbers(prediction):
            return True
    return False


def evidence_in(evidence: str, text: str) -> bool:
    """Whether a chunk's text holds an evidence text (its first 80 normalised
    characters, so that a long message split across chunks still counts)."""
    needle = normalise(evidence)[:80]
    return bool(needle) and needle in normalise(text)


def parse_item(data: dict[str, Any], line: int) -> QAItem:
    question = data.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ConfigError(f"line {line}: no question")
    # data/questions.jsonl's own layout: "answerable", "expected" (all of them) and
    # "expected_any" (one of them); read here as accepted answers
    raw_answers = data.get("answers", data.get("answer", data.get("expected_any") or data.get("expected", [])))
    answers = [str(a) for a in raw_answers] if isinstance(raw_answers, list) else [str(raw_answers)]
    category = data.get("category")
    unanswerable = bool(data.get("unanswerable")) or category == 5 or data.get("answerable") is False
    evidence = []
    for item in data.get("evidence") or []:
        text = item.get("text") if isinstance(item, dict) else item
        if isinstance(text, str) and text.strip():
            evidence.append(text)
    kind = data.get("type") or (LOCOMO_TYPES.get(int(category)) if isinstance(category, int) else None) or "all"
    if unanswerable:
        kind = data.get("type") or ("adversarial" if category == 5 else "unanswerable")
    if not unanswerable and not answers:
        raise ConfigError(f"line {line}: an answerable question needs `answers`")
    source = data.get("source")
    return QAItem(question.strip(), answers, unanswerable, str(source) if source else None, evidence, str(kind))


def load_items(path: Path) -> list[QAItem]:
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the question file ({exc.strerror or exc})") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{path}:{number}: each line must be a JSON object")
        items.append(parse_item(data, number))
    if not items:
        raise ConfigError(f"{path}: no questions")
    return items


def source_is(result: Result, fragment: str) -> bool:
    needle = fragment.lower().strip("<>")
    return any(needle in (value or "").lower() for value in (result.source, result.locator, result.title))


@dataclass
class Outcome:
    """One question's result."""

    item: QAItem
    answer: str = ""
    answered: bool = False
    cited_right: bool = False
    correct: bool = False
    f1: float = 0.0
    evidence_recall: float | None = None
    seconds: float = 0.0
    prompt_tokens: int = 0
    generated_tokens: int = 0

    @property
    def right(self) -> bool:
        """Answerable: correct with the right source cited. Unanswerable: declined."""
        return not self.answered if self.item.unanswerable else self.correct and self.cited_right

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.item.question,
            "type": self.item.type,
            "unanswerable": self.item.unanswerable,
            "expected": self.item.answers,
            "answer": self.answer,
            "answered": self.answered,
            "correct": self.correct,
            "cited_right": self.cited_right,
            "right": self.right,
            "f1": round(self.f1, 3),
            "evidence_recall": self.evidence_recall,
            "seconds": round(self.seconds, 2),
        }


def score_answer(item: QAItem, answer: Answer, seconds: float) -> Outcome:
    """Score one answer (pure: the tests check it on hand-made answers)."""
    outcome = Outcome(item, answer=answer.answer, answered=answer.answered, seconds=seconds)
    if answer.stats is not None:
        outcome.prompt_tokens = answer.stats.prompt_tokens
        outcome.generated_tokens = answer.stats.generated_tokens
    if item.unanswerable or not answer.answered:
        return outcome
    outcome.f1 = max((token_f1(answer.answer, a) for a in item.answers), default=0.0)
    outcome.correct = matches(answer.answer, item.answers)
    cited = [s.result for s in answer.sources if s.cited]
    if item.source:
        outcome.cited_right = any(source_is(r, item.source) for r in cited)
    elif item.evidence:
        outcome.cited_right = any(evidence_in(e, r.text) for r in cited for e in item.evidence)
    else:
        outcome.cited_right = bool(cited)
    return outcome


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    answerable = [o for o in outcomes if not o.item.unanswerable]
    unanswerable = [o for o in outcomes if o.item.unanswerable]
    recalls = [o.evidence_recall for o in outcomes if o.evidence_recall is not None]
    seconds = [o.seconds for o in outcomes if o.seconds > 0]
    return {
        "questions": len(outcomes),
        "answerable": len(answerable),
        "right": sum(o.right for o in answerable),
        "right_share": round(sum(o.right for o in answerable) / len(answerable), 3) if answerable else None,
        "correct_any_citation": sum(o.correct for o in answerable),
        "false_declines": sum(not o.answered for o in answerable),
        "unanswerable": len(unanswerable),
        "declined": sum(o.right for o in unanswerable),
        "declined_share": round(sum(o.right for o in unanswerable) / len(unanswerable), 3) if unanswerable else None,
        "token_f1": round(statistics.fmean(o.f1 for o in answerable), 3) if answerable else None,
        "evidence_recall": round(statistics.fmean(recalls), 3) if recalls else None,
        "latency_p50_s": round(percentile(seconds, 0.5), 3) if seconds else None,
        "latency_p95_s": round(percentile(seconds, 0.95), 3) if seconds else None,
        "prompt_tokens": sum(o.prompt_tokens for o in outcomes),
        "generated_tokens": sum(o.generated_tokens for o in outcomes),
    }


def evidence_recall(app: Satchel, item: QAItem, k: int) -> float | None:
    if not item.evidence:
        return None
    results = app.search(item.question, k=k).results
    found = sum(any(evidence_in(e, r.text) for r in results) for e in item.evidence)
    return found / len(item.evidence)


def run_qa(
    app: Satchel,
    items: list[QAItem],
    *,
    k: int = 10,
    answer: bool = True,
    model: str | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    """Answer (or, with ``answer=False``, only retrieve) every question; the summary
    overall and per type, and every question's row."""
    outcomes = []
    for number, item in enumerate(items, 1):
        recall = evidence_recall(app, item, k)
        if answer:
            started = time.perf_counter()
            reply = app.ask(item.question, save=False, model_override=model, origin="eval")
            outcome = score_answer(item, reply, time.perf_counter() - started)
        else:
            outcome = Outcome(item)
        outcome.evidence_recall = recall
        outcomes.append(outcome)
        if progress is not None:
            progress(number, len(items), outcome)
    types = sorted({o.item.type for o in outcomes})
    return {
        "k": k,
        "answered": answer,
        "overall": summarise(outcomes),
        "by_type": {t: summarise([o for o in outcomes if o.item.type == t]) for t in types},
        "rows": [o.as_json() for o in outcomes],
    }
