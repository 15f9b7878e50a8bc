"""Amounts on an invoice: parse French (and English) money, give each amount the role of
the label it stands by, then choose the total incl. VAT and check it with arithmetic.

Formats: 1 234,56 / 1.234,56 / 184,50 € / EUR 184.50 / 29.99 € TTC / 2,076.76 € /
-233,47 €. An amount belongs to the nearest amount label to its left on its line (or, for
a bare value cell, to the label right above it). The total is not the largest number: it
is the amount of the strongest total label, confirmed by HT + TVA = TTC where the invoice
prints them; a "Solde à payer" after a deposit is the balance, not the total.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Sequence

from core.text import edits
from extractors import vocab
from extractors.invoice.labels import LabelHit, match_labels, said
from extractors.invoice.lines import BLOCK_GAP, Line, compact, is_value_only, lines_above, x_overlap

_SYM = "|".join(re.escape(c) for c in vocab.CURRENCY_SYMBOLS)
_CODES = "|".join(sorted(vocab.CURRENCY_WORDS, key=len, reverse=True))
_LOOKALIKE = "|".join(re.escape(c) for c in vocab.OCR_CURRENCY_LOOKALIKES if c.isalpha())
_CUR = rf"(?:{_SYM}|(?:{_CODES}|{_LOOKALIKE})\b)"
_NUM = (
    r"\d{1,3}(?:[ .'](?:\d{3}))+ ?, ?\d{2}"  # 1 234,56  1.234,56
    r"|\d{1,3}(?:[ ,'](?:\d{3}))+ ?\. ?\d{2}"  # 2,076.76  1 234.56
    r"|\d+ ?[.,] ?\d{2}"  # 184,50  29.99  184, 50 (OCR)
    r"|\d{1,3}(?:[ .](?:\d{3}))+"  # 1 234 (integer with thousands)
    r"|\d+"
)
# An amount of 10^9 € or more is no invoice's (a vet bill is at most thousands of euros): such a digit
# run is a reference, an IBAN or OCR noise. The cap also keeps every sum and quantize we do far inside
# Decimal's 28-digit context, where a 29-digit "amount" raised InvalidOperation.
MAX_AMOUNT_INT_DIGITS = 9  # significant digits before the decimal mark: up to 999 999 999,99 €
# A totals row prints a handful of columns (HT, TVA, TTC, per rate): the a + b = c search over a label's
# run of amounts looks at its last RUN_MAX_AMOUNTS only, which keeps a hostile row of thousands cubic-free.
RUN_MAX_AMOUNTS = 12
# Roles matched as labels left of (or above) an amount; TTC-after-the-amount is looked up apart.
AMOUNT_LABEL_ROLES = (vocab.AMOUNT_ROLES - {vocab.TOTAL_SUFFIX}) | {vocab.NEUTRAL}
_AMOUNT = re.compile(
    rf"(?<![^\s(:=*])(?P<sign>-)?(?:(?P<pre>{_SYM}|{_CODES}) ?)?(?P<num>{_NUM})(?P<post> ?{_CUR})?(?=$|[\s);:*/]|[.,](?:\s|$))"
)


@dataclass(frozen=True, slots=True)
class Amount:
    line: Line
    start: int
    end: int
    first: int
    last: int
    value: Decimal
    decimals: bool  # printed with cents
    currency: bool  # printed with €/EUR


@dataclass(frozen=True, slots=True)
class Placed:
    """An amount with the role its label gives it."""

    amount: Amount
    role: str | None
    weight: float  # label weight x match quality x position factor
    label: str = ""  # the label as the vocabulary spells it ("Total TTC"), for the evidence


@dataclass(frozen=True, slots=True)
class Totals:
    total_ttc: Decimal | None
    total_ht: Decimal | None
    total_tva: Decimal | None
    amount_due: Decimal | None
    confidence: float
    arithmetic: bool  # HT + TVA = TTC (or HT x a VAT rate) was checked and holds
    evidence: str = ""  # the total's label, the checks that held and where it is printed, in French (operators)
    # total_ht / total_tva / amount_due -> (confidence 0..1, evidence): see `_parts`
    parts: dict[str, tuple[float, str]] = field(default_factory=dict)


def _parse(num: str) -> tuple[Decimal, bool] | None:
    """The value of a printed number and whether it had cents; None past MAX_AMOUNT_INT_DIGITS."""
    s = num.replace(" ", "").replace("'", "")
    m = re.search(r"[.,](\d{2})$", s)
    whole, cents = (s[: m.start()], m.group(1)) if m else (s, None)
    whole = re.sub(r"[.,]", "", whole)
    if len(whole.lstrip("0")) > MAX_AMOUNT_INT_DIGITS:
        return None  # checked on the digits, before any Decimal arithmetic can overflow its context
    return (Decimal(f"{whole}.{cents}"), True) if cents is not None else (Decimal(whole), False)


def find_amounts(line: Line, skip: Sequence[tuple[int, int]] = ()) -> list[Amount]:
    """Every amount on the line, left to right; `skip` are character spans already taken (dates)."""
    s = line.num
    for a, b in skip:
        s = s[:a] + "#" * (b - a) + s[b:]
    out = []
    for m in _AMOUNT.finditer(s):
        if re.match(r" ?%", s[m.end() :]):
            continue  # a VAT rate, not money
        parsed = _parse(m.group("num"))
        if parsed is None:
            continue  # implausibly large: not an amount
        value, decimals = parsed
        currency = bool(m.group("pre") or m.group("post"))
        if not decimals and not currency:
            continue  # a bare integer is a quantity, a year, a reference...
        if m.group("sign"):
            value = -value
        first, last = line.word_span(m.start(), m.end())
        out.append(Amount(line, m.start(), m.end(), first, last, value, decimals, currency))
    return out


def place_amounts(
    lines: Sequence[Line], amounts: dict[int, list[Amount]], hits: dict[int, list[LabelHit]]
) -> list[Placed]:
    """Give every amount the role of its label (None when it has none)."""
    placed: list[Placed] = []
    for line in lines:
        line_hits = hits.get(line.index, [])
        runs: dict[int, list[Amount]] = {}  # index of the owning label -> its amounts
        lasts = [h.last for h in line_hits]  # hits are left to right, apart
        worded = next((i for i in range(len(line.words)) if not is_value_only(line, i, i)), len(line.words))
        for a in amounts.get(line.index, []):
            k = bisect.bisect_left(lasts, a.first) - 1  # the nearest label ending left of the amount
            if k >= 0:
                runs.setdefault(k, []).append(a)
            else:
                placed.append(_unlabelled(lines, line, a, a.first <= worded))
        for k, run in runs.items():
            placed.extend(_resolve_run(lines, line_hits[k], run))
    return placed


def _resolve_run(lines: Sequence[Line], owner: LabelHit, run: list[Amount]) -> list[Placed]:
    """A label followed by several amounts ('Total 24,99 5,00 29,99'): which one is it?"""
    role = None if owner.role == vocab.NEUTRAL else owner.role
    w = owner.label.weight * owner.quality
    if len(run) == 1:
        return [Placed(run[0], role, w, owner.label.phrase)]
    pick = len(run) - 1  # the rightmost column is the TTC one on French invoices
    low = max(0, len(run) - RUN_MAX_AMOUNTS)
    for k in range(len(run) - 1, low + 1, -1):  # a + b = c inside the run: c is the total, a and b HT and TVA
        if any(_eq(run[i].value + run[j].value, run[k].value) for i in range(low, k) for j in range(i + 1, k)):
            pick = k
            break
    else:
        guess = True
        for k, a in enumerate(run):
            if _column_header(lines, a) == vocab.TOTAL:
                pick, guess = k, False
        if guess:  # nothing says which column is the total: the rightmost is a guess, and weighs less
            w *= vocab.AMOUNT_RUN_GUESS_FACTOR
    return [Placed(a, role if k == pick else None, w if k == pick else 0.0, owner.label.phrase if k == pick else "")
            for k, a in enumerate(run)]


def _column_header(lines: Sequence[Line], a: Amount) -> str | None:
    """'total' when the nearest header word above the amount says TTC."""
    box = a.line.x_range(a.first, a.last)
    headers = {compact(h) for h in vocab.TTC_COLUMN_HEADERS}
    for above in lines_above(lines, a.line, 12):
        for i, key in enumerate(above.keys):
            if x_overlap(box, above.x_range(i, i)) > 0 and key in headers:
                return vocab.TOTAL
    return None


def _unlabelled(lines: Sequence[Line], line: Line, a: Amount, value_only_before: bool) -> Placed:
    """The role of an amount no label precedes on its line; `value_only_before`: no word left of it has letters."""
    nxt = [k for k in line.keys[a.last + 1 : a.last + 3] if k and k not in vocab.CURRENCY_WORDS]
    if nxt and any(compact(lab.phrase) == nxt[0] for lab in vocab.LABELS if lab.role == vocab.TOTAL_SUFFIX):
        weight = max(lab.weight for lab in vocab.LABELS if lab.role == vocab.TOTAL_SUFFIX)
        return Placed(a, vocab.TOTAL, weight, "… TTC")  # "29,99 € TTC"
    if value_only_before:
        box = line.x_range(a.first, a.last)
        below = line
        for n, above in enumerate(lines_above(lines, line, vocab.TABLE_MAX_ROWS)):
            if below.top - above.bottom > BLOCK_GAP * line.height:
                break
            if n >= 2 and not _value_cell(below, box, line.height):
                break  # past two lines, the header is reached only through a column of values (a table body)
            below = above
            best = None
            for h in match_labels(above, AMOUNT_LABEL_ROLES):
                ov = x_overlap(box, above.x_range(h.first, h.last), slack=line.height)
                if ov > 0 and (best is None or ov > best[0]):
                    best = (ov, h)
            if best:
                h = best[1]
                role = None if h.role == vocab.NEUTRAL else h.role
                return Placed(a, role, h.label.weight * h.quality * vocab.AMOUNT_ABOVE_FACTOR, h.label.phrase)
    return Placed(a, None, 0.0)


def _value_cell(line: Line, box: tuple[int, int], slack: float) -> bool:
    """True when the words of `line` in the column `box` hold no letters (a value, or nothing)."""
    idx = [i for i in range(len(line.words)) if x_overlap(box, line.x_range(i, i), slack=slack) > 0]
    return all(is_value_only(line, i, i) for i in idx)


def _eq(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= Decimal(str(vocab.AMOUNT_TOLERANCE))


def _best(placed: Sequence[Placed], role: str) -> Placed | None:
    cands = [p for p in placed if p.role == role]
    # Strongest label; among equals the last printed (the summary block closes the invoice).
    return max(cands, key=lambda p: (p.weight, p.amount.line.index), default=None)


def _fits_rates(ht: Decimal, ttc: Decimal) -> bool:
    return any(_eq((ht * Decimal(str(1 + r / 100))).quantize(Decimal("0.01")), ttc) for r in vocab.VAT_RATES_PERCENT)


def _sums(placed: Sequence[Placed]) -> list[Decimal]:
    """What the invoice's total would be if it is the sum of its parts: the per-VAT-rate TTC rows
    (several distinct TOTAL-role amounts below one header), or the line items (the last amount of
    every line holding only unlabelled amounts). A total equal to one of these is the grand total,
    however well a single VAT row's own HT + TVA = TTC holds."""
    out = []
    totals = {p.amount.line.index: p.amount.value for p in placed if p.role == vocab.TOTAL and p.weight > 0}
    values = list(totals.values())
    for i, v in enumerate(values):
        others = values[:i] + values[i + 1:]
        if len(others) >= 2 and _eq(sum(others, Decimal(0)), v):
            out.append(v)
    by_line: dict[int, list[Placed]] = {}
    for p in placed:
        by_line.setdefault(p.amount.line.index, []).append(p)
    items = [max(ps, key=lambda p: p.amount.start).amount.value
             for ps in by_line.values() if all(p.role is None for p in ps)]
    if len(items) >= 2:
        out.append(sum(items, Decimal(0)))
    return out


