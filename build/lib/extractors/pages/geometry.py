"""Page geometry from pixels alone: paper level, ink, text components and lines, orientation, skew, rotations.

Plain functions over numpy images; no Tesseract here (normalise.py decides when to ask OSD).
`paper_level` is the one way the lighting is flattened (the care-sheet reader uses it too).
The sheet in a photo is found in sheet.py.
Every transform is a 3x3 matrix in pixels so that callers can compose and keep them.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import cKDTree

# --- algorithm internals (tuned on the real captures and rendered pages; see docs/readability.md)
BACKGROUND_WORK_PX = 256  # long side at which the paper's brightness is estimated (text vanishes)
BACKGROUND_KERNEL_PX = 9  # max-filter at that scale, ~1 cm on A4: wider than any text stroke or bar
INK_LEVEL_PERCENTILE = 1.0  # darkest share of pixels taken as "the ink level" (print covers some 1 % of a page)
MIN_INK_DEPTH = 0.12  # ink must be this much darker than paper (fraction of paper level; ~30 grey levels on
# white paper, far beyond paper grain): else the page is blank or flat and has no ink
ANALYSIS_MAX_PX = 1600  # long side for orientation / skew analysis (~140 dpi on A4)
CHAR_MIN_H, CHAR_MAX_H = 4, 80  # character-like components, in analysis pixels (0.7-15 mm at ~140 dpi: from
# small print to a title's capitals)
CHAR_MIN_AREA = 8  # px: smaller marks are specks of noise or dust, not characters
CHAR_MAX_ASPECT = 6.0  # wider (or taller) than this: a rule or a table line, not a character
LINE_MIN_CHARS = 4  # a text line needs this many characters to vote on skew / up-down
ALIGN_TOLERANCE = 0.12  # of the x-height: a character edge this close to the line's median edge is "on" it
LAYOUT_FULL_CHARS = 300  # fewer characters than this (blurred, tiny, sparse page): confidence scaled down
UPRIGHT_FULL_MARGIN = 0.1  # (baseline - topline alignment) / total at which up/down is taken as certain (upright
# pages show ~25 % more baseline- than topline-aligned characters, a margin of ~0.12; docs/readability.md)
SKEW_AGREE_DEG = 2.0  # a text line within this of the median tilt agrees with it...
SKEW_MIN_LINES = 8  # ...and fewer lines than this are too few to say a page is tilted (skew_support 0; the
# generated x-rays and pet photos show 7 lines or fewer)


def to_grey(image: np.ndarray) -> np.ndarray:
    """uint8 grey of a BGR or grey image."""
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def paper_level(image: np.ndarray, *, work_px: int | None = None, shrink: int | None = None,
                dilate_px: int, close_px: int = 0, box_px: int = 0, sigma: float = 0.0,
                valid: np.ndarray | None = None, floor: float) -> np.ndarray:
    """The paper's brightness under the print: the one recipe every caller that flattens the lighting uses.

    `image` (grey or BGR, uint8) is shrunk to `work_px` on its long side (never enlarged) or, with
    `shrink`, each side floor-divided by it; there a `dilate_px` square max filter wipes out the dark
    print narrower than it, an optional `close_px` closing (`close_px` 0: none) removes what is left while
    following a shadow's edge, and a `box_px` box blur or a Gaussian of `sigma` (0: none) smooths it; it is
    then brought back to full size (bilinear). Pixels outside `valid` (bool, image-shaped) count as black,
    not paper. Out: float32, same shape and channels as `image`, at least `floor` (the caller divides by it).
    """
    h, w = image.shape[:2]
    if shrink is not None:
        size = (max(1, w // shrink), max(1, h // shrink))
    else:
        s = min(1.0, work_px / max(h, w))
        size = (max(1, round(w * s)), max(1, round(h * s)))
    src = image if valid is None else cv2.bitwise_and(image, image, mask=valid.astype(np.uint8))
    bg = cv2.dilate(cv2.resize(src, size, interpolation=cv2.INTER_AREA), np.ones((dilate_px, dilate_px), np.uint8))
    if close_px:
        bg = cv2.morphologyEx(bg, cv2.MORPH_CLOSE, np.ones((close_px, close_px), np.uint8))
    if box_px:
        bg = cv2.blur(bg, (box_px, box_px))
    if sigma:
        bg = cv2.GaussianBlur(bg, (0, 0), sigma)
    bg = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    return np.maximum(bg, floor)


def paper_background(image: np.ndarray) -> np.ndarray:
    """The paper's brightness under the print of a page image (grey or BGR uint8; `paper_level` at
    BACKGROUND_WORK_PX): float32, same shape and channels as `image`, >= 1."""
    return paper_level(image, work_px=BACKGROUND_WORK_PX, dilate_px=BACKGROUND_KERNEL_PX,
                       box_px=BACKGROUND_KERNEL_PX, floor=1.0)


def flat(image: np.ndarray) -> np.ndarray:
    """The image divided by its paper background: paper ~1.0, ink below (float32)."""
    return image.astype(np.float32) / paper_background(image)


def ink_mask(grey: np.ndarray) -> np.ndarray:
    """uint8 0/255 mask of the print, on any lighting; empty for a blank or flat image."""
    f = flat(grey)
    ink_level = float(np.percentile(f, INK_LEVEL_PERCENTILE))
    if 1.0 - ink_level < MIN_INK_DEPTH:
        return np.zeros(grey.shape, np.uint8)
    return np.multiply(f < (1.0 + ink_level) / 2, 255, dtype=np.uint8)


def connected(mask: np.ndarray, connectivity: int, stats: bool = True) -> np.ndarray:
    """The stats (or with stats=False the label image) of `mask`'s connected components, as OpenCV gives
    them. 16-bit labels when they fit: a third of the time on a page (the label image is half the size)."""
    label = cv2.connectedComponentsWithStats if stats else cv2.connectedComponents
    try:
        out = label(mask, connectivity=connectivity, ltype=cv2.CV_16U)
    except cv2.error:  # over 65535 components (a page of noise)
        out = label(mask, connectivity=connectivity)
    return out[2] if stats else out[1]


@dataclass(frozen=True)
class Components:
    """Character-like connected components of an ink mask: boxes (x, y, w, h) and the mask's shape."""

    boxes: np.ndarray  # (n, 4) int
    shape: tuple[int, int]

    @property
    def centres(self) -> np.ndarray:
        """(n, 2) float: the centre (x, y) of each box."""
        return self.boxes[:, :2] + self.boxes[:, 2:] / 2.0


