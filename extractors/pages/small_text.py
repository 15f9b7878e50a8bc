"""Small print read enlarged: Tesseract reads characters of 5-8 px badly and the same enlarged well.

A low-resolution scan of an A4 invoice (560 x 830 px, ~70 dpi) or a till receipt photographed from
afar prints its characters 5-8 px high (their dark cores, as readability_measures measures them).
A person zooms in and reads them; Tesseract, tuned for 20-30 px characters, reads a third of the
words wrong (a real Chorus-Pro invoice: mean word confidence 67, SIRET and totals misread). The same
page enlarged twice with cubic interpolation reads at 86, every amount right. So a page whose print
is small is OCRed enlarged, and its word boxes are brought back to the page's own pixels: every
reader downstream (invoice fields, SIRET re-read, stamps) sees the same coordinates as before.
Print of ordinary size (every generated page: 15+ px cores at 200 dpi) is read as it is, at no cost.
"""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from core.records import PageText, Word
from extractors.pages.normalise import ocr_ready
from extractors.pages.ocr import OcrEngine

# Dark-core height (px, median text line) the enlargement brings small print up to: twice the 6 px
# of the low-resolution scans, where Tesseract's confidence plateaus (x2: 86, x3: 86 on the same page).
TARGET_CORE_PX = 12.0
MAX_SCALE = 3.0  # beyond, cubic interpolation invents nothing more and the page costs 9x the OCR
MIN_SCALE = 1.25  # less enlargement than this changes nothing worth a resampling


def ocr_scale(metrics: dict[str, float], enlargement: float = 1.0) -> float:
    """How much to enlarge the page image before OCR (1.0: not at all), from the readability measures
    (`char_h_p50`, in the capture's own pixels) and how much normalisation already enlarged the page."""
    h = metrics.get("char_h_p50", metrics.get("char_height_px"))
    if not h or h <= 0:
        return 1.0
    scale = TARGET_CORE_PX / (h * max(enlargement, 1e-6))
    if scale < MIN_SCALE:
        return 1.0
    return float(min(scale, MAX_SCALE))


def read_page_text(ocr: OcrEngine, image: np.ndarray, dpi: float | None, scale: float,
                   psm: int | None = None) -> PageText:
    """OCR of `image` (the page as normalised), resized by `scale` first (enlarged above 1, reduced
    below); word boxes in the pixels of `image` either way."""
    if scale == 1.0:
        return ocr.read(ocr_ready(image, dpi), psm=psm)
    resized = cv2.resize(image, None, fx=scale, fy=scale,
                         interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    text = ocr.read(ocr_ready(resized, dpi * scale if dpi else None), psm=psm)
    h, w = image.shape[:2]
    words = tuple(Word(wd.text, round(wd.left / scale), round(wd.top / scale), max(1, round(wd.width / scale)),
                       max(1, round(wd.height / scale)), wd.conf, wd.line) for wd in text.words)
    return replace(text, words=words, width=w, height=h)
