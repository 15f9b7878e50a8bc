"""Care-sheet completeness (chapter 8 of the general conditions): facts -> findings.

One small rule per requirement. A flag that is None ("could not be determined")
never makes its rule fire; a sheet that could not be located on the form, or
whose decisive zones are missing from the picture, is reported once by
`rule_located` (CARE_SHEET_ILLEGIBLE) instead of being guessed.
Evidence comes from the reader's notes ("<flag>: <what was measured>") and the
crop of the zone that decided.
"""
from __future__ import annotations

from collections.abc import Callable

from core.messages import message_fr
from core.records import CareSheetFacts, Finding, ReasonCode

# the flags a complete reading decides, and the part of the sheet each one reads (for the client message)
DECISIVE = {
    "vet_stamp": "cachet du vétérinaire",
    "vet_signature": "signature du vétérinaire",
    "owner_signature": "signature de l'assuré",
    "motif_ticked": "motif de la consultation",
    "diagnosis_written": "diagnostic",
    "owner_date": "date de l'assuré",
    "vet_date": "date du vétérinaire",
}
# the crop (extractors.care_sheet.crops) that shows each flag's zone, named in the evidence
CROP_OF = {
    "vet_stamp": "vet_stamp_signature", "vet_signature": "vet_stamp_signature", "owner_signature": "owner_signature",
    "motif_ticked": "motif", "diagnosis_written": "diagnosis", "owner_date": "owner_date", "vet_date": "vet_date",
}


def evidence(facts: CareSheetFacts, *flags: str) -> str:
    """The reader's notes on these flags, with the crops that show them."""
    parts = [n for n in facts.notes for f in flags if n.startswith(f"{f}:")]
    # the vet box's flags: their confidence (the note says it too) and the crop that decided them
    parts += [f"{f}_confidence: {c:.2f}" for f in flags
              if (c := getattr(facts, f"{f}_confidence", None)) is not None]
    crops = sorted({facts.crops[CROP_OF[f]] for f in flags if CROP_OF.get(f) in facts.crops}
                   | {facts.crops[f"{f}_decision"] for f in flags if f"{f}_decision" in facts.crops})
    if crops:
        parts.append("extrait: " + ", ".join(crops))
    return " | ".join(parts)


def rule_located(facts: CareSheetFacts) -> list[Finding]:
    """The form could not be located, or a decisive zone is out of the picture: the sheet is illegible."""
    if facts.registered is False:
        return [Finding(ReasonCode.CARE_SHEET_ILLEGIBLE,
                        message_fr(ReasonCode.CARE_SHEET_ILLEGIBLE,
                                   "le formulaire n'a pas pu être repéré (photo coupée ou déformée)"),
                        evidence(facts, "registration"))]
    if facts.registered:
        unseen = [name for flag, name in DECISIVE.items() if getattr(facts, flag) is None]
        # one date is enough: an unseen date matters only when the other one is not filled
        if "date de l'assuré" in unseen and facts.vet_date:
            unseen.remove("date de l'assuré")
        if "date du vétérinaire" in unseen and facts.owner_date:
            unseen.remove("date du vétérinaire")
        if unseen:
            return [Finding(ReasonCode.CARE_SHEET_ILLEGIBLE,
                            message_fr(ReasonCode.CARE_SHEET_ILLEGIBLE,
                                       "une partie de la feuille manque sur l'image (" + ", ".join(unseen) + ")"),
                            evidence(facts, "registration", *[f for f in DECISIVE if getattr(facts, f) is None]))]
    return []


def rule_vet_stamp(facts: CareSheetFacts) -> list[Finding]:
    """No professional stamp in the vet box."""
    if facts.vet_stamp is False:
        return [Finding(ReasonCode.VET_STAMP_MISSING, message_fr(ReasonCode.VET_STAMP_MISSING),
                        evidence(facts, "vet_stamp"))]
    return []


def rule_vet_signature(facts: CareSheetFacts) -> list[Finding]:
    """No handwritten signature in the vet box."""
    if facts.vet_signature is False:
        return [Finding(ReasonCode.VET_SIGNATURE_MISSING, message_fr(ReasonCode.VET_SIGNATURE_MISSING),
                        evidence(facts, "vet_signature"))]
    return []


def rule_owner_signature(facts: CareSheetFacts) -> list[Finding]:
    """The owner did not sign the administrative part."""
    if facts.owner_signature is False:
        return [Finding(ReasonCode.OWNER_SIGNATURE_MISSING, message_fr(ReasonCode.OWNER_SIGNATURE_MISSING),
                        evidence(facts, "owner_signature"))]
    return []


def rule_medical_section(facts: CareSheetFacts) -> list[Finding]:
    """The medical part lacks the reason (no motif box ticked) or the diagnosis."""
    if facts.medical_section_complete is not False:
        return []
    missing = [what for what, ok in (("motif de la consultation non coché", facts.motif_ticked),
                                     ("diagnostic non rempli", facts.diagnosis_written)) if ok is False]
    return [Finding(ReasonCode.MEDICAL_SECTION_INCOMPLETE,
                    message_fr(ReasonCode.MEDICAL_SECTION_INCOMPLETE, " et ".join(missing)),
                    evidence(facts, "motif_ticked", "diagnosis_written"))]


def rule_dated(facts: CareSheetFacts) -> list[Finding]:
    """Neither the owner's nor the vet's date is filled."""
    if facts.dated is False:
        return [Finding(ReasonCode.CARE_SHEET_UNDATED, message_fr(ReasonCode.CARE_SHEET_UNDATED),
                        evidence(facts, "owner_date", "vet_date"))]
    return []


# run in this order on every legible care sheet by validators.rules.care_sheet_checks
CARE_SHEET_RULES: list[Callable[[CareSheetFacts], list[Finding]]] = [
    rule_located,
    rule_vet_stamp,
    rule_vet_signature,
    rule_owner_signature,
    rule_medical_section,
    rule_dated,
]
