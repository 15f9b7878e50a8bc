"""How paper reaches the portal: flatbed scans, phone photos, and captures no one could read.

In: a flat page image (RGB) at a known dpi. Out: the captured image plus the defects applied
(for the truth's `defects` column). cv2 runs single-threaded so the pixels do not depend on the machine.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from .common import chance, pick

cv2.setNumThreads(1)


def render_pdf(pdf: bytes, dpi: int) -> list[Image.Image]:
    """Rasterise every page of a PDF (pdfium) to RGB images."""
    doc = pdfium.PdfDocument(pdf)
    pages = [doc[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in range(len(doc))]
    doc.close()
    return pages


def smooth_field(h: int, w: int, cells: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Low-frequency noise in [0, 1] (a coarse random grid, bicubic-upsampled)."""
    grid = rng.random((cells[0] + 1, cells[1] + 1)).astype(np.float32)
    f = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    return (f - f.min()) / max(float(f.max() - f.min()), 1e-6)


def _resample(img: Image.Image, src_dpi: float, dpi: float) -> np.ndarray:
    if abs(src_dpi - dpi) > 0.5:
        img = img.resize((round(img.width * dpi / src_dpi), round(img.height * dpi / src_dpi)), Image.Resampling.LANCZOS)
    return np.asarray(img, np.float32) / 255.0


def scan(img: Image.Image, src_dpi: float, dpi: int, rng: np.random.Generator, mode: str = "grey",
         noise: float = 1.0) -> tuple[Image.Image, list[str]]:
    """A flatbed scan at dpi: paper tone, optics blur, skew up to +-2 deg, grain, dust. mode: grey | colour | bw."""
    ink = _resample(img, src_dpi, dpi)
    if mode != "colour":
        ink = ink @ np.float32([0.299, 0.587, 0.114])
        ink = ink[..., None]
    h, w = ink.shape[:2]
    ink = cv2.GaussianBlur(ink, (0, 0), 0.5 * dpi / 200).reshape(h, w, -1)
    level = rng.uniform(0.9, 0.97) if chance(rng, 0.5) else rng.uniform(0.98, 1.02)
    paper = level + 0.02 * smooth_field(h, w, (3, 2), rng)[..., None]
    toner = rng.uniform(0.04, 0.12)
    out = toner + (paper - toner) * ink
    skew = float(rng.uniform(0.2, 2.0) * pick(rng, [-1, 1]))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0)
    m[:, 2] += rng.uniform(-10, 10, size=2) * dpi / 200
    lid = min(level + 0.03, 1.0)
    out = cv2.warpAffine(out, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(lid, lid, lid)).reshape(h, w, -1)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.0)
    out = out + noise * rng.uniform(0.006, 0.014) * (grain / float(grain.std()))[..., None]
    for _ in range(int(rng.integers(10, 60))):  # dust specks
        cv2.circle(out, (int(rng.integers(0, w)), int(rng.integers(0, h))), int(rng.integers(1, 3)),
                   (float(rng.uniform(0.2, 0.7)),) * 3, -1)
    out = np.clip(out * 255, 0, 255)
    defects = [f"skew{skew:+.1f}"]
    if mode == "bw":
        thr = float(rng.uniform(150, 185))
        return Image.fromarray(((out[..., 0] > thr) * 255).astype(np.uint8)).convert("1"), defects + ["bilevel"]
    out = (np.round(out / 3) * 3).clip(0, 255).astype(np.uint8)  # fewer grey levels: smaller files, same look
    return Image.fromarray(out[..., 0] if mode == "grey" else out), defects


