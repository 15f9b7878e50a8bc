"""Handwritten signatures as pen strokes (never text): looping cursive, initials with a flourish, scribbles.

Each style builds control points, smooths them with a Catmull-Rom spline and gives every point a
pressure-dependent width; the strokes are then rotated and fitted into the box they are signed in.
"""
from __future__ import annotations

import numpy as np

from .common import chance, pick
from .ink import Hand, ballpoint, catmull_rom, composite, densify, pressure, stroke_mask


# cursive letter shapes in x-height units (y grows downwards, baseline at 0), joined end to start
LETTERS = {
    "e": [(0, 0), (0.55, -0.55), (0.4, -1.0), (0.1, -0.6), (0.35, 0), (0.8, -0.1)],
    "l": [(0, 0), (0.5, -1.2), (0.6, -2.3), (0.3, -2.3), (0.25, -1.4), (0.4, 0), (0.8, -0.1)],
    "n": [(0, 0), (0.1, -1), (0.2, -0.05), (0.35, -0.9), (0.65, -0.95), (0.7, 0), (0.95, -0.1)],
    "o": [(0, -0.3), (0.5, -1), (0.2, -1), (0, -0.5), (0.2, 0), (0.55, -0.5), (0.55, -1), (0.6, 0), (0.9, -0.1)],
    "g": [(0, 0), (0.4, -1), (0.1, -0.9), (0.1, -0.2), (0.5, -0.8), (0.45, 0.8), (0.1, 1.6), (-0.1, 1.3),
          (0.3, 0.4), (0.9, -0.1)],
    "u": [(0, 0), (0.1, -1), (0.2, 0), (0.5, -0.1), (0.55, -1), (0.6, 0), (0.85, -0.1)],
    "r": [(0, 0), (0.15, -0.9), (0.3, -1.0), (0.45, -0.8), (0.45, 0), (0.75, -0.1)],
}
CAPITALS = [
    [(0, 0.3), (0.4, -1.2), (0.6, -2.8), (0.3, -3.0), (0.0, -2.0), (0.9, -1.6), (1.4, -2.6), (1.2, -0.6), (1.2, 0)],
    [(0.2, 0), (0.3, -2.8), (0.0, -2.6), (1.6, -2.9), (1.9, -2.0), (0.4, -1.4), (1.8, -0.8), (1.3, 0), (0.2, 0)],
    [(1.6, -2.5), (0.9, -2.9), (0.2, -1.8), (0.3, -0.2), (1.2, 0), (1.8, -0.6)],
    [(0, 0), (0.6, -2.8), (1.0, -0.3), (1.5, -2.8), (1.9, 0)],
]


def _cursive(rng: np.random.Generator) -> list[np.ndarray]:
    """A name-like cursive run: a big capital, a few joined letters fading out, often a flourish."""
    strokes = []
    cap = np.array(pick(rng, CAPITALS), float) * rng.uniform(0.8, 1.2)
    x = float(cap[:, 0].max()) + rng.uniform(-0.3, 0.4)
    if chance(rng, 0.5):  # capital drawn in its own stroke, pen lifted before the name
        strokes.append(catmull_rom(cap + rng.normal(0, 0.06, cap.shape), 16))
        run = []
    else:
        run = list(map(tuple, cap))
    n = int(rng.integers(3, 9))
    fade = np.linspace(1.0, rng.uniform(0.25, 0.8), n)  # signatures trail off into a line
    for i in range(n):
        shape = np.array(pick(rng, list(LETTERS.values())), float)
        shape[:, 0] *= rng.uniform(0.8, 1.4)
        shape[:, 1] *= fade[i] * rng.uniform(0.8, 1.2)
        run.extend(map(tuple, shape + [x, 0] + rng.normal(0, 0.07, shape.shape)))
        x += float(shape[-1, 0]) + rng.uniform(-0.05, 0.15)
    body = catmull_rom(np.array(run), 14)
    strokes.append(body)
    if chance(rng, 0.65):  # flourish back under the name
        end = body[-1]
        tail = np.array([end, end + [rng.uniform(0.3, 1.2), rng.uniform(0.4, 1.0)],
                         [x * 0.5, rng.uniform(0.9, 1.6)], [-rng.uniform(0, 1), rng.uniform(0.6, 1.4)]])
        strokes.append(catmull_rom(tail))
    return strokes


def _initials(rng: np.random.Generator) -> list[np.ndarray]:
    """Two or three big letter-like strokes and an underline."""
    strokes, x = [], 0.0
    for _ in range(int(rng.integers(2, 4))):
        n = int(rng.integers(4, 8))
        pts = np.column_stack([x + np.cumsum(rng.uniform(-0.4, 1.0, n)), rng.uniform(-3, 1.5, n)])
        strokes.append(catmull_rom(pts))
        x = float(pts[:, 0].max()) + rng.uniform(0.2, 1.0)
    if chance(rng, 0.85):
        y = rng.uniform(1.8, 2.6)
        line = np.array([[-0.5, y + rng.normal(0, 0.2)], [x * 0.5, y + rng.normal(0, 0.3)],
                         [x + rng.uniform(0.5, 2), y - rng.uniform(0, 1.2)]])
        strokes.append(catmull_rom(line))
    return strokes


def _scribble(rng: np.random.Generator) -> list[np.ndarray]:
    """A fast zig-zag signature, amplitude fading to the right."""
    n = int(rng.integers(8, 16))
    x = np.cumsum(rng.uniform(0.3, 1.0, n))
    fade = np.linspace(1.0, rng.uniform(0.2, 0.7), n)
    y = np.where(np.arange(n) % 2 == 0, -1, 1) * rng.uniform(0.8, 2.4, n) * fade
    return [catmull_rom(np.column_stack([x, y]))]


STYLES = {"cursive": _cursive, "initials": _initials, "scribble": _scribble}


def signature_mask(rng: np.random.Generator, width: int, height: int, pen_px: float) -> np.ndarray:
    """A (height x width) ink mask of a signature filling most of the box."""
    style = pick(rng, list(STYLES), p=[0.55, 0.25, 0.2])
    strokes = STYLES[style](rng)
    angle = np.radians(rng.uniform(-12, 14))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    strokes = [s @ rot.T for s in strokes]
    allp = np.vstack(strokes)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    margin = pen_px * 2
    scale = min((width - 2 * margin) / max(hi[0] - lo[0], 1e-6), (height - 2 * margin) / max(hi[1] - lo[1], 1e-6))
    out = []
    for s in strokes:
        pts = densify((s - lo) * scale + margin, step=0.6)
        out.append((pts, pressure(len(pts), rng, pen_px)))
    return stroke_mask(out, (width, height))


def sign(page: np.ndarray, area: tuple[int, int, int, int], hand: Hand, rng: np.random.Generator,
         dpi: float) -> None:
    """Sign inside an area of the page (px): a random size and place, sometimes spilling over the edges."""
    x0, y0, x1, y1 = area
    aw, ah = x1 - x0, y1 - y0
    w = int(aw * rng.uniform(0.35, 0.7))
    h = int(min(ah * rng.uniform(0.7, 1.15), w * rng.uniform(0.35, 0.7)))
    pen = dpi / 25.4 * rng.uniform(0.3, 0.55)  # a ballpoint line is 0.3-0.55 mm wide
    mask = signature_mask(rng, w, h, pen) * hand.pressure
    x = x0 + int(rng.uniform(0.02, 0.98) * max(aw - w, 1))
    y = y0 + int(rng.uniform(-0.1, 1.0) * max(ah - h, 1))
    composite(page, ballpoint(mask, rng), x, y, hand.ink)
