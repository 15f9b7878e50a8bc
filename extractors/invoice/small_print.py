"""A second, closer look at small print: the lines where a field should be but was not read.

Tesseract drops or misreads a digit of 6-7 pt print on a scan or a photo ('Siret 5308483400017', a
dotted '879.353.514.00026' read as 'opera see'); the same line enlarged twice reads right. Only the
few lines named by the field's reader are OCRed again (a region, not the page), and only when the
field is missing, so a clean invoice costs nothing more.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

import cv2
import numpy as np

from extractors.invoice.fields import read_invoice, siret_lines
from extractors.pages.ocr import OcrEngine
from core.errors import OcrError
from core.records import InvoiceFacts, PageText, TextSource, Word

REREAD_SCALE = 2.0  # enlargement (cubic) before the second reading: 6-7 pt print reaches a size Tesseract reads
REREAD_PAD = 0.5  # line heights kept above and below the line, and on each side: ascenders and descenders stay whole
REREAD_PSM = 6  # one block of text: sparse-text mode splits a dotted number into specks
REREAD_MAX_LINES = 2  # per invoice, labelled lines first: each line is one more OCR call, paid on a miss
REREAD_CONFIDENCE = 0.9  # a field found on the second look is a little less sure than one found at once


def reread_line(image: np.ndarray, text: PageText, box: tuple[int, int, int, int], ocr: OcrEngine) -> PageText:
    """`text` (read from `image`) with the words of the line in `box` replaced by what Tesseract reads
    in that box enlarged. Words of neighbouring lines caught in the margin are left out."""
    x0, y0, x1, y1 = box
    pad = round(REREAD_PAD * max(1, y1 - y0))
    h, w = image.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)
    crop = image[cy0:cy1, cx0:cx1]
    if crop.size == 0:
        return text
    big = cv2.resize(crop, None, fx=REREAD_SCALE, fy=REREAD_SCALE, interpolation=cv2.INTER_CUBIC)
    found = ocr.read(big, psm=REREAD_PSM).words

    def on_line(wd: Word) -> bool:
        return x0 <= wd.left + wd.width / 2 <= x1 and y0 <= wd.top + wd.height / 2 <= y1

    old = [wd for wd in text.words if on_line(wd)]
    line = old[0].line if old else max((wd.line for wd in text.words), default=-1) + 1
    new = []
    for wd in found:
        left, top = cx0 + wd.left / REREAD_SCALE, cy0 + wd.top / REREAD_SCALE
        width, height = wd.width / REREAD_SCALE, wd.height / REREAD_SCALE
        if y0 <= top + height / 2 <= y1 and wd.text.strip():
            new.append(Word(wd.text, round(left), round(top), max(1, round(width)), max(1, round(height)), wd.conf, line))
    if not new:
        return text
    kept = [wd for wd in text.words if not on_line(wd)]
    return replace(text, words=tuple(sorted(kept + new, key=lambda wd: (wd.line, wd.left))))


def reread_siret(facts: InvoiceFacts, texts: Sequence[PageText], image_of: Callable[[int], np.ndarray | None],
                 ocr: OcrEngine) -> InvoiceFacts:
    """`facts` with the SIRET a second look found, when the first found none. `image_of(i)`: the image
    `texts[i]` was OCRed from (None for a text layer), asked for only for a page with a line to re-read."""
    if facts.siret is not None:
        return facts
    patched, images = list(texts), {}
    for page, box in siret_lines(texts, REREAD_MAX_LINES):
        if page not in images:  # two lines of one page: one image
            images[page] = image_of(page) if texts[page].source == TextSource.OCR else None
        image = images[page]
        if image is None:
            continue
        try:
            patched[page] = reread_line(image, patched[page], box, ocr)
        except OcrError:
            continue
    if patched == list(texts):
        return facts
    again = read_invoice(patched)
    if again.siret is None:
        return facts
    confidence = dict(facts.confidence)
    confidence["siret"] = round(again.confidence.get("siret", 0.0) * REREAD_CONFIDENCE, 3)
    evidence = dict(facts.evidence)
    evidence["siret"] = again.evidence.get("siret", "") + " ; relu agrandi"
    return replace(facts, siret=again.siret, confidence=confidence, evidence=evidence, siret_failing_luhn=None)
