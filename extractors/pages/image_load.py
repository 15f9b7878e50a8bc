"""One JPEG or PNG -> one page image: decoded within a pixel budget, transparency on white paper,
EXIF orientation honoured when it can be read, tiny images refused with a reason.

Used by load.py (the one entry point); raises UnreadableFile with a French reason for what no one can read.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import UnreadableFile
from core.settings import Settings

log = logging.getLogger(__name__)

A4_LONG_SIDE_IN = 11.69  # 297 mm: an image without a believable DPI is taken for an A4 page filling the frame
STATED_DPI_RANGE = (72, 1200)  # a DPI an image states is believed within this range (scanners, phones, renders)...
PLACEHOLDER_DPI = 72  # ...except 72 (to 1 dpi), what many tools write when they know nothing of the size
PAPER_WHITE = (255, 255, 255)  # transparency is paper: what a viewer shows under an export or a screenshot
HIGH_BIT_MODES = ("I;16", "I;16B", "I;16L", "I")  # 16-bit grey PNGs: brought to 8 bits by scaling, not clipping
MAX_16BIT = 65535.0
JPEG_MIN_SCALE = 1 / 8  # libjpeg decodes at 1/2, 1/4 or 1/8 of the size for a fraction of the work


def load_image(path: Path, settings: Settings, ref: str) -> tuple[np.ndarray, float]:
    """(BGR uint8 image, dpi) of a JPEG/PNG, reduced to Settings.max_page_pixels (a JPEG is decoded
    reduced by its own DCT scaling, `draft`, so a 12000x9000 photo never exists at full size)."""
    try:
        with Image.open(path) as img:
            w, h = img.size
            if min(w, h) < settings.min_image_side_px:
                raise UnreadableFile(f"image trop petite pour être lue ({w}×{h} pixels)")
            if img.format == "JPEG":
                scale = _dct_scale(w, h, settings)
                if scale < 1:
                    img.draft("RGB", (math.ceil(w * scale), math.ceil(h * scale)))
            dw, dh = img.size  # as it will decode
            if dw * dh > settings.max_image_pixels:
                raise UnreadableFile(f"image démesurée ({w}×{h} pixels)")
            img.load()  # truncated data raises here
            dpi = _image_dpi(img.info.get("dpi"), (w, h)) * dw / w
            img = _upright(img, ref)
            rgb = _on_white(img)
    except UnreadableFile:
        raise
    except Image.DecompressionBombError as exc:  # Pillow refuses at open beyond twice its own limit (~179 Mpx)
        raise UnreadableFile("image démesurée (trop de pixels)") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnreadableFile(f"image endommagée ou incomplète ({exc.__class__.__name__})") from exc
    image = np.asarray(rgb)[:, :, ::-1]  # RGB -> BGR for OpenCV
    s = _reading_scale(image.shape[1], image.shape[0], settings.max_page_pixels)
    if s < 1:  # what draft left above the budget (a PNG, or a JPEG between two DCT scales)
        image = cv2.resize(image, (round(image.shape[1] * s), round(image.shape[0] * s)), interpolation=cv2.INTER_AREA)
        dpi *= s
    return np.ascontiguousarray(image), dpi


def _dct_scale(w: int, h: int, settings: Settings) -> float:
    """The JPEG decoding scale (1, 1/2, 1/4 or 1/8: what the DCT gives for free): the smallest that still
    holds the reading size (max_page_pixels), or a smaller one when that would decode beyond max_image_pixels."""
    target = _reading_scale(w, h, settings.max_page_pixels)
    scale = 1.0
    while scale > JPEG_MIN_SCALE and (scale / 2 >= target or w * h * scale * scale > settings.max_image_pixels):
        scale /= 2
    return scale


def _reading_scale(w: int, h: int, budget: int) -> float:
    """The factor (<= 1) that brings w x h pixels within `budget`."""
    return min(1.0, float(np.sqrt(budget / float(w * h))))


def _image_dpi(stated, size: tuple[int, int]) -> float:
    """The DPI the file states when plausible, else what an A4 page filling the frame would have."""
    lo, hi = STATED_DPI_RANGE
    try:
        value = float(stated[0]) if stated else 0.0
    except (TypeError, ValueError, IndexError, ZeroDivisionError):  # a garbled density field says nothing
        value = 0.0
    if lo <= value <= hi and abs(value - PLACEHOLDER_DPI) > 1:
        return value
    return max(size) / A4_LONG_SIDE_IN


def _upright(img: Image.Image, ref: str) -> Image.Image:
    """The image turned as its EXIF Orientation says; as it is when the EXIF block cannot be read.
    EXIF is whatever the phone or an editor wrote: a truncated or garbled block must cost the turn, never
    the file (Pillow raises SyntaxError, struct.error, TypeError, ... from its TIFF parser on such blocks)."""
    try:
        return ImageOps.exif_transpose(img)
    except Exception as exc:  # the EXIF parser on foreign data: nothing else runs in this try
        log.info("%s: EXIF not readable (%s), image kept as stored", ref, exc.__class__.__name__)
        return img


def _on_white(img: Image.Image) -> Image.Image:
    """RGB, with any transparency (alpha channel, LA, palette or colour-key tRNS) composited on white paper."""
    if img.mode in HIGH_BIT_MODES:
        grey = np.asarray(img, dtype=np.float64)
        top = MAX_16BIT if grey.max() > 255 else 255.0
        img = Image.fromarray(np.clip(grey * (255.0 / top), 0, 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, PAPER_WHITE + (255,))
        return Image.alpha_composite(paper, rgba).convert("RGB")
    return img.convert("RGB")
