from extractors.documents.classify import classify_text, group_pages
from extractors.documents.scores import invoice_score, prescription_score
from extractors.pages.ocr import ocr_image
from core.records import DocType
from tests.render import INVOICE_LINES, PRESCRIPTION_LINES, text_page
from tests.test_invoice import PHARMACY

PRESCRIPTION = ["Dr Marie Dupont, docteur vétérinaire", "N° Ordre 12345", "ORDONNANCE", "Le 13/11/2017",
                "Rp/ Clavaseptin 250 mg", "1 comprimé matin et soir pendant 10 jours", "Posologie à respecter",
                "Ordonnance à renouveler une fois"]
CARE_SHEET = ["SantéVet", "FEUILLE DE SOINS", "PARTIE ADMINISTRATIVE — à remplir par l'assuré",
              "PARTIE MÉDICALE — à remplir par le vétérinaire", "PARTIE FINANCIÈRE", "Montant TTC (€)", "Total TTC €",
              "Joindre obligatoirement la facture du vétérinaire. En cas d'achat en pharmacie ou d'analyses "
              "de laboratoire, joindre l'ordonnance."]


def test_real_ocr_of_rendered_pages_is_classified(settings):
    inv = ocr_image(text_page(INVOICE_LINES), settings)
    rx = ocr_image(text_page(PRESCRIPTION_LINES), settings)
    assert classify_text(inv.text).doc_type == DocType.INVOICE
    assert classify_text(rx.text).doc_type == DocType.PRESCRIPTION


def test_care_sheet_title_wins_over_its_printed_totals(settings):
    from extractors.pages.load import load_file
    from tests.conftest import FORM_PDF

    page = load_file(FORM_PDF, "fs.pdf", settings).pages[0]
    assert classify_text(page.text_layer.text).doc_type == DocType.CARE_SHEET


def test_other_text_is_other():
    assert classify_text("Radiographie thoracique face, chien MOZART").doc_type == DocType.OTHER


def test_grouping_splits_a_multi_document_file():
    t = [DocType.CARE_SHEET, DocType.INVOICE, DocType.INVOICE, DocType.OTHER]
    assert group_pages(t) == [(DocType.CARE_SHEET, [0]), (DocType.INVOICE, [1, 2]), (DocType.OTHER, [3])]


def test_prescription_invoice_and_care_sheet_detection() -> None:
    pres, pharm, care = ("\n".join(rows) for rows in (PRESCRIPTION, PHARMACY, CARE_SHEET))
    assert classify_text(pres).doc_type == DocType.PRESCRIPTION
    assert classify_text(pharm).doc_type == DocType.INVOICE  # mentions "ordonnance", still an invoice
    assert classify_text(care).doc_type == DocType.CARE_SHEET  # the form prints "Total TTC" and "ordonnance"
    assert prescription_score(pres) > 0.8 > prescription_score(pharm)
    assert invoice_score(pharm) > 0.5 > invoice_score(pres)


def test_a_pharmacy_invoice_quoting_its_prescription_is_an_invoice():
    text = ("PHARMACIE CENTRALE FACTURE\nFINESS 780331617\nDate : 30 janv. 2017\n"
            "Prescripteur : Dr Émilie LEMOINE\nOrdonnance du 30/01/2017 - usage vétérinaire\n"
            "Code CIP Désignation\n3400941713293 Metacam 1,5 mg/ml susp. buv. 32 ml\n"
            "Base HT\nSIRET 19852731900075 - RCS Orléans\nN° TVA FR29198527319")
    c = classify_text(text)
    # it reads more as a prescription (0.83) than as an invoice (0.67), but not by the margin a
    # prescription needs to outweigh invoice cues
    assert c.doc_type == DocType.INVOICE and c.scores["prescription"] > c.scores["invoice"] >= 0.5


def test_the_lines_page_of_a_long_invoice_joins_its_totals_page():
    from extractors.documents.classify import join_continuations

    lines_page = ("Facture du 21/10/2017 Thierry BERNARD\nConsultation du 16/10/2017 - Dr Camille VINCENT\n"
                  "Patient : Hercule\nDésignation QuantitéPrix unitaire HT Montant HT\n"
                  "Consultation 1 45,91 45,91\nPansement 1 27,97 27,97")  # as Tesseract read it on a photo
    c = classify_text(lines_page)
    assert c.doc_type == DocType.OTHER and c.scores["invoice"] > 0
    types = [c.doc_type, DocType.INVOICE]
    assert join_continuations(types, [c.scores["invoice"], 1.0]) == [DocType.INVOICE, DocType.INVOICE]
    # a photo of the pet after an invoice stays apart
    assert join_continuations([DocType.INVOICE, DocType.OTHER], [1.0, 0.0]) == [DocType.INVOICE, DocType.OTHER]


def test_two_invoices_printed_one_after_the_other_are_two_documents() -> None:
    """One PDF, two invoices of two pages each: each prints its own number, the second starts after the
    first's total. A long invoice repeating its number (or a misread character of it) stays one."""
    from core.records import DocType
    from extractors.documents.classify import split_invoices
    from tests.test_invoice import page

    def inv(number: str, with_total: bool) -> object:
        rows = ["CLINIQUE VETERINAIRE DES LILAS", f"Facture n° {number}", "Date de facture 02/07/2023",
                "Consultation 1 45,00 45,00"]
        return page(rows + (["Total TTC 54,00 €"] if with_total else []))

    texts = [inv("FA-2023-0142", False), inv("FA-2023-0142", True), inv("FA-2023-0157", False),
             inv("FA-2023-0157", True)]
    groups = [(DocType.INVOICE, [0, 1, 2, 3])]
    assert split_invoices(groups, texts) == [(DocType.INVOICE, [0, 1]), (DocType.INVOICE, [2, 3])]
    misread = [inv("FA-2023-0142", True), inv("FA-2023-O142", True)]
    assert split_invoices([(DocType.INVOICE, [0, 1])], misread) == [(DocType.INVOICE, [0, 1])]
    no_total_yet = [inv("FA-2023-0142", False), inv("FA-2023-0157", True)]
    assert split_invoices([(DocType.INVOICE, [0, 1])], no_total_yet) == [(DocType.INVOICE, [0, 1])]