def char_components(mask: np.ndarray, min_h: int = CHAR_MIN_H, max_h: int = CHAR_MAX_H) -> Components:
    """Components of `mask` that look like characters (not specks, rules, photos or fills)."""
    stats = connected(mask, 8)
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    keep = (
        (h >= min_h) & (h <= max_h) & (w <= max_h * 2) & (area >= CHAR_MIN_AREA)
        & (w <= CHAR_MAX_ASPECT * h) & (h <= CHAR_MAX_ASPECT * w)
        & (area >= 0.1 * w * h)
    )
    return Components(np.stack([x, y, w, h], axis=1)[keep].astype(int), mask.shape[:2])


def horizontal_share(comps: Components) -> float | None:
    """Share of components whose nearest neighbour sits beside them rather than above/below.

    Letters of a word are closer to each other than to the next line: ~1 for horizontal text,
    ~0 for text turned 90 degrees. None with too few components to tell.
    """
    if len(comps.boxes) < 2 * LINE_MIN_CHARS:
        return None
    c = comps.centres
    _, idx = cKDTree(c).query(c, k=2)
    d = np.abs(c[idx[:, 1]] - c)
    return float(np.mean(d[:, 0] > d[:, 1]))


def text_lines(comps: Components) -> list[np.ndarray]:
    """Group components into horizontal text lines; each line is an index array, left to right."""
    if len(comps.boxes) == 0:
        return []
    h_med = float(np.median(comps.boxes[:, 3]))
    canvas = np.zeros(comps.shape, np.uint8)
    for x, y, w, h in comps.boxes:
        canvas[y : y + h, x : x + w] = 255
    gap = max(3, int(round(h_med * 1.2)))  # joins letters and words, not lines
    canvas = cv2.dilate(canvas, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
    labels = connected(canvas, 4, stats=False)
    cy = np.clip(comps.centres[:, 1].astype(int), 0, comps.shape[0] - 1)
    cx = np.clip(comps.centres[:, 0].astype(int), 0, comps.shape[1] - 1)
    line_of = labels[cy, cx].astype(int)
    order = np.argsort(line_of, kind="stable")  # components by line, in index order within each line
    lines = []
    for idx in np.split(order, np.flatnonzero(np.diff(line_of[order])) + 1):
        if line_of[idx[0]] and len(idx) >= LINE_MIN_CHARS:
            lines.append(idx[np.argsort(comps.boxes[idx, 0])])
    return lines


def line_stats(comps: Components, lines: list[np.ndarray]) -> tuple[float | None, float, int, int]:
    """(skew in degrees, its support, characters on the baseline, characters on the top line) over
    the text lines.

    Skew: length-weighted median slope of the lines (positive: lines go down to the right). Support:
    the share of the lines' length within SKEW_AGREE_DEG of that tilt (0 under SKEW_MIN_LINES lines):
    near 1 on a page of text at any tilt, low where a few marks of a picture happen to line up.
    Alignment: with each line's tilt removed, count characters whose bottom (top) sits within a
    small tolerance of the line's median bottom (top). Latin letters, capitals and digits all
    stand on the baseline while their tops split between x-height and ascender height, so an
    upright page has more bottom-aligned than top-aligned characters; upside down, the reverse.
    """
    slopes, weights, on_base, on_top = [], [], 0, 0
    b = comps.boxes
    for idx in lines:
        x = b[idx, 0] + b[idx, 2] / 2.0
        top, bot = b[idx, 1].astype(float), (b[idx, 1] + b[idx, 3]).astype(float)
        if np.ptp(x) <= 0:
            continue
        slope, _ = np.polyfit(x, (top + bot) / 2, 1)
        top, bot = top - slope * x, bot - slope * x
        x_line, base = np.median(top), np.median(bot)
        if base - x_line <= 0:
            continue
        tol = max(1.0, ALIGN_TOLERANCE * (base - x_line))
        slopes.append(slope)
        weights.append(np.ptp(x))
        on_base += int(np.sum(np.abs(bot - base) <= tol))
        on_top += int(np.sum(np.abs(top - x_line) <= tol))
    if not slopes:
        return None, 0.0, on_base, on_top
    angles, weights = np.degrees(np.arctan(slopes)), np.asarray(weights)
    order = np.argsort(angles)
    cum = np.cumsum(weights[order])
    skew = float(angles[order][np.searchsorted(cum, cum[-1] / 2)])
    support = float(weights[np.abs(angles - skew) <= SKEW_AGREE_DEG].sum() / cum[-1]) if len(angles) >= SKEW_MIN_LINES else 0.0
    return skew, support, on_base, on_top


@dataclass(frozen=True)
class Layout:
    """What the text says about the page: how to turn it upright, and how tilted it then is."""

    rotation: int  # degrees clockwise to turn the image so that text reads upright: 0/90/180/270
    confidence: float  # 0..1: how sure the rotation is (the lesser of the two below)
    turn_confidence: float  # 0..1: how sure that the lines run the way rotation % 180 says
    skew_deg: float | None  # tilt of the lines once rotated (positive: down to the right)
    skew_support: float  # 0..1: share of the text lines' length that agrees on that tilt (`line_stats`)
    scale: float  # analysis pixels per image pixel
    chars: int  # character components seen


def text_layout(image: np.ndarray) -> Layout:
    """Orientation and skew from the text itself: cheap, no OCR (see docs/readability.md for accuracy)."""
    grey = to_grey(image)
    h, w = grey.shape
    s = min(1.0, ANALYSIS_MAX_PX / max(h, w))
    if s < 1.0:
        grey = cv2.resize(grey, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    mask = ink_mask(grey)
    comps = char_components(mask)
    hshare = horizontal_share(comps)
    if hshare is None:
        return Layout(0, 0.0, 0.0, None, 0.0, s, len(comps.boxes))
    quarter = 0
    if hshare < 0.5:  # lines run vertically: look at the page turned a quarter clockwise
        mask = np.ascontiguousarray(np.rot90(mask, -1))
        comps = char_components(mask)
        quarter = 90
    support = min(1.0, len(comps.boxes) / LAYOUT_FULL_CHARS)
    conf_dir = abs(2 * hshare - 1) * support
    skew, skew_support, on_base, on_top = line_stats(comps, text_lines(comps))
    if on_base + on_top == 0:
        return Layout(quarter, 0.0, conf_dir, skew, skew_support, s, len(comps.boxes))
    upside_down = on_top > on_base
    conf_ud = min(1.0, abs(on_base - on_top) / (on_base + on_top) / UPRIGHT_FULL_MARGIN) * support
    rotation = (quarter + (180 if upside_down else 0)) % 360
    return Layout(rotation, float(min(conf_dir, conf_ud)), float(conf_dir), skew, skew_support, s, len(comps.boxes))


def inside(poly: np.ndarray, points: np.ndarray, margin: float) -> np.ndarray:
    """Bool per point (N x 2): within the convex quadrilateral `poly` (4 x 2), at least `margin` px from
    each of its sides (either winding order)."""
    a, b = poly, np.roll(poly, -1, axis=0)
    edge = b - a
    cross = edge[:, 0] * (points[:, None, 1] - a[:, 1]) - edge[:, 1] * (points[:, None, 0] - a[:, 0])
    dist = cross / np.maximum(np.hypot(edge[:, 0], edge[:, 1]), 1e-9)  # signed distance to each side
    area2 = float(np.sum(a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1]))
    if area2 < 0:
        dist = -dist
    return np.all(dist >= margin - 1e-6, axis=1)


# --- transforms ----------------------------------------------------------------------------


def rotate_quarter(image: np.ndarray, rotation: int) -> tuple[np.ndarray, np.ndarray]:
    """Rotate by 0/90/180/270 degrees clockwise; return (image, 3x3 matrix old px -> new px)."""
    h, w = image.shape[:2]
    rotation %= 360
    if rotation == 90:
        return cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE), np.array([[0, -1, h - 1], [1, 0, 0], [0, 0, 1]], float)
    if rotation == 180:
        return cv2.rotate(image, cv2.ROTATE_180), np.array([[-1, 0, w - 1], [0, -1, h - 1], [0, 0, 1]], float)
    if rotation == 270:
        return cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE), np.array([[0, 1, 0], [-1, 0, w - 1], [0, 0, 1]], float)
    return image, np.eye(3)


