"""A BEIR-format corpus (``corpus.jsonl``): one document per line. Used by
``satchel eval beir``; never claimed automatically (add with ``--kind beir``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from connectors.base import Connector, Document, ItemError
from connectors.kinds import KIND_FILE


class BeirCorpusConnector(Connector):
    name = "beir"
    kind = KIND_FILE
    description = "BEIR corpus.jsonl (retrieval evaluation)"

    def claims(self, path: Path) -> bool:
        return False

    def iter_documents(self, path: Path) -> Iterator[Document | ItemError]:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    key = str(row["_id"])
                except (ValueError, KeyError) as exc:
                    yield ItemError(str(path), f"line {number}: {exc}", str(number))
                    continue
                title = str(row.get("title") or "")
                body = str(row.get("text") or "")
                # title and text together, as BEIR evaluations embed them
                text = f"{title}\n\n{body}" if title else body
                yield Document(key=key, kind=self.kind, title=title or key, text=text, metadata={"beir_id": key})
