"""Email connectors against the real corpus (../shared/corpora/email) and small fixtures.

The corpus test dispatches files the way the indexer does (first claiming connector,
Maildirs as whole folders), consumes every document and asserts that nothing escapes
and that only genuinely unreadable messages are reported.
"""

from __future__ import annotations

import bz2
import email
import gzip
import io
import mailbox
import shutil
import subprocess
import sys
import time
import zipfile
from collections import Counter
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest

from connectors.base import Connector, Document, ItemError, to_utc
from connectors.email import EmlConnector, MaildirConnector, MboxConnector, OutlookMsgConnector
from connectors.email.eml import parse_eml_bytes, parse_eml_file
from connectors.email.maildir import message_key, parse_flags
from connectors.email.mbox import split_mbox
from connectors.email.quotes import strip_quotes
from connectors.email.sniff import MAILDIR_INFO
from connectors.email.threads import normalize_subject, parse_id_list

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpora" / "email"
FIXTURES = Path(__file__).parent / "fixtures" / "email"
CPYTHON = CORPUS / "cpython-2.7.3-email-testdata" / "Lib" / "email" / "test" / "data"
NOTMUCH = CORPUS / "notmuch-corpora" / "test" / "corpora"
REPO = Path(__file__).parents[1]


def email_connectors() -> list[Connector]:
    found: list[Connector] = [
        MboxConnector(),
        MaildirConnector(),
        EmlConnector(),
        OutlookMsgConnector(),
    ]
    return sorted(found, key=lambda c: (-c.priority, c.name))


def dispatch(root: Path) -> tuple[list[tuple[Connector, Path]], list[Path]]:
    """(connector, unit) pairs for a tree, as the indexer walks it; and unclaimed files."""
    connectors = email_connectors()
    units: list[tuple[Connector, Path]] = []
    unclaimed: list[Path] = []

    def walk(directory: Path) -> None:
        for connector in connectors:
            if connector.claims_directories and connector.claims(directory):
                units.append((connector, directory))
                return
        for path in sorted(directory.iterdir()):
            if path.is_dir():
                walk(path)
                continue
            for connector in connectors:
                if not connector.claims_directories and connector.claims(path):
                    units.append((connector, path))
                    break
            else:
                unclaimed.append(path)

    walk(root)
    return units, unclaimed


def documents(connector: Connector, path: Path) -> tuple[list[Document], list[ItemError]]:
    docs: list[Document] = []
    errors: list[ItemError] = []
    for item in connector.iter_documents(path):
        (errors if isinstance(item, ItemError) else docs).append(item)  # type: ignore[arg-type]
    return docs, errors


def fixture_docs(name: str) -> list[Document]:
    path = FIXTURES / name
    connector = next(c for c in email_connectors() if c.claims(path))
    docs, errors = documents(connector, path)
    assert not errors, errors
    return docs


@pytest.fixture(scope="module")
def corpus() -> Path:
    assert CORPUS.is_dir(), f"the email corpus is missing: {CORPUS}"
    return CORPUS


@pytest.fixture(scope="module")
def corpus_run(corpus: Path) -> dict[str, object]:
    units, unclaimed = dispatch(corpus)
    per_connector: Counter[str] = Counter()
    children: Counter[str] = Counter()
    errors: list[ItemError] = []
    escaped: list[str] = []
    all_docs: list[tuple[str, Path, Document]] = []
    for connector, path in units:
        try:
            docs, errs = documents(connector, path)
        except Exception as exc:  # noqa: BLE001 - the point is to catch them
            escaped.append(f"{connector.name} {path}: {type(exc).__name__}: {exc}")
            continue
        errors.extend(errs)
        for doc in docs:
            if doc.parent_key is None:
                per_connector[connector.name] += 1
            else:
                children[connector.name] += 1
            all_docs.append((connector.name, path, doc))
    return {
        "units": units,
        "unclaimed": unclaimed,
        "messages": per_connector,
        "children": children,
        "errors": errors,
        "escaped": escaped,
        "docs": all_docs,
    }


# ---------------------------------------------------------------- the whole corpus


def test_corpus_walk_has_no_crashes_and_counts(corpus_run: dict) -> None:
    assert corpus_run["escaped"] == []
    messages: Counter[str] = corpus_run["messages"]
    # measured: mbox 76 (perceval's 12 mboxes + the groups.io zip), maildir 266
    # (notmuch default, lkml, threading/parent-priority), eml 75, msg 3
    assert messages["mbox"] >= 76
    assert messages["maildir"] >= 266
    assert messages["eml"] >= 75
    assert messages["msg"] >= 3
    assert sum(messages.values()) >= 420
    assert sum(corpus_run["children"].values()) >= 9  # text attachments
    # Nothing in the corpus is unreadable as a whole message when dispatched: the
    # only headerless sample (cpython msg_19.txt) is a .txt, left to the text connector.
    assert [f"{e.path} {e.item}: {e.reason}" for e in corpus_run["errors"]] == []


