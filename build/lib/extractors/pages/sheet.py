"""The sheet in a phone photo: find its four corners and warp it to a flat rectangle (A4 when it is one).

Every transform is a 3x3 matrix in pixels so that callers can compose and keep them.
"""
from __future__ import annotations

import cv2
import numpy as np

# --- algorithm internals (tuned on shared/real/invoices/captures; see docs/readability.md)
SHEET_WORK_PX = 512  # long side at which the sheet is looked for in a photo (its outline is the largest
# feature there; a work pixel is ~0.6 mm of a sheet filling the frame, and the sides are refitted on the contour)
SHEET_CLOSE_PX = 7  # closing at that scale wipes text off the sheet, keeps its outline
SHEET_MIN_AREA, SHEET_MAX_AREA = 0.2, 0.93  # of the frame: smaller is not the page, larger is a scan
SHEET_MIN_CONTRAST = 18.0  # grey levels between the sheet and what surrounds it
SHEET_SEED = (0.4, 0.6)  # the middle fifth of the frame both ways is taken for paper (a photo centres its sheet)
SHEET_HULL_SHARE = 0.95  # the four corners must keep this share of the outline's hull: a clear quadrilateral
SHEET_BORDER_PX = 3  # a corner this close to the frame (work scale) means the sheet runs out of the photo
# A rectangle photographed from any sensible viewpoint: opposite sides within this length ratio, corners
# within this many degrees of square. A watershed that followed a shadow instead of the paper's edge
# gives shapes no camera makes of a sheet (a 2.6:1 side ratio, a 35-degree corner): warping those
# would shred the page, so the photo is kept as it is.
SHEET_MAX_SIDE_RATIO = 1.6
SHEET_MAX_CORNER_DEVIATION_DEG = 35.0
SHEET_INSET = 0.004  # pull the found corners this share towards the centre: no table sliver at the edge
# The found outline can stop short of the paper's edge: at a letterhead printed as a full-bleed dark band
# (the strongest edge is then between paper and band), or at a lit or shadowed strip along one side. The
# sheet runs on beyond a side when its two neighbouring sides carry on as edges, over at least SIDE_HOLD
# of the way, up to a straight edge across, parallel to the found side (a drop shadow or a dark table
# has neither a straight step all along nor the sheet's side lines).
REACH_MIN, REACH_MAX = 0.05, 0.4  # of the sheet's length across that side
STEP_PX = (2, 6)  # an edge is a colour step between 2-6 px on either side of it (work scale)
STEP_GROUPS = 5  # the edge across must step in each fifth of the side's middle 80%...
STEP_GROUPS_SHOWN = 3  # ...that the photo shows, at least this many
SIDE_HOLD = 0.7
LINE_SLACK_PX = 3  # the neighbouring sides' edges are looked for within this of their found lines
EXTEND_PASSES = 3  # looks beyond the sides, each from where the last one ended (a band, then the paper's edge)
# Each found side must be the paper's edge: a colour step between SIDE_PROBE_PX inside and outside it at
# SIDE_EDGE_SHARE of SIDE_SAMPLES points along it (a watershed that leaked in where the sheet touches the
# frame cuts across the paper instead: paper on both sides)
SIDE_PROBE_PX, SIDE_SAMPLES, SIDE_EDGE_SHARE = 4, 40, 0.5
A4_ASPECT = 297.0 / 210.0
A4_ASPECT_TOLERANCE = 0.12  # measured aspect within this of A4's: snap to A4


def order_corners(quad: np.ndarray) -> np.ndarray:
    """Four points as top-left, top-right, bottom-right, bottom-left (image axes)."""
    q = np.asarray(quad, np.float32).reshape(4, 2)
    c = q.mean(axis=0)
    ang = np.arctan2(q[:, 1] - c[1], q[:, 0] - c[0])
    q = q[np.argsort(ang)]  # clockwise on screen, starting near -180 deg (left)
    start = int(np.argmin(q.sum(axis=1)))  # top-left has the smallest x + y
    return np.roll(q, -start, axis=0)


