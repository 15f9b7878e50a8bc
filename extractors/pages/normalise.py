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

from extractors.pages import geometry, sheet
from extractors.pages.ocr import OcrEngine, engine_for
from core.records import Capture, Page
from core.settings import Settings

log = logging.getLogger(__name__)

MM_PER_INCH = 25.4
A4_LONG_MM = 297.0
A4_SHORT_MM = 210.0
MIN_SIDE_PX = 64  # smaller images are left alone: too few pixels for a sheet, a text line or a tilt to show
OSD_MAX_PX = 1600  # OSD sees a copy this size at most (cost grows with pixels; docs/readability.md, OSD bench)
STRETCH_INK_PERCENTILE = 0.2  # ocr_ready maps this darkest share of pixels to black (sparse small print covers
# well under 1 % of a page: a higher share would land on paper)
MAX_STRETCH = 25.0  # ...but never multiplies contrast by more (a blank page stays a blank page)
# Ruling (table borders, boxes round the totals) hides whole table columns from Tesseract's page
# layout analysis: ruled cells read as a picture and their amounts vanish. A rule is a straight run of
# ink at least RULE_MIN_MM long (longer than any stroke of a letter up to ~30 pt) and at most
# RULE_MAX_MM thick (thinner than a bold stroke of a large title, thicker than a hairline blurred by
# a phone); it is painted paper-white before OCR. docs/invoices.md, "What Tesseract is given".
RULE_MIN_MM = 10.0
RULE_MAX_MM = 0.8
RULE_INK_LEVEL = 180  # grey level (of the stretched image: paper 255, print near 0) under which a pixel may
# belong to a rule, so that a thin rule's lighter, blurred pixels are taken in too
RULE_MAX_DENSITY = 0.5  # ...and only where ink covers less than this of the RULE_DENSITY_MM square around
RULE_DENSITY_MM = 4.0  # (a rule runs over paper; a filled band is not a rule)
# White print on a dark band (letterheads, table headers): the band is turned dark-on-light before
# OCR. A band is one connected dark area (under INVERSE_DARK of the paper's level) at least
# INVERSE_MIN_MM in both directions, mostly dark (INVERSE_MIN_FILL of its box), that encloses at least
# INVERSE_MIN_HOLES separate paper-bright marks (over INVERSE_LIGHT of the paper's level): letters
# printed in white. A shadow encloses nothing bright, a dark logo neither, a bold letter one or two
# counters at most.
INVERSE_DARK = 0.5
INVERSE_LIGHT = 0.75
INVERSE_MIN_MM = 4.0
INVERSE_MIN_FILL = 0.5
INVERSE_MIN_HOLES = 3
INVERSE_FILL_MM = 3.0  # the white print's strokes inside a band are closed over at this size (wider than a
# letter's stroke, so the whole band is inverted, print included)

UNSURE_ORIENTATION = "orientation_unsure"  # the step that tells OCR to check up/down (pipeline.dossier)
BLACK_PAGE_PAPER = 32  # lift_inverted: paper (95th percentile grey) under this is a black page, no bands to find


def orientation(image: np.ndarray, settings: Settings,
                ocr: OcrEngine | None = None) -> tuple[int, str, geometry.Layout]:
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
    osd = (ocr or engine_for(settings)).orientation(small)
    if osd is None or osd[1] < settings.osd_min_confidence:
        # Neither is sure: keep the page as uploaded (most are upright once EXIF is applied), turned only
        # by the quarter we are sure the lines need. Up or down is then settled by OCR (UNSURE_ORIENTATION).
        return base, "text", layout
    if sure_of_turn and osd[0] % 180:  # OSD contradicts a line direction we are sure of: keep ours
        return layout.rotation, "text", layout
    return (base + osd[0]) % 360, "osd", layout


