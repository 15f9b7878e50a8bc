"""The same invoice sent twice, across dossiers and over time (contract §5, DUPLICATE_INVOICE).

An invoice of a new dossier is a duplicate of one already in the results database when they
have the same issuer SIRET and invoice number; or the same SIRET, date and total TTC; or a
first page whose perceptual hash (core.imagehash.dhash) is a few bits from the other's, with at
least one of number, date and total read alike on both and none read differently. A whole page's
64 bits are mostly its layout: two invoices of one clinic's template can be 3 bits apart (measured
on sample_docs/inbox: 17 invoices, closest pairs 3 and 4 bits), and a page mostly blank hashes to
nearly all zeros; the hash alone flagged 4 of the 200 dossiers of the seed-7 set, each time beside
an invoice nothing was read from. With the fields' agreement, 0.
The decision does not change: the dossier goes to an operator's review, with the earlier id.
"""
from __future__ import annotations

from dataclasses import replace as with_fields
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.imagehash import hamming
from core.messages import message_fr
from core.records import DocType, DossierResult, Finding, InvoiceFacts, ReasonCode
from results.db import engine_for, run
from results.models import Document, Dossier
from results.store import result_key

# dHash bits two captures of one page differ by: a rescan, a recompressed JPEG ~0-4; different
# invoices from one clinic's template ~10 and more (the figures of the dHash literature, 64 bits)
DHASH_MAX_BITS = 6


def _earlier(session: Session, key: str, *where) -> list[tuple[str, str]]:  # noqa: ANN002
    q = (select(Dossier.dossier_id, Dossier.key).join(Document, Document.dossier_pk == Dossier.id)
         .where(Dossier.key != key, Document.doc_type == str(DocType.INVOICE), *where)
         .order_by(Dossier.saved_at, Dossier.id))
    return [(row.dossier_id, row.key) for row in session.execute(q)]


def _same_invoice(inv: InvoiceFacts, number: str | None, day: str | None, total: str | None) -> bool:
    """Whether the fields read on both sides say one invoice: at least one of number, date (ISO) and total
    ("123.40", contract §3) read alike, and none read differently."""
    pairs = [(a, b) for a, b in ((inv.invoice_number, number), (inv.invoice_date, day), (inv.total_ttc, total))
             if a and b]
    return bool(pairs) and all(a == b for a, b in pairs)


def find_duplicates(out: Path, result: DossierResult, *,
                    max_hash_bits: int = DHASH_MAX_BITS) -> list[tuple[str, str]]:
    """The earlier dossiers (other keys, already in the database) holding one of `result`'s invoices.

    Returns (earlier dossier_id, why in French for the operator), one per earlier dossier, oldest first.
    """
    key = result_key(result)

    def search(session: Session) -> list[tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}  # earlier key -> (dossier_id, why): the first reason found
        hashed: list[tuple[str, str, str]] | None = None
        for doc in result.documents:
            inv = doc.invoice
            if doc.doc_type != DocType.INVOICE or inv is None:
                continue
            checks = []
            if inv.siret and inv.invoice_number:
                checks.append(((Document.vet_siret == inv.siret, Document.invoice_number == inv.invoice_number),
                               f"même SIRET {inv.siret} et même numéro de facture {inv.invoice_number}"))
            if inv.siret and inv.invoice_date and inv.total_ttc:
                checks.append(((Document.vet_siret == inv.siret, Document.invoice_date == inv.invoice_date,
                                Document.invoice_total_ttc == inv.total_ttc),
                               f"même SIRET {inv.siret}, même date {inv.invoice_date} et même total {inv.total_ttc}"))
            for where, why in checks:
                for dossier_id, other in _earlier(session, key, *where):
                    found.setdefault(other, (dossier_id, f"{doc.file} : {why}"))
            if doc.page_hash:
                if hashed is None:  # every earlier invoice's hash, fetched once; compared here (64-bit XOR)
                    hashed = list(session.execute(
                        select(Document.page_hash, Document.invoice_number, Document.invoice_date,
                               Document.invoice_total_ttc, Dossier.dossier_id, Dossier.key)
                        .join(Dossier, Document.dossier_pk == Dossier.id)
                        .where(Dossier.key != key, Document.doc_type == str(DocType.INVOICE),
                               Document.page_hash.is_not(None))
                        .order_by(Dossier.saved_at, Dossier.id)))
                for other_hash, number, day, total, dossier_id, other in hashed:
                    bits = hamming(doc.page_hash, other_hash)
                    if bits <= max_hash_bits and _same_invoice(inv, number, day, total):
                        found.setdefault(other, (dossier_id, f"{doc.file} : page presque identique "
                                                             f"(empreinte à {bits} bit(s) sur 64)"))
        return list(found.values())

    return run(engine_for(out), search)


def duplicate_findings(out: Path, result: DossierResult) -> tuple[Finding, ...]:
    """One DUPLICATE_INVOICE finding per earlier dossier holding one of `result`'s invoices."""
    return tuple(Finding(ReasonCode.DUPLICATE_INVOICE, message_fr(ReasonCode.DUPLICATE_INVOICE),
                         f"déjà envoyée dans le dossier {earlier} ({why})")
                 for earlier, why in find_duplicates(out, result))


def with_duplicates(out: Path, result: DossierResult) -> DossierResult:
    """`result` with its DUPLICATE_INVOICE findings added (the decision is unchanged: contract §5)."""
    extra = tuple(f for f in duplicate_findings(out, result) if f not in result.findings)
    return with_fields(result, findings=result.findings + extra) if extra else result