VAT_TABLE_GAP_LINES = 3  # rows of one VAT breakdown are at most this many lines apart
VAT_ROUNDING = Decimal("0.02")  # TVA = HT x rate, each rounded to the cent on its own
_RATE = re.compile(r"(?<![\d.,])(\d{1,2}(?:[.,]\d{1,2})?) ?%")
BREAKDOWN_CONFIDENCE = 0.6  # a total taken from the VAT breakdown against the label it contradicts: never a sure value (< 0.9)


def _is_rate(ht: Decimal, tva: Decimal, rates: Sequence[float]) -> bool:
    return ht > 0 and tva > 0 and any(abs(ht * Decimal(str(r / 100)) - tva) <= VAT_ROUNDING for r in rates if r > 0)


def _vat_row(amounts: Sequence[Amount]) -> Decimal | None:
    """The TTC of a VAT breakdown row, proved by the row itself: 'HT TVA TTC' with HT + TVA = TTC and TVA =
    HT x a VAT rate, or 'rate HT TVA' (the rate printed as a number or with %) with TVA = HT x that rate,
    or the exempt row 'HT 0,00 TTC' with HT = TTC beside a printed '0 %'.
    Two checks in one row: a misread digit rarely passes them, a line item's figures rarely do."""
    if not amounts:
        return None
    vals = [a.value for a in sorted(amounts, key=lambda a: a.start)]
    line = amounts[0].line
    printed = [r for m in _RATE.finditer(line.num)  # a VAT rate printed with %, not a discount's
               if (r := float(m.group(1).replace(",", "."))) in vocab.VAT_RATES_PERCENT]
    for i in range(len(vals) - 2):
        ht, tva, ttc = vals[i : i + 3]
        if _eq(ht + tva, ttc) and _is_rate(ht, tva, vocab.VAT_RATES_PERCENT):
            return ttc
        if 0.0 in printed and tva == 0 and ht > 0 and _eq(ht, ttc):  # the exempt row: "0,00 % 403,80 0,00 403,80"
            return ttc
    for i in range(len(vals) - 1):
        rates = printed + ([float(vals[i - 1])] if i >= 1 and float(vals[i - 1]) in vocab.VAT_RATES_PERCENT else [])
        if _is_rate(vals[i], vals[i + 1], rates):
            return vals[i] + vals[i + 1]
    return None


