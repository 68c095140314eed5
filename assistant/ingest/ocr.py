"""OCR: reading the text of scanned pages, photos and screenshots.

Two engines are supported; the default was chosen by measurement
(``scripts/bench_ocr.py``, docs/benchmarks.md):

- ``tesseract``: Debian's ``tesseract-ocr`` with its language packs, through
  pytesseract (which runs the ``tesseract`` program). The default.
- ``rapidocr``: ``rapidocr-onnxruntime`` from PyPI, whose wheel carries its ONNX
  models (``pip install rapidocr-onnxruntime``).

Images are hostile input (a person's downloads, spam attachments): this module
opens them with hard limits on pixels and frames, so a decompression bomb, a
20,000 × 20,000 PNG or a 1,000-frame TIFF is an :class:`OcrImageError` (a
per-item error), not gigabytes of RAM. Time and address space are bounded by the
worker process that calls it (``ocrworker.py``). Nothing is imported at import time.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.errors import SatchelError

ENGINES = ("tesseract", "rapidocr")
# Tesseract's names of the languages Satchel's other parts know (chunking, stemming).
DEFAULT_LANGUAGES = ("eng", "fra", "ita", "deu", "spa")
# Decoded pixels allowed in one image or frame: a 300 dpi A3 scan is 17.4 MP, a
# 48 MP phone photo passes; a 20,000 × 20,000 PNG (400 MP, 1.2 GB decoded) does not.
MAX_PIXELS = 60_000_000
# Frames read from one image (a multi-page fax TIFF); more is refused as hostile.
MAX_FRAMES = 50
# OCR works on at most this many pixels on the long side: beyond, text is large
# enough to read after downscaling and time and memory grow for nothing.
MAX_SIDE = 4000
# Pages read from a scanned PDF attached to an email (the rest is left out: the
# time limit of one OCR request covers this many pages).
MAX_PDF_BYTES_PAGES = 10
# Image bytes read at most (an email attachment, a zip member).
MAX_IMAGE_BYTES = 60 * 1024**2


class OcrUnavailableError(SatchelError):
    """OCR was asked for but no engine is installed (or it is turned off)."""


class OcrImageError(ValueError):
    """This one image (or page) cannot be read: broken, truncated or hostile."""


@dataclass(frozen=True)
class EngineStatus:
    """Whether OCR can run here, and if not, why and how to turn it on."""

    enabled: bool
    engine: str
    languages: tuple[str, ...]
    reason: str = ""
    how_to_enable: str = ""
    version: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "engine": self.engine,
            "languages": list(self.languages),
            "reason": self.reason,
            "how_to_enable": self.how_to_enable,
            "version": self.version,
        }


TESSERACT_HINT = (
    "install Tesseract and its language packs (as root: apt-get install tesseract-ocr tesseract-ocr-eng "
    "tesseract-ocr-fra tesseract-ocr-ita tesseract-ocr-deu tesseract-ocr-spa; scripts/install.sh does it when "
    "run as root), then run `satchel index`"
)
RAPIDOCR_HINT = ".venv/bin/pip install rapidocr-onnxruntime, then run `satchel index`"


# once per process and program: `status` (the TUI's sources screen) asks often
@functools.lru_cache(maxsize=8)
def _tesseract_languages(binary: str) -> frozenset[str]:
    import subprocess

    try:
        out = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


@functools.lru_cache(maxsize=8)
def _tesseract_version(binary: str) -> str:
    import subprocess

    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    first = (out.stdout or out.stderr).splitlines()
    return first[0].strip() if first else ""


def engine_status(enabled: bool, engine: str, languages: Sequence[str]) -> EngineStatus:
    """Whether OCR runs with these settings on this machine. Cheap enough for
    ``status`` (one ``tesseract --list-langs``), never raises."""
    langs = tuple(languages) or DEFAULT_LANGUAGES
    if engine not in ENGINES:
        return EngineStatus(
            False, engine, langs, f"unknown OCR engine {engine!r}", f"set ocr_engine to one of {', '.join(ENGINES)}"
        )
    if not enabled:
        return EngineStatus(False, engine, langs, "turned off (ocr = false)", "set ocr = true in config.toml")
    if engine == "tesseract":
        binary = shutil.which("tesseract")
        if binary is None:
            return EngineStatus(False, engine, langs, "the tesseract program is not installed", TESSERACT_HINT)
        try:
            import pytesseract  # noqa: F401
        except ImportError:
            return EngineStatus(False, engine, langs, "the pytesseract package is missing", "run scripts/install.sh")
        have = _tesseract_languages(binary)
        missing = [lang for lang in langs if lang not in have]
        if missing:
            packs = " ".join(f"tesseract-ocr-{m}" for m in missing)
            return EngineStatus(
                False,
                engine,
                langs,
                f"Tesseract lacks the language data {', '.join(missing)}",
                f"as root: apt-get install {packs} (or set ocr_languages to what it has: {', '.join(sorted(have))})",
            )
        return EngineStatus(True, engine, langs, version=_tesseract_version(binary))
    try:
        import importlib.util

        found = importlib.util.find_spec("rapidocr_onnxruntime") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return EngineStatus(False, engine, langs, "the rapidocr-onnxruntime package is not installed", RAPIDOCR_HINT)
    return EngineStatus(True, engine, langs)


# --- safe image decoding ---------------------------------------------------------------
def _pil() -> Any:
    from PIL import Image

    # Pillow's own bomb check (a warning at MAX_IMAGE_PIXELS, an error at twice that)
    # is replaced by ours, made in load_frames on the header's size before anything
    # is decoded, for every frame, with a message that names the size.
    Image.MAX_IMAGE_PIXELS = None
    try:
        from pillow_heif import register_heif_opener

        register_heif_opener()
    except ImportError:  # HEIC is read only where pillow-heif is installed
        pass
    return Image


def load_frames(data: bytes, max_frames: int = MAX_FRAMES) -> list[Any]:
    """The frames of an image, decoded to 8-bit greyscale within the limits, or an
    :class:`OcrImageError` saying why not."""
    Image = _pil()
    if len(data) > MAX_IMAGE_BYTES:
        raise OcrImageError(f"image of {len(data) / 1e6:.0f} MB, over the {MAX_IMAGE_BYTES // 1024**2} MB limit")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise OcrImageError(f"refused as a decompression bomb ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure is this image's problem
        raise OcrImageError(f"not an image Satchel can read ({type(exc).__name__}: {exc})") from None
    try:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise OcrImageError("an image of zero size")
        if width * height > MAX_PIXELS:
            raise OcrImageError(
                f"{width} × {height} pixels, over the limit of {MAX_PIXELS // 1_000_000} megapixels "
                "(a decompression bomb or an image too large to read)"
            )
        frames = int(getattr(image, "n_frames", 1) or 1)
        if frames > max_frames:
            raise OcrImageError(f"{frames} frames, over the limit of {max_frames}")
        out = []
        for index in range(frames):
            if index:
                image.seek(index)
                if image.size[0] * image.size[1] > MAX_PIXELS:
                    raise OcrImageError(f"frame {index + 1} is over the limit of {MAX_PIXELS // 1_000_000} megapixels")
            frame = image.convert("L")  # decodes; truncated data raises here
            if max(frame.size) > MAX_SIDE:
                scale = MAX_SIDE / max(frame.size)
                frame = frame.resize((max(1, int(frame.size[0] * scale)), max(1, int(frame.size[1] * scale))))
            out.append(frame)
        return out
    except OcrImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise OcrImageError(f"refused as a decompression bomb ({exc})") from None
    except MemoryError:
        raise OcrImageError("decoding needs more memory than allowed") from None
    except Exception as exc:  # noqa: BLE001 - truncated, corrupt, unsupported mode
        raise OcrImageError(f"the image cannot be decoded ({type(exc).__name__}: {exc})") from None
    finally:
        image.close()


def render_pdf_page(source: str | bytes, page: int, dpi: int = 300) -> Any:
    """One PDF page (1-based) as a greyscale image, at ``dpi`` or less so that it
    stays within MAX_SIDE (pdfium, the renderer of Chrome: a page that is only an
    image is rendered whatever filter its image uses)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(source)
    except Exception as exc:  # noqa: BLE001 - pdfium's errors for a broken file
        raise OcrImageError(f"the PDF cannot be rendered ({exc})") from None
    try:
        if not 1 <= page <= len(pdf):
            raise OcrImageError(f"the PDF has no page {page}")
        handle = pdf[page - 1]
        width, height = handle.get_size()  # points, 1/72 inch
        longest = max(width, height, 1.0)
        scale = min(dpi / 72, MAX_SIDE / longest)
        bitmap = handle.render(scale=scale, grayscale=True)
        image = bitmap.to_pil().convert("L")
        return image
    except OcrImageError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise OcrImageError(f"page {page} cannot be rendered ({type(exc).__name__}: {exc})") from None
    finally:
        pdf.close()


