"""Fill the insurer's care-sheet form (FEUILLE DE SOINS) the way an owner and a vet do, on a raster of the blank.

The zones come from layout.json (mm from the top-left corner). What gets filled is decided by a
`CareSheetSpec`; the truth of the sheet is that spec, never what a reader later finds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

import numpy as np
import pypdfium2 as pdfium
import qrcode
from PIL import Image, ImageDraw, ImageFont

from .common import FORM_DIR, box_px, chance, font_path, fmt_amount, layout_zones, mm_to_px, money, pick
from .data import Case
from .ink import Hand, make_hand, tick, write, write_comb, write_in_box
from .signature import sign
from .stamp import stamp


@dataclass(frozen=True)
class CareSheetSpec:
    """What is on the sheet. `medical` is complete | blank | no_diagnosis | no_motif."""

    prefilled: bool = False
    owner_signature: bool = True
    owner_date: bool = True
    vet_date: bool = True
    consultation_date: bool = True
    vet_stamp: bool = True
    vet_signature: bool = True
    medical: str = "complete"

    @property
    def medical_complete(self) -> bool:
        return self.medical == "complete"

    @property
    def dated(self) -> bool:
        return self.owner_date or self.vet_date


@dataclass(frozen=True)
class SheetFill:
    """What the vet copies from elsewhere, and what a broken dossier gets wrong (gen/consistency.py).

    `invoice_lines`: (label, TTC) of the vet invoice of the same visit, so the sheet's fees add up to the
    invoice's total; `rng` draws only what differs from the plain sheet, so the rest is drawn as before."""

    rng: np.random.Generator
    invoice_lines: tuple[tuple[str, Decimal], ...] = ()
    invoice_total: Decimal | None = None
    amount_delta: Decimal = Decimal(0)
    consultation_shift: int = 0
    symptoms_after: int = 0
    diagnosis: str | None = None  # an excluded diagnosis written instead of the case's


@dataclass
class Written:
    """The truth of the fields: what went onto the sheet, as values (ISO dates, dotted amounts), '' when not."""

    values: dict[str, str] = field(default_factory=dict)

    def put(self, name: str, value) -> None:
        if isinstance(value, date):
            value = value.isoformat()
        self.values[name] = "" if value is None else str(value)


FIELDS = ["contract_number", "animal_name", "species", "animal_birth_date", "animal_id", "consultation_date",
          "first_symptoms_date", "surgery", "motif", "diagnosis", "acts", "fee_lines", "total_ttc", "vet_name",
          "vet_ordre_number", "owner_date", "vet_date"]  # contract §5: care_sheet_<field>


@lru_cache(maxsize=4)
def blank(dpi: int) -> np.ndarray:
    """The blank form rendered at dpi, float32 RGB (cached per worker process)."""
    pdf = pdfium.PdfDocument(str(FORM_DIR / "feuille_de_soins_blank.pdf"))
    img = pdf[0].render(scale=dpi / 72).to_pil().convert("RGB")
    pdf.close()
    return np.asarray(img, np.float32)


def _px(zone_id: str, dpi: int, key: str = "bbox") -> tuple[int, int, int, int]:
    return box_px(layout_zones()[zone_id][key], dpi)


def _date_digits(d) -> str:
    return d.strftime("%d%m%Y")


def _date(page, zone_id, d, hand, rng, dpi) -> None:
    """A date in a comb field: digit per cell, or (some people) written across the comb as 13/11/17."""
    zone = layout_zones()[zone_id]
    cells = [box_px(c, dpi) for c in zone["cells"]]
    if chance(rng, 0.85):
        digits = _date_digits(d)
        if chance(rng, 0.15):  # two-digit year squeezed in the first cells of the year
            digits = digits[:4] + digits[6:]
        write_comb(page, digits, cells, hand, rng)
    else:
        write_in_box(page, d.strftime(pick(rng, ["%d/%m/%y", "%d/%m/%Y"])), _px(zone_id, dpi), hand, rng)


