"""The expected answer: reason codes from the documents as built, the decision by the contract's precedence, CSVs.

Reasons are derived from the per-document truth rows only (never from the recipe), so that
`expected_reasons(documents of a dossier)` can be re-checked by anyone reading truth/documents.csv.
"""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, fields

# contract §2, in the order of its table (the order reasons are listed in)
REASON_ORDER = ["CARE_SHEET_MISSING", "INVOICE_MISSING", "CARE_SHEET_ILLEGIBLE", "INVOICE_ILLEGIBLE", "FILE_UNREADABLE",
                "VET_STAMP_MISSING", "VET_SIGNATURE_MISSING", "OWNER_SIGNATURE_MISSING", "MEDICAL_SECTION_INCOMPLETE",
                "CARE_SHEET_UNDATED", "PRESCRIPTION_MISSING"]
ILLEGIBLE_REASONS = {"CARE_SHEET_ILLEGIBLE", "INVOICE_ILLEGIBLE", "FILE_UNREADABLE"}
STATUS_FR = {"accept": "A traiter", "request_documents": "En attente de documents supplémentaires",
             "illegible": "Illisible"}


@dataclass
class DocTruth:
    """One documents.csv truth row: the contract's columns, then ours (capture, legible, dated, ...)."""

    dossier_id: str
    file: str
    pages: str
    doc_type: str
    readability: str = ""
    ocr_confidence: str = ""
    vet_stamp: str = ""
    vet_signature: str = ""
    owner_signature: str = ""
    medical_section_complete: str = ""
    invoice_date: str = ""
    invoice_total_ttc: str = ""
    vet_siret: str = ""
    invoice_kind: str = ""
    capture: str = ""  # text_pdf | scan | photo | degraded | corrupt
    legible: str = "true"
    dated: str = ""  # care sheets: owner_date or vet_date filled
    slot: str = ""
    file_format: str = ""  # what the bytes are: pdf | jpeg | png | truncated_pdf | random_bytes | html | encrypted_pdf | empty
    defects: str = ""
    note: str = ""
    # care sheets: the fields as written (contract §5 names; ISO dates, dotted amounts, '' when not written)
    care_sheet_contract_number: str = ""
    care_sheet_animal_name: str = ""
    care_sheet_species: str = ""
    care_sheet_animal_birth_date: str = ""
    care_sheet_animal_id: str = ""
    care_sheet_consultation_date: str = ""
    care_sheet_first_symptoms_date: str = ""
    care_sheet_surgery: str = ""
    care_sheet_motif: str = ""
    care_sheet_diagnosis: str = ""
    care_sheet_acts: str = ""
    care_sheet_fee_lines: str = ""
    care_sheet_total_ttc: str = ""
    care_sheet_vet_name: str = ""
    care_sheet_vet_ordre_number: str = ""
    care_sheet_owner_date: str = ""
    care_sheet_vet_date: str = ""
    care_sheet_prefilled: str = ""  # the administrative part typed by the insurer (true) or handwritten


@dataclass
class DossierTruth:
    """One dossiers.csv truth row."""

    dossier_id: str
    decision: str
    status_fr: str
    reasons: str
    message_fr: str = ""
    processed_at: str = ""
    capture: str = ""
    scenario: str = ""
    n_files: int = 0
    checks: str = ""  # the operator's check codes (contract §5, gen/consistency.py), |-joined; not in `reasons`


def b(v: bool) -> str:
    """A CSV boolean: true / false."""
    return "true" if v else "false"


def expected_reasons(docs: list[DocTruth]) -> list[str]:
    """Every reason a careful reader can establish from these documents, in the contract's order.

    A corrupt file has no pages: what it was meant to hold counts as absent. An illegible care sheet
    hides its own flags (stamp, signatures, medical part, dates): they are not claimed. An illegible
    vet invoice still counts as present; the other documents are judged as usual.
    """
    found: set[str] = set()
    readable = [d for d in docs if d.capture != "corrupt"]
    if len(readable) < len(docs):
        found.add("FILE_UNREADABLE")
    sheets = [d for d in readable if d.doc_type == "care_sheet"]
    vet = [d for d in readable if d.doc_type == "invoice" and d.invoice_kind == "veterinary"]
    if not sheets:
        found.add("CARE_SHEET_MISSING")
    elif not any(d.legible == "true" for d in sheets):
        found.add("CARE_SHEET_ILLEGIBLE")
    if not vet:
        found.add("INVOICE_MISSING")
    elif not any(d.legible == "true" for d in vet):
        found.add("INVOICE_ILLEGIBLE")
    sheet = next((d for d in sheets if d.legible == "true"), None)
    if sheet is not None:
        for column, code in (("vet_stamp", "VET_STAMP_MISSING"), ("vet_signature", "VET_SIGNATURE_MISSING"),
                             ("owner_signature", "OWNER_SIGNATURE_MISSING"),
                             ("medical_section_complete", "MEDICAL_SECTION_INCOMPLETE"), ("dated", "CARE_SHEET_UNDATED")):
            if getattr(sheet, column) == "false":
                found.add(code)
    bought = any(d.doc_type == "invoice" and d.invoice_kind in ("pharmacy", "laboratory") for d in readable)
    if bought and not any(d.doc_type == "prescription" for d in readable):
        found.add("PRESCRIPTION_MISSING")
    return [r for r in REASON_ORDER if r in found]


def decide(reasons: list[str]) -> str:
    """illegible > request_documents > accept."""
    if ILLEGIBLE_REASONS & set(reasons):
        return "illegible"
    return "request_documents" if reasons else "accept"


def dominant_capture(docs: list[DocTruth]) -> str:
    """The dossier's capture: degraded if any document is, else the most common (ties: photo > scan > text_pdf)."""
    caps = [d.capture for d in docs if d.capture != "corrupt"]
    if "degraded" in caps:
        return "degraded"
    if not caps:
        return "corrupt"
    order = ["photo", "scan", "text_pdf"]
    return max(order, key=lambda c: (caps.count(c), -order.index(c)))


def csv_text(rows: list, cls: type) -> str:
    """CSV (UTF-8, comma, header) with \\n line ends, byte-stable."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=[f.name for f in fields(cls)], lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(asdict(r))
    return buf.getvalue()
