"""Answer quality on the sample corpus: data/questions.jsonl through `satchel ask`.

Builds a fresh store from data/sample/ (real embedder, FAISS, SQLite) and asks every
question with the configured model (default: the packaged Qwen2.5-Coder-1.5B). An
answerable question counts as correct when the answer holds every `expected` string
and one of `expected_any` (case-insensitive), and a cited source matches `source`
(its file path or title). An unanswerable one counts when Satchel declines.

    .venv/bin/python scripts/eval_answers.py [--model FILE.gguf] [--json] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def judge(question: dict, answer: object) -> tuple[bool, str]:
    text = answer.answer.lower()  # type: ignore[attr-defined]
    if not question["answerable"]:
        return (not answer.answered), "declined" if not answer.answered else "answered"  # type: ignore[attr-defined]
    if not answer.answered:  # type: ignore[attr-defined]
        return False, "declined"
    missing = [e for e in question.get("expected", []) if e.lower() not in text]
    any_of = question.get("expected_any") or []
    if missing or (any_of and not any(e.lower() in text for e in any_of)):
        return False, f"missing {missing or any_of}"
    wanted = (question.get("source") or "").lower()
    cited = [s for s in answer.sources if s.cited]  # type: ignore[attr-defined]
    if not any(wanted in (s.result.source.lower() + " " + (s.result.title or "").lower()) for s in cited):
        return False, "right fact, wrong or no citation"
    return True, "ok"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a GGUF file (default: the configured model)")
    parser.add_argument("--questions", default=str(REPO / "data" / "questions.jsonl"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    from assistant.backends.embedder import force_offline
    from assistant.core import Satchel
    from assistant.settings import load_settings

    force_offline()
    lines = Path(args.questions).read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line) for line in lines if line.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="satchel-answers-") as tmp:
        settings = load_settings()
        app = Satchel(load_settings({"home": tmp, "llm_model": args.model or settings.llm_model or None}))
        # share the assembled default model instead of assembling it again
        from assistant.backends.llm import ensure_default_model

        if not args.model and not settings.llm_model:
            model = ensure_default_model(settings)
            app.settings = load_settings({"home": tmp, "llm_model": str(model)})
        app.add_source(REPO / "data" / "sample")
        app.sync()
        for q in questions:
            started = time.perf_counter()
            answer = app.ask(q["question"], save=False)
            ok, why = judge(q, answer)
            rows.append(
                {
                    "id": q.get("id"),
                    "question": q["question"],
                    "answerable": q["answerable"],
                    "correct": ok,
                    "why": why,
                    "answer": answer.answer,
                    "seconds": round(time.perf_counter() - started, 2),
                    "stats": answer.stats.as_json() if answer.stats else None,
                }
            )
            if args.verbose:
                print(
                    f"{'OK ' if ok else 'BAD'} {q.get('id')} {q['question']}\n    {answer.answer!r} ({why})",
                    file=sys.stderr,
                )
        app.close()

    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    stats = [r["stats"] for r in rows if r["stats"]]
    summary = {
        "questions": len(rows),
        "answerable_correct": sum(r["correct"] for r in answerable),
        "answerable": len(answerable),
        "answerable_accuracy": round(sum(r["correct"] for r in answerable) / max(len(answerable), 1), 3),
        "unanswerable_declined": sum(r["correct"] for r in unanswerable),
        "unanswerable": len(unanswerable),
        "median_time_to_first_token_s": round(statistics.median(s["time_to_first_token_s"] for s in stats), 3)
        if stats
        else None,
        "median_generation_tokens_per_s": round(statistics.median(s["generation_tokens_per_s"] for s in stats), 1)
        if stats
        else None,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        for r in rows:
            print(f"{'ok ' if r['correct'] else 'BAD'} {r['id']}: {r['why']}")
        print(
            f"answerable: {summary['answerable_correct']}/{summary['answerable']} correct with the right citation; "
            f"unanswerable: {summary['unanswerable_declined']}/{summary['unanswerable']} declined"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