def test_corpus_dispatch(corpus_run: dict) -> None:
    units = {(c.name, p.relative_to(CORPUS).as_posix()) for c, p in corpus_run["units"]}
    maildirs = {p for name, p in units if name == "maildir"}
    assert maildirs == {
        "notmuch-corpora/test/corpora/default",
        "notmuch-corpora/test/corpora/lkml",
        "notmuch-corpora/test/corpora/threading/parent-priority",
    }
    mboxes = {p for name, p in units if name == "mbox"}
    assert len([p for p in mboxes if p.endswith(".mbox")]) == 12
    assert "perceval/tests/data/groupsio/messages.zip" in mboxes
    assert {p for name, p in units if name == "msg"} == {
        "msg-extractor/example-msg-files/strangeDate.msg",
        "msg-extractor/example-msg-files/unicode.msg",
        "mail-parser/tests/mails/mail_outlook_1",  # an Outlook .msg without extension
    }
    eml = {p for name, p in units if name == "eml"}
    assert "mail-parser/tests/mails/mail_malformed_1" in eml
    assert "notmuch-corpora/test/corpora/threading/ghost-root/child" in eml
    # the cpython samples are .txt files: a folder walk leaves them to the text connector
    unclaimed = {p.relative_to(CORPUS).as_posix() for p in corpus_run["unclaimed"]}
    assert all(p.endswith((".txt", ".text", "README")) for p in unclaimed), unclaimed


def test_corpus_documents_are_well_formed(corpus_run: dict) -> None:
    keys: Counter[tuple[str, str]] = Counter()
    for _name, unit, doc in corpus_run["docs"]:
        keys[(str(unit), doc.key)] += 1
        assert doc.kind == "email"
        assert doc.timestamp is None or doc.timestamp.utcoffset() is not None
        assert doc.timestamp is None or doc.timestamp.tzinfo == UTC
        # an image attachment has no text until the OCR pass reads it
        assert doc.text or (doc.images and doc.parent_key)
        assert "\x00" not in doc.text
        if doc.parent_key is None:
            meta = doc.metadata
            for field in (
                "message_id",
                "in_reply_to",
                "references",
                "thread_id",
                "folder",
                "to",
                "cc",
                "from_address",
                "attachments",
            ):
                assert field in meta, (unit, doc.key, field)
            assert doc.sections or doc.title == "(no subject)", (unit, doc.key)
            if meta["message_id"]:
                assert doc.dedup_key == meta["message_id"]
                assert meta["thread_id"]
            assert all(isinstance(a["size"], int) for a in meta["attachments"])
    assert [k for k, n in keys.items() if n > 1] == []


def test_cpython_samples_parse_as_messages(corpus: Path) -> None:
    """The cpython test messages are RFC 822 files named .txt: parse each explicitly."""
    samples = sorted(CPYTHON.glob("msg_*.txt"))
    assert len(samples) >= 46
    failed: list[str] = []
    parsed = 0
    for path in samples:
        for item in parse_eml_file(path):
            if isinstance(item, ItemError):
                failed.append(path.name)
            elif item.parent_key is None:
                parsed += 1
    # msg_19.txt is the body of a digest: no header at all, so not a message
    assert failed == ["msg_19.txt"]
    assert parsed == len(samples) - 1
    for path in sorted((CORPUS / "perceval" / "tests" / "data" / "nntp").glob("*.txt")):
        docs = [i for i in parse_eml_file(path) if isinstance(i, Document)]
        assert docs and docs[0].title


def _stdlib_view(raw: bytes) -> tuple[str | None, str | None, datetime | None] | None:
    msg = email.message_from_bytes(raw, policy=policy.default)
    if not msg.keys():
        return None
    try:
        subject = " ".join(str(msg["subject"] or "").split())
        if "\ufffd" in subject:
            subject = None  # undecodable: the stdlib gives no reference value
    except Exception:  # noqa: BLE001
        subject = None
    sender = None
    try:
        header = msg["from"]
        if header is not None and header.addresses and not header.defects:
            sender = header.addresses[0].addr_spec.lower()
    except Exception:  # noqa: BLE001
        pass
    date = None
    try:
        header = msg["date"]
        date = to_utc(header.datetime) if header is not None and header.datetime else None
    except Exception:  # noqa: BLE001
        pass
    return subject, sender, date


