"""Registering a page onto our blank care-sheet form.

Everything downstream works in the *form frame* (extractors.care_sheet.layout:
the blank form's own picture, 150 dpi). `register(image)` finds the
homography page -> form frame from the four solid fiducial squares (or, when
they are not all visible, from ORB feature matches against the blank), refines
it on ~190 printed landmarks (box corners, bars, captions) by template matching,
and warps the page into the form frame, where each zone is a fixed rectangle.
"""
from __future__ import annotations

import functools
import hashlib
import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from extractors.care_sheet.layout import PX_PER_MM, blank_grey, zone_px, zones
from extractors.pages.geometry import paper_level

WORK_LONG_SIDE_PX = 2000  # a page is registered at about the form's resolution (A4 long side = 1754 px)

# --- tunable thresholds (bench/calibrate_care_sheet.py reports how registration fares; docs/care_sheet.md) --
FIDUCIAL_DARK_MAX = 110  # grey level below which a pixel can be a fiducial (flattened paper is 235; squares print black)
FIDUCIAL_FILL_MIN = 0.82  # component area / its min-area rectangle: a solid square fills it (blur rounds its corners)
FIDUCIAL_ASPECT_MAX = 1.6  # longer / shorter side (perspective squashes squares)
FIDUCIAL_SIDE_MM = 6.0  # the printed fiducial squares' side (layout.json: 6 x 6 mm)
FIDUCIAL_SIZE_RATIO = (0.5, 2.0)  # measured / expected fiducial area under a candidate homography (blur, ink spread)
LANDMARK_HALF_MM = 3.0  # landmark template: a square of 2x this side (6 mm: a box corner, a bar end, a few letters)
LANDMARK_SEARCH_MM = 4.0  # how far a landmark may be from where the first estimate (fiducials or ORB) puts it ...
LANDMARK_FINE_SEARCH_MM = 1.5  # ... and from where the first refinement puts it (the second, fine pass)
LANDMARK_NCC_MIN = 0.5  # normalised correlation for a landmark to count as found (RANSAC then drops false matches)
LANDMARK_INLIER_MM = 0.8  # RANSAC tolerance of the refined homography (a good fit leaves ~0.05 mm RMS on the bench)
REGISTER_MIN_LANDMARKS = 15  # inlier landmarks needed to trust a registration (of ~190; any 4 points fit a homography)
REGISTER_MIN_SHARE = 0.35  # inliers / landmarks in view (another document matches few of our form's printed points)
REGISTER_MAX_ERROR_MM = 1.0  # RMS landmark residual above which the fit is rejected (good fits: ~0.05 mm on the bench)
ORB_MIN_INLIERS = 25  # feature-matching fallback: RANSAC inliers needed (well above the 4 any homography fits)
ORB_FEATURES = 4000  # ORB keypoints at half scale, on the blank and on the page (how it was chosen is not recorded)


@dataclass(frozen=True, slots=True)
class Registration:
    """Where the page sits on the form. `form_image`/`valid` are None when it could not be found."""

    ok: bool
    method: str  # "fiducials" / "features" / "none"
    homography: np.ndarray | None  # 3x3, page-image px -> form-frame px
    error_mm: float | None  # RMS residual of the inlier landmarks after the fit
    landmarks: int  # inlier landmarks
    landmark_share: float  # inliers / landmarks in view (0..1)
    form_image: np.ndarray | None  # the page warped into the form frame, BGR
    valid: np.ndarray | None  # bool, form-frame pixels that come from inside the page image
    note: str = ""


def _fiducial_centres_px() -> np.ndarray:
    """TL, TR, BR, BL fiducial centres in form px (clockwise, as image corners go)."""
    order = ("fiducial_top_left", "fiducial_top_right", "fiducial_bottom_right", "fiducial_bottom_left")
    return np.array([[(zones()[z]["bbox"][0] + zones()[z]["bbox"][2]) / 2,
                      (zones()[z]["bbox"][1] + zones()[z]["bbox"][3]) / 2] for z in order]) * PX_PER_MM


