"""The issuer's SIRET: 14 digits, Luhn-valid, labelled SIRET, not in the client's block.

A SIRET is printed as '12345678900012' or '123 456 789 00012'. OCR may read a 0 as O,
a 1 as l or I, a 5 as S: such look-alikes inside a digit run are turned into digits only
when the result passes the Luhn check (the check is what makes the correction safe).
The issuer prints its SIRET in its letterhead or footer, next to the word SIRET; a SIRET
in a block opened by "Client", "Destinataire", "Facturé à"... (or the insurer's) is not it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from extractors import vocab
from extractors.invoice.labels import LabelHit
from extractors.invoice.lines import BLOCK_GAP, Line, lines_above, x_overlap

_LOOK = re.escape("".join(vocab.OCR_DIGIT_LOOKALIKES))
# groups of digits apart by a space, a dot, or both ('609.851 .027.00035': OCR sets a dot apart)
_RUN = re.compile(rf"(?<![0-9A-Za-z])[0-9{_LOOK}](?: ?\.? ?[0-9{_LOOK}])+(?![0-9A-Za-z])")
_SIREN = re.compile(r"(?<![\d])(\d{3} ?\d{3} ?\d{3})(?![\d])")
_VAT = re.compile(r"\bfr ?[0-9a-z]{2} ?((?:\d ?){9})(?!\d)")

IDENTITY_ROLES = frozenset({vocab.SIRET, vocab.SIREN, vocab.CLIENT, vocab.NEUTRAL})


def luhn_ok(digits: str) -> bool:
    """The Luhn check every SIREN and SIRET satisfies; False for anything but ASCII digits."""
    if not (digits.isascii() and digits.isdigit()):  # isdigit() alone takes '²' (int() raises) and '٠'
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class SiretHit:
    line: Line
    digits: str
    first: int
    last: int
    corrected: bool  # look-alike letters were turned into digits


def find_sirets(line: Line) -> list[SiretHit]:
    """Luhn-valid 14-digit numbers on a line (look-alikes corrected only when that makes them valid)."""
    out = []
    for m in _RUN.finditer(line.text):
        groups = re.split(r"[ .]+", m.group(0))
        # a look-alike standing apart at either end ('3400976540598 |': a table rule) is not a digit
        while groups and not any(c.isdigit() for c in groups[-1]):
            groups.pop()
        while groups and not any(c.isdigit() for c in groups[0]):
            groups.pop(0)
        raw = "".join(groups)
        # A longer run (an IBAN, a phone number glued on) may start with a SIRET printed in groups.
        options = [raw] if len(raw) == 14 else []
        acc = ""
        for g in groups:
            acc += g
            if len(acc) == 14 and acc != raw:
                options.append(acc)
        for cand in options:
            real_digits = sum(c.isdigit() for c in cand)
            if real_digits < 12:
                continue  # more than two guesses is not a correction any more
            fixed = "".join(vocab.OCR_DIGIT_LOOKALIKES.get(c, c) for c in cand)
            if luhn_ok(fixed):
                first, last = line.word_span(m.start(), m.end())
                out.append(SiretHit(line, fixed, first, last, fixed != cand))
                break
    return out


def lines_to_reread(lines: Sequence[Line], hits: dict[int, list[LabelHit]], limit: int) -> list[Line]:
    """OCR lines where the issuer's SIRET may stand though none was read there: a SIRET / SIREN label,
    or a long digit run that is no valid SIRET (a digit dropped or misread in small print). Labelled
    lines first, at most `limit`."""
    out = []
    for line in lines:
        if not line.ocr or find_sirets(line):
            continue
        labelled = any(h.role in (vocab.SIRET, vocab.SIREN) for h in hits.get(line.index, []))
        long_run = any(sum(c.isdigit() for c in m.group(0)) >= vocab.SIRET_REREAD_MIN_DIGITS
                       for m in _RUN.finditer(line.num))
        if labelled or long_run:
            out.append((not labelled, line.index, line))
    return [line for *_, line in sorted(out, key=lambda t: t[:2])][:limit]


def printed_sirens(lines: Sequence[Line], hits: dict[int, list[LabelHit]]) -> set[str]:
    """SIREN numbers printed next to RCS / SIREN / VAT labels, and in FR VAT numbers."""
    out: set[str] = set()
    for line in lines:
        for m in _VAT.finditer(line.num):
            out.add(m.group(1).replace(" ", ""))
        if any(h.role == vocab.SIREN for h in hits.get(line.index, [])):
            out.update(m.group(1).replace(" ", "") for m in _SIREN.finditer(line.num))
    return {s for s in out if len(s) == 9}


@dataclass(frozen=True, slots=True)
class SiretChoice:
    siret: str | None
    confidence: float
    rejected: tuple[str, ...] = ()  # Luhn-valid SIRETs that belong to someone else (client block)
    evidence: str = ""
    failing_luhn: str | None = None  # with no valid one: 14 digits printed beside a SIRET label that fail Luhn


def choose_siret(lines: Sequence[Line], hits: dict[int, list[LabelHit]]) -> SiretChoice:
    """The issuer's SIRET among all valid ones on the document, with a confidence 0..1."""
    sirens = printed_sirens(lines, hits)
    scored: dict[str, float] = {}
    why: dict[str, str] = {}
    edge: dict[str, float] = {}  # how far from the page's top or bottom edge (share of its height)
    rejected: list[str] = []
    for line in lines:
        line_hits = hits.get(line.index, [])
        for s in find_sirets(line):
            if _in_client_block(lines, line, s, line_hits, hits):
                rejected.append(s.digits)
                continue
            labelled = _labelled(lines, line, s, line_hits, hits)
            score = 1.0 if labelled else vocab.SIRET_UNLABELLED_WEIGHT
            reasons = ["étiquette SIRET" if labelled else "14 chiffres sans étiquette"]
            if s.digits[:9] in sirens:
                score += vocab.SIRET_MATCHES_SIREN_BONUS
                reasons.append("son SIREN imprimé aussi")
            if line.y_share <= vocab.HEADER_SHARE or line.y_share >= 1 - vocab.FOOTER_SHARE:
                score += vocab.SIRET_HEADER_FOOTER_BONUS
            if s.corrected:
                score -= 0.1
                reasons.append("lettres lues comme des chiffres")
            score -= 0.02 * line.page
            if score > scored.get(s.digits, float("-inf")):
                why[s.digits] = " ; ".join(["clé de Luhn juste"] + reasons + [line.place()])
            scored[s.digits] = max(scored.get(s.digits, 0.0), score)
            edge[s.digits] = min(edge.get(s.digits, 1.0), line.y_share, 1.0 - line.y_share)
    if not scored:
        printed = _failing_luhn(lines, hits)
        return SiretChoice(None, 0.0, tuple(rejected), "étiquette SIRET ; clé de Luhn fausse" if printed else "",
                           printed)
    # Equal scores (two labelled SIRETs in the top third: the letterhead's and the addressee's):
    # the issuer's identity sits nearer the page's edge (letterhead, footer) than the addressee's block.
    ranked = sorted(((round(v, 6), -edge[k], k) for k, v in scored.items()), reverse=True)
    best, _, value = ranked[0]
    margin = best - ranked[1][0] if len(ranked) > 1 else 1.0
    conf = min(1.0, max(0.0, 0.6 * min(best, 1.0) + 0.4 * min(1.0, margin * 2)))  # penalties may pass 0
    return SiretChoice(value, round(conf, 3), tuple(rejected), why[value])


