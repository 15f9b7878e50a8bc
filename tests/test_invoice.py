"""Invoice fields from words with boxes (fast), plus a few rendered pages through real Tesseract."""
# One file for the invoice reader, by field (dates, amounts, SIRET, kind): longer than ~300 lines for that.
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from extractors.invoice.fields import read_invoice
from extractors.invoice.kind import invoice_kind
from extractors.invoice.labels import match_labels
from extractors.invoice.lines import build_lines, digitise
from extractors.invoice.siret import luhn_ok
from extractors import vocab
from core.records import InvoiceKind, PageText, TextSource, Word

CHAR_W, LINE_H, LEFT, TOP = 18, 60, 120, 150
ISSUER_SIRET = "73282932000074"  # Luhn-valid
CLIENT_SIRET = "55210055400013"  # Luhn-valid too
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def page(rows: list, source: TextSource = TextSource.TEXT_LAYER, conf: float = 95.0,
         slope: float = 0.0, width: int = 1654, height: int = 2339) -> PageText:
    """Lay lines of text out as Words with boxes, like a reader would return them.

    Each row is a string (typed from the left margin) or a list of (x_px, text) cells on
    one line. `slope` tilts the page (a skewed scan): y grows by slope * x."""
    words: list[Word] = []
    line_id = 0
    for i, row in enumerate(rows):
        cells = [(LEFT, row)] if isinstance(row, str) else row
        y0 = TOP + i * LINE_H
        for x, text in cells:
            for tok in text.split():
                y = int(y0 + slope * x)
                w = CHAR_W * len(tok)
                words.append(Word(tok, x, y, w, 30, conf if source == TextSource.OCR else 100.0, line_id))
                x += w + CHAR_W
            if source == TextSource.OCR:
                line_id += 1  # Tesseract gives far-apart cells lines of their own
        line_id += 1
    return PageText(tuple(words), source, width, height)


def vet_header() -> list:
    return [
        "Clinique Vétérinaire des Tilleuls",
        "Dr Marie Dupont, docteur vétérinaire - N° Ordre 12345",
        f"SIRET {ISSUER_SIRET[:3]} {ISSUER_SIRET[3:6]} {ISSUER_SIRET[6:9]} {ISSUER_SIRET[9:]}",
    ]


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "printed, iso",
    [
        ("13/11/2017", "2017-11-13"),
        ("13.11.17", "2017-11-13"),
        ("13-11-2017", "2017-11-13"),
        ("13 nov. 2017", "2017-11-13"),
        ("1er février 2017", "2017-02-01"),
        ("2017-11-13", "2017-11-13"),
        ("02 Juillet 2015", "2015-07-02"),
        ("5 août 2016", "2016-08-05"),
        ("5 aout 2016", "2016-08-05"),
        ("3 déc 2018", "2018-12-03"),
    ],
)
def test_date_formats(printed: str, iso: str) -> None:
    facts = read_invoice([page([*vet_header(), "FACTURE", f"Date de facture : {printed}", "Total TTC 45,00 €"])])
    assert facts.invoice_date == iso


def test_due_date_and_payment_date_are_not_the_invoice_date() -> None:
    rows = [
        *vet_header(),
        "Date d'échéance : 30/11/2017",  # printed first, on purpose
        "Date limite de paiement le 05 décembre 2017",
        [(LEFT, "Date de facture"), (700, "13/11/2017")],
        "Consultation du 10/11/2017 45,00 €",
        "Total TTC 45,00 €",
        "Réglé par chèque le 14/11/2017",
    ]
    facts = read_invoice([page(rows)])
    assert facts.invoice_date == "2017-11-13"


def test_consultation_date_only_when_nothing_else() -> None:
    rows = [*vet_header(), "Date de consultation : 10/11/2017", "Consultation 45,00 €", "Total TTC 45,00 €"]
    alone = read_invoice([page(rows)])
    assert alone.invoice_date == "2017-11-10" and alone.confidence["invoice_date"] < 0.5
    with_header = read_invoice([page([*rows[:3], "Facture du 13/11/2017", *rows[3:]])])
    assert with_header.invoice_date == "2017-11-13" and with_header.confidence["invoice_date"] > 0.8


