"""Ink on a registered care sheet: what the page holds that the blank form does not.

The page, already warped into the form frame (extractors.care_sheet.form), is white-balanced
against its own paper (so a shadow or a warm photo does not read as ink), its
darkness compared with the blank form's darkness widened by a few pixels (so
printed captions, lines, boxes and dotted rules are never ink, even slightly
misregistered or blurred), and what is left above INK_MIN is ink.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from extractors.care_sheet.layout import PX_PER_MM, blank
from extractors.pages.geometry import paper_level

INK_MIN = 30  # darkness (0-255) above the blank's for a pixel to be ink (paper noise stays under ~15)
FAINT_CHROMA_MIN = 14  # chroma (Lab) of a faint coloured stroke (white-balanced paper stays under ~6)
FAINT_INK_MIN = 14  # ... and its darkness above the blank's
PAPER_KERNEL_PX = 7  # at 1/4 scale (about 4.7 mm): wider than any pen or stamp stroke
BLANK_SPREAD_PX = 3  # the blank's print is widened by this radius (±0.5 mm: registration residue and blur) before comparing
SKELETON_STEP_PX = 1.1  # mean length of one skeleton pixel of a stroke at any angle
SPECK_MAX_MM = 0.9  # an ink component whose bounding box is smaller than this on both sides is dust


@dataclass(frozen=True, slots=True)
class InkMap:
    """Ink of a whole registered page in the form frame."""

    balanced: np.ndarray  # BGR uint8, paper brought to white
    excess: np.ndarray  # uint8, darkness above the (widened) blank's
    ink: np.ndarray  # bool, excess >= INK_MIN inside the page
    valid: np.ndarray  # bool, pixels that come from the page image
    blind: np.ndarray  # bool, where the print is too dark for ink to show (or outside the page)


@functools.lru_cache(maxsize=1)
def _blank_darkness() -> np.ndarray:
    dark = 255 - _min_channel(blank())
    k = 2 * BLANK_SPREAD_PX + 1
    return cv2.dilate(dark, np.ones((k, k), np.uint8))


def _min_channel(bgr: np.ndarray) -> np.ndarray:
    b, g, r = cv2.split(bgr)
    return cv2.min(cv2.min(b, g), r)


def white_balance(bgr: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Divide each channel by the paper's level around it (closing at 1/4 scale): white paper, true ink colours.

    Pixels outside `valid` (beyond the photo's edge) do not count as paper.
    """
    # a closing, not a plain max filter: it removes strokes yet follows a shadow's edge instead of
    # lending the bright side's level to the dark side
    paper = paper_level(bgr, shrink=4, dilate_px=3, close_px=PAPER_KERNEL_PX, sigma=1.0, valid=valid, floor=30.0)
    return cv2.divide(bgr, paper.astype(np.uint8), scale=255)


def ink_map(form_image: np.ndarray, valid: np.ndarray) -> InkMap:
    """The ink of a page warped into the form frame.

    Ink is darkness above the blank's; faint *coloured* ink (a pale stamp) also counts when its chroma
    stands out of the paper where the blank prints nothing.
    """
    balanced = white_balance(form_image, valid)
    dark = 255 - _min_channel(balanced)
    excess = cv2.subtract(dark, _blank_darkness())
    lab = cv2.cvtColor(balanced, cv2.COLOR_BGR2Lab)
    chroma = cv2.magnitude(lab[..., 1].astype(np.float32) - 128, lab[..., 2].astype(np.float32) - 128)
    faint = (chroma >= FAINT_CHROMA_MIN) & (excess >= FAINT_INK_MIN)
    ink = ((excess >= INK_MIN) | faint) & valid
    blind = (_blank_darkness() > 255 - 2 * INK_MIN) | ~valid
    return InkMap(balanced, excess, ink, valid, blind)
@dataclass(frozen=True, slots=True)
class Blob:
    """One connected ink component (form px)."""

    x: int
    y: int
    w: int
    h: int
    area: int  # ink pixels


def blobs(mask: np.ndarray, min_mm: float = SPECK_MAX_MM) -> tuple[list[Blob], np.ndarray]:
    """Connected ink components larger than dust, and the label image (0 = background or dust)."""
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, np.int32)
    out: list[Blob] = []
    lim = min_mm * PX_PER_MM
    for i in range(1, n):
        x, y, w, h, a = (int(v) for v in stats[i])
        if w < lim and h < lim:
            continue
        out.append(Blob(x, y, w, h, a))
        keep[i] = len(out)
    return out, keep[lab]


def crop(a: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """a[y0:y1, x0:x1], clipped to the array."""
    x0, y0, x1, y1 = box
    return a[max(0, y0):max(0, y1), max(0, x0):max(0, x1)]


def visible_share(valid: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Share of a box that the page image covers (a photo may cut a zone off)."""
    x0, y0, x1, y1 = box
    full = max(1, (x1 - x0) * (y1 - y0))
    return float(crop(valid, box).sum()) / full


def skeleton(mask: np.ndarray) -> np.ndarray:
    """One-pixel-wide centre lines of a bool mask (Zhang-Suen thinning): a stroke whatever the pen width."""
    img = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p = [np.roll(np.roll(img, -dy, 0), -dx, 1) for dy, dx in
                 ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))]
            b = sum(p)
            a = sum(((p[i] == 0) & (p[(i + 1) % 8] == 1)) for i in range(8))
            if step == 0:
                c1, c2 = p[0] * p[2] * p[4], p[2] * p[4] * p[6]
            else:
                c1, c2 = p[0] * p[2] * p[6], p[0] * p[4] * p[6]
            rm = (img == 1) & (b >= 2) & (b <= 6) & (a == 1) & (c1 == 0) & (c2 == 0)
            if rm.any():
                img[rm] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1] > 0


def stroke_mm(mask: np.ndarray) -> float:
    """Length (mm) of the strokes of a bool mask: its skeleton, diagonal steps counted √2."""
    # an 8-connected centre line steps 1 or √2 px per pixel: about 1.1 px on average over directions
    return float(skeleton(mask).sum()) * SKELETON_STEP_PX / PX_PER_MM