def breakdown_totals(placed: Sequence[Placed]) -> list[Decimal]:
    """The grand total each VAT breakdown (or HT/TVA/TTC item table) proves: its rows' TTC summed. A row
    equal to the sum of the rows above it is their totals row and closes the table."""
    by_line: dict[int, list[Amount]] = {}
    for p in placed:
        by_line.setdefault(p.amount.line.index, []).append(p.amount)
    tables: list[list[tuple[int, Decimal]]] = []
    for idx in sorted(by_line):
        ttc = _vat_row(by_line[idx])
        if ttc is None:
            continue
        table = tables[-1] if tables else None
        if table is None or idx - table[-1][0] > VAT_TABLE_GAP_LINES or table[-1][0] < 0:
            tables.append([(idx, ttc)])
        elif _eq(sum((v for _i, v in table), Decimal(0)), ttc):
            table.append((-1, Decimal(0)))  # its totals row: the table is closed
        else:
            table.append((idx, ttc))
    return [sum((v for _i, v in t), Decimal(0)) for t in tables]


def _one_digit_off(a: Decimal, b: Decimal) -> bool:
    """The two amounts' digits differ by one edit (one digit lost, added or misread): an OCR slip."""
    return edits(re.sub(r"\D", "", f"{abs(a):.2f}"), re.sub(r"\D", "", f"{abs(b):.2f}")) == 1


