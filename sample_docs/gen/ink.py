"""Handwriting on a page image: hands (font, slant, size, ink), written text, comb digits, pen strokes, ticks.

Everything draws an ink *mask* (0..1) on a small local canvas and then multiplies the ink colour
into the page, the way ballpoint ink darkens printed paper without hiding the print below it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .common import chance, font_path, pick, strip_accents

# file, capitals only, has accents, cursive (suits a hurried vet), extra stroke (share of size: thin fonts
# are thinner than any ballpoint line, and vanish once photographed)
HAND_FONTS = [
    ("DancingScript-Regular.otf", False, True, True, 0.0),
    ("KaushanScript-Regular.otf", False, True, True, 0.0),
    ("dkg.ttf", False, True, True, 0.012),
    ("dkgIt.ttf", False, True, True, 0.012),
    ("Ecolier-court.ttf", False, True, True, 0.02),
    ("Breip.ttf", False, True, True, 0.022),
    ("KleeOne-Regular.ttf", False, True, False, 0.02),
    ("ComicNeue-Regular.otf", False, True, False, 0.0),
    ("ComicNeue-Light.otf", False, True, False, 0.02),
    ("Humor-Sans.ttf", True, False, False, 0.0),
    ("Rufscript010.ttf", False, False, False, 0.0),
    ("BecauseWeLearn-Regular.otf", True, False, False, 0.0),
    ("BecauseWeConnect-Regular.otf", True, False, False, 0.0),
]
INKS = {"blue": [(28, 48, 150), (38, 62, 172), (22, 34, 112), (14, 72, 190)],
        "black": [(28, 28, 34), (45, 45, 52)]}
SUPERSAMPLE = 3  # pen strokes are drawn this much larger, then downscaled: smooth edges


@dataclass(frozen=True)
class Hand:
    """How one person writes."""

    font: str
    caps: bool  # writes everything in capitals
    accents: bool  # keeps accents (capital writers and some fonts drop them)
    size: float  # letter height as a share of the field height
    slant: float  # shear: >0 leans right
    ink: tuple[int, int, int]
    pressure: float  # darkness of the ink, 0..1
    spacing: float
    jitter: float  # per-letter size/baseline wobble
    stroke: float = 0.0  # extra stroke width, as a share of the font size


def make_hand(rng: np.random.Generator, role: str, ink: str | None = None) -> Hand:
    """A writer: the owner (often capitals, as the form asks) or the vet (usually cursive, hurried)."""
    fonts = [f for f in HAND_FONTS if f[3]] if role == "vet" else HAND_FONTS
    name, caps_only, has_acc, _, stroke = pick(rng, fonts)
    ornate = name in ("Ecolier-court.ttf", "DancingScript-Regular.otf")  # script capitals: nobody writes a word in them
    caps = caps_only or (not ornate and ((role == "owner" and chance(rng, 0.55)) or (role == "vet" and chance(rng, 0.1))))
    colour = ink or ("blue" if chance(rng, 0.65) else "black")
    return Hand(font=font_path(name), caps=caps, accents=has_acc and not (caps and chance(rng, 0.5)),
                size=float(rng.uniform(0.5, 0.78)), slant=float(rng.uniform(-0.06, 0.3)),
                ink=pick(rng, INKS[colour]), pressure=float(rng.uniform(0.78, 0.97)),
                spacing=float(rng.uniform(0.95, 1.12)), jitter=float(rng.uniform(0.02, 0.07)), stroke=stroke)


@lru_cache(maxsize=512)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, max(size, 4))


@lru_cache(maxsize=64)
def _cap_ratio(path: str, caps: bool) -> float:
    """Nominal cap height / font size: lets a hand write letters of a given height whatever the font.
    Lower case is judged from the x-height (some script fonts have huge capitals and a tiny x-height)."""
    f = _font(path, 100)
    x_height = -f.getbbox("xuo", anchor="ls")[1]
    cap = -f.getbbox("HXE", anchor="ls")[1]
    return max(cap if caps else min(cap, x_height / 0.62), 20) / 100.0


def prepare(text: str, hand: Hand) -> str:
    """The text as this hand would write it (capitals, dropped accents)."""
    t = text.upper() if hand.caps else text
    return t if hand.accents else strip_accents(t)


def text_mask(text: str, hand: Hand, cap_px: float, rng: np.random.Generator) -> tuple[np.ndarray, int, int]:
    """Render handwritten text -> (mask float32 0..1, x of the pen start, y of the baseline) in the mask."""
    text = prepare(text, hand)
    size = cap_px / _cap_ratio(hand.font, hand.caps)
    pad = int(size * 0.9) + 4
    width = int(_font(hand.font, int(size)).getlength(text) * hand.spacing * 1.15 + 2 * pad + size)
    height = int(size * 2.2 + 2 * pad)
    img = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(img)
    base = pad + size * 1.25
    x, drift = float(pad), 0.0
    for ch in text:
        s = int(round(size * (1 + rng.normal(0, hand.jitter))))
        drift = 0.8 * drift + rng.normal(0, hand.jitter * size * 0.35)
        f = _font(hand.font, s)
        fill = int(255 * hand.pressure * rng.uniform(0.9, 1.0))
        sw = int(round(s * hand.stroke))
        draw.text((x, base + drift), ch, font=f, fill=fill, anchor="ls", stroke_width=sw, stroke_fill=fill)
        x += f.getlength(ch) * hand.spacing * (1 + rng.normal(0, 0.03))
    m = np.asarray(img, np.float32) / 255.0
    if abs(hand.slant) > 1e-3:  # lean: shift each row in proportion to its height above the baseline
        mat = np.float32([[1, -hand.slant, hand.slant * base], [0, 1, 0]])
        m = cv2.warpAffine(m, mat, (width, height), flags=cv2.INTER_LINEAR)
    angle = rng.normal(0, 0.8)  # the line is never perfectly level
    rot = cv2.getRotationMatrix2D((pad, base), angle, 1.0)
    m = cv2.warpAffine(m, rot, (width, height), flags=cv2.INTER_LINEAR)
    return ballpoint(m, rng), pad, int(round(base))


def ballpoint(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uneven ink along the strokes: a ballpoint skips a little."""
    noise = rng.random(mask.shape, dtype=np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 1.0)
    return np.clip(mask * (0.78 + 0.45 * noise), 0, 1)


