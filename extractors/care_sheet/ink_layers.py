"""Ink layers of the vet box: its ink split by colour and by stroke darkness.

Pixels are split by their chroma/darkness ratio (black and grey ink ~0.0,
blue-black ~0.15, blue/violet/red ~0.3, whatever their lightness) and, among
coloured pixels, by hue; and by stroke darkness (a stamp prints lighter than a
ballpoint). A black signature over a blue stamp so falls apart in two layers; a
black stamp under a black signature stays one (extractors.care_sheet.vet then
relies on shape).
"""
from __future__ import annotations

import cv2
import numpy as np

from extractors.care_sheet.layout import PX_PER_MM

NEUTRAL_RATIO = 0.08  # chroma / darkness below this: black or grey ink (black ~0.0, blue-black ~0.15)
AMBIGUOUS_BAND = (0.5, 1.6)  # ratios within these multiples of NEUTRAL_RATIO are "near the limit" ...
AMBIGUOUS_MAX = 0.25  # ... and when more than this share of the ink is near it, no colour split is made
HUE_SPLIT_DEG = 40.0  # two coloured inks at least this far apart in hue are separate layers ...
HUE_MIN_SHARE = 0.03  # ... when the second one holds LAYER_MIN_MM2 and this share of the coloured ink ...
HUE_VALLEY = 0.5  # ... and the histogram dips between the two peaks below this share of the second one
DARK_SPLIT_MIN = 70  # light vs dark strokes: mean darkness gap (grey levels) that makes two layers ...
DARK_SHARE = (0.2, 0.8)  # ... when each group holds 20-80 % of the ink (a few dark pixels are one ink's shading)
LAYER_MIN_MM2 = 4.0  # a layer with less ink is not analysed on its own
PEN_HUES = (-125.0, -35.0)  # Lab hue (degrees) of ballpoint inks: blue, blue-black, violet (black: neutral)
PAD_INK_SHARE = 0.8  # a layer this coloured, its median hue outside PEN_HUES (red, green, teal, orange, brown),
# is a stamp pad's ink: nobody signs or writes an address in it


def colour_layers(balanced: np.ndarray, ink: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Split ink by colour: black/grey vs coloured, coloured by hue when two inks are far apart."""
    lab = cv2.cvtColor(balanced, cv2.COLOR_BGR2Lab).astype(np.float32)
    a, b = lab[..., 1] - 128, lab[..., 2] - 128
    dark = 255.0 - balanced.min(axis=2).astype(np.float32)
    ratio = np.hypot(a, b) / np.maximum(dark, 1)
    ratio = cv2.medianBlur(np.clip(ratio * 100, 0, 255).astype(np.uint8), 3).astype(np.float32) / 100
    neutral = ink & (ratio < NEUTRAL_RATIO)
    coloured = ink & ~neutral
    min_px = LAYER_MIN_MM2 * PX_PER_MM**2
    lo, hi = NEUTRAL_RATIO * AMBIGUOUS_BAND[0], NEUTRAL_RATIO * AMBIGUOUS_BAND[1]
    if ((ratio[ink] > lo) & (ratio[ink] < hi)).mean() > AMBIGUOUS_MAX:
        return []  # one ink straddling the limit (blue-black in a dim photo): no honest split
    layers = [("noire", neutral)] if neutral.sum() >= min_px else []
    if coloured.sum() >= min_px:
        hue_img = np.degrees(np.arctan2(b, a))
        hist, edges = np.histogram(hue_img[coloured], bins=36, range=(-180, 180))
        p1 = int(np.argmax(hist))
        dist = np.abs((np.arange(36) - p1 + 18) % 36 - 18) * 10.0
        far = np.where(dist >= HUE_SPLIT_DEG, hist, 0)
        p2 = int(np.argmax(far))
        # the second ink's own mass (its peak ± 20°), not a share of all the ink: a thin signature over a
        # large stamp holds a few % of the ink; and a valley between the peaks (one ink's tail has none)
        near2 = np.abs((np.arange(36) - p2 + 18) % 36 - 18) <= 2
        mass2 = float(hist[near2].sum())
        step = 1 if (p2 - p1) % 36 <= 18 else -1
        between = [hist[(p1 + k * step) % 36] for k in range(1, int(dist[p2] / 10))]
        valley = min(between, default=0)
        if mass2 >= max(min_px, HUE_MIN_SHARE * hist.sum()) and valley <= HUE_VALLEY * hist[p2]:
            c1, c2 = edges[p1] + 5, edges[p2] + 5
            d1 = np.abs((hue_img - c1 + 180) % 360 - 180)
            d2 = np.abs((hue_img - c2 + 180) % 360 - 180)
            layers += [(f"couleur {c1:.0f}°", coloured & (d1 <= d2)), (f"couleur {c2:.0f}°", coloured & (d2 < d1))]
        else:
            layers.append(("couleur", coloured))
    return layers


def darkness_layers(balanced: np.ndarray, ink: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Light strokes vs dark strokes (a stroke's edge takes its core's darkness), when clearly two inks."""
    core = cv2.dilate(255 - balanced.min(axis=2), np.ones((3, 3), np.uint8))
    vals = core[ink]
    if vals.size < LAYER_MIN_MM2 * PX_PER_MM**2 * 2:
        return []
    t, _ = cv2.threshold(vals.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    light, heavy = ink & (core < t), ink & (core >= t)
    share = light.sum() / vals.size
    if not DARK_SHARE[0] <= share <= DARK_SHARE[1] or core[heavy].mean() - core[light].mean() < DARK_SPLIT_MIN:
        return []
    return [("claire", light), ("foncée", heavy)]


def stamp_pad_ink(balanced: np.ndarray, mask: np.ndarray) -> bool:
    """The layer's ink is a stamp pad's, not a pen's: coloured, with a hue no ballpoint has."""
    if mask.sum() < LAYER_MIN_MM2 * PX_PER_MM**2:
        return False
    lab = cv2.cvtColor(balanced, cv2.COLOR_BGR2Lab).astype(np.float32)
    a, b = lab[..., 1][mask] - 128, lab[..., 2][mask] - 128
    dark = 255.0 - balanced.min(axis=2)[mask].astype(np.float32)
    coloured = np.hypot(a, b) / np.maximum(dark, 1) >= NEUTRAL_RATIO
    if coloured.mean() < PAD_INK_SHARE:
        return False
    hue = float(np.degrees(np.arctan2(np.median(b[coloured]), np.median(a[coloured]))))
    return not PEN_HUES[0] <= hue <= PEN_HUES[1]
