"""How a client packs documents into uploads: which files, which format, which slot, which name.

Names are the ones clients really give ("IMG_2043.jpg", "scan0001.pdf", "facture.pdf"), sometimes
misleading, never derived from the truth in a way a reader could rely on.
"""
from __future__ import annotations

from datetime import date

import numpy as np

from .common import chance, pick
from .scenario import DossierPlan, FilePlan, corrupt_target, with_corrupt_kind

ROLE_NAMES = {
    "care_sheet": ["feuille de soins", "Feuille de soins", "FDS", "feuille soins santevet", "formulaire"],
    "vet_invoice": ["facture", "Facture", "facture véto", "Facture clinique", "facture vétérinaire"],
    "pharmacy": ["facture pharmacie", "ticket pharmacie", "pharmacie"],
    "lab": ["analyses", "facture labo", "résultats labo"],
    "shop": ["ticket", "facture", "reçu"],
    "prescription": ["ordonnance", "Ordonnance", "ordo"],
    "xray": ["radio", "radiographie"],
    "animal": ["photo", "mon chien", "mon chat"],
    "letter": ["courrier", "lettre", "doc"],
    "note": ["mot", "courrier", "explications"],
}
EXT = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png"}


def _fmt_for(capture: str, rng: np.random.Generator, bw: bool) -> str:
    if capture == "text_pdf":
        return "pdf"
    if capture == "scan":
        return "png" if bw else pick(rng, ["pdf", "jpeg", "png"], p=[0.5, 0.3, 0.2])
    if capture == "photo":
        return pick(rng, ["jpeg", "png", "pdf"], p=[0.85, 0.05, 0.1])
    return pick(rng, ["jpeg", "png", "pdf"], p=[0.7, 0.2, 0.1])


def plan_files(plan: DossierPlan, rng: np.random.Generator) -> None:
    """Fill plan.files: bundles, one file per remaining document, slots, oddities, then names."""
    t = set(plan.features.tricks)
    docs = plan.docs
    taken: set[str] = set()
    cs, inv = docs.get("care_sheet"), docs.get("vet_invoice")
    if cs and inv and cs.capture != "degraded" and inv.capture != "degraded" and t & {"bundle_scan", "bundle_merge"} \
            and "corrupt" not in plan.features.defects:
        if "bundle_scan" in t:
            cs.capture = inv.capture = "scan"
        else:
            inv.capture = "text_pdf"
        order = ["care_sheet", "vet_invoice"] if chance(rng, 0.7) else ["vet_invoice", "care_sheet"]
        plan.files.append(FilePlan(order, "pdf", pick(rng, ["care_sheet", "invoice"])))
        taken |= set(order)
    for key, doc in docs.items():
        if key in taken:
            continue
        fmt = "jpeg" if key in ("xray", "animal") and chance(rng, 0.8) else _fmt_for(doc.capture, rng, doc.scan_mode == "bw")
        if doc.long and doc.capture != "text_pdf":
            fmt = "pdf"  # a two-page invoice photographed or scanned is sent as one PDF
        slot = {"care_sheet": "care_sheet", "vet_invoice": "invoice"}.get(key, "other")
        plan.files.append(FilePlan([key], fmt, slot))
    by_doc = {k: f for f in plan.files for k in f.docs}
    # pharmacy / lab / shop invoices go in the invoice slot when the vet's invoice is not there
    for key in ("pharmacy", "lab", "shop"):
        if key in by_doc and (not inv or chance(rng, 0.3)):
            by_doc[key].slot = "invoice"
    if not cs:  # the required slot is filled with something else
        spare = [f for f in plan.files if f.slot == "other"]
        if spare and chance(rng, 0.6):
            pick(rng, spare).slot = "care_sheet"
    if "swapped" in t and cs and inv and by_doc["care_sheet"] is not by_doc["vet_invoice"]:
        by_doc["care_sheet"].slot, by_doc["vet_invoice"].slot = "invoice", "care_sheet"
    if "all_other" in t:
        for f in plan.files:
            f.slot = "other"
    _oddities(plan, by_doc, rng)
    plan.files.sort(key=lambda f: ["care_sheet", "invoice", "other"].index(f.slot))
    _name(plan, rng)