def test_date_below_its_label_in_a_table_header() -> None:
    rows = [
        *vet_header(),
        [(LEFT, "N° facture"), (600, "Date"), (1000, "Échéance")],
        [(LEFT, "F-0412"), (600, "13/11/2017"), (1000, "13/12/2017")],
        "Total TTC 80,00 €",
    ]
    assert read_invoice([page(rows)]).invoice_date == "2017-11-13"


def test_dated_line_items_under_a_date_column_are_not_the_invoice_date() -> None:
    # the acts' date repeated on every row under a "Date" header must not outvote "Date : 12 févr. 2017"
    rows = [*vet_header(), "FACTURE", "Date : 12 févr. 2017",
            [(LEFT, "Date"), (400, "Désignation"), (1200, "Montant HT")]]
    rows += [[(LEFT, "09/02/2017"), (400, act), (1200, f"EUR {amount}")]
             for act, amount in (("Consultation", "51.72"), ("Hospitalisation", "105.06"), ("Attelle", "96.69"),
                                 ("Clavaseptin", "80.78"), ("Metacam", "33.76"))]
    rows += ["Total HT EUR 368.01", "TVA 20 % EUR 73.60", "Net à payer EUR 441.61"]
    assert read_invoice([page(rows)]).invoice_date == "2017-02-12"


def test_date_in_a_header_table_row_beside_the_number_beats_dated_line_items() -> None:
    rows = [*vet_header(), "FACTURE",
            [(LEFT, "Numéro"), (500, "Date"), (800, "Échéance"), (1100, "Animal")],
            [(LEFT, "F17-74447"), (500, "2017-05-09"), (800, "2017-06-08"), (1100, "Médor")],
            [(LEFT, "Date"), (400, "Prestation"), (1200, "Montant HT")]]
    rows += [[(LEFT, "06/05/2017"), (400, act), (1200, "EUR 41.17")] for act in ("Consultation", "Cytologie", "Examen")]
    rows += ["Total HT EUR 123.51", "Net à payer EUR 148.21"]
    assert read_invoice([page(rows)]).invoice_date == "2017-05-09"


def test_date_after_invoice_number_and_line_item_date() -> None:
    rows = ["Free Service Abonné", "Facture n°562044387 du 02 Juillet 2015",
            "Free Haut Débit du 1er au 31 Juillet 2015 29.99", "Somme à payer 29.99 € TTC"]
    facts = read_invoice([page(rows)])
    assert facts.invoice_date == "2015-07-02"
    assert facts.invoice_number == "562044387"


def test_english_page_reads_us_dates_and_evidence_decides() -> None:
    rows = ["Invoice FA-2017-0008", "Invoice Date 11/03/2017", "Payment Terms 30 days",
            "Due Date 12/03/2017", "Your reference for the order", "Total 2,076.76 €"]
    assert read_invoice([page(rows)]).invoice_date == "2017-11-03"
    # The same page in French reads day first...
    fr = ["Facture FA-2017-0008", "Date de facture 11/03/2017", "Total TTC 2 076,76 €"]
    assert read_invoice([page(fr)]).invoice_date == "2017-03-11"
    # ...unless another date on it can only be month first.
    fr_us = [*fr, "Virement SEPA 11/17/2017 623,00 €"]
    assert read_invoice([page(fr_us)]).invoice_date == "2017-11-03"


# --- amounts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "printed, value",
    [
        ("1 234,56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("184,50 €", "184.50"),
        ("EUR 184.50", "184.50"),
        ("184,50€", "184.50"),
        ("2,076.76 €", "2076.76"),
        ("12 345,00 EUR", "12345.00"),
        ("56 €", "56.00"),
    ],
)
def test_amount_formats(printed: str, value: str) -> None:
    facts = read_invoice([page([*vet_header(), "Date : 13/11/2017", f"Total TTC : {printed}"])])
    assert facts.total_ttc == value


def test_ttc_printed_after_the_amount() -> None:
    rows = ["Free", "Facture du 02 Juillet 2015", "Date limite de paiement le 05 Juillet 2015 29.99 € TTC"]
    assert read_invoice([page(rows)]).total_ttc == "29.99"


def test_total_ht_vs_ttc_and_not_the_largest_number() -> None:
    rows = [
        *vet_header(), "SARL au capital de 120 000,00 €", "Date : 13/11/2017",
        "Consultation 35,00 €", "Radiographie 2 vues 90,00 €",
        "Total HT 125,00 €", "TVA 20 % 25,00 €", "Total TTC 150,00 €", "Total HT (rappel) 125,00 €",
    ]
    facts = read_invoice([page(rows)])
    assert (facts.total_ttc, facts.total_ht, facts.total_tva) == ("150.00", "125.00", "25.00")
    assert facts.confidence["total_ttc"] > 0.8  # the arithmetic checks out


