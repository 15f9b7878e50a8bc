"""OCR text of a care-sheet zone -> the field's value, validated; each parser returns (value or None, sureness 0..1).

The OCR interface (extractors.pages.ocr) takes no character whitelist, so a zone that only holds
digits is read with the letters handwriting is taken for mapped back to the digits they resemble
(DIGIT_LOOKALIKES) — counted against the reading's sureness.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "U": "0", "I": "1", "l": "1", "|": "1",
                                  "!": "1", "i": "1", "]": "1", "[": "1", "J": "1", "Z": "2", "z": "2",
                                  "S": "5", "s": "5", "$": "5", "B": "8", "G": "6", "b": "6", "T": "7", "?": "7",
                                  "g": "9", "q": "9"})
CONTRACT = re.compile(r"^SV(\w{4})(\w{4})$")  # the insurer's contract numbers: SV-4471-0093 (contract §1)
CHIP_DIGITS = 15  # ISO 11784 transponder code (France: 250 + 12 digits)
TATTOO = re.compile(r"^\d?[A-Z]{3}\d{3}$|^\d[A-Z]{3}\d{3}$")  # French tattoo: 2ABC123 (or the older ABC123)
ORDRE_DIGITS = (4, 6)  # the Ordre's registration numbers on our sheets: 4 to 6 digits
AMOUNT_MAX = Decimal("20000")  # a care sheet's total above this is a misreading, not a vet's bill
AMOUNT = re.compile(r"(\d{1,5})\s*[,.]\s*(\d{2})(?!\d)")
DATE_TEXT = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2,4})")


def _squash(s: str) -> str:
    """The words run together, without the punctuation OCR adds at their ends (a box edge read as '|',
    a speck as '°') or between groups (dashes, dots)."""
    words = [w.strip("|!.,;:'\"°`´-–—_()[]{}") for w in s.split()]
    return re.sub(r"[\-–—_.·:/]", "", "".join(w for w in words if w))


def _as_digits(s: str) -> tuple[str, int]:
    """`s` with look-alike letters read as digits, and how many had to be."""
    mapped = s.translate(DIGIT_LOOKALIKES)
    return mapped, sum(a != b for a, b in zip(s, mapped))


def parse_contract(raw: str) -> tuple[str | None, float]:
    """'SV-4471-0093' (dashes, spaces, look-alikes forgiven) or None."""
    s = _squash(raw).upper().replace("5V", "SV").replace("$V", "SV").replace("SU", "SV")
    m = CONTRACT.match(s)
    if not m:
        return None, 0.0
    a, na = _as_digits(m.group(1))
    b, nb = _as_digits(m.group(2))
    if not (a + b).isdigit():
        return None, 0.0
    return f"SV-{a}-{b}", max(0.3, 1.0 - 0.2 * (na + nb))


def parse_animal_id(raw: str) -> tuple[str | None, float]:
    """A chip (15 digits) or a tattoo (2ABC123), or None."""
    s = _squash(raw).upper()
    d, n = _as_digits(s)
    if len(d) == CHIP_DIGITS and d.isdigit():
        return d, max(0.3, 1.0 - 0.15 * n)
    if TATTOO.match(s):
        return s, 1.0
    return None, 0.0


def parse_ordre(raw: str) -> tuple[str | None, float]:
    """An Ordre registration number (digits), or None."""
    d, n = _as_digits(_squash(raw))
    lo, hi = ORDRE_DIGITS
    if d.isdigit() and lo <= len(d) <= hi:
        return d, max(0.3, 1.0 - 0.2 * n)
    return None, 0.0


def parse_amount(raw: str) -> tuple[str | None, float]:
    """'1 234,56' / '184.50' / '184,50 €' -> '184.50' (plausible: above 0, below AMOUNT_MAX), or None."""
    s = raw.replace("€", " ").replace("EUR", " ")
    s = re.sub(r"(?<=\d)[ ](?=\d{3}\b)", "", s)  # thousands separated by a space
    d, n = _as_digits(re.sub(r"[^\w,.\s|!\[\]/?$]", "", s))
    m = AMOUNT.search(d)
    if not m:
        return None, 0.0
    try:
        v = Decimal(f"{m.group(1)}.{m.group(2)}")
    except InvalidOperation:
        return None, 0.0
    if not Decimal(0) < v < AMOUNT_MAX:
        return None, 0.0
    return f"{v:.2f}", max(0.3, 1.0 - 0.2 * n)


def parse_date_text(raw: str) -> tuple[str, str, str] | None:
    """'13/11/17', '13.11.2017', or a comb's digits '13 11 2017' / '131117' -> (year, month, day) strings,
    two-digit years in 20xx; None otherwise."""
    d, _ = _as_digits(raw.replace(" ", ""))
    m = DATE_TEXT.search(raw) or DATE_TEXT.search(d)
    if m:
        day, month, year = m.groups()
    elif re.fullmatch(r"\d{8}|\d{6}", d):
        day, month, year = d[:2], d[2:4], d[4:]
    else:
        return None
    return ("20" + year if len(year) == 2 else year), month, day


def tidy_text(raw: str) -> str:
    """Free text (a name, a diagnosis) as read: spaces tidied, stray punctuation at the ends dropped."""
    s = re.sub(r"\s+", " ", raw).strip(" |.,;:-_'\"`")
    return unicodedata.normalize("NFC", s)