def test_subject_sender_date_match_the_standard_library(corpus: Path) -> None:
    compared = 0
    mismatches: list[str] = []
    samples: list[tuple[str, bytes]] = []
    for path in sorted(corpus.rglob("*")):
        if not path.is_file() or path.suffix in (".msg", ".zip", ".text") or path.name == "README":
            continue
        if path.suffix == ".mbox":
            with open(path, "rb") as handle:
                samples += [(f"{path.name}#{m.index}", m.data) for m in split_mbox(handle)]
        else:
            samples.append((path.name, path.read_bytes()))
    for name, raw in samples:
        reference = _stdlib_view(raw)
        if reference is None:
            continue
        doc = parse_eml_bytes(raw, name)[0]
        subject, sender, date = reference
        compared += 1
        title = "" if doc.title == "(no subject)" else doc.title
        if subject is not None and subject != title:
            mismatches.append(f"{name}: subject {subject!r} != {title!r}")
        if sender is not None and sender != doc.metadata["from_address"]:
            mismatches.append(f"{name}: from {sender!r} != {doc.metadata['from_address']!r}")
        if date is not None and date != doc.timestamp:
            mismatches.append(f"{name}: date {date} != {doc.timestamp}")
    assert compared >= 400
    assert mismatches == []


def test_mbox_splitting_matches_the_standard_library(corpus: Path) -> None:
    for path in sorted(corpus.rglob("*.mbox")):
        # get_bytes: the stdlib's get_message fails on a non-ASCII "From " line
        box = mailbox.mbox(str(path))
        parsed = [email.message_from_bytes(box.get_bytes(k), policy=policy.default) for k in box.iterkeys()]
        expected = [" ".join(str(m["subject"] or "").split()) for m in parsed]
        docs, errors = documents(MboxConnector(), path)
        assert not errors
        got = [d.title if d.title != "(no subject)" else "" for d in docs if d.parent_key is None]
        assert len(got) == len(expected), path.name
        for mine, theirs in zip(got, expected, strict=True):
            assert "\ufffd" in theirs or mine == theirs, path.name


# --------------------------------------------------------------------- threading


def _reference_components(raws: dict[str, bytes]) -> list[set[str]]:
    """Threads computed independently: files linked by Message-ID/References/In-Reply-To."""
    links: dict[str, set[str]] = {}
    for name, raw in raws.items():
        msg = email.message_from_bytes(raw, policy=policy.compat32)
        ids = (
            parse_id_list(msg.get("Message-ID", ""))
            + parse_id_list(msg.get("References", ""))
            + parse_id_list(msg.get("In-Reply-To", ""))
        )
        links[name] = set(ids)
    names = list(raws)
    groups: list[set[str]] = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            continue
        group, ids, frontier = {name}, set(links[name]), [name]
        while frontier:
            frontier = [n for n in names if n not in group and links[n] & ids]
            for n in frontier:
                group.add(n)
                ids |= links[n]
        seen |= group
        groups.append(group)
    return groups


def _partition(docs: list[Document], name_of) -> list[set[str]]:  # noqa: ANN001
    threads: dict[str, set[str]] = {}
    for doc in docs:
        if doc.parent_key is None:
            threads.setdefault(doc.metadata["thread_id"], set()).add(name_of(doc))
    return list(threads.values())


def test_threads_follow_references_in_the_notmuch_threading_corpus(tmp_path: Path) -> None:
    # parent-priority: a broken References (<B00--root>) but a good In-Reply-To
    docs, _ = documents(MaildirConnector(), NOTMUCH / "threading" / "parent-priority")
    assert {d.metadata["thread_id"] for d in docs} == {"b00-root@example.org"}

    # ghost-root as one unit (copied into a Maildir): two conversations
    ghost = NOTMUCH / "threading" / "ghost-root"
    maildir = tmp_path / "ghost"
    (maildir / "cur").mkdir(parents=True)
    for path in ghost.iterdir():
        shutil.copy(path, maildir / "cur" / path.name)
    docs, errors = documents(MaildirConnector(), maildir)
    assert not errors
    by_thread: dict[str, set[str]] = {}
    for doc in docs:
        by_thread.setdefault(doc.metadata["thread_id"], set()).add(Path(doc.key).name)
    assert by_thread["000-real-root@example.org"] == {
        "real-root",
        "child",
        "grand-child",
        "grand-child2",
        "great-grand-child",
        "fake-root",
    }
    assert len(by_thread["87bmc6lp3h.fsf@len.workgroup"]) == 3  # the RT ticket replies
    assert len(by_thread) == 2
    raws = {MAILDIR_INFO.sub("", p.name): p.read_bytes() for p in ghost.iterdir()}
    names = {doc.key: Path(doc.key).name for doc in docs}
    assert sorted(map(sorted, _partition(docs, lambda d: names[d.key]))) == sorted(
        map(sorted, _reference_components(raws))
    )

    # each file alone (as the eml connector sees them): References' first id, else own
    child = fixture_like(ghost / "grand-child")
    assert child.metadata["thread_id"] == "000-real-root@example.org"


