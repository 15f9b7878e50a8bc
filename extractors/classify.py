"""Page classification by content, and grouping a file's pages into documents.

Content wins over the upload slot; the slot only breaks the tie for a page
nothing can be read from.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from intake.records import DocType

# Cue phrases (accent-free, lower case) and their weights. Field knowledge is data.
CARE_SHEET_CUES: dict[str, float] = {
    "feuille de soins": 3,
    "partie administrative": 1,
    "partie medicale": 1,
    "partie financiere": 1,
    "cachet et signature du veterinaire": 1,
    "signature de l'assure": 1,
    "santevet": 1,
}
INVOICE_CUES: dict[str, float] = {
    "facture": 2,
    "note d'honoraires": 2,
    "recu": 1,
    "avoir": 1,
    "total ttc": 2,
    "montant ttc": 2,
    "net a payer": 2,
    "total a payer": 2,
    "somme a payer": 2,
    "total ht": 1,
    "tva": 1,
    "siret": 1,
    "invoice": 2,
    "total": 1,
}
PRESCRIPTION_CUES: dict[str, float] = {
    "ordonnance": 3,
    "posologie": 2,
    "rp": 1,
    "a renouveler": 1,
    "comprime": 1,
    "fois par jour": 1,
    "pendant": 0.5,
}
CARE_SHEET_MIN = 3.0
INVOICE_MIN = 3.0
PRESCRIPTION_MIN = 3.0
_AMOUNT = re.compile(r"\d[\d .]*[,.]\d{2}\s*(?:€|eur)", re.IGNORECASE)


def normalise_text(text: str) -> str:
    """Lower case, accents stripped, whitespace collapsed: what cue phrases are matched against."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("’", "'")
    return re.sub(r"\s+", " ", text)


def _score(text: str, cues: dict[str, float]) -> float:
    return sum(w for phrase, w in cues.items() if re.search(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", text))


@dataclass(frozen=True, slots=True)
class PageClass:
    doc_type: DocType
    scores: dict[str, float]


def classify_text(text: str) -> PageClass:
    """The document type of a page from its text."""
    t = normalise_text(text)
    care = _score(t, CARE_SHEET_CUES)
    invoice = _score(t, INVOICE_CUES) + (1 if _AMOUNT.search(t) else 0)
    presc = _score(t, PRESCRIPTION_CUES)
    scores = {"care_sheet": care, "invoice": invoice, "prescription": presc}
    if care >= CARE_SHEET_MIN:  # the form also prints "Total TTC" and "ordonnance": it wins first
        doc_type = DocType.CARE_SHEET
    elif presc >= PRESCRIPTION_MIN and presc > invoice:
        doc_type = DocType.PRESCRIPTION
    elif invoice >= INVOICE_MIN:
        doc_type = DocType.INVOICE
    elif presc >= PRESCRIPTION_MIN:
        doc_type = DocType.PRESCRIPTION
    else:
        doc_type = DocType.OTHER
    return PageClass(doc_type, scores)


def group_pages(types: list[DocType]) -> list[tuple[DocType, list[int]]]:
    """Consecutive pages of one type form one document: [(type, [0-based page indexes])]."""
    groups: list[tuple[DocType, list[int]]] = []
    for i, t in enumerate(types):
        if groups and groups[-1][0] == t and t != DocType.CARE_SHEET:  # one care sheet = one page
            groups[-1][1].append(i)
        else:
            groups.append((t, [i]))
    return groups