def _with_payments(placed: Sequence[Placed]) -> list[Placed]:
    """`placed`, plus each till payment ("CB 11,10") as a weak total candidate: AMOUNT_PAID_WEIGHT, with
    AMOUNT_SUM_BONUS when the same amount is printed on another line too (the receipt's total, its label
    garbled or on a line of its own)."""
    out = list(placed)
    for p in placed:
        if p.role != vocab.PAID or p.amount.value <= 0:
            continue
        again = any(_eq(q.amount.value, p.amount.value) and q.amount.line.index != p.amount.line.index
                    for q in placed if q.role not in (vocab.PAID, vocab.DEPOSIT))
        weight = vocab.AMOUNT_PAID_WEIGHT + (vocab.AMOUNT_SUM_BONUS if again else 0.0)
        out.append(Placed(p.amount, vocab.TOTAL, weight, f"réglé : {p.label}"))
    return out


def choose_totals(placed: Sequence[Placed]) -> Totals:
    """The invoice's total incl. VAT (and HT, TVA, balance due), with a confidence 0..1."""
    ht, tva, due = _best(placed, vocab.HT), _best(placed, vocab.TVA), _best(placed, vocab.DUE)
    # paid by card, cheque or cash beside a balance due: a deposit ("Réglé par carte bancaire", "Solde")
    deposit = _best(placed, vocab.DEPOSIT) or (_best(placed, vocab.PAID) if due is not None else None)
    ht_v = ht.amount.value if ht else None
    tva_v = tva.amount.value if tva else None

    def arithmetic(v: Decimal) -> bool:
        if ht_v is not None and tva_v is not None:
            return _eq(ht_v + tva_v, v)
        return ht_v is not None and _fits_rates(ht_v, v)

    groups: dict[Decimal, list[float]] = {}
    checked: dict[Decimal, bool] = {}
    why: dict[Decimal, tuple[float, str, set[str]]] = {}  # value -> (best score, its label, checks that held)
    n_lines = max((p.amount.line.index for p in placed), default=0) + 1
    breakdowns = breakdown_totals(placed)
    sums = _sums(placed) + breakdowns
    # what was paid (card, cash): on a till receipt it is the total, a check as good as HT + TVA
    paid = [p.amount for p in placed if p.role in (vocab.DEPOSIT, vocab.PAID) and p.amount.value > 0]
    for p in _with_payments(placed):
        if p.role != vocab.TOTAL:
            continue
        v = p.amount.value
        if not p.amount.decimals and abs(v) >= 100 and not arithmetic(v) and arithmetic(v / 100):
            v = v / 100  # OCR lost the decimal comma ("67115€"); the arithmetic says where it was
        adds_up = any(_eq(v, t) for t in sums) or any(_eq(v, a.value) for a in paid if a.line.index != p.amount.line.index)
        ok = arithmetic(v) or adds_up
        score = p.weight + (vocab.AMOUNT_ARITHMETIC_BONUS if arithmetic(v) else 0.0)
        score += vocab.AMOUNT_SUM_BONUS if adds_up else 0.0
        if due is not None and deposit is not None and _eq(v, due.amount.value) and len(placed) > 1:
            score -= vocab.AMOUNT_IS_BALANCE_PENALTY  # "Net à payer" after a deposit is the balance
        score += 0.01 * p.amount.line.index / n_lines
        groups.setdefault(v, []).append(score)
        checked[v] = checked.get(v, False) or ok
        summed = any(_eq(v, t) for t in sums)
        checks = {c for c, held in (("HT + TVA = TTC", arithmetic(v)), ("somme des lignes ou des taux de TVA", summed),
                                    ("égal au montant réglé", adds_up and not summed)) if held}
        before = why.get(v, (float("-inf"), "", set(), ""))
        why[v] = ((score, p.label, before[2] | checks, p.amount.line.place()) if score > before[0]
                  else (*before[:2], before[2] | checks, before[3]))
    due_v = due.amount.value if due else None
    if not groups:
        if due is not None and deposit is None:
            return Totals(due_v, ht_v, tva_v, due_v, 0.5, False, f"solde à payer, pas de total imprimé ; {due.amount.line.place()}",
                          _parts(ht, tva, due, None, False, False))
        if ht_v is not None and tva_v is not None:
            return Totals(ht_v + tva_v, ht_v, tva_v, due_v, 0.3, True, "HT + TVA, pas de total imprimé",
                          _parts(ht, tva, due, None, False, False))
        return Totals(None, ht_v, tva_v, due_v, 0.0, False, "", _parts(ht, tva, due, None, False, False))
    ranked = sorted(((max(s) + vocab.AMOUNT_AGREEMENT_BONUS * (len(s) - 1), v) for v, s in groups.items()), reverse=True)
    best, value = ranked[0]
    margin = best - ranked[1][0] if len(ranked) > 1 else 1.0
    conf = 0.45 * min(best, 1.0) + 0.25 * min(1.0, max(0.0, margin) * 2) + (0.3 if checked[value] else 0.1)
    slip = next((b for b in breakdowns[::-1] if not checked[value] and _one_digit_off(b, value)), None)
    if slip is not None:  # an unchecked total one digit off what the VAT breakdown proves: the breakdown's
        label = why[value][1]
        return Totals(slip, ht_v, tva_v, due_v, BREAKDOWN_CONFIDENCE, True,
                      f"somme du tableau de TVA (HT + TVA = TTC, taux à chaque ligne) ; « {label} » lu {fmt(value)}",
                      _parts(ht, tva, due, slip, False, False))
    if due_v is not None and _eq(due_v, value):
        due_v = None  # the balance only matters when it differs from the total
    if not (ht_v is not None and tva_v is not None and _eq(ht_v + tva_v, value)):
        # a VAT breakdown (one row per rate): the invoice's HT and TVA are the sums of its rows
        ht_rows = {p.amount.line.index: p.amount.value for p in placed if p.role == vocab.HT}
        tva_rows = {p.amount.line.index: p.amount.value for p in placed if p.role == vocab.TVA}
        if len(ht_rows) > 1 and ht_rows.keys() == tva_rows.keys():
            ht_sum, tva_sum = sum(ht_rows.values(), Decimal(0)), sum(tva_rows.values(), Decimal(0))
            if _eq(ht_sum + tva_sum, value):
                ht_v, tva_v = ht_sum, tva_sum
    _, label, checks, place = why[value]
    evidence = " ; ".join([said(label)] + sorted(checks)
                          + ([f"imprimé {len(groups[value])} fois"] if len(groups[value]) > 1 else []) + [place])
    rows = ht_v is not None and (ht is None or ht_v != ht.amount.value)  # HT and TVA summed over the VAT rows
    holds = ht_v is not None and tva_v is not None and _eq(ht_v + tva_v, value)
    balance = due_v is not None and deposit is not None and _eq(value - deposit.amount.value, due_v)
    return Totals(value, ht_v, tva_v, due_v, round(min(max(conf, 0.0), 1.0), 3), checked[value], evidence,
                  _parts(ht, tva, due if due_v is not None else None, value, holds or (ht_v is not None and
                         tva_v is None and _fits_rates(ht_v, value)), balance, rows))


