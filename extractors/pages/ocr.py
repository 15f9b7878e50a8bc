"""The one Tesseract wrapper: nothing else calls pytesseract.

One `image_to_data` call per image or region, French + English, single-threaded
Tesseract (OMP_THREAD_LIMIT=1: several times faster per page here and lets pages
run in parallel), a timeout, bounded retries, results cached by content hash.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytesseract

from intake.core.errors import OcrError
from intake.core.records import PageText, TextSource, Word
from intake.core.settings import Settings

os.environ["OMP_THREAD_LIMIT"] = "1"  # inherited by every tesseract process we start

log = logging.getLogger(__name__)

# Tesseract reads the page from a file. pytesseract would write a numpy image as PNG (~0.3 s of
# zlib per 200-dpi page, a fifth of the OCR's own time); an uncompressed PGM in RAM costs ~2 ms.
_TMP_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


_SLOTS: dict[int, threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


def tesseract_slots(n: int) -> threading.BoundedSemaphore:
    """At most `n` tesseract processes at once in this process, however many dossiers and pages
    run in threads: one single-threaded Tesseract per core, never more."""
    with _SLOTS_LOCK:
        return _SLOTS.setdefault(max(1, n), threading.BoundedSemaphore(max(1, n)))


@contextmanager
def _image_file(grey: np.ndarray):
    """The grey image as an uncompressed PGM file, removed afterwards."""
    fd, name = tempfile.mkstemp(suffix=".pgm", prefix="intake-ocr-", dir=_TMP_DIR)
    os.close(fd)
    try:
        if not cv2.imwrite(name, grey):
            raise OSError("could not write the page for Tesseract")
        yield name
    finally:
        try:
            os.unlink(name)
        except OSError:
            pass


def _cache_key(image: np.ndarray, settings: Settings, psm: int) -> str:
    h = hashlib.sha256()
    h.update(f"{image.shape}|{image.dtype}|{settings.ocr_languages}|{psm}|v1".encode())
    h.update(np.ascontiguousarray(image).data)
    return h.hexdigest()


def _parse(data: dict) -> tuple[Word, ...]:
    """Tesseract's image_to_data dict -> words, numbered by (block, paragraph, line)."""
    words: list[Word] = []
    line_ids: dict[tuple[int, int, int], int] = {}
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        line = line_ids.setdefault(key, len(line_ids))
        words.append(
            Word(
                text=text,
                left=int(data["left"][i]),
                top=int(data["top"][i]),
                width=int(data["width"][i]),
                height=int(data["height"][i]),
                conf=conf,
                line=line,
            )
        )
    return tuple(words)


def _words_to_json(words: tuple[Word, ...]) -> list[list]:
    return [[w.text, w.left, w.top, w.width, w.height, w.conf, w.line] for w in words]


def _words_from_json(rows: list[list]) -> tuple[Word, ...]:
    return tuple(Word(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows)


def ocr_image(
    image: np.ndarray,
    settings: Settings,
    *,
    region: tuple[int, int, int, int] | None = None,
    psm: int | None = None,
    cache_dir: Path | None = None,
) -> PageText:
    """OCR an image (or the region x0, y0, x1, y1 of it) and return its words.

    Boxes are in pixels of `image` whatever region or scaling was used. Raises
    OcrError when Tesseract fails or times out on every try.
    """
    psm = settings.ocr_psm if psm is None else psm
    full_h, full_w = image.shape[:2]
    x0, y0 = 0, 0
    if region is not None:
        x0, y0, x1, y1 = (int(v) for v in region)
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(full_w, x1), min(full_h, y1)
        image = image[y0:y1, x0:x1]
    if image.size == 0:
        return PageText((), TextSource.OCR, full_w, full_h)

    scale = 1.0
    longest = max(image.shape[:2])
    if longest > settings.ocr_max_side_px:
        scale = settings.ocr_max_side_px / longest
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)

    cache_dir = cache_dir or settings.ocr_cache_dir
    cache_file = None
    if cache_dir is not None:
        key = _cache_key(image, settings, psm)
        cache_file = Path(cache_dir) / key[:2] / f"{key}.json"
        if cache_file.exists():
            try:
                words = _words_from_json(json.loads(cache_file.read_text()))
                return PageText(_shift(words, x0, y0, scale), TextSource.OCR, full_w, full_h)
            except (ValueError, IndexError, OSError):
                pass  # a damaged cache entry is simply recomputed

    config = f"--psm {psm} --oem 1"
    last_error: Exception | None = None
    for attempt in range(settings.ocr_retries + 1):
        try:
            with _image_file(image) as path, tesseract_slots(settings.workers):
                data = pytesseract.image_to_data(
                    path,
                    lang=settings.ocr_languages,
                    config=config,
                    timeout=settings.ocr_timeout_s,
                    output_type=pytesseract.Output.DICT,
                )
            break
        except (RuntimeError, pytesseract.TesseractError, OSError) as exc:
            # RuntimeError is pytesseract's timeout; TesseractError a crash.
            last_error = exc
            log.warning("tesseract attempt %d failed: %s", attempt + 1, exc)
    else:
        raise OcrError(f"Tesseract failed: {last_error}")

    local = _parse(data)  # in the (scaled, cropped) image's pixels
    if cache_file is not None:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(_words_to_json(local)))
            os.replace(tmp, cache_file)
        except OSError:
            pass  # the cache is an optimisation, never a failure
    return PageText(_shift(local, x0, y0, scale), TextSource.OCR, full_w, full_h)


def _shift(words: tuple[Word, ...], x0: int, y0: int, scale: float) -> tuple[Word, ...]:
    """Map boxes from the scaled crop back to the full image."""
    if scale == 1.0 and x0 == 0 and y0 == 0:
        return words
    return tuple(
        Word(
            w.text,
            int(round(w.left / scale)) + x0,
            int(round(w.top / scale)) + y0,
            int(round(w.width / scale)),
            int(round(w.height / scale)),
            w.conf,
            w.line,
        )
        for w in words
    )


def detect_orientation(image: np.ndarray, settings: Settings) -> tuple[int, float] | None:
    """Tesseract OSD: (degrees to rotate clockwise to make the page upright, confidence), or None."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    try:
        with _image_file(gray) as path, tesseract_slots(settings.workers):
            osd = pytesseract.image_to_osd(
                path, config="--psm 0", timeout=settings.ocr_timeout_s, output_type=pytesseract.Output.DICT
            )
    except (RuntimeError, pytesseract.TesseractError, OSError):
        return None
    return int(osd.get("rotate", 0)), float(osd.get("orientation_conf", 0.0))