def test_deposit_and_balance_trap() -> None:
    rows = [
        *vet_header(), "Date de facture 13/11/2017",
        "Total HT 624,90 €", "Total TVA 46,25 €",
        [(LEFT, "Règlement Date Montant"), (1100, "Total TTC 671,15 €")],
        [(LEFT, "Acompte 05/11/2017 201,00 €"), (1100, "Solde à payer 470,15 €")],
    ]
    facts = read_invoice([page(rows)])
    assert facts.total_ttc == "671.15"
    assert facts.amount_due == "470.15"
    assert facts.invoice_date == "2017-11-13"


def test_net_a_payer_after_deposit_is_not_the_total() -> None:
    rows = [*vet_header(), "Date : 13/11/2017", "Total TTC 300,00 €", "Acompte versé 100,00 €", "Net à payer 200,00 €"]
    assert read_invoice([page(rows)]).total_ttc == "300.00"


def test_table_row_of_totals_takes_the_ttc_column() -> None:
    rows = [
        *vet_header(), "Date : 13/11/2017",
        [(700, "Montant HT"), (1000, "TVA"), (1300, "Montant TTC")],
        [(LEFT, "Total facture"), (700, "24,99"), (1000, "5,00"), (1300, "29,99")],
    ]
    assert read_invoice([page(rows)]).total_ttc == "29.99"


def test_vat_breakdown_rows_are_not_the_total() -> None:
    # a pharmacy's per-rate table: every row's HT + TVA = TTC holds, the grand total is their sum
    rows = [
        "PHARMACIE DU CENTRE FACTURE", "FINESS 150531374", "Date : 29 oct. 2017",
        [(LEFT, "Code CIP Désignation"), (900, "Qté"), (1000, "Montant TTC")],
        [(LEFT, "3400973980502 Caninsulin"), (900, "1"), (1000, "31,79 €")],
        [(LEFT, "3400962356820 Forthyron"), (900, "1"), (1000, "31,67 €")],
        [(LEFT, "3400991119182 Previcox"), (900, "1"), (1000, "37,15 €")],
        [(LEFT, "3400956757749 Compresses"), (900, "1"), (1000, "2,70 €")],
        [(LEFT, "Taux TVA"), (350, "Base HT"), (600, "Montant TVA"), (850, "Total TTC"), (1150, "Total TTC 103,31 €")],
        [(LEFT, "2,1 %"), (350, "67,52 €"), (600, "1,42 €"), (850, "68,94 €"), (1150, "Réglé : CB")],
        [(LEFT, "5,5 %"), (350, "30,02 €"), (600, "1,65 €"), (850, "31,67 €")],
        [(LEFT, "20 %"), (350, "2,25 €"), (600, "0,45 €"), (850, "2,70 €")],
        f"SIRET {ISSUER_SIRET}",
    ]
    facts = read_invoice([page(rows)])
    assert (facts.total_ttc, facts.total_ht, facts.total_tva) == ("103.31", "99.79", "3.52")


def test_stacked_label_and_value() -> None:
    rows = [*vet_header(), "Date : 13/11/2017", [(1000, "Net à payer")], [(1000, "184,50 €")]]
    assert read_invoice([page(rows)]).total_ttc == "184.50"


def test_credit_note_keeps_its_sign() -> None:
    rows = ["Au bon moulin", "Avoir AV-2017-0005", "Date de facture 16/11/2017", "Total HT -218,48 €",
            "Total taxes -14,99 €", "Total TTC -233,47 €"]
    facts = read_invoice([page(rows)])
    assert facts.total_ttc == "-233.47"
    assert facts.invoice_number == "AV-2017-0005"


def test_ocr_noise_in_labels_and_numbers() -> None:
    rows = [*vet_header(), "Date : 13/11/2O17", "Total HT 1O0,00 E", "TVA 20% 2O,00 E", "Total TIC 12O,00 E", "Regle le 13/11/2017"]
    facts = read_invoice([page(rows, TextSource.OCR)])
    assert facts.total_ttc == "120.00"
    assert facts.invoice_date == "2017-11-13"


