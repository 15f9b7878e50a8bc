from extractors.documents.classify import classify_text, group_pages
from extractors.pages.ocr import ocr_image
from intake.core.records import DocType
from tests.render import INVOICE_LINES, PRESCRIPTION_LINES, text_page


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


def test_a_pharmacy_invoice_quoting_its_prescription_is_an_invoice():
    text = ("PHARMACIE CENTRALE FACTURE\nFINESS 780331617\nDate : 30 janv. 2017\n"
            "Prescripteur : Dr Émilie LEMOINE\nOrdonnance du 30/01/2017 - usage vétérinaire\n"
            "Code CIP Désignation\n3400941713293 Metacam 1,5 mg/ml susp. buv. 32 ml\n"
            "Base HT\nSIRET 19852731900075 - RCS Orléans\nN° TVA FR29198527319")
    assert classify_text(text).doc_type == DocType.INVOICE


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
