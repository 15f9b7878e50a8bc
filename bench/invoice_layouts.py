"""Invoice reader on many generated layouts it was not written against: text layer and OCR.

    .venv/bin/python bench/invoice_layouts.py [-n 60] [--seed 7] [--ocr] [--rows]

Each invoice is drawn with reportlab from random choices: issuer kind (vet, pharmacy,
laboratory, shop), where the letterhead and the SIRET sit (header or footer, grouped or
not), a client block (sometimes with the client's own SIRET), the date label and format,
a due date printed before the invoice date, dated line items, the totals block (HT/TVA/TTC,
TTC only, Net à payer, deposit + balance, a totals row under column headers, a stacked
label over its value), the amount style, and sometimes a credit note. The PDF is read
through its text layer; with --ocr the loader's rendering of it is also skewed a little,
noised, and read by Tesseract. Prints exact-match rates per field and path.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_B = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]
ABBR = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
ISSUERS = {
    "veterinary": (["Clinique Vétérinaire des Tilleuls", "Cabinet Vétérinaire du Parc", "Centre Hospitalier Vétérinaire Atlantia",
                    "Clinique vétérinaire Saint-Roch"], ["Consultation", "Vaccin CHPPiL", "Radiographie 2 vues",
                    "Détartrage sous anesthésie", "Hospitalisation 24 h", "Metacam 1,5 mg/ml 32 ml"], "Dr Marie Dupont, docteur vétérinaire - N° Ordre 12345"),
    "pharmacy": (["Pharmacie du Marché", "Grande Pharmacie des Halles"], ["Clavaseptin 250 mg cp", "Previcox 57 mg cp",
                 "Surolan 15 ml"], "Jean Petit, docteur en pharmacie - FINESS 690012345"),
    "laboratory": (["Laboratoire d'Analyses Vétérinaires du Rhône", "LABOVET Diagnostics - biologie vétérinaire"],
                   ["Numération formule sanguine", "Biochimie 8 paramètres", "Sérologie FIV / FeLV", "T4 totale"],
                   "Biologiste responsable : Dr Anne Roux"),
    "other": (["Animalis", "Toilettage Chic & Chien", "Jardiland Lyon Est"], ["Croquettes 12 kg", "Toilettage complet",
              "Harnais anti-traction", "Litière 10 L"], "Magasin ouvert du lundi au samedi"),
}


def luhn_complete(prefix: str) -> str:
    for d in "0123456789":
        s = prefix + d
        tot = sum((int(c) * 2 - 9 if int(c) > 4 else int(c) * 2) if i % 2 else int(c) for i, c in enumerate(reversed(s)))
        if tot % 10 == 0:
            return s
    raise AssertionError


def siret(r: random.Random) -> str:
    siren = luhn_complete(str(r.randint(1, 9)) + "".join(str(r.randint(0, 9)) for _ in range(7)))
    return luhn_complete(siren + "000" + str(r.randint(1, 9)))


def fmt_siret(s: str, r: random.Random) -> str:
    return r.choice([s, f"{s[:3]} {s[3:6]} {s[6:9]} {s[9:]}", f"{s[:3]}.{s[3:6]}.{s[6:9]}.{s[9:]}"])


def fmt_date(d: date, r: random.Random) -> str:
    day = "1er" if d.day == 1 else str(d.day)
    return r.choice([d.strftime("%d/%m/%Y"), d.strftime("%d.%m.%y"), f"{d.day} {ABBR[d.month - 1]} {d.year}",
                     f"{day} {MONTHS[d.month - 1]} {d.year}", d.isoformat(), d.strftime("%d-%m-%Y"),
                     f"{d.day:02d} {MONTHS[d.month - 1].capitalize()} {d.year}"])


def fmt_amount(v: Decimal, style: int) -> str:
    sign = "-" if v < 0 else ""
    units, cents = f"{abs(v):.2f}".split(".")
    groups = []
    while len(units) > 3:
        groups.insert(0, units[-3:])
        units = units[:-3]
    groups.insert(0, units)
    return [f"{sign}{' '.join(groups)},{cents} €", f"{sign}{'.'.join(groups)},{cents}", f"{sign}{''.join(groups)},{cents} €",
            f"EUR {sign}{''.join(groups)}.{cents}", f"{sign}{' '.join(groups)},{cents}", f"{sign}{''.join(groups)},{cents}€"][style]


def money(v) -> Decimal:
    return Decimal(str(v)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def make(seed: int) -> tuple[list[tuple[float, float, str, float, bool]], dict]:
    """(x_mm, y_mm, text, size_pt, bold) items of one invoice and its truth."""
    r = random.Random(seed)
    kind = r.choice(list(ISSUERS))
    names, items, sub = ISSUERS[kind]
    issuer, own = r.choice(names), siret(r)
    inv_date = date(2017, 1, 1) + timedelta(days=r.randint(0, 900))
    astyle = r.randrange(6)
    credit = r.random() < 0.1
    out: list[tuple[float, float, str, float, bool]] = []
    hx = r.choice([15, 110])  # letterhead left or right, client block opposite
    cx = 125 if hx == 15 else 15
    out += [(hx, 15, issuer, 13, True), (hx, 21, "12 rue des Lilas 69003 Lyon", 9, False), (hx, 26, sub, 8, False)]
    siret_in_footer = r.random() < 0.4
    if not siret_in_footer:
        out.append((hx, 31, r.choice(["SIRET", "N° SIRET :", "Siret"]) + " " + fmt_siret(own, r), 9, False))
    client_siret = siret(r) if r.random() < 0.3 else None
    out += [(cx, 45, r.choice(["Client", "Facturé à :", "Destinataire", "Adresse de facturation"]), 9, True),
            (cx, 50, "M. Jean Martin", 9, False), (cx, 55, "8 avenue Jean Jaurès 75011 Paris", 9, False)]
    if client_siret:
        out.append((cx, 60, "SIRET " + fmt_siret(client_siret, r), 9, False))
    title = "AVOIR" if credit else r.choice(["FACTURE", "Facture", "NOTE D'HONORAIRES", "Facture acquittée"])
    number = f"{'AV' if credit else 'F'}-{inv_date.year}-{r.randint(100, 9999)}"
    y = 72
    due = inv_date + timedelta(days=30)
    style = r.randrange(5)
    if r.random() < 0.3:  # a due date printed before the invoice date
        out.append((15, y, f"Date d'échéance : {fmt_date(due, r)}", 9, False)); y += 6
    if style == 0:
        out += [(15, y, f"{title} n° {number}", 12, True), (15, y + 7, f"Date de facture : {fmt_date(inv_date, r)}", 9, False)]
    elif style == 1:
        out += [(15, y, f"{title} {number} du {fmt_date(inv_date, r)}", 12, True)]
    elif style == 2:
        out += [(15, y, f"{title} N° {number}", 12, True), (15, y + 7, "Date", 9, True), (60, y + 7, "Échéance", 9, True),
                (15, y + 12, fmt_date(inv_date, r), 9, False), (60, y + 12, fmt_date(due, r), 9, False)]
    elif style == 3:
        out += [(15, y, f"{title} {number}", 12, True), (110, y, f"Lyon, le {fmt_date(inv_date, r)}", 9, False)]
    else:
        out += [(15, y, f"{title} : {number}", 12, True), (15, y + 7, "Date d'émission", 9, False), (60, y + 7, fmt_date(inv_date, r), 9, False)]
    y += 24
    rate = Decimal({"veterinary": "20", "pharmacy": r.choice(["10", "20", "5.5"]), "laboratory": "20", "other": "20"}[kind])
    lines = [(r.choice(items), money(r.uniform(8, 260))) for _ in range(r.randint(1, 5))]
    sign = -1 if credit else 1
    ht = money(sum(p for _, p in lines)) * sign
    tva = money(ht * rate / 100)
    ttc = ht + tva
    out += [(15, y, "Désignation", 9, True), (150, y, "Montant HT", 9, True)]
    for label, p in lines:
        y += 6
        text = label + (f" du {fmt_date(inv_date - timedelta(days=r.randint(0, 5)), r)}" if r.random() < 0.2 else "")
        out += [(15, y, text, 9, False), (150, y, fmt_amount(p * sign, astyle), 9, False)]
    y += 12
    tstyle = r.randrange(6)
    a = lambda v: fmt_amount(v, astyle)  # noqa: E731
    due_amount = None
    if tstyle == 0:
        out += [(110, y, "Total HT", 9, False), (160, y, a(ht), 9, False), (110, y + 6, f"TVA {rate} %", 9, False),
                (160, y + 6, a(tva), 9, False), (110, y + 12, "Total TTC", 10, True), (160, y + 12, a(ttc), 10, True)]
    elif tstyle == 1:
        out += [(110, y, "Montant TTC", 10, True), (160, y, a(ttc), 10, True), (110, y + 6, f"dont TVA {rate} %", 8, False),
                (160, y + 6, a(tva), 8, False)]
    elif tstyle == 2 and not credit:
        dep = money(ttc * Decimal("0.3"))
        due_amount = ttc - dep
        out += [(110, y, "Total HT", 9, False), (160, y, a(ht), 9, False), (110, y + 6, "Total TVA", 9, False),
                (160, y + 6, a(tva), 9, False), (110, y + 12, "Total TTC", 9, True), (160, y + 12, a(ttc), 9, True),
                (110, y + 18, "Acompte versé", 9, False), (160, y + 18, a(dep), 9, False),
                (110, y + 24, r.choice(["Solde à payer", "Reste à payer", "Net à payer"]), 10, True), (160, y + 24, a(due_amount), 10, True)]
    elif tstyle == 3:
        out += [(70, y, "Total HT", 9, True), (110, y, "TVA", 9, True), (150, y, "Total TTC", 9, True),
                (70, y + 6, a(ht), 9, False), (110, y + 6, a(tva), 9, False), (150, y + 6, a(ttc), 9, False)]
    elif tstyle == 4:
        out += [(140, y, r.choice(["Net à payer", "Total à payer", "Montant à régler"]), 10, True), (140, y + 6, a(ttc), 12, True)]
    else:
        out += [(110, y, "Total HT", 9, False), (160, y, a(ht), 9, False), (110, y + 6, "TVA", 9, False),
                (160, y + 6, a(tva), 9, False), (110, y + 12, "Total", 10, True), (160, y + 12, a(ttc), 10, True)]
    footer = "SARL au capital de 50 000,00 € - RCS Lyon"
    if siret_in_footer:
        footer += " - SIRET " + fmt_siret(own, r)
    out += [(15, 280, footer, 7, False), (15, 284, "Conditions de paiement : à réception. Pénalités de retard : 3 fois le taux légal.", 7, False)]
    truth = {"date": inv_date.isoformat(), "total": f"{ttc:.2f}", "siret": own, "kind": kind}
    return out, truth


def draw_pdf(items, path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DV", FONT))
    pdfmetrics.registerFont(TTFont("DVB", FONT_B))
    c = canvas.Canvas(str(path), pagesize=A4)
    for x, y, text, size, bold in items:
        c.setFont("DVB" if bold else "DV", size)
        c.drawString(x * mm, A4[1] - y * mm, text)
    c.showPage()
    c.save()


def run(args: tuple[int, bool]) -> dict:
    seed, ocr = args
    import cv2
    import numpy as np

    from extractors.invoice.fields import read_invoice
    from extractors.pages.load import load_file
    from extractors.pages.ocr import ocr_image
    from core.settings import Settings

    items, truth = make(seed)
    settings = Settings()
    out = {"seed": seed, "truth": truth}
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "f.pdf"
        draw_pdf(items, pdf)
        page = load_file(pdf, pdf.name, settings).pages[0]
    paths = {"text": lambda: page.text_layer}
    if ocr:
        def scanned():
            r = random.Random(seed)
            img = cv2.cvtColor(page.image, cv2.COLOR_BGR2GRAY)
            h, w = img.shape
            m = cv2.getRotationMatrix2D((w / 2, h / 2), r.uniform(-1.5, 1.5), 1.0)
            img = cv2.warpAffine(img, m, (w, h), borderValue=255)
            noise = np.random.default_rng(seed).normal(0, 12, img.shape)
            return ocr_image(np.clip(img + noise, 0, 255).astype(np.uint8), settings)
        paths["ocr"] = scanned
    for name, get in paths.items():
        t0 = time.perf_counter()
        facts = read_invoice([get()])
        got = {"date": facts.invoice_date, "total": facts.total_ttc, "siret": facts.siret, "kind": facts.kind.value}
        out[name] = {"got": got, "s": time.perf_counter() - t0}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--ocr", action="store_true")
    ap.add_argument("--rows", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args(argv)
    with ProcessPoolExecutor(a.workers) as ex:
        results = list(ex.map(run, [(a.seed * 1000 + i, a.ocr) for i in range(a.n)]))
    for path in ("text", "ocr"):
        rs = [r for r in results if path in r]
        if not rs:
            continue
        rates = {f: sum(r[path]["got"][f] == r["truth"][f] for r in rs) / len(rs) for f in ("date", "total", "siret", "kind")}
        print(f"{path:<5} n={len(rs)} " + " ".join(f"{f} {v:.3f}" for f, v in rates.items()))
        if a.rows:
            for r in rs:
                bad = {f: (r[path]["got"][f], r["truth"][f]) for f in rates if r[path]["got"][f] != r["truth"][f]}
                if bad:
                    print(f"   seed {r['seed']}: {bad}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
