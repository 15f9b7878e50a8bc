"""Non-veterinary documents as text PDFs: pharmacy and laboratory invoices, shop receipts, prescriptions, letters."""
from __future__ import annotations

import io
from datetime import date

import numpy as np
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.utils import ImageReader

from .common import chance, fmt_date, fmt_siret, pick
from .data import Case
from .invoice_model import Invoice
from .invoice_parts import Col, amt, client_block, day, legal, make_look, rate, table, totals
from .layouts_vet import ticket
from .pdfkit import new_doc

GREEN = HexColor("#2E8B57")


def pharmacy(inv: Invoice, rng: np.random.Generator) -> bytes:
    """Pharmacy invoice: FINESS, CIP codes, TTC prices at several VAT rates, a VAT breakdown."""
    look = make_look(rng, ["Helvetica", "Liberation", "DejaVuCondensed"], ["dmy_slash", "d_mon_abbr", "dmy_dot_short"])
    d, sz = new_doc(look.family), look.size - 0.5
    s = inv.issuer
    d.rect(15, 12, 23, 20, stroke=False, fill=GREEN)  # the green cross sign
    d.rect(17.7, 10, 20.3, 22, stroke=False, fill=GREEN)
    d.text(28, 18, s.name.upper(), 13, 1)
    d.lines(28, 24, [s.street, f"{s.postcode} {s.town}", f"Tél. {s.phone}", f"FINESS {s.extra['finess']}"], sz)
    d.text(195, 18, "FACTURE", 15, 1, "r")
    d.lines(195, 25, [f"N° {inv.number}", f"Date : {day(inv.date, look)}"], sz, align="r")
    d.lines(120, 50, client_block(inv), sz)
    d.text(15, 50, f"Prescripteur : {inv.vet_name}", sz)
    if chance(rng, 0.6):  # mentions the prescription: it is not the prescription itself
        d.text(15, 55, f"Ordonnance du {fmt_date(inv.date, 'dmy_slash')} - usage vétérinaire", sz)
    cols = [Col(15, 45, "Code CIP"), Col(45, 120, "Désignation"), Col(120, 132, "Qté", "c"),
            Col(132, 155, "PU TTC", "r"), Col(155, 170, "TVA", "c"), Col(170, 195, "Montant TTC", "r")]
    rows = [[ln.code, ln.label[:42], f"{ln.qty}", amt(ln.unit, look), rate(ln.vat), amt(ln.amount, look)]
            for ln in inv.lines]
    y = table(d, cols, rows, 68, 250, sz - 0.5, header_fill=Color(0.92, 0.96, 0.93))
    vcols = [Col(15, 45, "Taux TVA"), Col(45, 75, "Base HT", "r"), Col(75, 105, "Montant TVA", "r"),
             Col(105, 135, "Total TTC", "r")]
    vrows = [[rate(r), amt(ht, look), amt(tva, look), amt(ttc, look)] for r, (ht, tva, ttc) in inv.vat_table().items()]
    table(d, vcols, vrows, y + 8, 280, sz - 1)
    d.text(150, y + 12, "Total TTC" if chance(rng, 0.7) else look.total_label, sz + 1, 1)
    d.text(195, y + 12, amt(inv.total_ttc, look), sz + 1, 1, "r")
    d.text(150, y + 18, f"Réglé : {inv.paid_by}", sz)
    d.lines(105, 282, [f"SIRET {fmt_siret(s.siret, look.siret_style)} - RCS {s.town}", legal(inv, look, rng)[0].split(" - ")[1]],
            7, align="c")
    return d.finish()


def laboratory(inv: Invoice, rng: np.random.Generator) -> bytes:
    """Laboratory invoice: requesting vet, sample date (not the invoice date), coded analyses, VAT 20 %."""
    look = make_look(rng, ["Helvetica", "FreeSans", "DejaVu"])
    d, sz = new_doc(look.family), look.size - 0.5
    s = inv.issuer
    accent = pick(rng, [HexColor("#004C97"), HexColor("#7B1F3A"), HexColor("#3F6E2A")])
    d.text(15, 18, s.name.upper(), 14, 1, colour=accent)
    d.text(15, 23, "Laboratoire d'analyses vétérinaires agréé", sz, 2)
    d.lines(15, 29, [s.street, f"{s.postcode} {s.town}", f"Tél. {s.phone}"], sz)
    d.text(195, 18, "FACTURE", 15, 1, "r")
    d.lines(195, 25, [f"N° {inv.number}", f"Date de facture : {day(inv.date, look)}"], sz, align="r")
    first = min(ln.day for ln in inv.lines if ln.day)
    d.lines(15, 52, [f"Demandeur : {inv.vet_name}", f"Animal : {inv.animal}",
                     f"Date de prélèvement : {fmt_date(first, 'dmy_slash')}",
                     f"Dossier n° {int(rng.integers(100000, 999999))}"], sz)
    d.lines(120, 52, client_block(inv), sz)
    cols = [Col(15, 35, "Code"), Col(35, 145, "Analyse"), Col(145, 170, "Prix HT", "r"), Col(170, 195, "TVA", "c")]
    rows = [[ln.code, ln.label, amt(ln.amount, look), rate(ln.vat)] for ln in inv.lines]
    y = table(d, cols, rows, 78, 250, sz, header_fill=Color(0.93, 0.93, 0.96))
    y = totals(d, inv, look, 130, 193, y + 10, sz, box=True)
    if inv.due:
        d.text(15, y + 4, f"À régler avant le {fmt_date(inv.due, 'dmy_slash')}", sz)
    d.lines(105, 282, legal(inv, look, rng), 7, align="c")
    return d.finish()


