"""What an invoice says, before any layout: lines, VAT per rate, totals, deposit, dates, issuer.

Totals are computed the way invoicing software does it, so HT + TVA = TTC holds per rate and
overall. `Invoice.total_ttc` and `Invoice.date` are the truth the evaluation compares with.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from .common import chance, make_cip13, make_siret, money, pick
from .data import ANALYSES, SHOP_NAMES, Case, Party, make_business, make_lab, make_pharmacy


@dataclass(frozen=True)
class Line:
    """One invoice line. `unit` is HT unless the invoice prices in TTC (pharmacies, shops)."""

    label: str
    qty: Decimal
    unit: Decimal
    vat: Decimal  # 0.20, 0.10, 0.055, 0.021
    day: date | None = None
    code: str = ""  # CIP13 for a pharmacy, analysis code for a lab

    @property
    def amount(self) -> Decimal:
        return money(self.qty * self.unit)


@dataclass(frozen=True)
class Invoice:
    """An invoice of any issuer; `kind` is veterinary | pharmacy | laboratory | other."""

    kind: str
    issuer: Party
    client: Party
    number: str
    date: date
    lines: tuple[Line, ...]
    prices_ttc: bool = False
    due: date | None = None
    deposit: Decimal = Decimal("0.00")
    deposit_date: date | None = None
    client_siret: str = ""  # a breeder client has its own SIRET: a second, wrong SIRET on the page
    animal: str = ""
    vet_name: str = ""
    paid_by: str = ""

    def vat_table(self) -> dict[Decimal, tuple[Decimal, Decimal, Decimal]]:
        """rate -> (HT, TVA, TTC), each rounded once per rate."""
        table = {}
        for rate in sorted({ln.vat for ln in self.lines}):
            amounts = sum((ln.amount for ln in self.lines if ln.vat == rate), Decimal("0"))
            if self.prices_ttc:
                ttc = money(amounts)
                ht = money(ttc / (1 + rate))
                table[rate] = (ht, ttc - ht, ttc)
            else:
                ht = money(amounts)
                tva = money(ht * rate)
                table[rate] = (ht, tva, ht + tva)
        return table

    @property
    def total_ht(self) -> Decimal:
        return sum((v[0] for v in self.vat_table().values()), Decimal("0.00"))

    @property
    def total_tva(self) -> Decimal:
        return sum((v[1] for v in self.vat_table().values()), Decimal("0.00"))

    @property
    def total_ttc(self) -> Decimal:
        return self.total_ht + self.total_tva

    @property
    def balance(self) -> Decimal:
        """What remains to pay after the deposit (the 'Solde à payer' trap)."""
        return self.total_ttc - self.deposit


def vat_number(siret: str) -> str:
    """French intra-EU VAT number derived from the SIREN."""
    siren = int(siret[:9])
    return f"FR{(12 + 3 * (siren % 97)) % 97:02d}{siret[:9]}"


def _client(case: Case) -> Party:
    o = case.owner
    return Party(f"{case.owner_first} {case.owner_last.upper()}", o.street, o.postcode, o.town, o.phone)


def vet_invoice(case: Case, rng: np.random.Generator, long: bool = False) -> Invoice:
    """The clinic's invoice for the visit; `long` adds lines so that it runs over two pages."""
    day = case.visit_date + timedelta(days=int(pick(rng, [0, 0, 0, 0, 1, 2, 3])))
    lines = [Line(a, Decimal(1), ht, Decimal("0.20"), case.visit_date) for a, ht in case.acts]
    for drug, _ in case.drugs:
        lines.append(Line(drug, Decimal(int(rng.integers(1, 3))), money(rng.uniform(6, 45)), Decimal("0.20"),
                          case.visit_date))
    if long:
        for i in range(int(rng.integers(24, 34))):
            d = case.visit_date + timedelta(days=i // 6)
            label = pick(rng, ["Hospitalisation (par jour)", "Perfusion NaCl 0,9 %", "Injection Buprénorphine",
                               "Surveillance infirmière", "Pansement", "Injection Méloxicam", "Alimentation Hill's a/d"])
            lines.append(Line(label, Decimal(1), money(rng.uniform(5, 40)), Decimal("0.20"), d))
        day = max(ln.day for ln in lines)
    deposit = Decimal("0.00")
    inv = Invoice("veterinary", case.clinic, _client(case),
                  f"{pick(rng, ['FA', 'F', 'FAC', ''])}{day.year % 100 if chance(rng, .5) else day.year}-{int(rng.integers(100, 99999)):05d}",
                  day, tuple(lines), due=day + timedelta(days=int(pick(rng, [0, 15, 30, 30]))),
                  client_siret=make_siret(rng) if chance(rng, 0.15) else "", animal=case.animal_name,
                  vet_name=case.vet_name, paid_by=pick(rng, ["Carte bancaire", "Chèque", "Espèces", "CB", ""]))
    if chance(rng, 0.25) or long:  # a deposit paid at admission: the balance differs from the total
        deposit = money(min(inv.total_ttc * Decimal("0.4"), Decimal(int(rng.integers(5, 30)) * 10)))
        inv = replace(inv, deposit=deposit, deposit_date=case.visit_date - timedelta(days=int(rng.integers(0, 3))))
    return inv


def pharmacy_invoice(case: Case, rng: np.random.Generator) -> Invoice:
    """A pharmacy's invoice for the prescribed drugs, TTC prices, several VAT rates."""
    rates = [Decimal("0.021"), Decimal("0.055"), Decimal("0.10"), Decimal("0.20")]
    lines = tuple(Line(drug, Decimal(int(rng.integers(1, 3))), money(rng.uniform(4, 38)), pick(rng, rates, p=[2, 1, 2, 4]),
                       code=make_cip13(rng)) for drug, _ in case.drugs)
    if chance(rng, 0.5):
        lines += (Line(pick(rng, ["Seringue 5 ml", "Compresses stériles x10", "Collerette 20 cm", "Sérum physiologique"]),
                       Decimal(1), money(rng.uniform(2, 12)), Decimal("0.20"), code=make_cip13(rng)),)
    day = case.visit_date + timedelta(days=int(rng.integers(0, 3)))
    return Invoice("pharmacy", make_pharmacy(rng), _client(case), f"{int(rng.integers(10000, 999999))}", day, lines,
                   prices_ttc=True, animal=case.animal_name, vet_name=case.vet_name,
                   paid_by=pick(rng, ["CB", "Espèces", "Chèque"]))


def lab_invoice(case: Case, rng: np.random.Generator) -> Invoice:
    """A veterinary laboratory's invoice for analyses, VAT 20 %."""
    picks = rng.choice(len(ANALYSES), int(rng.integers(1, 4)), replace=False)
    sample = case.visit_date
    lines = tuple(Line(ANALYSES[i][0], Decimal(1), money(rng.uniform(*ANALYSES[i][1])), Decimal("0.20"), sample,
                       code=f"{pick(rng, ['H', 'B', 'M', 'U'])}{int(rng.integers(100, 999))}") for i in picks)
    day = sample + timedelta(days=int(rng.integers(1, 8)))
    return Invoice("laboratory", make_lab(rng), _client(case), f"LAB{day.year}{int(rng.integers(10000, 99999))}", day,
                   lines, due=day + timedelta(days=30), animal=case.animal_name, vet_name=case.vet_name)


def shop_receipt(case: Case, rng: np.random.Generator) -> Invoice:
    """A pet shop or groomer's receipt: an invoice, but not a veterinary one."""
    name, item = pick(rng, SHOP_NAMES)
    lines = (Line(item, Decimal(1), money(rng.uniform(15, 90)), Decimal("0.20")),)
    if chance(rng, 0.5):
        lines += (Line(pick(rng, ["Friandises", "Jouet corde", "Shampooing"]), Decimal(int(rng.integers(1, 3))),
                       money(rng.uniform(3, 12)), Decimal("0.20")),)
    day = case.visit_date + timedelta(days=int(rng.integers(-20, 20)))
    return Invoice("other", make_business(rng, name), _client(case), f"T{int(rng.integers(100000, 999999))}", day, lines,
                   prices_ttc=True, paid_by="CB")
