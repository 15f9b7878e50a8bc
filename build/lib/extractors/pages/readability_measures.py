"""The pixel measures behind the readability score, taken on the text itself (readability.py judges them).

`measure(image, footprint) -> dict[str, float]`: the size of the print line by line (small print
included), edge width at the text (focus), paper and ink levels (exposure, contrast), noise, JPEG
blocking, characters cut by the frame. docs/readability.md, section 2, describes each measure.
"""
from __future__ import annotations

import cv2
import numpy as np

from extractors.pages import geometry

# --- algorithm internals (docs/readability.md, section 2) ------------------------------------------
WORK_MAX_PX = 2400  # long side the measures are taken at (~200 dpi A4, the calibration pages' dpi); larger
# is downscaled
STRIDE = 3  # levels and percentiles are taken on every 3rd pixel: same answer, a tenth of the time
MIN_CHARS = 30  # fewer character-like marks than about one line of print: nothing to read
CORE_LEVEL = 0.3  # character height is measured on the ink's dark core (blur cannot merge cores)
MAX_CHAR_SHARE, MAX_CHAR_MIN_PX = 0.05, 8  # a character is at most this share of the long side (but 8 px
# may always be one): taller marks are logos, photos and fills
EDGE_PERCENTILE = 90  # the sharpest edges of the text tell the focus (stamps and fills are softer)
STRONG_EDGE_SHARE = 0.5  # an edge counts for focus when its local contrast is at least this share of the 90th
# percentile near the ink: the print's own steps, not the faint ones around it
SOBEL_GAIN = 8.0  # a 3x3 Sobel answers 8 to a ramp of one grey level per pixel
EDGE_WINDOW = 1.2  # local contrast is taken over this many character heights: it must span a blurred edge,
# not just a stroke
QUANTISATION_NOISE = 0.3  # grey levels: the noise floor of any 8-bit image (rounding alone: 1/sqrt(12) = 0.29)
MAD_TO_SIGMA = 1.4826  # median absolute deviation -> standard deviation of Gaussian noise
MEAN_ABS_TO_SIGMA = 1.25  # mean absolute deviation -> standard deviation of Gaussian noise (sqrt(pi / 2))
PAPER_CLEARANCE_PX = 5  # bare paper for the noise measure: pixels this far (square side) from any ink
CLIPPED_LEVEL = 250  # paper at or above this grey level is burnt out (the sensor clipped it)
BLOCK = 8  # JPEG block size
BORDER_TOUCH_PX = 1  # a character this close to the frame is cut by it...
SURROUND_PERCENTILE, ON_PAPER = 75, 0.5  # ...when it stands on paper: the brighter quarter of the pixels
# within a character height of it at least half as bright as the page's paper (dark letterhead bands and
# tables measure 0.25-0.35, print on shadowed paper 0.65+)
CUT_CHAR_TOLERANCE = 0.5  # a mark counts as a cut character when its height is within this share of the median
# character's: real characters only, not a speck or a blob at the frame
INK_PERCENTILE, INK_PERCENTILE_SPARSE = 1.0, 0.2  # darkest shares of pixels that give the ink level: print
# covers some 1 % of an ordinary page, sparse small print well under it (a logo alone must not set it)
INK_MIN_SNR = 4.0  # ink must be this many noise-sigmas darker than paper to count as print (noise alone
# almost never reaches 4 sigma)
INK_MIN_GREY = 5.0  # ...and the darkest 1 % this many grey levels, or they are paper: clipped white paper
# has a median residual of 0 (no noise to measure) while its grain still lies 1-3 levels under white
CORE_MIN_H = 2  # px: dark cores from this height may be characters (a core is shorter than its character)
TINY_MIN_H, TINY_MAX_H, TINY_MIN_AREA = 3, 4, 4  # marks this small still count as (tiny) print in the size
# measure; smaller ones are specks of noise
SIZE_QUANTILES = (10, 30, 50, 70, 90)  # of the characters, by their line's height: equal shares of the text