def pdf_page_count(data: bytes, limit: int | None = None) -> int:
    """Pages of a PDF given as bytes, at most ``limit`` (MAX_PDF_BYTES_PAGES)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as exc:  # noqa: BLE001
        raise OcrImageError(f"the PDF cannot be rendered ({exc})") from None
    try:
        return min(len(pdf), MAX_PDF_BYTES_PAGES if limit is None else limit)
    finally:
        pdf.close()


# --- engines -------------------------------------------------------------------------
class Engine:
    """One OCR engine, loaded once per worker process."""

    name = ""

    def recognize(self, image: Any) -> str:
        raise NotImplementedError


class TesseractEngine(Engine):
    name = "tesseract"

    def __init__(self, languages: Sequence[str], timeout: float = 0) -> None:
        import pytesseract

        self._tess = pytesseract
        self.lang = "+".join(languages or DEFAULT_LANGUAGES)
        self.timeout = timeout

    def recognize(self, image: Any) -> str:
        # --psm 3: automatic page segmentation (letters, receipts, screenshots alike)
        try:
            text = self._tess.image_to_string(image, lang=self.lang, config="--psm 3", timeout=self.timeout)
        except RuntimeError as exc:  # pytesseract's timeout
            raise OcrImageError(f"Tesseract took too long ({exc})") from None
        except self._tess.TesseractError as exc:
            raise OcrImageError(f"Tesseract failed: {str(exc)[:200]}") from None
        return str(text)


class RapidOcrEngine(Engine):
    name = "rapidocr"

    def __init__(self, languages: Sequence[str] = ()) -> None:
        from rapidocr_onnxruntime import RapidOCR

        # its bundled models (PP-OCR, Chinese + Latin script) read every language given
        self._ocr = RapidOCR()

    def recognize(self, image: Any) -> str:
        import numpy as np

        result, _elapsed = self._ocr(np.asarray(image.convert("RGB")))
        if not result:
            return ""
        # boxes come top to bottom; put boxes on the same line (overlapping in y) together
        boxes = sorted(result, key=lambda r: (min(p[1] for p in r[0]), min(p[0] for p in r[0])))
        lines: list[list[tuple[float, str]]] = []
        last_mid = None
        last_height = 0.0
        for box, text, _score in boxes:
            ys = [p[1] for p in box]
            mid, height = (min(ys) + max(ys)) / 2, max(ys) - min(ys)
            x = min(p[0] for p in box)
            if last_mid is not None and abs(mid - last_mid) < max(height, last_height) / 2:
                lines[-1].append((x, text))
            else:
                lines.append([(x, text)])
                last_mid, last_height = mid, height
        return "\n".join(" ".join(t for _, t in sorted(line)) for line in lines)


def make_engine(name: str, languages: Sequence[str], timeout: float = 0) -> Engine:
    if name == "tesseract":
        return TesseractEngine(languages, timeout)
    if name == "rapidocr":
        return RapidOcrEngine(languages)
    raise OcrUnavailableError(f"unknown OCR engine {name!r} (use one of {', '.join(ENGINES)})")


def clean_ocr_text(text: str) -> str:
    """Whitespace tidied, words broken at a line end joined, empty lines squeezed."""
    import re

    text = text.replace("\x0c", "\n").replace("\r", "")
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def thread_env() -> dict[str, str]:
    """Environment for an OCR worker: one OpenMP thread per Tesseract (measured:
    Tesseract's threads gain nothing on 2 cores and fight the embedder)."""
    env = dict(os.environ)
    env.setdefault("OMP_THREAD_LIMIT", "1")
    return env
