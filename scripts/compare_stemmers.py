"""BM25 on SciFact's chunks with FTS5's porter tokenizer and with the keyword index's
stemmed forms (assistant/language/keywords.py), side by side.

Every SciFact document goes through the real chunker; the chunks' languages come
from ``chunk_languages``; SciFact's train queries go through ``fts_terms`` and, for
the stemmed index, ``match_expression``. nDCG@10 over documents (a document's best
chunk), as `satchel eval beir` scores. No embedding, so it runs in a minute.

    .venv/bin/python scripts/compare_stemmers.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SCIFACT = REPO.parent / "shared" / "corpora" / "retrieval" / "scifact"


def main() -> int:
    from assistant.backends.embedder import bundled_model_dir, load_tokenizer
    from assistant.evaluation.beir import load_qrels, load_queries, ndcg_at
    from assistant.ingest.chunking import ChunkingOptions, chunk_document
    from assistant.language import keywords as keyword_index
    from assistant.retrieval.terms import fts_terms
    from connectors.beir import BeirCorpusConnector

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=SCIFACT)
    args = parser.parse_args()
    tokenizer = load_tokenizer(bundled_model_dir())
    chunks: list[tuple[str, str, str, str]] = []  # document key, text, title, language
    for doc in BeirCorpusConnector().iter_documents(args.corpus / "corpus.jsonl"):
        if not hasattr(doc, "key"):
            continue
        texts = [c.record.text for c in chunk_document(doc, tokenizer, ChunkingOptions())]
        for text, language in zip(texts, keyword_index.chunk_languages(texts), strict=True):
            chunks.append((doc.key, text, doc.title or "", language))
    languages = Counter(c[3] for c in chunks)
    queries = load_queries(args.corpus / "queries.jsonl")
    qrels = load_qrels(args.corpus / "qrels" / "train.tsv")

    def score(stemmed: bool) -> float:
        conn = sqlite3.connect(":memory:")
        tokenize = "unicode61 remove_diacritics 2" if stemmed else "porter unicode61 remove_diacritics 2"
        conn.execute(f"CREATE VIRTUAL TABLE f USING fts5(text, title, persons, tokenize='{tokenize}')")
        for rowid, (_, text, title, language) in enumerate(chunks):
            if stemmed:
                text, title = keyword_index.search_form(text, language), keyword_index.search_form(title, language)
            conn.execute("INSERT INTO f(rowid, text, title, persons) VALUES (?, ?, ?, '')", (rowid, text, title))
        held = sorted(set(languages) - {keyword_index.UNSTEMMED})
        total = 0.0
        for qid, relevant in qrels.items():
            terms = fts_terms(queries[qid])
            if stemmed:
                terms = [keyword_index.match_expression(t, held) for t in terms]
            rows = conn.execute(
                "SELECT rowid FROM f WHERE f MATCH ? ORDER BY bm25(f, 1.0, 2.0, 0.5) LIMIT 100",
                (" OR ".join(terms),),
            ).fetchall()
            ranking = list(dict.fromkeys(chunks[r[0]][0] for r in rows))
            total += ndcg_at(ranking, relevant, 10)
        return round(total / len(qrels), 4)

    result = {
        "chunks": len(chunks),
        "languages": dict(languages.most_common()),
        "bm25_ndcg@10_fts5_porter": score(False),
        "bm25_ndcg@10_keyword_index": score(True),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