EDGE_RING = 0.01  # share of the shorter side: the image's own edge, whose colour fills what a rotation uncovers


def edge_colour(image: np.ndarray) -> tuple[float, ...]:
    """The colour the image shows along its own edge (median per channel of a thin ring): the paper on a
    scan, the table around a photo's sheet. It fills the corners a rotation uncovers, so that no edge is
    drawn where the capture ends (paper next to a darker table reads as print along it)."""
    k = max(2, int(min(image.shape[:2]) * EDGE_RING))
    ring = np.concatenate([a.reshape(-1, image.shape[2] if image.ndim == 3 else 1)
                           for a in (image[:k], image[-k:], image[:, :k], image[:, -k:])])
    return tuple(float(v) for v in np.median(ring[::7], axis=0))


def rotate_small(image: np.ndarray, angle_deg: float, expand: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Rotate counter-clockwise by a small angle about the centre, corners filled with `edge_colour`; same size,
    or with `expand` large enough to keep the whole image (a steep turn would cut its corners off).
    Returns (image, 3x3 matrix old px -> new px).

    Cubic: a bilinear rotation softens small print enough to cost Tesseract ~10% of the words.
    """
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    size = (w, h)
    if expand:
        c, s = abs(m[0, 0]), abs(m[0, 1])
        size = (int(np.ceil(w * c + h * s)), int(np.ceil(w * s + h * c)))
        m[:, 2] += ((size[0] - w) / 2, (size[1] - h) / 2)
    out = cv2.warpAffine(image, m, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=edge_colour(image))
    return out, np.vstack([m, [0, 0, 1]])
