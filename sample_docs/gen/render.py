"""Documents -> captured pages: draw each planned document, then scan it, photograph it or ruin it.

`render_doc` returns the text PDF (clinic documents) and/or the captured page images, plus the
facts the truth needs (invoice fields, care-sheet flags) and the defects applied.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .capture import degrade, photo, render_pdf, scan
from .care_sheet import SheetFill, render_care_sheet
from .common import chance, mm_to_px, pick
from .data import Case
from .ink import make_hand
from .invoice_model import Invoice, lab_invoice, pharmacy_invoice, shop_receipt, vet_invoice
from .layouts_other import laboratory, owner_letter, pharmacy, prescription, shop
from .layouts_vet import PAGINATING, VET_LAYOUTS
from .pictures import animal_photo, handwritten_note, xray
from .scenario import DocPlan
from .signature import signature_mask
from .stamp import stamp

PHOTO_SOURCE_DPI = 200  # paper is drawn at this resolution before a phone photographs it
DOC_TYPES = {"care_sheet": "care_sheet", "vet_invoice": "invoice", "pharmacy": "invoice", "lab": "invoice",
             "shop": "invoice", "prescription": "prescription", "xray": "other", "animal": "other",
             "letter": "other", "note": "other"}
KINDS = {"vet_invoice": "veterinary", "pharmacy": "pharmacy", "lab": "laboratory", "shop": "other"}


@dataclass(frozen=True)
class Profile:
    """Resolution and compression choices: `full` for evaluation runs, `compact` for the committed sample."""

    scan_dpis: tuple[int, ...]
    scan_dpi_p: tuple[float, ...]
    photo_sides: tuple[int, int]
    jpeg_quality: tuple[int, int]
    noise: float  # sensor / paper grain multiplier (grain costs bytes)
    png_colours: int  # 0: true-colour PNG; n: palette PNG


PROFILES = {"full": Profile((150, 200, 300), (0.3, 0.45, 0.25), (2000, 3000), (80, 92), 1.0, 0),
            "compact": Profile((150, 200), (0.8, 0.2), (1400, 1700), (70, 80), 0.4, 32)}


@dataclass
class Rendered:
    """A document ready to be packed: its text PDF and/or its page images (with dpi)."""

    pdf: bytes | None = None
    pages: list[tuple[Image.Image, float]] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    invoice: Invoice | None = None
    sheet: dict[str, str] = field(default_factory=dict)  # care sheets: the truth of the fields written


def _signature_png(rng: np.random.Generator) -> bytes:
    """A vet's signature as a transparent PNG (for a printed prescription)."""
    hand = make_hand(rng, "vet")
    mask = signature_mask(rng, 520, 210, 4.0)
    rgba = np.zeros((*mask.shape, 4), np.uint8)
    rgba[..., :3] = hand.ink
    rgba[..., 3] = (mask * 255 * hand.pressure).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    return buf.getvalue()


def _invoice_pdf(key: str, doc: DocPlan, case: Case, rng: np.random.Generator) -> tuple[bytes, Invoice, str]:
    if key == "vet_invoice":
        inv = vet_invoice(case, rng, long=doc.long)
        choices = list(PAGINATING) if doc.long else list(VET_LAYOUTS)
        layout = pick(rng, choices)
        return VET_LAYOUTS[layout](inv, rng), inv, layout
    if key == "pharmacy":
        inv = pharmacy_invoice(case, rng)
        return pharmacy(inv, rng), inv, "pharmacy"
    if key == "lab":
        inv = lab_invoice(case, rng)
        return laboratory(inv, rng), inv, "laboratory"
    inv = shop_receipt(case, rng)
    return shop(inv, rng), inv, "shop"


def _source(key: str, doc: DocPlan, case: Case, rng: np.random.Generator, dpi: int,
            fill: SheetFill | None = None) -> Rendered:
    """The document as printed/written: a text PDF, or paper pages drawn at dpi."""
    if key == "care_sheet":
        image, sheet = render_care_sheet(case, doc.spec, rng, dpi, fill)
        return Rendered(pages=[(image, dpi)], sheet=sheet)
    if key in KINDS:
        pdf, inv, layout = _invoice_pdf(key, doc, case, rng)
        notes = [f"layout={layout}"]
        if inv.deposit:
            notes.append(f"deposit={inv.deposit} balance={inv.balance}")
        if inv.client_siret:
            notes.append(f"client_siret={inv.client_siret}")
        facts = {"invoice_date": inv.date.isoformat(), "invoice_total_ttc": f"{inv.total_ttc:.2f}",
                 "vet_siret": inv.issuer.siret, "invoice_kind": KINDS[key], "note": "; ".join(notes)}
        return Rendered(pdf=pdf, facts=facts, invoice=inv)
    if key == "prescription":
        return Rendered(pdf=prescription(case, rng, _signature_png(rng)))
    if key == "letter":
        return Rendered(pdf=owner_letter(case, rng, case.visit_date))
    if key == "note":
        return Rendered(pages=[(handwritten_note(case, rng, case.visit_date, dpi), dpi)])
    if key == "xray":
        return Rendered(pages=[(xray(rng), 96)])
    return Rendered(pages=[(animal_photo(rng, case.species), 96)])


def _paper(src: Rendered, dpi: int) -> list[Image.Image]:
    if src.pdf is not None:
        return render_pdf(src.pdf, dpi)
    return [img.resize((round(img.width * dpi / d), round(img.height * dpi / d)), Image.Resampling.LANCZOS)
            if d != dpi else img for img, d in src.pages]


def _stamp_paper(pages: list[Image.Image], case: Case, rng: np.random.Generator, dpi: int) -> list[Image.Image]:
    """Clinics stamp the printed prescription next to the signature."""
    a = np.asarray(pages[0], np.float32).copy()
    area = tuple(int(mm_to_px(v, dpi)) for v in (100, 190, 195, 250))
    stamp(a, area, case.clinic, case.vet_name, rng, dpi)
    return [Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))] + pages[1:]


def render_doc(key: str, doc: DocPlan, case: Case, rng: np.random.Generator, profile: Profile,
               fill: SheetFill | None = None) -> Rendered:
    """Draw then capture one document (`fill`: what a care sheet copies from the invoice, or gets wrong)."""
    scan_dpi = int(pick(rng, list(profile.scan_dpis), p=list(profile.scan_dpi_p)))
    draw_dpi = scan_dpi if doc.capture == "scan" else PHOTO_SOURCE_DPI
    src = _source(key, doc, case, rng, draw_dpi, fill)
    if key in ("xray", "animal") or doc.capture == "text_pdf":
        return src
    paper = _paper(src, draw_dpi)
    if key == "prescription" and chance(rng, 0.6):
        paper = _stamp_paper(paper, case, rng, draw_dpi)
    out = Rendered(facts=src.facts, invoice=src.invoice, sheet=src.sheet)
    base = doc.capture if doc.capture != "degraded" else pick(rng, ["photo", "scan"], p=[0.7, 0.3])
    for page in paper:
        if base == "scan":
            img, defects = scan(page, draw_dpi, scan_dpi, rng, doc.scan_mode, profile.noise)
        else:
            img, defects = photo(page, rng, int(rng.integers(*profile.photo_sides)), profile.noise)
        if doc.capture == "degraded":
            img, more = degrade(img, rng)
            defects = defects + more
        # page size when packed into a PDF: a scan keeps its dpi, a photo is shown about A4 wide
        dpi = scan_dpi if base == "scan" and img.width > 1000 else img.width / 8.5
        out.pages.append((img, dpi))
        out.defects = sorted(set(out.defects + defects))
    return out
