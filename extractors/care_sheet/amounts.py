"""Handwritten amounts in a box (the total, a fee row), read glyph by glyph with the digit classifier.

The ink of the box (blank subtracted) is cut into its pieces, left to right: a piece much smaller than
the digits and sitting on their baseline is the decimal separator (a comma or a dot), the others are
digits (extractors.care_sheet.digits). Digits run together (joined script) or a stroke across them
are cut into digit-wide slices (at a cost in confidence); a stroke across them gives no reading
(None): the OCR's reading is then the only one. The amount is plausible only as
<1-5 digits><separator><2 digits>.
"""
from __future__ import annotations

import numpy as np

from extractors.care_sheet import digits
from extractors.care_sheet.comb import comb_ink
from extractors.care_sheet.ink import InkMap, blobs
from extractors.care_sheet.layout import PX_PER_MM, mm_box

SPECK_MM = 0.35  # smaller pieces are dust (a comma is ~0.6 x 1.2 mm)
SEPARATOR_MAX_HEIGHT = 0.45  # a separator is at most this share of the digits' median height ...
SEPARATOR_LOW = 0.55  # ... and its top lies in the lower part of the digits' band (a comma hangs below)
JOINED_WIDTH = 1.5  # a piece wider than this x the median digit width is several digits joined
JOINED_MAX = 3  # a piece of more digits than this is a scribble, not a number
JOINED_SURENESS = 0.8  # a digit cut out of joined ones: the cut itself may be wrong
CURRENCY_MAX_WIDTH = 2.2  # '€' after the amount: wider than a digit, dropped when last
MIN_DIGIT_MM = 1.6  # a digit is at least this tall


def read_amount(ink: InkMap, box_mm: list[float]) -> tuple[str | None, float]:
    """('184.50', confidence) from the glyphs in a box, or (None, 0.0)."""
    _, mask = comb_ink(ink, mm_box(box_mm))  # the box's ink, recovered where it crosses the box's edges
    parts, labels = blobs(mask, SPECK_MM)
    if len(parts) < 4:
        return None, 0.0
    order = sorted(range(len(parts)), key=lambda i: parts[i].x)  # labels number the pieces as `blobs` listed them
    tall = [p for p in parts if p.h >= MIN_DIGIT_MM * PX_PER_MM]
    if len(tall) < 3:
        return None, 0.0
    h_med = float(np.median([p.h for p in tall]))
    w_med = float(np.median([p.w for p in tall]))
    top = float(np.median([p.y for p in tall]))
    out, probs = [], []
    for rank, i in enumerate(order):
        p = parts[i]
        if p.h <= SEPARATOR_MAX_HEIGHT * h_med and p.y >= top + SEPARATOR_LOW * h_med:
            out.append(".")
            continue
        if p.h < MIN_DIGIT_MM * PX_PER_MM:
            continue  # a speck above the line
        if p.w > JOINED_WIDTH * w_med:
            if rank == len(order) - 1 and p.w <= CURRENCY_MAX_WIDTH * w_med and out:
                break  # a trailing euro sign
            n = round(p.w / w_med)
            if n > JOINED_MAX:
                return None, 0.0
            piece = labels[p.y:p.y + p.h, p.x:p.x + p.w] == i + 1
            for k in range(n):  # digits run together ("88" in one stroke): cut into equal widths, less sure
                d = digits.classify(piece[:, k * p.w // n:(k + 1) * p.w // n])
                out.append(d.digit)
                probs.append(d.confidence * JOINED_SURENESS)
            continue
        d = digits.classify(labels[p.y:p.y + p.h, p.x:p.x + p.w] == i + 1)
        out.append(d.digit)
        probs.append(d.confidence)
    text = "".join(out).strip(".")
    head, sep, tail = text.rpartition(".")
    if not sep or len(tail) != 2 or not head or "." in head or not (head + tail).isdigit() or len(head) > 5:
        return None, 0.0
    if int(head) == 0 and int(tail) == 0:
        return None, 0.0
    return f"{int(head)}.{tail}", float(np.prod(probs))