def test_ocr_lost_decimal_comma_is_restored_by_the_arithmetic() -> None:
    rows = [*vet_header(), "Date : 13/11/2017", "Total HT 624,90 €", "Total taxes 46,25 €", "Total TTC 67115€"]
    assert read_invoice([page(rows, TextSource.OCR)]).total_ttc == "671.15"


def test_skewed_ocr_page_puts_label_and_value_back_on_one_line() -> None:
    rows = [*vet_header(), [(LEFT, "Date de facture"), (1200, "13/11/2017")], [(LEFT, "Date d'échéance"), (1200, "13/12/2017")],
            [(LEFT, "Total HT"), (1200, "100,00 €")], [(LEFT, "Total TTC"), (1200, "120,00 €")]]
    facts = read_invoice([page(rows, TextSource.OCR, slope=0.025)])  # 1.4°: 30 px drift across the page
    assert (facts.invoice_date, facts.total_ttc) == ("2017-11-13", "120.00")


def test_lines_rebuilt_from_boxes_whatever_the_reader_numbered() -> None:
    rows = [*vet_header(), [(LEFT, "Date de facture"), (1200, "13/11/2017")], [(LEFT, "Total TTC"), (1200, "120,00 €")]]
    pt = page(rows, TextSource.OCR)
    flat = PageText(tuple(Word(w.text, w.left, w.top, w.width, w.height, w.conf, 0) for w in pt.words), pt.source, pt.width, pt.height)
    assert [ln.text for ln in build_lines([flat])] == [ln.text for ln in build_lines([pt])]
    assert read_invoice([flat]).total_ttc == "120.00"


def test_multi_page_invoice_total_on_the_last_page() -> None:
    p1 = page([*vet_header(), "Facture F-12 du 13/11/2017", "Consultation 45,00 €", "Total page 45,00 €"])
    p2 = page(["Facture F-12 (suite)", "Hospitalisation 24 h 90,00 €", "Total HT 112,50 €", "TVA 22,50 €", "Total TTC 135,00 €"])
    facts = read_invoice([p1, p2])
    assert (facts.invoice_date, facts.total_ttc, facts.siret) == ("2017-11-13", "135.00", ISSUER_SIRET)


# --- SIRET ----------------------------------------------------------------------------------------


def test_issuer_siret_not_the_clients() -> None:
    rows = [
        [(LEFT, "Clinique Vétérinaire du Parc"), (1000, "Client")],
        [(LEFT, "12 rue des Lilas 69003 Lyon"), (1000, "Élevage des Collines SARL")],
        [(LEFT, f"SIRET : {ISSUER_SIRET}"), (1000, f"SIRET {CLIENT_SIRET}")],
        "Date : 13/11/2017", "Total TTC 80,00 €",
    ]
    facts = read_invoice([page(rows)])
    assert facts.siret == ISSUER_SIRET
    # And with the client's printed first, in a "Facturé à" block above the issuer's footer:
    rows2 = ["Facture du 13/11/2017", f"Facturé à : Élevage des Collines, SIRET {CLIENT_SIRET}", "Total TTC 80,00 €",
             "", "", "", "", "", "", "", "", f"Clinique Vétérinaire du Parc - SIRET {ISSUER_SIRET} - N° Ordre 12345"]
    assert read_invoice([page(rows2)]).siret == ISSUER_SIRET


def test_letterhead_siret_beats_the_addressees_labelled_siret_in_the_top_third() -> None:
    issuer, addressee = "91224094200074", "95010700300077"  # both Luhn-valid; the addressee's sorts higher
    rows = [
        "Centre Hospitalier Vétérinaire Saint-Martin",
        "4 route des Vignes - 63000 Marseille",
        f"SIRET {issuer[:3]}.{issuer[3:6]}.{issuer[6:9]}.{issuer[9:]}",
        [(LEFT, "Facture du 22 avril 2017"), (1000, "Chenil de la Forêt")],
        [(1000, "29 boulevard des Tilleuls")],
        [(1000, "13008 Marseille")],
        [(1000, f"SIRET {addressee[:3]} {addressee[3:6]} {addressee[6:9]} {addressee[9:]}")],
        "Consultation 1 38,20", "Net à payer 38,20",
    ]
    for source in (TextSource.TEXT_LAYER, TextSource.OCR):
        assert read_invoice([page(rows, source)]).siret == issuer