def measure(image: np.ndarray, footprint: np.ndarray | None = None) -> dict[str, float]:
    """The raw readability measures of a page image (BGR or grey), in the image's own pixels.
    `footprint`: the corners of what the capture shows (`normalise.footprint`); its edge is the frame
    too (print stops there as it stops at the frame). Out: measure name -> value; only paper and ink
    levels (and `chars` 0) when no print is found, no `char_height_px` under MIN_CHARS characters."""
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

    # Is anything printed? The darkest pixels must stand out of the noise.
    resid = cv2.absdiff(grey, cv2.medianBlur(grey, 3))[sub].astype(np.float32)
    page_noise = MAD_TO_SIGMA * float(np.median(resid)) + QUANTISATION_NOISE
    ink_level = _ink_level(f[sub], paper_grey, page_noise)
    m["ink_depth"] = 1.0 - ink_level
    if (1.0 - ink_level) * paper_grey < INK_MIN_SNR * page_noise:
        m["chars"] = 0.0
        return m
    mask = np.multiply(f < (1.0 + ink_level) / 2, 255, dtype=np.uint8)
    core = np.multiply(f < ink_level + CORE_LEVEL * (1.0 - ink_level), 255, dtype=np.uint8)
    comps, tiny = _components(core, max_h=max(MAX_CHAR_MIN_PX, int(MAX_CHAR_SHARE * max(grey.shape))))
    m["chars"] = float(len(comps.boxes))
    if len(comps.boxes) < MIN_CHARS:
        return m
    char_h = float(np.median(comps.boxes[:, 3]))
    m["char_height_px"] = char_h / s
    all_print, lines = _size_measures(m, comps, tiny, s)
    _contrast_measures(m, mask, f[sub], resid, paper_grey)
    edge = _edge_width(grey, mask, char_h)
    if edge is not None:
        m["edge_width_px"] = edge / s
    m["blockiness"] = _blockiness(g)
    poly = None if footprint is None else np.asarray(footprint, float) * s
    m["cut_chars"] = float(_cut_chars(grey, comps, lines, len(all_print.boxes), char_h, paper_grey, poly))
    return m


def _ink_level(fs: np.ndarray, paper_grey: float, page_noise: float) -> float:
    """The text's ink level on the flattened page (`fs`, subsampled): the darkest INK_PERCENTILE of pixels
    on an ordinary page; the darkest INK_PERCENTILE_SPARSE when the print is so sparse or faint that the
    first lands on paper."""
    levels = np.percentile(fs, [INK_PERCENTILE_SPARSE, INK_PERCENTILE])
    on_ink = (1.0 - levels[1]) * paper_grey >= max(INK_MIN_SNR * page_noise, INK_MIN_GREY)
    return float(levels[1] if on_ink else levels[0])


def _size_measures(m: dict[str, float], comps: geometry.Components, tiny: np.ndarray,
                   s: float) -> tuple[geometry.Components, list[np.ndarray]]:
    """Add the print's size (`char_h_p*`) and line pitch (`line_pitch_px`) to `m`, in image px (`s`: work px
    per image px). A page is read as well as its print, line by line: the height of each text line's
    characters, weighted by its characters, at a few quantiles (the small print fails first).
    Out: all the print (characters, then tiny marks) and its text lines."""
    all_print = geometry.Components(np.concatenate([comps.boxes, tiny]), comps.shape)
    lines = geometry.text_lines(all_print)
    heights, bottoms = _line_medians(all_print.boxes, lines) if lines else (np.empty(0), np.empty(0))
    for q, h_q in zip(SIZE_QUANTILES, _line_heights(all_print, lines, heights, SIZE_QUANTILES)):
        m[f"char_h_p{q}"] = h_q / s
    pitch = _line_pitch(all_print, lines, heights, bottoms)
    if pitch is not None:
        m["line_pitch_px"] = pitch / s
    return all_print, lines