def fixture_like(path: Path) -> Document:
    return next(i for i in EmlConnector().iter_documents(path) if isinstance(i, Document))


def test_threads_match_references_in_lkml_maildir() -> None:
    lkml = NOTMUCH / "lkml"
    docs, errors = documents(MaildirConnector(), lkml)
    assert not errors
    raws = {message_key(p.relative_to(lkml)): p.read_bytes() for p in (lkml / "cur").iterdir()}
    got = sorted(map(sorted, _partition(docs, lambda d: d.key)))
    assert got == sorted(map(sorted, _reference_components(raws)))
    assert 10 <= len(got) <= 30


def test_thread_subject_fallback_and_labels_in_gmail_takeout() -> None:
    docs = fixture_docs("takeout.mbox")
    by_subject = {d.title: d for d in docs}
    assert len(docs) == 4
    lunch, reply, report, late = (by_subject[s] for s in ("Lunch", "Re: Lunch", "Quarterly report", "AW: Re: Lunch"))
    assert lunch.metadata["thread_id"] == "lunch-1@example.org"
    assert reply.metadata["thread_id"] == "lunch-1@example.org"  # subject fallback
    assert late.metadata["thread_id"] == "lunch-1@example.org"  # In-Reply-To → Bob's reply
    assert report.metadata["thread_id"] == "report-1@example.org"
    assert lunch.metadata["labels"] == ["Inbox", "Important", "Opened", "Trips, 2024"]
    assert lunch.metadata["folder"] == "Inbox"
    assert reply.metadata["folder"] == "Sent"
    assert report.metadata["folder"] == "Archived"
    # no Date header: the mbox "From " line stands in, and the gap is noted
    assert report.timestamp == datetime(2024, 4, 12, 10, 0, tzinfo=UTC)
    assert report.metadata["date_error"] == "missing Date header"
    # mboxrd quoting undone
    assert "\nFrom the office" in lunch.text
    assert "\n>From what I hear" in lunch.text
    # no Message-ID: a content-hash key, no dedup key
    assert late.key.startswith("message-") and late.dedup_key is None


def test_normalize_subject() -> None:
    assert normalize_subject("Re: AW: [list] Fwd:  Hello  World") == ("hello world", True)
    assert normalize_subject("[notmuch] [PATCH] x") == ("x", False)
    assert normalize_subject("SV: Re[2]: Plans") == ("plans", True)


# ----------------------------------------------------------------------- golden


def test_encoded_headers_rfc2047_and_rfc2231() -> None:
    doc, child = fixture_docs("encoded-headers.eml")
    assert doc.title == "Grüße aus München und Köln"
    assert doc.author == "Jörg Müller <jorg@example.de>"
    assert doc.participants == [
        "Françoise <francoise@example.fr>",
        "Doe, John <john@example.com>",
        "李明 <li.ming@example.cn>",
    ]
    assert doc.metadata["from_address"] == "jorg@example.de"
    assert doc.metadata["cc"] == ["李明 <li.ming@example.cn>"]
    assert doc.timestamp == datetime(2024, 3, 5, 8, 15, tzinfo=UTC)
    assert doc.dedup_key == "encoded.headers.1@example.de"
    assert doc.metadata["attachments"] == [
        {"filename": "Notizen Köln.txt", "size": 57, "content_type": "text/plain"},
        {"filename": "Büro-Foto.jpg", "size": 27, "content_type": "application/octet-stream"},
    ]
    assert doc.text.startswith("From: Jörg Müller <jorg@example.de>\nTo: Françoise")
    assert "Subject: Grüße aus München und Köln" in doc.text
    assert "Sitzung in Köln sind angehängt" in doc.sections[0].text
    assert doc.sections[0].locator == "message <encoded.headers.1@example.de>"
    # the text attachment is a child document
    assert child.parent_key == doc.key == "encoded-headers.eml"
    assert child.title == "Notizen Köln.txt"
    assert child.kind == "email"
    assert child.text.strip() == "Protokoll: Budget für das nächste Quartal beschlossen."
    assert child.metadata["attachment"] == "Notizen Köln.txt"
    assert child.metadata["content_type"] == "text/plain"
    assert child.metadata["size"] == 57


