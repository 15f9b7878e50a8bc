"""The ink of a comb field (a date's eight cells), recovered where it crosses the comb's printed lines.

`InkMap.excess` compares the page with the blank's print widened by ink.BLANK_SPREAD_PX on every
side, so that no printed line is ever ink anywhere on the sheet. Around a comb that band is ~1.2 mm
wide at each cell separator, a quarter of a 4.3 mm cell: a digit written over a separator loses the
strokes inside it (dev set, seed 31: a "0" on the separator read as "C" or ")", one digit in five
cut). Here, in the comb's window only:
1. the blank's print is aligned to this page to the pixel (the shift, within ±SEARCH_PX, that best
   overlays the blank's darkness on the page's: the registration's residue), and widened by
   TIGHT_PX only;
2. what is darker than that is ink, *if* it touches ink the wide comparison already saw (a blurred
   line's edge left over by the tight comparison is a thin piece of its own, and is dropped; a 2 x 2
   opening against the edges that touch a digit cost more strokes than it saved: 449 vs 461 cells);
   (the comb's top and bottom edges too: digits overflow them; recovering the separators only read
   fewer dates on the dev set, 60-73 % vs 65-87 %);
3. the gaps the printed line itself leaves in a crossing stroke are closed (a 3 x 3 closing inside
   the wide band only).
"""
from __future__ import annotations

import cv2
import numpy as np

from extractors.care_sheet.ink import INK_MIN, InkMap, crop
from extractors.care_sheet.layout import blank_grey

SEARCH_PX = 3  # the registration's residue around a comb (form frame: ±0.5 mm)
TIGHT_PX = 1  # the aligned print is widened by this radius only (its own blur)
BAND_PX = 4  # where the wide comparison erased ink: the print widened by ink.BLANK_SPREAD_PX (+1)


def _aligned_print(ink: InkMap, box: tuple[int, int, int, int]) -> np.ndarray:
    """The blank's darkness in `box`, shifted onto this page's print (float32)."""
    x0, y0, x1, y1 = box
    dark = (255 - cv2.cvtColor(crop(ink.balanced, box), cv2.COLOR_BGR2GRAY)).astype(np.float32)
    s = SEARCH_PX
    wide = 255 - crop(blank_grey(), (x0 - s, y0 - s, x1 + s, y1 + s)).astype(np.float32)
    h, w = dark.shape
    if wide.shape != (h + 2 * s, w + 2 * s):  # the comb at the frame's edge: no alignment
        return wide[s:s + h, s:s + w] if wide.shape[0] >= h + s and wide.shape[1] >= w + s else np.zeros_like(dark)
    scores = [(float((wide[s + dy:s + dy + h, s + dx:s + dx + w] * dark).sum()), dy, dx)
              for dy in range(-s, s + 1) for dx in range(-s, s + 1)]
    _, dy, dx = max(scores)
    return wide[s + dy:s + dy + h, s + dx:s + dx + w]


def comb_ink(ink: InkMap, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(excess uint8, ink mask bool) of the window `box` (form px) around a comb, the ink crossing its
    printed lines recovered (module docstring)."""
    printed = _aligned_print(ink, box)
    k = 2 * TIGHT_PX + 1
    dark = 255 - crop(ink.balanced, box).min(axis=2).astype(np.float32)
    excess = np.clip(dark - cv2.dilate(printed, np.ones((k, k), np.uint8)), 0, 255).astype(np.uint8)
    wide_ink = crop(ink.ink, box)
    band = cv2.dilate((printed > INK_MIN).astype(np.uint8), np.ones((2 * BAND_PX + 1,) * 2, np.uint8)) > 0
    tight = (excess >= INK_MIN) & crop(ink.valid, box)
    n, labels = cv2.connectedComponents(tight.astype(np.uint8), connectivity=8)
    seen = np.unique(labels[wide_ink & tight])
    kept = np.isin(labels, seen[seen > 0]) | wide_ink
    closed = cv2.morphologyEx(kept.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)) > 0
    mask = kept | (closed & band)
    excess = np.where(mask, np.maximum(excess, crop(ink.excess, box)), crop(ink.excess, box))
    return excess.astype(np.uint8), mask


SPECK_PX = 3  # smaller pieces are dust
SEPARATOR_HEIGHT = 0.45  # a piece at most this share of the glyphs' median height is a dot or a comma
SAME_GLYPH_OVERLAP = 0.5  # two pieces whose columns overlap this much (of the narrower) are one glyph


def _glyphs(mask: np.ndarray) -> tuple[list[np.ndarray], int]:
    """The comb's ink as glyphs left to right (pieces sharing columns merged), and how many small
    separators (dots, commas) were left out."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    pieces = sorted((int(stats[i, 0]), int(stats[i, 0] + stats[i, 2]), [i]) for i in range(1, n)
                    if max(stats[i, 2], stats[i, 3]) >= SPECK_PX)
    groups: list[list] = []
    for x0, x1, ids in pieces:
        if groups and min(x1, groups[-1][1]) - x0 >= SAME_GLYPH_OVERLAP * min(x1 - x0, groups[-1][1] - groups[-1][0]):
            groups[-1] = [groups[-1][0], max(x1, groups[-1][1]), groups[-1][2] + ids]
        else:
            groups.append([x0, x1, ids])
    masks = [np.isin(labels, ids) for _, _, ids in groups]
    heights = [np.ptp(np.nonzero(m)[0]) + 1 for m in masks]
    if not heights:
        return [], 0
    tall = float(np.median(heights))
    glyphs = [m for m, h in zip(masks, heights) if h > SEPARATOR_HEIGHT * tall]
    return glyphs, len(masks) - len(glyphs)


def across_cells(mask: np.ndarray, classify) -> list | None:
    """A date written across the comb ("13/11/17", "13.11.2017") as eight cells for digits.decode_date:
    its glyphs left to right, the separators dropped (slashes by their place, third and sixth; dots by
    their size), a two-digit year in the first six. None when the glyphs make no date's shape."""
    glyphs, dots = _glyphs(mask)
    if dots >= 2 and len(glyphs) in (6, 8):
        kept = glyphs
    elif len(glyphs) in (8, 10):
        kept = [g for i, g in enumerate(glyphs) if i not in (2, 5)]
    else:
        return None
    out = [classify(g[np.ix_(np.any(g, axis=1), np.any(g, axis=0))]) for g in kept]
    return out + [classify(np.zeros((4, 4), bool))] * (8 - len(out))
