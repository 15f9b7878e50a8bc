"""Readability: can a person (and Tesseract) read this page? 0.0-1.0 with the defects that lowered it.

Cheap pixel measures taken on the text itself, not on the whole page: the height of each text
line's characters in pixels (resolution; the small print counts, it is what fails first), edge width
at the text relative to those heights (focus), paper and ink levels
(exposure, contrast), noise, JPEG blocking, text cut by the frame. Each becomes a sub-score in
0..1; the page score is their product. The curves and the threshold come from
bench/calibrate_readability.py (Tesseract's character accuracy on degraded pages with known
text); docs/readability.md has the method and the figures. Score the normalised page image.
"""
from __future__ import annotations

import cv2
import numpy as np

from extractors.pages import geometry
from intake.core.records import Readability
from intake.core.settings import Settings

# Client-facing words for each defect (the one place they are spelled).
READABILITY_DEFECTS_FR: dict[str, str] = {
    "blur": "photo floue",
    "dark": "image trop sombre",
    "overexposed": "image surexposée (trop claire)",
    "low_contrast": "texte trop pâle ou image trop granuleuse",
    "low_resolution": "résolution insuffisante (texte trop petit)",
    "compression": "image trop compressée",
    "cut_off": "document coupé",
    "no_text": "aucun texte lisible",
}

# --- algorithm internals --------------------------------------------------------------------
WORK_MAX_PX = 2400  # long side the measures are taken at (~200 dpi A4); larger is downscaled
STRIDE = 3  # levels and percentiles are taken on every 3rd pixel: same answer, a tenth of the time
MIN_CHARS = 30  # fewer character-like marks: nothing to read
CORE_LEVEL = 0.3  # character height is measured on the ink's dark core (blur cannot merge cores)
EDGE_PERCENTILE = 90  # the sharpest edges of the text tell the focus (stamps and fills are softer)
SOBEL_GAIN = 8.0  # a 3x3 Sobel answers 8 to a ramp of one grey level per pixel
EDGE_WINDOW = 1.2  # local contrast is taken over this many character heights
QUANTISATION_NOISE = 0.3  # grey levels: the noise floor of any 8-bit image
CLIPPED_LEVEL = 250  # paper at or above this grey level is burnt out
BLOCK = 8  # JPEG block size
BORDER_TOUCH_PX = 1  # a character this close to the frame is cut by it...
SURROUND_PERCENTILE, ON_PAPER = 75, 0.5  # ...when it stands on paper: the brighter quarter of the pixels
# within a character height of it at least half as bright as the page's paper (dark letterhead bands and
# tables measure 0.25-0.35, print on shadowed paper 0.65+)
INK_PERCENTILE, INK_PERCENTILE_SPARSE = 1.0, 0.2  # darkest shares of pixels that give the ink level
INK_MIN_SNR = 4.0  # ink must be this many noise-sigmas darker than paper to count as print
INK_MIN_GREY = 5.0  # ...and the darkest 1 % this many grey levels, or they are paper: clipped white paper
# has a median residual of 0 (no noise to measure) while its grain still lies 1-3 levels under white
TINY_MIN_H, TINY_MAX_H, TINY_MIN_AREA = 3, 4, 4  # marks this small still count as (tiny) print in the size
# measure; smaller ones are specks of noise
SIZE_QUANTILES = (10, 30, 50, 70, 90)  # of the characters, by their line's height: equal shares of the text
# On our own care-sheet form the smallest print is the form's captions, which we know by heart: what must
# be read is what people wrote and stamped on it, the larger shares.
FORM_QUANTILES = (70, 90)
CHAR_REF_PX = 20.0  # blur is judged against the character height, but no larger than this (blurred
# text merges into blobs that look taller than any character)...
PITCH_SHARE = 0.5  # ...or than this share of the distance between lines (characters are ~0.35-0.45 of it,
# blurred blobs of small print ~0.65; a line pitch is not changed by blur)

