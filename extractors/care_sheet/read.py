"""Care-sheet checks located on our form: register, subtract the blank, measure ink zone by zone.

`read_care_sheet(page, settings)` -> CareSheetFacts. Every flag comes from the
pixels of one zone of layout.json (no full-page OCR); a flag that cannot be
measured (page not registered, zone out of the photo) stays None. Each
measurement is written to `notes` as "<flag>: <what was measured>" for the
operator, and the crops of the zones that decided go to `crops_dir`.
"""
from __future__ import annotations

import logging
import time
from datetime import date
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from extractors.care_sheet import digits
from extractors.care_sheet.crops import write_crops
from extractors.care_sheet.fields import read_fields
from extractors.care_sheet.form import Registration, _orb_blank, landmarks, register_cached
from extractors.care_sheet.ink import InkMap, _blank_darkness, blobs, crop, ink_map, stroke_mm, visible_share
from extractors.care_sheet.layout import PX_PER_MM, diagnosis_box, mm_box, zone_px, zones
from extractors.care_sheet.qr import qr_on_sheet
from extractors.care_sheet.vet import VetBoxReading, confidence, read_vet_box, write_decision_crops
from extractors.pages.normalise import footprint
from extractors.pages.ocr import OcrEngine, engine_for
from core.records import CareSheetFacts, Page
from core.settings import Settings

log = logging.getLogger(__name__)

# --- tunable thresholds (bench/calibrate_care_sheet.py measures them; docs/care_sheet.md) -----------------
ZONE_MIN_VISIBLE = 0.95  # share of a zone the page image must cover for its flag to be decided (less: unseen, not empty)
TICK_INSET_MM = 0.4  # measure a checkbox inside its printed square, this far in (clear of the square's line and its residue)
TICK_MIN_FILL = 0.12  # share of the box's inside inked: ticked (a filled box, a thick pen) ...
TICK_REACH_MM = 2.5  # ... or a stroke: followed this far around the printed square (a tick overflows its box)
TICK_MIN_STROKE = 0.9  # stroke length (skeleton, mm) in that window / the box's side: a tick, whatever the pen
TICK_MIN_INSIDE = 0.03  # ... that inks at least this share of the box's inside (a mark beside the box is not a tick)
TICK_EDGE_MM = 1.2  # a thin piece parallel to the square, this close to it (the square's line misregistered), ...
TICK_RESIDUE_THICK_MM = 0.7  # ... and at most this thick: registration residue, not a tick
DIAGNOSIS_MIN_MM2 = 5.5  # ink on the diagnosis lines (mm², dust left out): written (a short word ~7, a stray mark ~1-2)
DATE_MIN_MM2 = 5.0  # ink in a date comb: filled (two digits make ~8 mm², a stray mark ~1)
DATE_MARGIN_MM = 0.6  # the comb is read this much wider: handwritten digits overflow their cells
CELL_INSET_MM = 0.5  # for the note only: a comb cell counts as written with ink this far inside its border ...
CELL_MIN_MM2 = 0.3  # ... of at least this area (more than a speck of registration residue)
OWNER_SIGNATURE_MIN_MM2 = 9.0  # ink in the owner's writing area (bench, 12 calib sheets: blank ~0, signed ≥ 27) ...
OWNER_SIGNATURE_MIN_SPAN_MM = 5.0  # ... spread over at least this width (a blot or a dot is not a signature)
OWNER_SIGNATURE_INSET_MM = 0.6  # the writing area is read this far inside its printed frame
LAYOUT_SHARE_FULL = 0.8  # landmark share at which looks_like_care_sheet reaches 1.0 (how it was chosen is not recorded)

MOTIF_ZONES = ("motif_accident", "motif_maladie", "motif_prevention")  # the form's three motif boxes (layout.json)
FLAGS = ("motif_ticked", "diagnosis_written", "owner_date", "vet_date", "owner_signature", "vet_stamp",
         "vet_signature")  # the flags a zone decides, in the order of their notes


@dataclass
class Measures:
    """Everything measured on one sheet (bench/calibrate_care_sheet.py reads this)."""

    tick_fill: dict[str, float] = field(default_factory=dict)
    tick_stroke: dict[str, float] = field(default_factory=dict)  # stroke length around the box / box side
    motif_score: float | None = None  # the most ticked-looking motif box's measure over its threshold (>= 1: ticked)
    diagnosis_mm2: float | None = None
    owner_date_mm2: float | None = None
    vet_date_mm2: float | None = None
    owner_sig_mm2: float | None = None
    owner_sig_span_mm: float | None = None
    vet: VetBoxReading | None = None
    fields: dict = field(default_factory=dict)  # field -> FieldReading (extractors.care_sheet.fields)
    timings_ms: dict[str, float] = field(default_factory=dict)


