"""Generate large chat exports from the real samples, for ingest benchmarks.

Writes, into the folder given on the command line:

* ``telegram/result.json``: a Telegram Desktop single-chat export with
  ``--telegram-messages`` messages (default 20,000): strings and entity lists as
  ``text``, replies, and a service message now and then;
* ``WhatsApp Chat with Big Family.txt``: an Android-layout WhatsApp export of exactly
  ``--whatsapp-lines`` lines (default 100,000), multi-line messages and system lines
  included.

The message texts and authors are those of the public samples in
``shared/corpora/chat`` (whatstk, chat-miner, whatsapp-chat-parser), parsed with
Satchel's own connectors, repeated and shifted forward in time. The output is
deterministic for a given ``--seed``. ``--needle`` adds one known message in the
middle of both exports, so that a question about it has exactly one answer.

    python scripts/make_big_chats.py /tmp/bigchats
    python scripts/make_big_chats.py /tmp/small --telegram-messages 200 --whatsapp-lines 500
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "chat"
START = datetime(2019, 1, 1, 8, 0)
NEEDLE_AUTHOR = "Ada Lovelace"


def sample_messages(corpus: Path) -> list[tuple[str, str]]:
    """(author, text) of every authored message in the WhatsApp samples."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from connectors.chat.common import decode_bytes
    from connectors.chat.whatsapp import parse_whatsapp_text

    pool: list[tuple[str, str]] = []
    files = sorted(corpus.glob("whatstk/chats/whatsapp/*.txt"))
    files += sorted(corpus.glob("chat-miner/test/whatsapp/*.txt"))
    files += sorted(corpus.glob("whatsapp-chat-parser/samples/*.txt"))
    for path in files:
        raw = path.read_bytes()
        if not raw.strip():
            continue
        messages, _ = parse_whatsapp_text(decode_bytes(raw), str(path))
        pool.extend((m.author, m.text) for m in messages if m.author and m.text)
    if not pool:
        raise SystemExit(f"no sample messages found under {corpus}")
    return pool


def write_whatsapp(
    path: Path,
    lines_wanted: int,
    pool: list[tuple[str, str]],
    rng: random.Random,
    needle: str | None,
) -> int:
    """Write exactly ``lines_wanted`` lines; returns the number of messages."""
    moment = START
    out: list[str] = []
    count = 0
    needle_at = lines_wanted // 2 if needle else -1
    index = 0
    while len(out) < lines_wanted:
        moment += timedelta(minutes=rng.randint(1, 180))
        stamp = moment.strftime("%d/%m/%Y, %H:%M")
        if needle_at >= 0 and len(out) >= needle_at:
            body_lines = [f"{stamp} - {NEEDLE_AUTHOR}: {needle}"]
            needle_at = -1
        elif count % 500 == 499:
            body_lines = [f"{stamp} - {pool[index % len(pool)][0]} added Big Family Bot"]
        else:
            author, text = pool[index % len(pool)]
            index += 1
            parts = text.split("\n")
            body_lines = [f"{stamp} - {author}: {parts[0]}", *parts[1:]]
        out.extend(body_lines[: lines_wanted - len(out)])
        count += 1
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return count


def write_telegram(
    path: Path,
    messages_wanted: int,
    pool: list[tuple[str, str]],
    rng: random.Random,
    needle: str | None,
) -> int:
    moment = START
    messages: list[dict[str, object]] = []
    authors = sorted({a for a, _ in pool})
    ids = {a: f"user{1000 + i}" for i, a in enumerate(authors)}
    for number in range(1, messages_wanted + 1):
        moment += timedelta(minutes=rng.randint(1, 120))
        when = moment.replace(tzinfo=UTC)
        base: dict[str, object] = {
            "id": number,
            "date": moment.strftime("%Y-%m-%dT%H:%M:%S"),
            "date_unixtime": str(int(when.timestamp())),
        }
        author, text = pool[(number * 7) % len(pool)]
        if needle and number == messages_wanted // 2:
            base.update(type="message", **{"from": NEEDLE_AUTHOR}, from_id="user1", text=needle)
        elif number % 1000 == 0:
            base.update(
                type="service",
                actor=author,
                actor_id=ids[author],
                action="invite_members",
                members=[rng.choice(authors)],
                text="",
            )
        else:
            base.update(type="message", **{"from": author}, from_id=ids[author])
            if number % 3 == 0 and " " in text:
                head, _, tail = text.partition(" ")
                base["text"] = [{"type": "bold", "text": head}, " " + tail]
            else:
                base["text"] = text
            if number % 50 == 0 and number > 1:
                base["reply_to_message_id"] = rng.randint(max(1, number - 40), number - 1)
        messages.append(base)
    export = {
        "name": "Big Group",
        "type": "private_supergroup",
        "id": 4200000001,
        "messages": messages,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(messages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the exports into")
    parser.add_argument("--telegram-messages", type=int, default=20_000)
    parser.add_argument("--whatsapp-lines", type=int, default=100_000)
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="the shared chat samples (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--needle", default=None, help="one known message to place in the middle of both exports")
    args = parser.parse_args(argv)
    if args.telegram_messages < 1 or args.whatsapp_lines < 1:
        parser.error("sizes must be positive")
    if not args.corpus.is_dir():
        parser.error(f"sample corpus not found: {args.corpus}")
    pool = sample_messages(args.corpus)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    wa_path = args.out / "WhatsApp Chat with Big Family.txt"
    wa_count = write_whatsapp(wa_path, args.whatsapp_lines, pool, rng, args.needle)
    tg_path = args.out / "telegram" / "result.json"
    tg_count = write_telegram(tg_path, args.telegram_messages, pool, rng, args.needle)
    print(f"{wa_path}: {args.whatsapp_lines} lines, {wa_count} messages")
    print(f"{tg_path}: {tg_count} messages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
