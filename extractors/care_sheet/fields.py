"""The care sheet's fields (contract §5), read zone by zone on the registered sheet.

`read_fields(ink, engine, tick)` -> {field: FieldReading}. Never the whole sheet:
- ticks by pixels (`tick(zone) -> (ticked, score)`, the measure read.py uses for the motif): which
  box of a group (species, surgery, motif) holds the mark;
- dates in comb cells cell by cell (extractors.care_sheet.digits), then, for a date written across
  the comb ("13/11/17"), the comb's OCR text; validated as a real, plausible date;
- the other zones by one OCR call over all of them (extractors.care_sheet.zone_text), then parsed
  and validated per field (contract numbers, chip / tattoo, Ordre numbers, amounts);
- the fee lines counted by the ink in the amount column of the fees table.
A field that cannot be read is None with confidence 0; one whose zone holds no ink is None with
confidence 1 (surely empty). The owner's name and address are not read.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from extractors.care_sheet import digits
from extractors.care_sheet.amounts import read_amount
from extractors.care_sheet.comb import across_cells, comb_ink
from extractors.care_sheet.ink import InkMap, blobs, crop, visible_share
from extractors.care_sheet.layout import PX_PER_MM, mm_box, zones
from extractors.care_sheet.parse import (parse_amount, parse_animal_id, parse_contract, parse_date_text,
                                         parse_ordre, tidy_text)
from extractors.care_sheet.zone_text import ZoneText, read_zones, zone_box_mm
from extractors.pages.ocr import OcrEngine

CELL_REACH_MM = 0.9  # a handwritten digit overflows its comb cell by this much
CELL_SPECK_MM = 0.5  # smaller ink pieces around a cell are dust
EMPTY_MIN_MM2 = 1.2  # below this much ink (mm², dust left out) a zone is empty
FEE_ROW_MIN_MM2 = 2.0  # ink in a fee row's amount cell for the row to count (an amount is 8+ mm²)
# Tesseract's word confidence on handwritten digits promises more than it keeps (dev set, seed 23: 2 of 7
# totals read with a confidence >= 0.6 were wrong): alone, it counts for this share
OCR_HAND_DIGITS = 0.8
# the two readers of the total disagreeing, the glyphs' confidence (a product over 5-6 digits) is set against
# this share of the OCR's (one word's): dev seed 31, the glyphs were right in 8 of 12 disagreements the OCR won
GLYPHS_VS_OCR = 0.25
LONE_MARK_MIN = 0.9  # tick score (read._tick: 5 x fill + stroke in box sides) of a stroke around one box ...
LONE_MARK_OTHERS = 0.3  # ... when the group's other boxes have next to nothing around them
TICK_GROUPS = {"species": ("species_dog", "species_cat"), "surgery": ("surgery_yes", "surgery_no"),
               "motif": ("motif_accident", "motif_maladie", "motif_prevention")}
TICK_VALUES = {"species_dog": "chien", "species_cat": "chat", "surgery_yes": "yes", "surgery_no": "no",
               "motif_accident": "accident", "motif_maladie": "maladie", "motif_prevention": "prevention"}
DATE_ZONES = {"animal_birth_date": "animal_birth_date", "consultation_date": "consultation_date",
              "first_symptoms_date": "first_symptoms_date", "owner_date": "owner_date", "vet_date": "vet_date"}
TEXT_ZONES = {"contract_number": "contract_number", "animal_name": "animal_name", "animal_id": "animal_identification",
              "total_ttc": "total_ttc", "vet_name": "vet_name", "vet_ordre_number": "vet_ordre_number"}
RULED = {"diagnosis": 1, "acts": 2}  # ruled zones and how many of their lines are read (the rest is rarely used)
# the span of years a date of each kind may take (validation: a real date, and a plausible one)
DATE_YEARS = {"animal_birth_date": (1985, 2030)}
DEFAULT_YEARS = (2000, 2035)
# the dates of the visit (not the birth) are a priori near the submission: a Laplace prior of this scale
VISIT_DATES = ("consultation_date", "first_symptoms_date", "owner_date", "vet_date")
VISIT_PRIOR_DAYS = 365.0
FIELDS = ("contract_number", "animal_name", "species", "animal_birth_date", "animal_id", "consultation_date",
          "first_symptoms_date", "surgery", "motif", "diagnosis", "acts", "fee_lines", "total_ttc", "vet_name",
          "vet_ordre_number", "owner_date", "vet_date")

Tick = Callable[[str], tuple[bool, float]]


@dataclass(frozen=True, slots=True)
class FieldReading:
    """One field: its value in the contract's form (ISO date, dotted amount, ...) or None, and how sure (0..1)."""

    value: str | None
    confidence: float
    how: str = ""  # for the operator's notes: what decided
    digits: tuple[tuple[float, ...], ...] = ()  # an amount's glyphs: each digit's probabilities (amounts.Amount)


