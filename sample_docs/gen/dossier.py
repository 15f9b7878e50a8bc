"""One dossier end to end: recipe -> documents -> files on disk -> manifest (last, atomically) -> truth rows."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

from .care_sheet import FIELDS, SheetFill
from .common import chance, money, rng_for
from .consistency import Breaks, draw_breaks, excluded_diagnosis, expected_checks, late_submission
from .data import make_case
from .files import corrupt, encode_image, finalize_pdf, images_pdf, merge_pdfs, orient_for_upload
from .packaging import manifest, plan_files, submitted_at
from .render import DOC_TYPES, PROFILES, Profile, Rendered, render_doc
from .scenario import COVERAGE, DossierPlan, FilePlan, draw_features, plan_docs
from .truth import STATUS_FR, DocTruth, DossierTruth, b, decide, dominant_capture, expected_reasons


@dataclass(frozen=True)
class Job:
    """What a worker needs to build one dossier (small and picklable)."""

    seed: int
    index: int
    dossier_id: str
    inbox: str
    profile: str
    pending: bool = False  # still uploading: no manifest, not in the truth


def _pages(data: bytes) -> int:
    doc = pdfium.PdfDocument(data)
    n = len(doc)
    doc.close()
    return n


def _file_bytes(f: FilePlan, plan: DossierPlan, rendered: dict[str, Rendered], rng: np.random.Generator,
                profile: Profile) -> tuple[bytes, list[int], list[str]]:
    """Bytes of one upload, the page count of each document in it, and file-level defects."""
    quality = int(rng.integers(*profile.jpeg_quality))
    counts, defects = [], []
    if f.fmt == "pdf":
        parts = []
        for key in f.docs:
            r = rendered[key]
            parts.append(r.pdf if plan.docs[key].capture == "text_pdf" else images_pdf(r.pages, quality))
            counts.append(_pages(parts[-1]))
        data = parts[0] if len(parts) == 1 else merge_pdfs(parts)
        scanned = any(plan.docs[k].capture != "text_pdf" for k in f.docs)
        data = finalize_pdf(data, rng, scanned, owner_password="gestion-clinique" if f.owner_password else None)
        if f.owner_password:
            defects.append("owner_password_only")
        if f.corrupt:
            data = corrupt(f.corrupt, data, rng)
        return data, counts, defects
    key = f.docs[0]
    img = rendered[key].pages[0][0]
    tag = None
    if plan.docs[key].capture in ("photo", "degraded") and key not in ("xray", "animal"):
        img, tag, how = orient_for_upload(img, rng, f.orientation)
        if f.fmt == "png" and tag:  # PNG has no EXIF here: keep the pixels as they are
            tag, how = None, ""
        defects += [how] if how else []
    elif chance(rng, 0.04) and key not in ("xray", "animal"):  # a sheet put upside down on the scanner
        img = img.rotate(180)
        defects.append("rotated_pixels_180")
    return encode_image(img, f.fmt, quality, tag, profile.png_colours), [1], defects


def build(job: Job) -> tuple[DossierTruth | None, list[DocTruth]]:
    """Build and write one dossier; returns its truth rows (none for a folder still uploading)."""
    rng = rng_for(job.seed, "dossier", job.index)
    covered = job.index < len(COVERAGE) and not job.pending
    features = COVERAGE[job.index] if covered else draw_features(rng)
    plan = plan_docs(features, rng)
    plan_files(plan, rng)
    case = make_case(rng)
    profile = PROFILES[job.profile]
    brng = rng_for(job.seed, "consistency", job.index)  # its own stream: a dossier without breaks is drawn as before
    breaks = draw_breaks(brng, job.index, covered, case)
    rendered: dict[str, Rendered] = {}
    for k in sorted(plan.docs, key=lambda key: key != "vet_invoice"):  # the sheet copies the invoice's fees
        fill = _fill(job, case, breaks, brng, rendered.get("vet_invoice")) if k == "care_sheet" else None
        rendered[k] = render_doc(k, plan.docs[k], case, rng_for(job.seed, job.index, k), profile, fill)
    rendered = {k: rendered[k] for k in plan.docs}
    folder = Path(job.inbox) / job.dossier_id
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[DocTruth] = []
    invoice_lines: list[str] = []  # the line labels of the legible invoices (EXCLUSION_HINT's truth)
    files = plan.files[:-1] if job.pending and len(plan.files) > 1 else plan.files
    for f in files:
        data, counts, file_defects = _file_bytes(f, plan, rendered, rng, profile)
        (folder / f.name).write_bytes(data)
        first = 1
        for key, n in zip(f.docs, counts):
            rows.append(_doc_row(job.dossier_id, f, key, plan, rendered[key], first, n, file_defects))
            if rows[-1].doc_type == "invoice" and rows[-1].legible == "true" and rendered[key].invoice:
                invoice_lines += [ln.label for ln in rendered[key].invoice.lines]
            first += n
    if job.pending:
        return None, []
    dates = [r.invoice.date for r in rendered.values() if r.invoice] + [case.visit_date]
    last = late_submission(max(dates), breaks) if breaks.late_days else max(dates)
    m = manifest(job.dossier_id, submitted_at(last, rng), case.contract_number, case.animal_name,
                 case.description, plan.files, rng)
    if breaks.manifest_contract:
        m["contract_number"] = breaks.manifest_contract
    if breaks.manifest_animal:
        m["animal_name"] = breaks.manifest_animal
    tmp = folder / ".manifest.json.tmp"
    tmp.write_text(json.dumps(m, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / "manifest.json")  # written last, atomically: the portal's contract
    reasons = expected_reasons(rows)
    decision = decide(reasons)
    sheet = next((r for r in rows if r.doc_type == "care_sheet" and r.legible == "true"), None)
    invoices = [r for r in rows if r.doc_type == "invoice" and r.legible == "true"]
    checks = expected_checks(sheet, invoices, m, invoice_lines)
    scenario = plan.label + "".join(f" +{c.lower()}" for c in breaks.codes)
    return DossierTruth(job.dossier_id, decision, STATUS_FR[decision], "|".join(reasons), capture=dominant_capture(rows),
                        scenario=scenario, n_files=len(plan.files), checks="|".join(checks)), rows


def _fill(job: Job, case, breaks: Breaks, brng: np.random.Generator, invoice: Rendered | None) -> SheetFill:
    """What the care sheet copies from the visit's vet invoice, and what its breaks change."""
    inv = invoice.invoice if invoice is not None else None
    lines = tuple((ln.label, money(ln.amount * (1 + ln.vat))) for ln in inv.lines) if inv else ()
    return SheetFill(rng=rng_for(job.seed, job.index, "care_sheet", "fill"), invoice_lines=lines,
                     invoice_total=inv.total_ttc if inv else None, amount_delta=breaks.amount_delta,
                     consultation_shift=breaks.consultation_shift, symptoms_after=breaks.symptoms_after,
                     diagnosis=excluded_diagnosis(case, breaks, brng))


