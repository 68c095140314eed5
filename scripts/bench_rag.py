"""RAG latency against a bare llama-cpp-python loop, in one run, on one model.

1. Bare llama-cpp-python: prompt-processing speed (eval of the first question's
   real prompt) of the default model.
2. Satchel: questions from data/questions.jsonl answered on a store built from
   data/sample/, with the same loaded model. For each: time to first token against
   the bound 1.2 × (prompt tokens evaluated ÷ bare prompt speed) + retrieval time.
3. Right after each answer, bare llama-cpp-python again: a plain streaming loop on
   that question's own prompt for as many tokens as the answer had, so generation
   speed is compared in the same context; the median of the per-question ratios.

    .venv/bin/python scripts/bench_rag.py [--questions 8] [--json]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from assistant.backends.embedder import force_offline
    from assistant.backends.llm import ensure_default_model
    from assistant.core import Satchel
    from assistant.settings import load_settings

    force_offline()
    model_path = ensure_default_model(load_settings())
    questions = [json.loads(x) for x in (REPO / "data" / "questions.jsonl").read_text().splitlines() if x.strip()]
    questions = [q for q in questions if q["answerable"]][: args.questions]
    with tempfile.TemporaryDirectory(prefix="satchel-rag-") as tmp:
        app = Satchel(load_settings({"home": tmp, "llm_model": str(model_path), "min_relevance": -1.0}))
        app.add_source(REPO / "data" / "sample")
        app.sync()
        model = app.model()
        llm = model.load()

        # bare llama-cpp-python prompt speed, on the first question's real prompt
        answerer = app.answerer()

        def prompt_tokens(question: str) -> list[int]:
            _, results, _ = answerer.retrieve(question, None)  # type: ignore[arg-type]
            messages, _ = answerer.build_messages(model, question, results)
            return llm.tokenize(model.format_chat(messages).encode(), add_bos=False, special=True)

        tokens = prompt_tokens(questions[0]["question"])
        llm.reset()
        started = time.perf_counter()
        llm.eval(tokens)
        bare_pp = len(tokens) / (time.perf_counter() - started)
        llm.reset()

        def bare_generation(question: str, max_tokens: int) -> float | None:
            """The plain streaming loop on the question's own prompt (cached from the
            answer just given), for as many tokens as the answer had: each new token
            attends to the whole context, so only the same context and length make a
            fair pair. Run right after the answer, so that both see the same load."""
            count, first = 0, 0.0
            for _ in llm.create_completion(
                prompt_tokens(question), max_tokens=max(max_tokens, 16), stream=True, temperature=0.1
            ):
                count += 1
                if count == 1:
                    first = time.perf_counter()
            return round((count - 1) / (time.perf_counter() - first), 1) if count > 1 else None

        rows = []
        for q in questions:
            answer = app.ask(q["question"], save=False)
            s = answer.stats
            assert s is not None
            bound = 1.2 * s.prompt_tokens_evaluated / bare_pp + s.retrieval_s
            rows.append(
                {
                    "question": q["id"],
                    "prompt_tokens": s.prompt_tokens,
                    "prompt_tokens_evaluated": s.prompt_tokens_evaluated,
                    "retrieval_s": round(s.retrieval_s, 3),
                    "ttft_s": round(s.time_to_first_token_s + s.retrieval_s, 3),
                    "ttft_bound_s": round(bound, 3),
                    "within_bound": s.time_to_first_token_s + s.retrieval_s <= bound,
                    "generated_tokens": s.generated_tokens,
                    "generation_tok_s": round(s.generation_tokens_per_s, 1),
                    # the next answer's prompt shares only the system prompt with this
                    # one either way, so this leaves its cached prefix as it was
                    "bare_generation_tok_s": bare_generation(q["question"], s.generated_tokens),
                }
            )
        app.close()
    paired = [r for r in rows if r["generated_tokens"] > 8 and r["bare_generation_tok_s"]]
    gen = [r["generation_tok_s"] for r in paired]
    ratios = [r["generation_tok_s"] / r["bare_generation_tok_s"] for r in paired]
    result = {
        "model": model_path.name,
        "bare_prompt_tok_s": round(bare_pp, 1),
        "bare_generation_tok_s": round(statistics.median(r["bare_generation_tok_s"] for r in paired), 1)
        if paired
        else None,
        "satchel_generation_tok_s_median": round(statistics.median(gen), 1) if gen else None,
        # the median of each question's Satchel / bare ratio (same prompt, same length)
        "generation_ratio": round(statistics.median(ratios), 3) if ratios else None,
        "ttft_within_bound": f"{sum(r['within_bound'] for r in rows)}/{len(rows)}",
        "prefix_cache_tokens_saved_median": statistics.median(
            r["prompt_tokens"] - r["prompt_tokens_evaluated"] for r in rows
        ),
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            if key != "rows":
                print(f"{key:34} {value}")
        for r in rows:
            print(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