# Sub-score curves: logistic(value; midpoint, width), fitted on the calibration pages
# (bench/calibrate_readability.py). Each maps one measure to how well text is still read with
# that defect alone; the page score is their product.
CURVES: dict[str, tuple[float, float]] = {
    "low_resolution": (6.0, 1.0),  # height of a text line's characters (dark cores), px; averaged over SIZE_QUANTILES
    "blur": (-0.21, 0.02),  # minus (edge width - sharp edge) / character height, per SIZE_QUANTILES share
    "low_contrast": (2.6, 0.1),  # log2 contrast-to-noise ratio (dark, noisy and faded pages alike)
    # paper level (0..1, sRGB grey). Not fitted on Tesseract (which reads a page exposed at 5 %) but set
    # by who must read the page next, a claims handler: WCAG's minimum contrast for large text (3:1)
    # needs paper of relative luminance 0.10 under black ink, sRGB grey ~0.35; at ~0.25 the ratio is
    # ~2:1 and the page is too dark for a person to read on screen.
    "dark": (0.25, 0.025),
    "compression": (-1.7, 0.05),  # minus JPEG blockiness ratio (Tesseract shrugs off all but the worst)
    "cut_off": (-2.0, 0.5),  # minus characters cut by the frame (one may be a speck; three are lines cut)
}
# `dark` is not fitted on Tesseract but set by a person's eye: it must reject the page, yet it says
# nothing of how much text is there. It lowers the score by its factor, but never under this share of
# the threshold or what the other measures say, whichever is lower (routing is the same either way).
GATE_CAP_SHARE = 0.9
DEFECT_BELOW = 0.8  # a sub-score under this names its defect
SHARP_EDGE_PX = 2.0  # a perfectly sharp edge still measures ~2 px (pixel grid, anti-aliasing)
FAINT_INK = 0.02  # ink at least this much darker than paper but no characters found: faint, not blank
DARK_PAPER, BURNT_SHARE = 0.35, 0.5  # low contrast on paper darker than this is "dark"; on paper
# burnt out at this share, "overexposed"

def _logistic(x: float, mid: float, width: float) -> float:
    return float(1.0 / (1.0 + np.exp(-(x - mid) / width)))


