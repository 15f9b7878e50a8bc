"""The stamp model of one ink layer: frames, the stamp's rotation, and its printed text lines.

- Frames: extractors.care_sheet.frame (closed outlines, rings/ovals by RANSAC,
  straight sides).
- Text lines: glyph-sized components of similar height aligned along one
  direction, the stamp's rotation (the candidate direction along which most
  glyphs line up).

`holds_stamp` decides from what was found; what the model explains is set
aside by extractors.care_sheet.vet, and what it does not explain may be a
signature.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from extractors.care_sheet.frame import SIDE_MIN_MM, long_line_angle, straight_sides
from extractors.care_sheet.ink import blobs
from extractors.care_sheet.layout import PX_PER_MM

GLYPH_H_MM = (0.8, 4.2)  # height of a printed stamp glyph (or inked-together word), in the stamp's frame
GLYPH_MAX_W_MM = 22.0  # ... and at most this wide (inked-together words; a longer piece is a frame line or a stroke)
ARC_WORD_MAX_MM = 12.0  # a word along a round stamp's ring, at any angle: this long at most ...
ARC_WORD_THICK_MM = 3.2  # ... and this thick
LINE_MIN_GLYPHS = 4  # a text line: at least this many glyphs ...
LINE_MIN_SPAN_MM = 8.0  # ... spread over at least this length
LINE_MIN_COVER = 0.6  # or 2+ word-sized pieces covering this share of the line
LINE_MAX_THICK = 2.0  # a line is at most this many glyph heights thick
LINE_GAP_MAX = 4.0  # glyphs further apart than this many glyph heights (a word space is under one) ...
LINE_GAP_SPREAD = 3.0  # ... and than this many times the line's median gap are not one line: a signature's
# pieces at the height of one of the stamp's lines joined it, whose band and box then explained them (indep
# dev 124: "no signature" at 0.4); a faint stamp's pieces, spread evenly, stay one line (eval200 D-2017-038814)
BAND_SLACK = 0.5  # ink reaching this many glyph heights above or below a text line runs across it
STAMP_MIN_LINES = 2  # printed text lines that make a stamp on their own ...
STAMP_TEXT_MAX_MM = 2.6  # ... when their letters are this small (median height; handwriting is larger)
FRAME_MIN_GLYPHS = 4  # glyphs (letters or inked-together words) a frame must hold to make a stamp
TILT_MAX_DEG = 35.0  # words turned further than this from the page's direction vote apart (up to upright)
SIDE_SCORE_MM2 = 2.0  # choosing the stamp's direction: this much frame side weighs like one glyph in a line


def _small(lines: list[tuple], text_max_mm: float) -> int:
    """Lines of print: their letters are small (median height; handwriting is larger)."""
    return sum(line[2] <= text_max_mm for line in lines)


def holds_stamp(frames: list[str], glyphs: int, lines: list[tuple], side_mm: float,
                text_max_mm: float = STAMP_TEXT_MAX_MM) -> bool:
    """A frame holding glyphs, or several lines of small printed text (handwriting is larger).
    `text_max_mm`: GLYPH_H_MM[1] for a stamp pad's ink (extractors.care_sheet.ink_layers.stamp_pad_ink):
    nobody writes in it, so its lines are print whatever their size."""
    if frames and glyphs >= FRAME_MIN_GLYPHS:
        return True
    small = _small(lines, text_max_mm)
    # a frame half hidden (under the caption, off the page) still shows one long side along its text
    return small >= STAMP_MIN_LINES or (small >= 1 and side_mm >= SIDE_MIN_MM)


def stamp_score(frames: list[str], glyphs: int, lines: list[tuple], side_mm: float,
                text_max_mm: float = STAMP_TEXT_MAX_MM) -> float:
    """How far the stamp evidence is from `holds_stamp`'s thresholds: >= 1 exactly when it holds a stamp
    (glyphs in a frame / FRAME_MIN_GLYPHS, small-text lines / STAMP_MIN_LINES, a side along a line / SIDE_MIN_MM)."""
    small = _small(lines, text_max_mm)
    return max(glyphs / FRAME_MIN_GLYPHS if frames else 0.0, small / STAMP_MIN_LINES, min(small, 1) * side_mm / SIDE_MIN_MM)


@dataclass
class Orientation:
    """A layer turned so that its stamp's text runs horizontally, and what was found in that frame."""

    angle: float  # degrees
    matrix: np.ndarray  # 2x3 affine, search box -> rotated
    rotated: np.ndarray  # bool, the layer's ink outside the frames, rotated
    h_band: np.ndarray  # frame sides along the text
    v_band: np.ndarray  # short straight sides across it
    sides: list[str]  # frame descriptions from facing sides
    glyph_count: int
    lines: list[tuple]  # (glyphs, span mm, median glyph height mm) of each text line
    explained: np.ndarray  # what the text lines explain
    text_box: tuple[int, int, int, int] | None  # bounding box of the lines
    glyphs: np.ndarray  # the glyph mask


