"""Six veterinary invoice layouts, as different clinic software prints them (text-layer PDFs).

Each layout takes an `Invoice` and returns PDF bytes. They differ in fonts, header and footer
placement, table style, totals wording, number and date formats; long invoices run over pages.
"""
from __future__ import annotations

import numpy as np
from reportlab.lib.colors import Color, HexColor

from .common import chance, fmt_date, fmt_siret, pick
from .invoice_model import Invoice
from .invoice_parts import Col, Look, amt, client_block, day, legal, make_look, pick_stable, rate, table, totals
from .pdfkit import Doc, new_doc

ACCENTS = [HexColor("#1F4E79"), HexColor("#2E7D32"), HexColor("#6A1B9A"), HexColor("#00695C"), HexColor("#B23A48")]
LIGHTS = [Color(0.93, 0.95, 0.97), Color(0.94, 0.94, 0.94), Color(0.95, 0.97, 0.93)]


def _issuer_rows(inv: Invoice, with_vet: bool = True) -> list[str]:
    s = inv.issuer
    rows = [s.street, f"{s.postcode} {s.town}", f"Tél. {s.phone}"]
    return ([inv.vet_name] if with_vet and inv.vet_name else []) + rows


def _continuation(inv: Invoice, look: Look):
    def go(doc: Doc) -> float:
        doc.text(15, 15, f"{inv.issuer.name} - Facture {inv.number} (suite)", 9, 2)
        doc.text(195, 15, "Page 2", 8, 0, "r")
        return 22.0
    return go


def _line_rows(inv: Invoice, look: Look, cols: str) -> list[list[str]]:
    out = []
    for ln in inv.lines:
        cells = {"date": fmt_date(ln.day, "dmy_slash") if ln.day else "", "label": ln.label, "qty": f"{ln.qty}",
                 "unit": amt(ln.unit, look), "vat": rate(ln.vat), "amount": amt(ln.amount, look)}
        out.append([cells[c] for c in cols.split()])
    return out


def classic(inv: Invoice, rng: np.random.Generator) -> bytes:
    """Clinic top-left, FACTURE top-right, client on the right, gridded table, boxed totals."""
    look = make_look(rng, ["Helvetica", "Liberation", "FreeSans"])
    d, sz = new_doc(look.family), look.size
    d.text(15, 20, inv.issuer.name, 13, 1)
    d.lines(15, 26, _issuer_rows(inv), sz)
    d.text(195, 20, "FACTURE", 18, 1, "r")
    d.text(195, 28, f"N° {inv.number}", sz, 0, "r")
    d.text(195, 33, f"Date : {day(inv.date, look)}", sz, 0, "r")
    d.lines(120, 55, client_block(inv), sz)
    d.text(15, 80, f"Animal : {inv.animal}", sz, 1)
    cols = [Col(15, 37, "Date"), Col(37, 115, "Désignation"), Col(115, 127, "Qté", "c"), Col(127, 152, "P.U. HT", "r"),
            Col(152, 170, "TVA", "c"), Col(170, 195, "Montant HT", "r")]
    y = table(d, cols, _line_rows(inv, look, "date label qty unit vat amount"), 86, 250, sz - 0.5,
              header_fill=pick(rng, LIGHTS), on_new_page=_continuation(inv, look))
    y = totals(d, inv, look, 135, 193, y + 9, sz, box=True)
    if inv.paid_by:
        d.text(15, y + 2, f"Règlement : {inv.paid_by}", sz)
    if inv.due and inv.due != inv.date:
        d.text(15, y + 7, f"Date d'échéance : {fmt_date(inv.due, 'dmy_slash')}", sz)
    d.lines(105, 280, legal(inv, look, rng), 7, align="c")
    return d.finish()


