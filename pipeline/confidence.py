"""How sure the pipeline is of a dossier's decision, and whether a person must look before it is released.

    confidence = the weakest of the facts the decision rests on (each 0..1):
      - readability margin of every care sheet / invoice / prescription read: 0.5 at
        `Settings.readability_threshold`, 1.0 at `review_readability_margin` from it or further;
      - page classification of each legible one: how its type was found (`DocumentResult.identified_by`);
      - care-sheet flags of a legible care sheet: 1.0 when determined, UNKNOWN_FLAG when None; the medical
        section's (its motif boxes' and diagnosis lines' ink against their thresholds) and the vet box's stamp
        and signature flags: their own `CareSheetFacts.<flag>_confidence` when the reader gave one
        (extractors.care_sheet.vet: the deciding measure's margin from its threshold; "no signature" while a
        stroke joined to the stamp's frame runs out of it is 0.4 at most, a signature found with such a
        stroke at least as sure as that stroke's length says — docs/care_sheet.md §4);
      - invoice fields (`Settings.review_invoice_fields`) of a legible invoice: `InvoiceFacts.confidence`
        (an "other" invoice beside a veterinary one decides nothing and is left out);
      - a required document found absent (INVOICE_MISSING, CARE_SHEET_MISSING) rests on every other page
        having been read and typed well enough to say it is not that document (`absence_facts`): a page
        we could not read, read barely (readability, OCR word confidence near their limits) or typed by a
        weak cue may be the missing document itself.
    needs_review = confidence < `Settings.review_below_confidence`, or a reason in `Settings.review_codes`
    (a mismatch between documents, a duplicate, PROCESSING_ERROR).

The weakest link rather than a product: one unsure fact is enough to make the decision unsure, and the
operator is told which (`review_why`). Plain functions over a DossierResult; no Prefect.
"""
from __future__ import annotations

from dataclasses import replace

from core.records import Decision, DocType, DossierResult, InvoiceKind, ReasonCode
from core.settings import Settings

# How sure a document's type is, by how it was found: words and our form's pixels are evidence; the
# client's upload field is a hint (clients get it wrong, contract §1); elimination is a deduction.
CLASSIFICATION_CONFIDENCE = {"text": 1.0, "layout": 1.0, "elimination": 0.8, "slot": 0.5, "": 1.0}
UNKNOWN_FLAG = 0.5  # a care-sheet flag the reader could not determine: the rule did not fire, nothing is known
LOW = "low_confidence"  # review_why prefix of a weak fact, e.g. "low_confidence:readability"
CHECKED_TYPES = (DocType.CARE_SHEET, DocType.INVOICE, DocType.PRESCRIPTION)
FLAGS = ("vet_stamp", "vet_signature", "owner_signature", "medical_section_complete", "dated")
SCORED_FLAGS = ("vet_stamp", "vet_signature", "medical_section_complete")  # CareSheetFacts.<flag>_confidence
# an illegible page beside a required document found absent: it may be that document, nothing says it is
# not (as unsure as an undetermined flag, below it: the client would be asked for a document he sent)
ABSENT_BESIDE_ILLEGIBLE = 0.3
ABSENCE_CODES = {ReasonCode.INVOICE_MISSING: DocType.INVOICE, ReasonCode.CARE_SHEET_MISSING: DocType.CARE_SHEET}


def facts_confidence(result: DossierResult, settings: Settings) -> list[tuple[str, float, str]]:
    """Every fact the decision rests on: (kind, confidence 0..1, where: file/pages/field)."""
    facts: list[tuple[str, float, str]] = []
    t, margin = settings.readability_threshold, settings.review_readability_margin
    vet_invoice = any(d.invoice is not None and d.invoice.kind == InvoiceKind.VETERINARY and d.legible is not False
                      for d in result.documents)
    for doc in result.documents:
        if not doc.pages or doc.doc_type not in CHECKED_TYPES:
            continue  # a file that cannot be opened is a sure fact; "other" pages decide nothing
        where = f"{doc.doc_type} p{doc.pages_label}"
        if doc.readability is not None:
            facts.append(("readability", min(1.0, 0.5 + 0.5 * abs(doc.readability - t) / margin), where))
        if doc.legible is False:
            continue  # illegible: the dossier is illegible whichever required document it is, and its fields do not count
        facts.append(("classification", CLASSIFICATION_CONFIDENCE.get(doc.identified_by, 0.5), where))
        cs = doc.care_sheet
        if doc.doc_type == DocType.CARE_SHEET and cs is not None:
            for flag in FLAGS:
                known = getattr(cs, flag) is not None
                # the vet box's and the medical section's flags carry their own confidence (the reader's
                # margin from its thresholds)
                c = getattr(cs, f"{flag}_confidence", None) if known and flag in SCORED_FLAGS else None
                facts.append(("care_sheet_flags", (1.0 if c is None else float(c)) if known else UNKNOWN_FLAG,
                              f"{where} {flag}"))
        # an "other" invoice (a shop's) decides nothing beside a veterinary one; alone, INVOICE_MISSING rests on its kind
        if doc.invoice is not None and not (doc.invoice.kind == InvoiceKind.OTHER and vet_invoice):
            for name in settings.review_invoice_fields:
                facts.append(("invoice_fields", float(doc.invoice.confidence.get(name, 0.0)), f"{where} {name}"))
    return facts + absence_facts(result, settings)


