"""The stamp as one object: what belongs to a stamp once its frame is known, before a signature is looked for.

extractors.care_sheet.frame finds frames one by one (a closed outline, a ring inked along 75 % of its
visible turn, straight sides). A rubber stamp is more than its best-printed frame:

- *A broken ring*: a faint or unevenly inked ring prints as separate arcs. Several of them (each lying
  along one ellipse, not a single stroke) that together ink a fair share of the turn are one ring.
- *The text set around a ring* is the stamp's text: its letters, inside the ring's text band, are counted
  as the stamp's glyphs (frame.ellipse_frames sets that band aside, so they used to count as nothing).
- *Concentric rings and arcs*: a second ring, or the arcs of a ring too broken to be fitted, lie on an
  ellipse concentric with a ring found (same centre, same shape, another size): they are the stamp's.
- *Rectangle pieces*: a rectangular frame broken by uneven ink leaves corners and side pieces; near the
  stamp, a piece that lies along its own bounding box's sides (in the stamp's direction) is frame.

A signature crossing the stamp is a continuous cursive stroke: it leaves a concentric band or a few
straight lines at once, so none of these explains it. When it is short and the stamp object takes it in all the
same, it shows as ink joined to the frame that runs out of it (`leaving_mm`): a stamp's print stays inside.
"""
from __future__ import annotations

import cv2
import numpy as np

from extractors.care_sheet.frame import (ARC_TEXT_MM, ELLIPSE_BAND_MM, ELLIPSE_MAX_AXIS_MM, ELLIPSE_MIN_AXIS_MM,
                                         ROUND_MAX_RATIO, ROUND_MIN_MM, ring_cover)
from extractors.care_sheet.ink import blobs
from extractors.care_sheet.layout import PX_PER_MM

BROKEN_MIN_COVER = 0.45  # a ring of separate arcs: they ink this share of its visible turn ...
BROKEN_MIN_ARCS = 4  # ... in at least this many separate arcs (or 2, when they ink BROKEN_FEW_COVER of it) ...
BROKEN_FEW_COVER = 0.6
BROKEN_PIECE_MM = 1.0  # (pieces this long count: a faint ring prints as dashes)
BROKEN_MIN_SECTORS = 4  # ... spread over this many of 8 sectors of the turn
ARC_ON_RING = 0.85  # a piece is an arc of an ellipse when this share of its pixels lies on its band
ARC_MIN_MM = 2.0  # ... and it is this long
RING_GLYPH_MM = (0.6, 6.0)  # a letter (or two inked together) in a ring's text band
CONCENTRIC_RANGE = (0.45, 1.7)  # a concentric ring/arc: this size relative to the ring found
CONCENTRIC_SPREAD_MM = 0.9  # ... whose pixels stay within this radial spread (p10-p90)
AXIS_BAND_MM = 0.9  # a rectangle piece lies within this of its own bounding box's sides (direction ±1°) ...
AXIS_COVER = 0.92  # ... with this share of its pixels
TEXT_RING_MIN_MM = 5.0  # an arc of a ring around the stamp's text: a piece this long at least ...
TEXT_RING_FIT_MM = 0.35  # ... on one circle within this (RMS: a ring's line with its blur) ...
TEXT_RING_MIN_DEG = 25.0  # ... over this much of its turn (a shorter arc hardly tells a curve from a line) ...
TEXT_RING_CENTRE = 0.6  # ... around the text (its centre within this share of the radius: the text box holds
# the letters set along the ring too, off-centre when the ring is half out of the box)
LEAVE_MARGIN_MM = 1.0  # a stamp's frame (the hull of its ring / sides) grown by this: a blurred line's reach


def _radius(pts: np.ndarray, e) -> np.ndarray:
    """Normalised elliptic radius of points (N x 2: x, y) for ellipse e: 1.0 on it."""
    (cx, cy), (d1, d2), ang = e
    a = np.radians(ang)
    dx, dy = pts[:, 0] - cx, pts[:, 1] - cy
    u = (dx * np.cos(a) + dy * np.sin(a)) / (d1 / 2)
    v = (-dx * np.sin(a) + dy * np.cos(a)) / (d2 / 2)
    return np.hypot(u, v)


