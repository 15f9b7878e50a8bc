"""Handwritten digits, one comb cell at a time: a small classifier trained on digits rendered in many hands.

Tesseract reads print well and a lone handwritten digit badly (on the dev set it read about one
comb date in three). The cells of our form hold one digit each, so each cell is cut out (blank
subtracted), its ink normalised into a 20 x 20 square and classified by its nearest neighbours
(HOG features) among digits rendered from the handwriting and print fonts of TRAIN_FONTS, each drawn
in many sizes, slants, rotations, pen widths and blurs. None of the generator's own fonts
(sample_docs/gen/ink.py) is in TRAIN_FONTS: the sample inbox's hands are unseen ones (some are other
cuts of the same families: dkg bold vs dkg, Comic Neue italic vs regular). The model is trained on
first use (~3 s CPU; the inbox flow builds it before forking its dossier children,
pipeline.dossier.warm_up) and stored in `$XDG_CACHE_HOME/claims-intake/` (default `~/.cache`; rendered
digits, no client data), keyed by this module's source, the fonts' bytes and the libraries' versions:
later processes load it in milliseconds (scripts/install.sh builds it). Without the fonts
(scripts/install.sh installs them) the model is empty and every cell reads as unknown, confidence 0: a field is then left unread, never guessed.
"""
from __future__ import annotations

import functools
import hashlib
import os
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
# handwriting-like fonts (other cuts of some of the generator's families, never its own files) ...
HAND_TRAIN_FONTS = ("BecauseWeOrganize-Regular.otf", "BecauseWeMentor-Regular.otf", "BecauseWeBuild-Regular.otf",
                    "BecauseWeCreate-Regular.otf", "dkgBI.ttf", "dkgBd.ttf", "femkeklaver.ttf", "breipfont.ttf",
                    "ComicNeue-Italic.otf", "ComicNeue-Bold.otf", "ComicNeue-LightItalic.otf", "ComicNeue-BoldItalic.otf",
                    "DancingScript-Bold.otf", "KleeOne-SemiBold.ttf")
# ... and print fonts, which the elastic distortion, slant and pen width below turn into more hands
PRINT_TRAIN_FONTS = ("FreeSans.ttf", "FreeSerif.ttf", "FreeMono.ttf", "FreeSansOblique.ttf", "FreeMonoBold.ttf",
                     "FreeSerifItalic.ttf", "FreeSansBold.ttf", "FreeSerifBoldItalic.ttf", "LiberationSans-Italic.ttf",
                     "LiberationSerif-Italic.ttf", "LiberationMono-Regular.ttf", "DejaVuSans-ExtraLight.ttf",
                     "DejaVuSansCondensed-Oblique.ttf", "DejaVuSerifCondensed-Italic.ttf", "DejaVuSansMono-Oblique.ttf")
TRAIN_FONTS = HAND_TRAIN_FONTS + PRINT_TRAIN_FONTS
VARIANTS = {"hand": 22, "print": 10}  # renderings per digit and font: the hands carry more of the model
SIDE = 20  # the normalised digit square (px)
K = 15  # neighbours that vote, each by 1 / distance
FLOOR = 0.02  # the least probability a digit keeps in a cell (a classifier is never certain)
SEED = 20171  # the training renderings are the same in every process
MIN_INK_PX = 14  # ink pixels (form frame, dust left out) for a cell to hold a digit: a digit's strokes make 40+
HEIGHT_PX = (15, 30)  # a written digit's height in the form frame (5.9 px/mm): 2.5-5 mm
RENDER_SIZE = 64  # fonts are drawn this large (px), distorted, then shrunk to HEIGHT_PX
ELASTIC_SIGMA = (4.0, 8.0)  # px at RENDER_SIZE: the smoothness of the hand's wobble ...
ELASTIC_ALPHA = (0.0, 110.0)
BARRED_SEVEN = 0.3  # share of the sevens drawn crossed  # ... and its strength (px before smoothing): from none to a shaky hand
DIGITS = "0123456789"


