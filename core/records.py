"""Typed records that travel between the stages: inbox -> load -> normalise -> read -> check -> decide -> write.

Everything here is small and serialisable except `Page.image`, which stays in the
worker that made it (a task boundary carries paths and facts, never pixels).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class Decision(StrEnum):
    ACCEPT = "accept"
    REQUEST_DOCUMENTS = "request_documents"
    ILLEGIBLE = "illegible"


class ReasonCode(StrEnum):
    CARE_SHEET_MISSING = "CARE_SHEET_MISSING"
    INVOICE_MISSING = "INVOICE_MISSING"
    CARE_SHEET_ILLEGIBLE = "CARE_SHEET_ILLEGIBLE"
    INVOICE_ILLEGIBLE = "INVOICE_ILLEGIBLE"
    FILE_UNREADABLE = "FILE_UNREADABLE"
    VET_STAMP_MISSING = "VET_STAMP_MISSING"
    VET_SIGNATURE_MISSING = "VET_SIGNATURE_MISSING"
    OWNER_SIGNATURE_MISSING = "OWNER_SIGNATURE_MISSING"
    MEDICAL_SECTION_INCOMPLETE = "MEDICAL_SECTION_INCOMPLETE"
    CARE_SHEET_UNDATED = "CARE_SHEET_UNDATED"
    PRESCRIPTION_MISSING = "PRESCRIPTION_MISSING"
    # Extensions (the contract allows new codes, never renames).
    MANIFEST_INVALID = "MANIFEST_INVALID"
    PROCESSING_ERROR = "PROCESSING_ERROR"
    DUPLICATE_INVOICE = "DUPLICATE_INVOICE"  # contract §5: the same invoice already sent (operator review)
    # contract §5: the dossier checked against itself, for the operator and the claims handler (no decision)
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    DATE_MISMATCH = "DATE_MISMATCH"
    ANIMAL_MISMATCH = "ANIMAL_MISMATCH"
    CONTRACT_MISMATCH = "CONTRACT_MISMATCH"
    CLAIM_TIME_BARRED = "CLAIM_TIME_BARRED"
    EXCLUSION_HINT = "EXCLUSION_HINT"


class DocType(StrEnum):
    CARE_SHEET = "care_sheet"
    INVOICE = "invoice"
    PRESCRIPTION = "prescription"
    OTHER = "other"


class InvoiceKind(StrEnum):
    VETERINARY = "veterinary"
    PHARMACY = "pharmacy"
    LABORATORY = "laboratory"
    OTHER = "other"


class TextSource(StrEnum):
    TEXT_LAYER = "text_layer"  # pdfplumber words of a PDF's own text
    OCR = "ocr"  # Tesseract


class Capture(StrEnum):
    """How a page reached us, as far as the loader can tell from the file itself."""

    PDF_TEXT = "pdf_text"  # PDF page with a usable text layer
    PDF_IMAGE = "pdf_image"  # PDF page without one (a scan saved as PDF)
    IMAGE = "image"  # JPEG / PNG (scan or phone photo)


@dataclass(frozen=True, slots=True)
class Word:
    """One word with its box in pixels of the page image it was read from."""

    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float  # 0-100; 100 for a text layer
    line: int = 0  # line index within the page, stable reading order

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


@dataclass(frozen=True, slots=True)
class PageText:
    """What a reader found on a page (or a region of it). Same shape whoever read it."""

    words: tuple[Word, ...]
    source: TextSource
    width: int  # pixel size of the image the boxes refer to
    height: int

    @property
    def text(self) -> str:
        """Words joined line by line, in reading order."""
        lines: dict[int, list[str]] = {}
        for w in self.words:
            lines.setdefault(w.line, []).append(w.text)
        return "\n".join(" ".join(ws) for _, ws in sorted(lines.items()))

    @property
    def mean_conf(self) -> float | None:
        """Mean word confidence (0-100), None when nothing was read."""
        confs = [w.conf for w in self.words if w.conf >= 0]
        return sum(confs) / len(confs) if confs else None


@dataclass(slots=True)
class Page:
    """One page of one uploaded file, as loaded. Lives inside a worker only."""

    file: str  # file name as uploaded (manifest)
    number: int  # 1-based page number within the file
    image: np.ndarray  # BGR uint8, upright as far as EXIF says
    dpi: float  # pixels per inch of `image` (estimated for photos)
    capture: Capture
    text_layer: PageText | None = None  # PDF text layer in `image` pixels, when usable
    # Set by normalisation: 3x3 matrix mapping loaded-image pixels to `image` pixels, and what was done.
    transform: np.ndarray | None = None
    steps: tuple[str, ...] = ()
    # (width, height) of the image as loaded, kept with `transform` so that where the capture's own
    # pixels lie in `image` is known (`normalise.footprint`): a deskew fills corners in
    source_size: tuple[int, int] | None = None
    ref: str = ""  # what logs say of this page, e.g. "D-2017-000123 f2 p1": never the client's file name


@dataclass(frozen=True, slots=True)
class Readability:
    """0.0 (unreadable) to 1.0 (clean) and the defects that lowered it, e.g. ("blur", "dark")."""

    score: float
    defects: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Finding:
    code: ReasonCode
    message_fr: str
    evidence: str = ""  # for operators: which file/page/zone and what was measured


@dataclass(frozen=True, slots=True)
class CareSheetFacts:
    """Care-sheet checks. None = not determined (the rule must then not fire)."""

    vet_stamp: bool | None = None
    vet_signature: bool | None = None
    owner_signature: bool | None = None
    medical_section_complete: bool | None = None
    motif_ticked: bool | None = None
    diagnosis_written: bool | None = None
    owner_date: bool | None = None
    vet_date: bool | None = None
    registered: bool | None = None
    registration_error_mm: float | None = None
    qr_payload: str | None = None
    qr_matches_manifest: bool | None = None
    crops: dict[str, str] = field(default_factory=dict)  # zone id -> PNG path of the crop that decided
    notes: tuple[str, ...] = ()
    # the fields read from the form (contract §5, without the care_sheet_ prefix): value (ISO date, dotted
    # amount, chien/chat, yes/no, accident/maladie/prevention, text) or None, and the reader's confidence 0..1
    fields: dict[str, str | None] = field(default_factory=dict)
    field_confidence: dict[str, float] = field(default_factory=dict)
    # how sure the vet box's two flags are (0..1; None when the flag is None): the margin of the measure that
    # decided from its threshold (extractors.care_sheet.vet); their decisive crops are in `crops`
    # ("vet_stamp_decision", "vet_signature_decision")
    vet_stamp_confidence: float | None = None
    vet_signature_confidence: float | None = None
    # how sure medical_section_complete is (None when it is None): its parts' measures against their thresholds
    medical_section_complete_confidence: float | None = None
    # the handwritten total's glyphs, left to right (the last two the cents): each one's probabilities of the
    # digits 0-9 (extractors.care_sheet.amounts); a figure from elsewhere is weighed against them
    total_digits: tuple[tuple[float, ...], ...] = ()

    @property
    def dated(self) -> bool | None:
        if self.owner_date or self.vet_date:
            return True
        if self.owner_date is None or self.vet_date is None:
            return None
        return False


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    invoice_date: str | None = None  # ISO date
    total_ttc: str | None = None  # decimal with a dot, 2 places
    siret: str | None = None  # 14 digits, Luhn-valid
    kind: InvoiceKind | None = None
    invoice_number: str | None = None
    total_ht: str | None = None
    total_tva: str | None = None
    amount_due: str | None = None
    confidence: dict[str, float] = field(default_factory=dict)  # field -> 0..1
    # field -> what the value stood by, in words: the label ("label 'Total TTC'"), the check that held
    # ("HT + TVA = TTC", "line items add up", "paid by card"), or "position only"; for the operator's view
    evidence: dict[str, str] = field(default_factory=dict)
    # the issuer's SIRET as printed beside its label when those 14 digits fail the Luhn check (a mistyped
    # or sample number): never in `siret`, which is always valid, and never the client's
    siret_failing_luhn: str | None = None
    # the text of the lines that print an amount beside no total, tax or payment label: the line items
    # (what validators.consistency reads for EXCLUSION_HINT); kept in the worker's result, not in the CSVs
    item_lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentResult:
    """One detected document (one documents.csv row)."""

    dossier_id: str
    file: str
    pages: tuple[int, ...]
    doc_type: DocType
    capture: Capture | None = None
    readability: float | None = None
    readability_defects: tuple[str, ...] = ()
    ocr_confidence: float | None = None
    care_sheet: CareSheetFacts | None = None
    invoice: InvoiceFacts | None = None
    legible: bool | None = None  # None: not judged
    illegible_why: tuple[str, ...] = ()  # French words a client understands ("photo floue", …)
    thumbnail: str | None = None  # PNG path of the first page, small
    # how its type was found: "text" (words), "layout" (our form's pixels), "slot" (unreadable: the
    # upload field the client used), "elimination" (unreadable, in the slot of a document found elsewhere)
    identified_by: str = ""
    # core.imagehash.dhash of the first page of an invoice (a thumbnail-sized copy): the same invoice sent
    # again, rescanned or re-photographed, is a few bits away (results.duplicates)
    page_hash: str | None = None

    @property
    def pages_label(self) -> str:
        """Page numbers as the contract writes them: `1`, `2-3`, `1,3`."""
        if not self.pages:
            return ""
        ps = sorted(self.pages)
        if ps == list(range(ps[0], ps[-1] + 1)):
            return str(ps[0]) if len(ps) == 1 else f"{ps[0]}-{ps[-1]}"
        return ",".join(map(str, ps))


@dataclass(frozen=True, slots=True)
class DossierResult:
    dossier_id: str
    decision: Decision
    findings: tuple[Finding, ...]
    documents: tuple[DocumentResult, ...]
    processed_at: str  # ISO 8601
    folder: str = ""  # the inbox folder name (may differ from dossier_id)
    # How sure the pipeline is of the decision (pipeline.confidence), and whether a person must look first.
    confidence: float | None = None  # 0..1; None: not assessed
    needs_review: bool = False
    review_why: tuple[str, ...] = ()  # reason codes, or "low_confidence:<what>" (pipeline.confidence)
    reviewed_by: str = ""  # after an operator's review (flows.review)
    reviewed_at: str = ""  # ISO 8601

    @property
    def reasons(self) -> tuple[ReasonCode, ...]:
        seen: list[ReasonCode] = []
        for f in self.findings:
            if f.code not in seen:
                seen.append(f.code)
        return tuple(seen)