def banded(inv: Invoice, rng: np.random.Generator) -> bytes:
    """A coloured band with the clinic (and its SIRET) in white, zebra table without grid."""
    look = make_look(rng, ["DejaVu", "FreeSans", "Liberation"], ["d_mon_abbr", "d_month_long", "dmy_slash"])
    d, sz = new_doc(look.family), look.size
    accent = pick(rng, ACCENTS)
    d.rect(0, 0, 210, 32, stroke=False, fill=accent)
    white = Color(1, 1, 1)
    d.text(15, 13, inv.issuer.name, 15, 1, colour=white)
    s = inv.issuer
    d.text(15, 20, f"{s.street} - {s.postcode} {s.town} - Tél. {s.phone}", 8, colour=white)
    d.text(15, 25, f"SIRET {fmt_siret(s.siret, look.siret_style)}", 8, colour=white)
    d.text(195, 13, "FACTURE", 16, 1, "r", colour=white)
    d.text(195, 20, f"N° {inv.number}", 9, 0, "r", colour=white)
    d.text(15, 44, f"Facture du {day(inv.date, look)}", sz + 1, 1)
    first = min(ln.day for ln in inv.lines if ln.day)
    d.text(15, 50, f"Consultation du {fmt_date(first, 'dmy_slash')} - {inv.vet_name}", sz)
    d.rect(115, 38, 195, 64, 0.4)
    d.lines(118, 44, client_block(inv), sz)
    d.text(15, 58, f"Patient : {inv.animal}", sz)
    cols = [Col(15, 120, "Désignation"), Col(120, 135, "Quantité", "c"), Col(135, 160, "Prix unitaire HT", "r"),
            Col(160, 195, "Montant HT", "r")]
    y = table(d, cols, _line_rows(inv, look, "label qty unit amount"), 72, 255, sz - 0.5, grid=False,
              zebra=pick(rng, LIGHTS), on_new_page=_continuation(inv, look))
    y = totals(d, inv, look, 130, 195, y + 10, sz, per_rate=chance(rng, 0.5))
    d.text(15, y + 4, "Merci de votre confiance.", sz, 2)
    d.lines(105, 287, legal(inv, look, rng)[1:] or [" "], 6.5, align="c")
    return d.finish()


def ticket(inv: Invoice, rng: np.random.Generator) -> bytes:
    """A till receipt printed on a narrow roll (80 mm), monospaced."""
    look = make_look(rng, ["Courier", "Mono"], ["dmy_dot_short", "dmy_slash"])
    n = len(inv.lines) + len(inv.vat_table())
    d = new_doc(look.family, (80.0, 150.0 + 6 * n))
    s, sz, w = inv.issuer, 8.0, 80.0
    y = d.lines(40, 12, [inv.issuer.name.upper()[:34], s.street, f"{s.postcode} {s.town}", f"Tel {s.phone}",
                         f"SIRET {fmt_siret(s.siret, 1)}"], sz, align="c")
    y = d.lines(5, y + 4, [f"Le {day(inv.date, look)} a {int(rng.integers(8, 19)):02d}:{int(rng.integers(0, 60)):02d}",
                           f"Facture {inv.number}", f"Client : {inv.client.name}"]
                 + ([f"Animal : {inv.animal}"] if inv.animal else []), sz)
    d.text(5, y, "-" * 40, sz)
    y += 5
    for ln in inv.lines:
        d.text(5, y, ln.label[:38], sz)
        d.text(w - 5, y + 3.6, f"{ln.qty} x {amt(ln.unit, look)}  {amt(ln.amount, look)}", sz, 0, "r")
        y += 8
    d.text(5, y, "-" * 40, sz)
    y = totals(d, inv, look, 5, w - 5, y + 5, sz)
    d.lines(40, y + 4, [f"Paiement {inv.paid_by or 'CB'}", "Merci de votre visite", "A bientot !"], sz, align="c")
    return d.finish()


def software(inv: Invoice, rng: np.random.Generator) -> bytes:
    """Practice-management software: meta block with invoice and due dates, coded lines, deposit and balance."""
    look = make_look(rng, ["Liberation", "DejaVuCondensed", "Helvetica"])
    d, sz = new_doc(look.family), look.size - 0.5
    accent = pick(rng, ACCENTS)
    initials = "".join(w[0] for w in inv.issuer.name.split()[-2:]).upper()
    d.rect(15, 12, 33, 30, 0.8, fill=accent)
    d.text(24, 24, initials, 12, 1, "c", colour=Color(1, 1, 1))
    d.text(37, 18, inv.issuer.name, 12, 1)
    d.lines(37, 23, _issuer_rows(inv, with_vet=False), sz)
    meta = [("Facture N°", inv.number), ("Date de facture", day(inv.date, look)),
            ("Échéance", fmt_date(inv.due or inv.date, "dmy_slash")), ("N° client", f"C{int(rng.integers(1000, 99999))}")]
    y = 18
    for k, v in meta:
        d.text(140, y, f"{k} :", sz, 1)
        d.text(195, y, v, sz, 0, "r")
        y += 5
    d.lines(120, 50, client_block(inv), sz)
    d.text(15, 50, f"Vétérinaire : {inv.vet_name}", sz)
    d.text(15, 55, f"Animal : {inv.animal}", sz)
    cols = [Col(15, 35, "Date"), Col(35, 50, "Code"), Col(50, 135, "Libellé"), Col(135, 147, "Qté", "c"),
            Col(147, 170, "PU HT", "r"), Col(170, 195, "Total HT", "r")]
    rows = [[r[0], f"{int(rng.integers(100, 999))}", *r[1:]] for r in _line_rows(inv, look, "date label qty unit amount")]
    y = table(d, cols, rows, 72, 245, sz - 0.5, header_fill=pick(rng, LIGHTS), on_new_page=_continuation(inv, look))
    totals(d, inv, look, 125, 193, y + 9, sz + 0.5, box=chance(rng, 0.5))
    d.lines(105, 282, legal(inv, look, rng), 6.5, align="c")
    return d.finish()