def measure(image: np.ndarray, footprint: np.ndarray | None = None) -> dict[str, float]:
    """The raw readability measures of a page image (BGR or grey), in the image's own pixels.
    `footprint`: the corners of what the capture shows (`normalise.footprint`); its edge is the frame
    too (print stops there as it stops at the frame)."""
    grey = geometry.to_grey(image)
    h, w = grey.shape
    s = min(1.0, WORK_MAX_PX / max(h, w))
    if s < 1.0:
        grey = cv2.resize(grey, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    g = grey.astype(np.float32)
    bg = geometry.paper_background(grey)
    f = g / bg
    sub = (slice(None, None, STRIDE), slice(None, None, STRIDE))
    paper_grey = float(np.median(bg[sub]))
    m: dict[str, float] = {"paper_level": paper_grey / 255.0,
                           "burnt_paper": float(np.mean(grey[sub] >= CLIPPED_LEVEL))}

    # Is anything printed? The darkest pixels must stand out of the noise (sparse small print
    # covers well under 1% of a page: take a low percentile).
    resid = cv2.absdiff(grey, cv2.medianBlur(grey, 3))[sub].astype(np.float32)
    page_noise = 1.4826 * float(np.median(resid)) + QUANTISATION_NOISE
    # The text's ink level: the darkest 1% of pixels on an ordinary page; the darkest 0.2% when
    # the print is so sparse or faint that 1% lands on paper (a logo alone must not set it).
    levels = np.percentile(f[sub], [INK_PERCENTILE_SPARSE, INK_PERCENTILE])
    on_ink = (1.0 - levels[1]) * paper_grey >= max(INK_MIN_SNR * page_noise, INK_MIN_GREY)
    ink_level = float(levels[1] if on_ink else levels[0])
    m["ink_depth"] = 1.0 - ink_level
    if (1.0 - ink_level) * paper_grey < INK_MIN_SNR * page_noise:
        m["chars"] = 0.0
        return m
    mask = np.multiply(f < (1.0 + ink_level) / 2, 255, dtype=np.uint8)
    core = np.multiply(f < ink_level + CORE_LEVEL * (1.0 - ink_level), 255, dtype=np.uint8)
    comps, tiny = _components(core, max_h=max(8, int(0.05 * max(grey.shape))))
    m["chars"] = float(len(comps.boxes))
    if len(comps.boxes) < MIN_CHARS:
        return m
    char_h = float(np.median(comps.boxes[:, 3]))
    m["char_height_px"] = char_h / s
    # A page is read as well as its print, line by line: the height of each text line's characters,
    # weighted by its characters, at a few quantiles (the small print fails first).
    all_print = geometry.Components(np.concatenate([comps.boxes, tiny]), comps.shape)
    lines = geometry.text_lines(all_print)
    heights, bottoms = _line_medians(all_print.boxes, lines) if lines else (np.empty(0), np.empty(0))
    for q, h_q in zip(SIZE_QUANTILES, _line_heights(all_print, lines, heights, SIZE_QUANTILES)):
        m[f"char_h_p{q}"] = h_q / s
    pitch = _line_pitch(all_print, lines, heights, bottoms)
    if pitch is not None:
        m["line_pitch_px"] = pitch / s

    # Contrast against noise: ink vs paper on the flattened page, noise on bare paper.
    ink = mask[sub] > 0
    paper = cv2.erode(cv2.bitwise_not(mask), np.ones((5, 5), np.uint8))[sub] > 0
    fs = f[sub]
    if paper.any() and ink.any():
        contrast = (float(np.median(fs[paper])) - float(np.median(fs[ink]))) * paper_grey
        noise = 1.25 * float(np.mean(resid[paper])) + QUANTISATION_NOISE
        m["contrast_grey"] = contrast
        m["noise_grey"] = noise
        m["cnr_log2"] = float(np.log2(max(contrast, 0.1) / noise))

    # Focus: width of the text's sharpest edges (step / max slope), relative to character height.
    win = max(3, int(round(EDGE_WINDOW * char_h)) | 1)  # must span a blurred edge, not just a stroke
    kernel = np.ones((win, win), np.uint8)
    local = cv2.subtract(cv2.dilate(grey, kernel), cv2.erode(grey, kernel))
    near_ink = np.flatnonzero(cv2.dilate(mask, np.ones((3, 3), np.uint8)))
    loc_ink = local.ravel()[near_ink]
    strong = loc_ink > 0.5 * float(np.percentile(loc_ink[:: STRIDE], 90))
    if strong.any():
        at = near_ink[strong]
        gx = cv2.Sobel(grey, cv2.CV_16S, 1, 0, ksize=3).ravel()[at].astype(np.float32)
        gy = cv2.Sobel(grey, cv2.CV_16S, 0, 1, ksize=3).ravel()[at].astype(np.float32)
        slope = np.hypot(gx, gy) / SOBEL_GAIN
        sharp = float(np.percentile(slope / np.maximum(loc_ink[strong], 1), EDGE_PERCENTILE))
        m["edge_width_px"] = 1.0 / max(sharp, 1e-3) / s

    m["blockiness"] = _blockiness(g)

    # Cut off: characters of a text line touching the frame, standing on paper. (Text merely close to it
    # is no sign: real footers sit within 3 mm of a scan's edge. A lone mark at the frame is the table's
    # grain or a speck where a photo's sheet runs out of the frame, not a line of print cut by it; marks
    # on a dark letterhead band or on a table are not print on the page.)
    in_line = np.zeros(len(all_print.boxes), bool)
    for idx in lines:
        in_line[idx] = True
    in_line = in_line[: len(comps.boxes)]
    b = comps.boxes[in_line & (np.abs(comps.boxes[:, 3] - char_h) <= 0.5 * char_h)]  # real characters only
    gh, gw = grey.shape
    d = BORDER_TOUCH_PX
    at_frame = (b[:, 0] <= d) | (b[:, 1] <= d) | (b[:, 0] + b[:, 2] >= gw - d) | (b[:, 1] + b[:, 3] >= gh - d)
    poly = None if footprint is None else np.asarray(footprint, float) * s
    if poly is not None:  # ...or at the edge of what was captured
        x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
        corners = np.stack([np.stack(c, axis=1) for c in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))], axis=1)
        within = geometry.inside(poly, corners.reshape(-1, 2).astype(float), margin=d + 1)
        at_frame |= ~within.reshape(-1, 4).all(axis=1)
    pad = int(round(char_h))
    m["cut_chars"] = float(sum(_surround(grey, box, pad, poly) >= ON_PAPER * paper_grey for box in b[at_frame]))
    return m


