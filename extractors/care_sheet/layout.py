"""Our care-sheet form's geometry: the zones of layout.json (mm) in form-frame pixels, and the blank.

The *form frame* is the blank form's own picture
(extractors/care_sheet/feuille_de_soins/feuille_de_soins_blank.png, 150 dpi): a
registered page is warped into it (extractors.care_sheet.form), where each zone
is a fixed rectangle.
"""
from __future__ import annotations

import functools
import json

import cv2
import numpy as np

from core.settings import FORM_DIR

FORM_DPI = 150.0  # the blank PNG's resolution: the frame every check works in
PX_PER_MM = FORM_DPI / 25.4  # 25.4 mm to the inch: about 5.9 px per mm
DESCENDER_MM = 0.6  # the diagnosis is read this far below its last printed line: the descenders of the last line


@functools.lru_cache(maxsize=1)
def zones() -> dict[str, dict]:
    """The zones of layout.json by id (bbox and friends in mm from the top-left corner)."""
    data = json.loads((FORM_DIR / "layout.json").read_text(encoding="utf-8"))
    return {z["id"]: z for z in data["zones"]}


def mm_box(box_mm, margin_mm: float = 0.0) -> tuple[int, int, int, int]:
    """A box [x0, y0, x1, y1] in mm -> form-frame pixels (x0, y0, x1, y1), grown by `margin_mm` (negative shrinks)."""
    x0, y0, x1, y1 = box_mm
    m = margin_mm
    return (int(round((x0 - m) * PX_PER_MM)), int(round((y0 - m) * PX_PER_MM)),
            int(round((x1 + m) * PX_PER_MM)), int(round((y1 + m) * PX_PER_MM)))


def zone_px(zone_id: str, key: str = "bbox", margin_mm: float = 0.0) -> tuple[int, int, int, int]:
    """A zone's box (or its `writing_area`, ...) in form-frame pixels."""
    return mm_box(zones()[zone_id][key], margin_mm)


def diagnosis_box() -> list[float]:
    """The diagnosis zone (mm), with room below its last line for the descenders."""
    x0, y0, x1, y1 = zones()["diagnosis"]["bbox"]
    return [x0, y0, x1, y1 + DESCENDER_MM]


@functools.lru_cache(maxsize=1)
def blank() -> np.ndarray:
    """The blank form in the form frame, BGR uint8."""
    img = cv2.imread(str(FORM_DIR / "feuille_de_soins_blank.png"), cv2.IMREAD_COLOR)
    if img is None:  # pragma: no cover - the file ships with the repo
        raise FileNotFoundError(FORM_DIR / "feuille_de_soins_blank.png")
    return img


@functools.lru_cache(maxsize=1)
def blank_grey() -> np.ndarray:
    """The blank form in the form frame, grey uint8."""
    return cv2.cvtColor(blank(), cv2.COLOR_BGR2GRAY)
