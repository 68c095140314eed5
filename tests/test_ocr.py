"""OCR of scanned PDFs, image files, chat photos and email images (issue 19).

The engine is the real one (Tesseract, installed by scripts/install.sh as root); the
fast tests use the fake embedder with the real store, FAISS index and OCR worker.
Hostile images are generated here: a 20,000 × 20,000 PNG, a decompression bomb, a
truncated JPEG, a 1,000-frame TIFF, bytes that are no image.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import threading
import time
import zipfile
import zlib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from assistant.ingest.ocr import (
    MAX_FRAMES,
    OcrImageError,
    clean_ocr_text,
    engine_status,
    load_frames,
)
from assistant.store import ocr_tables as ocr_store
from connectors.base import Document, ImageRef
from tests.conftest import REPO, link_model, run_cli

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
CORPORA = REPO.parent / "shared" / "corpora"

BOILER = (
    "The boiler service for the Lindenhof flat is booked for Thursday 9 October at 8:30. "
    "The engineer Jonas Weber will replace the pressure valve."
)
INVOICE = "Invoice 2291 from Ferramenta Rossi: total 418 euros, due within thirty days."
RECEIPT = "TRATTORIA DA GIGI - Receipt 0417. Two pizzas 19.00; wine 12.50. TOTAL 31.50 EUR. Paid by card."


def page_image(text: str, dpi: int = 200) -> Any:
    """``text`` typeset on a white page at ``dpi`` (11 pt), as a scanner would give it."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, int(11 / 72 * dpi))
    width, margin = int(6 * dpi), int(0.5 * dpi)
    draw = ImageDraw.Draw(Image.new("L", (10, 10)))
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) > width - 2 * margin:
            lines.append(line)
            line = word
        else:
            line = trial
    lines.append(line)
    step = int(font.size * 1.5)
    page = Image.new("L", (width, 2 * margin + step * len(lines)), 255)
    pen = ImageDraw.Draw(page)
    for n, text_line in enumerate(lines):
        pen.text((margin, margin + n * step), text_line, font=font, fill=0)
    return page


def scanned_pdf(path: Path, *texts: str) -> Path:
    """An image-only PDF (no text layer), one page per text."""
    images = [page_image(t) for t in texts]
    images[0].save(path, "PDF", resolution=200, save_all=True, append_images=images[1:])
    return path


