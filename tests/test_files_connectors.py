"""The local-files connectors: the whole PDF corpus, pypdf's golden extractions, and
golden tests for every other format on small files written for the tests.

Text formats live in ``tests/fixtures/files/``; the zip-based formats (docx, odt,
epub) and the synthetic PDFs are built here, so their bytes are easy to read.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import Document, ItemError
from connectors.files import (
    CodeConnector,
    CsvConnector,
    DocxConnector,
    EpubConnector,
    HtmlConnector,
    OdtConnector,
    PdfConnector,
    PdfPasswordError,
    RtfConnector,
)
from connectors.files.pdf import (
    PdfError,
    PdfExtraction,
    PdfTimeoutError,
    clean_pages,
    extract_pdf,
    pdf_documents,
    remove_repeated_edges,
)
from connectors.files.textutil import clean_text, decode_bytes, join_hyphenation
from connectors.text import TextConnector, parse_front_matter

FIXTURES = Path(__file__).parent / "fixtures" / "files"
PDF_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "pdf"
SAMPLES = PDF_CORPUS / "py-pdf-sample-files"
RESOURCES = PDF_CORPUS / "pypdf-resources" / "resources"


def run(connector: object, path: Path) -> tuple[list[Document], list[ItemError]]:
    items = list(connector.iter_documents(path))  # type: ignore[attr-defined]
    docs = [i for i in items if isinstance(i, Document)]
    errors = [i for i in items if isinstance(i, ItemError)]
    return docs, errors


def only_doc(connector: object, path: Path) -> Document:
    docs, errors = run(connector, path)
    assert not errors, errors
    assert len(docs) == 1
    return docs[0]


def locators(doc: Document) -> list[str]:
    return [s.locator for s in doc.sections]


# ---------------------------------------------------------------------------------------
# Shared clean-up


def test_join_hyphenation() -> None:
    assert join_hyphenation("an exam-\nple of it") == "an example\nof it"
    assert join_hyphenation("Jean-\nPaul went") == "Jean-Paul\nwent"
    # numbers, dashes and list markers are left alone
    assert join_hyphenation("2019-\n2020") == "2019-\n2020"
    assert join_hyphenation("a list\n- item") == "a list\n- item"
    assert join_hyphenation("word -\nnext") == "word -\nnext"


def test_clean_text_normalises_whitespace_and_ligatures() -> None:
    raw = "  The ﬁrst\t\tline  \r\n\r\n\r\n\x0csecond\u00a0 line co\u00adop\x07\n"
    assert clean_text(raw) == "The first line\n\nsecond line coop"


def test_decode_bytes_detects_encodings() -> None:
    text = "Grüße aus Köln, ça va? Übermorgen."
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        assert decode_bytes(text.encode(encoding)) == text, encoding
    with pytest.raises(ValueError, match="binary"):
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")


# ---------------------------------------------------------------------------------------
# Text and Markdown


def test_markdown_front_matter_and_heading_locators() -> None:
    doc = only_doc(TextConnector(), FIXTURES / "note.md")
    assert doc.kind == "note"
    assert doc.title == "Trip to Lisbon: notes"
    assert doc.author == "Ann Example"
    assert doc.timestamp == datetime(2024, 3, 5, tzinfo=UTC)
    front = doc.metadata["front_matter"]
    assert front["tags"] == ["travel", "portugal, 2024"]
    assert front["aliases"] == ["Lisbon trip", "Lisboa"]
    assert front["description"] == "Planning notes for the spring trip."
    assert front["draft"] == "false"  # the comment is dropped
    assert doc.metadata["tags"] == ["travel", "portugal, 2024"]
    assert "path" not in doc.metadata  # a rename must not change the content hash
    assert locators(doc) == [
        "",
        "Travel",
        "Travel > Flights",
        "Travel > Hotels",
        "Travel > Hotels > Day trips",
    ]
    sections = {s.locator: s.text for s in doc.sections}
    # hyphenation joined, runs of spaces collapsed in prose ...
    assert sections["Travel"] == (
        "# Travel\n\nWe book the flights early. The example\n"
        "of last year shows why: prices doubled."
    )
    # ... but a fenced code block is kept as written, and its "#" is no heading
    assert "```python\n# not a heading\nx  =  1\n```" in sections["Travel > Flights"]
    assert sections["Travel > Hotels"] == "Hotels\n\nAlfama, near the *tram*."
    assert not doc.text.startswith("---")
    assert "title:" not in doc.text


def test_front_matter_variants() -> None:
    meta, body = parse_front_matter("+++\ntitle = 'T'\ndate = 2024-01-02\n+++\nBody\n")
    assert meta == {"title": "T", "date": "2024-01-02"}
    assert body == "Body\n"
    # a horizontal rule at the top followed by prose is not front matter
    text = "---\nJust a rule above a paragraph, and more words.\n---\n"
    assert parse_front_matter(text) == ({}, text)
    meta, _ = parse_front_matter("---\nauthor:\n  name: Ann\n  email: a@x.org\n---\n")
    assert meta == {"author": {"name": "Ann", "email": "a@x.org"}}


def test_markdown_without_front_matter_or_headings(tmp_path: Path) -> None:
    note = tmp_path / "plain-note.md"
    note.write_text("Just a line.\nAnother   one.\n", encoding="utf-8")
    doc = only_doc(TextConnector(), note)
    assert doc.title == "plain-note"
    assert doc.text == "Just a line.\nAnother one."
    assert doc.sections == []


def test_plain_text_latin1() -> None:
    doc = only_doc(TextConnector(), FIXTURES / "latin1.txt")
    assert doc.text == (
        "Le café était fermé ce matin-là, alors nous sommes allés à la boulangerie.\n"
        "Où est la clé ? Noël à Besançon : naïve façade, élève studieux, crème brûlée."
    )
    assert doc.title == "latin1"
    assert doc.metadata == {"format": "text"}


def test_plain_text_utf16_with_and_without_bom(tmp_path: Path) -> None:
    expected = (
        "Grüße aus Köln! Übermorgen fahren wir nach Zürich.\n"
        "Notes in UTF-16 with a byte order mark."
    )
    assert only_doc(TextConnector(), FIXTURES / "utf16.txt").text == expected
    bare = tmp_path / "bare.txt"
    bare.write_bytes(expected.encode("utf-16-le"))
    assert only_doc(TextConnector(), bare).text == expected


def test_binary_and_empty_files(tmp_path: Path) -> None:
    garbage = b"\x00\x01\x02\x03garbage\x00\xff" * 50
    for name, connector in (("blob.txt", TextConnector()), ("blob.html", HtmlConnector())):
        blob = tmp_path / name
        blob.write_bytes(garbage)
        with pytest.raises(ValueError, match="binary"):
            list(connector.iter_documents(blob))
    empty = tmp_path / "empty.md"
    empty.write_text("\n\n", encoding="utf-8")
    assert list(TextConnector().iter_documents(empty)) == []
    _, errors = run(CodeConnector(), tmp_path / "blob.txt")
    assert "binary" in errors[0].reason


def test_org_and_rst_headings(tmp_path: Path) -> None:
    org = tmp_path / "todo.org"
    org.write_text("#+TITLE: Plans\n* Garden\nDig.\n** TODO Roses :flowers:\nPrune.\n")
    doc = only_doc(TextConnector(), org)
    assert doc.title == "Plans"
    assert locators(doc) == ["", "Garden", "Garden > Roses"]
    rst = tmp_path / "guide.rst"
    rst.write_text("=====\nGuide\n=====\n\nIntro.\n\nInstall\n-------\n\nRun it.\n")
    doc = only_doc(TextConnector(), rst)
    assert doc.title == "Guide"
    assert locators(doc) == ["Guide", "Guide > Install"]


# ---------------------------------------------------------------------------------------
# HTML


def test_html_main_text_title_and_headings() -> None:
    doc = only_doc(HtmlConnector(), FIXTURES / "page.html")
    assert doc.kind == "file"
    assert doc.title == "Sourdough starter guide"
    assert doc.author == "Ben Baker"
    assert doc.text == (
        "Sourdough starter\n\n"
        "Feed it daily with flour and water & keep it warm.\n\n"
        "Feeding\n\n50 g flour\n\n50 g water\n\n"
        "Baking\n\nBake at 230 °C for 40 minutes."
    )
    for noise in ("SCRIPT", "STYLE", "HIDDEN", "Home", "banner", "footer"):
        assert noise not in doc.text
    assert locators(doc) == [
        "Sourdough starter",
        "Sourdough starter > Feeding",
        "Sourdough starter > Baking",
    ]
    assert doc.metadata["description"] == "How to keep a starter alive."
    assert doc.metadata["language"] == "en"


def test_html_without_main_drops_navigation(tmp_path: Path) -> None:
    page = tmp_path / "old.htm"
    page.write_bytes(
        b"<html><head><meta charset='windows-1252'></head><body><nav>Menu</nav>"
        b"<div>Caf\xe9 au lait</div><aside>Ads</aside></body></html>"
    )
    doc = only_doc(HtmlConnector(), page)
    assert doc.text == "Café au lait"
    assert doc.title == "old"
    assert doc.sections == []


# ---------------------------------------------------------------------------------------
# docx, odt, epub (built here)


def build_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "Annual report"
    document.core_properties.author = "Ann Example"
    document.core_properties.created = datetime(2022, 5, 1, 8, 0)
    document.core_properties.modified = datetime(2022, 6, 1, 9, 0)
    document.add_paragraph("Preface text.")
    document.add_heading("Results", level=1)
    document.add_paragraph("Revenue grew   by 5 %.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Quarter"
    table.cell(0, 1).text = "Revenue"
    table.cell(1, 0).text = "Q1"
    table.cell(1, 1).text = "10"
    document.add_heading("Europe", level=2)
    document.add_paragraph("Strong in Portugal.")
    document.add_heading("Outlook", level=1)
    document.add_paragraph("Cautious.")
    document.save(str(path))
    return path


def test_docx_headings_tables_and_properties(tmp_path: Path) -> None:
    doc = only_doc(DocxConnector(), build_docx(tmp_path / "report.docx"))
    assert doc.title == "Annual report"
    assert doc.author == "Ann Example"
    assert doc.timestamp == datetime(2022, 6, 1, 9, 0, tzinfo=UTC)
    assert doc.text == (
        "Preface text.\n\nResults\n\nRevenue grew by 5 %.\n\nQuarter | Revenue\nQ1 | 10"
        "\n\nEurope\n\nStrong in Portugal.\n\nOutlook\n\nCautious."
    )
    assert [(s.locator, s.text) for s in doc.sections] == [
        ("", "Preface text."),
        ("Results", "Results\n\nRevenue grew by 5 %.\n\nQuarter | Revenue\nQ1 | 10"),
        ("Results > Europe", "Europe\n\nStrong in Portugal."),
        ("Outlook", "Outlook\n\nCautious."),
    ]


def test_docx_broken_file_raises_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="zip|Word"):
        list(DocxConnector().iter_documents(bad))


ODT_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content
 xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.3">
<office:body><office:text>
<text:sequence-decls/>
<text:p>Opening words.</text:p>
<text:h text:outline-level="1">Garden</text:h>
<text:p>Plant<text:s text:c="3"/>tomatoes<text:tab/>in May.<text:note><text:note-body>
<text:p>A footnote.</text:p></text:note-body></text:note></text:p>
<text:list><text:list-item><text:p>Basil</text:p></text:list-item>
<text:list-item><text:p>Mint</text:p></text:list-item></text:list>
<text:h text:outline-level="2">Roses</text:h>
<table:table><table:table-row><table:table-cell><text:p>Rose</text:p></table:table-cell>
<table:table-cell><text:p>Red</text:p></table:table-cell></table:table-row></table:table>
<text:p>Line one<text:line-break/>line two</text:p>
</office:text></office:body></office:document-content>
"""

