"""Zone OCR on a registered care sheet: each zone's ink, blank subtracted, read by the OCR engine.

Every text zone of layout.json that a field needs is cut out of the form frame (never the whole
sheet), the blank form's print taken away (`InkMap.excess`: the darkness the blank does not explain,
so box borders, captions, comb separators and dotted rules are gone), scaled up, and laid out one
zone per row in a single small image: one OCR call per sheet instead of one per zone (a Tesseract
start costs more than the reading of a few words). Each word is handed back to the zone whose row
holds it, in reading order.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.records import Word
from extractors.care_sheet.comb import comb_ink
from extractors.care_sheet.ink import InkMap, crop, visible_share
from extractors.care_sheet.layout import PX_PER_MM, mm_box, zones
from extractors.pages.ocr import OcrEngine

SCALE = 2.5  # form frame (5.9 px/mm) -> ~15 px/mm: handwriting 3-4 mm high becomes 45-60 px, what the LSTM reads best
ROW_GAP_MM = 4.0  # white between two zones' rows: Tesseract never joins them into one line
ABOVE_MM, BELOW_MM = 1.6, 1.0  # handwriting rises above a field's box and its descenders fall below it
SIDE_MM = 1.0
INK_GAIN = 1.6  # excess darkness -> black: pale ballpoint strokes read as well as dark ones
ZONE_MIN_VISIBLE = 0.95  # as read.py: a zone the capture does not show is not read
LINE_PSM = 11  # sparse text: each word on its own (psm 6, one uniform block, misread whole rows when the rows differ in size)


@dataclass(frozen=True, slots=True)
class ZoneText:
    """What the OCR read in one zone: its words (boxes in mosaic pixels) in reading order."""

    zone: str
    words: tuple[Word, ...]
    seen: bool  # False: the zone lies (partly) outside the capture, nothing was read

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def confidence(self) -> float:
        """The mean word confidence, 0..1 (0 without words)."""
        return float(np.mean([w.conf for w in self.words])) / 100.0 if self.words else 0.0


def zone_box_mm(zone_id: str, line: int | None = None) -> list[float]:
    """The box (mm) read for a zone: its bbox with room for handwriting around it, or one ruled line
    (`line` index) of a ruled zone (diagnosis, acts): from the line above to just below this one."""
    z = zones()[zone_id]
    x0, y0, x1, y1 = z["bbox"]
    if line is not None:
        ys = z["line_y"]
        top = ys[line] - z["line_pitch"] + 0.4
        return [x0, top, x1, ys[line] + BELOW_MM]
    return [x0 - SIDE_MM, y0 - ABOVE_MM, x1 + SIDE_MM, y1 + BELOW_MM]


def clean_crop(ink: InkMap, box_mm: list[float], comb: bool = False) -> np.ndarray:
    """The zone as black ink on white paper, the blank's print subtracted, scaled by SCALE (grey uint8);
    `comb`: a comb field, whose ink over the cells' lines is recovered (extractors.care_sheet.comb)."""
    box = mm_box(box_mm)
    excess = (comb_ink(ink, box)[0] if comb else crop(ink.excess, box)).astype(np.float32)
    grey = np.clip(255.0 - INK_GAIN * excess, 0, 255).astype(np.uint8)
    grey[~crop(ink.valid, box)] = 255
    return cv2.resize(grey, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)


def read_zones(ink: InkMap, engine: OcrEngine, wanted: dict[str, list[float]],
               combs: frozenset[str] = frozenset()) -> dict[str, ZoneText]:
    """{name: box in mm} -> {name: ZoneText}: the zones stacked into one image, read once, words handed
    back; the zones named in `combs` are comb fields (clean_crop)."""
    rows, names, out = [], [], {}
    for name, box_mm in wanted.items():
        seen = visible_share(ink.valid, mm_box(box_mm)) >= ZONE_MIN_VISIBLE
        if not seen:
            out[name] = ZoneText(name, (), False)
            continue
        rows.append(clean_crop(ink, box_mm, name in combs))
        names.append(name)
    if not rows:
        return out
    gap = int(ROW_GAP_MM * PX_PER_MM * SCALE)
    width = max(r.shape[1] for r in rows) + 2 * gap
    height = sum(r.shape[0] for r in rows) + gap * (len(rows) + 1)
    mosaic = np.full((height, width), 255, np.uint8)
    spans, y = [], gap
    for r in rows:
        mosaic[y:y + r.shape[0], gap:gap + r.shape[1]] = r
        spans.append((y, y + r.shape[0]))
        y += r.shape[0] + gap
    words = engine.read(mosaic, psm=LINE_PSM).words
    found: dict[str, list[Word]] = {n: [] for n in names}
    for w in words:
        cy = w.top + w.height / 2
        for n, (a, b) in zip(names, spans):
            if a <= cy < b:
                found[n].append(w)
                break
    for n in names:
        ws = sorted(found[n], key=lambda w: w.left)
        out[n] = ZoneText(n, tuple(ws), True)
    return out