def _surround(grey: np.ndarray, box: np.ndarray, pad: int, poly: np.ndarray | None) -> float:
    """The SURROUND_PERCENTILE grey level within `pad` px of a character box, over captured pixels only
    (the corners a deskew filled in are not the paper the character stands on)."""
    x, y, bw, bh = (int(v) for v in box)
    x0, y0 = max(0, x - pad), max(0, y - pad)
    window = grey[y0 : y + bh + pad, x0 : x + bw + pad]
    if poly is not None:
        yy, xx = np.mgrid[y0 : y0 + window.shape[0], x0 : x0 + window.shape[1]]
        seen = geometry.inside(poly, np.stack([xx.ravel(), yy.ravel()], axis=1).astype(float), margin=0.0)
        if not seen.any():
            return 0.0
        window = window.ravel()[seen]
    return float(np.percentile(window, SURROUND_PERCENTILE))


def _components(core: np.ndarray, max_h: int) -> tuple[geometry.Components, np.ndarray]:
    """Character components of the ink's dark cores (`geometry.char_components`'s filter, min height
    2 px), and the boxes of the tiny marks that filter drops as specks (under 8 px of area, 3-4 px
    high): print that small is what Tesseract loses first and must not vanish from the size measure.
    One labelling pass serves both."""
    stats = geometry.connected(core, 8)
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    boxes = np.stack([x, y, w, h], axis=1).astype(int)
    keep = ((h >= 2) & (h <= max_h) & (w <= max_h * 2) & (area >= geometry.CHAR_MIN_AREA)
            & (w <= geometry.CHAR_MAX_ASPECT * h) & (h <= geometry.CHAR_MAX_ASPECT * w) & (area >= 0.1 * w * h))
    tiny = (h >= TINY_MIN_H) & (h <= TINY_MAX_H) & (area >= TINY_MIN_AREA) & (area < geometry.CHAR_MIN_AREA) & (w <= 3 * h)
    return geometry.Components(boxes[keep], core.shape[:2]), boxes[tiny]


