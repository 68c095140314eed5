"""OCR benchmark: character error rate and pages/s of Tesseract and RapidOCR.

Pages are rendered from known text (invented letters and receipts in English,
French, Italian, German and Spanish) in two conditions:

- clean: 300 dpi, black on white, as a flatbed scan;
- phone: 150 dpi, rotated 2°, blurred a little, Gaussian noise, JPEG at quality 60,
  as a photographed page.

Each engine reads every page with the languages Satchel configures by default
(all five at once, as a person's archive mixes them). CER is the edit distance
between the engine's text and the known text over the known text's length, both
with whitespace collapsed to single spaces. Time is wall time per page on this
machine, with the engine loaded once, pages read one after the other, and Tesseract held to
one OpenMP thread as Satchel's OCR worker holds it (``--omp-threads default`` lets
it use its own default: about three times slower on 2 cores).

    .venv/bin/python scripts/bench_ocr.py [--engines tesseract rapidocr] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TEXTS: dict[str, list[str]] = {
    "en": [
        "Dear Ms Holloway, thank you for your letter of 14 March. We confirm that the lease of the flat at "
        "27 Riverside Road ends on 30 June 2025. The deposit of 1,450 pounds will be returned within ten working "
        "days after the final inspection, less any cost of repairs agreed with you in writing. Please leave the "
        "keys with the porter and send us your new address.",
        "GREENGROCER & DELI - RECEIPT 00417. Sourdough loaf 3.20; Free-range eggs (12) 4.15; Cheddar 250g 3.75; "
        "Apples 1.2 kg 2.64; Oat milk 1.89. Subtotal 15.63, VAT 0.00, Total 15.63. Paid by card ending 8842 on "
        "02/05/2024 at 10:17. Thank you for shopping with us!",
    ],
    "fr": [
        "Madame, Monsieur, nous accusons réception de votre dossier de candidature pour le poste de technicienne "
        "de laboratoire. L'entretien aura lieu le mercredi 12 février à 14 h 30, au deuxième étage du bâtiment B. "
        "Merci de vous munir d'une pièce d'identité et de vos diplômes. Veuillez agréer nos salutations distinguées.",
        "BOULANGERIE DU MARCHÉ - Ticket n° 2291. Baguette tradition 1,30 €; Croissants (4) 4,60 €; Tarte aux "
        "pommes 12,50 €; Café crème 2,40 €. Total TTC 20,80 € dont TVA 5,5 % 1,08 €. Réglé en espèces le "
        "18/09/2024 à 08:42. À bientôt !",
    ],
    "it": [
        "Gentile signora Bianchi, le comunichiamo che la visita di controllo è stata spostata a giovedì 6 marzo "
        "alle ore 9:15, presso l'ambulatorio di via Garibaldi 48. Si prega di portare la tessera sanitaria e gli "
        "esami del sangue più recenti. Per disdire l'appuntamento chiami lo 055 123 4567 entro martedì.",
        "FERRAMENTA ROSSI - Scontrino 0093. Viti inox 4x40 (50 pz) 6,90; Tasselli 8 mm 3,20; Nastro isolante "
        "1,75; Lampadina LED E27 4,99. Totale complessivo 16,84 euro, IVA inclusa. Pagamento con bancomat il "
        "21/11/2024 alle 17:05. Grazie e arrivederci.",
    ],
    "de": [
        "Sehr geehrter Herr Müller, wir bestätigen Ihnen hiermit die Kündigung Ihres Vertrags zum 31. Dezember. "
        "Die monatliche Grundgebühr von 24,99 Euro wird letztmalig im Dezember abgebucht. Bitte senden Sie das "
        "geliehene Gerät innerhalb von vierzehn Tagen an unsere Adresse in der Königstraße 12, 70173 Stuttgart.",
        "BÄCKEREI SCHÄFER - Beleg Nr. 7710. Vollkornbrot 3,80; Brezeln (3) 2,85; Käsekuchen Stück 2,90; "
        "Kaffee groß 3,10. Summe 12,65 EUR, enthaltene MwSt. 7 % 0,83. Bezahlt mit Karte am 05.08.2024 um "
        "07:58 Uhr. Vielen Dank für Ihren Einkauf!",
    ],
    "es": [
        "Estimado señor García, le informamos de que su solicitud de reembolso ha sido aprobada. El importe de "
        "312,40 euros se abonará en su cuenta antes del próximo viernes. Si tiene alguna pregunta, puede "
        "llamarnos de lunes a jueves entre las 9:00 y las 14:00 o escribirnos a través del área de clientes.",
        "FARMACIA LÓPEZ - Ticket 3358. Ibuprofeno 600 mg 2,95; Crema solar SPF 50 14,50; Tiritas (20) 3,10; "
        "Agua micelar 6,25. Total 26,80 €, IVA incluido. Pagado con tarjeta el 14/07/2024 a las 19:31. "
        "¡Gracias por su visita y que se mejore!",
    ],
}
FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
]


def wrap(text: str, font: object, width: int, draw: object) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width:  # type: ignore[attr-defined]
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def render(text: str, dpi: int, font_path: str) -> object:
    """An A5-wide page with ``text`` at 11 pt, at ``dpi``."""
    from PIL import Image, ImageDraw, ImageFont

    width = int(5.8 * dpi)
    margin = int(0.6 * dpi)
    font = ImageFont.truetype(font_path, int(11 / 72 * dpi))
    probe = ImageDraw.Draw(Image.new("L", (10, 10)))
    lines = wrap(text, font, width - 2 * margin, probe)
    line_height = int(font.size * 1.45)
    height = 2 * margin + line_height * len(lines)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        draw.text((margin, margin + i * line_height), line, font=font, fill=0)
    return page


def phone_like(page: object, seed: int) -> object:
    """Rotated 2°, slightly blurred, with Gaussian noise, saved as a JPEG at quality 60."""
    import numpy as np
    from PIL import Image, ImageFilter

    rotated = page.rotate(2, resample=Image.BICUBIC, expand=True, fillcolor=255)  # type: ignore[attr-defined]
    blurred = rotated.filter(ImageFilter.GaussianBlur(0.6))
    rng = np.random.default_rng(seed)
    pixels = np.asarray(blurred, dtype=np.float32) + rng.normal(0, 18, size=blurred.size[::-1])
    noisy = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    noisy.save(buffer, "JPEG", quality=60)
    return Image.open(io.BytesIO(buffer.getvalue()))


def pages() -> list[tuple[str, str, str, object]]:
    """(language, condition, known text, image) for every test page."""
    out = []
    seed = 0
    for lang, texts in TEXTS.items():
        for i, text in enumerate(texts):
            font = FONTS[i % len(FONTS)]
            out.append((lang, "clean", text, render(text, 300, font)))
            seed += 1
            out.append((lang, "phone", text, phone_like(render(text, 150, font), seed)))
    return out


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cer(hypothesis: str, reference: str) -> float:
    hyp, ref = " ".join(hypothesis.split()), " ".join(reference.split())
    return edit_distance(hyp, ref) / max(1, len(ref))


def package_weight(names: list[str]) -> int:
    """Bytes the installed files of these distributions take."""
    from importlib import metadata

    total = 0
    for name in names:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or []:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                total += path.stat().st_size
    return total


def debian_weight(packages: list[str]) -> int:
    import subprocess

    total = 0
    for package in packages:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Installed-Size}", package], capture_output=True, text=True, check=False
        )
        if out.returncode == 0 and out.stdout.strip().isdigit():
            total += int(out.stdout.strip()) * 1024
    return total


def bench(engine_name: str, languages: list[str], test_pages: list[tuple[str, str, str, object]]) -> dict:
    from assistant.ingest.ocr import clean_ocr_text, make_engine

    started = time.perf_counter()
    engine = make_engine(engine_name, languages)
    engine.recognize(test_pages[0][3])  # a first call loads models; not timed
    load_s = time.perf_counter() - started
    by: dict[str, list[float]] = {}
    seconds: dict[str, float] = {"clean": 0.0, "phone": 0.0}
    samples = []
    for lang, condition, text, image in test_pages:
        t0 = time.perf_counter()
        read = clean_ocr_text(engine.recognize(image))
        seconds[condition] += time.perf_counter() - t0
        rate = cer(read, text)
        by.setdefault(condition, []).append(rate)
        by.setdefault(f"{condition}_{lang}", []).append(rate)
        if rate > 0.02:
            samples.append({"lang": lang, "condition": condition, "cer": round(rate, 4), "read": read[:160]})
    count = {c: sum(1 for p in test_pages if p[1] == c) for c in seconds}
    return {
        "engine": engine_name,
        "load_s": round(load_s, 2),
        "cer": {k: round(sum(v) / len(v), 4) for k, v in sorted(by.items())},
        "pages_per_s": {c: round(count[c] / seconds[c], 2) for c in seconds},
        "seconds_per_page": {c: round(seconds[c] / count[c], 2) for c in seconds},
        "pages": len(test_pages),
        "worst": sorted(samples, key=lambda s: -s["cer"])[:4],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="*", default=["tesseract", "rapidocr"])
    parser.add_argument("--languages", nargs="*", default=["eng", "fra", "ita", "deu", "spa"])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--save-pages", help="write the test pages as PNG files into this folder")
    parser.add_argument(
        "--omp-threads",
        default="1",
        help="OMP_THREAD_LIMIT for Tesseract: 1 as Satchel's OCR worker sets it; 'default' leaves it unset",
    )
    args = parser.parse_args()
    if args.omp_threads != "default":
        os.environ["OMP_THREAD_LIMIT"] = args.omp_threads
    random.seed(0)
    test_pages = pages()
    if args.save_pages:
        folder = Path(args.save_pages)
        folder.mkdir(parents=True, exist_ok=True)
        for n, (lang, condition, _text, image) in enumerate(test_pages):
            image.save(folder / f"{n:02}-{lang}-{condition}.png")  # type: ignore[attr-defined]
    results: dict[str, object] = {
        "pages": len(test_pages),
        "languages": args.languages,
        "cores": os.cpu_count(),
        "omp_thread_limit": os.environ.get("OMP_THREAD_LIMIT", ""),
    }
    for name in list(args.engines):
        print(f"{name} …", file=sys.stderr, flush=True)
        try:
            results[name] = bench(name, args.languages, test_pages)
        except ImportError as exc:  # rapidocr is an extra: pip install -e ".[ocr-rapidocr]"
            print(f"{name} is not installed, left out ({exc})", file=sys.stderr)
            args.engines.remove(name)
    results["install_bytes"] = {
        "tesseract": debian_weight(
            ["tesseract-ocr", "libtesseract5", "liblept5", "tesseract-ocr-eng", "tesseract-ocr-osd"]
            + [f"tesseract-ocr-{lang}" for lang in ("fra", "ita", "deu", "spa")]
        )
        + package_weight(["pytesseract"]),
        "rapidocr": package_weight(
            ["rapidocr-onnxruntime", "onnxruntime", "opencv-python", "Shapely", "pyclipper", "protobuf", "flatbuffers"]
        ),
    }
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        for name in args.engines:
            r = results[name]
            assert isinstance(r, dict)
            print(f"{name}: CER {r['cer']}  pages/s {r['pages_per_s']}  load {r['load_s']} s")
        print(f"install bytes: {results['install_bytes']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