def prepare() -> None:
    """Build now what reading a sheet builds on first use: the digit model (~2.7 s CPU), the blank form's
    landmarks, features and darkness. A process that forks one child per dossier calls it first, so
    each child inherits them instead of building its own (pipeline.dossier.warm_up)."""
    digits.model()
    landmarks()
    _orb_blank()
    _blank_darkness()
    zones()


def looks_like_care_sheet(image: np.ndarray) -> float:
    """0..1: how surely this page is our form, by layout alone (fiducials, landmarks matched on the blank)."""
    reg = register_cached(image)
    score = min(1.0, reg.landmark_share / LAYOUT_SHARE_FULL)
    return round(score if reg.ok else min(score, 0.3), 3)


def _captured_only(reg: Registration, page: Page) -> Registration:
    """The registration with only the form pixels the capture shows marked valid: the corners a deskew
    filled in are not a blank zone of the form but an unseen one."""
    poly = footprint(page)
    if poly is None:
        return reg
    on_form = cv2.perspectiveTransform(poly.reshape(-1, 1, 2).astype(np.float64), reg.homography).reshape(-1, 2)
    seen = np.zeros(reg.valid.shape, np.uint8)
    cv2.fillPoly(seen, [np.round(on_form).astype(np.int32)], 1)
    return replace(reg, valid=reg.valid & (seen > 0))


def read_care_sheet(page: Page, settings: Settings, *, expected_contract: str | None = None,
                    expected_animal: str | None = None, crops_dir: Path | None = None,
                    measures: Measures | None = None, engine: OcrEngine | None = None,
                    submitted: date | None = None) -> CareSheetFacts:
    """A page of our form -> its CareSheetFacts (the QR code compared with the manifest's contract and
    animal, when given); see the module docstring. `measures`, when given, receives every measurement;
    `engine` reads the fields' zones (default: `settings`' engine in care_sheet_ocr_languages); `submitted`,
    the day the dossier was sent, is the fields' prior for the visit's dates."""
    m = measures if measures is not None else Measures()
    t0 = time.perf_counter()
    reg = register_cached(page.image)
    m.timings_ms["register"] = (time.perf_counter() - t0) * 1000
    if not reg.ok:
        log.info("%s: care sheet not registered (%s)", page.ref, reg.note)
        return CareSheetFacts(registered=False, registration_error_mm=reg.error_mm,
                              notes=(f"registration: {reg.note}",))
    t1 = time.perf_counter()
    reg = _captured_only(reg, page)
    ink = ink_map(reg.form_image, reg.valid)
    notes = [f"registration: {reg.method}, {reg.landmarks} repères, erreur {reg.error_mm:.2f} mm"]
    flags: dict[str, bool | None] = {}
    for name, value, note in [*_read_medical(ink, m), *_read_dates(ink, m), *_read_owner_signature(ink, m)]:
        flags[name] = value
        notes.append(note)
    if flags.get("motif_ticked") is not None and flags.get("diagnosis_written") is not None:
        flags["medical_section_complete"] = flags["motif_ticked"] and flags["diagnosis_written"]
    medical_confidence = _medical_confidence(flags, m)
    t2 = time.perf_counter()
    for name, value, note in _read_vet(ink, m):
        flags[name] = value
        notes.append(note)
    t3 = time.perf_counter()

    t_fields = time.perf_counter()
    engine = engine or engine_for(settings, languages=settings.care_sheet_ocr_languages)
    m.fields = read_fields(ink, engine, lambda z: _tick(ink, z), submitted)
    m.timings_ms["fields"] = (time.perf_counter() - t_fields) * 1000
    notes += [f"{name}: {r.how}" for name, r in m.fields.items() if r.how and name not in ("vet_name",)]
    qr_payload, qr_match, qr_note = qr_on_sheet(page.image, reg, ink, expected_contract, expected_animal)
    if qr_note:
        notes.append(f"qr: {qr_note}")
    notes += [f"{name}: zone hors de l'image, non vérifiée" for name in FLAGS if name not in flags]
    crops = write_crops(ink, m.vet, crops_dir) if crops_dir is not None else {}
    if crops_dir is not None and m.vet is not None:  # the crops that decided the vet box's flags
        crops.update(write_decision_crops(crop(ink.balanced, m.vet.box), m.vet, crops_dir))
    t4 = time.perf_counter()
    m.timings_ms.update(zones=(t2 - t1) * 1000, vet_box=(t3 - t2) * 1000, qr_crops=(t4 - t3) * 1000,
                        total=(t4 - t0) * 1000)
    return CareSheetFacts(
        vet_stamp=flags.get("vet_stamp"), vet_signature=flags.get("vet_signature"),
        owner_signature=flags.get("owner_signature"), medical_section_complete=flags.get("medical_section_complete"),
        motif_ticked=flags.get("motif_ticked"), diagnosis_written=flags.get("diagnosis_written"),
        owner_date=flags.get("owner_date"), vet_date=flags.get("vet_date"),
        registered=True, registration_error_mm=reg.error_mm, qr_payload=qr_payload, qr_matches_manifest=qr_match,
        crops=crops, notes=tuple(notes), fields={k: r.value for k, r in m.fields.items()},
        field_confidence={k: r.confidence for k, r in m.fields.items()},
        vet_stamp_confidence=m.vet.stamp_confidence if m.vet and flags.get("vet_stamp") is not None else None,
        vet_signature_confidence=(m.vet.signature_confidence if m.vet and flags.get("vet_signature") is not None
                                  else None),
        medical_section_complete_confidence=medical_confidence,
        total_digits=m.fields["total_ttc"].digits if "total_ttc" in m.fields else ())


