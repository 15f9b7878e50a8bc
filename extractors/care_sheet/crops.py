"""Crops for the operator: small PNGs of the zones that decide the care-sheet findings."""
from __future__ import annotations

from pathlib import Path

import cv2

from extractors.care_sheet.ink import InkMap, crop
from extractors.care_sheet.layout import diagnosis_box, mm_box, zone_px
from extractors.care_sheet.vet import VetBoxReading
from extractors.care_sheet.zone_text import zone_box_mm

CROP_MARGIN_MM = 2.0  # around each zone, so the operator sees the printed box and what spills over it
MOTIF_ROW_MM = (56.0, 135.0, 150.0, 143.0)  # the three motif boxes and their labels (mm), cropped as one row
# the fields the dossier's checks compare (validators.consistency): a finding shows the sheet's value as written
CHECKED_FIELD_ZONES = ("contract_number", "animal_name", "consultation_date", "first_symptoms_date", "total_ttc")


def write_crops(ink: InkMap, vet: VetBoxReading | None, crops_dir: Path) -> dict[str, str]:
    """Small PNGs of the zones that decide the findings (form frame, white-balanced), and the vet box
    analysis: {crop name: path}."""
    crops_dir.mkdir(parents=True, exist_ok=True)
    boxes = {
        "motif": mm_box(MOTIF_ROW_MM, CROP_MARGIN_MM),
        "diagnosis": mm_box(diagnosis_box(), CROP_MARGIN_MM),
        "owner_date": zone_px("owner_date", margin_mm=CROP_MARGIN_MM),
        "owner_signature": zone_px("owner_signature", margin_mm=CROP_MARGIN_MM),
        "vet_date": zone_px("vet_date", margin_mm=CROP_MARGIN_MM),
        "vet_stamp_signature": vet.box if vet else zone_px("vet_stamp_signature", margin_mm=CROP_MARGIN_MM),
    }
    boxes |= {z: mm_box(zone_box_mm(z), CROP_MARGIN_MM) for z in CHECKED_FIELD_ZONES}  # the box the reader read
    out = {}
    for name, box in boxes.items():
        path = crops_dir / f"{name}.png"
        cv2.imwrite(str(path), crop(ink.balanced, box))
        out[name] = str(path)
    if vet is not None:
        # what the reading saw: green = explained by the stamp (frame, text), red = the signature's ink
        view = crop(ink.balanced, vet.box).copy()
        for layer in vet.signature_layers:
            view[layer.explained] = (40, 160, 40)
            if layer.signature:
                view[layer.unexplained] = (40, 40, 220)
        path = crops_dir / "vet_stamp_signature_analyse.png"
        cv2.imwrite(str(path), view)
        out["vet_stamp_signature_analyse"] = str(path)
    return out