@dataclass(frozen=True, slots=True)
class Digit:
    """One cell: its digit ('' when empty), the probability of it (0..1), and of each digit 0-9 (None when empty)."""

    digit: str
    confidence: float
    probs: np.ndarray | None = None


def _font_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for root in FONT_DIRS:
        if root.is_dir():
            for p in root.rglob("*"):
                if p.name in TRAIN_FONTS:
                    found.setdefault(p.name, p)
    return found


def normalise(mask: np.ndarray) -> np.ndarray | None:
    """A bool ink mask of one cell -> its ink's bounding box scaled into SIDE x SIDE (aspect kept), float32;
    None when the cell holds too little ink."""
    ys, xs = np.nonzero(mask)
    if len(ys) < 3:
        return None
    sub = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32)
    h, w = sub.shape
    s = (SIDE - 4) / max(h, w)
    sub = cv2.resize(sub, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    out = np.zeros((SIDE, SIDE), np.float32)
    y0, x0 = (SIDE - sub.shape[0]) // 2, (SIDE - sub.shape[1]) // 2
    out[y0:y0 + sub.shape[0], x0:x0 + sub.shape[1]] = sub
    return out


HOG_CELL = 5  # px: 4 x 4 cells over the square
HOG_BINS = 9  # unsigned gradient directions


def _hog(square: np.ndarray) -> np.ndarray:
    """Histograms of gradient directions per cell, weighted by magnitude, each cell L2-normalised."""
    gx = cv2.Sobel(square, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(square, cv2.CV_32F, 0, 1, ksize=3)
    mag, ang = cv2.cartToPolar(gx, gy)
    bins = (np.mod(ang, np.pi) / np.pi * HOG_BINS).astype(int) % HOG_BINS
    n = SIDE // HOG_CELL
    out = np.zeros((n, n, HOG_BINS), np.float32)
    cy, cx = np.indices(square.shape) // HOG_CELL
    np.add.at(out, (cy.ravel(), cx.ravel(), bins.ravel()), mag.ravel())
    out /= np.linalg.norm(out, axis=2, keepdims=True) + 1e-6
    return out.ravel()


def features(square: np.ndarray) -> np.ndarray:
    """HOG of a normalised digit square, plus the square itself, coarsely (the stroke layout)."""
    coarse = cv2.resize(square, (10, 10), interpolation=cv2.INTER_AREA).ravel()
    return np.concatenate([_hog(square), 0.5 * coarse]).astype(np.float32)


def _elastic(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A smooth random displacement of the strokes (Simard et al. 2003): no two renderings in one hand."""
    alpha, sigma = rng.uniform(*ELASTIC_ALPHA), rng.uniform(*ELASTIC_SIGMA)
    if alpha < 1:
        return a
    h, w = a.shape
    dx = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma) * alpha
    dy = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma) * alpha
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(a, gx + dx, gy + dy, cv2.INTER_LINEAR)


@functools.lru_cache(maxsize=512)
def _glyph(digit: str, font: Path) -> np.ndarray:
    """A digit drawn in a font at RENDER_SIZE, cropped with a margin for the distortions (float 0..1)."""
    f = ImageFont.truetype(str(font), RENDER_SIZE)
    img = Image.new("L", (RENDER_SIZE * 3, RENDER_SIZE * 3), 0)
    ImageDraw.Draw(img).text((RENDER_SIZE, RENDER_SIZE * 2), digit, font=f, fill=255, anchor="ls")
    a = np.asarray(img, np.float32) / 255
    ys, xs = np.nonzero(a > 0.3)
    if len(ys) == 0:
        return np.zeros((8, 8), np.float32)
    m = RENDER_SIZE // 3
    return np.pad(a[ys.min():ys.max() + 1, xs.min():xs.max() + 1], m)


def _bar(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A seven crossed at mid-height, the way it is written in France (no training font draws it)."""
    a = a.copy()
    ys, xs = np.nonzero(a > 0.3)
    y = int(ys.min() + rng.uniform(0.45, 0.6) * (ys.max() - ys.min()))
    w = xs.max() - xs.min()
    x0, x1 = int(xs.min() + 0.15 * w), int(xs.max() - 0.05 * w)
    cv2.line(a, (x0, y), (x1, y), 1.0, max(2, RENDER_SIZE // 14))
    return a


def _render(digit: str, font: Path, rng: np.random.Generator) -> np.ndarray:
    """One rendering of a digit: pen width, slant, width, rotation, wobble, height and blur drawn at random,
    thresholded at the form frame's scale (what a registered cell's ink looks like)."""
    a = _glyph(digit, font)
    if digit == "7" and rng.random() < BARRED_SEVEN:
        a = _bar(a, rng)
    pen = int(rng.integers(-2, 6))  # px at RENDER_SIZE: thinner (a fine pen, a pale capture) or thicker
    if pen:
        k = np.ones((abs(pen) + 1, abs(pen) + 1), np.uint8)
        a = cv2.dilate(a, k) if pen > 0 else cv2.erode(a, k)
    slant, angle, squeeze = rng.uniform(-0.12, 0.38), rng.normal(0, 6), rng.uniform(0.75, 1.2)
    h, w = a.shape
    a = cv2.warpAffine(a, np.float32([[squeeze, -slant, slant * h / 2 + (1 - squeeze) * w / 2], [0, 1, 0]]), (w, h))
    a = cv2.warpAffine(a, cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0), (w, h))
    a = _elastic(a, rng)
    ys, xs = np.nonzero(a > 0.3)
    if len(ys) == 0:
        return np.zeros((4, 4), bool)
    a = a[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    s = rng.uniform(*HEIGHT_PX) / a.shape[0]
    a = cv2.resize(a, (max(1, round(a.shape[1] * s)), max(1, round(a.shape[0] * s))), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        a = cv2.GaussianBlur(a, (0, 0), rng.uniform(0.4, 0.9))
    return a > rng.uniform(0.25, 0.6)


def _cache_file(fonts: dict[str, Path]) -> Path:
    """Where the model trained from `fonts` is kept: its name changes with anything that changes the model."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(f"{np.__version__} {cv2.__version__} {Image.__version__}".encode())
    for name, path in sorted(fonts.items()):
        h.update(name.encode() + path.read_bytes())
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "claims-intake"
    return root / f"digits-{h.hexdigest()[:20]}.npz"


@functools.lru_cache(maxsize=1)
def model() -> tuple[np.ndarray, np.ndarray]:
    """The rendered digits' features (N x F) and labels (N): a k-nearest-neighbour model, trained once and
    kept on disk (see the module's docstring); a cache that cannot be read or written is trained around."""
    fonts = _font_files()
    try:
        cache: Path | None = _cache_file(fonts)
    except OSError:  # a font that cannot be read now: no key, no cache
        cache = None
    try:
        with np.load(cache) as kept:
            feats, labels = kept["feats"], kept["labels"]
        if feats.ndim == 2 and len(feats) == len(labels) > 0:
            return feats.astype(np.float32), labels.astype(np.int32)
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile):  # absent, unreadable, cut: train
        pass
    feats, labels = _train(fonts)
    if cache is not None and len(labels):
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(tmp, feats=feats, labels=labels)
            os.replace(tmp, cache)  # atomic: a process reading it never sees half a file
        except OSError:  # a read-only home: the model lives in this process only
            pass
    return feats, labels


def _train(fonts: dict[str, Path]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    feats, labels = [], []
    for name, font in sorted(fonts.items()):
        for d in DIGITS:
            for _ in range(VARIANTS["hand" if name in HAND_TRAIN_FONTS else "print"]):
                sq = normalise(_render(d, font, rng))
                if sq is not None:
                    feats.append(features(sq))
                    labels.append(int(d))
    if not feats:  # none of TRAIN_FONTS installed: classify() answers "unknown" for every cell
        return np.zeros((0, 1), np.float32), np.zeros(0, np.int32)
    return np.array(feats, np.float32).reshape(len(feats), -1), np.array(labels, np.int32)


@functools.lru_cache(maxsize=1)
def _norms() -> np.ndarray:
    """The squared length of each training feature: a distance is then one matrix product away."""
    return np.einsum("ij,ij->i", model()[0], model()[0])


def classify(mask: np.ndarray) -> Digit:
    """A cell's ink mask (form frame, bool) -> its digit and confidence; Digit('', 1.0) when empty."""
    if int(mask.sum()) < MIN_INK_PX:
        return Digit("", 1.0)
    sq = normalise(mask)
    train, labels = model()
    if sq is None or len(labels) < K:
        return Digit("", 0.0)
    f = features(sq)
    # einsum, not `@`: a threaded BLAS spends more CPU waking its threads than on this product (measured
    # 4.5 ms vs 0.3 ms per cell on the 2-core host)
    dist = np.sqrt(np.maximum(_norms() - 2.0 * np.einsum("ij,j->i", train, f) + float(f @ f), 0.0))
    near = np.argpartition(dist, K)[:K]
    votes = np.bincount(labels[near], weights=1.0 / (dist[near] + 1e-3), minlength=10)
    probs = np.maximum(votes / votes.sum(), FLOOR)
    probs /= probs.sum()
    best = int(probs.argmax())
    return Digit(str(best), float(probs[best]), probs)


@functools.lru_cache(maxsize=8)
def _calendar(first_year: int, last_year: int) -> np.ndarray:
    """Every real date of the span as DDMMYYYY digit rows (N x 8, int)."""
    start, end = date(first_year, 1, 1).toordinal(), date(last_year, 12, 31).toordinal()
    rows = [date.fromordinal(o).strftime("%d%m%Y") for o in range(start, end + 1)]
    return np.array([[int(c) for c in r] for r in rows], np.int8)


@functools.lru_cache(maxsize=8)
def _ordinals(first_year: int, last_year: int) -> np.ndarray:
    """The day numbers of `_calendar`'s rows."""
    return np.arange(date(first_year, 1, 1).toordinal(), date(last_year, 12, 31).toordinal() + 1, dtype=np.float64)


def decode_date(cells: list[Digit], years: tuple[int, int], reference: date | None = None,
                scale_days: float | None = None) -> tuple[date | None, float]:
    """The most probable real date of the span given each cell's digit probabilities: DDMMYYYY over the
    eight cells, or DDMMYY in the first six (the last two empty). Its confidence is its share of the
    probability of all real dates (so a cell that could be 1 or 7 in a way that makes two real dates
    halves it). With a `reference` day (the submission), a date `scale_days` away from it is e-times less
    likely a priori (a Laplace prior: care is claimed within months). (None, 0) when the filled cells
    fit neither form."""
    filled = [c.probs is not None for c in cells]
    if len(cells) != 8 or not any(filled):
        return None, 0.0
    cal = _calendar(*years)
    if all(filled):
        cols, rows = list(range(8)), cal
    elif all(filled[:6]) and not any(filled[6:]):
        cols, rows = list(range(6)), cal[:, [0, 1, 2, 3, 6, 7]]
    else:
        return None, 0.0
    logp = np.zeros(len(cal))
    if reference is not None and scale_days:
        logp -= np.abs(_ordinals(*years) - reference.toordinal()) / scale_days
    for j, i in enumerate(cols):
        logp += np.log(cells[i].probs[rows[:, j]])
    best = int(logp.argmax())
    p = np.exp(logp - logp.max())
    d = cal[best]
    return date(int("".join(map(str, d[4:]))), int(f"{d[2]}{d[3]}"), int(f"{d[0]}{d[1]}")), float(p[best] / p.sum())
