"""Attachments that are pictures, not forms: an x-ray, a photo of the animal, a handwritten note."""
from __future__ import annotations

from datetime import date

import cv2
import numpy as np
from PIL import Image

from .common import chance, fmt_date, mm_to_px, pick
from .data import Case
from .ink import make_hand, write
from .signature import sign


def xray(rng: np.random.Generator, width: int = 1100) -> Image.Image:
    """A radiograph-like grey picture: dark field, bright blurred bones, a side marker."""
    h = int(width * rng.uniform(0.72, 0.85))
    img = np.full((h, width), 18, np.float32)
    cv2.ellipse(img, (width // 2, h // 2), (int(width * 0.42), int(h * 0.3)), float(rng.uniform(-15, 15)), 0, 360, 70, -1)
    spine_y = int(h * rng.uniform(0.35, 0.45))
    for i in range(14):  # vertebrae
        x = int(width * 0.15 + i * width * 0.05)
        cv2.rectangle(img, (x, spine_y - 14), (x + int(width * 0.038), spine_y + 14), 190, -1)
    for i in range(9):  # ribs
        x = int(width * 0.3 + i * width * 0.04)
        cv2.ellipse(img, (x, spine_y + 10), (int(width * 0.03), int(h * 0.22)), 10, 0, 180, 150, 6)
    for _ in range(2):  # long bones of the legs
        x = int(width * rng.uniform(0.2, 0.8))
        cv2.line(img, (x, int(h * 0.62)), (x + int(rng.integers(-60, 60)), int(h * 0.95)), 210, 16)
    img = cv2.GaussianBlur(img, (0, 0), 3)
    img += rng.normal(0, 6, img.shape).astype(np.float32)
    out = np.clip(img, 0, 255).astype(np.uint8)
    cv2.putText(out, pick(rng, ["L", "R", "G", "D"]), (30, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 250, 3)
    return Image.fromarray(out).convert("RGB")


def animal_photo(rng: np.random.Generator, species: str, width: int = 1200) -> Image.Image:
    """A snapshot of a pet on a floor or sofa: furry blobs for body and head, two ears, eyes."""
    h = int(width * 0.75)
    yy, xx = np.mgrid[0:h, 0:width].astype(np.float32)
    floor = np.array(pick(rng, [[150, 120, 90], [110, 110, 120], [170, 160, 140], [90, 60, 50]]), np.float32)
    img = floor[None, None, :] * (0.75 + 0.35 * (yy / h))[..., None]
    fur = np.array(pick(rng, [[60, 40, 25], [200, 170, 120], [40, 40, 40], [230, 225, 215], [150, 90, 40]]), np.float32)
    mask = np.zeros((h, width), np.float32)
    cx, cy = width * rng.uniform(0.35, 0.6), h * rng.uniform(0.5, 0.65)
    cv2.ellipse(mask, (int(cx), int(cy)), (int(width * 0.22), int(h * 0.18)), float(rng.uniform(-20, 20)), 0, 360, 1, -1)
    hx, hy = int(cx + width * 0.2), int(cy - h * 0.18)
    cv2.circle(mask, (hx, hy), int(h * 0.13), 1, -1)
    ear = 0.12 if species == "chat" else 0.08
    for dx in (-1, 1):
        pts = np.array([[hx + dx * h * 0.1, hy - h * 0.05], [hx + dx * h * 0.05, hy - h * (0.1 + ear)],
                        [hx + dx * h * 0.01, hy - h * 0.08]], np.int32)
        cv2.fillPoly(mask, [pts], 1)
    cv2.line(mask, (int(cx - width * 0.2), int(cy)), (int(cx - width * 0.3), int(cy - h * 0.2)), 1, int(h * 0.04))
    mask = cv2.GaussianBlur(mask, (0, 0), 4)
    texture = cv2.GaussianBlur(rng.normal(0, 1, (h, width)).astype(np.float32), (0, 0), 1.5) * 18
    img = img * (1 - mask[..., None]) + (fur[None, None, :] + texture[..., None]) * mask[..., None]
    for dx in (-1, 1):
        cv2.circle(img, (int(hx + dx * h * 0.05), int(hy - h * 0.02)), max(3, int(h * 0.012)), (15, 15, 10), -1)
    img = cv2.GaussianBlur(img, (0, 0), 1.2) + rng.normal(0, 4, img.shape).astype(np.float32)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def handwritten_note(case: Case, rng: np.random.Generator, when: date, dpi: int) -> Image.Image:
    """A short handwritten note from the owner on plain or squared paper."""
    w, h = int(mm_to_px(210, dpi)), int(mm_to_px(297 * rng.uniform(0.5, 1.0), dpi))
    page = np.full((h, w, 3), 250, np.float32)
    if chance(rng, 0.5):  # French squared paper (Seyès-like grid, light blue)
        step = int(mm_to_px(8, dpi))
        page[::step, :] = (200, 210, 235)
        page[:, ::step] = (225, 225, 240)
    hand = make_hand(rng, "owner")
    cap = mm_to_px(rng.uniform(3.2, 4.2), dpi)
    lines = [f"{case.owner.town}, le {fmt_date(when, 'dmy_slash')}", "", "Madame, Monsieur,",
             "Veuillez trouver ci-joint les documents", f"pour les soins de {case.animal_name}.",
             f"Contrat n° {case.contract_number}", "Merci d'avance,", f"{case.owner_first} {case.owner_last}"]
    y = mm_to_px(25, dpi)
    for i, text in enumerate(lines):
        x = mm_to_px(110 if i == 0 else rng.uniform(18, 26), dpi)
        write(page, text, x, y, cap, hand, rng)
        y += mm_to_px(rng.uniform(9, 11), dpi)
    if y + mm_to_px(30, dpi) < h:
        sign(page, (int(mm_to_px(100, dpi)), int(y), int(mm_to_px(180, dpi)), int(y + mm_to_px(25, dpi))), hand, rng, dpi)
    return Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))