def _refine_sides(contour: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Fit a straight line to the contour points of each side and intersect neighbours."""
    pts = contour.reshape(-1, 2).astype(np.float32)
    lines = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        ab = b - a
        length = float(np.hypot(*ab))
        t = (pts - a) @ ab / (length**2)
        rel = pts - a
        dist = np.abs(ab[0] * rel[:, 1] - ab[1] * rel[:, 0]) / length
        near = pts[(t > 0.1) & (t < 0.9) & (dist < 0.03 * length)]
        if len(near) < 5:
            return quad
        vx, vy, x0, y0 = cv2.fitLine(near, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0]), np.array([vx, vy])))
    out = []
    for i in range(4):
        (p, d), (q, e) = lines[i - 1], lines[i]
        den = d[0] * e[1] - d[1] * e[0]
        if abs(den) < 1e-6:
            return quad
        t = ((q[0] - p[0]) * e[1] - (q[1] - p[1]) * e[0]) / den
        out.append(p + t * d)
    return np.array(out, np.float32)


def find_sheet(image: np.ndarray) -> np.ndarray | None:
    """The sheet's corners (TL, TR, BR, BL, image pixels) in a photo, or None when no sheet stands out.

    Watershed between the frame's border (background) and the centre (paper) on the gradient
    of a text-free copy: the sheet's outline is the strongest closed edge, soft shadows are not.
    None when the sheet fills the frame (a scan), runs out of it, or is not a clear quadrilateral whose
    every side is the paper's edge.
    """
    h, w = image.shape[:2]
    s = SHEET_WORK_PX / max(h, w)
    small = cv2.resize(image, (max(8, round(w * s)), max(8, round(h * s))), interpolation=cv2.INTER_AREA)
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (SHEET_CLOSE_PX, SHEET_CLOSE_PX))
    clean = cv2.GaussianBlur(cv2.morphologyEx(small, cv2.MORPH_CLOSE, k), (0, 0), 1.0)
    region = _paper_region(clean)
    quad = _region_quad(region)
    if quad is None or not _stands_out(clean, region, k):
        return None
    for _ in range(EXTEND_PASSES):  # beyond a band there may be another band, then the paper's edge
        wider = extend_to_edges(small, quad)
        if not plausible_sheet(wider) or np.abs(wider - quad).max() < 1:
            break
        quad = wider
    if min(_side_steps(clean, quad)) < SIDE_EDGE_SHARE:
        return None  # a side that runs across the paper: the watershed cut through the sheet
    quad = quad + (quad.mean(axis=0) - quad) * SHEET_INSET * 2
    return quad / s


def _paper_region(clean: np.ndarray) -> np.ndarray:
    """uint8 0/1 mask of what the watershed grows from the centre of the text-free BGR copy `clean`
    (the paper), against what grows from the frame's border (the background)."""
    grad = cv2.morphologyEx(clean, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).max(axis=2)
    sh, sw = grad.shape
    markers = np.zeros((sh, sw), np.int32)
    markers[[1, 2, -3, -2], :] = 1  # watershed ignores the outermost pixel row
    markers[:, [1, 2, -3, -2]] = 1
    lo, hi = SHEET_SEED
    markers[int(sh * lo) : int(sh * hi), int(sw * lo) : int(sw * hi)] = 2
    cv2.watershed(cv2.cvtColor(grad, cv2.COLOR_GRAY2BGR), markers)
    return (markers == 2).astype(np.uint8)


def _region_quad(region: np.ndarray) -> np.ndarray | None:
    """The quadrilateral (TL, TR, BR, BL, work px) outlining `region`, its sides refitted on the contour;
    None when the region is too small or too large, not a clear plausible quadrilateral, or touches the frame."""
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    sh, sw = region.shape
    contour = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(contour) / (sh * sw)
    if not SHEET_MIN_AREA <= area <= SHEET_MAX_AREA:
        return None
    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    quad = None
    for eps in np.linspace(0.005, 0.05, 10):  # simplify ever more until four corners are left
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            quad = order_corners(approx)
            break
        if len(approx) < 4:
            return None
    if quad is None or cv2.contourArea(quad) < SHEET_HULL_SHARE * cv2.contourArea(hull):
        return None
    quad = _refine_sides(contour, quad)
    if not plausible_sheet(quad):
        return None
    if np.any(quad < SHEET_BORDER_PX) or np.any(quad[:, 0] > sw - 1 - SHEET_BORDER_PX) \
            or np.any(quad[:, 1] > sh - 1 - SHEET_BORDER_PX):
        return None  # the sheet runs out of the frame: its corners are not where the quad says
    return quad


def _stands_out(clean: np.ndarray, region: np.ndarray, k: np.ndarray) -> bool:
    """Whether the region's inside differs from what surrounds it by SHEET_MIN_CONTRAST grey levels
    (medians a closing kernel `k` away from its outline): else it is no photo of a sheet."""
    grey = cv2.cvtColor(clean, cv2.COLOR_BGR2GRAY)
    inside = cv2.erode(region, k) > 0
    outside = cv2.dilate(region, k, iterations=2) == 0
    if inside.sum() == 0 or outside.sum() == 0:
        return False
    return abs(float(np.median(grey[inside])) - float(np.median(grey[outside]))) >= SHEET_MIN_CONTRAST


def extend_to_edges(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The quad (TL, TR, BR, BL) moved out, side by side, to where the sheet really ends (see REACH_MIN).

    Works in the sheet's own plane: the photo is warped so that the quad is an upright rectangle with
    a margin around it, and each side in turn is brought on top (np.rot90) and looked beyond.
    """
    w, h = (int(round(v)) for v in _mean_sides(quad))
    m = int(round(REACH_MAX * max(w, h))) + 2 * STEP_PX[1]
    to_rect = cv2.getPerspectiveTransform(
        np.float32(quad), np.float32([[m, m], [m + w, m], [m + w, m + h], [m, m + h]]))
    size = (w + 2 * m, h + 2 * m)
    flat = cv2.warpPerspective(cv2.medianBlur(image, 5), to_rect, size, flags=cv2.INTER_LINEAR).astype(np.float32)
    seen = cv2.warpPerspective(np.full(image.shape[:2], 255, np.uint8), to_rect, size,
                               flags=cv2.INTER_NEAREST) > 0
    reach = [_reach(np.rot90(flat, k), np.rot90(seen, k), m, *((w, h) if k % 2 == 0 else (h, w)))
             for k in range(4)]  # top, right, bottom, left
    if not any(reach):
        return quad
    top, right, bottom, left = reach
    rect = np.float32([[m - left, m - top], [m + w + right, m - top],
                       [m + w + right, m + h + bottom], [m - left, m + h + bottom]])
    return cv2.perspectiveTransform(rect[None], np.linalg.inv(to_rect))[0].astype(np.float32)


def _colour_step(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.max(np.abs(a - b), axis=-1)


def _reach(flat: np.ndarray, seen: np.ndarray, m: int, width: int, depth: int) -> int:
    """How far (px) the sheet runs on beyond its found top side, which lies on row m from column m to
    m + width in `flat`; 0 when it does not. `depth`: the sheet's length across that side."""
    a, b = STEP_PX
    lo, hi = max(b, int(REACH_MIN * depth)), int(REACH_MAX * depth)
    flat = flat[: m + b]  # the sheet's own rows beyond the first few play no part
    cuts = np.linspace(m + 0.1 * width, m + 0.9 * width, STEP_GROUPS + 1).astype(int)
    across = np.stack([np.median(flat[:, c0:c1], axis=1) for c0, c1 in zip(cuts[:-1], cuts[1:])], axis=1)
    # A turned sheet near the photo's edge: the frame crosses the strip beyond the side, so each fifth
    # counts only where the photo shows it (a sheet running out of the photo has no edge across to find)
    in_photo = np.stack([seen[: m + b, c0:c1].all(axis=1) for c0, c1 in zip(cuts[:-1], cuts[1:])], axis=1)

    def side_edge(x: int) -> np.ndarray:  # row by row: is there an edge near column x?
        steps = [_colour_step(np.median(flat[:, x + k - b : x + k - a], axis=1),
                              np.median(flat[:, x + k + a : x + k + b], axis=1))
                 for k in range(-LINE_SLACK_PX, LINE_SLACK_PX + 1)]
        return np.max(steps, axis=0) >= SHEET_MIN_CONTRAST

    def step(d: int) -> float:  # colour step across row m - d, the weakest of the fifths in the photo
        r = m - d
        shown = in_photo[r - b : r + b].all(axis=0)
        if shown.sum() < STEP_GROUPS_SHOWN:
            return 0.0
        return float(_colour_step(across[r + a : r + b].mean(axis=0), across[r - b : r - a].mean(axis=0))[shown].min())

    sides = side_edge(m) & side_edge(m + width)
    for d in range(hi, lo - 1, -1):  # the outermost edge the sides run up to (print inside a band steps too)
        if step(d) < SHEET_MIN_CONTRAST:
            continue
        r = m - d
        near = slice(r + a, r + a + max(b, d // 4))  # the sides must reach this edge, not stop short of it
        if sides[r + a : m - a].mean() >= SIDE_HOLD and sides[near].mean() >= SIDE_HOLD:
            return max(range(max(lo, d - b), d + 1), key=step)  # the window caught it early: where it peaks
    return 0


def _side_steps(image: np.ndarray, quad: np.ndarray) -> list[float]:
    """For each side of the quad (TL, TR, BR, BL): the share of points along its middle 80 % where the
    colour steps by SHEET_MIN_CONTRAST between a few px inside and outside (the paper's edge)."""
    h, w = image.shape[:2]
    img = image.astype(np.float32)
    centre = quad.mean(axis=0)
    shares = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        t = np.linspace(0.1, 0.9, SIDE_SAMPLES)[:, None]
        pts = a + t * (b - a)
        normal = np.array([-(b - a)[1], (b - a)[0]]) / max(float(np.hypot(*(b - a))), 1e-6)
        if normal @ (centre - a) < 0:
            normal = -normal  # pointing into the sheet
        inner = np.rint(pts + SIDE_PROBE_PX * normal).astype(int)
        outer = np.rint(pts - SIDE_PROBE_PX * normal).astype(int)
        ok = ((inner >= 0) & (inner < [w, h])).all(axis=1) & ((outer >= 0) & (outer < [w, h])).all(axis=1)
        if not ok.any():
            shares.append(1.0)  # a side along the frame cannot be checked
            continue
        step = _colour_step(img[inner[ok, 1], inner[ok, 0]], img[outer[ok, 1], outer[ok, 0]])
        shares.append(float(np.mean(step >= SHEET_MIN_CONTRAST)))
    return shares


def plausible_sheet(quad: np.ndarray) -> bool:
    """True when the quad (TL, TR, BR, BL) could be a rectangle seen in perspective."""
    q = np.asarray(quad, float)
    sides = [np.linalg.norm(q[(i + 1) % 4] - q[i]) for i in range(4)]
    if min(sides) <= 0:
        return False
    for a, b in ((sides[0], sides[2]), (sides[1], sides[3])):
        if max(a, b) / min(a, b) > SHEET_MAX_SIDE_RATIO:
            return False
    for i in range(4):
        u, v = q[i - 1] - q[i], q[(i + 1) % 4] - q[i]
        angle = np.degrees(np.arccos(np.clip(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)), -1, 1)))
        if abs(angle - 90.0) > SHEET_MAX_CORNER_DEVIATION_DEG:
            return False
    return True


def sheet_size(quad: np.ndarray, min_long_px: int, max_long_px: int) -> tuple[int, int, bool]:
    """(width, height, snapped_to_a4) of the flat rectangle for a sheet quad.

    Its resolution is kept within [min_long_px, max_long_px] on the long side: a phone photo's
    ~130 dpi page is brought up to the working dpi in the same single (cubic) resampling.
    """
    wq, hq = _mean_sides(quad)
    long_, short = max(wq, hq), max(1.0, min(wq, hq))
    a4 = abs(long_ / short / A4_ASPECT - 1) <= A4_ASPECT_TOLERANCE
    if a4:
        short = long_ / A4_ASPECT
    k = min(max(1.0, min_long_px / long_), max_long_px / long_)
    long_, short = long_ * k, short * k
    w, h = (long_, short) if wq >= hq else (short, long_)
    return max(1, round(w)), max(1, round(h)), a4


def _mean_sides(quad: np.ndarray) -> tuple[float, float]:
    """(width, height) of a quad (TL, TR, BR, BL): the mean of its top and bottom, of its left and right sides."""
    tl, tr, br, bl = quad
    return ((float(np.hypot(*(tr - tl))) + float(np.hypot(*(br - bl)))) / 2,
            (float(np.hypot(*(bl - tl))) + float(np.hypot(*(br - tr)))) / 2)


def warp_sheet(image: np.ndarray, quad: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Warp the quad to a flat w x h rectangle; return (image, 3x3 matrix old px -> new px)."""
    w, h = size
    dst = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    m = cv2.getPerspectiveTransform(np.float32(quad), dst)
    return cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE), m