def test_siret_luhn_invalid_is_none_and_ocr_lookalikes_fixed_only_when_valid() -> None:
    assert not luhn_ok("99999999800010")
    bad = read_invoice([page(["Au bon moulin", "SIRET : 99999999800010", "Date : 13/11/2017", "Total TTC 1,00 €"])])
    assert bad.siret is None
    ocr = ISSUER_SIRET.replace("00", "OO", 1)  # two 0s read as O, as Tesseract may
    fixed = read_invoice([page(["Clinique", f"SIRET {ocr}", "Total TTC 1,00 €"], TextSource.OCR)])
    assert fixed.siret == ISSUER_SIRET
    wrong = ocr[:-1] + "5"  # the same confusion, but the result fails Luhn: no guess
    assert read_invoice([page(["Clinique", f"SIRET {wrong}", "Total TTC 1,00 €"], TextSource.OCR)]).siret is None
    assert digitise("Total 1O4,5O") == "Total 104,50"
    # a 13-digit CIP code, then a table rule read as '|': not a 14-digit number (this one would pass Luhn)
    cip = read_invoice([page(["Pharmacie Centrale", "3400976540598 | Rilexine 300 mg cp 21,30 21% 42,60",
                              "Total TTC 42,60 €"], TextSource.OCR)])
    assert luhn_ok("34009765405981") and cip.siret is None
    spaced = f"{ISSUER_SIRET[:3]}.{ISSUER_SIRET[3:6]} .{ISSUER_SIRET[6:9]}.{ISSUER_SIRET[9:]}"  # OCR set a dot apart
    assert read_invoice([page(["Clinique", f"SIRET {spaced} - N° Ordre 19566", "Total TTC 1,00 €"],
                              TextSource.OCR)]).siret == ISSUER_SIRET


# --- kind of issuer (invoice or not is the page classifier's: tests/test_classify.py) --------------


PHARMACY = ["Pharmacie du Marché", "M. Jean Petit, docteur en pharmacie", "FINESS 690012345",
            "Facture n° 2017-118 du 14/11/2017", "Clavaseptin 250 mg cp CIP 3400930012345 1 x 18,40 €",
            "Total TTC 18,40 €", "Délivré sur ordonnance du Dr Dupont"]
LAB = ["Laboratoire d'Analyses Vétérinaires du Rhône", "Biologie vétérinaire - prélèvement du 10/11/2017",
       "Facture n° L-5521 du 12/11/2017", "Numération formule sanguine 24,00 €", "Biochimie 8 paramètres 42,00 €",
       "Total TTC 66,00 €"]


def test_invoice_kinds() -> None:
    vet = [*vet_header(), "Facture du 13/11/2017", "Consultation 35,00 €", "Vaccin CHPPiL 45,00 €", "Total TTC 80,00 €"]
    assert read_invoice([page(vet)]).kind == InvoiceKind.VETERINARY
    assert read_invoice([page(PHARMACY)]).kind == InvoiceKind.PHARMACY
    assert read_invoice([page(LAB)]).kind == InvoiceKind.LABORATORY
    assert invoice_kind("Free Service Abonné\nAvis de prélèvement automatique\nTotal TTC 29,99 €") == InvoiceKind.OTHER
    assert invoice_kind("Animalis\nCroquettes Royal Canin 12 kg 54,90 €\nTotal TTC 54,90 €") == InvoiceKind.OTHER
    # A vet invoice selling drugs ("Pharmacie" section) is still the vet's.
    vet_drugs = [*vet_header(), "Facture du 13/11/2017", "Consultation 35,00 €", "Pharmacie", "Metacam 32 ml 21,00 €"]
    assert invoice_kind("\n".join(vet_drugs)) == InvoiceKind.VETERINARY


def test_labels_are_data_and_longest_reading_wins() -> None:
    assert any(lab.phrase == "Solde à payer" and lab.role == vocab.DUE for lab in vocab.LABELS)
    line = build_lines([page(["Montant | Total HT 624,90 €"], TextSource.OCR)])[0]
    roles = [h.role for h in match_labels(line, vocab.AMOUNT_ROLES)]
    assert roles[-1] == vocab.HT


def test_empty_pages_give_empty_facts() -> None:
    facts = read_invoice([PageText((), TextSource.OCR, 100, 100)])
    assert facts.invoice_date is None and facts.total_ttc is None and facts.siret is None


# --- hostile print: what no invoice says is simply not a field (tests/test_fuzz.py fuzzes the same) -----