def normalise_page(page: Page, settings: Settings, ocr: OcrEngine | None = None) -> Page:
    """A new Page, upright and flat: image (colour), transform (loaded px -> new px), steps, dpi.

    `ocr`: the engine asked for the orientation when the text lines do not tell (default: the one
    `settings` names). Text-layer PDF pages come back unchanged, and so do pages with too few pixels to
    show a sheet, a line or a tilt (MIN_SIDE_PX) and pages where no sheet, turn or tilt is found. Anything
    else that raises is a bug of ours: it propagates to the file's error boundary (PROCESSING_ERROR, logged).
    """
    if page.capture == Capture.PDF_TEXT:
        return page
    return _normalise(page, settings, ocr)


def _normalise(page: Page, settings: Settings, ocr: OcrEngine | None) -> Page:
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

    rotation, how, layout = orientation(img, settings, ocr)
    if rotation:
        img, m = geometry.rotate_quarter(img, rotation)
        transform = m @ transform
        steps.append(f"rotate_{rotation}" + ("_osd" if how == "osd" else ""))
    if layout.confidence < settings.orientation_min_confidence and how == "text":
        steps.append(UNSURE_ORIENTATION)  # neither method was sure which way is up: OCR may check it

    # A line's slope survives a half turn, so the layout's skew holds unless OSD turned a quarter more.
    lines = layout if (rotation - layout.rotation) % 180 == 0 else geometry.text_layout(img)
    if _tilted(lines, settings):
        skew = lines.skew_deg
        # lines down to the right: turn them back up (past a small tilt, keeping every corner)
        img, m = geometry.rotate_small(img, skew, expand=abs(skew) > settings.deskew_max_deg)
        transform = m @ transform
        steps.append(f"deskew_{skew:+.1f}")

    if not steps:
        return page
    h0, w0 = page.image.shape[:2]
    return dataclasses.replace(page, image=np.ascontiguousarray(img), transform=transform,
                               steps=page.steps + tuple(steps), dpi=float(dpi), source_size=(w0, h0))


def _tilted(layout: geometry.Layout, settings: Settings) -> bool:
    """Whether the text's tilt is one to turn back: any small one, a steeper one only when most of the
    text agrees on it (a few marks of a picture that line up do not tilt a page)."""
    skew = layout.skew_deg
    if skew is None or abs(skew) < settings.deskew_min_deg:
        return False
    if abs(skew) <= settings.deskew_max_deg:
        return True
    return abs(skew) <= settings.deskew_steep_max_deg and layout.skew_support >= settings.deskew_steep_min_support


