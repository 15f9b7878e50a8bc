"""How much a page's text reads like an invoice, a prescription or our care sheet.

Plain text in, weights out: the cue phrases of extractors/documents/vocab.py counted by the
shared matcher (extractors/invoice/cues.py), the care sheet's own cues subtracted from the
other two because the form prints "Total TTC" and "joindre l'ordonnance". The rule that turns
these scores into a page type is `classify_text` (extractors/documents/classify.py).
"""
from __future__ import annotations

import re

from extractors import vocab
from extractors.documents import vocab as cues
from extractors.invoice.cues import CueTable, count_cues
from extractors.invoice.lines import fold

_MONEY = re.compile(r"\d[\d .]*[,.]\d{2} ?(?:€|eur\b)|(?:€|\beur) ?\d[\d .]*[,.]\d{2}\b")
_LABELLED_AMOUNT = re.compile(
    r"\b(?:%s)\b[^\n\d]{0,20}\d{1,6} ?[.,] ?\d{2}(?![.,/]?\d)" % "|".join(cues.INVOICE_LABELLED_AMOUNT_WORDS))
# One table, so that where cues of two page types overlap the longest phrase wins once.
_DOC_TABLE: CueTable = (
    tuple((p, w, "invoice") for p, w in cues.INVOICE_CUES)
    + tuple((p, w, "prescription") for p, w in cues.PRESCRIPTION_CUES)
    + tuple((p, w, "care_sheet") for p, w in cues.CARE_SHEET_CUES)
)


def care_sheet_cues(text: str) -> float:
    """Raw weight of our form's printed titles ("feuille de soins", "partie médicale"...) in the text."""
    return count_cues(text, _DOC_TABLE).get("care_sheet", 0.0)


def invoice_score(text: str) -> float:
    """0..1: how much the text reads like an invoice or receipt (a care sheet scores 0)."""
    raw = count_cues(text, _DOC_TABLE)
    folded = fold(text)
    money = min(len(_MONEY.findall(folded)), vocab.CUE_MAX_REPEATS) * cues.INVOICE_MONEY_WEIGHT
    labelled = min(len(_LABELLED_AMOUNT.findall(folded)), vocab.CUE_MAX_REPEATS) * cues.INVOICE_LABELLED_AMOUNT_WEIGHT
    net = raw.get("invoice", 0.0) + money + labelled - raw.get("care_sheet", 0.0)
    return max(0.0, min(1.0, net / cues.INVOICE_SCORE_SATURATION))


def prescription_score(text: str) -> float:
    """0..1: how much the text reads like a prescription (ordonnance, Rp, posologie...)."""
    raw = count_cues(text, _DOC_TABLE)
    net = raw.get("prescription", 0.0) - raw.get("care_sheet", 0.0)
    return max(0.0, min(1.0, net / cues.PRESCRIPTION_SCORE_SATURATION))
