"""The invoice reader on real public French invoices (/work/shared/real/invoices), both paths.

Skipped when that folder is absent. The truth is truth.csv; a Luhn-invalid printed SIRET
(the FNFE placeholder 99999999800010) must come back as None.
"""
from __future__ import annotations

import csv

import pytest

from evaluation import real_invoices as real_eval
from extractors.documents.classify import classify_text
from extractors.invoice.fields import read_invoice
from extractors.pages.load import load_file
from core.records import DocType
from tests.conftest import REAL_DIR

pytestmark = pytest.mark.skipif(not (REAL_DIR / "truth.csv").exists(), reason="real invoices folder absent")


def _truth() -> dict[str, dict[str, str]]:
    with (REAL_DIR / "truth.csv").open(encoding="utf-8") as fh:
        return {r["file"]: r for r in csv.DictReader(fh)}


@pytest.mark.parametrize("name", sorted(_truth()) if (REAL_DIR / "truth.csv").exists() else [])
def test_pdf_text_layer(name: str, settings) -> None:
    t = _truth()[name]
    pages = load_file(REAL_DIR / name, name, settings).pages
    assert all(p.text_layer is not None for p in pages)  # born-digital: no OCR needed
    facts = read_invoice([p.text_layer for p in pages])
    assert facts.invoice_date == t["invoice_date"]
    assert facts.total_ttc == t["invoice_total_ttc"]
    assert facts.siret == (t["issuer_siret"] if t["issuer_siret_luhn_ok"] == "yes" else None)
    assert (facts.amount_due or "") == t["amount_due"]
    # the product's page classifier sees every page of a real invoice as one
    assert [classify_text(p.text_layer.text).doc_type for p in pages] == [DocType.INVOICE] * len(pages)


@pytest.mark.parametrize(
    "mode, file",
    [
        ("pdf_ocr", "fnfe_Facture_FR_BASICWL.pdf"),  # Total TTC vs Solde à payer after a deposit
        ("scan", "captures/fnfe_Facture_UE_BASICWL_scan.png"),  # English page, US date, comma thousands
        ("scan", "captures/i2d_NetpresseInvoice_scan.png"),  # footer-only SIRET, later line-item date
        ("scan", "captures/i2d_free_fiber_scan.png"),  # date in words, dot decimals, TTC after the amount
        ("photo", "captures/fnfe_Avoir_FR_type381_BASIC_photo.jpg"),  # credit note, negative total
        # SIRET only in a 6 pt footer, read 'Siret 5308483400017' on the page: a second look reads it
        ("photo", "captures/i2d_NetpresseInvoice_photo.jpg"),
    ],
)
def test_ocr_paths(mode: str, file: str, settings) -> None:
    rows = [r for r in real_eval.jobs(REAL_DIR, (mode,)) if r.file == file]
    assert len(rows) == 1
    row = real_eval.run_one((rows[0], str(REAL_DIR), settings.model_dump(), False))
    assert row.error is None and row.ocr_pages >= 1
    assert row.ok == {f: True for f in real_eval.FIELDS}, (row.got, row.expected)


def test_eval_expectations_and_missing_folder(tmp_path) -> None:
    rows = real_eval.jobs(REAL_DIR, real_eval.MODES)
    assert {r.mode for r in rows} == set(real_eval.MODES) and len(rows) == 36
    fnfe = next(r for r in rows if r.truth_file.startswith("fnfe_"))
    assert fnfe.expected["siret"] == ""  # placeholder fails Luhn: the right answer is none
    assert real_eval.main([str(tmp_path)]) == 2


def test_text_layer_timing_of_eval_real_runs(settings):
    # `intake eval-real` broke when the loader's text-layer step gained a log reference
    seconds, pages = real_eval.text_layer_seconds(REAL_DIR, settings)
    assert pages >= 9 and seconds > 0