def read_fields(ink: InkMap, engine: OcrEngine, tick: Tick, reference: date | None = None) -> dict[str, FieldReading]:
    """Every field of FIELDS whose zone the capture shows (module docstring); `reference`, the day the
    dossier was sent, makes visit dates near it a priori likelier."""
    out: dict[str, FieldReading] = {}
    for group, ids in TICK_GROUPS.items():
        if all(visible_share(ink.valid, mm_box(zones()[z]["bbox"], 1.0)) >= 0.95 for z in ids):
            out[group] = _ticked(ids, tick)
    wanted = {name: zone_box_mm(z) for name, z in TEXT_ZONES.items()}
    wanted |= {name: zone_box_mm(z) for name, z in DATE_ZONES.items()}
    for name, n in RULED.items():
        wanted |= {f"{name}#{i}": zone_box_mm(name, i) for i in range(n)}
    inked = {name: _ink_mm2(ink, box) for name, box in wanted.items()}
    texts = read_zones(ink, engine, {n: b for n, b in wanted.items() if inked[n] >= EMPTY_MIN_MM2},
                       frozenset(DATE_ZONES) | {"total_ttc"})
    for name, z in DATE_ZONES.items():
        prior = (reference, VISIT_PRIOR_DAYS) if name in VISIT_DATES else (None, None)
        out[name] = _date(ink, z, texts.get(name), inked[name], DATE_YEARS.get(name, DEFAULT_YEARS), *prior)
    for name in TEXT_ZONES:
        zt = texts.get(name)
        if inked[name] < EMPTY_MIN_MM2:
            out[name] = FieldReading(None, 1.0, "vide")
        elif zt is None or not zt.seen:
            continue
        else:
            out[name] = _parse_text(name, zt)
    if "total_ttc" in out and out["total_ttc"].how != "vide":
        out["total_ttc"] = _total(ink, out["total_ttc"])
    for name, n in RULED.items():
        parts = [texts.get(f"{name}#{i}") for i in range(n)]
        if all(inked[f"{name}#{i}"] < EMPTY_MIN_MM2 for i in range(n)):
            out[name] = FieldReading(None, 1.0, "vide")
            continue
        seen = [p for p in parts if p is not None and p.words]
        text = tidy_text(", ".join(p.text for p in seen))
        out[name] = FieldReading(text or None, min((p.confidence for p in seen), default=0.0), "ocr")
    fees = _fee_lines(ink)
    if fees is not None:
        out["fee_lines"] = fees
    return out


def _ink_mm2(ink: InkMap, box_mm: list[float]) -> float:
    parts, _ = blobs(crop(ink.ink, mm_box(box_mm)))
    return sum(p.area for p in parts) / PX_PER_MM**2


def _ticked(ids: tuple[str, ...], tick: Tick) -> FieldReading:
    """Which box of a group holds the mark: the only ticked one; two ticked -> the stronger, less sure."""
    marks = {z: tick(z) for z in ids}
    ticked = sorted((z for z in ids if marks[z][0]), key=lambda z: -marks[z][1])
    if not ticked:
        # a tick drawn mostly outside its box (little ink inside): the only box with a stroke around it
        near = [z for z in ids if marks[z][1] >= LONE_MARK_MIN]
        if len(near) == 1 and all(marks[z][1] < LONE_MARK_OTHERS for z in ids if z != near[0]):
            return FieldReading(TICK_VALUES[near[0]], 0.8, f"trait près de la seule case {near[0]}")
        return FieldReading(None, 0.9, "aucune case cochée")
    if len(ticked) == 1:
        return FieldReading(TICK_VALUES[ticked[0]], 0.99, f"case {ticked[0]}")
    best, second = marks[ticked[0]][1], marks[ticked[1]][1]
    return FieldReading(TICK_VALUES[ticked[0]], 0.5 if best < 1.5 * second else 0.75,
                        "plusieurs cases cochées : " + ", ".join(ticked))


def comb_window(zone_id: str) -> tuple[int, int, int, int]:
    """The form px box around a comb that holds its digits and what they overflow."""
    return mm_box(zones()[zone_id]["bbox"], CELL_REACH_MM)


def _cell_mask(comb: np.ndarray, origin: tuple[int, int, int, int], cell_mm: list[float]) -> np.ndarray:
    """The ink of one comb cell (`comb`: the comb window's ink, comb.comb_ink): the pieces around it
    whose centre lies in the cell's columns."""
    x0, y0, x1, y1 = cell_mm
    win = mm_box(cell_mm, CELL_REACH_MM)
    mask = crop(comb, (win[0] - origin[0], win[1] - origin[1], win[2] - origin[0], win[3] - origin[1]))
    parts, labels = blobs(mask, CELL_SPECK_MM)
    keep = np.zeros(mask.shape, bool)
    lo, hi = (x0 * PX_PER_MM) - win[0], (x1 * PX_PER_MM) - win[0]
    for i, p in enumerate(parts):
        if lo <= p.x + p.w / 2 < hi:
            keep |= labels == i + 1
    return keep