def test_html_only_message() -> None:
    (doc,) = fixture_docs("html-only.eml")
    assert "All garden chairs are 30€ off until Sunday." in doc.text
    for markup in ("<p>", "color: red", "trackReader", "<html"):
        assert markup not in doc.text
    section = doc.sections[0].text
    assert "All garden chairs are 30€ off" in section
    assert "Do you sell garden chairs?" not in section  # the quoted question
    assert "Do you sell garden chairs?" in doc.text


def test_nested_multipart_with_pdf_and_docx_attachments() -> None:
    docs = fixture_docs("nested-multipart.eml")
    doc, children = docs[0], docs[1:]
    # plain alternative preferred, the html one not repeated
    body = doc.text.split("\n\n", 1)[1]
    assert body == "Hi Bob, the invoice and the agenda for Monday are attached."
    names = [a["filename"] for a in doc.metadata["attachments"]]
    assert names == ["part-1.png", "invoice-4711.pdf", "agenda.docx", "photos.zip"]
    assert "Attachments: part-1.png, invoice-4711.pdf, agenda.docx, photos.zip" in doc.text
    by_title = {c.title: c for c in children}
    assert set(by_title) == {"invoice-4711.pdf", "agenda.docx"}  # zip and png only listed
    assert by_title["invoice-4711.pdf"].text == "Invoice 4711 total 99 EUR"
    assert by_title["agenda.docx"].text == "Meeting agenda: budget review with Alice"
    for child in children:
        assert child.parent_key == doc.key
        assert child.metadata["attachment"] == child.title
        assert child.author == doc.author and child.timestamp == doc.timestamp


def test_missing_content_type_and_bad_date() -> None:
    (doc,) = fixture_docs("missing-content-type.eml")
    assert "café crème brûlée" in doc.text
    assert doc.metadata["date_error"] == "unparsable Date header: 'sometime last week'"
    assert doc.metadata["date_source"] == "received"
    assert doc.timestamp == datetime(2024, 4, 12, 8, 0, tzinfo=UTC)


def test_broken_mime_and_unknown_charsets() -> None:
    (doc,) = fixture_docs("bad-charset.eml")
    assert doc.title == "Grüße from nowhere"
    assert doc.author == "Spamér <spam@bad.example>"
    # a multipart without boundary parameter: the boundary is recovered from the body
    assert doc.sections[0].text == "This body is base64 with bad padding"
    assert "NoBoundaryInMultipartDefect" in doc.metadata["defects"]


def test_quoted_text_and_signature_are_stored_but_not_indexed() -> None:
    (doc,) = fixture_docs("quoted-reply.eml")
    assert doc.sections[0].text == "Friday works for me, let's try the new ramen place."
    assert "> Are you free for lunch on Friday?" in doc.text
    assert "Bob Example | Logistics" in doc.text
    assert doc.metadata["in_reply_to"] == "lunch-1@example.org"
    assert doc.metadata["references"] == ["lunch-1@example.org"]
    assert doc.metadata["thread_id"] == "lunch-1@example.org"

    (outlook,) = fixture_docs("outlook-reply.eml")
    assert outlook.sections[0].text == ("Approved. Please schedule the migration for the weekend of the 27th.\n\nCarol")
    assert "Here is the plan for moving the database servers." in outlook.text


def test_strip_quotes_variants() -> None:
    text = "Sounds good.\n\nFrom: Dave <d@x.org>\nSent: Monday\nTo: Carol\nSubject: plan\n\nold text"
    assert strip_quotes(text) == "Sounds good."
    forward = "FYI\n\n---------- Forwarded message ---------\nFrom: A <a@x.org>\nDate: Mon\n\nBody"
    assert "Body" in strip_quotes(forward, is_forward=True)
    assert strip_quotes("> only a quote") == ""
    assert strip_quotes("Am 12.04.2024 um 09:00 schrieb Alice <a@x.org>:\n> Hallo\nJa.") == "Ja."


def test_quoted_only_reply_indexes_the_subject() -> None:
    raw = b"From: a@x.org\nSubject: Re: Budget numbers\nMessage-ID: <q@x.org>\n\nOn Mon, Bob wrote:\n> the numbers\n"
    (doc,) = parse_eml_bytes(raw, "q.eml")
    assert doc.sections[0].text == "Re: Budget numbers"
    assert "> the numbers" in doc.text