def composite(page: np.ndarray, mask: np.ndarray, x: int, y: int, colour: tuple[int, int, int]) -> None:
    """Multiply ink of a colour into page (HxWx3 float32, in place), mask's top-left at (x, y); clips at edges."""
    h, w = mask.shape
    H, W = page.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x0 >= x1 or y0 >= y1:
        return
    m = mask[y0 - y:y1 - y, x0 - x:x1 - x, None]
    c = np.asarray(colour, np.float32)[None, None, :] / 255.0
    page[y0:y1, x0:x1] *= 1.0 - m + m * c


def write(page: np.ndarray, text: str, x: float, baseline: float, cap_px: float, hand: Hand,
          rng: np.random.Generator) -> int:
    """Write text with its pen start at (x, baseline) in page pixels. Returns the written width in px."""
    if not text:
        return 0
    m, ox, oy = text_mask(text, hand, cap_px, rng)
    composite(page, m, int(round(x - ox)), int(round(baseline - oy)), hand.ink)
    cols = np.nonzero(m.max(axis=0) > 0.1)[0]
    return int(cols[-1] - ox) if len(cols) else 0


def write_in_box(page: np.ndarray, text: str, box: tuple[int, int, int, int], hand: Hand,
                 rng: np.random.Generator, align: str = "left") -> None:
    """Write in a field box the way people do: a little off-centre, sometimes over the edge."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    cap = h * hand.size * rng.uniform(0.85, 1.1)
    base = y1 - h * rng.uniform(0.18, 0.32)
    x = x0 + h * rng.uniform(0.15, 0.8)
    if align == "right":
        width = text_mask(text, hand, cap, rng)[0].shape[1] * 0.7
        x = max(x0 + 2, x1 - width - h * 0.4)
    write(page, text, x, base, cap, hand, rng)


def write_comb(page: np.ndarray, digits: str, cells: list[tuple[int, int, int, int]], hand: Hand,
               rng: np.random.Generator) -> None:
    """One digit per comb cell (DDMMYYYY), each roughly centred."""
    size = rng.uniform(0.5, 0.72)  # one writer keeps roughly one digit height
    for d, (x0, y0, x1, y1) in zip(digits, cells):
        h, w = y1 - y0, x1 - x0
        cap = h * size * rng.uniform(0.93, 1.07)
        m, ox, oy = text_mask(d, hand, cap, rng)
        cols = np.nonzero(m.max(axis=0) > 0.1)[0]
        glyph_w = (cols[-1] - cols[0]) if len(cols) else w / 2
        x = x0 + (w - glyph_w) / 2 + rng.normal(0, w * 0.08) - (cols[0] - ox if len(cols) else 0)
        base = y1 - h * rng.uniform(0.15, 0.28)
        composite(page, m, int(round(x - ox)), int(round(base - oy)), hand.ink)


# ---------------------------------------------------------------- pen strokes

def catmull_rom(points: np.ndarray, samples_per_seg: int = 24) -> np.ndarray:
    """A smooth curve through control points (N x 2) -> dense points."""
    p = np.vstack([points[0], points, points[-1]])
    out = []
    t = np.linspace(0, 1, samples_per_seg, endpoint=False)[:, None]
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    out.append(points[-1][None, :])
    return np.vstack(out)


def pressure(n: int, rng: np.random.Generator, base: float) -> np.ndarray:
    """Stroke widths along n points: smooth random pressure, tapered where the pen lands and lifts."""
    t = np.linspace(0, 1, n)
    wave = sum(rng.uniform(0.1, 0.3) * np.sin(2 * np.pi * (rng.uniform(0.5, 4) * t + rng.random())) for _ in range(3))
    taper = np.clip(t / rng.uniform(0.03, 0.1), 0, 1) * np.clip((1 - t) / rng.uniform(0.05, 0.2), 0, 1)
    return base * np.clip(0.65 + wave, 0.3, 1.3) * (0.25 + 0.75 * taper)


def stroke_mask(strokes: list[tuple[np.ndarray, np.ndarray]], size: tuple[int, int]) -> np.ndarray:
    """Draw strokes (points in px, widths in px) on a (w, h) mask; supersampled for smooth edges."""
    w, h = size
    s = SUPERSAMPLE
    img = Image.new("L", (w * s, h * s), 0)
    draw = ImageDraw.Draw(img)
    for pts, widths in strokes:
        for (px, py), wd in zip(pts * s, widths * s):
            r = max(wd / 2, 0.6 * s)
            draw.ellipse((px - r, py - r, px + r, py + r), fill=255)
    small = img.resize((w, h), Image.Resampling.LANCZOS)
    return np.asarray(small, np.float32) / 255.0


def densify(points: np.ndarray, step: float = 0.5) -> np.ndarray:
    """Resample a polyline every `step` px so stamped discs form a continuous stroke."""
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    dist = np.concatenate([[0], np.cumsum(seg)])
    if dist[-1] == 0:
        return points[:1]
    at = np.arange(0, dist[-1], step)
    return np.column_stack([np.interp(at, dist, points[:, 0]), np.interp(at, dist, points[:, 1])])


def tick(page: np.ndarray, box: tuple[int, int, int, int], hand: Hand, rng: np.random.Generator) -> None:
    """Mark a checkbox as people do: a cross, a check mark or a slash, often overshooting the box."""
    x0, y0, x1, y1 = box
    side = x1 - x0
    pad = side
    w = h = side + 2 * pad
    o = lambda: rng.normal(0, side * 0.12)  # noqa: E731 - tiny local helper
    kind = pick(rng, ["cross", "check", "slash", "cross"])
    a, b = pad, pad + side
    if kind == "cross":
        lines = [np.array([[a + o() - side * 0.15, a + o() - side * 0.1], [b + o() + side * 0.2, b + o() + side * 0.15]]),
                 np.array([[b + o() + side * 0.15, a + o() - side * 0.15], [a + o() - side * 0.1, b + o() + side * 0.2]])]
    elif kind == "check":
        lines = [np.array([[a + side * 0.1 + o(), a + side * 0.5 + o()], [a + side * 0.45 + o(), b + o()],
                           [b + side * 0.5 + o(), a - side * 0.45 + o()]])]
    else:
        lines = [np.array([[a + side * 0.1 + o(), b - side * 0.05 + o()], [b + side * 0.15 + o(), a - side * 0.2 + o()]])]
    strokes = []
    for ln in lines:
        pts = densify(catmull_rom(ln, 8) if len(ln) > 2 else ln)
        strokes.append((pts, pressure(len(pts), rng, max(side * 0.13, 1.6))))
    mask = stroke_mask(strokes, (int(w), int(h))) * hand.pressure
    composite(page, ballpoint(mask, rng), int(x0 - pad), int(y0 - pad), hand.ink)