@functools.lru_cache(maxsize=1)
def landmarks() -> np.ndarray:
    """Printed points of the blank that a template match finds unambiguously within the search window (form px)."""
    g = blank_grey()
    r, s = int(LANDMARK_HALF_MM * PX_PER_MM), int(LANDMARK_SEARCH_MM * PX_PER_MM)
    pts = cv2.goodFeaturesToTrack(g, maxCorners=600, qualityLevel=0.02, minDistance=int(7 * PX_PER_MM))
    skip = [zone_px("qr_box", margin_mm=1)]  # pre-filled sheets print a QR code there
    keep = []
    for x, y in pts.reshape(-1, 2).astype(int):
        if not (r + s <= x < g.shape[1] - r - s and r + s <= y < g.shape[0] - r - s):
            continue
        if any(a <= x <= c and b <= y <= d for a, b, c, d in skip):
            continue
        tpl = g[y - r:y + r + 1, x - r:x + r + 1]
        if tpl.std() < 20:
            continue
        res = cv2.matchTemplate(g[y - r - s:y + r + s + 1, x - r - s:x + r + s + 1], tpl, cv2.TM_CCOEFF_NORMED)
        res[s - 2:s + 3, s - 2:s + 3] = -1  # the true position; any other strong peak makes it ambiguous
        if res.max() < 0.75:
            keep.append((x, y))
    return np.array(keep, np.float64)


# --- registration ------------------------------------------------------------------------------------------


def _flatten_light(grey: np.ndarray) -> np.ndarray:
    """Divide by the paper's brightness (a max filter at 1/8 scale): shadows and gradients go away."""
    bg = paper_level(grey, shrink=8, dilate_px=7, sigma=2.0, floor=20.0)
    return np.clip(grey.astype(np.float32) * 235.0 / bg, 0, 255).astype(np.uint8)


def find_fiducials(grey: np.ndarray) -> list[tuple[float, float, float]]:
    """Solid dark squares of plausible size: (cx, cy, area px), largest first."""
    flat = _flatten_light(grey)
    dark = (flat < FIDUCIAL_DARK_MAX).astype(np.uint8)
    n, lab, stats, cents = cv2.connectedComponentsWithStats(dark, connectivity=8)
    long_side = max(grey.shape)
    amin, amax = (0.006 * long_side) ** 2, (0.05 * long_side) ** 2
    out = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if not amin <= area <= amax or max(w, h) > 2.2 * min(w, h) or area < 0.45 * w * h:
            continue
        comp = (lab[y:y + h, x:x + w] == i).astype(np.uint8)
        cnts, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        (_, _), (rw, rh), _ = cv2.minAreaRect(max(cnts, key=cv2.contourArea))
        if rw * rh == 0 or area / (rw * rh) < FIDUCIAL_FILL_MIN or max(rw, rh) / min(rw, rh) > FIDUCIAL_ASPECT_MAX:
            continue
        out.append((float(cents[i][0]), float(cents[i][1]), float(area)))
    return sorted(out, key=lambda c: -c[2])


def _fiducial_hypotheses(cands: list[tuple[float, float, float]]) -> list[np.ndarray]:
    """Homographies (work px -> form px) from every 4 candidates forming a plausible corner set, best first."""
    dst = _fiducial_centres_px().astype(np.float32)
    side = FIDUCIAL_SIDE_MM * PX_PER_MM
    scored = []
    for quad in itertools.combinations(cands[:12], 4):
        p = np.array([q[:2] for q in quad], np.float32)
        c = p.mean(0)
        order = np.argsort(np.arctan2(p[:, 1] - c[1], p[:, 0] - c[0]))
        p = p[order]
        areas = np.array([quad[i][2] for i in order])
        if not cv2.isContourConvex(p.reshape(-1, 1, 2)):
            continue
        for rot in range(4):  # which candidate is the form's top-left: the page may be upside down
            src = np.roll(p, -rot, axis=0)
            a = np.roll(areas, -rot)
            H = cv2.getPerspectiveTransform(src, dst)
            Hi = np.linalg.inv(H)
            ratios = []
            for (fx, fy), ai in zip(dst, a):
                sq = np.array([[fx - side / 2, fy - side / 2], [fx + side / 2, fy - side / 2],
                               [fx + side / 2, fy + side / 2], [fx - side / 2, fy + side / 2]], np.float32)
                proj = cv2.perspectiveTransform(sq.reshape(-1, 1, 2), Hi).reshape(-1, 2)
                ratios.append(ai / max(cv2.contourArea(proj), 1e-6))
            ratios = np.array(ratios)
            if ratios.min() < FIDUCIAL_SIZE_RATIO[0] or ratios.max() > FIDUCIAL_SIZE_RATIO[1]:
                continue
            scored.append((float(np.abs(np.log(ratios)).sum()), H))
    scored.sort(key=lambda t: t[0])
    return [H for _, H in scored[:8]]