def _table(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A textured table top (wood, fabric or laminate), float32 RGB 0..1; drawn at half size (it is out of focus)."""
    h2, w2 = (h + 1) // 2, (w + 1) // 2
    kind = pick(rng, ["wood", "fabric", "laminate"])
    if kind == "wood":
        grain = smooth_field(h2, w2, (60, 4), rng) * 0.6 + smooth_field(h2, w2, (10, 3), rng) * 0.4
        base = np.float32(pick(rng, [[0.55, 0.37, 0.22], [0.68, 0.5, 0.32], [0.4, 0.26, 0.16]]))
        shade = 0.78 + 0.22 * (0.5 + 0.5 * np.sin(grain * 22))
    elif kind == "fabric":
        p = float(rng.uniform(3, 5))
        wave = np.sin(np.arange(w2, dtype=np.float32) * 2 * math.pi / p)
        shade = 0.85 + 0.2 * np.outer(np.sin(np.arange(h2, dtype=np.float32) * 2 * math.pi / p), wave)
        base = np.float32(pick(rng, [[0.18, 0.22, 0.32], [0.3, 0.3, 0.3], [0.35, 0.15, 0.15]]))
    else:
        speck = cv2.GaussianBlur(rng.random((h2, w2), dtype=np.float32), (0, 0), 0.7)
        base = np.float32(pick(rng, [[0.72, 0.7, 0.66], [0.6, 0.62, 0.64], [0.8, 0.76, 0.68]]))
        shade = 0.9 + 0.25 * (speck - 0.5) + 0.08 * smooth_field(h2, w2, (4, 4), rng)
    tex = np.clip(base[None, None, :] * shade.astype(np.float32)[..., None], 0, 1)
    return cv2.resize(tex, (w, h), interpolation=cv2.INTER_LINEAR)


def _lighting(fw: int, fh: int, inside: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, bool]:
    """Smooth light fields, computed at 1/8 size and enlarged: (light on everything, drop shadow, hand shadow?)."""
    sw, sh = max(fw // 8, 8), max(fh // 8, 8)
    ins = cv2.resize(inside, (sw, sh), interpolation=cv2.INTER_AREA)
    drop = cv2.GaussianBlur(np.roll(ins, (max(1, sh // 160), max(1, sw // 160)), (0, 1)), (0, 0), sw * 0.008)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    light = 0.82 + 0.22 * ((xx / sw - 0.5) * math.cos(ang) + (yy / sh - 0.5) * math.sin(ang))
    light -= 0.18 * (((xx - sw / 2) / sw) ** 2 + ((yy - sh / 2) / sh) ** 2)  # vignetting
    hand = chance(rng, 0.6)
    if hand:  # the phone's or hand's shadow across part of the sheet
        pts = np.int32([[rng.uniform(-0.2, 0.6) * sw, -2], [rng.uniform(0.4, 1.2) * sw, -2],
                        [rng.uniform(0.3, 1.1) * sw, rng.uniform(0.2, 0.6) * sh], [rng.uniform(-0.3, 0.5) * sw, rng.uniform(0.2, 0.5) * sh]])
        mask = np.zeros((sh, sw), np.float32)
        cv2.fillPoly(mask, [pts], 1.0)
        light *= 1 - rng.uniform(0.2, 0.4) * cv2.GaussianBlur(mask, (0, 0), sw * 0.04)
    up = lambda a: cv2.resize(a, (fw, fh), interpolation=cv2.INTER_CUBIC)  # noqa: E731
    return up(light), up(drop), hand


def photo(img: Image.Image, rng: np.random.Generator, long_side: int = 1600, noise: float = 1.0
          ) -> tuple[Image.Image, list[str]]:
    """A phone photo of the sheet on a table: perspective, uneven light, a shadow, colour cast, noise."""
    fw, fh = int(long_side * 0.75), long_side
    page = np.asarray(img.convert("RGB"), np.float32) / 255.0
    ph, pw = page.shape[:2]
    scale = fh * rng.uniform(0.78, 0.92) / ph
    if pw * scale > fw * 0.94:
        scale = fw * 0.94 / pw
    qw, qh = pw * scale, ph * scale
    cx, cy = fw / 2 + rng.uniform(-0.04, 0.04) * fw, fh / 2 + rng.uniform(-0.03, 0.03) * fh
    top = 1 - rng.uniform(0.0, 0.1)  # keystone: the phone leans back
    quad = np.float32([[-qw / 2 * top, -qh / 2], [qw / 2 * top, -qh / 2], [qw / 2, qh / 2], [-qw / 2, qh / 2]])
    quad += rng.uniform(-0.015, 0.015, (4, 2)).astype(np.float32) * np.float32([fw, fh])
    a = math.radians(rng.uniform(-5, 5))
    quad = quad @ np.float32([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]]) + np.float32([cx, cy])
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    mat = cv2.getPerspectiveTransform(src, quad)
    warped = cv2.warpPerspective(page, mat, (fw, fh), flags=cv2.INTER_AREA)
    inside = cv2.warpPerspective(np.ones((ph, pw), np.float32), mat, (fw, fh), flags=cv2.INTER_LINEAR)
    light, drop, hand = _lighting(fw, fh, inside, rng)
    table = _table(fh, fw, rng) * (1 - 0.45 * drop)[..., None]
    out = warped * inside[..., None] + table * (1 - inside[..., None])
    cast = np.float32([rng.uniform(0.96, 1.05), 1.0, rng.uniform(0.9, 1.03)])
    out *= light[..., None] * cast
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 0.9))
    out += noise * rng.uniform(0.008, 0.02) * rng.standard_normal(out.shape, dtype=np.float32)
    np.clip(out * 255, 0, 255, out=out)
    return Image.fromarray(out.astype(np.uint8)), ["perspective"] + (["shadow"] if hand else [])


def degrade(img: Image.Image, rng: np.random.Generator, kind: str | None = None) -> tuple[Image.Image, list[str]]:
    """Make a capture no person could read: heavy blur, motion blur, far too dark, or tiny."""
    kind = kind or pick(rng, ["blur", "motion", "dark", "tiny", "blur_dark"])
    a = np.asarray(img.convert("RGB"), np.float32)
    px_per_mm = img.width / 230.0  # roughly: the sheet fills most of the picture
    if kind in ("blur", "blur_dark"):
        a = cv2.GaussianBlur(a, (0, 0), px_per_mm * rng.uniform(1.3, 2.2))
    if kind == "motion":
        n = max(5, int(px_per_mm * rng.uniform(5, 9)))
        k = np.zeros((n, n), np.float32)
        k[n // 2, :] = 1.0 / n
        k = cv2.warpAffine(k, cv2.getRotationMatrix2D((n / 2, n / 2), float(rng.uniform(0, 180)), 1.0), (n, n))
        a = cv2.filter2D(a, -1, k / max(k.sum(), 1e-6))
    if kind in ("dark", "blur_dark"):
        a = (a / 255.0) ** rng.uniform(1.8, 2.6) * rng.uniform(10, 22)  # a handful of grey levels left
        a += rng.normal(0, rng.uniform(2.5, 4.0), a.shape).astype(np.float32)
    out = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if kind == "tiny":
        w = int(rng.integers(150, 241))
        out = out.resize((w, max(1, round(out.height * w / out.width))), Image.Resampling.BILINEAR)
    return out, [kind]