def shop(inv: Invoice, rng: np.random.Generator) -> bytes:
    """A pet shop / groomer receipt (an invoice from another business)."""
    return ticket(inv, rng)


def prescription(case: Case, rng: np.random.Generator, signature_png: bytes | None) -> bytes:
    """'Ordonnance': vet and clinic, N° Ordre, date, animal, 'Rp' then drugs with posology, signature."""
    look = make_look(rng, ["Times", "Helvetica", "LiberationSerif", "Liberation"])
    d, sz = new_doc(look.family), look.size + 1
    c = case.clinic
    d.text(20, 22, case.vet_name, 13, 1)
    d.lines(20, 28, ["Docteur Vétérinaire", c.name, c.street, f"{c.postcode} {c.town}", f"Tél. {c.phone}",
                     f"N° Ordre {case.vet_ordre}"], sz - 1)
    when = case.visit_date
    d.text(190, 70, f"{c.town}, le {fmt_date(when, pick(rng, ['dmy_slash', 'd_month_long']))}", sz, 0, "r")
    d.text(105, 86, "ORDONNANCE", 16, 1, "c")
    d.lines(20, 100, [f"Propriétaire : {case.owner_first} {case.owner_last.upper()}",
                      f"Animal : {case.animal_name} ({case.species}, {case.breed}), "
                      f"{int(rng.integers(3, 40))} kg"], sz)
    d.text(20, 120, pick(rng, ["Rp/", "Rp :", "R/"]), sz + 3, 1)
    y = 130
    for drug, posology in case.drugs:
        d.text(28, y, drug, sz, 1)
        y = d.lines(32, y + 5, d.wrap(posology, 150, sz - 0.5), sz - 0.5, style=2) + 4
    d.text(28, y + 4, "Renouvelable : " + pick(rng, ["non", "1 fois", "non renouvelable"]), sz - 1)
    if signature_png:
        d.image(ImageReader(io.BytesIO(signature_png)), 120, y + 12, 55, 22)
    d.lines(105, 280, ["Médicaments à usage vétérinaire. Respecter les doses prescrites.",
                       "Ne pas laisser à la portée des enfants."], 7, align="c")
    return d.finish()


def owner_letter(case: Case, rng: np.random.Generator, when: date) -> bytes:
    """A typed letter from the owner to the insurer (an attachment: doc_type other)."""
    d = new_doc(pick(rng, ["Times", "Liberation", "FreeSerif"]))
    o = case.owner
    d.lines(20, 25, [f"{case.owner_first} {case.owner_last}", o.street, f"{o.postcode} {o.town}"], 11)
    d.lines(120, 50, ["SantéVet - Service Remboursements", "59, rue de Créqui", "69458 LYON Cedex 06"], 11)
    d.text(190, 75, f"{o.town}, le {fmt_date(when, 'd_month_long')}", 11, 0, "r")
    d.text(20, 92, f"Objet : contrat {case.contract_number} - {case.animal_name}", 11, 1)
    body = (f"Madame, Monsieur, je vous adresse les justificatifs des soins reçus par mon "
            f"{'chien' if case.species == 'chien' else 'chat'} {case.animal_name} le "
            f"{fmt_date(case.visit_date, 'd_month_long')} ({case.diagnosis.lower()}). Je vous remercie de bien "
            f"vouloir procéder au remboursement. Je reste à votre disposition pour tout renseignement complémentaire. "
            f"Veuillez agréer, Madame, Monsieur, mes salutations distinguées.")
    d.lines(20, 108, d.wrap(body, 170, 11), 11, lead=1.6)
    d.text(120, 170, f"{case.owner_first} {case.owner_last}", 11)
    return d.finish()