# --- the zones: each reader returns (flag, value, note) for the flags whose zone the picture shows ----------


def _visible(ink: InkMap, box) -> bool:
    return visible_share(ink.valid, box) >= ZONE_MIN_VISIBLE


def _read_medical(ink: InkMap, m: Measures) -> list[tuple[str, bool, str]]:
    """The medical part: a motif box ticked, the diagnosis written."""
    out = []
    boxes = {z: zone_px(z, margin_mm=-TICK_INSET_MM) for z in MOTIF_ZONES}
    if all(_visible(ink, b) for b in boxes.values()):
        for z, b in boxes.items():
            seen = ~crop(ink.blind, b)
            m.tick_fill[z] = float((crop(ink.ink, b) & seen).sum() / max(1, seen.sum()))
            m.tick_stroke[z] = _tick_stroke(ink, z)
        m.motif_score = max(_tick_score(m.tick_fill[z], m.tick_stroke[z]) for z in MOTIF_ZONES)
        out.append(("motif_ticked", m.motif_score >= 1.0, "motif_ticked: encre dans les cases " + ", ".join(
            f"{z.split('_')[1]} {m.tick_fill[z]:.0%} (trait {m.tick_stroke[z]:.1f} côtés)" for z in MOTIF_ZONES)
            + f" (cochée dès {TICK_MIN_FILL:.0%}, ou un trait de {TICK_MIN_STROKE} côté avec "
              f"{TICK_MIN_INSIDE:.0%} dans la case)"))
    diag = mm_box(diagnosis_box())
    if _visible(ink, diag):
        m.diagnosis_mm2, span = _ink_and_span(ink, diag)
        out.append(("diagnosis_written", m.diagnosis_mm2 >= DIAGNOSIS_MIN_MM2,
                    f"diagnosis_written: {m.diagnosis_mm2:.1f} mm² d'écriture sur {span:.0f} mm des lignes "
                    f"du diagnostic (seuil {DIAGNOSIS_MIN_MM2} mm²)"))
    return out


def _tick_score(fill: float, stroke: float) -> float:
    """A checkbox's marks over the tick criterion: >= 1 exactly when it is ticked (fill >= TICK_MIN_FILL, or a
    stroke >= TICK_MIN_STROKE with fill >= TICK_MIN_INSIDE); how far from 1 says how clear-cut it is."""
    return max(fill / TICK_MIN_FILL, min(stroke / TICK_MIN_STROKE, fill / TICK_MIN_INSIDE))


def _medical_confidence(flags: dict[str, bool | None], m: Measures) -> float | None:
    """How sure medical_section_complete is (None when it is): each part's measure against its threshold
    (vet.confidence: 0.5 at it, 1.0 at SURE_RATIO over or under). Complete rests on both parts; incomplete on
    any part found missing (the surest of them: one is enough for the finding)."""
    complete = flags.get("medical_section_complete")
    if complete is None or m.motif_score is None or m.diagnosis_mm2 is None:
        return None
    parts = {"motif_ticked": confidence(m.motif_score), "diagnosis_written": confidence(m.diagnosis_mm2 / DIAGNOSIS_MIN_MM2)}
    if complete:
        return min(parts.values())
    return max(c for name, c in parts.items() if flags.get(name) is False)


def _read_dates(ink: InkMap, m: Measures) -> list[tuple[str, bool, str]]:
    """The owner's and the vet's date combs: filled or not."""
    out = []
    for z, attr in (("owner_date", "owner_date_mm2"), ("vet_date", "vet_date_mm2")):
        b = zone_px(z, margin_mm=DATE_MARGIN_MM)
        if _visible(ink, b):
            mm2, _ = _ink_and_span(ink, b)
            setattr(m, attr, mm2)
            out.append((z, mm2 >= DATE_MIN_MM2, f"{z}: {mm2:.1f} mm² d'encre dans les cases de la date, "
                                                f"{_cells_inked(ink, z)}/8 cases (seuil {DATE_MIN_MM2} mm²)"))
    return out


