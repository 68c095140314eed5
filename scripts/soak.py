"""Soak and fault test of the live paths: `satchel watch` under file churn, readers
searching (and asking) all the while, the TUI's sync once, the watcher SIGKILLed and
restarted at random points. At the end, after one quiet period, the store must equal
the disk exactly.

    .venv/bin/python scripts/soak.py                      # 1,000+ events, 3 readers, 5 kills
    .venv/bin/python scripts/soak.py --events 200 --kills 1 --readers 2 --json out.json

What it reports (docs/benchmarks.md records a run): file events and events per
second, sync lag from a file event to the text being findable (p50/p95, measured on
probe files that nothing else touches), reader operations and errors, watcher kills,
and the final comparison (lost, stale, duplicated, mismatched counts). Exit status 0
only when nothing was lost, nothing stale or duplicated is left, and no reader erred.

Everything runs on this machine in a temporary folder; nothing reaches the network.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SATCHEL = [sys.executable, "-m", "assistant.cli"]
FOLDERS = ("mail", "chats", "notes", "archive")
WORDS = (
    "orchard ferry budget invoice harbour lantern meadow cabin glacier quarry violin "
    "pepper saffron marble tunnel compass lighthouse parcel ledger falcon garden"
).split()
TOKEN = re.compile(r"soaktok\d{6}x")
PEOPLE = ("Anna Keller", "Marco Bianchi", "Priya Natarajan", "Jonas Weber", "Lea Dubois")


# --- files of three kinds ---------------------------------------------------------------
class Files:
    """Makes email, chat and document files; every one carries a unique token word, so
    that the final check can find each live file by keyword search."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counter = 0

    def token(self) -> str:
        self.counter += 1
        return f"soaktok{self.counter:06d}x"

    def sentence(self) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(6, 14))).capitalize() + "."

    def body(self, token: str) -> str:
        lines = [self.sentence() for _ in range(self.rng.randint(1, 4))]
        lines.insert(self.rng.randrange(len(lines) + 1), f"The reference word is {token}.")
        return " ".join(lines)

    def email(self, token: str) -> str:
        sender, to = self.rng.sample(PEOPLE, 2)
        day = self.rng.randint(1, 28)
        return (
            f"From: {sender} <{sender.split()[0].lower()}@example.org>\n"
            f"To: {to} <{to.split()[0].lower()}@example.org>\n"
            f"Subject: {self.rng.choice(WORDS)} {token}\n"
            f"Date: Tue, {day:02d} Mar 2026 10:{day:02d}:00 +0000\n"
            f"Message-ID: <{token}@soak.example>\n"
            "Content-Type: text/plain; charset=utf-8\n\n"
            f"{self.body(token)}\n"
        )

    def chat(self, token: str) -> str:
        lines = []
        minute = 0
        for i in range(self.rng.randint(3, 8)):
            who = self.rng.choice(PEOPLE[:3])
            minute += self.rng.randint(1, 9)
            text = f"about {token}" if i == 0 else self.sentence()
            lines.append(f"14/03/2026, {10 + minute // 60:02d}:{minute % 60:02d} - {who}: {text}")
        return "\n".join(lines) + "\n"

    def note(self, token: str) -> str:
        return f"# {self.rng.choice(WORDS).capitalize()} {token}\n\n{self.body(token)}\n"

    def make(self, token: str) -> tuple[str, str]:
        """(suffix, content) of a new file of a random kind."""
        kind = self.rng.choice(("email", "chat", "note", "note"))
        if kind == "email":
            return ".eml", self.email(token)
        if kind == "chat":
            return ".txt", self.chat(token)
        return ".md", self.note(token)


