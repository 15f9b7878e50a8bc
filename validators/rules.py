"""Dossier rules: facts -> findings -> one decision.

Each rule is a small function over `DossierFacts` returning zero or more
findings; `RULES` is their order. `decide` applies the contract's precedence
(illegible > request_documents > accept) in one place.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.messages import IMPLIES, KIND_FR, message_fr
from core.records import DocType, DocumentResult, Decision, Finding, InvoiceKind, ReasonCode
from validators.care_sheet import CARE_SHEET_RULES
from validators.consistency import CONSISTENCY_CHECKS, context

SUPPORTING_KINDS = (InvoiceKind.PHARMACY, InvoiceKind.LABORATORY)  # invoices that need a prescription (contract §2)


@dataclass(frozen=True, slots=True)
class DossierFacts:
    dossier_id: str
    documents: tuple[DocumentResult, ...]  # detected documents of readable files
    unreadable_files: tuple[tuple[str, str], ...] = ()  # (file, why)
    manifest_problems: tuple[str, ...] = ()
    # the manifest's values the dossier is checked against (contract §1; None: not given)
    submitted_at: str | None = None
    contract_number: str | None = None
    animal_name: str | None = None

    def of_type(self, doc_type: DocType) -> list[DocumentResult]:
        return [d for d in self.documents if d.doc_type == doc_type]


Rule = Callable[[DossierFacts], list[Finding]]


def unreadable_files(facts: DossierFacts) -> list[Finding]:
    return [
        Finding(ReasonCode.FILE_UNREADABLE, message_fr(ReasonCode.FILE_UNREADABLE, f"« {name} » ({why})"), name)
        for name, why in facts.unreadable_files
    ]


def manifest_problems(facts: DossierFacts) -> list[Finding]:
    if not facts.manifest_problems:
        return []
    return [Finding(ReasonCode.MANIFEST_INVALID, message_fr(ReasonCode.MANIFEST_INVALID),
                    "; ".join(facts.manifest_problems))]


def _illegible(facts: DossierFacts, doc_type: DocType, code: ReasonCode) -> list[Finding]:
    docs = facts.of_type(doc_type)
    if not docs or any(d.legible is not False for d in docs):
        return []  # absent (another rule) or at least one readable copy
    worst = min(docs, key=lambda d: d.readability if d.readability is not None else 1.0)
    why = ", ".join(worst.illegible_why) or "illisible"
    return [Finding(code, message_fr(code, f"{why} (« {worst.file} », page {worst.pages_label})"),
                    f"{worst.file} p.{worst.pages_label}: readability {worst.readability}, "
                    f"ocr {worst.ocr_confidence}")]


def care_sheet_illegible(facts: DossierFacts) -> list[Finding]:
    return _illegible(facts, DocType.CARE_SHEET, ReasonCode.CARE_SHEET_ILLEGIBLE)


def invoice_illegible(facts: DossierFacts) -> list[Finding]:
    vet_like = [d for d in facts.of_type(DocType.INVOICE) if _may_be_vet_invoice(d)]
    sub = DossierFacts(facts.dossier_id, tuple(vet_like))
    return _illegible(sub, DocType.INVOICE, ReasonCode.INVOICE_ILLEGIBLE)


def care_sheet_missing(facts: DossierFacts) -> list[Finding]:
    # Contract: "no page of the dossier is a care sheet". A file we could not open has no pages, so
    # a care sheet sent only as a corrupt file is missing too (FILE_UNREADABLE says which file).
    if facts.of_type(DocType.CARE_SHEET):
        return []
    return [Finding(ReasonCode.CARE_SHEET_MISSING, message_fr(ReasonCode.CARE_SHEET_MISSING),
                    "aucune page reconnue comme feuille de soins")]


def _is_supporting(doc: DocumentResult) -> bool:
    """A pharmacy or laboratory invoice: it needs a prescription and is not the vet's invoice."""
    return doc.invoice is not None and doc.invoice.kind in SUPPORTING_KINDS


def _may_be_vet_invoice(doc: DocumentResult) -> bool:
    """A veterinary invoice, or one whose issuer could not be read (illegible: judged by its own rule).
    A pharmacy, a lab or any other business (a pet shop's receipt) is not the vet's invoice."""
    return doc.invoice is None or doc.invoice.kind in (None, InvoiceKind.VETERINARY)


def invoice_missing(facts: DossierFacts) -> list[Finding]:
    invoices = facts.of_type(DocType.INVOICE)
    if any(_may_be_vet_invoice(d) for d in invoices):
        return []
    kinds = sorted({KIND_FR[d.invoice.kind] for d in invoices if d.invoice is not None and d.invoice.kind})
    evidence = "aucune facture" if not invoices else "seulement des factures " + "/".join(kinds)  # "…autre/pharmacie"
    return [Finding(ReasonCode.INVOICE_MISSING, message_fr(ReasonCode.INVOICE_MISSING), evidence)]


def prescription_missing(facts: DossierFacts) -> list[Finding]:
    supporting = [d for d in facts.of_type(DocType.INVOICE) if _is_supporting(d)]
    if not supporting or facts.of_type(DocType.PRESCRIPTION):
        return []
    names = ", ".join(f"{d.file} ({d.invoice.kind})" for d in supporting)
    return [Finding(ReasonCode.PRESCRIPTION_MISSING, message_fr(ReasonCode.PRESCRIPTION_MISSING), names)]


def care_sheet_checks(facts: DossierFacts) -> list[Finding]:
    """Stamp, signatures, date, medical section: on every legible care sheet."""
    findings: list[Finding] = []
    for doc in facts.of_type(DocType.CARE_SHEET):
        if doc.legible is False or doc.care_sheet is None:
            continue
        for rule in CARE_SHEET_RULES:
            findings.extend(rule(doc.care_sheet))
    return findings


def consistency_checks(facts: DossierFacts) -> list[Finding]:
    """The dossier against itself: sheet, invoices, QR code, manifest (validators.consistency; no decision)."""
    ctx = context(facts.documents, facts.submitted_at, facts.contract_number, facts.animal_name)
    return [f for check in CONSISTENCY_CHECKS for f in check(ctx)]


RULES: list[Rule] = [
    manifest_problems,
    unreadable_files,
    care_sheet_illegible,
    invoice_illegible,
    care_sheet_missing,
    invoice_missing,
    care_sheet_checks,
    prescription_missing,
    consistency_checks,
]


def evaluate(facts: DossierFacts, rules: list[Rule] | None = None) -> list[Finding]:
    """Every finding of every rule, in rule order, one per (code, evidence)."""
    out: list[Finding] = []
    seen: set[tuple[ReasonCode, str]] = set()
    for rule in rules or RULES:
        for f in rule(facts):
            if (f.code, f.evidence) not in seen:
                seen.add((f.code, f.evidence))
                out.append(f)
    return out


_RANK = {Decision.ACCEPT: 0, Decision.REQUEST_DOCUMENTS: 1, Decision.ILLEGIBLE: 2}


def decide(findings: list[Finding]) -> Decision:
    """The contract's precedence: illegible > request_documents > accept."""
    return max((IMPLIES[f.code] for f in findings), key=_RANK.__getitem__, default=Decision.ACCEPT)
