from extractors.classify import classify_text, group_pages
from extractors.ocr import ocr_image
from intake.records import DocType
from tests.render import INVOICE_LINES, PRESCRIPTION_LINES, text_page


def test_real_ocr_of_rendered_pages_is_classified(settings):
    inv = ocr_image(text_page(INVOICE_LINES), settings)
    rx = ocr_image(text_page(PRESCRIPTION_LINES), settings)
    assert classify_text(inv.text).doc_type == DocType.INVOICE
    assert classify_text(rx.text).doc_type == DocType.PRESCRIPTION


def test_care_sheet_title_wins_over_its_printed_totals(settings):
    from extractors.loader import load_file
    from tests.conftest import FORM_PDF

    page = load_file(FORM_PDF, "fs.pdf", settings).pages[0]
    assert classify_text(page.text_layer.text).doc_type == DocType.CARE_SHEET


def test_other_text_is_other():
    assert classify_text("Radiographie thoracique face, chien MOZART").doc_type == DocType.OTHER


def test_grouping_splits_a_multi_document_file():
    t = [DocType.CARE_SHEET, DocType.INVOICE, DocType.INVOICE, DocType.OTHER]
    assert group_pages(t) == [(DocType.CARE_SHEET, [0]), (DocType.INVOICE, [1, 2]), (DocType.OTHER, [3])]