# --- the reader processes ----------------------------------------------------------------
def reader_main(args: argparse.Namespace) -> int:
    """One reader: the TUI's way (one Satchel object, many searches, answers with
    --ask-every) or the CLI's way (a `satchel search --json` process each time, the
    case of issue 15). Writes its counts to --out."""
    ops = errors = 0
    messages: list[str] = []
    deadline = time.monotonic() + args.seconds
    stop_file = Path(args.stop_file)
    rng = random.Random(args.seed)
    if args.style == "cli":
        env = dict(os.environ, SATCHEL_HOME=args.home, HF_HUB_OFFLINE="1")
        while time.monotonic() < deadline and not stop_file.exists():
            query = f"{rng.choice(WORDS)} {rng.choice(WORDS)}"
            proc = subprocess.run(
                [*SATCHEL, "search", query, "--json"], cwd=REPO, env=env, capture_output=True, text=True
            )
            ops += 1
            if proc.returncode != 0:
                errors += 1
                messages.append(proc.stderr.strip()[-300:])
            else:
                json.loads(proc.stdout)
    else:
        from assistant.core import Satchel
        from assistant.settings import load_settings

        app = Satchel(load_settings({"home": args.home}))
        synced = False
        while time.monotonic() < deadline and not stop_file.exists():
            query = f"{rng.choice(WORDS)} {rng.choice(WORDS)}"
            try:
                if args.tui_sync and not synced and ops >= 5:
                    # the TUI's sync: the same call its sync worker makes (assistant/tui/app.py)
                    app.sync(wait=True)  # waits for the watcher's sync to finish
                    synced = True
                elif args.ask_every and ops % args.ask_every == args.ask_every - 1:
                    app.ask(f"What is said about the {rng.choice(WORDS)}?", save=False)
                else:
                    app.search(query, k=5)
                ops += 1
            except Exception as exc:  # any failure of a reader counts
                errors += 1
                messages.append(repr(exc)[:300])
            time.sleep(0.25)  # a person at the TUI, not a benchmark loop
        app.close()
    Path(args.out).write_text(json.dumps({"ops": ops, "errors": errors, "messages": messages[:20]}))
    return 0


# --- the churn ---------------------------------------------------------------------------
class Churn:
    """File events of every kind on the source folder; returns how many it made."""

    def __init__(self, root: Path, rng: random.Random, files: Files) -> None:
        self.root = root
        self.rng = rng
        self.files = files
        self.events = 0

    def live(self) -> list[Path]:
        return [p for f in FOLDERS for p in (self.root / f).rglob("*") if p.is_file()]

    def create(self, folder: Path | None = None) -> Path:
        folder = folder or self.root / self.rng.choice(FOLDERS)
        token = self.files.token()
        suffix, content = self.files.make(token)
        path = folder / f"{token}{suffix}"
        path.write_text(content, encoding="utf-8")
        self.events += 1
        return path

    def step(self) -> None:
        live = self.live()
        action = self.rng.choices(
            ("create", "modify", "rename", "move", "delete", "save_by_rename", "copy_folder"),
            weights=(30, 20, 10, 10, 12, 15, 3),
        )[0]
        if action == "create" or len(live) < 5:
            self.create()
            return
        path = self.rng.choice(live)
        if action == "modify":
            # rewritten whole with a new token, keeping its kind
            token = self.files.token()
            _, content = self.files.make(token)
            if path.suffix == ".eml":
                content = self.files.email(token)
            elif path.suffix == ".txt":
                content = self.files.chat(token)
            else:
                content = self.files.note(token)
            path.write_text(content, encoding="utf-8")
        elif action == "rename":
            path.rename(path.with_name(f"r{self.rng.randint(0, 10**6)}-{path.name}"))
        elif action == "move":
            target = self.root / self.rng.choice(FOLDERS)
            if target != path.parent:
                path.rename(target / path.name)
        elif action == "delete":
            path.unlink()
        elif action == "save_by_rename":
            # what editors do: write a temporary file beside it, then rename it over
            text = path.read_text(encoding="utf-8")
            tmp = path.with_name(f".{path.name}.swp")
            tmp.write_text(text + f"\nEdited, see {self.files.token()}.\n", encoding="utf-8")
            os.replace(tmp, path)
            self.events += 1  # the temporary file's own events
        elif action == "copy_folder":
            # a folder copied in at once: built elsewhere, then moved in with its files
            staging = self.root.parent / f"staging-{self.files.counter}"
            staging.mkdir()
            for _ in range(self.rng.randint(4, 10)):
                self.create(staging)
            target = self.root / "archive" / staging.name
            shutil.move(str(staging), str(target))
            return
        self.events += 1