def _typed(page: np.ndarray, text: str, box: tuple[int, int, int, int], dpi: int, font: str) -> None:
    """Pre-filled text printed by the insurer (black, regular, left in the box)."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    f = ImageFont.truetype(font_path(font), int(h * 0.55))
    img = Image.new("L", (x1 - x0, h), 0)
    ImageDraw.Draw(img).text((h * 0.25, h / 2), text, font=f, fill=255, anchor="lm")
    m = np.asarray(img, np.float32)[..., None] / 255.0
    page[y0:y1, x0:x1] *= 1.0 - 0.9 * m


def _qr(page: np.ndarray, payload: str, dpi: int) -> None:
    x0, y0, x1, y1 = _px("qr_box", dpi)
    side = int((x1 - x0) * 0.86)
    q = qrcode.QRCode(border=1, error_correction=qrcode.constants.ERROR_CORRECT_M)
    q.add_data(payload)
    img = q.make_image(fill_color="black", back_color="white").get_image().convert("L")
    img = img.resize((side, side), Image.Resampling.NEAREST)
    ox, oy = x0 + (x1 - x0 - side) // 2, y0 + (y1 - y0 - side) // 2
    page[oy:oy + side, ox:ox + side] *= (np.asarray(img, np.float32) / 255.0)[..., None]


SCRATCH = np.full((1, 1, 3), 255.0, np.float32)  # drawing here only spends the random draws it would have


def _admin(page, case: Case, spec: CareSheetSpec, owner: Hand, rng, dpi, out: Written) -> None:
    """Part 1, by the owner (or typed by the insurer on a pre-filled sheet)."""
    address = f"{case.owner.street}, {case.owner.postcode} {case.owner.town}"
    fields = {"contract_number": case.contract_number, "owner_name": f"{case.owner_last.upper()} {case.owner_first}",
              "owner_address": address, "animal_name": case.animal_name, "animal_breed": case.breed,
              "animal_identification": case.animal_id}
    out.put("species", case.species)
    if spec.prefilled:
        font = pick(rng, ["LiberationMono-Regular.ttf", "LiberationSans-Regular.ttf", "DejaVuSansMono.ttf"])
        for zid, text in fields.items():
            _typed(page, text, _px(zid, dpi), dpi, font)
        x0, y0, x1, y1 = _px("species_dog" if case.species == "chien" else "species_cat", dpi)
        _typed(page, "X", (x0, y0 - 2, x1 + 6, y1 + 2), dpi, font)
        for digit, cell in zip(case.animal_birth.strftime("%d%m%Y"), layout_zones()["animal_birth_date"]["cells"]):
            _typed(page, digit, box_px(cell, dpi), dpi, font)
        _qr(page, f"SVFS1|{case.contract_number}|{case.animal_name.upper()}", dpi)
        out.put("contract_number", case.contract_number)
        out.put("animal_id", case.animal_id)
        out.put("animal_birth_date", case.animal_birth)
    else:
        for zid, text in fields.items():
            if zid in ("contract_number", "animal_identification") and chance(rng, 0.15):
                continue  # people skip what they do not know by heart
            write_in_box(page, text, _px(zid, dpi), owner, rng)
            out.put({"animal_identification": "animal_id"}.get(zid, zid), text)
        tick(page, _px("species_dog" if case.species == "chien" else "species_cat", dpi), owner, rng)
        if chance(rng, 0.8):
            _date(page, "animal_birth_date", case.animal_birth, owner, rng, dpi)
            out.put("animal_birth_date", case.animal_birth)
    out.put("animal_name", case.animal_name)
    if spec.owner_date:
        _date(page, "owner_date", case.visit_date, owner, rng, dpi)
        out.put("owner_date", case.visit_date)
    if spec.owner_signature:
        sign(page, _px("owner_signature", dpi, "writing_area"), owner, rng, dpi)


def _medical(page, case: Case, spec: CareSheetSpec, vet: Hand, rng, dpi, out: Written, fill: SheetFill | None) -> None:
    """Part 2, by the vet: dates, surgery, motif, diagnosis and acts on the ruled lines."""
    if spec.medical == "blank":
        return
    consult = case.visit_date + timedelta(days=fill.consultation_shift if fill else 0)
    if spec.consultation_date:
        if consult != case.visit_date:  # a wrong date: drawn with the break's own draws
            _date(SCRATCH, "consultation_date", case.visit_date, vet, rng, dpi)
            _date(page, "consultation_date", consult, vet, fill.rng, dpi)
        else:
            _date(page, "consultation_date", consult, vet, rng, dpi)
        out.put("consultation_date", consult)
    if fill is not None and fill.symptoms_after and spec.consultation_date:
        if chance(rng, 0.6):
            _date(SCRATCH, "first_symptoms_date", case.symptoms_date, vet, rng, dpi)
        late = consult + timedelta(days=fill.symptoms_after)
        _date(page, "first_symptoms_date", late, vet, fill.rng, dpi)
        out.put("first_symptoms_date", late)
    elif chance(rng, 0.6):
        _date(page, "first_symptoms_date", case.symptoms_date, vet, rng, dpi)
        out.put("first_symptoms_date", case.symptoms_date)
    if chance(rng, 0.8):
        tick(page, _px("surgery_yes" if case.surgery else "surgery_no", dpi), vet, rng)
        out.put("surgery", "yes" if case.surgery else "no")
    if spec.medical != "no_motif":
        tick(page, _px(f"motif_{case.motif}", dpi), vet, rng)
        out.put("motif", case.motif)
    lines = [mm_to_px(y, dpi) for y in layout_zones()["diagnosis"]["line_y"]]
    x0 = mm_to_px(layout_zones()["diagnosis"]["bbox"][0], dpi)
    cap = mm_to_px(rng.uniform(3.0, 4.0), dpi)
    if spec.medical != "no_diagnosis":
        x = x0 + mm_to_px(rng.uniform(1, 8), dpi)
        if fill is not None and fill.diagnosis:  # an excluded diagnosis, drawn with the break's own draws
            write(SCRATCH, case.diagnosis, x, lines[0] - mm_to_px(0.8, dpi), cap, vet, rng)
            write(page, fill.diagnosis, x, lines[0] - mm_to_px(0.8, dpi), cap, vet, fill.rng)
            out.put("diagnosis", fill.diagnosis)
        else:
            write(page, case.diagnosis, x, lines[0] - mm_to_px(0.8, dpi), cap, vet, rng)
            out.put("diagnosis", case.diagnosis)
    act_lines = [mm_to_px(y, dpi) for y in layout_zones()["acts"]["line_y"]]
    acts = [a for a, _ in case.acts]
    if spec.medical == "no_diagnosis" and chance(rng, 0.5):
        acts = acts[:1]
    written = [", ".join(acts[i:i + 2]) for i in range(0, len(acts), 2)][:len(act_lines)]
    for y, text in zip(act_lines, written):
        write(page, text, x0 + mm_to_px(rng.uniform(1, 6), dpi), y - mm_to_px(0.8, dpi), cap, vet, rng)
    out.put("acts", ", ".join(written))


def _financial(page, case: Case, vet: Hand, rng, dpi, out: Written, fill: SheetFill | None) -> None:
    """Part 3: the fees table and the total, in TTC. With the visit's vet invoice (`fill`), the acts
    are written as before and one more row carries the rest of the invoice (drugs, care), so the
    total is the invoice's; a broken dossier's total is off by `amount_delta`."""
    zone = layout_zones()["fees_table"]
    cols = {c["id"]: c["bbox"] for c in zone["columns"]}
    total = money(0)
    rows = 0
    for row, (act, ht) in zip(zone["rows"], case.acts):
        ttc = money(ht * money("1.2"))
        total += ttc
        rows += 1
        y0, y1 = row[1], row[3]
        if chance(rng, 0.7):
            write_in_box(page, case.visit_date.strftime("%d/%m/%y"), box_px([cols["date"][0], y0, cols["date"][2], y1], dpi), vet, rng)
        write_in_box(page, act, box_px([cols["act"][0], y0, cols["act"][2], y1], dpi), vet, rng)
        write_in_box(page, fmt_amount(ttc, "comma"), box_px([cols["amount_ttc"][0], y0, cols["amount_ttc"][2], y1], dpi),
                     vet, rng, align="right")
    written = total
    if fill is not None and fill.invoice_total is not None:
        rest = money(fill.invoice_total - total)
        if rest > 0 and rows < len(zone["rows"]):
            y0, y1 = zone["rows"][rows][1], zone["rows"][rows][3]
            label = "Médicaments et soins" if len(fill.invoice_lines) > len(case.acts) + 4 else "Médicaments"
            write_in_box(page, label, box_px([cols["act"][0], y0, cols["act"][2], y1], dpi), vet, fill.rng)
            write_in_box(page, fmt_amount(rest, "comma"), box_px([cols["amount_ttc"][0], y0, cols["amount_ttc"][2], y1], dpi),
                         vet, fill.rng, align="right")
            rows += 1
            written = total + rest
        written = money(written + fill.amount_delta)
    if written != total:  # spend the plain sheet's draws, write the real total with the fill's own
        write_in_box(SCRATCH, fmt_amount(total, "comma"), _px("total_ttc", dpi), vet, rng, align="right")
        write_in_box(page, fmt_amount(written, "comma"), _px("total_ttc", dpi), vet, fill.rng, align="right")
    else:
        write_in_box(page, fmt_amount(total, "comma"), _px("total_ttc", dpi), vet, rng, align="right")
    out.put("fee_lines", rows)
    out.put("total_ttc", f"{written:.2f}")


def _vet_box(page, case: Case, spec: CareSheetSpec, vet: Hand, rng, dpi, out: Written) -> None:
    """Part 4: name, Ordre number, date, then the stamp and/or the signature (order varies)."""
    if chance(rng, 0.6):
        write_in_box(page, case.vet_name, _px("vet_name", dpi), vet, rng)
        out.put("vet_name", case.vet_name)
    if chance(rng, 0.5):
        write_in_box(page, case.vet_ordre, _px("vet_ordre_number", dpi), vet, rng)
        out.put("vet_ordre_number", case.vet_ordre)
    if spec.vet_date:
        _date(page, "vet_date", case.visit_date, vet, rng, dpi)
        out.put("vet_date", case.visit_date)
    area = _px("vet_stamp_signature", dpi, "writing_area")
    sign_first = chance(rng, 0.3)
    if spec.vet_signature and sign_first:
        sign(page, area, vet, rng, dpi)
    if spec.vet_stamp:
        stamp(page, area, case.clinic, case.vet_name, rng, dpi)
    if spec.vet_signature and not sign_first:
        sign(page, area, vet, rng, dpi)


def render_care_sheet(case: Case, spec: CareSheetSpec, rng: np.random.Generator, dpi: int,
                      fill: SheetFill | None = None) -> tuple[Image.Image, dict[str, str]]:
    """The filled form as a flat paper image (RGB) at dpi, before any scan or photo, and the truth of its
    fields ({field of FIELDS: value or ''})."""
    page = blank(dpi).copy()
    out = Written({f: "" for f in FIELDS})
    owner = make_hand(rng, "owner")
    vet = make_hand(rng, "vet")
    _admin(page, case, spec, owner, rng, dpi, out)
    _medical(page, case, spec, vet, rng, dpi, out, fill)
    out.put("fee_lines", 0)
    if chance(rng, 0.9):
        _financial(page, case, vet, rng, dpi, out, fill)
    _vet_box(page, case, spec, vet, rng, dpi, out)
    out.put("prefilled", "true" if spec.prefilled else "false")
    return Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)), out.values