ODT_META = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3">
<office:meta><dc:title>Garden plan</dc:title><dc:creator>Ben Baker</dc:creator>
<dc:date>2023-04-01T10:00:00</dc:date><meta:keyword>garden</meta:keyword></office:meta>
</office:document-meta>
"""


def build_odt(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", ODT_CONTENT)
        archive.writestr("meta.xml", ODT_META)
    return path


def test_odt_text_lists_tables_headings(tmp_path: Path) -> None:
    doc = only_doc(OdtConnector(), build_odt(tmp_path / "garden.odt"))
    assert doc.title == "Garden plan"
    assert doc.author == "Ben Baker"
    assert doc.timestamp == datetime(2023, 4, 1, 10, 0, tzinfo=UTC)
    assert doc.metadata["keywords"] == ["garden"]
    assert doc.text == (
        "Opening words.\n\nGarden\n\nPlant tomatoes in May.\n\nBasil\n\nMint\n\n"
        "Roses\n\nRose | Red\n\nLine one\nline two"
    )
    assert locators(doc) == ["", "Garden", "Garden > Roses"]
    assert "footnote" not in doc.text


def test_odt_written_by_odfpy(tmp_path: Path) -> None:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text="Minutes"))
    document.text.addElement(P(text="We met on Tuesday."))
    document.text.addElement(H(outlinelevel=2, text="Decisions"))
    document.text.addElement(P(text="Paint the fence green."))
    path = tmp_path / "minutes.odt"
    document.save(str(path))
    doc = only_doc(OdtConnector(), path)
    assert doc.text == "Minutes\n\nWe met on Tuesday.\n\nDecisions\n\nPaint the fence green."
    assert locators(doc) == ["Minutes", "Minutes > Decisions"]
    assert doc.title == "Minutes"


def test_flat_odt(tmp_path: Path) -> None:
    flat = tmp_path / "flat.fodt"
    content = ODT_CONTENT.replace("office:document-content", "office:document")
    flat.write_text(content, encoding="utf-8")
    doc = only_doc(OdtConnector(), flat)
    assert doc.title == "Garden"  # no meta: the first heading
    assert locators(doc) == ["", "Garden", "Garden > Roses"]


def build_epub(path: Path, *, drm: bool = False) -> Path:
    chapter = (
        '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        "<head><title>Book</title><style>p {{color: red}}</style></head>"
        "<body><h1>{heading}</h1>{body}</body></html>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        archive.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
            "<dc:title>The Small Book</dc:title><dc:creator>Cleo Doe</dc:creator>"
            "<dc:language>en</dc:language><dc:date>2021</dc:date></metadata>"
            '<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" '
            'properties="nav"/>'
            '<item id="c1" href="text/ch%201.xhtml" media-type="application/xhtml+xml"/>'
            '<item id="c2" href="text/ch2.xhtml" media-type="application/xhtml+xml"/>'
            '<item id="css" href="style.css" media-type="text/css"/></manifest>'
            '<spine><itemref idref="nav"/><itemref idref="c1"/><itemref idref="c2"/></spine>'
            "</package>",
        )
        archive.writestr(
            "OEBPS/nav.xhtml",
            '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
            '<body><nav epub:type="toc"><ol>'
            '<li><a href="text/ch%201.xhtml">1. The Beginning</a></li>'
            '<li><a href="text/ch2.xhtml#start">2. The End</a></li></ol></nav></body></html>',
        )
        archive.writestr(
            "OEBPS/text/ch 1.xhtml",
            chapter.format(heading="Beginning", body="<p>It was a dark and stormy night.</p>"),
        )
        archive.writestr(
            "OEBPS/text/ch2.xhtml",
            chapter.format(heading="End", body="<p>They lived happily.</p><script>x()</script>"),
        )
        archive.writestr("OEBPS/style.css", "p { margin: 0 }")
        if drm:
            archive.writestr(
                "META-INF/encryption.xml",
                '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
                'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
                '<enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
                "</enc:EncryptedData></encryption>",
            )
    return path


def test_epub_chapters_with_toc_titles(tmp_path: Path) -> None:
    doc = only_doc(EpubConnector(), build_epub(tmp_path / "book.epub"))
    assert doc.title == "The Small Book"
    assert doc.author == "Cleo Doe"
    assert doc.timestamp == datetime(2021, 1, 1, tzinfo=UTC)
    assert doc.metadata["language"] == "en"
    assert [(s.locator, s.text) for s in doc.sections] == [
        ("1. The Beginning", "Beginning\n\nIt was a dark and stormy night."),
        ("2. The End", "End\n\nThey lived happily."),
    ]
    assert doc.text == (
        "Beginning\n\nIt was a dark and stormy night.\n\nEnd\n\nThey lived happily."
    )


def test_epub_with_drm_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="DRM"):
        list(EpubConnector().iter_documents(build_epub(tmp_path / "drm.epub", drm=True)))


def test_zip_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.files import textutil

    monkeypatch.setattr(textutil, "MAX_ZIP_UNCOMPRESSED", 100_000)
    bomb = tmp_path / "bomb.epub"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip")
        archive.writestr("big.xhtml", b"\0" * 200_000)  # compresses to a few hundred bytes
    with pytest.raises(ValueError, match="too large"):
        list(EpubConnector().iter_documents(bomb))


# ---------------------------------------------------------------------------------------
# RTF, CSV, code


def test_rtf_text_and_info() -> None:
    doc = only_doc(RtfConnector(), FIXTURES / "letter.rtf")
    assert doc.title == "Letter to the landlord"
    assert doc.author == "Ann Example"
    assert doc.timestamp == datetime(2023, 11, 2, 9, 30, tzinfo=UTC)
    assert doc.text == (
        "Dear Mr. Dupont,\n\nthe heating in the café room has been broken since Monday.\n"
        "Please send a technician."
    )


def test_csv_rows_as_records() -> None:
    doc = only_doc(CsvConnector(), FIXTURES / "contacts.csv")
    assert doc.title == "contacts"
    assert doc.metadata["columns"] == ["name", "city", "phone", "notes"]
    assert doc.metadata["rows"] == 3
    assert [(s.locator, s.text) for s in doc.sections] == [
        (
            "rows 2-4",
            "name: Ann Example; city: Lisbon; phone: +351 21 000 0000; notes: likes tea, not coffee"
            "\nname: Ben Baker; city: Berlin; notes: two lines of notes"
            "\nname: Cleo Doe; city: Paris; phone: +33 1 00 00 00 00",
        )
    ]


def test_csv_sniffs_dialect_encoding_and_splits_rows(tmp_path: Path) -> None:
    table = tmp_path / "prices.csv"
    rows = ["Produkt;Preis;Stadt"] + [f"Käse {i};{i},50;Köln" for i in range(1, 121)]
    table.write_bytes("\n".join(rows).encode("cp1252"))
    doc = only_doc(CsvConnector(), table)
    assert doc.metadata["delimiter"] == ";"
    assert doc.sections[0].text.splitlines()[0] == "Produkt: Käse 1; Preis: 1,50; Stadt: Köln"
    assert locators(doc) == ["rows 2-51", "rows 52-101", "rows 102-121"]
    # no header row: columns are numbered
    headless = tmp_path / "numbers.tsv"
    headless.write_text("1\t2\n3\t4\n", encoding="utf-8")
    doc = only_doc(CsvConnector(), headless)
    assert doc.text == "column 1: 1; column 2: 2\ncolumn 1: 3; column 2: 4"
    assert locators(doc) == ["rows 1-2"]


def test_code_file_as_text() -> None:
    doc = only_doc(CodeConnector(), FIXTURES / "tool.py")
    assert doc.kind == "file"
    assert doc.title == "tool.py"
    assert doc.metadata["language"] == "Python"
    assert doc.text == (FIXTURES / "tool.py").read_text(encoding="utf-8").strip("\n")
    assert '    return f"Hello, {name}!"' in doc.text  # indentation kept
    assert locators(doc) == ["lines 1-11"]


def test_code_sections_split_at_blank_lines(tmp_path: Path) -> None:
    source = tmp_path / "long.js"
    blocks = [f"function f{i}() {{\n  return {i};   \n}}\n" for i in range(40)]
    source.write_text("\n".join(blocks), encoding="utf-8")
    doc = only_doc(CodeConnector(), source)
    assert "  return 0;\n}" in doc.text  # trailing spaces dropped, indentation kept
    for section in doc.sections:
        assert section.text.startswith("function"), section.locator
        assert re.fullmatch(r"lines \d+-\d+", section.locator)
    assert doc.sections[0].locator == "lines 1-59"


def test_code_claims() -> None:
    code = CodeConnector()
    assert code.claims(Path("main.rs"))
    assert code.claims(Path("Makefile"))
    assert code.claims(Path("config.yaml"))
    assert not code.claims(Path("app.min.js"))
    assert not code.claims(Path("data.json"))  # left to the chat connectors and others
    assert not code.claims(Path("notes.txt"))


# ---------------------------------------------------------------------------------------
# PDF: synthetic files


def make_pdf(path: Path, pages: list[list[str]], info: dict[str, str] | None = None) -> Path:
    """A minimal PDF with one Helvetica text line per entry, compressed streams."""
    import zlib

    objects: list[bytes] = [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", b""]
    kids = []
    for lines in pages:
        ops = ["BT /F1 11 Tf 14 TL 72 770 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        data = zlib.compress("\n".join(ops).encode("cp1252"))
        objects.append(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
        )
        content = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 1 0 R >> >> /Contents %d 0 R >>" % content
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    catalog = len(objects)
    trailer_info = b""
    if info:
        entries = b" ".join(b"/%s (%s)" % (k.encode(), v.encode()) for k, v in info.items())
        objects.append(b"<< " + entries + b" >>")
        trailer_info = b" /Info %d 0 R" % len(objects)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R%s >>\n" % (len(objects) + 1, catalog, trailer_info)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path


def test_pdf_pages_headers_footers_hyphenation(tmp_path: Path) -> None:
    bodies = [
        ["Revenue rose in spring."],
        ["The exam-", "ple shows hyphenation at a line end."],
        ["Costs fell."],
        ["Staff grew to 40."],
        ["Outlook: stable."],
    ]
    pages = []
    for number, body in enumerate(bodies, 1):
        pages.append(["ACME Corp - Quarterly Report", *body, f"Page {number} of 5"])
    pages.append([])  # a page without text (an image in real life)
    path = make_pdf(
        tmp_path / "report.pdf",
        pages,
        info={"Title": "Quarterly Report", "Author": "Ann Example", "CreationDate": "D:20230102"},
    )
    doc = only_doc(PdfConnector(), path)
    assert doc.title == "Quarterly Report"
    assert doc.author == "Ann Example"
    assert doc.timestamp == datetime(2023, 1, 2, tzinfo=UTC)
    assert locators(doc) == ["page 1", "page 2", "page 3", "page 4", "page 5"]
    assert doc.sections[0].text == "Revenue rose in spring."
    assert doc.sections[1].text == "The example\nshows hyphenation at a line end."
    assert "ACME" not in doc.text and "of 5" not in doc.text
    assert doc.metadata["page_count"] == 6
    assert doc.metadata["pages_without_text"] == [6]


def test_pdf_few_pages_keep_their_lines(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "two.pdf", [["Same header", "One"], ["Same header", "Two"]])
    doc = only_doc(PdfConnector(), path)
    assert doc.title == "two"
    assert [s.text for s in doc.sections] == ["Same header\nOne", "Same header\nTwo"]


def test_remove_repeated_edges_keeps_pages_that_are_only_the_line() -> None:
    pages = {n: ["Same form text"] for n in range(1, 5)}
    assert remove_repeated_edges(pages) == pages
    bodies = {1: "Alpha", 2: "Beta", 3: "Gamma", 4: "Delta"}
    numbered = {n: [f"{word} text", f"- {n} -"] for n, word in bodies.items()}
    numbered[5] = ["Epsilon has no footer"]
    cleaned = remove_repeated_edges(numbered)
    assert cleaned == {n: [f"{word} text"] for n, word in bodies.items()} | {5: numbered[5]}


def test_pdf_with_no_text_is_a_scan_for_ocr(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "scan.pdf", [[], []])
    docs, errors = run(PdfConnector(), path)
    assert errors == []
    (doc,) = docs
    assert doc.metadata["scanned"] is True and doc.sections == []
    assert [(i.locator, i.kind, i.page) for i in doc.images] == [("page 1", "pdf-page", 1), ("page 2", "pdf-page", 2)]


def test_not_a_pdf(tmp_path: Path) -> None:
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"<html>not a pdf</html>")
    with pytest.raises(PdfError, match="not a PDF"):
        list(PdfConnector().iter_documents(fake))
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")
    with pytest.raises(PdfError):
        list(PdfConnector().iter_documents(truncated))


def heavy_page(lines: int = 20_000) -> list[str]:
    """A page whose text extraction takes pypdf about a second (per 20,000 lines)."""
    return [f"word{i} and more text here" for i in range(lines)]


@pytest.mark.timeout(120)
def test_pdf_time_limit_kills_a_hanging_extraction(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "hang.pdf", [heavy_page(200_000)])
    extract_pdf(make_pdf(tmp_path / "warm.pdf", [["warm up"]]))  # start the worker
    with pytest.raises(PdfTimeoutError, match="time limit"):
        list(PdfConnector(time_limit=1.0).iter_documents(path))
    # a fresh worker serves the next file
    assert extract_pdf(tmp_path / "warm.pdf").pages == {1: "warm up\n"}


@pytest.mark.timeout(120)
def test_pdf_time_limit_keeps_pages_read_so_far(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "slow.pdf", [["Intro page"]] + [heavy_page()] * 6)
    extract_pdf(make_pdf(tmp_path / "warm.pdf", [["warm up"]]))
    docs, errors = run(PdfConnector(time_limit=1.5), path)
    assert len(docs) == 1
    doc = docs[0]
    assert doc.sections[0].locator == "page 1"
    assert doc.metadata["incomplete"] == "time"
    assert doc.metadata["pages_read"] < 7
    assert len(errors) == 1 and "time limit of 1.5 s" in errors[0].reason


def test_pdf_page_cap(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "long.pdf", [[f"Page text {n}"] for n in range(1, 6)])
    docs, errors = run(PdfConnector(max_pages=2), path)
    assert locators(docs[0]) == ["page 1", "page 2"]
    assert "page limit" in errors[0].reason and "pages 3-5" in errors[0].reason


def test_pdf_documents_from_an_extraction(tmp_path: Path) -> None:
    book = tmp_path / "book.pdf"
    book.write_bytes(b"%PDF-1.4")
    extraction = PdfExtraction(
        page_count=3,
        pages={1: "Text", 2: "", 3: "More"},
        page_errors={},
        meta={"outline": [{"title": "Chapter One", "level": 1, "page": 1}]},
    )
    (doc,) = list(pdf_documents(book, extraction))
    assert isinstance(doc, Document)
    assert doc.title == "Chapter One"  # no /Title: the first outline entry
    assert doc.metadata["pages_without_text"] == [2]
    assert doc.metadata["outline"][0]["page"] == 1


@pytest.mark.timeout(120)
def test_pdf_from_several_threads_at_once() -> None:
    """Watch mode and the TUI call connectors from worker threads: each thread gets
    its own worker process and the same result as a sequential run."""
    from concurrent.futures import ThreadPoolExecutor

    names = ["crazyones.pdf", "example.pdf", "issue-297.pdf", "hello-world.pdf"] * 2
    paths = [RESOURCES / name for name in names]
    sequential = [extract_pdf(p).pages for p in paths]
    with ThreadPoolExecutor(max_workers=3) as pool:
        parallel = list(pool.map(lambda p: extract_pdf(p).pages, paths))
    assert parallel == sequential


def test_pdf_in_process_mode() -> None:
    result = extract_pdf(RESOURCES / "crazyones.pdf", isolate=False)
    assert result.page_count == 1 and "Crazy Ones" in result.pages[1]


# ---------------------------------------------------------------------------------------
# PDF: the corpus


def corpus_pdfs() -> list[Path]:
    if not PDF_CORPUS.is_dir():  # fail, do not skip: the corpus is part of the task
        raise AssertionError(f"PDF corpus missing: {PDF_CORPUS}")
    return sorted(PDF_CORPUS.rglob("*.pdf"))


def encrypted_samples() -> dict[str, bool]:
    """files.json of py-pdf/sample-files: which samples are encrypted."""
    data = json.loads((SAMPLES / "files.json").read_text(encoding="utf-8"))
    return {entry["path"]: entry["encrypted"] for entry in data["data"]}


# Encrypted files of pypdf's resources that need a user password (pypdf's own tests
# open them with "asdfzxcv", "openpassword" or similar); every other encrypted file
# in the corpus opens with the empty password.
NEEDS_PASSWORD = {
    "py-pdf-sample-files/005-libreoffice-writer-password/libreoffice-writer-password.pdf",
    "pypdf-resources/resources/crazyones-encrypted-256.pdf",
    "pypdf-resources/resources/encrypted-file.pdf",
    "pypdf-resources/resources/encryption/r2-user-password.pdf",
    "pypdf-resources/resources/encryption/r3-user-password.pdf",
    "pypdf-resources/resources/encryption/r4-aes-user-password.pdf",
    "pypdf-resources/resources/encryption/r4-user-password.pdf",
    "pypdf-resources/resources/encryption/r6-both-passwords.pdf",
}
# Files pypdf cannot read at all: recorded as one clear error.
UNREADABLE = {
    "py-pdf-sample-files/017-unreadable-meta-data/unreadablemetadata.pdf",
}


@pytest.mark.timeout(600)
def test_every_corpus_pdf_gives_text_or_a_clear_error() -> None:
    pdfs = corpus_pdfs()
    assert len(pdfs) >= 80
    outcomes: dict[str, str] = {}
    for path in pdfs:
        name = path.relative_to(PDF_CORPUS).as_posix()
        try:
            docs, errors = run(PdfConnector(time_limit=60), path)
        except PdfPasswordError as exc:
            assert str(exc) == "encrypted PDF: needs a password"
            outcomes[name] = "password"
            continue
        except PdfError as exc:
            assert str(exc), name
            outcomes[name] = "error"
            continue
        for error in errors:
            assert error.path == str(path) and error.reason
        if docs and not docs[0].metadata.get("scanned"):
            (doc,) = docs
            assert doc.text.strip(), name
            assert doc.sections and all(
                re.fullmatch(r"page \d+", s.locator) for s in doc.sections
            ), name
            assert doc.title, name
            json.dumps(doc.metadata)  # storable
            outcomes[name] = "text"
        elif docs:
            (doc,) = docs  # no text layer at all: its pages go to OCR
            assert doc.images and all(i.kind == "pdf-page" for i in doc.images), name
            outcomes[name] = "scan"
        else:
            assert errors, name
            outcomes[name] = "error"
    assert {n for n, o in outcomes.items() if o == "password"} == NEEDS_PASSWORD
    assert {n for n, o in outcomes.items() if o == "error"} == UNREADABLE
    assert sum(o == "text" for o in outcomes.values()) >= 60


def test_encrypted_samples_per_files_json() -> None:
    flagged = {p for p, encrypted in encrypted_samples().items() if encrypted}
    assert flagged == {"005-libreoffice-writer-password/libreoffice-writer-password.pdf"}
    with pytest.raises(PdfPasswordError, match="^encrypted PDF: needs a password$"):
        list(PdfConnector().iter_documents(SAMPLES / sorted(flagged)[0]))


@pytest.mark.parametrize(
    "name", ["r2-empty-password", "r3-empty-password", "r5-empty-password", "r6-owner-password",
             "r4-aes-v2-no-key-length"],
)  # fmt: skip
def test_empty_password_pdfs_open(name: str) -> None:
    doc = only_doc(PdfConnector(), RESOURCES / "encryption" / f"{name}.pdf")
    assert doc.metadata["encrypted"] is True
    assert doc.text == "pdf encryption test\npassword: asdfzxcv"


def test_scanned_samples_go_to_ocr() -> None:
    doc = only_doc(PdfConnector(), SAMPLES / "019-grayscale-image" / "grayscale-image.pdf")
    assert doc.metadata["scanned"] is True and doc.images
    doc = only_doc(PdfConnector(), SAMPLES / "007-imagemagick-images" / "imagemagick-images.pdf")
    assert doc.metadata["pages_without_text"] == [4, 5]
    assert {4, 5} <= {i.page for i in doc.images}


def test_pdf_titles_from_metadata_and_outline() -> None:
    xmp = only_doc(PdfConnector(), SAMPLES / "020-xmp" / "output_with_metadata_pymupdf.pdf")
    assert xmp.title == "Sample PDF with XMP Metadata"
    outline_doc = only_doc(
        PdfConnector(), SAMPLES / "006-pdflatex-outline" / "pdflatex-outline.pdf"
    )
    assert outline_doc.metadata["outline"][0]["page"] >= 1
    geo = only_doc(PdfConnector(), SAMPLES / "009-pdflatex-geotopo" / "GeoTopo-komprimiert.pdf")
    assert geo.title == "Geometrie und Topologie"
    assert geo.metadata["page_count"] == 117
    attached = only_doc(PdfConnector(), SAMPLES / "025-attachment" / "with-attachment.pdf")
    assert attached.metadata["attachments"]


# pypdf's expected extractions: text file → the PDF it was extracted from. The
# "layout" files were made with pypdf's layout mode, which keeps columns side by side;
# we extract in reading order, so those compare as words, not as text.
GOLDEN_PLAIN = {
    "crazyones.txt": RESOURCES / "crazyones.pdf",
    "crazyones_layout_vertical_space.txt": RESOURCES / "crazyones.pdf",
    "crazyones_layout_vertical_space_font_height_weight.txt": RESOURCES / "crazyones.pdf",
    "010-pdflatex-forms.txt": SAMPLES / "010-pdflatex-forms" / "pdflatex-forms.pdf",
    "toy.layout.txt": RESOURCES / "toy.pdf",
}
GOLDEN_WORDS = {
    "multicolumn-lorem-ipsum.txt": SAMPLES / "026-latex-multicolumn" / "multicolumn.pdf",
}
# Expected extractions whose PDF is not in the corpus, or that are not text.
GOLDEN_UNUSABLE = {
    "AEO.1172.layout.txt": "PDF not in the corpus",
    "AEO.1172.layout.rot180.txt": "PDF not in the corpus",
    "Claim Maker Alerts Guide_pg2.layout.txt": "PDF not in the corpus",
    "Epic.Page.layout.txt": "PDF not in the corpus",
    "jpeg.txt": "hex dump of jpeg.pdf's image, not text",
}


def comparable(text: str) -> str:
    """Whitespace-insensitive, ligature-insensitive form of a text."""
    return " ".join(clean_text(text).split())


def test_golden_files_are_all_accounted_for() -> None:
    present = {p.name for p in RESOURCES.glob("*.txt")}
    assert present == set(GOLDEN_PLAIN) | set(GOLDEN_WORDS) | set(GOLDEN_UNUSABLE)


@pytest.mark.parametrize("golden", sorted(GOLDEN_PLAIN))
def test_pdf_golden_text(golden: str) -> None:
    doc = only_doc(PdfConnector(), GOLDEN_PLAIN[golden])
    expected = (RESOURCES / golden).read_text(encoding="utf-8")
    assert comparable(doc.text) == comparable(expected)


def test_pdf_golden_multicolumn_words() -> None:
    """Page 1 of the two-column paper against pypdf's layout-mode extraction.

    The golden keeps the columns side by side, so words hyphenated at a column's
    line end stay split ("Maece-" … "nas") and cannot be joined; we read column by
    column and join them ("Maecenas"). We also drop the page number "1", a footer
    repeated on all three pages. So: the same words, except that every word only we
    have is two of the golden's leftover fragments joined, and the golden's only
    other leftover is the page number.
    """
    doc = only_doc(PdfConnector(), GOLDEN_WORDS["multicolumn-lorem-ipsum.txt"])
    expected = (RESOURCES / "multicolumn-lorem-ipsum.txt").read_text(encoding="utf-8")

    def words(text: str) -> Counter[str]:  # NFKC expands the ligatures (ﬁ → fi)
        return Counter(re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower()))

    ours, theirs = words(doc.sections[0].text), words(expected)
    only_ours, only_theirs = ours - theirs, theirs - ours
    fragments = set(only_theirs)
    assert sum(ours.values()) > 400
    for word in only_ours:
        splits = [(word[:i], word[i:]) for i in range(1, len(word))]
        assert any(a in fragments and b in fragments for a, b in splits), word
    joined_parts = {
        part for word in only_ours for i in range(1, len(word))
        if word[:i] in fragments and word[i:] in fragments for part in (word[:i], word[i:])
    }  # fmt: skip
    assert set(only_theirs) - joined_parts == {"1"}


def test_clean_pages_joins_and_strips() -> None:
    pages = clean_pages({1: "Head\nA line with a hy-\nphen\n1", 2: "Head\nB\n2", 3: "Head\nC\n3"})
    assert pages == {1: "A line with a hyphen", 2: "B", 3: "C"}


def test_hostile_nesting_in_an_html_file_is_read_in_linear_time(tmp_path: Path) -> None:
    import time

    from connectors.files import HtmlConnector

    page = tmp_path / "nested.html"
    page.write_text("<html><body>" + "<div>" * 20000 + "deep text" + "</div>" * 20000 + "</body></html>")
    started = time.perf_counter()
    docs = [d for d in HtmlConnector().iter_documents(page) if not isinstance(d, ItemError)]
    assert time.perf_counter() - started < 5
    assert docs and "deep text" in docs[0].text