def _date(ink: InkMap, zone_id: str, zt: ZoneText | None, inked_mm2: float, years: tuple[int, int],
          reference: date | None = None, scale_days: float | None = None) -> FieldReading:
    """A comb date: cell by cell (DDMMYYYY, or DDMMYY in the first six cells), else the comb's OCR text."""
    if inked_mm2 < EMPTY_MIN_MM2:
        return FieldReading(None, 1.0, "vide")
    window = comb_window(zone_id)
    _, comb = comb_ink(ink, window)
    cells = [digits.classify(_cell_mask(comb, window, c)) for c in zones()[zone_id]["cells"]]
    s = "".join(d.digit or "_" for d in cells)
    day, conf = digits.decode_date(cells, years, reference, scale_days)
    if day is None:  # the cells make no date: written across the comb ("13/11/17")?
        glyphs = across_cells(comb, digits.classify)
        if glyphs is not None:
            day, conf = digits.decode_date(glyphs, years, reference, scale_days)
            s = "".join(d.digit or "_" for d in glyphs) + " (écrite en travers)"
    text_day, text_conf = None, 0.0
    if zt is not None and zt.words:  # the comb's OCR: print (a pre-filled sheet) and dates written across it
        parsed = parse_date_text(zt.text)
        text_day = _valid(*parsed, years) if parsed else None
        text_conf = zt.confidence if text_day else 0.0
    if day is not None and text_day == day:  # two readers agree
        return FieldReading(day.isoformat(), round(1 - (1 - conf) * (1 - text_conf), 3), f"cases {s}, texte « {zt.text} »")
    if text_day is not None and text_conf > conf:  # the surer reader wins
        return FieldReading(text_day.isoformat(), round(text_conf * 0.9, 3), f"texte « {zt.text} » (cases {s})")
    if day is not None:
        return FieldReading(day.isoformat(), round(conf, 3), f"cases {s}")
    return FieldReading(None, 0.0, f"illisible (cases {s})")


def _valid(y: str, m: str, d: str, years: tuple[int, int]) -> date | None:
    try:
        day = date(int(y), int(m), int(d))
    except ValueError:
        return None
    return day if years[0] <= day.year <= years[1] else None


def _parse_text(name: str, zt: ZoneText) -> FieldReading:
    raw = zt.text
    parsers = {"contract_number": parse_contract, "animal_id": parse_animal_id, "vet_ordre_number": parse_ordre,
               "total_ttc": parse_amount}
    if name in parsers:
        value, sure = parsers[name](raw)
        return FieldReading(value, round(zt.confidence * sure, 3) if value else 0.0, f"ocr « {raw} »")
    value = tidy_text(raw)
    return FieldReading(value or None, round(zt.confidence, 3) if value else 0.0, "ocr")


def _total(ink: InkMap, ocr: FieldReading) -> FieldReading:
    """The total TTC by two readers, the OCR's text and the glyphs one by one: agreeing, the surer for
    it; disagreeing, the surer of the two at half its confidence."""
    amount = read_amount(ink, zone_box_mm("total_ttc"))
    glyphs, g_conf, dist = amount.value, amount.confidence, amount.digits
    ocr = FieldReading(ocr.value, round(ocr.confidence * OCR_HAND_DIGITS, 3), ocr.how)
    if glyphs is None:
        return ocr
    if ocr.value == glyphs:
        return FieldReading(glyphs, round(1 - (1 - ocr.confidence) * (1 - g_conf), 3), ocr.how + ", chiffres idem",
                            dist)
    if ocr.value is None or g_conf > GLYPHS_VS_OCR * ocr.confidence:
        return FieldReading(glyphs, round(g_conf * (0.5 if ocr.value else 1.0), 3), f"chiffres {glyphs} ({ocr.how})",
                            dist)
    return FieldReading(ocr.value, round(ocr.confidence * 0.5, 3), f"{ocr.how}, chiffres {glyphs}", dist)


def _fee_lines(ink: InkMap) -> FieldReading | None:
    """How many rows of the fees table carry an amount (ink in the row's amount cell)."""
    table = zones()["fees_table"]
    col = next(c for c in table["columns"] if c["id"] == "amount_ttc")["bbox"]
    rows = [[col[0], r[1], col[2], r[3]] for r in table["rows"]]
    if any(visible_share(ink.valid, mm_box(r)) < 0.95 for r in rows):
        return None
    inked = [_ink_mm2(ink, [r[0] + 0.5, r[1] + 0.4, r[2] - 0.5, r[3] - 0.4]) for r in rows]
    n = sum(v >= FEE_ROW_MIN_MM2 for v in inked)
    doubtful = sum(FEE_ROW_MIN_MM2 / 2 <= v < 2 * FEE_ROW_MIN_MM2 for v in inked)
    return FieldReading(str(n), 0.97 if not doubtful else 0.7, "encre par ligne " + ", ".join(f"{v:.0f}" for v in inked))