@pytest.mark.parametrize(
    "header",
    [
        b"To: " + b", ".join(b"user%d@example.com" % i for i in range(20000)),
        b"Subject: " + b" ".join([b"=?utf-8?q?caf=C3=A9?="] * 20000),
        b"From: " + b'"a' * 20000 + b" <a@b.c>",
        b"Content-Type: text/html\n\n" + b"<div>" * 50000 + b"deep text",
    ],
    ids=["20k-addresses", "20k-encoded-words", "unbalanced-quotes", "50k-nested-divs"],
)
def test_hostile_messages_stay_fast(header: bytes) -> None:
    """Inputs on which the stdlib header parser or an HTML tree are quadratic."""
    raw = b"From: a@b.c\nMessage-ID: <h@b.c>\n" + header + (b"" if b"\n\n" in header else b"\n\nbody\n")
    started = time.monotonic()
    (doc,) = parse_eml_bytes(raw, "hostile.eml")
    assert time.monotonic() - started < 10
    assert doc.sections


def test_duplicates_share_a_dedup_key() -> None:
    (a,) = fixture_docs("duplicate-a.eml")
    (b,) = fixture_docs("duplicate-b.eml")
    assert a.key != b.key
    assert a.dedup_key == b.dedup_key == "weekly-digest-42@lists.example"
    dup = NOTMUCH / "duplicate"
    keys = {fixture_like(dup / n).dedup_key for n in ("msg-1-1:2,", "msg-1-2:2,")}
    assert len(keys) == 1 and None not in keys


# ------------------------------------------------------------------------ mbox


def test_thunderbird_mbox_without_extension() -> None:
    path = FIXTURES / "Inbox"
    assert MboxConnector().claims(path)
    assert not EmlConnector().claims(path)  # "From " without a colon is an mbox
    docs = fixture_docs("Inbox")
    assert [d.title for d in docs] == ["Book club", "Re: Book club"]  # expunged one skipped
    assert docs[0].metadata["flags"] == ["seen"]
    assert docs[1].metadata["flags"] == ["replied", "seen"]
    assert docs[1].metadata["thread_id"] == "book-1@example.org"
    assert docs[0].metadata["folder"] == "Inbox"
    assert "\r" not in docs[0].text


def test_eml_with_a_postmark_line_is_one_message() -> None:
    # an .eml behind a "From " line, carrying an mbox as an attachment: still one message
    single = NOTMUCH / "insert" / "mbox-attachment.eml"
    docs, errors = documents(EmlConnector(), single)
    assert not errors
    assert [d.key for d in docs if d.parent_key is None] == ["mbox-attachment.eml"]
    assert docs[0].title.startswith("Re: [RFC PATCH v2 12/12]")


def test_apple_mail_emlx(tmp_path: Path) -> None:
    message = (FIXTURES / "quoted-reply.eml").read_bytes()
    path = tmp_path / "12345.emlx"
    path.write_bytes(b"%d\n" % len(message) + message + b"<?xml version='1.0'?><plist/>\n")
    assert EmlConnector().claims(path)
    (doc,) = documents(EmlConnector(), path)[0]
    assert doc.title == "Re: Lunch on Friday?"
    assert "plist" not in doc.text


def test_apple_mail_export_is_claimed_by_name() -> None:
    path = FIXTURES / "Apple Export" / "Travel.mbox" / "mbox"
    assert MboxConnector().claims(path)
    (doc,) = fixture_docs("Apple Export/Travel.mbox/mbox")
    assert doc.metadata["folder"] == "Travel"
    assert doc.title == "Flight confirmation"


def test_compressed_and_zipped_mbox(tmp_path: Path) -> None:
    source = (FIXTURES / "takeout.mbox").read_bytes()
    expected = [d.key for d in fixture_docs("takeout.mbox")]
    gz = tmp_path / "takeout.mbox.gz"
    gz.write_bytes(gzip.compress(source))
    bz = tmp_path / "takeout.mbox.bz2"
    bz.write_bytes(bz2.compress(source))
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("takeout.mbox", source)
    for path in (gz, bz, archive):
        assert MboxConnector().claims(path), path
        docs, errors = documents(MboxConnector(), path)
        assert not errors
        assert [d.key for d in docs] == expected
    # two members with the same messages: keys stay unique within the zip
    twice = tmp_path / "twice.zip"
    with zipfile.ZipFile(twice, "w") as zf:
        zf.writestr("Inbox.mbox", source)
        zf.writestr("Copy.mbox", source)
    docs, errors = documents(MboxConnector(), twice)
    assert not errors and len(docs) == 8
    assert len({d.key for d in docs}) == 8
    assert len({d.dedup_key for d in docs}) == 4  # None and three Message-IDs
    other = tmp_path / "photos.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("a.mbox", source)
        zf.writestr("b.jpg", b"\xff\xd8")
    assert not MboxConnector().claims(other)


