"""RAG latency against a bare llama-cpp-python loop, in one run, on one model.

1. Bare llama-cpp-python: prompt-processing speed (eval of a fresh prompt) and
   generation speed (a plain streaming completion loop) of the default model.
2. Satchel: questions from data/questions.jsonl answered on a store built from
   data/sample/, with the same loaded model. For each: time to first token against
   the bound 1.2 × (prompt tokens evaluated ÷ bare prompt speed) + retrieval time,
   and generation speed against the bare loop's.

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

    from assistant.core import Satchel
    from assistant.embed import force_offline
    from assistant.llm import ensure_default_model
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

        # bare llama-cpp-python: prompt speed on a realistic prompt, generation loop
        answerer = app.answerer()
        _, results, _ = answerer.retrieve(questions[0]["question"], None)  # type: ignore[arg-type]
        messages, _ = answerer.build_messages(model, questions[0]["question"], results)
        tokens = llm.tokenize(model.format_chat(messages).encode(), add_bos=False, special=True)
        llm.reset()
        started = time.perf_counter()
        llm.eval(tokens)
        bare_pp = len(tokens) / (time.perf_counter() - started)
        llm.reset()
        count, first, started = 0, 0.0, time.perf_counter()
        for _ in llm.create_completion(
            "Write a long story about a lighthouse keeper.", max_tokens=160, stream=True, temperature=0.1
        ):
            count += 1
            if count == 1:
                first = time.perf_counter()
        bare_gen = (count - 1) / (time.perf_counter() - first)

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
                }
            )
        app.close()
    gen = [r["generation_tok_s"] for r in rows if r["generated_tokens"] > 8]
    result = {
        "model": model_path.name,
        "bare_prompt_tok_s": round(bare_pp, 1),
        "bare_generation_tok_s": round(bare_gen, 1),
        "satchel_generation_tok_s_median": round(statistics.median(gen), 1) if gen else None,
        "generation_ratio": round(statistics.median(gen) / bare_gen, 3) if gen else None,
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
