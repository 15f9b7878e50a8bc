"""Stamp frames: rectangles, rounded rectangles, ellipses and circles, whole or partly hidden.

Each finder returns (band, descriptions): `band` is the ink it attributes to a
frame (bool, same shape as the mask), so the signature search can ignore it.
`all_frames` runs the closed-frame and ring finders in turn.
"""
from __future__ import annotations

import cv2
import numpy as np

from extractors.care_sheet.ink import blobs
from extractors.care_sheet.layout import PX_PER_MM

FRAME_MIN_SIDE_MM = 8.0  # a frame is at least this big both ways
FRAME_HULL_COVER = 0.8  # share of its convex hull's outline a frame inks (a signature: far less)
FRAME_BAND_MM = 1.3  # frame stroke plus slack, measured inwards from the hull
ELLIPSE_MIN_AXIS_MM = 16.0  # round/oval stamps (inner rings included); smaller ellipses are signature loops
ROUND_MAX_RATIO = 1.25  # an ellipse this close to a circle, and at least ROUND_MIN_MM wide, is a round stamp ...
ROUND_MIN_MM = 20.0  # ... whose ring has text set around inside it (too small a ring has no room for a text ring)
ARC_TEXT_MM = 5.0  # the ink this deep inside its ring (the text set around) belongs to the stamp
ELLIPSE_MAX_AXIS_MM = 75.0  # the vet box is 79 mm wide: a larger ellipse is not a stamp inside it
ELLIPSE_MIN_COVER = 0.75  # share of the visible perimeter that must be inked
ELLIPSE_MIN_VISIBLE = 0.5  # share of the perimeter that must be visible (not under print, not off the page)
ELLIPSE_BAND_MM = 0.8  # half width of the band set aside along a ring found (its line and the fit's slack)
SIDE_MIN_MM = 15.0  # a straight frame side along the text direction (across it: FRAME_MIN_SIDE_MM)
SIDE_TILT_DEG = 4.0  # a side lies within this of the text direction (searched in 1.5° steps) or of its normal
SIDE_BAND_MM = 0.6  # half width of the band set aside along a side found (its line and blur)
SIDE_CLEAR_MM = 0.8  # a frame side has blank paper this far on both sides (a row of letters does not)
SIDE_CLEAR_SHARE = 0.6  # ... along this share of its length (letters touch a row's sides almost everywhere)
SIDE_FILL_MIN = 0.8  # and is inked along this share of its length (gaps between letters are not)
RANSAC_TRIES = 150  # random 5-point ellipse fits per pass, on top of one per component (how it was chosen is not recorded)
REMNANT_TOL_MM = 0.6  # a frame leftover lies this close to a line or a large ellipse (90 % of its ink)


def _outline_cover(poly: np.ndarray, reach: np.ndarray, blind: np.ndarray | None) -> float:
    """Share of a closed polygon's outline lying on ink (points over `blind` pixels do not count)."""
    pts = poly.reshape(-1, 2).astype(float)
    seg = np.roll(pts, -1, axis=0) - pts
    n = np.maximum(1, np.ceil(np.hypot(seg[:, 0], seg[:, 1])).astype(int))
    samples = np.concatenate([p + np.outer(np.arange(k) / k, s) for p, s, k in zip(pts, seg, n)])
    xs = np.clip(samples[:, 0].round().astype(int), 0, reach.shape[1] - 1)
    ys = np.clip(samples[:, 1].round().astype(int), 0, reach.shape[0] - 1)
    seen = np.ones(len(xs), bool) if blind is None else ~blind[ys, xs]
    if seen.mean() < ELLIPSE_MIN_VISIBLE:
        return 0.0
    return float(reach[ys[seen], xs[seen]].mean())