def png_bytes(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def huge_png_header(width: int, height: int) -> bytes:
    """A PNG that claims width × height pixels with almost no data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    padding = chunk(b"tEXt", b"Comment\0" + b"x" * 4096)  # as large as a real photo's file
    body = chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + padding + body + chunk(b"IEND", b"")


def bomb_png() -> bytes:
    """A real decompression bomb: 12,000 × 12,000 white pixels (144 MP) in a few kB."""
    from PIL import Image

    return png_bytes(Image.new("1", (12_000, 12_000), 1))


def truncated_jpeg() -> bytes:
    buffer = io.BytesIO()
    page_image(BOILER).convert("RGB").save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    return data[: len(data) // 2]


def many_frames_tiff(frames: int = 1000) -> bytes:
    from PIL import Image

    first = Image.new("L", (16, 16), 255)
    buffer = io.BytesIO()
    first.save(buffer, "TIFF", save_all=True, append_images=[Image.new("L", (16, 16), 255)] * (frames - 1))
    return buffer.getvalue()


def search_texts(app: Any, query: str) -> list[tuple[str, str, str]]:
    outcome = app.search(query, k=10, auto_filters=False)
    return [(r.title, r.locator, r.snippet) for r in outcome.results]


def ocr_tasks(app: Any) -> list[Any]:
    return app.store.query("SELECT * FROM ocr_tasks ORDER BY id")


# --- the engine and the image limits -------------------------------------------------------
def test_tesseract_is_installed_with_the_five_languages() -> None:
    status = engine_status(True, "tesseract", ("eng", "fra", "ita", "deu", "spa"))
    assert status.enabled, status
    assert status.version.startswith("tesseract")


def test_engine_status_says_why_ocr_is_off_and_how_to_turn_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    off = engine_status(False, "tesseract", ("eng",))
    assert not off.enabled and "ocr = true" in off.how_to_enable
    unknown = engine_status(True, "abbyy", ("eng",))
    assert not unknown.enabled and "tesseract" in unknown.how_to_enable
    no_pack = engine_status(True, "tesseract", ("eng", "xyz"))
    assert not no_pack.enabled and "tesseract-ocr-xyz" in no_pack.how_to_enable
    monkeypatch.setenv("PATH", "/nonexistent")
    missing = engine_status(True, "tesseract", ("eng",))
    assert not missing.enabled
    assert "not installed" in missing.reason and "apt-get install tesseract-ocr" in missing.how_to_enable


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("20000x20000.png", lambda: huge_png_header(20_000, 20_000), "20000 × 20000 pixels"),
        ("bomb.png", bomb_png, "megapixels"),
        ("truncated.jpg", truncated_jpeg, "truncated"),
        ("frames.tif", many_frames_tiff, "1000 frames"),
        ("noise.png", lambda: os.urandom(50_000), "not an image"),
        ("empty.png", lambda: b"", "not an image"),
    ],
)
def test_hostile_images_are_refused_quickly(name: str, make: Any, reason: str) -> None:
    data = make()
    started = time.monotonic()
    with pytest.raises(OcrImageError, match=reason):
        load_frames(data)
    assert time.monotonic() - started < 5, name


def test_multi_frame_images_read_every_frame_under_the_limit() -> None:
    from PIL import Image

    buffer = io.BytesIO()
    frames = [Image.new("L", (40, 30), 255) for _ in range(3)]
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    assert len(load_frames(buffer.getvalue())) == 3
    assert MAX_FRAMES < 1000


def test_iphone_heic_photos_are_read(fake_app: Any, tmp_path: Path) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    docs = tmp_path / "photos"
    docs.mkdir()
    page_image(RECEIPT).convert("RGB").save(docs / "IMG_0042.HEIC", "HEIF", quality=90)
    fake_app.add_source(docs)
    report = fake_app.sync(ocr=True)
    assert report.ocr is not None and report.ocr["read"] == 1 and report.ocr["errors"] == 0, report.ocr
    assert "31.50" in search_texts(fake_app, "trattoria pizzas")[0][2]


def test_clean_ocr_text_joins_hyphenated_words_and_squeezes_blank_lines() -> None:
    assert clean_ocr_text("a  rep-\nort\n\n\n\nend \x0c") == "a report\n\nend"


# --- connectors ------------------------------------------------------------------------------
def test_pdf_pages_without_text_layer_are_offered_to_ocr(tmp_path: Path) -> None:
    from connectors.files import PdfConnector

    items = list(PdfConnector().iter_documents(scanned_pdf(tmp_path / "scan.pdf", BOILER, INVOICE)))
    (doc,) = items
    assert isinstance(doc, Document)
    assert doc.sections == [] and doc.metadata["scanned"] is True
    assert [(i.locator, i.kind, i.page, i.text_chars) for i in doc.images] == [
        ("page 1", "pdf-page", 1, 0),
        ("page 2", "pdf-page", 2, 0),
    ]


def test_image_connector_claims_photos_and_leaves_icons(tmp_path: Path) -> None:
    from connectors.registry import connector_for

    photo = tmp_path / "Receipt.JPG"
    page_image(RECEIPT).convert("RGB").save(photo, "JPEG")
    icon = tmp_path / "icon.png"
    icon.write_bytes(png_bytes(page_image("x", dpi=10)))
    connector = connector_for(photo)
    assert connector is not None and connector.name == "image"
    (doc,) = list(connector.iter_documents(photo))
    assert isinstance(doc, Document) and doc.images[0].kind == "file" and doc.title == "Receipt.JPG"
    assert list(connector.iter_documents(icon)) == []


def test_content_hash_only_changes_for_documents_with_images() -> None:
    plain = Document(key="a", kind="file", title="t", text="x")
    before = plain.content_hash()
    assert Document(key="a", kind="file", title="t", text="x", images=[]).content_hash() == before
    with_image = Document(key="a", kind="file", title="t", text="x", images=[ImageRef("page 1", "pdf-page", page=1)])
    assert with_image.content_hash() != before


# --- the background pass, end to end with the real engine --------------------------------------
def test_scanned_pdf_and_image_text_is_searchable_with_page_locators(fake_app: Any, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    scanned_pdf(docs / "boiler.pdf", BOILER, INVOICE)
    page_image(RECEIPT).save(docs / "receipt.png")
    fake_app.add_source(docs)
    report = fake_app.sync(ocr=True)
    assert report.ocr_queued == 3
    assert report.ocr is not None and report.ocr["read"] == 3 and report.ocr["errors"] == 0, report.ocr
    hits = search_texts(fake_app, "pressure valve engineer")
    assert hits[0][:2] == ("boiler", "page 1") and "Weber" in hits[0][2]
    hits = search_texts(fake_app, "invoice Ferramenta Rossi")
    assert hits[0][:2] == ("boiler", "page 2")
    hits = search_texts(fake_app, "trattoria pizzas")
    assert hits[0][:2] == ("receipt.png", "receipt.png") and "31.50" in hits[0][2]
    # the title stand-ins of the text-less documents are gone once OCR gave them text
    titles_only = fake_app.store.query("SELECT count(*) AS n FROM chunks WHERE locator = ''")
    assert titles_only[0]["n"] == 0
    document = fake_app.document(fake_app.store.scalar("SELECT id FROM documents WHERE title = 'boiler'"))
    assert "Jonas Weber" in document["text"] and "418 euros" in document["text"]
    state = fake_app.ocr_state()
    assert state["enabled"] and state["done"] == 3 and state["pending"] == 0
    # FAISS holds the OCR chunks too (the index is saved and matches the store)
    assert fake_app.index.size == fake_app.store.counts()["chunks"]


def test_text_is_searchable_before_the_ocr_pass_finishes(fake_app: Any, tmp_path: Path) -> None:
    from assistant.core import Satchel

    docs = tmp_path / "mixed"
    docs.mkdir()
    (docs / "note.md").write_text("The spare key of the garden shed is under the blue flower pot.\n")
    scanned_pdf(docs / "scan.pdf", BOILER, INVOICE)
    page_image(RECEIPT).save(docs / "receipt.png")
    fake_app.add_source(docs)
    seen_during: list[list[tuple[str, str, str]]] = []
    reader = Satchel(fake_app.settings, embedder=fake_app.embedder)

    def during(progress: Any) -> None:
        # another process's view while the pass holds the writer lock: the text is there
        if progress.done == 1:
            seen_during.append(search_texts(reader, "garden shed key flower pot"))
            seen_during.append(search_texts(reader, "invoice Ferramenta Rossi"))
            assert reader.ocr_state()["pending"] == 2

    report = fake_app.sync(ocr=True, ocr_progress=during)
    reader.close()
    assert report.ocr is not None and report.ocr["read"] == 3
    assert seen_during[0] and seen_during[0][0][0] == "note"
    assert not any("418" in snippet for _t, _l, snippet in seen_during[1])
    assert "418" in search_texts(fake_app, "invoice Ferramenta Rossi")[0][2]


def test_ocr_pass_is_resumable_and_cached_by_digest(fake_app: Any, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    scanned_pdf(docs / "scan.pdf", BOILER, INVOICE)
    page_image(RECEIPT).save(docs / "receipt.png")
    fake_app.add_source(docs)
    stop = threading.Event()
    report = fake_app.sync(ocr=True, ocr_stop=stop, ocr_progress=lambda p: stop.set())
    assert report.ocr is not None and report.ocr["read"] == 1 and report.ocr["left"] == 2
    assert fake_app.ocr_state()["pending"] == 2
    rest = fake_app.ocr()
    assert rest.read == 2 and rest.left == 0
    # moved and renamed: the same bytes are never read twice
    shutil.move(docs / "receipt.png", docs / "old-receipt.png")
    shutil.move(docs / "scan.pdf", docs / "renamed.pdf")
    again = fake_app.sync(ocr=True)
    assert again.ocr is not None and again.ocr["cached"] == 3 and again.ocr["read"] == 0, again.ocr
    assert search_texts(fake_app, "trattoria pizzas")[0][0] == "old-receipt.png"
    # a document that goes takes its tasks with it
    (docs / "renamed.pdf").unlink()
    fake_app.sync(ocr=True)
    assert [t["locator"] for t in ocr_tasks(fake_app)] == ["old-receipt.png"]


def test_hostile_images_become_per_item_errors_in_the_pass(fake_app: Any, tmp_path: Path) -> None:
    docs = tmp_path / "hostile"
    docs.mkdir()
    (docs / "a-20000x20000.png").write_bytes(huge_png_header(20_000, 20_000))
    (docs / "b-bomb.png").write_bytes(bomb_png())
    (docs / "c-truncated.jpg").write_bytes(truncated_jpeg())
    (docs / "d-frames.tif").write_bytes(many_frames_tiff())
    (docs / "e-noise.webp").write_bytes(os.urandom(50_000))
    page_image(RECEIPT).save(docs / "z-receipt.png")
    fake_app.add_source(docs)
    started = time.monotonic()
    report = fake_app.sync(ocr=True)
    assert time.monotonic() - started < 120
    assert report.ocr is not None and report.ocr["errors"] == 5 and report.ocr["read"] == 1, report.ocr
    errors = {e["path"].rsplit("/", 1)[-1]: e["reason"] for e in report.ocr["error_list"]}
    assert "20000 × 20000" in errors["a-20000x20000.png"]
    assert "megapixels" in errors["b-bomb.png"]
    assert "truncated" in errors["c-truncated.jpg"]
    assert "1000 frames" in errors["d-frames.tif"]
    assert "not an image" in errors["e-noise.webp"]
    stored = {r["path"].rsplit("/", 1)[-1] for r in fake_app.store.errors()}
    assert stored == set(errors)
    assert "31.50" in search_texts(fake_app, "trattoria pizzas")[0][2]
    # errors are not read again on the next run
    assert fake_app.sync(ocr=True).ocr["errors"] == 0  # type: ignore[index]


def test_a_page_over_the_time_limit_is_a_per_item_error(fake_app: Any, tmp_path: Path, monkeypatch) -> None:
    from dataclasses import replace

    docs = tmp_path / "slow"
    docs.mkdir()
    page_image(RECEIPT).save(docs / "a-first.png")
    page_image(" ".join([BOILER] * 12), dpi=300).save(docs / "b-long.png")
    fake_app.settings = replace(fake_app.settings, ocr_page_seconds=0.3)
    fake_app.add_source(docs)
    report = fake_app.sync(ocr=True)
    assert report.ocr is not None
    errors = {e["path"].rsplit("/", 1)[-1]: e["reason"] for e in report.ocr["error_list"]}
    assert "b-long.png" in errors and ("took longer" in errors["b-long.png"] or "too long" in errors["b-long.png"])


def test_the_min_page_chars_setting_picks_scanned_pages(fake_app: Any, tmp_path: Path) -> None:
    from dataclasses import replace

    docs = tmp_path / "docs"
    docs.mkdir()
    scanned_pdf(docs / "stamped.pdf", BOILER)
    fake_app.add_source(docs)
    fake_app.sync(ocr=False)
    (task,) = ocr_tasks(fake_app)
    assert task["text_chars"] == 0 and task["state"] == "pending"
    # as if the page carried a stamp of 34 characters in a text layer
    with fake_app.store.transaction():
        fake_app.store.conn.execute("UPDATE ocr_tasks SET text_chars = 34")
    assert fake_app.ocr_state()["pending"] == 0 and fake_app.ocr_state()["skipped"] == 1
    assert fake_app.ocr().read == 0
    fake_app.settings = replace(fake_app.settings, ocr_min_page_chars=50)
    assert fake_app.ocr_state()["pending"] == 1
    assert fake_app.ocr().read == 1


def test_ocr_off_leaves_images_waiting_and_says_so(fake_app: Any, tmp_path: Path) -> None:
    from dataclasses import replace

    docs = tmp_path / "docs"
    docs.mkdir()
    page_image(RECEIPT).save(docs / "receipt.png")
    fake_app.settings = replace(fake_app.settings, ocr=False)
    fake_app.add_source(docs)
    report = fake_app.sync(ocr=True)
    assert report.ocr == {**report.ocr, "enabled": False, "left": 1}  # type: ignore[dict-item]
    # found by its file name meanwhile
    assert search_texts(fake_app, "receipt")[0][0] == "receipt.png"
    status = fake_app.status()["ocr"]
    assert status["enabled"] is False and status["pending"] == 1 and "ocr = true" in status["how_to_enable"]
    fake_app.settings = replace(fake_app.settings, ocr=True)
    assert fake_app.ocr().read == 1


# --- chat photos and email images --------------------------------------------------------------
def whatsapp_zip(path: Path) -> Path:
    chat = (
        "02/05/2024, 20:41 - Marco Bianchi: Dinner was great, here is the bill\n"
        "02/05/2024, 20:42 - Marco Bianchi: IMG-20240502-WA0003.jpg (file attached)\n"
        "02/05/2024, 20:45 - Anna Rossi: Thanks, I'll send you my half tomorrow\n"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("WhatsApp Chat with Marco Bianchi.txt", chat)
        buffer = io.BytesIO()
        page_image(RECEIPT).convert("RGB").save(buffer, "JPEG", quality=85)
        archive.writestr("IMG-20240502-WA0003.jpg", buffer.getvalue())
        archive.writestr("STK-20240502-WA0004.webp", b"RIFF\0\0\0\0WEBP")  # too small to hold text
    return path


def test_whatsapp_photo_is_read_and_attached_to_its_message(fake_app: Any, tmp_path: Path) -> None:
    from connectors.chat import WhatsAppConnector

    archive = whatsapp_zip(tmp_path / "WhatsApp Chat with Marco Bianchi.zip")
    items = list(WhatsAppConnector().iter_documents(archive))
    photos = [d for d in items if isinstance(d, Document) and d.images]
    (photo,) = photos
    assert photo.parent_key and photo.author == "Marco Bianchi"
    assert photo.images[0].member == "IMG-20240502-WA0003.jpg"
    assert photo.images[0].locator == "2024-05-02 20:42 · IMG-20240502-WA0003.jpg"
    fake_app.add_source(archive)
    report = fake_app.sync(ocr=True)
    assert report.ocr is not None and report.ocr["read"] == 1, report.ocr
    hits = fake_app.search("trattoria receipt total", k=5, auto_filters=False).results
    assert hits[0].kind == "chat" and "31.50" in hits[0].snippet
    assert hits[0].locator.endswith("IMG-20240502-WA0003.jpg") and hits[0].author == "Marco Bianchi"


def test_whatsapp_folder_export_reads_photos_beside_the_text(tmp_path: Path) -> None:
    from connectors.chat import WhatsAppConnector

    folder = tmp_path / "export"
    folder.mkdir()
    with zipfile.ZipFile(whatsapp_zip(tmp_path / "chat.zip")) as archive:
        archive.extractall(folder)
    items = list(WhatsAppConnector().iter_documents(folder / "WhatsApp Chat with Marco Bianchi.txt"))
    (photo,) = [d for d in items if isinstance(d, Document) and d.images]
    assert photo.images[0].kind == "file" and photo.images[0].path == str(folder / "IMG-20240502-WA0003.jpg")


def test_email_image_attachment_is_read(fake_app: Any, tmp_path: Path) -> None:
    message = EmailMessage()
    message["From"] = "Giulia Verdi <giulia@example.org>"
    message["To"] = "me@example.org"
    message["Subject"] = "Scan of the delivery note"
    message["Date"] = "Thu, 02 May 2024 09:00:00 +0200"
    message["Message-ID"] = "<scan-1@example.org>"
    message.set_content("Here is the scan you asked for.")
    jpeg = io.BytesIO()
    page_image(INVOICE).convert("RGB").save(jpeg, "JPEG", quality=85)
    message.add_attachment(jpeg.getvalue(), maintype="image", subtype="jpeg", filename="delivery-note.jpg")
    message.add_attachment(b"GIF89a" + b"\0" * 40, maintype="image", subtype="gif", filename="spacer.gif")
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "scan.eml").write_bytes(bytes(message))
    fake_app.add_source(mail)
    report = fake_app.sync(ocr=True)
    assert report.ocr_queued == 1  # the spacer is too small to hold text
    assert report.ocr is not None and report.ocr["read"] == 1 and report.ocr["errors"] == 0, report.ocr
    hit = fake_app.search("Ferramenta Rossi invoice", k=5, auto_filters=False).results[0]
    assert hit.kind == "email" and hit.title == "delivery-note.jpg" and "418" in hit.snippet
    # the bytes were kept only until read
    assert fake_app.store.scalar("SELECT count(*) FROM ocr_tasks WHERE data IS NOT NULL") == 0


def test_scanned_pdf_attached_to_an_email_is_read(fake_app: Any, tmp_path: Path) -> None:
    message = EmailMessage()
    message["From"] = "Studio Legale Neri <studio@example.org>"
    message["To"] = "me@example.org"
    message["Subject"] = "Signed contract"
    message["Date"] = "Fri, 03 May 2024 11:00:00 +0200"
    message["Message-ID"] = "<contract-1@example.org>"
    message.set_content("The signed copy is attached.")
    pdf = scanned_pdf(tmp_path / "contract.pdf", BOILER, INVOICE).read_bytes()
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="contract-signed.pdf")
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "contract.eml").write_bytes(bytes(message))
    fake_app.add_source(mail)
    report = fake_app.sync(ocr=True)
    assert report.ocr is not None and report.ocr["read"] == 1 and report.ocr["errors"] == 0, report.ocr
    (text,) = [
        r["text"] for r in fake_app.store.query("SELECT text FROM documents WHERE title = 'contract-signed.pdf'")
    ]
    assert "Jonas Weber" in text and "418 euros" in text  # both pages


def test_a_corpus_pdf_made_of_images_goes_through_without_error(fake_app: Any, tmp_path: Path) -> None:
    sample = CORPORA / "pdf" / "py-pdf-sample-files" / "019-grayscale-image" / "grayscale-image.pdf"
    assert sample.is_file()
    fake_app.add_source(sample)
    report = fake_app.sync(ocr=True)
    assert report.errors == 0 and report.ocr is not None and report.ocr["errors"] == 0, report.ocr
    assert report.ocr["read"] >= 1


def test_ocr_store_counts(fake_app: Any) -> None:
    counts = ocr_store.counts(fake_app.store.conn, 20)
    assert counts == {"pending": 0, "done": 0, "error": 0, "skipped": 0, "cached": 0}


# --- the CLI and the real model ------------------------------------------------------------------
def test_status_and_doctor_report_ocr(tmp_path: Path, satchel_home: Path) -> None:
    status = json.loads(run_cli("status", "--json", home=satchel_home).stdout)["ocr"]
    assert status["enabled"] is True and status["engine"] == "tesseract"
    env_path = os.environ["PATH"]
    try:
        os.environ["PATH"] = "/nonexistent"
        off = run_cli("status", home=satchel_home).stdout
        doctor = run_cli("doctor", "--json", home=satchel_home, check=False).stdout
    finally:
        os.environ["PATH"] = env_path
    assert "ocr:         off: the tesseract program is not installed" in off and "apt-get install" in off
    (check,) = [c for c in json.loads(doctor)["checks"] if c["name"] == "ocr"]
    assert check["status"] == "warn" and "apt-get install tesseract-ocr" in check["fix"]


@pytest.mark.integration
def test_scanned_pdf_and_whatsapp_receipt_answered_with_citations(tmp_path: Path, model_cache: Path) -> None:
    home = tmp_path / "home"
    link_model(home, model_cache)
    docs = tmp_path / "docs"
    docs.mkdir()
    scanned_pdf(docs / "boiler-service.pdf", INVOICE, BOILER)
    whatsapp_zip(docs / "WhatsApp Chat with Marco Bianchi.zip")
    run_cli("add", str(docs), home=home)
    index = json.loads(run_cli("index", "--json", home=home).stdout)
    assert index["ocr"]["read"] == 3 and index["ocr"]["errors"] == 0, index["ocr"]
    found = json.loads(run_cli("search", "boiler pressure valve engineer", "--json", home=home).stdout)["results"]
    assert found[0]["title"] == "boiler-service" and found[0]["locator"] == "page 2"
    answer = json.loads(
        run_cli("ask", "Who will replace the pressure valve of the boiler?", "--json", home=home).stdout
    )
    assert answer["answered"] and "Weber" in answer["answer"], answer["answer"]
    cited = [s for s in answer["sources"] if s["cited"]]
    assert any(s["locator"] == "page 2" for s in cited), answer["sources"]
    receipt = json.loads(run_cli("ask", "How much was the receipt from Trattoria da Gigi?", "--json", home=home).stdout)
    assert receipt["answered"] and "31.50" in receipt["answer"], receipt["answer"]
    assert any(s["kind"] == "chat" and "IMG-20240502-WA0003.jpg" in s["locator"] for s in receipt["sources"])


def test_watch_reads_images_between_file_events(fake_app: Any, tmp_path: Path) -> None:
    import sqlite3

    from assistant.ops.watch import watch

    docs = tmp_path / "watched"
    docs.mkdir()
    scanned_pdf(docs / "scan.pdf", BOILER, INVOICE)
    fake_app.add_source(docs)
    stop = threading.Event()
    seen: list[tuple[int, int]] = []
    thread = threading.Thread(
        target=watch,
        args=(fake_app,),
        kwargs={"debounce_s": 0.2, "stop": stop, "on_ocr": lambda p: seen.append((p.done, p.total))},
        daemon=True,
    )
    thread.start()

    def done() -> int:
        with sqlite3.connect(f"file:{fake_app.settings.db_path}?mode=ro", uri=True, timeout=5) as conn:
            try:
                return int(conn.execute("SELECT count(*) FROM ocr_tasks WHERE state = 'done'").fetchone()[0])
            except sqlite3.OperationalError:
                return 0

    try:
        deadline = time.monotonic() + 120
        while done() < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert done() == 2
        page_image(RECEIPT).save(docs / "receipt.png")  # a photo arrives while watching
        while done() < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert done() == 3
    finally:
        stop.set()
        thread.join(timeout=30)
    assert (2, 2) in seen and (1, 1) in seen
    assert "31.50" in search_texts(fake_app, "trattoria pizzas")[0][2]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_tui_sync_shows_ocr_progress_after_the_text(fake_app: Any, tmp_path: Path) -> None:
    from assistant.tui.app import create_app

    docs = tmp_path / "docs"
    docs.mkdir()
    scanned_pdf(docs / "scan.pdf", BOILER, INVOICE)
    (docs / "note.md").write_text("The spare key is under the blue flower pot.\n")
    fake_app.add_source(docs)
    app = create_app(fake_app)
    texts: list[str] = []
    notes: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        app.start_sync(None, "all sources")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            await pilot.pause(0.05)
            if not texts or texts[-1] != app.sync_text:
                texts.append(app.sync_text)
            # gathered as they come: a toast expires after a few seconds, and on a
            # loaded machine OCR can outlast the text summary's
            notes += [m for m in (str(n.message) for n in app._notifications) if m not in notes]
            if app.sync_text.startswith("OCR: 2 read"):
                break
    # the text's summary first, then OCR's progress on the same line, then its summary
    assert notes[0].startswith("synced all sources: 2 added") and notes[1].startswith("OCR: 2 read"), notes
    assert any(t.startswith("OCR: 1/2 images and scanned pages") for t in texts), texts
    assert texts[-1].startswith("OCR: 2 read, 0 from the cache, 0 errors"), texts
    assert "Weber" in search_texts(fake_app, "pressure valve engineer")[0][2]


def test_forget_erases_the_text_ocr_read(fake_app: Any, tmp_path: Path) -> None:
    from assistant.ops.forget import forget

    archive = whatsapp_zip(tmp_path / "WhatsApp Chat with Marco Bianchi.zip")
    docs = tmp_path / "docs"
    docs.mkdir()
    page_image(RECEIPT).save(docs / "kept.png")
    fake_app.add_source(archive)
    fake_app.add_source(docs)
    fake_app.sync(ocr=True)
    assert fake_app.store.scalar("SELECT count(*) FROM ocr_cache") == 2
    forget(fake_app, person="Marco Bianchi")
    assert fake_app.store.scalar("SELECT count(*) FROM ocr_tasks") == 1
    (kept,) = fake_app.store.query("SELECT c.text FROM ocr_cache c JOIN ocr_tasks t ON t.digest = c.digest")
    assert fake_app.store.scalar("SELECT count(*) FROM ocr_cache") == 1 and "31.50" in kept["text"]


def test_telegram_photos_are_read_and_attached_to_their_message(fake_app: Any, tmp_path: Path) -> None:
    from connectors.chat import TelegramConnector

    export = tmp_path / "ChatExport_2024-05-03"
    (export / "photos").mkdir(parents=True)
    page_image(RECEIPT).convert("RGB").save(export / "photos" / "photo_1@02-05-2024_20-42-11.jpg", "JPEG")
    result = {
        "name": "Marco Bianchi",
        "type": "personal_chat",
        "id": 4242,
        "messages": [
            {"id": 1, "type": "message", "date": "2024-05-02T20:41:00", "from": "Marco Bianchi", "text": "the bill"},
            {
                "id": 2,
                "type": "message",
                "date": "2024-05-02T20:42:11",
                "from": "Marco Bianchi",
                "photo": "photos/photo_1@02-05-2024_20-42-11.jpg",
                "text": "",
            },
        ],
    }
    (export / "result.json").write_text(json.dumps(result))
    items = list(TelegramConnector().iter_documents(export / "result.json"))
    (photo,) = [d for d in items if isinstance(d, Document) and d.images]
    assert photo.author == "Marco Bianchi" and photo.images[0].locator.endswith("photo_1@02-05-2024_20-42-11.jpg")
    fake_app.add_source(export)  # the whole folder: the photo is read once, with its message
    report = fake_app.sync(ocr=True)
    assert report.ocr is not None and report.ocr["read"] == 1 and report.ocr_queued == 1, report.ocr
    hit = fake_app.search("trattoria receipt total", k=5, auto_filters=False).results[0]
    assert hit.kind == "chat" and "31.50" in hit.snippet and hit.title == "Telegram: Marco Bianchi"


def test_tif_screenshots_attached_to_a_real_outlook_message_are_read(fake_app: Any) -> None:
    sample = CORPORA / "email" / "msg-extractor" / "example-msg-files" / "unicode.msg"
    assert sample.is_file()
    fake_app.add_source(sample)
    report = fake_app.sync(ocr=True)
    assert report.ocr is not None and report.ocr["errors"] == 0 and report.ocr["read"] == 2, report.ocr
    texts = {r["title"]: r["text"] for r in fake_app.store.query("SELECT title, text FROM documents")}
    # screenshots of an IDE: its menu bar is read in both
    assert "Refactoring" in texts["raised value error.tif"] and "Refactoring" in texts["import OleFileIO.tif"]
    hit = fake_app.search("Refactoring Navigate Pydev", k=5, auto_filters=False).results[0]
    assert hit.kind == "email" and hit.title.endswith(".tif")


def test_an_image_over_the_worker_memory_limit_is_a_per_item_error(fake_app: Any, tmp_path: Path) -> None:
    from dataclasses import replace

    from PIL import Image

    docs = tmp_path / "big"
    docs.mkdir()
    # 56 MP, under the pixel limit: 168 MB decoded, over a worker held to 120 MB
    Image.new("RGB", (7000, 8000), "white").save(docs / "poster.png")
    fake_app.settings = replace(fake_app.settings, ocr_memory_mb=120)
    fake_app.add_source(docs)
    started = time.monotonic()
    report = fake_app.sync(ocr=True)
    assert time.monotonic() - started < 60
    assert report.ocr is not None and report.ocr["errors"] == 1, report.ocr
    reason = report.ocr["error_list"][0]["reason"]
    assert "memory" in reason, reason


def test_photos_of_unpacked_chat_exports_are_read_once_with_their_message(fake_app: Any, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    with zipfile.ZipFile(whatsapp_zip(tmp_path / "chat.zip")) as archive:
        archive.extractall(folder)
    page_image(INVOICE).save(folder / "scan-of-invoice.png")  # not a WhatsApp photo: read as a file
    fake_app.add_source(folder)
    report = fake_app.sync(ocr=True)
    assert report.ocr is not None and report.ocr["read"] == 2, report.ocr
    photos = fake_app.store.query("SELECT d.kind, t.locator FROM ocr_tasks t JOIN documents d ON d.id = t.document_id")
    assert sorted((p["kind"], p["locator"]) for p in photos) == [
        ("chat", "2024-05-02 20:42 · IMG-20240502-WA0003.jpg"),
        ("file", "scan-of-invoice.png"),
    ]