# How sure HT, TVA and the balance due are: a labelled amount that the invoice's own arithmetic ties to its
# total (HT + TVA = TTC, HT x a VAT rate = TTC, total - what was paid = balance) is as sure as a labelled
# total whose arithmetic holds; a labelled amount nothing checks rests on its label alone.
PART_CHECKED = 0.95
PART_ROWS = 0.9  # HT and TVA summed over a VAT breakdown's rows, the sum checked against the total
PART_LABEL_ONLY = 0.5


def _parts(ht: Placed | None, tva: Placed | None, due: Placed | None, total: Decimal | None, checked: bool,
           balance: bool, rows: bool = False) -> dict[str, tuple[float, str]]:
    """Confidence and evidence of HT, TVA and the balance due, beside the chosen total (None: no total)."""
    out: dict[str, tuple[float, str]] = {}
    for name, p, ok in (("total_ht", ht, checked), ("total_tva", tva, checked), ("amount_due", due, balance)):
        if p is None:
            continue
        stood = [said(p.label)]
        if rows and name != "amount_due" and ok:
            out[name] = (round(PART_ROWS * min(1.0, p.weight), 3), " ; ".join(stood + ["somme des taux de TVA = TTC",
                                                                               p.amount.line.place()]))
            continue
        check = {"total_ht": "HT + TVA = TTC", "total_tva": "HT + TVA = TTC",
                 "amount_due": "total - réglé = solde"}[name] if ok and total is not None else ""
        conf = (PART_CHECKED if check else PART_LABEL_ONLY) * min(1.0, p.weight)
        out[name] = (round(conf, 3), " ; ".join(stood + ([check] if check else []) + [p.amount.line.place()]))
    return out


def fmt(v: Decimal | None) -> str | None:
    """Dot decimal, two places, sign as printed: Decimal('-233.47') -> '-233.47'."""
    return None if v is None else f"{v.quantize(Decimal('0.01'))}"