def broken_ring(mask: np.ndarray, blind: np.ndarray, rng: np.random.Generator | None = None):
    """A ring printed as separate arcs: (ellipse, band mask) or None. RANSAC over 5 pixels of 5 different
    pieces; kept when BROKEN_MIN_ARCS pieces lie along it over BROKEN_MIN_SECTORS of its 8 sectors."""
    rng = rng or np.random.default_rng(1)
    parts, labels = blobs(mask, min_mm=BROKEN_PIECE_MM)
    if len(parts) < 2:
        return None
    pts = [np.stack(np.nonzero(labels == i + 1)[::-1], 1).astype(np.float32) for i in range(len(parts))]
    pts = [p[rng.choice(len(p), min(len(p), 60), replace=False)] for p in pts]
    owner = np.concatenate([np.full(len(p), k) for k, p in enumerate(pts)])
    allp = np.concatenate(pts)
    count = np.bincount(owner, minlength=len(pts))
    lo, hi = ELLIPSE_MIN_AXIS_MM * PX_PER_MM, ELLIPSE_MAX_AXIS_MM * PX_PER_MM
    band_px = ELLIPSE_BAND_MM * PX_PER_MM
    reach = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    best = None
    for _ in range(150):
        pick = rng.choice(len(pts), 5, replace=len(pts) < 5)
        sample = np.stack([pts[k][rng.integers(len(pts[k]))] for k in pick])
        try:
            e = cv2.fitEllipse(sample)
        except cv2.error:
            continue
        d1, d2 = e[1]
        if not (lo <= min(d1, d2) and max(d1, d2) <= hi) or max(d1, d2) > 1.6 * min(d1, d2):
            continue
        near = np.abs(_radius(allp, e) - 1) * (d1 + d2) / 4 <= band_px
        on = np.nonzero(np.bincount(owner, weights=near, minlength=len(pts)) >= ARC_ON_RING * count)[0]
        if len(on) < 2:
            continue
        cover = ring_cover(e, blind, reach)
        if cover is None:
            continue
        centres = [pts[k].mean(0) for k in on]
        sect = {int((np.degrees(np.arctan2(c[1] - e[0][1], c[0] - e[0][0])) + 180) // 45) % 8 for c in centres}
        enough = cover >= (BROKEN_MIN_COVER if len(on) >= BROKEN_MIN_ARCS else BROKEN_FEW_COVER)
        if enough and len(sect) >= BROKEN_MIN_SECTORS and (best is None or cover > best[0]):
            best = (cover, e)
    if best is None:
        return None
    return best[1], ring_band(mask, best[1])


def ring_band(mask: np.ndarray, e) -> np.ndarray:
    """The ink of a ring's line, and for a round stamp the text set around inside it (as frame.ellipse_frames)."""
    band = np.zeros(mask.shape, np.uint8)
    cv2.ellipse(band, e, 1, max(1, int(2 * ELLIPSE_BAND_MM * PX_PER_MM)))
    (cx, cy), (d1, d2), ang = e
    if is_round(e):
        pad, depth = 2 * ELLIPSE_BAND_MM * PX_PER_MM, 2 * ARC_TEXT_MM * PX_PER_MM
        ring = np.zeros(mask.shape, np.uint8)
        cv2.ellipse(ring, ((cx, cy), (d1 + pad, d2 + pad), ang), 1, -1)
        cv2.ellipse(ring, ((cx, cy), (max(1, d1 - depth), max(1, d2 - depth)), ang), 0, -1)
        band |= ring
    return (band > 0) & mask


def is_round(e) -> bool:
    """A ring close enough to a circle, and large enough, to have text set around inside it."""
    d1, d2 = e[1]
    return max(d1, d2) <= ROUND_MAX_RATIO * min(d1, d2) and min(d1, d2) >= ROUND_MIN_MM * PX_PER_MM


def ring_glyphs(mask: np.ndarray, rings: list) -> int:
    """Letters in the text band inside each round ring (the ring's own line left out)."""
    n = 0
    lo, hi = RING_GLYPH_MM[0] * PX_PER_MM, RING_GLYPH_MM[1] * PX_PER_MM
    for e in filter(is_round, rings):
        (cx, cy), (d1, d2), ang = e
        line = np.zeros(mask.shape, np.uint8)
        cv2.ellipse(line, e, 1, max(1, int(2 * ELLIPSE_BAND_MM * PX_PER_MM) + 2))
        annulus = np.zeros(mask.shape, np.uint8)
        depth = 2 * ARC_TEXT_MM * PX_PER_MM
        cv2.ellipse(annulus, e, 1, -1)
        cv2.ellipse(annulus, ((cx, cy), (max(1, d1 - depth), max(1, d2 - depth)), ang), 0, -1)
        parts, _ = blobs(mask & (annulus > 0) & (line == 0), min_mm=RING_GLYPH_MM[0])
        n += sum(lo <= max(p.w, p.h) <= hi for p in parts)
    return n


def concentric_arcs(mask: np.ndarray, rings: list) -> np.ndarray:
    """Pieces lying along an ellipse concentric with a ring found (another ring of the stamp, or its arcs)."""
    out = np.zeros(mask.shape, bool)
    if not rings:
        return out
    parts, labels = blobs(mask, min_mm=ARC_MIN_MM)
    spread_px = CONCENTRIC_SPREAD_MM * PX_PER_MM
    for i, p in enumerate(parts):
        comp = labels[p.y:p.y + p.h, p.x:p.x + p.w] == i + 1
        ys, xs = np.nonzero(comp)
        pts = np.stack([xs + p.x, ys + p.y], 1).astype(np.float32)
        for e in rings:
            rho = _radius(pts, e)
            lo, hi = np.percentile(rho, [10, 90])
            if (CONCENTRIC_RANGE[0] <= np.median(rho) <= CONCENTRIC_RANGE[1]
                    and (hi - lo) * (e[1][0] + e[1][1]) / 4 <= spread_px):
                out[p.y:p.y + p.h, p.x:p.x + p.w] |= comp
                break
    return out


def axis_pieces(mask: np.ndarray) -> np.ndarray:
    """Pieces (of a mask turned to the stamp's direction) lying along their own bounding box's sides: a side,
    a corner, a side with both corners of a broken rectangular frame. A cursive stroke runs inside its box."""
    out = np.zeros(mask.shape, bool)
    parts, labels = blobs(mask, min_mm=ARC_MIN_MM)
    t = AXIS_BAND_MM * PX_PER_MM
    for i, p in enumerate(parts):
        comp = labels[p.y:p.y + p.h, p.x:p.x + p.w] == i + 1
        ys, xs = np.nonzero(comp)
        edge = np.minimum(np.minimum(ys, p.h - 1 - ys), np.minimum(xs, p.w - 1 - xs))
        if float(np.mean(edge <= t)) >= AXIS_COVER:
            out[p.y:p.y + p.h, p.x:p.x + p.w] |= comp
    return out


def _circle_fit(pts: np.ndarray) -> tuple[float, float, float, float]:
    """Least-squares circle through points (N x 2): centre x, y, radius, RMS radial residual (px)."""
    x, y = pts[:, 0].astype(np.float64), pts[:, 1].astype(np.float64)
    a = np.stack([x, y, np.ones_like(x)], 1)
    sol, *_ = np.linalg.lstsq(a, x * x + y * y, rcond=None)
    cx, cy = sol[0] / 2, sol[1] / 2
    r = float(np.sqrt(max(sol[2] + cx * cx + cy * cy, 0.0)))
    return float(cx), float(cy), r, float(np.sqrt(np.mean((np.hypot(x - cx, y - cy) - r) ** 2)))


def text_ring_arcs(mask: np.ndarray, text_box: tuple[int, int, int, int] | None) -> tuple[np.ndarray, list]:
    """Arcs of a ring around the stamp's text, wherever they lie (a large ring half outside the box, too broken
    to be fitted as a frame): a piece whose own stroke keeps one curvature — a circle fitted to it within
    TEXT_RING_FIT_MM, over TEXT_RING_MIN_DEG of turn — of a ring's size, centred on the text it encloses.
    A signature's stroke turns one way then the other: no circle fits it, and never one centred on the print.
    Returns (the arcs' ink with the text set around inside their ring, the rings as ellipses)."""
    out, rings = np.zeros(mask.shape, bool), []
    if text_box is None:
        return out, rings
    tx, ty = (text_box[0] + text_box[2]) / 2, (text_box[1] + text_box[3]) / 2
    half_diag = np.hypot(text_box[2] - text_box[0], text_box[3] - text_box[1]) / 2
    parts, labels = blobs(mask, min_mm=TEXT_RING_MIN_MM)
    r_lo, r_hi = ELLIPSE_MIN_AXIS_MM * PX_PER_MM / 2, ELLIPSE_MAX_AXIS_MM * PX_PER_MM / 2
    for i, p in enumerate(parts):
        comp = labels[p.y:p.y + p.h, p.x:p.x + p.w] == i + 1
        ys, xs = np.nonzero(comp)
        pts = np.stack([xs + p.x, ys + p.y], 1)
        cx, cy, r, rms = _circle_fit(pts)
        if not (r_lo <= r <= r_hi and rms <= TEXT_RING_FIT_MM * PX_PER_MM and r >= half_diag):
            continue
        ang = np.arctan2(pts[:, 1] - cy, pts[:, 0] - cx)
        mid = np.arctan2(np.sin(ang).mean(), np.cos(ang).mean())
        turn = np.degrees(np.ptp(np.angle(np.exp(1j * (ang - mid)))))
        if turn >= TEXT_RING_MIN_DEG and np.hypot(cx - tx, cy - ty) <= TEXT_RING_CENTRE * r:
            rings.append(((cx, cy), (2 * r, 2 * r), 0.0))
    for e in rings:
        out |= ring_band(mask, e)
    return out, rings


def leaving_mm(ink: np.ndarray, frame_ink: np.ndarray) -> float:
    """How far (mm, the longest piece) ink joined to the stamp's frame runs out of the frame's hull grown by
    LEAVE_MARGIN_MM. A stamp's print stays inside its frame; a pen stroke drawn across the frame, in the
    stamp's own ink, is one component with it and runs out (0.0 when no frame was found)."""
    pts = cv2.findNonZero(frame_ink.astype(np.uint8))
    if pts is None or len(pts) < 3:
        return 0.0
    hull = np.zeros(ink.shape, np.uint8)
    cv2.fillPoly(hull, [cv2.convexHull(pts)], 1)
    k = 2 * max(1, int(round(LEAVE_MARGIN_MM * PX_PER_MM))) + 1
    inside = cv2.dilate(hull, np.ones((k, k), np.uint8)) > 0
    _, labels = cv2.connectedComponents(ink.astype(np.uint8), connectivity=8)
    on_frame = np.unique(labels[frame_ink & ink])
    joined = np.isin(labels, on_frame[on_frame > 0])
    out, _ = blobs(joined & ~inside, min_mm=0.0)
    return max((max(p.w, p.h) for p in out), default=0) / PX_PER_MM