class _CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def readline(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        line = super().readline(size)
        self.consumed += len(line)
        return line


def test_split_mbox_streams_one_message_at_a_time() -> None:
    message = b"From: a@x.org\nSubject: s\n\n" + b"x" * 1000 + b"\n\n"
    data = b"".join(b"From a@x.org Mon Jan  1 00:00:00 2024\n" + message for _ in range(2000))
    stream = _CountingStream(data)
    first = next(split_mbox(stream))
    assert first.data.startswith(b"From: a@x.org")
    assert stream.consumed < 5000  # the rest of the 2 MB file is not read yet


def test_split_mbox_edge_cases() -> None:
    data = (
        b"From a@x.org Mon Jan  1 00:00:00 2024\r\nSubject: one\r\n\r\nbody\r\n"
        b">From quoted\r\nFrom here on, no blank line before: still body\r\n\r\n"
        b"From b@x.org Mon Jan  1 00:00:01 2024\r\nSubject: two\r\n\r\n" + b"y" * 3_000_000
    )
    parts = list(split_mbox(io.BytesIO(data)))
    assert len(parts) == 2
    assert b"From quoted" in parts[0].data
    assert b"From here on" in parts[0].data
    assert len(parts[1].data) > 3_000_000 - 10  # a line longer than the read limit
    headers = list(split_mbox(io.BytesIO(data), headers_only=True))
    assert [h.data for h in headers] == [b"Subject: one", b"Subject: two"]
    # no postmark at all: the whole file is one message
    assert len(list(split_mbox(io.BytesIO(b"Subject: lone\n\nbody\n")))) == 1
    assert list(split_mbox(io.BytesIO(b""))) == []


# ---------------------------------------------------------------------- maildir


def _write(path: Path, subject: str, message_id: str, extra: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"From: A <a@x.org>\nTo: b@x.org\nSubject: {subject}\n"
        f"Message-ID: <{message_id}>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n"
        f"{extra}\nBody of {subject}.\n"
    )


def test_maildir_plus_plus_tree(tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    _write(root / "cur" / "1700000000.1.host:2,S", "seen one", "m1@x.org")
    _write(root / "new" / "1700000000.2.host", "new one", "m2@x.org")
    _write(root / "tmp" / "1700000000.3.host", "still being delivered", "m3@x.org")
    _write(
        root / ".Sent" / "cur" / "1700000000.4.host:2,RS",
        "Re: seen one",
        "m4@x.org",
        "In-Reply-To: <m1@x.org>\n",
    )
    _write(root / ".Work.Projects" / "new" / "1700000000.5.host!2,FT", "work", "m5@x.org")
    (root / ".notmuch" / "xapian").mkdir(parents=True)
    (root / ".notmuch" / "xapian" / "record.glass").write_bytes(b"\x00binary")
    (root / "dovecot-uidlist").write_text("3 V1 N6\n1 1700000000.1.host\n")
    connector = MaildirConnector()
    assert connector.claims(root)
    assert not connector.claims(root / "cur")
    assert not MaildirConnector().claims(tmp_path)  # a parent is walked, not claimed
    docs, errors = documents(connector, root)
    assert not errors
    got = {d.key: d for d in docs}
    assert set(got) == {
        "1700000000.1.host",
        "1700000000.2.host",
        ".Sent/1700000000.4.host",
        ".Work.Projects/1700000000.5.host",
    }
    assert got["1700000000.1.host"].metadata["folder"] == "INBOX"
    assert got["1700000000.1.host"].metadata["flags"] == ["seen"]
    assert got["1700000000.2.host"].metadata["new"] is True
    sent = got[".Sent/1700000000.4.host"]
    assert sent.metadata["folder"] == "Sent"
    assert sent.metadata["flags"] == ["replied", "seen"]
    assert sent.metadata["thread_id"] == "m1@x.org"
    work = got[".Work.Projects/1700000000.5.host"]
    assert work.metadata["folder"] == "Work/Projects"
    assert work.metadata["flags"] == ["flagged", "trashed"]


def test_maildir_keys_survive_moving_from_new_to_cur(tmp_path: Path) -> None:
    assert message_key(Path("new/123.host")) == message_key(Path("cur/123.host:2,S"))
    assert message_key(Path("bar/baz/cur/25:2,")) == "bar/baz/25"
    assert parse_flags("123.host:2,FRS") == ["flagged", "replied", "seen"]
    assert parse_flags("123.host") == []


def test_notmuch_nested_maildir_folders() -> None:
    docs, errors = documents(MaildirConnector(), NOTMUCH / "default")
    assert not errors
    folders = Counter(d.metadata["folder"] for d in docs if d.parent_key is None)
    assert folders == {
        "default": 28,
        "default/bar/baz": 7,
        "default/bar": 6,
        "default/foo": 6,
        "default/foo/baz": 6,
    }


# ---------------------------------------------------------------------- outlook


def test_outlook_msg_files(corpus: Path) -> None:
    samples = corpus / "msg-extractor" / "example-msg-files"
    (doc, *images) = [d for d in documents(OutlookMsgConnector(), samples / "unicode.msg")[0]]
    # its two TIF screenshots wait for the OCR pass, as attachments of the message
    assert [(i.title, i.parent_key, i.images[0].kind) for i in images] == [
        ("import OleFileIO.tif", doc.key, "bytes"),
        ("raised value error.tif", doc.key, "bytes"),
    ]
    assert doc.title == "Test for TIF files"
    assert doc.author == "Brian Zhou <brizhou@gmail.com>"
    assert doc.timestamp == datetime(2013, 11, 18, 8, 26, 24, tzinfo=UTC)
    assert doc.metadata["message_id"].startswith("cadtj4enjqskgcbtvtecitf")
    assert [a["filename"] for a in doc.metadata["attachments"]] == [
        "import OleFileIO.tif",
        "raised value error.tif",
    ]
    assert doc.sections[0].text == ("This is a test email to experiment with the MS Outlook MSG Extractor")

    (strange,) = documents(OutlookMsgConnector(), samples / "strangeDate.msg")[0]
    assert strange.title == "MSG Test File"
    assert strange.metadata["date_source"] == "msg-creation-time"
    assert strange.timestamp is not None and strange.timestamp.year == 2016
    assert "placeholder names" in strange.sections[0].text

    outlook = corpus / "mail-parser" / "tests" / "mails" / "mail_outlook_1"
    (newsletter,) = [d for d in documents(OutlookMsgConnector(), outlook)[0] if d.parent_key is None]
    assert newsletter.title == "Newsletter Prüfung Personalwesen / Prüfung Eröffnungsbilanz"


def test_not_an_outlook_file(tmp_path: Path) -> None:
    fake = tmp_path / "fake.msg"
    fake.write_bytes(b"just some bytes")
    docs, errors = documents(OutlookMsgConnector(), fake)
    assert not docs and "not an Outlook .msg" in errors[0].reason
    broken = tmp_path / "broken.msg"
    broken.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    docs, errors = documents(OutlookMsgConnector(), broken)
    assert not docs and errors[0].path == str(broken)


# ------------------------------------------------------------------------ claims


def test_claims_sniff_cheaply(corpus: Path) -> None:
    eml, mbox, msg = EmlConnector(), MboxConnector(), OutlookMsgConnector()
    assert eml.claims(corpus / "mail-parser" / "tests" / "mails" / "mail_test_1")
    assert eml.claims(NOTMUCH / "default" / "cur" / "29:2,")
    assert not eml.claims(NOTMUCH / "README")
    assert not eml.claims(CPYTHON / "msg_01.txt")  # .txt belongs to the text connector
    assert not mbox.claims(NOTMUCH / "README")
    assert not mbox.claims(corpus / "mail-parser" / "tests" / "mails" / "mail_test_1")
    assert not msg.claims(corpus / "mail-parser" / "tests" / "mails" / "mail_test_1")
    assert not eml.claims(corpus / "mail-parser" / "tests" / "mails" / "mail_outlook_1")


def test_no_heavy_imports_at_import_time() -> None:
    code = (
        "import sys, connectors.email; "
        "print(sorted(m for m in ('bs4', 'pypdf', 'extract_msg', 'docx', "
        "'charset_normalizer', 'olefile') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ big mbox script


def test_make_big_mbox_script(tmp_path: Path, corpus: Path) -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import make_big_mbox
    finally:
        sys.path.remove(str(REPO / "scripts"))
    target = tmp_path / "big.mbox"
    assert make_big_mbox.main([str(target), "--size", "600K", "--corpus", str(corpus)]) == 0
    assert target.stat().st_size >= 600 * 1024
    docs, errors = documents(MboxConnector(), target)
    assert not errors
    messages = [d for d in docs if d.parent_key is None]
    postmarks = target.read_bytes().count(b"\nFrom satchel@example.invalid ") + 1
    assert len(messages) == postmarks
    ids = [d.dedup_key for d in messages]
    assert None not in ids and len(set(ids)) == len(ids)  # fresh ids, no duplicates