def _line_medians(b: np.ndarray, lines: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per text line: the median character height and the median character bottom (px), as np.median
    gives them, for all lines in one sort (a page has hundreds of lines: a median call each cost 10 ms)."""
    idx = np.concatenate(lines)
    sizes = np.array([len(i) for i in lines])
    group = np.repeat(np.arange(len(lines)), sizes)
    start = np.cumsum(sizes) - sizes
    lo, hi = start + (sizes - 1) // 2, start + sizes // 2
    out = []
    for v in (b[idx, 3], b[idx, 1] + b[idx, 3]):
        v = v[np.lexsort((v, group))]
        out.append((v[lo] + v[hi]) / 2.0)
    return out[0], out[1]


def _line_heights(comps: geometry.Components, lines: list[np.ndarray], heights: np.ndarray,
                  quantiles: tuple[int, ...]) -> list[float]:
    """Character-weighted quantiles of the text lines' median character heights (px)."""
    if not lines:  # no line of 4+ characters: every component counts as its own line
        return [float(v) for v in np.percentile(comps.boxes[:, 3], quantiles)]
    return [float(v) for v in np.percentile(np.repeat(heights, [len(idx) for idx in lines]), quantiles)]


def _line_pitch(comps: geometry.Components, lines: list[np.ndarray], heights: np.ndarray,
                bottoms: np.ndarray) -> float | None:
    """Distance (px) from a text line's baseline to the next one below it in the same column: the lower
    quartile of these (a line split at its word gaps often finds only the line after next below it);
    None with fewer than three such pairs. Blur leaves it as it is, while it swells the characters."""
    b = comps.boxes
    rows = sorted((float(bottoms[k]), int(b[idx, 0].min()), int((b[idx, 0] + b[idx, 2]).max()), float(heights[k]))
                  for k, idx in enumerate(lines))
    gaps = []
    for i, (base, x0, x1, h) in enumerate(rows):
        for base2, u0, u1, _ in rows[i + 1 :]:
            if base2 - base > 0.5 * h and min(x1, u1) > max(x0, u0):
                gaps.append(base2 - base)
                break
    return float(np.percentile(gaps, 25)) if len(gaps) >= 3 else None


def _blockiness(g: np.ndarray) -> float:
    """JPEG blocking: mean |step| on the strongest 8-pixel grid phase / median phase, weaker axis.

    Text edges fall on every phase alike; blocking adds steps on one phase, in both axes
    (a table rule adds to one phase of one axis only, hence the weaker axis).
    """
    ratios = []
    for axis in (0, 1):
        lines = g[:, ::STRIDE] if axis == 0 else g[::STRIDE, :]  # every 3rd column/row is plenty
        prof = np.abs(np.diff(lines, axis=axis)).mean(axis=1 - axis)
        n = len(prof) // BLOCK * BLOCK
        if n < 4 * BLOCK:
            return 1.0
        phases = prof[:n].reshape(-1, BLOCK).mean(axis=0)
        ratios.append(float(phases.max() / max(np.median(phases), 1e-3)))
    return min(ratios)


def score_readability(image: np.ndarray, settings: Settings, *, form: bool = False,
                      footprint: np.ndarray | None = None) -> Readability:
    """Readability of a page image: score 0.0 (unreadable) to 1.0 (clean), named defects, raw metrics.
    `form`: the page is our care-sheet form (its printed captions are not what must be read, and a cut is
    judged by the zones it hides). `footprint`: see `measure`."""
    try:
        m = measure(image, footprint)
    except Exception:  # a measure that breaks says nothing about the page: judge it unreadable-unknown
        return Readability(0.0, ("no_text",), {})
    return judge(m, settings.readability_threshold, form=form)


def judge(m: dict[str, float], threshold: float, *, form: bool = False) -> Readability:
    """Score and defects from the measures of `measure` (kept apart so calibration can re-score)."""
    if "char_height_px" not in m:  # no text found: blank, black, or ink too faint to find
        return Readability(0.0, (_faint_why(m) if m.get("ink_depth", 0.0) >= FAINT_INK else "no_text",), dict(m))
    # Size and focus are judged on each share of the text at its own height (small print fails
    # first): the expected share of characters that are big enough, and of those, sharp enough.
    quantiles = FORM_QUANTILES if form else SIZE_QUANTILES
    heights = [m[f"char_h_p{q}"] for q in quantiles if f"char_h_p{q}" in m] or [m["char_height_px"]]
    edge_excess = max(m.get("edge_width_px", m["char_height_px"]) - SHARP_EDGE_PX, 0.0)
    res = np.array([_logistic(h, *CURVES["low_resolution"]) for h in heights])
    # Blur: edge width beyond what a sharp edge measures anyway, per pixel of character height.
    # Blurred print swells into blobs taller than its characters, so heights are trusted only up to a
    # cap: CHAR_REF_PX, or a share of the line pitch when the lines stand far apart (large print).
    ref_cap = max(CHAR_REF_PX, PITCH_SHARE * m.get("line_pitch_px", 0.0))
    blurs = np.array([edge_excess / min(h, ref_cap) for h in heights])
    foc = np.array([_logistic(-b, *CURVES["blur"]) for b in blurs])
    subs = {"low_resolution": float(res.mean()),
            # at the pixel floor a small image is a resolution problem, not a focus one
            "blur": float((res * foc).mean() / max(res.mean(), 1e-6))}
    blur = float(np.median(blurs))
    values = {
        "low_contrast": m.get("cnr_log2", 0.0),
        "dark": m["paper_level"],
        "compression": -m["blockiness"],
        "cut_off": -m["cut_chars"],
    }
    subs.update({k: _logistic(values[k], *CURVES[k]) for k in values})
    # On our own form a cut is judged zone by zone (validators.care_sheet.rule_located names the decisive
    # zones the image does not show): print cut in its margins costs nothing. Elsewhere it is lost text.
    machine = float(np.prod([v for k, v in subs.items() if k != "dark" and not (form and k == "cut_off")]))
    score = max(machine * subs["dark"], min(machine, GATE_CAP_SHARE * threshold))
    defects = sorted((k for k, v in subs.items() if v < DEFECT_BELOW), key=lambda k: subs[k])
    if score < threshold and not defects:
        defects = [min(subs, key=subs.get)]
    # Faint text: say why, as a person would see it.
    if "low_contrast" in defects:
        why = _faint_why(m)
        defects = list(dict.fromkeys(why if d == "low_contrast" else d for d in defects))
    out = dict(m)
    out.update({f"sub_{k}": v for k, v in subs.items()}, blur_excess=blur)
    return Readability(round(score, 4), tuple(defects), out)


def _faint_why(m: dict[str, float]) -> str:
    """Why text is faint, as a person would say it: dark photo, burnt-out photo, or pale print."""
    if m.get("paper_level", 1.0) < DARK_PAPER:
        return "dark"
    return "overexposed" if m.get("burnt_paper", 0.0) >= BURNT_SHARE else "low_contrast"
