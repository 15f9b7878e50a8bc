"""Dossiers that disagree with themselves: the breaks behind the operator's check codes (contract §5).

A *break* is drawn from its own random stream (`rng_for(seed, "consistency", index)`), so a dossier
without one is drawn exactly as before. Each break changes one thing: what the care sheet says
(its total, its dates, its diagnosis), what the manifest says (contract, animal) or when the dossier
was sent (two years too late). The truth of each check is then derived from what was actually
written and read (`expected_checks`), never from the recipe: a break the sheet does not show (a
contract number the owner did not write) is no finding.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from .common import chance, pick
from .data import CAT_NAMES, DOG_NAMES, Case

CHECKS = ["AMOUNT_MISMATCH", "DATE_MISMATCH", "ANIMAL_MISMATCH", "CONTRACT_MISMATCH", "CLAIM_TIME_BARRED",
          "EXCLUSION_HINT"]  # contract §5, in its order
BREAK_RATE = 0.08  # per check, on the randomly drawn dossiers
# the committed sample's recipes (scenario.COVERAGE) that also break one check: each has a legible
# care sheet and a legible vet invoice
COVERAGE_BREAKS = {0: ("CONTRACT_MISMATCH",), 2: ("AMOUNT_MISMATCH",), 5: ("ANIMAL_MISMATCH",),
                   6: ("DATE_MISMATCH",), 8: ("CLAIM_TIME_BARRED",), 11: ("DATE_MISMATCH",),
                   19: ("EXCLUSION_HINT",)}
ACTE_DAYS = 45  # the contract's "acte": care within 45 days (general conditions, definitions)
AMOUNT_TOLERANCE = Decimal("0.05")  # rounding between the vet's sheet and his software
# Diagnoses or acts that name an exclusion of chapter 2 C of the general conditions (the generator's own
# table: the reader's keyword list lives in validators/, and is never read here).
EXCLUDED_DIAGNOSES = [
    "Castration de convenance", "Ovariectomie de convenance", "Pose de puce électronique",
    "Identification par tatouage", "Établissement du passeport européen", "Visite comportementale",
    "Parvovirose", "Leptospirose", "Maladie de Carré", "Typhus du chat", "Coryza", "Leucose féline",
    "Incinération", "Autopsie", "Croquettes diététiques", "Complément alimentaire articulaire",
    "Shampoing dermatologique", "Toilettage", "Dentifrice enzymatique"]
EXCLUDED_ACTS = ["Pose de puce électronique", "Passeport européen", "Incinération", "Castration",
                 "Croquettes thérapeutiques", "Shampoing"]
# The invoice line labels this generator prints (invoice_model.py, data.SHOP_NAMES) that name an exclusion of
# chapter 2 C by its own words: food ("frais d'alimentation même diététique, thérapeutique") and cosmetics
# or hygiene ("produits cosmétiques, d'hygiène [...], shampoings"). Not marked, because the clause does
# not name them: litter, toys, harnesses ("confort" is not said of them) and the antiparasitic drugs,
# which the invoices print by brand name only.
EXCLUDED_INVOICE_LINES = ["Alimentation Hill's a/d", "Croquettes Royal Canin 12 kg", "Friandises",
                          "Toilettage complet", "Shampooing"]


@dataclass(frozen=True)
class Breaks:
    """What this dossier gets wrong, and how."""

    codes: tuple[str, ...] = ()
    amount_delta: Decimal = Decimal(0)  # added to the sheet's total
    consultation_shift: int = 0  # days added to the consultation date written on the sheet
    symptoms_after: int = 0  # first symptoms written this many days after the consultation
    manifest_contract: str | None = None
    manifest_animal: str | None = None
    late_days: int = 0  # submission this many days after the last document (beyond two years)


def draw_breaks(rng: np.random.Generator, index: int, covered: bool, case: Case) -> Breaks:
    """The breaks of dossier `index` (fixed for the coverage recipes, random after), with their values."""
    if covered:
        codes = COVERAGE_BREAKS.get(index, ())
    else:
        codes = tuple(c for c in CHECKS if chance(rng, BREAK_RATE))
    b = Breaks(codes=codes)
    if "AMOUNT_MISMATCH" in codes:
        sign = 1 if chance(rng, 0.7) else -1
        b = replace(b, amount_delta=sign * Decimal(int(rng.integers(8, 60))) + Decimal(int(rng.integers(0, 100))) / 100)
    if "DATE_MISMATCH" in codes:
        if chance(rng, 0.5):
            b = replace(b, consultation_shift=-int(rng.integers(ACTE_DAYS + 10, 150)))
        else:
            b = replace(b, symptoms_after=int(rng.integers(4, 30)))
    if "CONTRACT_MISMATCH" in codes:
        b = replace(b, manifest_contract=f"SV-{int(rng.integers(1000, 9999))}-{int(rng.integers(0, 9999)):04d}")
    if "ANIMAL_MISMATCH" in codes:
        pool = [n for n in (DOG_NAMES if case.species == "chien" else CAT_NAMES) if _norm(n) != _norm(case.animal_name)]
        b = replace(b, manifest_animal=pick(rng, pool))
    if "CLAIM_TIME_BARRED" in codes:
        b = replace(b, late_days=2 * 365 + int(rng.integers(15, 300)))
    return b


def excluded_diagnosis(case: Case, b: Breaks, rng: np.random.Generator) -> str | None:
    """The excluded diagnosis the vet writes when the dossier breaks EXCLUSION_HINT (castration and
    ovariectomy only for an animal under 4 years: the exclusion's own condition)."""
    if "EXCLUSION_HINT" not in b.codes:
        return None
    young = (case.visit_date - case.animal_birth).days < 4 * 365
    return pick(rng, [d for d in EXCLUDED_DIAGNOSES if young or "convenance" not in d])


def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKD", s or "")
    return "".join(c for c in s if c.isalnum() and not unicodedata.combining(c)).upper()


def _day(s: str) -> date | None:
    try:
        return date.fromisoformat(s[:10]) if s else None
    except ValueError:
        return None


def _excluded(text: str) -> bool:
    labels = {_norm(x) for x in EXCLUDED_DIAGNOSES + EXCLUDED_ACTS}
    return any(_norm(part) in labels for part in text.replace(";", ",").split(",")) or _norm(text) in labels


def expected_checks(sheet, invoices: list, manifest: dict, invoice_lines: list[str] = ()) -> list[str]:
    """The check codes a careful reader establishes from the truth rows: `sheet` the first legible care
    sheet's DocTruth (or None), `invoices` the legible invoices' DocTruth rows, `manifest` as written,
    `invoice_lines` the line labels those invoices print."""
    found: set[str] = set()
    submitted = _day(manifest.get("submitted_at") or "")
    vet = [i for i in invoices if i.invoice_kind == "veterinary"]
    inv_days = [d for d in (_day(i.invoice_date) for i in vet) if d]
    if sheet is not None:
        total = sheet.care_sheet_total_ttc
        if total and vet and all(i.invoice_total_ttc for i in vet):
            if abs(Decimal(total) - sum(Decimal(i.invoice_total_ttc) for i in vet)) > AMOUNT_TOLERANCE:
                found.add("AMOUNT_MISMATCH")
        consult, symptoms = _day(sheet.care_sheet_consultation_date), _day(sheet.care_sheet_first_symptoms_date)
        if consult and inv_days and min(abs((consult - d).days) for d in inv_days) > ACTE_DAYS:
            found.add("DATE_MISMATCH")
        if consult and symptoms and symptoms > consult:
            found.add("DATE_MISMATCH")
        sheet_days = [_day(getattr(sheet, f"care_sheet_{f}")) for f in
                      ("consultation_date", "first_symptoms_date", "owner_date", "vet_date")]
        if submitted and any(d and d > submitted for d in sheet_days + inv_days):
            found.add("DATE_MISMATCH")
        animal = manifest.get("animal_name")
        if animal and sheet.care_sheet_animal_name and _norm(animal) != _norm(sheet.care_sheet_animal_name):
            found.add("ANIMAL_MISMATCH")
        contract = manifest.get("contract_number")
        if contract and sheet.care_sheet_contract_number and _norm(contract) != _norm(sheet.care_sheet_contract_number):
            found.add("CONTRACT_MISMATCH")
        if _excluded(sheet.care_sheet_diagnosis) or _excluded(sheet.care_sheet_acts):
            found.add("EXCLUSION_HINT")
    excluded_lines = {_norm(x) for x in EXCLUDED_INVOICE_LINES}
    if any(_norm(label) in excluded_lines for label in invoice_lines):
        found.add("EXCLUSION_HINT")
    dated = [d for d in (_day(i.invoice_date) for i in invoices) if d]
    if submitted and dated and min(dated) < _two_years_before(submitted):
        found.add("CLAIM_TIME_BARRED")
    return [c for c in CHECKS if c in found]


def _two_years_before(d: date) -> date:
    try:
        return d.replace(year=d.year - 2)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 2, day=28)


def late_submission(last_doc: date, b: Breaks) -> date:
    """The day the late dossier is sent."""
    return last_doc + timedelta(days=b.late_days)
