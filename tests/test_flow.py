"""A real Prefect flow run (test harness, SQLite) over a small inbox of real files."""
import csv
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import FORM_PDF
from tests.render import INVOICE_LINES, filled_care_sheet, save_image, text_page, text_pdf

pytestmark = pytest.mark.flow


def _write(d: Path, manifest: dict | str | None, files: dict[str, callable]):
    d.mkdir(parents=True)
    for name, make in files.items():
        make(d / name)
    if manifest is not None:
        (d / "manifest.json").write_text(manifest if isinstance(manifest, str) else json.dumps(manifest))


def _inbox(root: Path) -> Path:
    inbox = root / "inbox"
    care = lambda p: shutil.copy(FORM_PDF, p)  # the blank form: a care sheet, with nothing filled in
    filled = lambda p: filled_care_sheet(p)
    inv_pdf = lambda p: text_pdf(INVOICE_LINES, p)
    inv_png = lambda p: save_image(text_page(INVOICE_LINES), p, format="PNG")
    _write(inbox / "D-OK", {"dossier_id": "D-OK", "documents": [
        {"file": "feuille.jpg", "slot": "care_sheet"}, {"file": "facture.pdf", "slot": "invoice"}]},
        {"feuille.jpg": filled, "facture.pdf": inv_pdf})
    # swapped slots and a PNG named .pdf: content wins
    _write(inbox / "D-SWAP", {"dossier_id": "D-SWAP", "documents": [
        {"file": "facture.pdf", "slot": "care_sheet"}, {"file": "feuille.pdf", "slot": "invoice"}]},
        {"facture.pdf": inv_png, "feuille.pdf": filled})
    _write(inbox / "D-NOINV", {"dossier_id": "D-NOINV", "documents": [{"file": "f.pdf", "slot": "care_sheet"}]},
           {"f.pdf": care})
    _write(inbox / "D-BAD", {"dossier_id": "D-BAD", "documents": [
        {"file": "feuille.pdf", "slot": "care_sheet"}, {"file": "facture.pdf", "slot": "invoice"},
        {"file": "absent.pdf", "slot": "other"}]},
        {"feuille.pdf": care, "facture.pdf": lambda p: p.write_bytes(b"<html>not a pdf</html>")})
    _write(inbox / "D-JSON", "{broken", {"facture.pdf": inv_pdf})
    _write(inbox / "D-UPLOADING", None, {"facture.pdf": inv_pdf})
    return inbox


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_flow_decides_every_dossier_and_reruns_write_each_once(tmp_path, prefect_harness):
    from flows.inbox import run_inbox
    from results.store import DOCUMENT_COLUMNS, DOSSIER_COLUMNS
    from core.settings import Settings

    inbox, out = _inbox(tmp_path), tmp_path / "out"
    settings = Settings(workers=2)
    summaries = run_inbox(inbox, out, settings)
    assert len(summaries) == 5  # the uploading folder is left alone
    assert (inbox / "D-UPLOADING" / "facture.pdf").exists()

    dossiers = {r["dossier_id"]: r for r in _rows(out / "dossiers.csv")}
    assert set(dossiers) == {"D-OK", "D-SWAP", "D-NOINV", "D-BAD", "D-JSON"}
    assert dossiers["D-OK"]["decision"] == "accept" and dossiers["D-OK"]["status_fr"] == "A traiter"
    assert dossiers["D-SWAP"]["decision"] == "accept"
    # the blank form: no invoice, and nothing of the sheet is filled in
    assert dossiers["D-NOINV"]["reasons"].split("|") == [
        "INVOICE_MISSING", "VET_STAMP_MISSING", "VET_SIGNATURE_MISSING", "OWNER_SIGNATURE_MISSING",
        "MEDICAL_SECTION_INCOMPLETE", "CARE_SHEET_UNDATED"]
    assert dossiers["D-NOINV"]["status_fr"] == "En attente de documents supplémentaires"
    assert dossiers["D-BAD"]["decision"] == "illegible"
    assert dossiers["D-BAD"]["reasons"].split("|").count("FILE_UNREADABLE") == 1  # one code, two files
    assert "absent.pdf" in dossiers["D-BAD"]["message_fr"] and "facture.pdf" in dossiers["D-BAD"]["message_fr"]
    assert "MANIFEST_INVALID" in dossiers["D-JSON"]["reasons"]
    assert "CARE_SHEET_MISSING" in dossiers["D-JSON"]["reasons"]

    docs = _rows(out / "documents.csv")
    assert list(docs[0].keys())[: len(DOCUMENT_COLUMNS)] == DOCUMENT_COLUMNS
    assert list(_rows(out / "dossiers.csv")[0].keys()) == DOSSIER_COLUMNS
    swap = {d["file"]: d["doc_type"] for d in docs if d["dossier_id"] == "D-SWAP"}
    assert swap == {"facture.pdf": "invoice", "feuille.pdf": "care_sheet"}

    run_inbox(inbox, out, settings)  # same inbox, same output: no duplicate rows
    again = _rows(out / "dossiers.csv")
    assert sorted(r["dossier_id"] for r in again) == sorted(dossiers)
    assert len(_rows(out / "documents.csv")) == len(docs)


