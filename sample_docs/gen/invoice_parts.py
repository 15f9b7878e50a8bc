"""Pieces shared by the invoice layouts: the look of one invoice, the paginated lines table, totals, legal footer."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

import numpy as np

from .common import chance, fmt_amount, fmt_date, fmt_siret, pick
from .invoice_model import Invoice, vat_number
from .pdfkit import Doc

TOTAL_LABELS = ["Total TTC", "Net à payer", "Montant TTC", "Total à payer"]


@dataclass(frozen=True)
class Look:
    """The choices one clinic's software makes: font, number and date formats, wording."""

    family: str
    amount: str  # common.AMOUNT_STYLES
    date: str  # common.DATE_STYLES
    total_label: str
    siret_style: int
    size: float


def make_look(rng: np.random.Generator, families: list[str], dates: list[str] | None = None) -> Look:
    """Draw a look from the families a layout allows."""
    return Look(family=pick(rng, families),
                amount=pick(rng, ["space_comma", "dot_comma", "comma", "comma_euro", "eur_dot"], p=[3, 2, 3, 3, 1]),
                date=pick(rng, dates or ["dmy_slash", "dmy_dot_short", "d_mon_abbr", "d_month_long", "iso"]),
                total_label=pick(rng, TOTAL_LABELS), siret_style=int(rng.integers(0, 3)),
                size=float(rng.uniform(8.5, 10)))


def amt(v: Decimal, look: Look) -> str:
    return fmt_amount(v, look.amount)


def day(d, look: Look) -> str:
    return fmt_date(d, look.date)


def rate(r: Decimal) -> str:
    """20 %, 5,5 %, 2,1 %."""
    s = f"{r * 100:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{s} %"


@dataclass(frozen=True)
class Col:
    x0: float
    x1: float
    header: str
    align: str = "l"  # l / r / c


def table(doc: Doc, cols: list[Col], rows: list[list[str]], y: float, bottom: float, size: float,
          grid: bool = True, zebra=None, header_fill=None, on_new_page: Callable[[Doc], float] | None = None) -> float:
    """Draw a lines table from y; when it reaches `bottom`, start a new page (on_new_page returns the new y)."""
    row_h = size * 0.3528 * 1.9

    def header(y0: float) -> float:
        if header_fill is not None:
            doc.rect(cols[0].x0, y0, cols[-1].x1, y0 + row_h, stroke=grid, fill=header_fill)
        for c in cols:
            doc.text(_ax(c), y0 + row_h * 0.68, c.header, size, 1, c.align)
        if not grid:
            doc.line(cols[0].x0, y0 + row_h, cols[-1].x1, y0 + row_h, 0.8)
        return y0 + row_h

    top = y
    y = header(y)
    for i, row in enumerate(rows):
        if y + row_h > bottom and on_new_page is not None:
            _grid(doc, cols, top, y, grid)
            doc.new_page()
            top = y = on_new_page(doc)
            y = header(y)
        if zebra is not None and i % 2 == 1:
            doc.rect(cols[0].x0, y, cols[-1].x1, y + row_h, stroke=False, fill=zebra)
        for c, cell in zip(cols, row):
            doc.text(_ax(c), y + row_h * 0.68, cell, size, 0, c.align)
        y += row_h
    _grid(doc, cols, top, y, grid)
    return y


def _ax(c: Col) -> float:
    return {"l": c.x0 + 1.5, "r": c.x1 - 1.5, "c": (c.x0 + c.x1) / 2}[c.align]


def _grid(doc: Doc, cols: list[Col], top: float, bottom: float, grid: bool) -> None:
    if grid:
        doc.rect(cols[0].x0, top, cols[-1].x1, bottom, 0.6)
        for c in cols[1:]:
            doc.line(c.x0, top, c.x0, bottom, 0.4)
    else:
        doc.line(cols[0].x0, bottom, cols[-1].x1, bottom, 0.6)


def totals(doc: Doc, inv: Invoice, look: Look, x_label: float, x_val: float, y: float, size: float,
           box: bool = False, per_rate: bool = False) -> float:
    """HT, TVA (per rate if asked), the TTC total under the layout's label, then deposit and balance."""
    rows: list[tuple[str, str, int]] = [("Total HT", amt(inv.total_ht, look), 0)]
    for r, (ht, tva, _) in inv.vat_table().items():
        label = f"TVA {rate(r)}" + (f" sur {amt(ht, look)}" if per_rate else "")
        rows.append((label, amt(tva, look), 0))
    rows.append((look.total_label, amt(inv.total_ttc, look), 1))
    if inv.deposit:
        when = f" le {fmt_date(inv.deposit_date, 'dmy_slash')}" if inv.deposit_date else ""
        rows.append((pick_stable(inv, ["Acompte versé", "Acompte", "Déjà réglé"]) + when, "- " + amt(inv.deposit, look), 0))
        rows.append((pick_stable(inv, ["Solde à payer", "Reste à payer", "Solde dû"]), amt(inv.balance, look), 1))
    lead = size * 0.3528 * 1.7
    if box:
        doc.rect(x_label - 2, y - lead * 0.8, x_val + 2, y + lead * (len(rows) - 0.6), 0.6)
    for label, val, bold in rows:
        doc.text(x_label, y, label, size + bold, bold)
        doc.text(x_val, y, val, size + bold, bold, "r")
        y += lead
    return y


def pick_stable(inv: Invoice, options: list[str]) -> str:
    """A wording that depends on the invoice only (same invoice, same words on every page)."""
    return options[sum(map(ord, inv.number)) % len(options)]


def legal(inv: Invoice, look: Look, rng: np.random.Generator) -> list[str]:
    """Footer mentions: SIRET, VAT number, Ordre, APE, late-payment wording."""
    s = inv.issuer
    siret = fmt_siret(s.siret, look.siret_style)
    parts = [f"SIRET {siret}" if chance(rng, 0.7) else f"SIRET : {siret}", f"N° TVA {vat_number(s.siret)}"]
    if s.extra.get("ordre"):
        parts.append(f"N° Ordre {s.extra['ordre']}")
    if chance(rng, 0.5):
        parts.append("APE 7500Z")
    lines = [" - ".join(parts)]
    if chance(rng, 0.5):
        lines.append("Pénalités de retard : 3 fois le taux d'intérêt légal. Indemnité forfaitaire de recouvrement : 40 €.")
    return lines


def client_block(inv: Invoice) -> list[str]:
    """The client's name and address (with its own SIRET when the client is a business)."""
    c = inv.client
    rows = [c.name, c.street, f"{c.postcode} {c.town}"]
    if inv.client_siret:
        rows.insert(0, pick_stable(inv, ["Élevage du Val Fleuri", "Élevage des Grands Chênes", "Chenil de la Forêt"]))
        rows.append(f"SIRET {fmt_siret(inv.client_siret, 0)}")
    return rows