def _doc_row(dossier_id: str, f: FilePlan, key: str, plan: DossierPlan, r: Rendered, first: int, n: int,
             file_defects: list[str]) -> DocTruth:
    doc = plan.docs[key]
    row = DocTruth(dossier_id, f.name, str(first) if n == 1 else f"{first}-{first + n - 1}", DOC_TYPES[key],
                   capture="corrupt" if f.corrupt else doc.capture,
                   legible=b(not f.corrupt and doc.capture != "degraded"), slot=f.slot,
                   file_format=f.corrupt or f.fmt, defects=" ".join(r.defects + file_defects))
    if key == "care_sheet" and not f.corrupt:
        s = doc.spec
        row.vet_stamp, row.vet_signature, row.owner_signature = b(s.vet_stamp), b(s.vet_signature), b(s.owner_signature)
        row.medical_section_complete, row.dated = b(s.medical_complete), b(s.dated)
        row.note = f"medical={s.medical}" + ("; prefilled" if s.prefilled else "")
        for name in FIELDS:
            setattr(row, f"care_sheet_{name}", r.sheet.get(name, ""))
        row.care_sheet_prefilled = r.sheet.get("prefilled", "")
    if r.facts and not f.corrupt:
        for k in ("invoice_date", "invoice_total_ttc", "vet_siret", "invoice_kind"):
            setattr(row, k, r.facts[k])
        row.note = r.facts.get("note", "")
    if f.disguise:
        row.note = (row.note + "; " if row.note else "") + f"{f.fmt} named .{f.disguise}"
    return row