@pytest.mark.parametrize("digits", [29, 40, 400])
def test_an_amount_of_absurdly_many_digits_is_no_amount(digits: int) -> None:
    # 29+ digits made Decimal.quantize raise InvalidOperation: the whole dossier was PROCESSING_ERROR
    huge = "9" * digits
    for rows in (["Total TTC " + huge + ",00 €"], ["Total TTC " + huge + " €"],
                 ["Total HT " + huge + ",00 €", "TVA 1,00 €", "Total TTC 45,00 €"],
                 ["Total TTC 1" + " 000" * 10 + ",00 €"]):
        facts = read_invoice([page([*vet_header(), "Date : 13/11/2017", *rows])])
        assert facts.total_ttc in (None, "45.00") and facts.total_ht is None
    ok = read_invoice([page([*vet_header(), "Total HT " + huge + ",00 €", "Total TTC 45,00 €"])])
    assert ok.total_ttc == "45.00"  # the real total still read beside the garbage


def test_amount_cap_is_a_billion_euros() -> None:
    def total(printed: str) -> str | None:
        return read_invoice([page([*vet_header(), f"Total TTC {printed} €"])]).total_ttc

    assert total("999 999 999,99") == "999999999.99"
    assert total("1 000 000 000,00") is None
    assert total("-999 999 999,99") == "-999999999.99"


@pytest.mark.parametrize("printed", ["31/02/2017", "00/01/2017", "32/01/2017", "13/00/2017", "2017-99-99",
                                     "13/11/99999", "1er février 99999", "November 3, 99999", "0 mars 2017",
                                     "99 mars 2017", "99999999999999999999/1/2020", "13/11/0000", "29/02/2017"])
def test_impossible_dates_are_no_dates(printed: str) -> None:
    facts = read_invoice([page([*vet_header(), f"Date de facture : {printed}", "Total TTC 45,00 €"])])
    assert facts.invoice_date is None and facts.total_ttc == "45.00"
    leap = read_invoice([page([*vet_header(), "Date de facture : 29/02/2016", "Total TTC 45,00 €"])])
    assert leap.invoice_date == "2016-02-29"


def test_siret_is_ascii_digits_only() -> None:
    # str.isdigit() is True for these; int('²') raises, and '٠' * 14 passed Luhn as a "SIRET"
    for digits in ("٠" * 14, "０" * 14, "²" * 14, "①" * 14, "7328293200007٤"):
        assert not luhn_ok(digits)
    for printed in ("٧٣٢٨٢٩٣٢٠٠٠٠٧٤", "７３２８２９３２０００７４", "٧٣٢ ٨٢٩ ٣٢٠ ٠٠٠٧٤", "7" * 500,
                    ISSUER_SIRET * 30, " ".join([ISSUER_SIRET] * 30)):
        facts = read_invoice([page(["Clinique", f"SIRET {printed}", "Total TTC 1,00 €"], TextSource.OCR)])
        assert facts.siret is None or (facts.siret.isascii() and facts.siret.isdigit() and len(facts.siret) == 14)
    arabic = read_invoice([page(["Clinique", "SIRET ٧٣٢٨٢٩٣٢٠٠٠٠٧٤", "Total TTC 1,00 €"])])
    assert arabic.siret is None


def test_confidences_stay_between_0_and_1() -> None:
    # a date only in a line item on page 4 scored below 0, and so did its confidence (-0.075)
    pages = [page([*vet_header(), "FACTURE"])] + [page(["Suite"])] * 2 + [page(["Consultation 13/11/2017 45,00 €"])]
    conf = read_invoice(pages).confidence
    assert all(0.0 <= c <= 1.0 for c in conf.values()), conf
    # words lying below a page said to be 0 px high (found by tests/test_fuzz.py): -30.675
    lost = PageText((Word("1/1/00", 0, 400, 108, 30, 95.0, 6),), TextSource.TEXT_LAYER, 0, 0)
    conf = read_invoice([lost]).confidence
    assert all(0.0 <= c <= 1.0 for c in conf.values()), conf


