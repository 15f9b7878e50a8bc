"""Page classification by content, and grouping a file's pages into documents.

Content wins over the upload slot; the slot only breaks the tie for a page
nothing can be read from (that fallback is the pipeline's, pipeline/dossier.py). The cue phrases and their weights are data, in
`extractors.documents.vocab`; the scores they add up to come from `extractors.documents.scores`.
"""
from __future__ import annotations

from dataclasses import dataclass

from difflib import SequenceMatcher
from typing import Sequence

from extractors.documents import vocab
from extractors.documents.scores import care_sheet_cues, invoice_score, prescription_score
from extractors.invoice.fields import read_invoice
from extractors.invoice.lines import compact, digitise
from core.records import DocType, PageText


@dataclass(frozen=True, slots=True)
class PageClass:
    """A page's type and the scores that decided it ("care_sheet" raw weight, "invoice" and "prescription" 0..1)."""

    doc_type: DocType
    scores: dict[str, float]


def classify_text(text: str) -> PageClass:
    """The document type of a page from its text."""
    care = care_sheet_cues(text)
    invoice = invoice_score(text)
    presc = prescription_score(text)
    scores = {"care_sheet": care, "invoice": invoice, "prescription": presc}
    if care >= vocab.CARE_SHEET_CUE_MIN:  # the form also prints "Total TTC" and "ordonnance": it wins first
        doc_type = DocType.CARE_SHEET
    elif presc >= vocab.PRESCRIPTION_SCORE_THRESHOLD and presc >= invoice + vocab.PRESCRIPTION_OVER_INVOICE_MARGIN:
        doc_type = DocType.PRESCRIPTION
    elif invoice >= vocab.INVOICE_SCORE_THRESHOLD:
        doc_type = DocType.INVOICE
    elif presc >= vocab.PRESCRIPTION_SCORE_THRESHOLD:
        doc_type = DocType.PRESCRIPTION
    else:
        doc_type = DocType.OTHER
    return PageClass(doc_type, scores)


def slot_confirms_invoice(doc_type: DocType, invoice_score: float) -> bool:
    """A legible page of no type, uploaded as the invoice, with some invoice cues: the slot decides."""
    return doc_type == DocType.OTHER and invoice_score >= vocab.INVOICE_SLOT_MIN


def join_continuations(types: list[DocType], invoice_scores: list[float]) -> list[DocType]:
    """Pages of one file: an 'other' page with some invoice cues next to an invoice page is part of it
    (the first page of a long invoice holds the lines, the last one the totals)."""
    out = list(types)
    changed = True
    while changed:
        changed = False
        for i, t in enumerate(out):
            beside = {out[j] for j in (i - 1, i + 1) if 0 <= j < len(out)}
            if t == DocType.OTHER and DocType.INVOICE in beside and invoice_scores[i] >= vocab.INVOICE_CONTINUATION_MIN:
                out[i], changed = DocType.INVOICE, True
    return out


def group_pages(types: list[DocType]) -> list[tuple[DocType, list[int]]]:
    """Consecutive pages of one type form one document: [(type, [0-based page indexes])]."""
    groups: list[tuple[DocType, list[int]]] = []
    for i, t in enumerate(types):
        if groups and groups[-1][0] == t and t != DocType.CARE_SHEET:  # one care sheet = one page
            groups[-1][1].append(i)
        else:
            groups.append((t, [i]))
    return groups


def split_invoices(groups: list[tuple[DocType, list[int]]],
                   texts: Sequence[PageText | None]) -> list[tuple[DocType, list[int]]]:
    """Two invoices printed one after the other in one file are two documents: within a run of invoice
    pages, a page that prints an invoice number of its own, other than the one before it, once the pages
    before it have reached a total, starts the next invoice. (A long invoice repeats its number on
    every page, and its first pages print no total.) `texts[i]`: page i's text, None when not read."""
    out: list[tuple[DocType, list[int]]] = []
    for doc_type, pages in groups:
        if doc_type != DocType.INVOICE or len(pages) < 2:
            out.append((doc_type, pages))
            continue
        current: list[int] = []
        number, totalled = None, False
        for i in pages:
            facts = read_invoice([texts[i]]) if texts[i] is not None else None
            own = facts.invoice_number if facts else None
            if current and own and number and _other_number(own, number) and totalled:
                out.append((doc_type, current))
                current, totalled = [], False
            current.append(i)
            number = own or number
            totalled = totalled or bool(facts and facts.total_ttc)
        out.append((doc_type, current))
    return out


def _other_number(a: str, b: str) -> bool:
    """Two invoice numbers that are not one read twice (OCR may misread a character of it on one page)."""
    x, y = (compact(digitise(n)) for n in (a, b))
    return x != y and SequenceMatcher(None, x, y, autojunk=False).ratio() < vocab.OTHER_NUMBER_MAX_RATIO