def _margin(value: float | None, limit: float, margin: float) -> float:
    """0.5 at the limit, 1.0 at `margin` above it or further, down to 0 below it (None: nothing measured, 1.0)."""
    if value is None:
        return 1.0
    return max(0.0, min(1.0, 0.5 + 0.5 * (value - limit) / margin))


def absence_facts(result: DossierResult, settings: Settings) -> list[tuple[str, float, str]]:
    """What a "required document absent" decision rests on: each page that is not a legible copy of the
    missing type could be it. A page read as illegible may be it (ABSENT_BESIDE_ILLEGIBLE); a legible one is
    "not it" as surely as it was read (readability and OCR word confidence above their limits, by the review
    margins) and typed (CLASSIFICATION_CONFIDENCE). Generic: whatever the page's type or file.

    A dossier decided illegible rests on none of it: were any page the missing document, that document
    would be found (legible) or illegible, and "illegible" outranks the rest (validators.rules.decide), so
    the decision stands either way (its reasons would name the document otherwise: that is the message's
    wording, not the decision, and the client sends both again)."""
    if result.decision == Decision.ILLEGIBLE:
        return []
    missing = [t for code, t in ABSENCE_CODES.items() if code in result.reasons]
    facts: list[tuple[str, float, str]] = []
    for doc in result.documents if missing else ():
        if not doc.pages or all(doc.doc_type == t and doc.legible is not False for t in missing):
            continue  # a file that could not be opened has no page to be it; a legible copy is found, not absent
        where = f"{doc.doc_type} p{doc.pages_label} vs {'/'.join(map(str, missing))}"
        if doc.legible is False:
            facts.append(("absent_document", ABSENT_BESIDE_ILLEGIBLE, where))
            continue
        read = min(_margin(doc.readability, settings.readability_threshold, settings.review_readability_margin),
                   _margin(doc.ocr_confidence, settings.min_ocr_confidence, settings.review_ocr_margin))
        typed = CLASSIFICATION_CONFIDENCE.get(doc.identified_by, 0.5)
        facts.append(("absent_document", round(min(read, typed), 3), where))
    return facts


def dossier_confidence(result: DossierResult, settings: Settings) -> float:
    """The weakest fact's confidence (1.0 when the decision rests on none); 0.0 after PROCESSING_ERROR."""
    if ReasonCode.PROCESSING_ERROR in result.reasons:
        return 0.0
    return round(min((c for _k, c, _w in facts_confidence(result, settings)), default=1.0), 3)


def review_why(result: DossierResult, settings: Settings, confidence: float) -> tuple[str, ...]:
    """Why a person must look: the review codes found, then `low_confidence:<kind>` of each weak fact."""
    why = [str(code) for code in result.reasons if str(code) in settings.review_codes]
    if confidence < settings.review_below_confidence:
        weak = [k for k, c, _w in facts_confidence(result, settings) if c < settings.review_below_confidence]
        why += [f"{LOW}:{k}" for k in dict.fromkeys(weak)] or [LOW]
    return tuple(why)


def assess(result: DossierResult, settings: Settings) -> DossierResult:
    """The result with its confidence, needs_review and review_why set (the decision is unchanged)."""
    confidence = dossier_confidence(result, settings)
    why = review_why(result, settings, confidence)
    return replace(result, confidence=confidence, needs_review=bool(why), review_why=why)


def weak_facts(result: DossierResult, settings: Settings) -> list[tuple[str, float, str]]:
    """The facts under the review threshold, weakest first (what the operator is shown)."""
    return sorted((f for f in facts_confidence(result, settings) if f[1] < settings.review_below_confidence),
                  key=lambda f: f[1])
