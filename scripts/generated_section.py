"""The part the doc generators share: a generated section between two marker comments
of a Markdown file, rewritten in place or checked for drift (``--check``, which the
tests run). Used by scripts/gen_config_docs.py and scripts/gen_cli_docs.py."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

DOC_LINK = re.compile(r"docs/([\w.-]+\.md)(#[\w-]+)?")


def doc_links(text: str) -> str:
    """``docs/NAME.md#anchor`` in a help text or comment as a link between the docs."""
    return DOC_LINK.sub(lambda m: f"[{m.group(1)}]({m.group(1)}{m.group(2) or ''})", text)


def replaced(doc: str, begin: str, end: str, section: str, where: Path) -> str:
    """``doc`` with the text from ``begin`` to ``end`` (markers included) replaced by
    ``section``, which must start with ``begin`` and end with ``end``."""
    start, stop = doc.find(begin), doc.find(end)
    if start < 0 or stop < start:
        raise SystemExit(f"{where}: the marker comments of the generated section are missing:\n{begin}\n{end}")
    return doc[:start] + section + doc[stop + len(end) :]


def run(
    argv: list[str] | None,
    *,
    description: str,
    doc_path: Path,
    repo: Path,
    update: Callable[[str], str],
    script: Path,
) -> int:
    """The command line of a generator: rewrite ``doc_path`` with ``update``, or with
    ``--check`` exit 1 when it is out of date."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help=f"exit 1 if {doc_path.name} is out of date")
    args = parser.parse_args(argv)
    doc = doc_path.read_text(encoding="utf-8")
    new = update(doc)
    shown = doc_path.relative_to(repo)
    if args.check:
        if new != doc:
            print(f"{shown} is out of date: run {script.relative_to(repo)}", file=sys.stderr)
            return 1
        return 0
    if new != doc:
        doc_path.write_text(new, encoding="utf-8")
        print(f"wrote {shown}")
    return 0