def test_flow_run_is_completed_in_prefect(tmp_path, prefect_harness):
    from prefect import get_client
    from prefect.client.schemas.sorting import FlowRunSort

    from flows.inbox import run_inbox
    from core.settings import Settings

    inbox = _inbox(tmp_path)
    run_inbox(inbox, tmp_path / "out", Settings(workers=2))

    import anyio

    async def last_state():
        async with get_client() as client:
            runs = await client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=1)
            return runs[0].state.type.value, runs[0].name

    state, _ = anyio.run(last_state)
    assert state == "COMPLETED"


def test_logs_name_files_by_number_never_by_the_clients_file_name(tmp_path, settings, caplog):
    import logging

    from pipeline.dossier import process_dossier

    d = tmp_path / "D-LOG"
    _write(d, {"dossier_id": "D-LOG", "documents": [
        {"file": "facture Jean DUPONT.pdf", "slot": "invoice"}, {"file": "feuille DUPONT.pdf", "slot": "care_sheet"},
        {"file": "ordonnance DUPONT.pdf", "slot": "other"}]},
        {"facture Jean DUPONT.pdf": lambda p: text_pdf(INVOICE_LINES, p),
         "feuille DUPONT.pdf": lambda p: shutil.copy(FORM_PDF, p),
         "ordonnance DUPONT.pdf": lambda p: p.write_bytes(b"%PDF-1.4 truncated")})
    with caplog.at_level(logging.DEBUG):
        result = process_dossier(d, settings)
    assert "FILE_UNREADABLE" in result.reasons
    assert "D-LOG f1 p1" in caplog.text and "D-LOG f3" in caplog.text
    assert "DUPONT" not in caplog.text