def footprint(page: Page, shape: tuple[int, int] | None = None) -> np.ndarray | None:
    """The 4 corners (x, y; at `shape`, height x width, default the page image's) of the capture's own
    pixels in the page image, the rest being corners a deskew filled in; None when the
    capture covers the whole image (a loaded page, a quarter turn, a photo's sheet warped flat)."""
    if page.transform is None or page.source_size is None:
        return None
    w0, h0 = page.source_size
    corners = np.float32([[0, 0], [w0, 0], [w0, h0], [0, h0]]).reshape(-1, 1, 2)
    poly = cv2.perspectiveTransform(corners, page.transform).reshape(-1, 2)
    h, w = page.image.shape[:2]
    if shape is not None:
        poly *= (shape[1] / w, shape[0] / h)
        h, w = shape
    image_corners = np.float64([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    return None if geometry.inside(poly, image_corners, margin=0.0).all() else poly


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


def ocr_ready(image: np.ndarray, dpi: float | None = None) -> np.ndarray:
    """Grey uint8 image for Tesseract, same size: white-on-dark bands turned dark-on-light
    (`lift_inverted`), shadows and uneven light divided out, paper white, the darkest print stretched
    to black (faint print at 10 grey levels of contrast reads 0.97 instead of 0.0 of its characters
    once stretched), table rules erased (`erase_rules`). `dpi` is the image's resolution; unknown,
    the shorter side is taken for an A4 page's width."""
    if dpi is None or dpi <= 0:
        dpi = min(image.shape[:2]) / (A4_SHORT_MM / MM_PER_INCH)
    f = geometry.flat(lift_inverted(geometry.to_grey(image), dpi))
    ink = min(float(np.percentile(f[::3, ::3], STRETCH_INK_PERCENTILE)), 1.0 - 1.0 / MAX_STRETCH)
    grey = np.clip((f - ink) / (1.0 - ink) * 255.0, 0, 255).astype(np.uint8)
    return erase_rules(grey, dpi)


def lift_inverted(grey: np.ndarray, dpi: float) -> np.ndarray:
    """The grey page with each dark band that holds light print inverted (see INVERSE_*)."""
    paper = float(np.percentile(grey[::4, ::4], 95))
    if paper < BLACK_PAGE_PAPER:
        return grey  # a black page: nothing to tell bands from
    dark = (grey < INVERSE_DARK * paper).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    px_per_mm = dpi / MM_PER_INCH
    min_px = INVERSE_MIN_MM * px_per_mm
    fill = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, round(INVERSE_FILL_MM * px_per_mm)),) * 2)
    out = grey
    for i, (x, y, w, h, area) in enumerate(stats):
        if i == 0 or w < min_px or h < min_px or area < INVERSE_MIN_FILL * w * h:
            continue
        box = grey[y : y + h, x : x + w]
        own = (labels[y : y + h, x : x + w] == i).astype(np.uint8)
        if _bright_holes(own, box, INVERSE_LIGHT * paper) < INVERSE_MIN_HOLES:
            continue
        # the band and the print inside it (its holes), not the paper its box takes in beside it
        pad = fill.shape[0]
        band = cv2.morphologyEx(cv2.copyMakeBorder(own, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0),
                                cv2.MORPH_CLOSE, fill)[pad:-pad, pad:-pad] > 0
        edge = (cv2.dilate(band.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0) & ~band
        level = float(np.median(box[own > 0]))
        light = np.clip((box.astype(np.float32) - level) / max(1.0, paper - level), 0.0, 1.0)
        if out is grey:
            out = grey.copy()
        view = out[y : y + h, x : x + w]
        view[band] = (255 * (1.0 - light[band])).astype(np.uint8)  # band -> paper, its print -> ink
        view[edge] = 255
    return out


def _bright_holes(own: np.ndarray, box: np.ndarray, bright: float) -> int:
    """How many separate areas inside the component `own` (not reaching its box's border) hold a
    pixel brighter than `bright`."""
    n, labels = cv2.connectedComponents((own == 0).astype(np.uint8), connectivity=4)
    if n <= 1:
        return 0
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    lit = np.zeros(n, bool)
    lit[np.unique(labels[box > bright])] = True
    lit[0] = False  # the component itself
    lit[border] = False
    return int(np.count_nonzero(lit))


def erase_rules(grey: np.ndarray, dpi: float) -> np.ndarray:
    """The grey page with its horizontal and vertical rules painted white; letters are left alone
    (none has a straight stroke RULE_MIN_MM long and at most RULE_MAX_MM thick), and so are filled
    areas (RULE_MAX_DENSITY)."""
    px_per_mm = dpi / MM_PER_INCH
    long_px = max(15, round(RULE_MIN_MM * px_per_mm))
    thick_px = max(2, round(RULE_MAX_MM * px_per_mm) + 1)
    ink = (grey < RULE_INK_LEVEL).astype(np.uint8)
    rules = np.zeros_like(ink)
    for along, across in (((long_px, 1), (1, thick_px)), ((1, long_px), (thick_px, 1))):
        runs = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, along))
        thick = cv2.morphologyEx(runs, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, across))
        rules |= runs & (1 - thick)
    if not rules.any():
        return grey
    side = max(3, round(RULE_DENSITY_MM * px_per_mm))
    density = cv2.boxFilter(ink.astype(np.float32), -1, (side, side))
    rules &= (density < RULE_MAX_DENSITY).astype(np.uint8)
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8))  # the rule's anti-aliased edges too
    out = grey.copy()
    out[rules > 0] = 255
    return out