# --- lag probes --------------------------------------------------------------------------
class Probes:
    """Files in probes/ that nothing else touches: each is written with a new token, and
    the time until keyword search finds it is the sync lag."""

    def __init__(self, root: Path, db: Path, files: Files) -> None:
        self.folder = root / "probes"
        self.folder.mkdir(exist_ok=True)
        self.db = db
        self.files = files
        self.pending: dict[str, float] = {}
        self.lags: list[float] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def write(self, n: int) -> None:
        token = self.files.token()
        path = self.folder / f"probe{n % 20}.md"
        with self.lock:
            path.write_text(self.files.note(token), encoding="utf-8")
            self.pending[token] = time.monotonic()

    def _found(self, conn: sqlite3.Connection, token: str) -> bool:
        row = conn.execute("SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT 1", (token,)).fetchone()
        return row is not None

    def _poll(self) -> None:
        while not self.stop.is_set():
            time.sleep(0.1)
            with self.lock:
                pending = dict(self.pending)
            if not pending or not self.db.exists():
                continue
            try:
                conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
                try:
                    found = [t for t in pending if self._found(conn, t)]
                finally:
                    conn.close()
            except sqlite3.Error:
                continue
            now = time.monotonic()
            with self.lock:
                for token in found:
                    self.lags.append(now - self.pending.pop(token))

    def superseded(self) -> int:
        """Probes overwritten before they were seen (their token is gone from disk)."""
        texts = " ".join(p.read_text(encoding="utf-8") for p in self.folder.glob("*.md"))
        with self.lock:
            gone = [t for t in self.pending if t not in texts]
            for token in gone:
                del self.pending[token]
        return len(gone)


# --- the final comparison ----------------------------------------------------------------
def compare(home: Path, source: Path) -> dict[str, Any]:
    """The store against the disk: every live file's documents present with the disk's
    content and findable by its token; nothing of deleted files; FTS, chunks, vectors
    and FAISS ids the same set."""
    import faiss
    import numpy as np

    from assistant.ingest.walk import walk_source
    from assistant.settings import load_settings
    from assistant.store.repository import Store
    from connectors.base import ItemError, to_utc

    settings = load_settings({"home": str(home)})
    store = Store(settings.db_path)
    walk = walk_source(1, source, None, settings.exclude)
    on_disk: dict[str, dict[str, str]] = {}
    for unit in walk.units:
        docs = {}
        for item in unit.connector.iter_documents(unit.path):
            if isinstance(item, ItemError):
                continue
            item.timestamp = to_utc(item.timestamp)
            docs[item.key] = item.content_hash()
        on_disk[str(unit.path)] = docs
    stored: dict[str, dict[str, str]] = {}
    for row in store.query(
        "SELECT u.path, d.key, d.content_hash FROM units u LEFT JOIN documents d ON d.unit_id = u.id"
    ):
        docs = stored.setdefault(row["path"], {})
        if row["key"] is not None:
            docs[row["key"]] = row["content_hash"]
    lost = sorted(path for path in on_disk if path not in stored)
    stale = sorted(path for path in stored if path not in on_disk)
    mismatched = sorted(path for path in on_disk if path in stored and stored[path] != on_disk[path])
    duplicated = int(
        store.scalar("SELECT count(*) FROM (SELECT unit_id, key FROM documents GROUP BY 1, 2 HAVING count(*) > 1)") or 0
    )
    # findable: each live file's token by keyword search
    unfindable = []
    for path in on_disk:
        # every token in the file's text now, by keyword search, in this file's chunks
        for token in set(TOKEN.findall(Path(path).read_text(encoding="utf-8", errors="replace"))):
            hit = store.scalar(
                "SELECT count(*) FROM chunks_fts f JOIN chunks c ON c.id = f.rowid "
                "JOIN documents d ON d.id = c.document_id JOIN units u ON u.id = d.unit_id "
                "WHERE chunks_fts MATCH ? AND u.path = ?",
                (token, path),
            )
            if not hit:
                unfindable.append(f"{path} ({token})")
                break
    chunks = {int(r[0]) for r in store.query("SELECT id FROM chunks")}
    vectors = {int(r[0]) for r in store.query("SELECT chunk_id FROM vectors")}
    fts_ok = True
    try:
        with store.transaction():
            store.conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
    except Exception:
        fts_ok = False
    fts_rows = {int(r[0]) for r in store.query("SELECT rowid FROM chunks_fts")}
    from assistant.store.vector_index import VectorIndex

    index = VectorIndex(settings.index_path, 384)
    index.open(store)
    faiss_ids = set(faiss.vector_to_array(index.index.id_map).astype(np.int64).tolist()) if index.size else set()
    saved = index._load_file()
    file_ids = set(faiss.vector_to_array(saved[0].id_map).tolist()) if saved and saved[0].ntotal else set()
    store.close()
    return {
        "live_files": len(on_disk),
        "live_documents": sum(len(d) for d in on_disk.values()),
        "lost": len(lost),
        "lost_paths": lost[:10],
        "stale": len(stale),
        "stale_paths": stale[:10],
        "mismatched": len(mismatched),
        "mismatched_paths": mismatched[:10],
        "duplicated": duplicated,
        "unfindable": len(unfindable),
        "unfindable_paths": unfindable[:10],
        "chunks": len(chunks),
        "fts_integrity": fts_ok,
        "fts_equals_chunks": fts_rows == chunks,
        "vectors_equal_chunks": vectors == chunks,
        "faiss_ids_equal_chunks": faiss_ids == chunks,
        "faiss_file_equals_chunks": file_ids == chunks,
    }