def letter(inv: Invoice, rng: np.random.Generator) -> bytes:
    """A note of fees typed as a letter: 'Ville, le 1er février 2017', serif, 'Doit :' client."""
    look = make_look(rng, ["Times", "LiberationSerif", "FreeSerif"], ["d_month_long"])
    d, sz = new_doc(look.family), look.size + 1
    d.text(20, 22, inv.vet_name, 12, 1)
    d.lines(20, 28, ["Docteur Vétérinaire", inv.issuer.name, *_issuer_rows(inv, with_vet=False)], sz)
    d.text(190, 62, f"{inv.issuer.town}, le {day(inv.date, look)}", sz, 0, "r")
    d.text(105, 78, pick_stable(inv, ["NOTE D'HONORAIRES", "FACTURE"]), 15, 1, "c")
    d.text(105, 84, f"n° {inv.number}", sz, 2, "c")
    d.text(20, 96, "Doit :", sz, 1)
    d.lines(35, 96, client_block(inv), sz)
    d.text(20, 118, f"Pour les soins prodigués à {inv.animal} :", sz)
    y = 128
    for ln in inv.lines:
        label = f"{ln.label}" + (f" (x{ln.qty})" if ln.qty != 1 else "")
        d.text(25, y, label, sz)
        d.text(190, y, amt(ln.amount, look), sz, 0, "r")
        y += 6
    d.line(120, y - 2, 190, y - 2)
    totals(d, inv, look, 120, 190, y + 4, sz)
    d.lines(105, 278, legal(inv, look, rng), 7.5, align="c")
    return d.finish()


def modern(inv: Invoice, rng: np.random.Generator) -> bytes:
    """ISO dates, 'EUR 184.50' amounts, a meta grid row, airy table without vertical rules."""
    look = make_look(rng, ["DejaVu", "Liberation"], ["iso"])
    look = Look(look.family, pick(rng, ["eur_dot", "space_comma_euro"]), "iso", look.total_label, look.siret_style, 9)
    d, sz = new_doc(look.family), look.size
    accent = pick(rng, ACCENTS)
    d.text(15, 24, "FACTURE", 22, 1, colour=accent)
    d.text(195, 16, inv.issuer.name, 11, 1, "r")
    d.lines(195, 21, _issuer_rows(inv, with_vet=False), 8, align="r")
    cols = [Col(15, 60, "Numéro"), Col(60, 105, "Date"), Col(105, 150, "Échéance"), Col(150, 195, "Animal")]
    table(d, cols, [[inv.number, day(inv.date, look), day(inv.due or inv.date, look), inv.animal]], 42, 290, 8.5,
          header_fill=pick(rng, LIGHTS))
    d.text(15, 64, "Facturé à", 8, 2)
    d.lines(15, 69, client_block(inv), sz)
    cols = [Col(15, 40, "Date"), Col(40, 140, "Prestation"), Col(140, 160, "Qté", "r"), Col(160, 195, "Montant HT", "r")]
    y = table(d, cols, _line_rows(inv, look, "date label qty amount"), 92, 250, sz - 0.5, grid=False,
              on_new_page=_continuation(inv, look))
    totals(d, inv, look, 130, 195, y + 10, sz, per_rate=True)
    d.line(15, 272, 195, 272, 0.4, accent)
    d.lines(105, 277, legal(inv, look, rng), 7, align="c")
    return d.finish()


VET_LAYOUTS = {"classic": classic, "banded": banded, "ticket": ticket, "software": software, "letter": letter,
               "modern": modern}
PAGINATING = ("classic", "banded", "software", "modern")  # layouts that can carry a two-page invoice
