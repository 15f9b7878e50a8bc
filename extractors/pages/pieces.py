"""A page far longer than wide (a till receipt scanned whole, a 5 m PDF page) -> pieces of a page's shape.

Every reader after loading works on page-shaped images: readability measures at 2400 px on the long
side, Tesseract at 3600 (`Settings.ocr_max_side_px`). A receipt 80 mm wide and 5 m long at 200 dpi
(630 x 39400 px) shrunk to those sizes is 40-60 px wide: no print survives. So such a page is cut,
across its length, into pieces as long as a page, each cut in the emptiest row near where it falls (the
gap between two lines of print, so no line is cut and none is read twice). The pieces keep the page's
number: documents.csv still names the page of the file, each piece's `ref` and `steps` say which piece.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from extractors.pages import geometry
from core.records import Capture, Page

SPLIT_MIN_LONG_PX = 7200  # pages longer than this (twice what OCR keeps) and...
SPLIT_MIN_ASPECT = 2.0  # ...at least this much longer than wide are cut (a large square photo is only reduced)
PIECE_MIN_LONG_PX = 2400  # a piece is at least as long as the readability measures' working size...
PIECE_ASPECT = 2 ** 0.5  # ...or as an A4 page of the strip's width, whichever is longer
CUT_SEARCH_SHARE = 0.15  # the cut goes in the emptiest row within this share of a piece before its end


def split_long_page(page: Page) -> list[Page]:
    """[page] when it has a page's shape (or a text layer, read whole); else its pieces, top to bottom
    (left to right for a long landscape strip), together exactly the page's pixels."""
    if page.capture == Capture.PDF_TEXT or page.image is None:
        return [page]
    h, w = page.image.shape[:2]
    long_, short = max(h, w), min(h, w)
    if long_ <= SPLIT_MIN_LONG_PX or long_ < SPLIT_MIN_ASPECT * short:
        return [page]
    tall = h >= w
    piece = max(PIECE_MIN_LONG_PX, round(PIECE_ASPECT * short))
    ink = geometry.ink_mask(geometry.to_grey(page.image))
    profile = (ink > 0).sum(axis=1 if tall else 0)  # ink per row (per column of a landscape strip)
    cuts = [0]
    while long_ - cuts[-1] > piece:
        end = cuts[-1] + piece
        lo = end - int(CUT_SEARCH_SHARE * piece)
        window = profile[lo:end]
        cuts.append(lo + int(len(window) - 1 - np.argmin(window[::-1])))  # the emptiest, latest first
    cuts.append(long_)
    n = len(cuts) - 1
    out = []
    for k, (a, b) in enumerate(zip(cuts[:-1], cuts[1:]), 1):
        img = page.image[a:b] if tall else page.image[:, a:b]
        out.append(replace(page, image=np.ascontiguousarray(img), steps=page.steps + (f"piece_{k}_of_{n}",),
                           ref=f"{page.ref}.{k}"))
    return out