def consistent(result: dict[str, Any]) -> bool:
    return (
        result["lost"] == 0
        and result["stale"] == 0
        and result["mismatched"] == 0
        and result["duplicated"] == 0
        and result["unfindable"] == 0
        and result["fts_integrity"]
        and result["fts_equals_chunks"]
        and result["vectors_equal_chunks"]
        and result["faiss_ids_equal_chunks"]
        and result["faiss_file_equals_chunks"]
    )


# --- the run -----------------------------------------------------------------------------
def percentile_or_none(values: list[float], q: float) -> float | None:
    from assistant.evaluation.beir import percentile

    return round(percentile(values, q), 3) if values else None


def start_watcher(home: Path, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, SATCHEL_HOME=str(home), HF_HUB_OFFLINE="1")
    handle = open(log, "ab")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen([*SATCHEL, "watch", "--debounce", "0.3"], cwd=REPO, env=env, stdout=handle, stderr=handle)


def wait_ready(log: Path, seen: int, timeout: float) -> None:
    """Until the watcher has said it is ready for the ``seen+1``-th time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and log.read_text(errors="replace").count("ready: watching") > seen:
            return
        time.sleep(0.2)
    raise SystemExit(f"the watcher did not get ready within {timeout:.0f}s; see {log}")


def wait_caught_up(home: Path, source: Path, timeout: float) -> tuple[dict[str, Any], float]:
    """Poll until the store equals the disk (or the time is up): the quiet period."""
    started = time.monotonic()
    result = compare(home, source)
    while not consistent(result) and time.monotonic() - started < timeout:
        time.sleep(2)
        result = compare(home, source)
    return result, time.monotonic() - started


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="satchel-soak-"))
    home, source = work / "home", work / "source"
    for folder in FOLDERS:
        (source / folder).mkdir(parents=True, exist_ok=True)
    files = Files(rng)
    churn = Churn(source, rng, files)
    for _ in range(args.seed_files):
        churn.create()
    churn.events = 0
    env = dict(os.environ, SATCHEL_HOME=str(home), HF_HUB_OFFLINE="1")
    subprocess.run([*SATCHEL, "add", str(source)], cwd=REPO, env=env, check=True, capture_output=True)
    subprocess.run([*SATCHEL, "index", "--quiet"], cwd=REPO, env=env, check=True, capture_output=True)
    db = home / "satchel.db"
    log = work / "watch.log"
    watcher = start_watcher(home, log)
    wait_ready(log, 0, args.warmup)

    stop_file = work / "stop-readers"
    readers = []
    for n in range(args.readers):
        style = "cli" if n % 2 == 0 else "app"
        out = work / f"reader{n}.json"
        cmd = [
            sys.executable, __file__, "--role", "reader", "--style", style, "--home", str(home),
            "--out", str(out), "--stop-file", str(stop_file), "--seconds", "3600", "--seed", str(args.seed + n),
        ]  # fmt: skip
        if style == "app" and n == 1:
            cmd.append("--tui-sync")
        if style == "app" and args.ask_every:
            cmd += ["--ask-every", str(args.ask_every)]
        readers.append((subprocess.Popen(cmd, cwd=REPO, env=env), out))

    probes = Probes(source, db, files)
    probes.thread.start()
    kill_at = sorted(rng.sample(range(args.events // 10, args.events), args.kills)) if args.kills else []
    kills = 0
    started = time.monotonic()
    step = 0
    while churn.events < args.events:
        churn.step()
        step += 1
        if step % 10 == 0:
            probes.write(step // 10)
        if kill_at and churn.events >= kill_at[0]:
            kill_at.pop(0)
            watcher.send_signal(signal.SIGKILL)
            watcher.wait()
            kills += 1
            # files go on changing while it is down; the restarted one catches up
            for _ in range(rng.randint(3, 12)):
                churn.step()
            time.sleep(rng.uniform(0.5, 2.0))
            watcher = start_watcher(home, log)
        time.sleep(rng.uniform(0.0, args.pause * 2))
    churn_seconds = time.monotonic() - started

    result, quiet = wait_caught_up(home, source, args.quiet_timeout)
    probes.stop.set()
    probes.thread.join()
    stop_file.touch()
    reader_stats = []
    for proc, out in readers:
        proc.wait(timeout=120)
        missing = {"ops": 0, "errors": 1, "messages": ["the reader wrote no report"]}
        reader_stats.append(json.loads(out.read_text()) if out.exists() else missing)
    watcher.terminate()
    try:
        watcher.wait(timeout=30)
    except subprocess.TimeoutExpired:
        watcher.kill()
    # the watcher is gone: compare once more with nothing running
    final = compare(home, source)
    superseded = probes.superseded()
    summary = {
        "events": churn.events,
        "churn_seconds": round(churn_seconds, 1),
        "events_per_second": round(churn.events / churn_seconds, 1),
        "probes_seen": len(probes.lags),
        "probes_superseded": superseded,
        "probes_never_seen": len(probes.pending),
        "lag_p50_s": percentile_or_none(probes.lags, 0.5),
        "lag_p95_s": percentile_or_none(probes.lags, 0.95),
        "lag_mean_s": round(statistics.fmean(probes.lags), 3) if probes.lags else None,
        "quiet_period_s": round(quiet, 1),
        "watcher_kills": kills,
        "readers": len(readers),
        "reader_ops": sum(r["ops"] for r in reader_stats),
        "reader_errors": sum(r["errors"] for r in reader_stats),
        "reader_messages": [m for r in reader_stats for m in r.get("messages", [])][:10],
        "store": final,
        "ok": consistent(final) and sum(r["errors"] for r in reader_stats) == 0,
        "workdir": str(work),
    }
    if summary["ok"] and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--role", choices=("run", "reader"), default="run")
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--readers", type=int, default=3)
    parser.add_argument("--kills", type=int, default=5, help="SIGKILL the watcher this many times")
    parser.add_argument("--ask-every", type=int, default=0, help="an app reader asks every Nth operation")
    parser.add_argument("--seed-files", type=int, default=40)
    parser.add_argument("--pause", type=float, default=0.03, help="mean pause between events, seconds")
    parser.add_argument("--warmup", type=float, default=120.0, help="seconds to wait for the watcher to be ready")
    parser.add_argument("--quiet-timeout", type=float, default=240.0)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--workdir")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--json", help="write the summary here too")
    # reader role
    parser.add_argument("--style", choices=("cli", "app"), default="app")
    parser.add_argument("--home")
    parser.add_argument("--out")
    parser.add_argument("--stop-file")
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--tui-sync", action="store_true")
    args = parser.parse_args(argv)
    if args.role == "reader":
        return reader_main(args)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    summary = run(args)
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
