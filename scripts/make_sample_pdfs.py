"""Write the two invented PDFs of the bundled sample corpus into data/sample/docs/.

No PDF library is a dependency of Satchel, so this writes PDF 1.4 by hand: the
standard Helvetica fonts (no embedding), one content stream of Tj lines per page,
an Info dictionary with /Title, and a cross-reference table with byte-exact
offsets. The output is deterministic (fixed dates and /ID), so re-running the
script leaves the committed files unchanged.

Usage: python scripts/make_sample_pdfs.py [OUTPUT_DIR]
"""

from __future__ import annotations

import hashlib
import sys
import textwrap
from pathlib import Path

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN_LEFT, MARGIN_TOP, MARGIN_BOTTOM = 56, 64, 56
WRAP_COLUMNS = 92  # about 480 pt of 10 pt Helvetica

# style -> (font resource, size, leading, space before)
STYLES = {
    "title": ("F2", 17.0, 22.0, 0.0),
    "subtitle": ("F1", 11.0, 16.0, 0.0),
    "h": ("F2", 12.0, 16.0, 10.0),
    "p": ("F1", 10.0, 13.5, 0.0),
    "small": ("F1", 8.5, 11.0, 0.0),
}

Line = tuple[str, str]  # (style, text)
Page = list[Line]


def pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding, escaping what must be escaped."""
    out = bytearray(b"(")
    for byte in text.encode("cp1252"):
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif byte < 32 or byte > 126:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    out += b")"
    return bytes(out)


def wrap(page: Page) -> Page:
    """Break long body paragraphs into lines that fit the page width."""
    result: Page = []
    for style, text in page:
        if style in ("p", "small") and len(text) > WRAP_COLUMNS:
            indent = "    " if text.startswith("- ") else ""
            for i, part in enumerate(textwrap.wrap(text, WRAP_COLUMNS - len(indent))):
                result.append((style, part if i == 0 else indent + part))
        else:
            result.append((style, text))
    return result


def content_stream(page: Page, number: int, total: int, footer: str) -> bytes:
    ops = [b"BT"]
    y = PAGE_HEIGHT - MARGIN_TOP
    for style, text in wrap(page):
        font, size, leading, before = STYLES[style]
        y -= before
        if text:
            ops.append(b"/%s %.1f Tf" % (font.encode(), size))
            ops.append(b"1 0 0 1 %d %.1f Tm" % (MARGIN_LEFT, y))
            ops.append(pdf_string(text) + b" Tj")
        y -= leading
        if y < MARGIN_BOTTOM + 20:
            raise ValueError(f"page {number} overflows: {text!r}")
    ops.append(b"/F1 8.0 Tf")
    ops.append(b"1 0 0 1 %d %d Tm" % (MARGIN_LEFT, MARGIN_BOTTOM - 24))
    ops.append(pdf_string(f"{footer}    Page {number} of {total}") + b" Tj")
    ops.append(b"ET")
    return b"\n".join(ops) + b"\n"


def write_pdf(path: Path, title: str, author: str, subject: str, pages: list[Page]) -> None:
    """Assemble the objects, then the xref table from their recorded offsets."""
    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in once the page tree number is known
    pages_obj = add(b"")
    font_regular = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    font_bold = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    page_ids = []
    for number, page in enumerate(pages, start=1):
        stream = content_stream(page, number, len(pages), title)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream")
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] "
                b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_obj, PAGE_WIDTH, PAGE_HEIGHT, font_regular, font_bold, content)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    kids = b" ".join(b"%d 0 R" % i for i in page_ids)
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
    stamp = b"(D:20260301090000Z)"
    info = add(
        b"<< /Title "
        + pdf_string(title)
        + b" /Author "
        + pdf_string(author)
        + b" /Subject "
        + pdf_string(subject)
        + b" /Creator (Satchel sample corpus) /Producer (scripts/make_sample_pdfs.py)"
        + b" /CreationDate "
        + stamp
        + b" /ModDate "
        + stamp
        + b" >>"
    )

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    file_id = hashlib.md5(title.encode("utf-8")).hexdigest().encode()
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1,
        catalog,
        info,
        file_id,
        file_id,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    path.write_bytes(bytes(out))


LEASE: list[Page] = [
    [
        ("title", "Apartment Lease Summary"),
        ("subtitle", "Rua da Amendoeira 17, 3.º Esq., 1100-025 Lisboa"),
        (
            "small",
            "Prepared by the tenant from the signed lease (Contrato de Arrendamento, 11 pages).",
        ),
        ("h", "1. Parties"),
        ("p", "Landlord: Rui Fonseca (rui.fonseca@example.org)"),
        ("p", "Tenant: Jamie Rivera (jamie.rivera@example.com)"),
        ("h", "2. The apartment"),
        ("p", "Two-bedroom apartment (T2) on the 3rd floor, left side, 78 m², with a balcony."),
        ("p", "Includes storage room no. 5 in the basement. No parking space."),
        (
            "p",
            "Furnished kitchen: fridge, oven, hob and washing machine belong to the landlord "
            "and stay in the apartment.",
        ),
        ("h", "3. Term"),
        ("p", "Lease signed: 12 February 2024"),
        ("p", "Start date: 1 March 2024"),
        ("p", "Initial term: 3 years, until 28 February 2027."),
        (
            "p",
            "The lease renews automatically for further periods of 3 years unless it is ended "
            "as described in section 6.",
        ),
        ("h", "4. Rent"),
        ("p", "Monthly rent at the start of the lease: €950.00"),
        (
            "p",
            "The rent is due by the 8th day of each month, by bank transfer to the "
            "landlord's account.",
        ),
        (
            "p",
            "Rent update (clause 4): once a year, using the official coefficient published by the "
            "government, with at least 30 days' written notice from the landlord.",
        ),
        ("h", "5. Security deposit"),
        ("p", "Security deposit: €1,900.00 (two months' rent), paid on 12 February 2024."),
        (
            "p",
            "The deposit is returned within 30 days after the tenant hands back the keys, minus "
            "the cost of any damage beyond normal wear and tear.",
        ),
    ],
    [
        ("title", "Apartment Lease Summary"),
        ("h", "6. Ending the lease and notice period"),
        (
            "p",
            "Notice period for the tenant: 90 days. After the first year the tenant may end the "
            "lease at any time by giving 90 days' written notice (registered letter or email "
            "confirmed by the landlord).",
        ),
        (
            "p",
            "The landlord may not end the lease before 28 February 2027, except for the reasons "
            "allowed by law.",
        ),
        ("p", "At the end of the lease the apartment is returned clean, with all keys."),
        ("h", "7. Bills and charges"),
        (
            "p",
            "- Electricity, water, gas and internet: paid by the tenant, contracts "
            "in the tenant's name.",
        ),
        ("p", "- Condominium fees and building insurance: paid by the landlord."),
        ("p", "- Municipal property tax (IMI): paid by the landlord."),
        ("h", "8. Repairs and maintenance"),
        (
            "p",
            "- Small repairs and everyday wear (light bulbs, tap washers, blocked sinks) up to "
            "€100 per repair: the tenant.",
        ),
        (
            "p",
            "- Larger repairs, pipes inside the walls, the landlord's appliances, windows and "
            "the roof: the landlord, who must be told in writing without delay.",
        ),
        ("p", "- The tenant lets the landlord's tradespeople in at an agreed time."),
        ("h", "9. House rules"),
        ("p", "- One cat or one small dog is allowed."),
        (
            "p",
            "- Subletting, holiday letting (Airbnb and similar) and smoking indoors"
            " are not allowed.",
        ),
        (
            "p",
            "- Painting walls in light colours is fine; anything else needs the "
            "landlord's written consent.",
        ),
        ("p", "- The building's quiet hours are from 23:00 to 07:00."),
    ],
    [
        ("title", "Apartment Lease Summary"),
        ("h", "10. Keys handed over on 1 March 2024"),
        ("p", "- 3 sets of apartment keys"),
        ("p", "- 2 building entrance fobs"),
        ("p", "- 1 mailbox key and 1 key for the storage room"),
        ("h", "11. Useful contacts"),
        ("p", "Landlord: Rui Fonseca, rui.fonseca@example.org"),
        ("p", "Building administration: Gestão Predial Graça, condominio@gpgraca.example.com"),
        ("p", "Plumber recommended by the landlord: Sr. Anselmo (arranged through the landlord)"),
        ("h", "12. Signatures"),
        (
            "p",
            "Signed in Lisbon on 12 February 2024 by Rui Fonseca (landlord) and "
            "Jamie Rivera (tenant).",
        ),
        ("p", "Registered with the tax authority on 20 February 2024."),
        ("h", "Note"),
        (
            "small",
            "This is a personal summary of the lease, not the lease itself. If anything here "
            "differs from the signed lease, the signed lease prevails.",
        ),
    ],
]

INSURANCE: list[Page] = [
    [
        ("title", "Travel Insurance Policy Schedule"),
        ("subtitle", "Harbour Mutual Insurance, Annual Multi-Trip Europe Plus"),
        ("h", "Policy details"),
        ("p", "Policy number: TI-2026-558213"),
        ("p", "Policyholder: Jamie Rivera, Rua da Amendoeira 17, 3.º Esq., 1100-025 Lisboa"),
        ("p", "Insured persons: the policyholder only"),
        ("p", "Plan: Annual Multi-Trip Europe Plus"),
        ("p", "Period of cover: 1 January 2026 to 31 December 2026"),
        ("p", "Maximum length of any one trip: 45 days"),
        ("p", "Annual premium: €129.00, paid on 18 December 2025"),
        ("p", "Date of issue: 18 December 2025"),
        ("h", "Where you are covered"),
        ("p", "All countries of Europe, including the Canary Islands, Madeira and the Azores."),
        (
            "p",
            "Trips within Portugal are covered when you have booked at least one night of "
            "accommodation more than 50 km from your home.",
        ),
        ("h", "Optional cover"),
        ("p", "- Winter sports: not purchased"),
        ("p", "- Business equipment: not purchased"),
        ("p", "- Cancel for any reason: not purchased"),
    ],
    [
        ("title", "Travel Insurance Policy Schedule"),
        ("h", "Table of benefits (maximum amounts per insured person, per trip)"),
        ("p", "- Emergency medical expenses: up to €250,000"),
        ("p", "- Emergency repatriation and medical transport: included in the medical limit"),
        ("p", "- Hospital daily allowance: €50 per day, up to €1,000"),
        ("p", "- Trip cancellation and cutting a trip short: up to €5,000"),
        (
            "p",
            "- Baggage and personal belongings: up to €1,500 (single item limit "
            "€300, valuables €400 in total)",
        ),
        ("p", "- Delayed baggage (more than 12 hours): €200"),
        ("p", "- Travel delay: €30 for each full 12 hours of delay, up to €300"),
        ("p", "- Missed departure: up to €750"),
        ("p", "- Personal liability: up to €1,000,000"),
        ("p", "- Legal expenses abroad: up to €10,000"),
        ("h", "Excess"),
        (
            "p",
            "An excess of €75 per claim applies to medical expenses, cancellation and baggage "
            "claims. No excess applies to travel delay or delayed baggage.",
        ),
        ("h", "Main exclusions"),
        (
            "p",
            "- Medical conditions you knew about before buying the policy, unless "
            "declared and accepted.",
        ),
        ("p", "- Winter sports and any activity above 4,000 m altitude."),
        ("p", "- Claims caused by alcohol or drug use, or by travelling against medical advice."),
        ("p", "- Unattended baggage, and valuables carried in checked baggage."),
    ],
    [
        ("title", "Travel Insurance Policy Schedule"),
        ("h", "Emergency assistance, 24 hours a day"),
        ("p", "Phone: +351 21 000 7788 (from abroad) or 800 000 778 (from Portugal, free)"),
        ("p", "Please quote your policy number TI-2026-558213 when you call."),
        (
            "p",
            "Call us before going to hospital if you can, and always before paying any medical "
            "bill over €500.",
        ),
        ("h", "How to make a claim"),
        ("p", "1. Tell us within 31 days of returning home: claims@harbourmutual.example.com"),
        ("p", "2. Send the claim form, receipts and original invoices."),
        ("p", "3. For lost or stolen baggage, include a police report made within 24 hours."),
        ("p", "4. For delays, include written confirmation from the airline or ferry company."),
        ("p", "We aim to settle complete claims within 15 working days."),
        ("h", "Cancelling this policy"),
        (
            "p",
            "You may cancel within 14 days of the date of issue for a full refund, provided "
            "you have not travelled or made a claim.",
        ),
        ("h", "Complaints"),
        ("p", "Harbour Mutual Insurance, Customer Relations, complaints@harbourmutual.example.com"),
        (
            "small",
            "This schedule forms part of your policy. Please read it together with the policy "
            "wording (document HM-TRV-2026).",
        ),
    ],
]


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    out_dir = Path(argv[1]) if len(argv) > 1 else root / "data" / "sample" / "docs"
    out_dir.mkdir(parents=True, exist_ok=True)
    write_pdf(
        out_dir / "apartment-lease-summary.pdf",
        "Apartment Lease Summary - Rua da Amendoeira 17",
        "Jamie Rivera",
        "Lease of the apartment at Rua da Amendoeira 17, 3.º Esq., Lisboa",
        LEASE,
    )
    write_pdf(
        out_dir / "travel-insurance-policy.pdf",
        "Travel Insurance Policy Schedule TI-2026-558213",
        "Harbour Mutual Insurance",
        "Annual Multi-Trip Europe Plus policy for Jamie Rivera, 2026",
        INSURANCE,
    )
    for path in sorted(out_dir.glob("*.pdf")):
        print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