def _read_owner_signature(ink: InkMap, m: Measures) -> list[tuple[str, bool, str]]:
    """The owner's signature: enough ink, spread wide enough, in the writing area."""
    b = zone_px("owner_signature", "writing_area", margin_mm=-OWNER_SIGNATURE_INSET_MM)
    if not _visible(ink, b):
        return []
    m.owner_sig_mm2, m.owner_sig_span_mm = _ink_and_span(ink, b)
    signed = m.owner_sig_mm2 >= OWNER_SIGNATURE_MIN_MM2 and m.owner_sig_span_mm >= OWNER_SIGNATURE_MIN_SPAN_MM
    return [("owner_signature", signed,
             f"owner_signature: {m.owner_sig_mm2:.1f} mm² d'encre dans le cadre, sur {m.owner_sig_span_mm:.0f} mm "
             f"(seuils {OWNER_SIGNATURE_MIN_MM2} mm², {OWNER_SIGNATURE_MIN_SPAN_MM} mm)")]


def _read_vet(ink: InkMap, m: Measures) -> list[tuple[str, bool, str]]:
    """The vet box: stamp and signature, separately (extractors.care_sheet.vet)."""
    if not _visible(ink, zone_px("vet_stamp_signature")):
        return []
    m.vet = read_vet_box(ink)
    return [("vet_stamp", m.vet.stamp, f"vet_stamp: {m.vet.stamp_evidence}"),
            ("vet_signature", m.vet.signature, f"vet_signature: {m.vet.signature_evidence}")]


def _tick(ink: InkMap, zone_id: str) -> tuple[bool, float]:
    """A checkbox of any group (species, surgery, motif): ticked by the motif's criterion, and a score
    (fill + stroke) to tell two marked boxes apart."""
    b = zone_px(zone_id, margin_mm=-TICK_INSET_MM)
    seen = ~crop(ink.blind, b)
    fill = float((crop(ink.ink, b) & seen).sum() / max(1, seen.sum()))
    stroke = _tick_stroke(ink, zone_id)
    return _tick_score(fill, stroke) >= 1.0, fill * 5 + stroke


def _tick_stroke(ink: InkMap, zone_id: str) -> float:
    """Length of the pen strokes (skeleton) in and around a checkbox, in box sides.

    A thin ballpoint tick inks little of the box but runs across it, often beyond it; measured on the
    stroke's centre line it weighs the same whatever the pen. Dust (under 0.9 mm) and thin straight
    pieces hugging the printed square (registration residue) are left out.
    """
    x0, y0, x1, y1 = zones()[zone_id]["bbox"]
    side = min(x1 - x0, y1 - y0)
    win = mm_box([x0, y0, x1, y1], TICK_REACH_MM)
    mask = crop(ink.ink, win)
    parts, labels = blobs(mask)
    keep = np.zeros(mask.shape, bool)
    sq = mm_box([x0, y0, x1, y1])
    edge = TICK_EDGE_MM * PX_PER_MM
    for i, p in enumerate(parts):
        comp = labels[p.y:p.y + p.h, p.x:p.x + p.w] == i + 1
        gx, gy = p.x + win[0], p.y + win[1]
        thin = TICK_RESIDUE_THICK_MM * PX_PER_MM
        # a thin piece lying along a side of the square (horizontal near the top or bottom, vertical near a side)
        along_h = p.h <= thin and p.w >= 3 * p.h and min(abs(gy + p.h / 2 - sq[1]), abs(gy + p.h / 2 - sq[3])) <= edge
        along_v = p.w <= thin and p.h >= 3 * p.w and min(abs(gx + p.w / 2 - sq[0]), abs(gx + p.w / 2 - sq[2])) <= edge
        if along_h or along_v:
            continue
        keep[p.y:p.y + p.h, p.x:p.x + p.w] |= comp
    return stroke_mm(keep) / side if keep.any() else 0.0


def _ink_and_span(ink: InkMap, box) -> tuple[float, float]:
    """Ink area (mm², dust left out) in a box, and the horizontal span it covers (mm)."""
    parts, _ = blobs(crop(ink.ink, box))
    if not parts:
        return 0.0, 0.0
    span = (max(p.x + p.w for p in parts) - min(p.x for p in parts)) / PX_PER_MM
    return sum(p.area for p in parts) / PX_PER_MM**2, span


def _cells_inked(ink: InkMap, zone_id: str) -> int:
    cells = zones()[zone_id]["cells"]
    return sum(crop(ink.ink, mm_box(c, -CELL_INSET_MM)).sum() >= CELL_MIN_MM2 * PX_PER_MM**2 for c in cells)
