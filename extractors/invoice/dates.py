"""Dates on an invoice: find every date in French (or English) print, then pick the invoice's.

Formats: 13/11/2017, 13.11.17, 13-11-2017, 2017-11-13, 13 nov. 2017, 1er février 2017,
02 Juillet 2015, November 3, 2017. The invoice date is chosen by the label it stands by
(same line to its left, or the header right above a bare value), never because it is the
first date: due, payment, delivery, consultation, birth and period dates are excluded
by their labels (extractors/vocab.py).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Sequence

from extractors import vocab
from extractors.invoice.labels import LabelHit, match_labels, said
from extractors.invoice.lines import BLOCK_GAP, Line, lines_above, x_overlap

_MONTH_ALT = "|".join(sorted(vocab.MONTHS, key=len, reverse=True))
_SUFFIX_ALT = "|".join(sorted(vocab.DAY_SUFFIXES, key=len, reverse=True))
# Not inside a longer number or reference ("FA-2017-11-13-001" is a number, not a date).
_NUMERIC = re.compile(r"(?<![\d/.,-])(\d{1,2}) ?([/.-]) ?(\d{1,2}) ?\2 ?(\d{4}|\d{2})(?![\d/]|[.,-]\d)")
_ISO = re.compile(r"(?<![\d/.,-])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d/]|[.,-]\d)")
_TEXT_DMY = re.compile(  # 'ler'/'Ier' is how OCR reads "1er"
    rf"(?<![\w])(\d{{1,2}}|[li](?=er)) ?(?:{_SUFFIX_ALT})?\.?[\s.-]+(?:de\s+)?({_MONTH_ALT})(?![a-z])\.?,?[\s.-]*(\d{{4}}|\d{{2}})(?!\d)"
)
_TEXT_MDY = re.compile(rf"(?<![\w])({_MONTH_ALT})(?![a-z])\.? (\d{{1,2}})(?:{_SUFFIX_ALT})?,? (\d{{4}})(?!\d)")


@dataclass(frozen=True, slots=True)
class DateHit:
    """One date printed on a line; `dmy`/`mdy` are its readings (None when impossible)."""

    line: Line
    start: int  # character span in the line's texts
    end: int
    first: int  # word span
    last: int
    dmy: dt.date | None
    mdy: dt.date | None  # only for numeric dates with '/' or '-', the US reading

    @property
    def ambiguous(self) -> bool:
        return self.dmy is not None and self.mdy is not None and self.dmy != self.mdy


def _year(y: str) -> int:
    v = int(y)
    if len(y) == 2:
        v += 2000 if v < vocab.TWO_DIGIT_YEAR_PIVOT else 1900
    return v


def _make(y: int, m: int, d: int) -> dt.date | None:
    if not vocab.YEAR_MIN <= y <= dt.date.today().year + vocab.YEAR_MAX_AHEAD:
        return None
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def find_dates(line: Line) -> list[DateHit]:
    """Every date printed on the line, left to right."""
    found: list[tuple[int, int, dt.date | None, dt.date | None]] = []
    s = line.num
    for m in _ISO.finditer(s):
        found.append((m.start(), m.end(), _make(int(m.group(1)), int(m.group(3)), int(m.group(4))), None))
    for m in _NUMERIC.finditer(s):
        a, sep, b, y = int(m.group(1)), m.group(2), int(m.group(3)), _year(m.group(4))
        us = _make(y, a, b) if sep in "/-" else None  # nobody writes US dates with dots
        found.append((m.start(), m.end(), _make(y, b, a), us))
    for m in _TEXT_DMY.finditer(s):
        day = int(m.group(1)) if m.group(1).isdigit() else 1
        found.append((m.start(), m.end(), _make(_year(m.group(3)), vocab.MONTHS[m.group(2)], day), None))
    for m in _TEXT_MDY.finditer(s):
        found.append((m.start(), m.end(), _make(int(m.group(3)), vocab.MONTHS[m.group(1)], int(m.group(2))), None))
    found.sort(key=lambda f: (f[0], -f[1]))
    out: list[DateHit] = []
    last_end = -1
    for start, end, dmy, mdy in found:
        if start < last_end or (dmy is None and mdy is None):
            continue
        first, last = line.word_span(start, end)
        out.append(DateHit(line, start, end, first, last, dmy, mdy))
        last_end = end
    return out


def date_order(all_dates: Sequence[DateHit], page_lang: str) -> str:
    """'dmy' or 'mdy' for the document's ambiguous numeric dates.

    Evidence first: a date only valid one way (11/17/2017) settles the document. With
    none, an English page is read the US way (the documented trap: an English invoice
    with 'Invoice Date 11/03/2017' means 3 November), a French one day first."""
    dmy_only = sum(1 for d in all_dates if d.dmy and not d.mdy and _slashed(d))
    mdy_only = sum(1 for d in all_dates if d.mdy and not d.dmy)
    if mdy_only != dmy_only:
        return "mdy" if mdy_only > dmy_only else "dmy"
    return "mdy" if page_lang == "en" else "dmy"


def _slashed(d: DateHit) -> bool:
    return "/" in d.line.num[d.start : d.end]


POSITION_ONLY = "position seule"  # the evidence of a date no label stands by


@dataclass(frozen=True, slots=True)
class DateChoice:
    iso: str | None
    confidence: float
    excluded: tuple[str, ...] = ()  # dates rejected by their label (due, payment...), for tests and logs
    evidence: str = ""  # the label it stood by ("position seule" when none) and where, in French (operators)


def _label_for(hit: DateHit, hits: Sequence[LabelHit], prev_end_word: int) -> LabelHit | None | str:
    """The label deciding a date: nearest strong label left of it since the previous date.

    Returns the hit, None when there is no label at all, or 'connectors' with only 'le'/'du'."""
    seg = [h for h in hits if prev_end_word < h.first and h.last < hit.first]
    strong = [h for h in seg if h.role != vocab.DATE_CONNECTOR]
    if strong:
        return strong[-1]
    return "connectors" if seg else None


def choose_invoice_date(
    lines: Sequence[Line],
    dates: dict[int, list[DateHit]],
    date_hits: dict[int, list[LabelHit]],
    amounts_on_line: dict[int, int],
    page_lang: str,
) -> DateChoice:
    """Pick the invoice date among all dates of a document; ISO string and confidence 0..1."""
    all_dates = [d for ds in dates.values() for d in ds]
    if not all_dates:
        return DateChoice(None, 0.0)
    order = date_order(all_dates, page_lang)
    scored: dict[dt.date, list[float]] = {}
    repeats: dict[dt.date, int] = {}  # occurrences outside table rows (a date on every line item is the acts')
    excluded: list[str] = []
    ambiguous_pick: dict[dt.date, bool] = {}
    why: dict[dt.date, tuple[float, str, str]] = {}  # value -> (best score, what it stood by, where)
    for line in lines:
        prev = -1
        hits = date_hits.get(line.index, [])
        for d in dates.get(line.index, []):
            value = d.mdy if (order == "mdy" and d.mdy) or d.dmy is None else d.dmy
            score, stood_by = _score(lines, line, d, hits, prev, amounts_on_line)
            prev = d.last
            if value is None:
                continue
            if score <= 0:
                excluded.append(value.isoformat())
                continue
            if line.page == 0:
                score += 0.05 * (1 - line.y_share)  # the invoice date sits near the top of page 1
            else:
                score -= 0.05 * min(line.page, 3)
            scored.setdefault(value, []).append(score)
            if value not in why or score > why[value][0]:
                why[value] = (score, stood_by, line.place())
            repeats[value] = repeats.get(value, 0) + (0 if amounts_on_line.get(line.index) else 1)
            ambiguous_pick[value] = ambiguous_pick.get(value, False) or d.ambiguous
    if not scored:
        return DateChoice(None, 0.0, tuple(excluded))
    ranked = sorted(((max(s) + 0.05 * max(repeats[v] - 1, 0), v) for v, s in scored.items()), reverse=True)
    best, value = ranked[0]
    margin = best - ranked[1][0] if len(ranked) > 1 else best
    # clamped: page and table-row penalties can take a lone date's score below 0
    conf = min(1.0, max(0.0, 0.5 * min(best, 1.0) + 0.5 * min(1.0, margin * 2)))
    if ambiguous_pick[value]:
        conf *= 0.8  # day and month could be swapped
    evidence = " ; ".join([why[value][1]] + ([f"imprimée {len(scored[value])} fois"] if len(scored[value]) > 1 else [])
                          + [why[value][2]])
    return DateChoice(value.isoformat(), round(conf, 3), tuple(excluded), evidence)


def _score(
    lines: Sequence[Line], line: Line, d: DateHit, hits: Sequence[LabelHit], prev: int, amounts_on_line: dict[int, int]
) -> tuple[float, str]:
    """The date's weight as the invoice's, and what it stands by in words."""
    lab = _label_for(d, hits, prev)
    if lab is None:  # nothing labels it on its line: a table cell under its column's header?
        lab = _label_above(lines, line, d)
        if isinstance(lab, LabelHit):  # under a "Date" column header: a line item when its row holds amounts
            above = _weight(lab) * vocab.DATE_ABOVE_FACTOR
            if above > 0 and amounts_on_line.get(line.index):
                above = max(above - vocab.DATE_TABLE_ROW_PENALTY, 0.01)
            return above, said(lab.label.phrase, " au-dessus")
    if isinstance(lab, LabelHit):
        if lab.role == vocab.NEUTRAL:
            lab = None
        else:
            return _weight(lab), said(lab.label.phrase)
    score, stood_by = vocab.DATE_UNLABELLED_WEIGHT, POSITION_ONLY
    if lab == "connectors":
        score = max(h.label.weight for h in hits if h.role == vocab.DATE_CONNECTOR and h.last < d.first)
        stood_by = "« le » / « du »"
        if any(h.role in (vocab.NUMBER, vocab.DATE) and h.last < d.first for h in hits):
            score += vocab.DATE_INVOICE_CUE_BONUS
            stood_by += " après le n° de facture"
    if amounts_on_line.get(line.index):
        score -= vocab.DATE_TABLE_ROW_PENALTY
        stood_by += ", sur une ligne de montants"
    return max(score, 0.01), stood_by


def _weight(h: LabelHit) -> float:
    if h.role == vocab.DATE_EXCLUDED:
        return 0.0
    return max(0.01, h.label.weight * h.quality)


def _label_above(lines: Sequence[Line], line: Line, d: DateHit) -> LabelHit | None:
    """A date-family label on one of the two lines above, over the date (a table header)."""
    box = line.x_range(d.first, d.last)
    for above in lines_above(lines, line, 2):
        if line.top - above.bottom > BLOCK_GAP * line.height:
            break
        best = None
        for h in match_labels(above, vocab.DATE_ROLES | {vocab.NEUTRAL}):
            ov = x_overlap(box, above.x_range(h.first, h.last), slack=line.height)
            if ov > 0 and (best is None or ov > best[0]):
                best = (ov, h)
        if best:
            return best[1]
    return None