def orient(rest: np.ndarray, ring: bool) -> Orientation:
    """The stamp's rotation: of the candidate directions, the one along which most glyphs line up
    (plus frame sides found along it); `ring`: a round stamp was found (see `text_lines`)."""
    h, w = rest.shape
    best = None
    for angle in _angle_candidates(rest):
        M = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        r_rest = cv2.warpAffine(rest.astype(np.uint8), M, (w, h), flags=cv2.INTER_NEAREST) > 0
        h_band, v_band, sides = straight_sides(r_rest)  # frame sides along / across the text
        found = text_lines(r_rest & ~h_band, ring)
        score = sum(line[0] for line in found[1]) + h_band.sum() / (SIDE_SCORE_MM2 * PX_PER_MM**2)
        if best is None or score > best[0]:
            best = (score, angle, M, r_rest, h_band, v_band, sides, found)
    _, angle, M, r_rest, h_band, v_band, sides, (n_glyphs, lines, explained, text_box, glyphs) = best
    return Orientation(angle, M, r_rest, h_band, v_band, sides, n_glyphs, lines, explained, text_box, glyphs)


def _text_angle(centres: np.ndarray, weights: np.ndarray) -> float:
    """The direction (degrees) along which glyph centres line up best: sharpest projection profile."""
    best, best_score = 0.0, -1.0
    bin_px = 0.5 * PX_PER_MM
    for ang in np.arange(-90, 90, 1.5):  # any direction: a stamp may be set upright
        t = np.radians(ang)
        yp = -centres[:, 0] * np.sin(t) + centres[:, 1] * np.cos(t)
        hist = np.bincount(((yp - yp.min()) / bin_px).astype(int), weights=weights)
        score = float((hist**2).sum())
        if score > best_score:
            best, best_score = float(ang), score
    return best


def _angle_candidates(mask: np.ndarray) -> list[float]:
    """Candidate text directions (degrees): the long axis of inked-together words, the sharpest projection
    profile of single letters, and upright. The caller keeps the one along which most glyphs line up."""
    parts, labels = blobs(mask)
    cands = [0.0]
    words = []
    for i, p in enumerate(parts):
        if max(p.w, p.h) > GLYPH_MAX_W_MM * PX_PER_MM or max(p.w, p.h) < 3 * GLYPH_H_MM[0] * PX_PER_MM:
            continue
        ys, xs = np.nonzero(labels[p.y:p.y + p.h, p.x:p.x + p.w] == i + 1)
        (_, _), (a, b), ang = cv2.minAreaRect(np.stack([xs, ys], 1).astype(np.float32))
        long_, short = max(a, b), min(a, b)
        if short <= GLYPH_H_MM[1] * PX_PER_MM and long_ >= 2.5 * short:
            ang = ang if a >= b else ang - 90  # direction of the long side
            words.append(((ang + 90) % 180 - 90, long_))
    # words near the page's direction, and words standing steeply (a stamp turned past TILT_MAX_DEG, up to
    # upright), each group by its weighted median: the two groups' angles do not wrap into each other
    for group in ([w for w in words if abs(w[0]) <= TILT_MAX_DEG],
                  [(a % 180, n) for a, n in words if abs(a) > TILT_MAX_DEG]):
        if len(group) >= 3:
            angs, wts = np.array(group).T
            order = np.argsort(angs)
            cum = np.cumsum(wts[order])
            cands.append((float(angs[order][np.searchsorted(cum, cum[-1] / 2)]) + 90) % 180 - 90)
    small = [p for p in parts if max(p.w, p.h) <= GLYPH_H_MM[1] * 1.4 * PX_PER_MM]
    if len(small) >= LINE_MIN_GLYPHS:
        cen = np.array([[p.x + p.w / 2, p.y + p.h / 2] for p in small], float)
        cands.append(_text_angle(cen, np.array([p.area for p in small], float)))
    side = long_line_angle(mask)
    if side is not None:
        cands.append(side)
    cands.append(90.0)  # a stamp set upright (its text runs up the page)
    out: list[float] = []
    for c in cands:
        if all(abs(c - o) > 1.0 for o in out):
            out.append(c)
    return out