def _contrast_measures(m: dict[str, float], mask: np.ndarray, fs: np.ndarray, resid: np.ndarray,
                       paper_grey: float) -> None:
    """Add contrast against noise to `m` (`contrast_grey`, `noise_grey`, `cnr_log2`): ink vs paper on the
    flattened page (`fs`, subsampled like `resid`), noise on bare paper."""
    sub = (slice(None, None, STRIDE), slice(None, None, STRIDE))
    ink = mask[sub] > 0
    clear = np.ones((PAPER_CLEARANCE_PX, PAPER_CLEARANCE_PX), np.uint8)
    paper = cv2.erode(cv2.bitwise_not(mask), clear)[sub] > 0
    if paper.any() and ink.any():
        contrast = (float(np.median(fs[paper])) - float(np.median(fs[ink]))) * paper_grey
        noise = MEAN_ABS_TO_SIGMA * float(np.mean(resid[paper])) + QUANTISATION_NOISE
        m["contrast_grey"] = contrast
        m["noise_grey"] = noise
        m["cnr_log2"] = float(np.log2(max(contrast, 0.1) / noise))


def _edge_width(grey: np.ndarray, mask: np.ndarray, char_h: float) -> float | None:
    """Focus: width (work px) of the text's sharpest edges (step / max slope); None without a strong edge."""
    win = max(3, int(round(EDGE_WINDOW * char_h)) | 1)
    kernel = np.ones((win, win), np.uint8)
    local = cv2.subtract(cv2.dilate(grey, kernel), cv2.erode(grey, kernel))
    near_ink = np.flatnonzero(cv2.dilate(mask, np.ones((3, 3), np.uint8)))
    loc_ink = local.ravel()[near_ink]
    strong = loc_ink > STRONG_EDGE_SHARE * float(np.percentile(loc_ink[:: STRIDE], 90))
    if not strong.any():
        return None
    at = near_ink[strong]
    gx = cv2.Sobel(grey, cv2.CV_16S, 1, 0, ksize=3).ravel()[at].astype(np.float32)
    gy = cv2.Sobel(grey, cv2.CV_16S, 0, 1, ksize=3).ravel()[at].astype(np.float32)
    slope = np.hypot(gx, gy) / SOBEL_GAIN
    sharp = float(np.percentile(slope / np.maximum(loc_ink[strong], 1), EDGE_PERCENTILE))
    return 1.0 / max(sharp, 1e-3)


def _cut_chars(grey: np.ndarray, comps: geometry.Components, lines: list[np.ndarray], n_print: int,
               char_h: float, paper_grey: float, poly: np.ndarray | None) -> int:
    """Characters of a text line touching the frame (or the edge of the capture's footprint `poly`, work px),
    standing on paper. `lines` index the `n_print` marks of all the print, `comps` its first marks.

    Text merely close to the frame is no sign: real footers sit within 3 mm of a scan's edge. A lone mark
    at the frame is the table's grain or a speck where a photo's sheet runs out of the frame, not a line
    of print cut by it; marks on a dark letterhead band or on a table are not print on the page.
    """
    in_line = np.zeros(n_print, bool)
    for idx in lines:
        in_line[idx] = True
    in_line = in_line[: len(comps.boxes)]
    real = np.abs(comps.boxes[:, 3] - char_h) <= CUT_CHAR_TOLERANCE * char_h
    b = comps.boxes[in_line & real]
    gh, gw = grey.shape
    d = BORDER_TOUCH_PX
    at_frame = (b[:, 0] <= d) | (b[:, 1] <= d) | (b[:, 0] + b[:, 2] >= gw - d) | (b[:, 1] + b[:, 3] >= gh - d)
    if poly is not None:  # ...or at the edge of what was captured
        x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
        corners = np.stack([np.stack(c, axis=1) for c in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))], axis=1)
        within = geometry.inside(poly, corners.reshape(-1, 2).astype(float), margin=d + 1)
        at_frame |= ~within.reshape(-1, 4).all(axis=1)
    pad = int(round(char_h))
    return sum(_surround(grey, box, pad, poly) >= ON_PAPER * paper_grey for box in b[at_frame])


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
    CORE_MIN_H), and the boxes of the tiny marks that filter drops as specks (under 8 px of area, 3-4 px
    high): print that small is what Tesseract loses first and must not vanish from the size measure.
    One labelling pass serves both."""
    stats = geometry.connected(core, 8)
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    boxes = np.stack([x, y, w, h], axis=1).astype(int)
    keep = ((h >= CORE_MIN_H) & (h <= max_h) & (w <= max_h * 2) & (area >= geometry.CHAR_MIN_AREA)
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
