"""Comparing strings as OCR gets them wrong: one place for the edit distance and the folding.

Used by the invoice reader (a total one digit off its VAT breakdown) and by the dossier's
checks against itself (an animal name or contract number read with a slip).
"""
from __future__ import annotations

import unicodedata


def norm(s: str | None) -> str:
    """Upper case, no accents, letters and digits only."""
    s = unicodedata.normalize("NFKD", s or "")
    return "".join(c for c in s if c.isalnum() and not unicodedata.combining(c)).upper()


def edits(a: str, b: str) -> int:
    """Levenshtein distance: letters lost, added or misread."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