def _oddities(plan: DossierPlan, by_doc: dict[str, FilePlan], rng: np.random.Generator) -> None:
    """Disguised formats, owner passwords, EXIF orientation, and the broken file."""
    t = set(plan.features.tricks)
    single = [f for f in plan.files if len(f.docs) == 1 and plan.docs[f.docs[0]].capture in ("scan", "photo")
              and not plan.docs[f.docs[0]].long]
    if "png_as_pdf" in t and single:
        f = pick(rng, single)
        f.fmt, f.disguise = "png", "pdf"
    if "jpeg_as_png" in t:
        jpegs = [f for f in single if f.fmt == "jpeg" and not f.disguise] or [f for f in single if not f.disguise]
        if jpegs:
            f = pick(rng, jpegs)
            f.fmt, f.disguise = "jpeg", "png"
    if "owner_password" in t:
        pdfs = [f for f in plan.files if f.fmt == "pdf" and all(plan.docs[k].capture == "text_pdf" for k in f.docs)]
        if not pdfs and "vet_invoice" in by_doc and len(by_doc["vet_invoice"].docs) == 1:
            plan.docs["vet_invoice"].capture = "text_pdf"
            by_doc["vet_invoice"].fmt = "pdf"
            pdfs = [by_doc["vet_invoice"]]
        for f in pdfs[:1]:
            f.owner_password = True
    if "exif" in t:
        photos = [f for f in single if plan.docs[f.docs[0]].capture == "photo" and not f.disguise]
        for f in photos[:2]:
            f.fmt, f.orientation = "jpeg", pick(rng, ["exif", "exif", "stale_exif"])
    if "corrupt" in plan.features.defects:
        key = corrupt_target(plan, rng)
        f = by_doc[key] if key in by_doc else next(fl for fl in plan.files if key in fl.docs)
        f.corrupt, f.fmt, f.disguise = with_corrupt_kind(plan.features, rng), "pdf", None
        f.orientation, f.owner_password = None, False


def _name(plan: DossierPlan, rng: np.random.Generator) -> None:
    """Client-style file names, unique within the dossier; about one in seven names the wrong document."""
    used: set[str] = set()
    counter = int(rng.integers(1, 9000))
    for f in plan.files:
        ext = EXT[f.disguise] if f.disguise else EXT[f.fmt]
        role = f.docs[0]
        capture = plan.docs[role].capture
        style = pick(rng, ["generic", "role", "wrong"], p=[0.55, 0.32, 0.13])
        if style == "role":
            stem = pick(rng, ROLE_NAMES[role])
        elif style == "wrong":
            stem = pick(rng, ROLE_NAMES[pick(rng, [k for k in ROLE_NAMES if k != role])])
        elif ext == ".pdf" and capture == "text_pdf":
            stem = pick(rng, ["doc", "document", "Document", "téléchargement", "pdf", "fichier"])
        elif ext == ".pdf":
            stem = pick(rng, [f"scan{counter:04d}", f"CCF{counter:06d}", f"Numérisation_{counter}", "doc", f"Scan {counter}"])
        elif capture == "photo" or ext == ".jpg":
            stem = pick(rng, [f"IMG_{counter:04d}", f"IMG_2017{counter:04d}_{counter * 7 % 240000:06d}",
                              f"PHOTO-2017-{counter % 12 + 1:02d}-{counter % 28 + 1:02d}-10-{counter % 60:02d}-12",
                              "image", f"{counter:04d}", "photo"])
        else:
            stem = pick(rng, [f"scan{counter:04d}", f"img{counter:03d}", "capture", f"Numérisation {counter}"])
        if ext == ".jpg" and chance(rng, 0.1):
            ext = ".jpeg"
        if chance(rng, 0.05):
            ext = ext.upper()
        name, n = stem + ext, 1
        while name.lower() in used:
            n += 1
            name = f"{stem}({n}){ext}" if chance(rng, 0.5) else f"{stem} {n}{ext}"
        used.add(name.lower())
        f.name = name
        counter += int(rng.integers(1, 6))


def manifest(dossier_id: str, submitted: str, contract: str, animal: str, description: str,
             files: list[FilePlan], rng: np.random.Generator) -> dict:
    """The portal's manifest.json; optional fields are sometimes null or absent, as the contract allows."""
    m: dict = {"dossier_id": dossier_id, "submitted_at": submitted}
    for key, value in (("contract_number", contract), ("animal_name", animal), ("description", description)):
        how = pick(rng, ["set", "null", "absent"], p=[0.85, 0.08, 0.07])
        if how == "set":
            m[key] = value
        elif how == "null":
            m[key] = None
    m["documents"] = [{"file": f.name, "slot": f.slot} for f in files]
    return m


def submitted_at(last_doc: date, rng: np.random.Generator) -> str:
    """ISO 8601 with the French offset (summer time roughly April to October)."""
    d = last_doc.toordinal() + int(rng.integers(1, 25))
    day = date.fromordinal(d)
    offset = "+02:00" if 4 <= day.month <= 10 else "+01:00"
    return f"{day.isoformat()}T{int(rng.integers(7, 23)):02d}:{int(rng.integers(0, 60)):02d}:00{offset}"
