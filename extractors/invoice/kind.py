"""The kind of issuer of an invoice: veterinary, pharmacy or laboratory from the vocabulary it
prints (extractors/vocab.KIND_VOCAB), letterhead lines counting more; else other."""
from __future__ import annotations

from extractors import vocab
from extractors.invoice.cues import CueTable, count_cues
from core.records import InvoiceKind

_KIND_TABLE: CueTable = tuple((p, w, kind) for kind, items in vocab.KIND_VOCAB.items() for p, w in items)


def kind_scores(text: str) -> dict[InvoiceKind, float]:
    """Weight of each issuer vocabulary in the text (letterhead lines count double)."""
    raw = count_cues(text, _KIND_TABLE, vocab.KIND_HEADER_LINES)
    return {k: raw.get(k.value, 0.0) for k in (InvoiceKind.VETERINARY, InvoiceKind.PHARMACY, InvoiceKind.LABORATORY)}


def kind_from(scores: dict[InvoiceKind, float]) -> InvoiceKind:
    """The kind whose vocabulary weighs most, when it reaches KIND_MIN_SCORE; else other."""
    kind, best = max(scores.items(), key=lambda kv: kv[1])
    return kind if best >= vocab.KIND_MIN_SCORE else InvoiceKind.OTHER


def invoice_kind(text: str) -> InvoiceKind:
    """veterinary / pharmacy / laboratory from the issuer's vocabulary, else other."""
    return kind_from(kind_scores(text))