def hull_frames(mask: np.ndarray, blind: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Components that ink most of their own convex hull's outline (closed frames), outer then inner."""
    band = np.zeros(mask.shape, bool)
    found: list[str] = []
    big = FRAME_MIN_SIDE_MM * PX_PER_MM
    bpx = int(round(FRAME_BAND_MM * PX_PER_MM))
    for _ in range(2):  # a double frame or a ring inside a ring shows on the second pass
        parts, labels = blobs(mask & ~band, min_mm=FRAME_MIN_SIDE_MM)
        new = False
        for i, p in enumerate(parts):
            if min(p.w, p.h) < big:
                continue
            x0, y0 = p.x - bpx - 2, p.y - bpx - 2
            comp = np.zeros((p.h + 2 * bpx + 4, p.w + 2 * bpx + 4), np.uint8)
            comp[bpx + 2:bpx + 2 + p.h, bpx + 2:bpx + 2 + p.w] = labels[p.y:p.y + p.h, p.x:p.x + p.w] == i + 1
            hull = cv2.convexHull(cv2.findNonZero(comp))
            reach = cv2.dilate(comp, np.ones((5, 5), np.uint8)) > 0
            sub_blind = None
            if blind is not None:
                sub_blind = np.ones(comp.shape, bool)
                ys, xs = slice(max(0, y0), y0 + comp.shape[0]), slice(max(0, x0), x0 + comp.shape[1])
                part = blind[ys, xs]
                sub_blind[ys.start - y0:ys.start - y0 + part.shape[0], xs.start - x0:xs.start - x0 + part.shape[1]] = part
            cover = _outline_cover(hull, reach, sub_blind)
            if cover < FRAME_HULL_COVER:
                continue
            fill = np.zeros(comp.shape, np.uint8)
            cv2.fillPoly(fill, [hull.reshape(-1, 2)], 1)
            ring = (fill > 0) & (cv2.erode(fill, np.ones((2 * bpx + 1, 2 * bpx + 1), np.uint8)) == 0) & (comp > 0)
            full = np.zeros(mask.shape, bool)
            ys, xs = np.nonzero(ring)
            ys, xs = ys + y0, xs + x0
            ok = (ys >= 0) & (xs >= 0) & (ys < mask.shape[0]) & (xs < mask.shape[1])
            full[ys[ok], xs[ok]] = True
            band |= full
            found.append(f"cadre fermé {p.w / PX_PER_MM:.0f}x{p.h / PX_PER_MM:.0f} mm ({cover:.0%} du contour encré)")
            new = True
        if not new:
            break
    return band, found


def ring_cover(e, blind: np.ndarray, reach: np.ndarray) -> float | None:
    """The share of ellipse `e`'s visible perimeter that runs on ink (`reach`), or None when less than
    ELLIPSE_MIN_VISIBLE of it is visible (off the image, or under `blind`: print we cannot see through)."""
    h, w = blind.shape
    per = _ellipse_points(e)
    inside = (per[:, 0] >= 0) & (per[:, 1] >= 0) & (per[:, 0] < w) & (per[:, 1] < h)
    xs, ys = per[inside, 0].astype(int), per[inside, 1].astype(int)
    seen = ~blind[ys, xs]
    if seen.sum() < ELLIPSE_MIN_VISIBLE * len(per):
        return None
    return float(reach[ys[seen], xs[seen]].mean())


def _ellipse_points(e, n: int = 120) -> np.ndarray:
    (cx, cy), (d1, d2), ang = e
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    a = np.radians(ang)
    x = cx + d1 / 2 * np.cos(t) * np.cos(a) - d2 / 2 * np.sin(t) * np.sin(a)
    y = cy + d1 / 2 * np.cos(t) * np.sin(a) + d2 / 2 * np.sin(t) * np.cos(a)
    return np.stack([x, y], 1)


def _hull_edge_points(comp: np.ndarray) -> np.ndarray:
    """Outline points of a component that lie on its convex hull (the outside of a ring arc, not the text)."""
    cnts, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    pts = np.concatenate([c.reshape(-1, 2) for c in cnts])
    hull = cv2.convexHull(pts)
    d = np.array([cv2.pointPolygonTest(hull, (float(x), float(y)), True) for x, y in pts[::2]])
    return pts[::2][d < 1.6].astype(np.float32)


def ellipse_frames(mask: np.ndarray, blind: np.ndarray, rings: list | None = None) -> tuple[np.ndarray, list[str]]:
    """Round or oval frames, possibly broken, partly hidden or cut, by RANSAC on the large components' outer edges.

    Points from all components are pooled, so the pieces of one broken ring vote together. The ellipses
    found ((cx, cy), (d1, d2), angle) are appended to `rings` when given.
    """
    band = np.zeros(mask.shape, np.uint8)
    found: list[str] = []
    rng = np.random.default_rng(0)  # deterministic: the same page always reads the same
    lo, hi = ELLIPSE_MIN_AXIS_MM * PX_PER_MM, ELLIPSE_MAX_AXIS_MM * PX_PER_MM
    for _ in range(2):  # outer ring, then an inner one
        cur = mask & (band == 0)
        parts, labels = blobs(cur, min_mm=FRAME_MIN_SIDE_MM)
        groups = []
        for i, p in enumerate(parts):
            comp = (labels[p.y:p.y + p.h, p.x:p.x + p.w] == i + 1).astype(np.uint8)
            pts = _hull_edge_points(comp) + [p.x, p.y]
            if len(pts) >= 10:
                groups.append(pts)
        if not groups:
            break
        pool = np.concatenate(groups)
        reach = cv2.dilate(cur.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        samples = [g for g in groups] + [pool]
        samples += [pool[rng.choice(len(pool), 5, replace=False)] for _ in range(RANSAC_TRIES) if len(pool) >= 5]
        best = None
        for sample in samples:
            try:
                e = cv2.fitEllipse(sample.astype(np.float32))
            except cv2.error:
                continue
            d1, d2 = e[1]
            if not (lo <= min(d1, d2) and max(d1, d2) <= hi) or max(d1, d2) > 3 * min(d1, d2):
                continue
            cover = ring_cover(e, blind, reach)
            if cover is None:
                continue
            if best is None or cover > best[0]:
                best = (cover, e)
        if best is None or best[0] < ELLIPSE_MIN_COVER:
            break
        if rings is not None:
            rings.append(best[1])
        d1, d2 = best[1][1]
        cv2.ellipse(band, best[1], 1, max(1, int(2 * ELLIPSE_BAND_MM * PX_PER_MM)))
        found.append(f"cadre rond/ovale {d1 / PX_PER_MM:.0f}x{d2 / PX_PER_MM:.0f} mm ({best[0]:.0%} du tour visible encré)")
        if max(d1, d2) <= ROUND_MAX_RATIO * min(d1, d2) and min(d1, d2) >= ROUND_MIN_MM * PX_PER_MM:
            # a round stamp: the text running around inside the ring belongs to the stamp too
            (cx, cy), _, ang = best[1]
            depth = 2 * ARC_TEXT_MM * PX_PER_MM
            ring = np.zeros(mask.shape, np.uint8)
            pad = 2 * ELLIPSE_BAND_MM * PX_PER_MM
            cv2.ellipse(ring, ((cx, cy), (d1 + pad, d2 + pad), ang), 1, -1)
            cv2.ellipse(ring, ((cx, cy), (d1 - depth, d2 - depth), ang), 0, -1)
            band |= ring
    return (band > 0) & mask, found


def all_frames(mask: np.ndarray, blind: np.ndarray, rings: list | None = None) -> tuple[np.ndarray, list[str], bool]:
    """Closed frames, then rings/ovals, then closed frames again (a ring found may free an inner frame):
    (band, descriptions, whether a ring or oval was found); the ellipses found go to `rings` when given."""
    band = np.zeros(mask.shape, bool)
    found: list[str] = []
    ring = False
    for finder in (hull_frames, ellipse_frames, hull_frames):
        b, f = finder(mask & ~band, blind, rings) if finder is ellipse_frames else finder(mask & ~band, blind)
        band |= b
        found += f
        ring |= finder is ellipse_frames and bool(f)
    return band, found, ring


def smooth_remnants(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Components that are a straight stroke or an arc of a large ellipse (frame leftovers, not handwriting)."""
    parts, labels = blobs(mask, min_mm=1.5)
    out = np.zeros(mask.shape, bool)
    tol = REMNANT_TOL_MM * PX_PER_MM
    n = 0
    for i, p in enumerate(parts):
        comp = labels[p.y:p.y + p.h, p.x:p.x + p.w] == i + 1
        ys, xs = np.nonzero(comp)
        pts = np.stack([xs, ys], 1).astype(np.float32)
        vx, vy, x0, y0 = cv2.fitLine(pts, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        d_line = np.abs((pts[:, 0] - x0) * vy - (pts[:, 1] - y0) * vx)
        smooth = np.percentile(d_line, 90) <= tol
        if not smooth and len(pts) >= 5:
            e = cv2.fitEllipse(pts)
            if min(e[1]) >= ELLIPSE_MIN_AXIS_MM * 0.6 * PX_PER_MM:
                curve = np.zeros((p.h + 1, p.w + 1), np.uint8)
                cv2.polylines(curve, [_ellipse_points(e, 360).astype(np.int32)], True, 1, 1)
                dist = cv2.distanceTransform(1 - curve, cv2.DIST_L2, 3)
                smooth = np.percentile(dist[ys, xs], 90) <= tol
        if smooth:
            out[p.y:p.y + p.h, p.x:p.x + p.w] |= comp
            n += 1
    return out, n


def _lone_stroke(mask: np.ndarray, seg: np.ndarray) -> bool:
    """A drawn line, not a row of letters: along most of it, nothing on either side at SIDE_CLEAR_MM."""
    x1, y1, x2, y2 = seg
    n = max(2, int(np.hypot(x2 - x1, y2 - y1) / 2))
    t = np.linspace(0, 1, n)
    px, py = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
    nx, ny = -(y2 - y1), x2 - x1
    norm = np.hypot(nx, ny) or 1.0
    d = SIDE_CLEAR_MM * PX_PER_MM
    h, w = mask.shape

    def inked(sign):
        xs = np.clip((px + sign * d * nx / norm).round().astype(int), 0, w - 1)
        ys = np.clip((py + sign * d * ny / norm).round().astype(int), 0, h - 1)
        return mask[ys, xs]

    on = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8))[py.round().astype(int).clip(0, h - 1),
                                                                      px.round().astype(int).clip(0, w - 1)]
    return float(on.mean()) >= SIDE_FILL_MIN and float((~inked(1) & ~inked(-1)).mean()) >= SIDE_CLEAR_SHARE


def long_line_angle(mask: np.ndarray) -> float | None:
    """Direction (degrees, within ±35°) of the longest lone straight stroke ≥ SIDE_MIN_MM: a frame side."""
    lmin = SIDE_MIN_MM * PX_PER_MM
    segs = cv2.HoughLinesP(mask.astype(np.uint8) * 255, 1, np.pi / 360, int(lmin * 0.6),
                           minLineLength=lmin, maxLineGap=int(1.5 * PX_PER_MM))
    best = None
    for seg in (segs.reshape(-1, 4).astype(float) if segs is not None else []):
        ang = np.degrees(np.arctan2(seg[3] - seg[1], seg[2] - seg[0]))
        ang = (ang + 90) % 180 - 90
        length = np.hypot(seg[2] - seg[0], seg[3] - seg[1])
        if abs(ang) <= 35 and _lone_stroke(mask, seg) and (best is None or length > best[0]):
            best = (length, ang)
    return None if best is None else float(best[1])


def straight_sides(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Long straight strokes along the text direction (mask already rotated so text is horizontal).

    Returns the bands of such sides — long ones along the text, short ones across it (each a lone
    drawn line, not a row of letters) — and a frame description when two long sides face each other
    (top and bottom of a rectangular stamp), which an underline alone cannot do.
    """
    band = np.zeros(mask.shape, np.uint8)
    vmin = FRAME_MIN_SIDE_MM * PX_PER_MM
    segs = cv2.HoughLinesP(mask.astype(np.uint8) * 255, 1, np.pi / 360, int(vmin * 0.6),
                           minLineLength=vmin, maxLineGap=int(1.5 * PX_PER_MM))
    segs = segs.reshape(-1, 4).astype(float) if segs is not None else np.zeros((0, 4))
    ang = np.degrees(np.arctan2(segs[:, 3] - segs[:, 1], segs[:, 2] - segs[:, 0])) % 180
    length = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    lone = np.array([_lone_stroke(mask, s) for s in segs], bool)
    horiz = segs[(np.minimum(ang, 180 - ang) <= SIDE_TILT_DEG) & (length >= SIDE_MIN_MM * PX_PER_MM) & lone]
    vert = segs[(np.abs(ang - 90) <= SIDE_TILT_DEG) & lone]
    width = max(1, int(2 * SIDE_BAND_MM * PX_PER_MM))
    band_v = np.zeros(mask.shape, np.uint8)
    for segs_, b in ((horiz, band), (vert, band_v)):
        for x1, y1, x2, y2 in segs_:
            cv2.line(b, (int(x1), int(y1)), (int(x2), int(y2)), 1, width)
    sides = [(min(a[0], a[2]), max(a[0], a[2]), (a[1] + a[3]) / 2) for a in horiz]
    facing = any(abs(a[2] - b[2]) >= FRAME_MIN_SIDE_MM * PX_PER_MM
                 and min(a[1], b[1]) - max(a[0], b[0]) >= 0.5 * min(a[1] - a[0], b[1] - b[0])
                 for i, a in enumerate(sides) for b in sides[i + 1:])
    desc = ["cadre rectangulaire (côtés droits face à face)"] if facing else []
    return (band > 0) & mask, (band_v > 0) & mask, desc