def test_a_line_of_thousands_of_amounts_reads_in_linear_time() -> None:
    # a hostile text layer: 'Total' then 400 equal amounts took ~18 s (a + b = c searched over every
    # triple), 2000 unlabelled amounts ~20 s (every amount rescanned the words before it)
    import time

    for row in (["Total", *["1,00"] * 400], ["12,00", "€"] * 1000):
        words = tuple(Word(t, 10 + 40 * i, 100, 30, 20, 95.0, 0) for i, t in enumerate(row))
        start = time.perf_counter()
        facts = read_invoice([PageText(words, TextSource.TEXT_LAYER, 40 * len(row) + 100, 2000)])
        assert time.perf_counter() - start < 3.0
        well = facts.total_ttc is None or facts.total_ttc == "1.00"
        assert well, facts.total_ttc


# --- rendered pages through the real OCR ---------------------------------------------------------


def render(rows: list, size_px: int = 30) -> np.ndarray:
    """An A4 page at 200 dpi with the rows typed in DejaVu Sans; a row may be [(x_px, text), ...]."""
    img = Image.new("RGB", (1654, 2339), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, size_px)
    for i, row in enumerate(rows):
        for x, text in [(LEFT, row)] if isinstance(row, str) else row:
            draw.text((x, 160 + i * int(size_px * 1.7)), text, fill="black", font=font)
    return np.asarray(img)[:, :, ::-1].copy()


@pytest.mark.parametrize("kind", ["veterinary", "pharmacy"])
def test_rendered_invoice_through_tesseract(kind: str, settings) -> None:
    from extractors.pages.ocr import ocr_image

    if kind == "veterinary":
        rows = [*vet_header(), "", [(LEFT, "FACTURE N° F-2017-0412"), (1000, "Client : M. Martin")],
                [(LEFT, "Date de facture : 1er février 2017"), (1000, "Échéance : 03/03/2017")], "",
                [(LEFT, "Consultation"), (1200, "35,00 €")], [(LEFT, "Vaccin CHPPiL"), (1200, "45,83 €")],
                [(LEFT, "Total HT"), (1200, "80,83 €")], [(LEFT, "TVA 20 %"), (1200, "16,17 €")],
                [(LEFT, "Total TTC"), (1200, "97,00 €")], [(LEFT, "Acompte"), (1200, "20,00 €")],
                [(LEFT, "Reste à payer"), (1200, "77,00 €")]]
        want = ("2017-02-01", "97.00", ISSUER_SIRET, InvoiceKind.VETERINARY)
    else:
        rows = [*PHARMACY[:3], f"SIRET {CLIENT_SIRET}", *PHARMACY[3:]]
        want = ("2017-11-14", "18.40", CLIENT_SIRET, InvoiceKind.PHARMACY)
    facts = read_invoice([ocr_image(render(rows), settings)])
    assert (facts.invoice_date, facts.total_ttc, facts.siret, facts.kind) == want


def test_other_kind_is_sure_only_when_no_issuer_vocabulary_came_near_and_the_text_was_read_well() -> None:
    """'Other' was given 0.5 whatever the page: every shop receipt beside a vet invoice sent its dossier
    to review, and a vet invoice whose letterhead the OCR half lost (vocabulary 2.3 of 2.5) was as
    'sure' as a pet shop's till receipt."""
    shop = ["ANIMALERIE DU CENTRE", "Croquettes 12 kg 45,90", "TOTAL TTC 45,90", "CB 45,90"]
    facts = read_invoice([page(shop, TextSource.OCR, conf=92.0)])
    assert facts.kind == InvoiceKind.OTHER and facts.confidence["kind"] >= 0.9
    poorly = read_invoice([page(shop, TextSource.OCR, conf=50.0)])  # the same words, read unsurely
    assert poorly.kind == InvoiceKind.OTHER and poorly.confidence["kind"] < 0.6
    # the body of a vet's invoice below its letterhead, the letterhead lost: 2.3 of 2.5
    head = ["Facture 2017-0042", "12 rue des Lilas", "69003 Lyon", "Client : M. X"] + ["-"] * 8
    vet_body = head + ["Consultation 39,00", "Vaccination 28,00", "Visite de contrôle", "TOTAL TTC 67,00"]
    near = read_invoice([page(vet_body, TextSource.OCR, conf=92.0)])
    assert near.kind == InvoiceKind.OTHER and near.confidence["kind"] < 0.6
    named = read_invoice([page(["CLINIQUE VETERINAIRE DES LILAS"] + vet_body, TextSource.OCR, conf=92.0)])
    assert named.kind == InvoiceKind.VETERINARY and named.confidence["kind"] >= 0.9
