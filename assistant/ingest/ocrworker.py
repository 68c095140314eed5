"""The OCR worker process: reads images and scanned pages, one request at a time.

Images are hostile input, and OCR is slow: so it runs in a child process that the
OCR pass (``ocr_pass.py``) kills when a page takes longer than its time limit, and
whose address space is limited (``--memory-mb``), so a decompression bomb that
slips past the pixel checks fails here, not in the indexer. Tesseract, started by
pytesseract, inherits the limit.

Protocol: one JSON object per line on stdin, one per line on stdout (the parent
never unpickles what a process reading hostile files sends it).

- request: ``{"kind": "file"|"pdf-page"|"zip-member"|"bytes"|"pdf-bytes", "path": ..., "page": n,
  "member": name, "engine": name, "languages": [...], "timeout": seconds}``
  (``bytes``: the image itself, base64 in ``data``: never written to disk;
  ``pdf-bytes``: a scanned PDF the same way, its first MAX_PDF_BYTES_PAGES pages);
- reply: ``{"text": ..., "frames": n, "seconds": s}`` or ``{"error": reason}``.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import zipfile
from typing import Any

from assistant.ingest.ocr import (
    MAX_IMAGE_BYTES,
    Engine,
    OcrImageError,
    clean_ocr_text,
    load_frames,
    make_engine,
    pdf_page_count,
    render_pdf_page,
)

# Seconds an idle worker waits for the next request before it exits on its own.
IDLE_EXIT_SECONDS = 300.0


def read_capped(path: str, limit: int = MAX_IMAGE_BYTES) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OcrImageError(f"the image is over the {limit // 1024**2} MB limit")
    return data


def read_member(path: str, member: str, limit: int = MAX_IMAGE_BYTES) -> bytes:
    """One zip member's bytes, never more than ``limit`` (a zip bomb stops there)."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(member)
            if info.file_size > limit:
                raise OcrImageError(f"{member} is over the {limit // 1024**2} MB limit")
            with archive.open(info) as handle:
                data = handle.read(limit + 1)
    except KeyError:
        raise OcrImageError(f"{member} is not in the archive any more") from None
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, ValueError, EOFError) as exc:
        raise OcrImageError(f"{member} cannot be read from the archive ({exc})") from None
    if len(data) > limit:
        raise OcrImageError(f"{member} inflates beyond {limit // 1024**2} MB")
    return data


def frames_of(request: dict[str, Any]) -> list[Any]:
    kind = request.get("kind")
    path = str(request.get("path") or "")
    if kind == "pdf-page":
        return [render_pdf_page(path, int(request.get("page") or 1))]
    if kind == "zip-member":
        return load_frames(read_member(path, str(request.get("member") or "")))
    if kind in ("bytes", "pdf-bytes"):
        encoded = str(request.get("data") or "")
        if len(encoded) > (MAX_IMAGE_BYTES + 2) // 3 * 4 + 4:
            raise OcrImageError(f"the file is over the {MAX_IMAGE_BYTES // 1024**2} MB limit")
        data = base64.b64decode(encoded)
        if kind == "bytes":
            return load_frames(data)
        return [render_pdf_page(data, page) for page in range(1, pdf_page_count(data) + 1)]
    if kind == "file":
        return load_frames(read_capped(path))
    raise OcrImageError(f"unknown image kind {kind!r}")


def handle(request: dict[str, Any], engines: dict[tuple[str, tuple[str, ...]], Engine]) -> dict[str, Any]:
    started = time.monotonic()
    key = (str(request.get("engine") or "tesseract"), tuple(request.get("languages") or ()))
    try:
        frames = frames_of(request)
        if key not in engines:
            engines[key] = make_engine(key[0], key[1], timeout=float(request.get("timeout") or 0))
        engine = engines[key]
        texts = [clean_ocr_text(engine.recognize(frame)) for frame in frames]
    except OcrImageError as exc:
        return {"error": str(exc)}
    except FileNotFoundError:
        return {"error": "the file is gone"}
    except MemoryError:
        return {"error": "reading it needs more memory than the OCR worker may use"}
    except OSError as exc:
        return {"error": f"cannot be read ({exc.strerror or exc})"}
    except Exception as exc:  # noqa: BLE001 - any failure is this image's, not the worker's
        return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    text = "\n\n".join(t for t in texts if t)
    return {"text": text, "frames": len(frames), "seconds": round(time.monotonic() - started, 3)}


def _limit_memory(megabytes: int) -> None:
    if megabytes <= 0:
        return
    import resource

    limit = megabytes * 1024**2
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def serve(memory_mb: int) -> None:
    import threading
    import warnings

    warnings.simplefilter("ignore")
    _limit_memory(memory_mb)
    engines: dict[tuple[str, tuple[str, ...]], Engine] = {}
    last = [time.monotonic()]

    def idle_watch() -> None:
        # a parent that died without closing our stdin must not leave us running
        while True:
            time.sleep(10)
            if time.monotonic() - last[0] > IDLE_EXIT_SECONDS:
                import os

                os._exit(0)

    threading.Thread(target=idle_watch, daemon=True).start()
    # replies go to the real stdout; anything a library prints goes to stderr, so it
    # can never be taken for a reply
    out = sys.stdout
    sys.stdout = sys.stderr
    for line in sys.stdin:
        last[0] = time.monotonic()
        try:
            request = json.loads(line)
        except ValueError:
            continue
        reply = handle(request, engines)
        out.write(json.dumps(reply, ensure_ascii=False) + "\n")
        out.flush()
        last[0] = time.monotonic()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memory-mb", type=int, default=2048)
    args = parser.parse_args()
    serve(args.memory_mb)


if __name__ == "__main__":
    main()
