"""What each dossier will contain, decided before anything is drawn: documents, captures, files, slots.

A dossier is described by *defects* (each one leads to a reason code) and *tricks* (real-life
oddities that must not change the decision). The first dossiers of a run follow `COVERAGE`, so that
even a small run holds every reason code, capture kind and file oddity; the rest are drawn at random.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .care_sheet import CareSheetSpec
from .common import chance, pick
from .files import CORRUPTIONS

DEFECT_WEIGHTS = {"no_care_sheet": 6, "no_invoice": 7, "cs_illegible": 6, "inv_illegible": 6, "corrupt": 7,
                  "no_stamp": 7, "no_vet_signature": 7, "no_owner_signature": 7, "medical_blank": 3,
                  "no_diagnosis": 3, "no_motif": 3, "undated": 7, "no_prescription": 7}
CARE_SHEET_DEFECTS = {"cs_illegible", "no_stamp", "no_vet_signature", "no_owner_signature", "medical_blank",
                      "no_diagnosis", "no_motif", "undated"}
MEDICAL = {"medical_blank": "blank", "no_diagnosis": "no_diagnosis", "no_motif": "no_motif"}
TRICK_RATES = {"prefilled": .25, "bundle_scan": .07, "bundle_merge": .07, "long_invoice": .08, "swapped": .1,
               "all_other": .06, "png_as_pdf": .05, "jpeg_as_png": .04, "owner_password": .05, "exif": .12,
               "pharmacy_with_rx": .12, "lab_with_rx": .06, "shop_extra": .05, "attachments": .25, "bw_scan": .07}
ACCEPT_SHARE = 0.40


@dataclass(frozen=True)
class Features:
    """The recipe of one dossier."""

    defects: tuple[str, ...] = ()
    tricks: tuple[str, ...] = ()
    style: str | None = None  # photo | scan | mixed
    corrupt_kind: str | None = None
    corrupt_target: str | None = None  # care_sheet | vet_invoice | extra
    variant: str | None = None  # no_invoice: none | pharmacy_only | shop_only ; no_prescription: pharmacy | lab


# Small runs still cover everything: reasons, captures, bundles, swapped slots, broken and disguised files.
COVERAGE = [
    Features(tricks=("prefilled",), style="scan"),
    Features(defects=("corrupt",), corrupt_kind="encrypted_pdf", corrupt_target="vet_invoice", style="mixed"),
    Features(tricks=("bundle_merge", "attachments"), style="photo"),
    Features(defects=("cs_illegible",), style="photo"),
    Features(defects=("medical_blank",), tricks=("png_as_pdf",), style="scan"),
    Features(tricks=("exif", "attachments"), style="photo"),
    Features(defects=("no_stamp",), style="photo"),
    Features(defects=("no_vet_signature",), tricks=("swapped",), style="scan"),
    Features(tricks=("all_other", "owner_password", "pharmacy_with_rx"), style="mixed"),
    Features(defects=("no_owner_signature", "undated"), style="photo"),
    Features(defects=("no_diagnosis", "no_prescription"), variant="pharmacy", style="mixed"),
    Features(tricks=("bundle_scan", "shop_extra"), style="scan"),
    Features(defects=("no_invoice",), variant="pharmacy_only", style="photo"),
    Features(defects=("inv_illegible",), style="scan"),
    Features(tricks=("jpeg_as_png", "bw_scan", "attachments"), style="scan"),
    Features(defects=("no_care_sheet",), tricks=("long_invoice",), style="mixed"),
    Features(defects=("corrupt", "no_motif"), corrupt_kind="html", corrupt_target="extra", style="scan"),
    Features(tricks=("lab_with_rx", "long_invoice", "prefilled"), style="mixed"),
    Features(defects=("no_invoice",), variant="shop_only", style="photo"),
    Features(tricks=("exif", "swapped"), style="photo"),
    Features(defects=("no_prescription",), variant="lab", style="photo"),
    Features(defects=("corrupt",), corrupt_kind="truncated_pdf", corrupt_target="care_sheet", style="scan"),
    Features(defects=("undated",), style="scan"),
    Features(defects=("corrupt",), corrupt_kind="random_bytes", corrupt_target="extra", style="photo"),
]


def draw_features(rng: np.random.Generator) -> Features:
    """A random recipe: ~40 % clean dossiers, the rest one to three defects; tricks everywhere."""
    tricks = tuple(t for t, p in TRICK_RATES.items() if chance(rng, p))
    if chance(rng, ACCEPT_SHARE):
        return Features(tricks=tricks)
    names, weights = list(DEFECT_WEIGHTS), list(DEFECT_WEIGHTS.values())
    chosen: list[str] = []
    for _ in range(pick(rng, [1, 2, 3], p=[0.65, 0.28, 0.07])):
        d = pick(rng, names, p=weights)
        if d in chosen or not compatible(d, chosen):
            continue
        chosen.append(d)
    return Features(defects=tuple(chosen), tricks=tricks)


def compatible(d: str, chosen: list[str]) -> bool:
    """Defects that cannot go together (no care sheet and a care-sheet flaw; two medical flaws...)."""
    if d == "no_care_sheet" and CARE_SHEET_DEFECTS & set(chosen):
        return False
    if d in CARE_SHEET_DEFECTS and "no_care_sheet" in chosen:
        return False
    if d in MEDICAL and MEDICAL.keys() & set(chosen):
        return False
    if {d, *chosen} >= {"no_invoice", "inv_illegible"}:
        return False
    return True


@dataclass
class DocPlan:
    """One document: what it is and how it was captured."""

    key: str  # care_sheet | vet_invoice | pharmacy | lab | shop | prescription | xray | animal | letter | note
    capture: str  # text_pdf | scan | photo | degraded
    spec: CareSheetSpec | None = None
    long: bool = False
    scan_mode: str = "grey"


@dataclass
class FilePlan:
    """One uploaded file: the documents in it (page order), its format, slot and oddities."""

    docs: list[str]
    fmt: str  # pdf | jpeg | png  (the content)
    slot: str
    corrupt: str | None = None
    disguise: str | None = None  # extension of the name when it lies about the content
    owner_password: bool = False
    orientation: str | None = None  # exif | stale_exif when forced
    name: str = ""


@dataclass
class DossierPlan:
    features: Features
    style: str
    docs: dict[str, DocPlan] = field(default_factory=dict)
    files: list[FilePlan] = field(default_factory=list)

    @property
    def label(self) -> str:
        tricks = ",".join(self.features.tricks)
        return ("+".join(self.features.defects) or "clean") + (f"|{tricks}" if tricks else "")


def plan_docs(f: Features, rng: np.random.Generator) -> DossierPlan:
    """Which documents the dossier holds and how each one was captured."""
    style = f.style or pick(rng, ["photo", "scan", "mixed"], p=[0.42, 0.38, 0.2])
    paper = lambda: "photo" if style == "photo" else "scan" if style == "scan" else pick(rng, ["photo", "scan"])  # noqa: E731
    clinic = lambda: "text_pdf" if chance(rng, 0.55 if style == "mixed" else 0.3) else paper()  # noqa: E731
    plan = DossierPlan(f, style)
    d, t = set(f.defects), set(f.tricks)
    mode = "bw" if "bw_scan" in t else pick(rng, ["grey", "colour"], p=[0.55, 0.45])
    if "no_care_sheet" not in d:
        undated = "undated" in d
        drop = pick(rng, ["none", "owner", "vet"], p=[0.7, 0.15, 0.15])
        spec = CareSheetSpec(prefilled="prefilled" in t or chance(rng, 0.1),
                             owner_signature="no_owner_signature" not in d,
                             owner_date=not undated and drop != "owner", vet_date=not undated and drop != "vet",
                             consultation_date=chance(rng, 0.6) if undated else chance(rng, 0.95),
                             vet_stamp="no_stamp" not in d, vet_signature="no_vet_signature" not in d,
                             medical=next((MEDICAL[m] for m in f.defects if m in MEDICAL), "complete"))
        plan.docs["care_sheet"] = DocPlan("care_sheet", "degraded" if "cs_illegible" in d else paper(), spec,
                                          scan_mode=mode)
    variant = f.variant or ""
    if "no_invoice" not in d:
        cap = "degraded" if "inv_illegible" in d else clinic()
        plan.docs["vet_invoice"] = DocPlan("vet_invoice", cap, long="long_invoice" in t, scan_mode=mode)
    else:
        variant = variant or pick(rng, ["none", "pharmacy_only", "shop_only"], p=[0.4, 0.4, 0.2])
        if variant == "pharmacy_only":
            plan.docs["pharmacy"] = DocPlan("pharmacy", clinic(), scan_mode=mode)
            if "no_prescription" not in d:
                plan.docs["prescription"] = DocPlan("prescription", clinic(), scan_mode=mode)
        if variant == "shop_only":
            plan.docs["shop"] = DocPlan("shop", paper(), scan_mode=mode)
    if "no_prescription" in d and "pharmacy" not in plan.docs:
        key = variant if variant in ("pharmacy", "lab") else pick(rng, ["pharmacy", "lab"], p=[0.65, 0.35])
        plan.docs[key] = DocPlan(key, clinic(), scan_mode=mode)
    elif "no_prescription" not in d:
        for trick, key in (("pharmacy_with_rx", "pharmacy"), ("lab_with_rx", "lab")):
            if trick in t:
                plan.docs[key] = DocPlan(key, clinic(), scan_mode=mode)
                plan.docs["prescription"] = DocPlan("prescription", clinic(), scan_mode=mode)
        if "prescription" not in plan.docs and chance(rng, 0.2):  # drugs bought at the clinic, ordonnance sent anyway
            plan.docs["prescription"] = DocPlan("prescription", clinic(), scan_mode=mode)
    if "shop_extra" in t:
        plan.docs["shop"] = DocPlan("shop", paper(), scan_mode=mode)
    if "attachments" in t:
        for key in rng.choice(["xray", "animal", "letter", "note"], int(rng.integers(1, 3)), replace=False):
            cap = "photo" if key in ("xray", "animal") else "text_pdf" if key == "letter" else paper()
            plan.docs[str(key)] = DocPlan(str(key), cap, scan_mode=mode)
    if "corrupt" in d and (f.corrupt_target or "extra") == "extra" and not {"letter", "xray"} & plan.docs.keys():
        plan.docs["letter"] = DocPlan("letter", "text_pdf")
    return plan


def corrupt_target(plan: DossierPlan, rng: np.random.Generator) -> str:
    """Which document's file gets broken."""
    want = plan.features.corrupt_target or pick(rng, ["vet_invoice", "care_sheet", "extra"], p=[0.45, 0.25, 0.3])
    if want in plan.docs and plan.docs[want].capture != "degraded":
        return want
    return next(k for k in ("letter", "xray", "animal", "note", "prescription", "vet_invoice") if k in plan.docs)


def with_corrupt_kind(f: Features, rng: np.random.Generator) -> str:
    """The kind of breakage (recipe's or random)."""
    return f.corrupt_kind or pick(rng, list(CORRUPTIONS), p=[0.3, 0.2, 0.2, 0.2, 0.1])