@functools.lru_cache(maxsize=1)
def _orb_blank():
    orb = cv2.ORB_create(nfeatures=ORB_FEATURES, fastThreshold=12)
    kp, des = orb.detectAndCompute(cv2.resize(blank_grey(), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), None)
    return np.float32([k.pt for k in kp]) * 2, des


def _feature_hypothesis(grey: np.ndarray) -> np.ndarray | None:
    """Homography work px -> form px from ORB matches against the blank (RANSAC, at half scale), or None."""
    bpts, bdes = _orb_blank()
    orb = cv2.ORB_create(nfeatures=ORB_FEATURES, fastThreshold=12)
    kp, des = orb.detectAndCompute(cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), None)
    if des is None or len(kp) < ORB_MIN_INLIERS:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(des, bdes, k=2)
    good = [m for m, *rest in pairs if rest and m.distance < 0.8 * rest[0].distance]
    if len(good) < ORB_MIN_INLIERS:
        return None
    src = np.float32([kp[m.queryIdx].pt for m in good]) * 2
    dst = bpts[[m.trainIdx for m in good]]
    H, inl = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, 4.0, maxIters=5000)
    if H is None or int(inl.sum()) < ORB_MIN_INLIERS:
        return None
    return H


def _similarity(grey: np.ndarray, H: np.ndarray) -> float:
    """Correlation of the page warped by H with the blank, at 1/4 scale: tells an upside-down guess from the right one."""
    q = np.diag([0.25, 0.25, 1.0])
    bsmall = cv2.resize(blank_grey(), None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    w = cv2.warpPerspective(grey, q @ H, (bsmall.shape[1], bsmall.shape[0]), flags=cv2.INTER_AREA,
                            borderValue=255)
    return float(cv2.matchTemplate(w, bsmall, cv2.TM_CCOEFF_NORMED)[0, 0])


def _match_landmarks(grey: np.ndarray, H: np.ndarray, search_mm: float):
    """Template-match the landmarks in the page warped by H: (form px, where found in work px, in-view count)."""
    g = blank_grey()
    r, s = int(LANDMARK_HALF_MM * PX_PER_MM), int(search_mm * PX_PER_MM)
    fh, fw = g.shape
    warped = cv2.warpPerspective(grey, H, (fw, fh), flags=cv2.INTER_LINEAR, borderValue=0)
    inside = cv2.warpPerspective(np.full(grey.shape, 255, np.uint8), H, (fw, fh), flags=cv2.INTER_NEAREST)
    found_form, found_work, in_view = [], [], 0
    for x, y in landmarks().astype(int):
        win = (slice(y - r - s, y + r + s + 1), slice(x - r - s, x + r + s + 1))
        if not (inside[y - r - s, x - r - s] and inside[y - r - s, x + r + s]
                and inside[y + r + s, x - r - s] and inside[y + r + s, x + r + s]):
            continue  # the page outline is convex: its four corners in view, the whole window is
        in_view += 1
        res = cv2.matchTemplate(warped[win], g[y - r:y + r + 1, x - r:x + r + 1], cv2.TM_CCOEFF_NORMED)
        _, peak, _, (mx, my) = cv2.minMaxLoc(res)
        if peak < LANDMARK_NCC_MIN:
            continue
        dx, dy = _subpixel(res, mx, my)
        found_form.append((x, y))
        found_work.append((x + mx + dx - s, y + my + dy - s))
    if not found_form:
        return np.zeros((0, 2)), np.zeros((0, 2)), in_view
    back = cv2.perspectiveTransform(np.float64(found_work).reshape(-1, 1, 2), np.linalg.inv(H)).reshape(-1, 2)
    return np.float64(found_form), back, in_view


def _subpixel(res: np.ndarray, x: int, y: int) -> tuple[float, float]:
    def peak(a, b, c):
        d = a - 2 * b + c
        return 0.0 if abs(d) < 1e-9 else float(np.clip(0.5 * (a - c) / d, -0.5, 0.5))

    dx = peak(res[y, x - 1], res[y, x], res[y, x + 1]) if 0 < x < res.shape[1] - 1 else 0.0
    dy = peak(res[y - 1, x], res[y, x], res[y + 1, x]) if 0 < y < res.shape[0] - 1 else 0.0
    return dx, dy


def _refine(grey: np.ndarray, H: np.ndarray):
    """Re-fit H on the landmarks found around where H puts them (twice: coarse, then fine)."""
    stats = (0, 0, math.inf)
    for search in (LANDMARK_SEARCH_MM, LANDMARK_FINE_SEARCH_MM):
        form_pts, work_pts, in_view = _match_landmarks(grey, H, search)
        if len(form_pts) < REGISTER_MIN_LANDMARKS:
            return H, (len(form_pts), in_view, math.inf)
        Hn, inl = cv2.findHomography(work_pts, form_pts, cv2.RANSAC, LANDMARK_INLIER_MM * PX_PER_MM)
        if Hn is None:
            return H, (0, in_view, math.inf)
        inl = inl.ravel().astype(bool)
        proj = cv2.perspectiveTransform(work_pts[inl].reshape(-1, 1, 2), Hn).reshape(-1, 2)
        rms = float(np.sqrt(np.mean(np.sum((proj - form_pts[inl]) ** 2, 1)))) / PX_PER_MM
        H, stats = Hn, (int(inl.sum()), in_view, rms)
    return H, stats


def register(image: np.ndarray) -> Registration:
    """Register a page image (BGR or grey) onto the blank form; see `Registration`."""
    scale = min(1.0, WORK_LONG_SIDE_PX / max(image.shape[:2]))
    work = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    if work.ndim == 2:
        work = cv2.cvtColor(work, cv2.COLOR_GRAY2BGR)
    grey = cv2.cvtColor(work, cv2.COLOR_BGR2GRAY)

    method, hyps = "fiducials", _fiducial_hypotheses(find_fiducials(grey))
    if not hyps:
        method, Hf = "features", _feature_hypothesis(grey)
        hyps = [Hf] if Hf is not None else []
    if not hyps:
        return Registration(False, "none", None, None, 0, 0.0, None, None,
                            "ni repères d'angle ni correspondance avec le formulaire vierge")
    H0 = max(hyps, key=lambda h: _similarity(grey, h)) if len(hyps) > 1 else hyps[0]
    H, (n_in, in_view, rms) = _refine(grey, H0)
    share = n_in / in_view if in_view else 0.0
    ok = n_in >= REGISTER_MIN_LANDMARKS and share >= REGISTER_MIN_SHARE and rms <= REGISTER_MAX_ERROR_MM
    if not ok and method == "fiducials":  # the squares may be something else: try the features once
        Hf = _feature_hypothesis(grey)
        if Hf is not None:
            H2, (n2, v2, rms2) = _refine(grey, Hf)
            share2 = n2 / v2 if v2 else 0.0
            if n2 >= REGISTER_MIN_LANDMARKS and share2 >= REGISTER_MIN_SHARE and rms2 <= REGISTER_MAX_ERROR_MM:
                method, H, n_in, in_view, rms, share, ok = "features", H2, n2, v2, rms2, share2, True
    error = None if math.isinf(rms) else round(rms, 3)
    if not ok:
        return Registration(False, method, None, error, n_in, share, None, None,
                            f"repérage rejeté: {n_in}/{in_view} repères, erreur {error} mm")
    fh, fw = blank_grey().shape
    form_image = cv2.warpPerspective(work, H, (fw, fh), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    valid = cv2.warpPerspective(np.full(grey.shape, 255, np.uint8), H, (fw, fh), flags=cv2.INTER_NEAREST) > 0
    full = H @ np.diag([scale, scale, 1.0])
    return Registration(True, method, full, error, n_in, share, form_image, valid)


_CACHE: dict[str, Registration] = {}


def register_cached(image: np.ndarray) -> Registration:
    """`register`, remembered for the last few images (the classifier and the reader see the same page)."""
    h = hashlib.blake2b(np.ascontiguousarray(image[::7, ::5]).data, digest_size=16)
    h.update(str(image.shape).encode())
    key = h.hexdigest()
    if key not in _CACHE:
        if len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = register(image)
    return _CACHE[key]