def test_an_unreadable_invoice_in_the_care_sheet_slot_is_the_invoice_by_elimination(tmp_path, settings):
    """Slots swapped, and the invoice photographed so small nobody can read it: the dossier's care sheet
    is found (legible) in the invoice slot, so the unreadable page is the invoice: INVOICE_ILLEGIBLE,
    not INVOICE_MISSING."""
    import cv2

    from pipeline.dossier import process_dossier

    page = text_page(INVOICE_LINES)
    h, w = page.shape[:2]
    tiny = cv2.resize(cv2.GaussianBlur(page, (0, 0), 3), (w // 8, h // 8), interpolation=cv2.INTER_AREA)
    d = tmp_path / "D-SWAP-ILL"
    _write(d, {"dossier_id": "D-SWAP-ILL", "documents": [
        {"file": "facture.jpg", "slot": "care_sheet"}, {"file": "feuille.jpg", "slot": "invoice"}]},
        {"facture.jpg": lambda p: save_image(tiny, p, dpi=25, format="JPEG"),
         "feuille.jpg": lambda p: filled_care_sheet(p)})
    result = process_dossier(d, settings)
    docs = {x.file: x for x in result.documents}
    assert docs["feuille.jpg"].doc_type == "care_sheet" and docs["feuille.jpg"].legible
    assert docs["facture.jpg"].doc_type == "invoice" and docs["facture.jpg"].identified_by == "elimination"
    from core.messages import IMPLIES  # the operator's checks (contract §5) aside: the test sheet's random
    from core.records import Decision  # medical words may name an exclusion ("castration"): EXCLUSION_HINT

    assert [r for r in result.reasons if IMPLIES[r] != Decision.ACCEPT] == ["INVOICE_ILLEGIBLE"]
    assert result.decision == "illegible"


def test_a_page_whose_orientation_was_a_guess_is_turned_back_when_ocr_reads_it_better(settings):
    import cv2

    from extractors.pages.normalise import UNSURE_ORIENTATION
    from extractors.pages.ocr import ocr_image
    from pipeline.context import Reader
    from pipeline.page import half_turn_if_better
    from core.records import Capture, Page

    upside_down = cv2.rotate(text_page(INVOICE_LINES), cv2.ROTATE_180)
    page = Page("facture.jpg", 1, upside_down, 200.0, Capture.IMAGE, steps=(UNSURE_ORIENTATION,))
    unsure = ocr_image(upside_down, settings)
    turned, text = half_turn_if_better(page, unsure, Reader.create(settings))
    assert turned.steps[-1] == "rotate_180_ocr" and text.mean_conf > unsure.mean_conf + 10
    assert "Total TTC" in text.text
    upright = Page("facture.jpg", 1, text_page(INVOICE_LINES), 200.0, Capture.IMAGE, steps=(UNSURE_ORIENTATION,))
    kept, _ = half_turn_if_better(upright, ocr_image(upright.image, settings), Reader.create(settings))
    assert kept is upright  # an upright page is left as it is


def test_pages_of_one_file_are_read_side_by_side_in_page_order(settings):
    from pipeline.context import Reader
    from pipeline.page import read_pages
    from core.records import Capture, Page

    pages = [Page("facture.png", n, text_page([f"Page {n}", *INVOICE_LINES[: 2 + n]]), 200.0, Capture.IMAGE)
             for n in (1, 2, 3)]
    side_by_side = read_pages(pages, "invoice", Reader.create(settings))  # settings.workers == 2
    one_by_one = read_pages(pages, "invoice", Reader.create(settings.model_copy(update={"workers": 1})))
    assert [r.page.number for r in side_by_side] == [1, 2, 3]
    assert [r.text.text for r in side_by_side] == [r.text.text for r in one_by_one]
    assert all(f"Page {n}" in r.text.text for n, r in zip((1, 2, 3), side_by_side))


def test_a_page_unreadable_by_its_pixels_is_ocred_in_layout_mode_not_sparse_text(settings, recording_engine):
    """Sparse-text OCR reads noise as words (on a blurred dark photo: 1550 of them, 147 s); a page whose
    pixels already say unreadable is OCRed only to know what it is, where layout analysis drops noise."""
    import cv2
    import numpy as np

    from pipeline.context import Reader
    from pipeline.page import read_page
    from core.records import Capture, Page

    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(text_page(INVOICE_LINES * 3, dpi=300).astype(np.float32), (0, 0), 5) * 0.25
    image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    reader = Reader.create(settings)
    from dataclasses import replace
    page = Page("facture.jpg", 1, image, 300.0, Capture.IMAGE)
    ocr = recording_engine(reader.ocr)
    reading = read_page(page, "invoice", replace(reader, ocr=ocr))
    modes = [kw.get("psm") for _size, kw in ocr.reads]
    assert not reading.legible and reading.readability.score < settings.readability_threshold
    assert modes and set(modes) == {settings.ocr_psm_unreadable} != {settings.ocr_psm}
    # read at most ocr_unreadable_max_side_px long, the blur halves: words may come out, never ~1550 of noise
    assert len(reading.text.words) < 300


def test_a_run_leaves_the_analysts_files_beside_the_csvs(tmp_path, prefect_harness):
    """Parquet always, the French Excel dialect when asked for, and the report page the run links to."""
    import pandas as pd

    from core.settings import Settings
    from flows.inbox import run_inbox

    out = tmp_path / "out"
    run_inbox(_inbox(tmp_path), out, Settings(workers=2, csv_dialects=("excel-fr",)))
    dossiers = pd.read_parquet(out / "dossiers.parquet")
    assert len(dossiers) == len(_rows(out / "dossiers.csv")) > 0
    fr = pd.read_csv(out / "dossiers_excel-fr.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert list(fr["dossier_id"]) == list(dossiers["dossier_id"])
    assert "Rapport" in (out / "report.html").read_text(encoding="utf-8")
