"""Page normalisation: an upright, flat, deskewed page image so that OCR and the zone checks see the same page.

normalise_page(page, settings) -> a new Page: the sheet found in a photo and warped flat, turned
upright (own text-line method; Tesseract OSD only when that is unsure), deskewed. The colour image
is kept as captured (the stamp detector needs colour; readability judges the capture's exposure);
ocr_ready() gives the grey, shadow-flattened image for Tesseract. See docs/readability.md.
"""
from __future__ import annotations

import dataclasses
import logging

import cv2
import numpy as np

from extractors import geometry, sheet
from extractors.ocr import detect_orientation
from intake.records import Capture, Page
from intake.settings import Settings

log = logging.getLogger(__name__)

MM_PER_INCH = 25.4
A4_LONG_MM = 297.0
MIN_SIDE_PX = 64  # smaller images are left alone: nothing to normalise
OSD_MAX_PX = 1600  # OSD sees a copy this size at most (cost grows with pixels)
STRETCH_INK_PERCENTILE = 0.2  # ocr_ready maps this darkest share of pixels to black
MAX_STRETCH = 25.0  # ...but never multiplies contrast by more (a blank page stays a blank page)

UNSURE_ORIENTATION = "orientation_unsure"


def orientation(image: np.ndarray, settings: Settings) -> tuple[int, str, geometry.Layout]:
    """(degrees clockwise that make the page upright, method that decided: "text"/"osd", text layout).

    The own text-line method decides when sure. Otherwise Tesseract OSD is asked, on a small copy;
    when the own method is at least sure which way the lines run (the usual case: up/down is the
    hard part), OSD sees the copy with its lines already horizontal and only settles up or down.
    """
    layout = geometry.text_layout(image)
    least = settings.orientation_min_confidence
    if layout.confidence >= least:
        return layout.rotation, "text", layout
    sure_of_turn = layout.turn_confidence >= least
    base = layout.rotation % 180 if sure_of_turn else 0
    turned, _ = geometry.rotate_quarter(image, base)
    h, w = turned.shape[:2]
    s = min(1.0, OSD_MAX_PX / max(h, w))
    small = cv2.resize(turned, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA) if s < 1 else turned
    osd = detect_orientation(small, settings)
    if osd is None or osd[1] < settings.osd_min_confidence:
        # Neither is sure: keep the page as uploaded (most are upright once EXIF is applied), turned only
        # by the quarter we are sure the lines need. Up or down is then settled by OCR (UNSURE_ORIENTATION).
        return base, "text", layout
    if sure_of_turn and osd[0] % 180:  # OSD contradicts a line direction we are sure of: keep ours
        return layout.rotation, "text", layout
    return (base + osd[0]) % 360, "osd", layout


def normalise_page(page: Page, settings: Settings) -> Page:
    """A new Page, upright and flat: image (colour), transform (loaded px -> new px), steps, dpi.

    Text-layer PDF pages come back unchanged. Never raises: on any failure the input page is returned.
    """
    if page.capture == Capture.PDF_TEXT:
        return page
    try:
        return _normalise(page, settings)
    except Exception:  # normalisation is an improvement, never a reason to lose the page
        log.exception("%s: normalisation failed, page kept as loaded", page.ref)
        return page


def _normalise(page: Page, settings: Settings) -> Page:
    img = page.image
    if img is None or img.ndim not in (2, 3) or min(img.shape[:2]) < MIN_SIDE_PX:
        return page
    transform = np.eye(3)
    steps: list[str] = []
    dpi = page.dpi

    quad = sheet.find_sheet(img)
    if quad is not None:
        inches = A4_LONG_MM / MM_PER_INCH
        w, h, a4 = sheet.sheet_size(quad, int(settings.render_dpi * inches),
                                       int(settings.normalise_max_dpi * inches))
        img, m = sheet.warp_sheet(img, quad, (w, h))
        transform = m @ transform
        steps.append("perspective")
        if a4:
            dpi = max(w, h) / (A4_LONG_MM / MM_PER_INCH)
        else:  # not A4: keep the loader's estimate, scaled like the pixels
            dpi = page.dpi * float(np.sqrt(w * h / max(cv2.contourArea(np.float32(quad)), 1.0)))

    rotation, how, layout = orientation(img, settings)
    if rotation:
        img, m = geometry.rotate_quarter(img, rotation)
        transform = m @ transform
        steps.append(f"rotate_{rotation}" + ("_osd" if how == "osd" else ""))
    if layout.confidence < settings.orientation_min_confidence and how == "text":
        steps.append(UNSURE_ORIENTATION)  # neither method was sure which way is up: OCR may check it

    # A line's slope survives a half turn, so the layout's skew holds unless OSD turned a quarter more.
    skew = layout.skew_deg if (rotation - layout.rotation) % 180 == 0 else geometry.text_layout(img).skew_deg
    if skew is not None and settings.deskew_min_deg <= abs(skew) <= settings.deskew_max_deg:
        img, m = geometry.rotate_small(img, skew)  # lines down to the right: turn them back up
        transform = m @ transform
        steps.append(f"deskew_{skew:+.1f}")

    if not steps:
        return page
    return dataclasses.replace(page, image=np.ascontiguousarray(img), transform=transform,
                               steps=page.steps + tuple(steps), dpi=float(dpi))


def enlargement(page: Page) -> float:
    """How much normalisation enlarged the page's pixels (the warp brings small photos up to A4 at
    render_dpi): 1.0 when it did not. Pixel measures of the capture itself (readability) undo it."""
    if page.transform is None:
        return 1.0
    return float(np.sqrt(abs(np.linalg.det(np.asarray(page.transform)[:2, :2]))))


def native_pixels(page: Page) -> np.ndarray:
    """The normalised image at the capture's own resolution: upright and flat, but never enlarged."""
    scale = enlargement(page)
    if scale <= 1.02:
        return page.image
    h, w = page.image.shape[:2]
    return cv2.resize(page.image, (max(1, round(w / scale)), max(1, round(h / scale))), interpolation=cv2.INTER_AREA)


def flatten_colour(image: np.ndarray) -> np.ndarray:
    """Colour image with shadows and uneven light evened out: paper white, ink hues kept (uint8)."""
    return np.clip(geometry.flat(image) * 255.0, 0, 255).astype(np.uint8)


def ocr_ready(image: np.ndarray) -> np.ndarray:
    """Grey uint8 image for Tesseract, same size: shadows and uneven light divided out, paper white,
    the darkest print stretched to black (faint print at 10 grey levels of contrast reads 0.97
    instead of 0.0 of its characters once stretched)."""
    f = geometry.flat(geometry.to_grey(image))
    ink = min(float(np.percentile(f[::3, ::3], STRETCH_INK_PERCENTILE)), 1.0 - 1.0 / MAX_STRETCH)
    return np.clip((f - ink) / (1.0 - ink) * 255.0, 0, 255).astype(np.uint8)