_FOURTEEN = re.compile(r"(?<![0-9])((?:[0-9] ?){13}[0-9])(?![0-9])")


def _failing_luhn(lines: Sequence[Line], hits: dict[int, list[LabelHit]]) -> str | None:
    """14 digits printed right after a SIRET label, outside the client's block, that fail the Luhn check
    (a mistyped or sample number): the issuer's number as printed, to be flagged, never corrected."""
    for line in lines:
        line_hits = hits.get(line.index, [])
        for h in line_hits:
            if h.role != vocab.SIRET:
                continue
            rest = line.num[line.starts[h.last] + len(line.words[h.last].text):]
            m = _FOURTEEN.match(rest.lstrip(" :.n°o"))
            if not m:
                continue
            digits = m.group(1).replace(" ", "")
            at = len(line.num) - len(rest)
            first, last = line.word_span(at, len(line.num))
            s = SiretHit(line, digits, first, last, False)
            if not luhn_ok(digits) and not _in_client_block(lines, line, s, line_hits, hits):
                return digits
    return None


def _labelled(lines, line: Line, s: SiretHit, line_hits, hits) -> bool:
    left = [h for h in line_hits if h.last < s.first and h.role != vocab.NEUTRAL]
    if left and left[-1].role == vocab.SIRET:
        return True
    box = line.x_range(s.first, s.last)
    for above in lines_above(lines, line, 1):
        for h in hits.get(above.index, []):
            if h.role == vocab.SIRET and x_overlap(box, above.x_range(h.first, h.last), line.height) > 0:
                return True
    return False


def _in_client_block(lines, line: Line, s: SiretHit, line_hits, hits) -> bool:
    """A client label before it on its line, or over it in the same column a few lines up."""
    if any(h.role == vocab.CLIENT and h.last < s.first for h in line_hits):
        return True
    box = line.x_range(s.first, s.last)
    below = line
    for above in lines_above(lines, line, vocab.CLIENT_BLOCK_LINES):
        if below.top - above.bottom > BLOCK_GAP * line.height:
            break  # a blank gap closes the block
        below = above
        for h in hits.get(above.index, []):
            if h.role == vocab.CLIENT and x_overlap(box, above.x_range(h.first, h.last), line.height) > 0:
                return True
    return False
