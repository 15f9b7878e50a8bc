"""Rubber stamps (cachets) of vet clinics: rectangular or round, coloured ink, patchy, rotated.

A stamp is drawn as a grey mask at high resolution, then given rubber-stamp defects (uneven
inking, worn patches, speckles, a pressure gradient), rotated and multiplied into the page.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .common import chance, font_path, pick
from .data import Party
from .ink import composite

STAMP_INKS = {"blue": (40, 70, 175), "violet": (95, 45, 150), "red": (185, 35, 45), "black": (35, 35, 40)}
FONTS = ["DejaVuSansCondensed-Bold.ttf", "DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf",
         "DejaVuSerifCondensed-Bold.ttf", "LiberationSerif-Bold.ttf", "FreeSansBold.ttf"]
# rubber needs thick strokes: the small lines are in medium/bold weights too
FONTS_LIGHT = ["DejaVuSansCondensed-Bold.ttf", "LiberationSans-Bold.ttf", "DejaVuSans.ttf",
               "FreeSansBold.ttf", "LiberationSerif-Bold.ttf"]


def stamp_lines(clinic: Party, vet_name: str, rng: np.random.Generator) -> list[str]:
    """The text of a clinic stamp: name, vet, address, phone, N° Ordre (order varies by stamp maker)."""
    lines = [clinic.name.upper()]
    if chance(rng, 0.7):
        lines.append(vet_name + pick(rng, ["", " - Docteur Vétérinaire", ", Vétérinaire"]))
    lines += [clinic.street, f"{clinic.postcode} {clinic.town.upper()}"]
    lines.append(pick(rng, ["Tél. ", "Tél : ", "T. ", "☎ "]) + clinic.phone)
    lines.append(pick(rng, ["N° Ordre ", "N° Ordre : ", "Ordre n° ", "N° ORDRE "]) + clinic.extra.get("ordre", ""))
    return lines


def _rect(lines: list[str], rng: np.random.Generator, scale: float) -> Image.Image:
    """Rectangular stamp: framed, first line bold, the rest light, centred or left-aligned."""
    bold = ImageFont.truetype(font_path(pick(rng, FONTS)), int(34 * scale))
    light = ImageFont.truetype(font_path(pick(rng, FONTS_LIGHT)), int(27 * scale))
    fonts = [bold] + [light] * (len(lines) - 1)
    widths = [f.getlength(t) for f, t in zip(fonts, lines)]
    pad, gap = int(22 * scale), int(8 * scale)
    w = int(max(widths) + 2 * pad)
    h = int(sum(f.size for f in fonts) + gap * (len(lines) - 1) + 2 * pad)
    img = Image.new("L", (w + 20, h + 20), 0)
    d = ImageDraw.Draw(img)
    border = int(rng.integers(3, 7) * scale)
    d.rounded_rectangle((10, 10, w + 10, h + 10), radius=int(rng.uniform(0, 18) * scale), outline=255, width=border)
    if chance(rng, 0.35):
        d.rounded_rectangle((10 + 2 * border, 10 + 2 * border, w + 10 - 2 * border, h + 10 - 2 * border),
                            radius=int(8 * scale), outline=255, width=max(1, border // 2))
    centre = chance(rng, 0.7)
    y = 10 + pad
    for f, t, tw in zip(fonts, lines, widths):
        x = 10 + (w - tw) / 2 if centre else 10 + pad
        d.text((x, y), t, font=f, fill=255)
        y += f.size + gap
    return img


def _round(lines: list[str], rng: np.random.Generator, scale: float) -> Image.Image:
    """Round stamp: clinic name around the top, town around the bottom, vet details in the middle."""
    r = int(190 * scale)
    size = 2 * r + 40
    img = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(img)
    c = size / 2
    d.ellipse((c - r, c - r, c + r, c + r), outline=255, width=int(6 * scale))
    d.ellipse((c - r * 0.74, c - r * 0.74, c + r * 0.74, c + r * 0.74), outline=255, width=int(3 * scale))
    font = ImageFont.truetype(font_path(pick(rng, FONTS)), int(30 * scale))
    _arc_text(img, lines[0], font, c, r * 0.87, top=True)
    _arc_text(img, lines[-3] if len(lines) > 4 else lines[-1], font, c, r * 0.87, top=False)
    small = ImageFont.truetype(font_path(pick(rng, FONTS_LIGHT)), int(24 * scale))
    middle = [t for t in lines[1:] if t not in (lines[-3],)][-3:]
    y = c - (len(middle) * small.size * 1.15) / 2
    for t in middle:
        d.text((c - small.getlength(t) / 2, y), t, font=small, fill=255)
        y += small.size * 1.15
    return img


def _arc_text(img: Image.Image, text: str, font: ImageFont.FreeTypeFont, c: float, radius: float, top: bool) -> None:
    """Letters one by one along a circle (clockwise on top, counter-clockwise below)."""
    total = sum(font.getlength(ch) for ch in text) * 1.08
    span = min(total / radius, math.radians(170))
    step = span / max(total, 1)
    a = -math.pi / 2 - span / 2 if top else math.pi / 2 + span / 2
    for ch in text:
        adv = font.getlength(ch) * 1.08 * step
        mid = a + (adv / 2 if top else -adv / 2)
        glyph = Image.new("L", (font.size * 2, font.size * 2), 0)
        ImageDraw.Draw(glyph).text((font.size, font.size), ch, font=font, fill=255, anchor="mm")
        deg = -math.degrees(mid + math.pi / 2) if top else -math.degrees(mid - math.pi / 2)
        glyph = glyph.rotate(deg, resample=Image.Resampling.BICUBIC)
        x, y = c + radius * math.cos(mid), c + radius * math.sin(mid)
        img.paste(255, (int(x - font.size), int(y - font.size)), glyph)
        a += adv if top else -adv


def inked(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rubber-stamp defects: patchy ink, worn spots, speckles, heavier on one side, slight bleed."""
    h, w = mask.shape
    m = cv2.GaussianBlur(mask, (0, 0), 0.8)
    coarse = cv2.resize(rng.random((6, 8)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    fine = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 2.5)
    fine = (fine - fine.mean()) / (fine.std() + 1e-6)
    gx = np.linspace(-1, 1, w)[None, :] * rng.uniform(-0.35, 0.35)
    gy = np.linspace(-1, 1, h)[:, None] * rng.uniform(-0.35, 0.35)
    level = np.clip(rng.uniform(0.8, 1.05) + 0.35 * (coarse - 0.5) + gx + gy + 0.12 * fine, 0.05, 1.0)
    holes = rng.random((h, w)) < rng.uniform(0.01, 0.07)  # specks where the rubber took no ink
    holes = cv2.dilate(holes.astype(np.uint8), np.ones((2, 2), np.uint8)).astype(bool)
    m = m * level
    m[holes] *= rng.uniform(0.0, 0.4)
    return np.clip(m, 0, 1)


def stamp(page: np.ndarray, area: tuple[int, int, int, int], clinic: Party, vet_name: str,
          rng: np.random.Generator, dpi: float) -> None:
    """Press a clinic stamp in an area (px) of the page: random shape, ink, angle; may overrun the area."""
    lines = stamp_lines(clinic, vet_name, rng)
    scale = 1.0
    shape = "round" if chance(rng, 0.2) else "rect"
    img = _round(lines, rng, scale) if shape == "round" else _rect(lines, rng, scale)
    img = img.rotate(float(rng.normal(0, 7)), resample=Image.Resampling.BICUBIC, expand=True)
    # real stamps: 45-60 mm wide (rect), 32-40 mm across (round)
    target_w = dpi / 25.4 * (rng.uniform(45, 60) if shape == "rect" else rng.uniform(32, 40))
    f = target_w / img.width
    img = img.resize((max(1, int(img.width * f)), max(1, int(img.height * f))), Image.Resampling.LANCZOS)
    mask = inked(np.asarray(img, np.float32) / 255.0, rng) * rng.uniform(0.85, 1.0)
    colour = STAMP_INKS[pick(rng, list(STAMP_INKS), p=[0.5, 0.25, 0.12, 0.13])]
    x0, y0, x1, y1 = area
    mh, mw = mask.shape
    # mostly inside the area; some spill past an edge (still counts as a stamp)
    x = x0 + rng.uniform(-0.12, 1.12) * max(x1 - x0 - mw, 1) if chance(rng, 0.8) else x0 + rng.uniform(-0.25, 0.45) * (x1 - x0)
    y = y0 + rng.uniform(-0.15, 1.05) * max(y1 - y0 - mh, 1)
    composite(page, mask, int(x), int(y), colour)