def _lines(boxes: list[tuple[int, int, int, int]]) -> list[list[int]]:
    """Group glyph boxes (x, y, w, h) into text lines: by their vertical centre, then cut where a gap stands
    out (LINE_GAP_MAX glyph heights and LINE_GAP_SPREAD times the line's median gap: print is continuous)."""
    if not boxes:
        return []
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][1] + boxes[i][3] / 2)
    med_h = float(np.median([b[3] for b in boxes]))
    groups, last = [], None
    for i in order:
        cy = boxes[i][1] + boxes[i][3] / 2
        if last is None or cy - last > 0.55 * med_h:
            groups.append([])
        groups[-1].append(i)
        last = cy
    lines = []
    for g in groups:
        g = sorted(g, key=lambda i: boxes[i][0])
        right = np.maximum.accumulate([boxes[i][0] + boxes[i][2] for i in g])
        gaps = [boxes[i][0] - r for i, r in zip(g[1:], right[:-1])]
        # far apart: beyond a word space (glyph heights) and beyond the line's own spacing (a faint stamp's
        # letters print as a few pieces spread evenly along the line: no gap there stands out)
        cut = max(LINE_GAP_MAX * float(np.median([boxes[i][3] for i in g])),
                  LINE_GAP_SPREAD * float(np.median(np.maximum(gaps, 0))) if gaps else 0.0)
        lines.append([g[0]])
        for i, gap in zip(g[1:], gaps):
            if gap > cut:
                lines.append([])
            lines[-1].append(i)
    return lines


def _curved_glyph(labels: np.ndarray, label: int, p) -> bool:
    """A glyph or short word at any angle (the text around a round stamp): thin and short whatever its direction."""
    if max(p.w, p.h) > ARC_WORD_MAX_MM * PX_PER_MM or max(p.w, p.h) <= GLYPH_H_MM[1] * PX_PER_MM:
        return False
    ys, xs = np.nonzero(labels[p.y:p.y + p.h, p.x:p.x + p.w] == label)
    (_, _), (a, b), _ = cv2.minAreaRect(np.stack([xs, ys], 1).astype(np.float32))
    return min(a, b) <= ARC_WORD_THICK_MM * PX_PER_MM


def text_lines(r_mask: np.ndarray, ring: bool = False):
    """Printed glyphs (letters or inked-together words) of a mask whose text runs horizontally, and the
    lines they form: (glyph count, lines, explained mask, bounding box of the lines or None, glyph mask).
    `ring`: a round stamp was found, so words at any angle along it are glyphs too (without a ring, a
    thin piece up to ARC_WORD_MAX_MM long is a signature's stroke as likely as a word)."""
    rparts, rlabels = blobs(r_mask)
    hmin, hmax = GLYPH_H_MM[0] * PX_PER_MM, GLYPH_H_MM[1] * PX_PER_MM
    glyph_ids = [i for i, p in enumerate(rparts) if (hmin <= p.h <= hmax and p.w <= GLYPH_MAX_W_MM * PX_PER_MM)
                 or (ring and _curved_glyph(rlabels, i + 1, p))]
    boxes = [(rparts[i].x, rparts[i].y, rparts[i].w, rparts[i].h) for i in glyph_ids]
    glyphs = np.isin(rlabels, [i + 1 for i in glyph_ids])
    explained = np.zeros(r_mask.shape, bool)
    lines, extent = [], None
    pad = int(0.3 * PX_PER_MM)
    for g in _lines(boxes):
        x0, x1 = min(boxes[i][0] for i in g), max(boxes[i][0] + boxes[i][2] for i in g)
        span = (x1 - x0) / PX_PER_MM
        covered = sum(boxes[i][2] for i in g) / max(1, x1 - x0)
        words = len(g) >= 2 and covered >= LINE_MIN_COVER  # inked-together words: fewer, wider pieces
        y0, y1 = min(boxes[i][1] for i in g), max(boxes[i][1] + boxes[i][3] for i in g)
        med_h = float(np.median([boxes[i][3] for i in g]))
        thin = y1 - y0 <= LINE_MAX_THICK * med_h  # one line, not several read along a wrong direction
        # printed letters are at most GLYPH_H_MM high: a row of taller pieces (a signature's loops,
        # let in as letters of a round stamp's ring) is not a line of print and explains nothing
        printed = med_h <= hmax
        if thin and printed and span >= LINE_MIN_SPAN_MM and (len(g) >= LINE_MIN_GLYPHS or words):
            # the line's band explains the ink that stays within it (letters, their broken pieces), not
            # a stroke that runs across it: a signature crossing the print keeps its crossings
            band = np.zeros(r_mask.shape, bool)
            band[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad] = True
            slack = int(BAND_SLACK * med_h)
            crossing = [i + 1 for i, p in enumerate(rparts) if p.y < y0 - slack or p.y + p.h > y1 + slack]
            explained |= band & ~np.isin(rlabels, crossing)
            explained |= np.isin(rlabels, [glyph_ids[i] + 1 for i in g])
            lines.append((len(g), round(span, 1), round(med_h / PX_PER_MM, 2)))
            extent = union_box(extent, (x0, y0, x1, y1))
    return len(glyph_ids), lines, explained, extent, glyphs


def union_box(a, b):
    """The box (x0, y0, x1, y1) holding both boxes; either may be None."""
    if a is None or b is None:
        return b if a is None else a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def mask_box(m: np.ndarray):
    """The bounding box (x0, y0, x1, y1) of a bool mask's pixels, or None when it has none."""
    ys, xs = np.nonzero(m)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else None
