"""The dossier pipeline as a plain function: its steps, its error boundaries, long names."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import pipeline.dossier as dossier
from core.errors import InfrastructureError
from core.records import Decision, DocType, ReasonCode
from pipeline.document import STEM_MAX_CHARS, artifact_stem
from tests.render import INVOICE_LINES, filled_care_sheet, text_pdf


def _folder(tmp_path: Path, files: dict[str, str], dossier_id: str = "D-1") -> Path:
    d = tmp_path / dossier_id
    d.mkdir()
    manifest = {"dossier_id": dossier_id, "documents": [{"file": f, "slot": s} for f, s in files.items()]}
    (d / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return d


def test_the_steps_run_in_the_order_the_module_names_them():
    assert [s.__name__ for s in dossier.STEPS] == ["manifest", "read_files", "eliminate", "check", "decision"]


def test_a_file_our_machinery_breaks_on_costs_that_file_not_the_dossier(tmp_path, settings, monkeypatch):
    """The invoice's reading crashes: the care sheet's row and checks are kept, the dossier says
    PROCESSING_ERROR, and the invoice is not called missing."""
    d = _folder(tmp_path, {"fs.jpg": "care_sheet", "facture.pdf": "invoice"})
    filled_care_sheet(d / "fs.jpg")
    text_pdf(INVOICE_LINES, d / "facture.pdf")
    real = dossier.read_file

    def breaking(ctx, n, entry):
        if entry.slot == "invoice":
            raise ZeroDivisionError("a bug of ours")
        return real(ctx, n, entry)

    monkeypatch.setattr(dossier, "read_file", breaking)
    result = dossier.process_dossier(d, settings)
    assert result.decision == Decision.ILLEGIBLE
    assert ReasonCode.PROCESSING_ERROR in result.reasons and ReasonCode.INVOICE_MISSING not in result.reasons
    kinds = {doc.file: doc for doc in result.documents}
    assert kinds["fs.jpg"].doc_type == DocType.CARE_SHEET and kinds["fs.jpg"].care_sheet is not None
    assert kinds["facture.pdf"].doc_type == DocType.INVOICE and kinds["facture.pdf"].pages == ()
    assert any("fichier 2: ZeroDivisionError" in f.evidence for f in result.findings)


def test_a_manifest_step_that_crashes_is_inside_the_dossiers_boundary(tmp_path, settings, monkeypatch):
    d = _folder(tmp_path, {"facture.pdf": "invoice"})
    text_pdf(INVOICE_LINES, d / "facture.pdf")

    def crashing(folder):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(dossier, "read_manifest", crashing)
    result = dossier.process_dossier(d, settings)
    assert result.reasons == (ReasonCode.PROCESSING_ERROR,) and result.dossier_id == d.name


def test_the_machines_failure_is_raised_never_decided(tmp_path, settings, monkeypatch):
    d = _folder(tmp_path, {"facture.pdf": "invoice"})
    text_pdf(INVOICE_LINES, d / "facture.pdf")

    def engine_gone(ctx, n, entry):
        raise InfrastructureError("tesseract could not start")

    monkeypatch.setattr(dossier, "read_file", engine_gone)
    with pytest.raises(InfrastructureError):
        dossier.process_dossier(d, settings)


def test_a_client_file_name_of_251_characters_still_gets_its_crops_and_thumbnail(tmp_path, settings):
    name = "feuille_" + "x" * 239 + ".jpg"  # 251 bytes: the file system takes it, '<name>_p1.png' it would not
    d = _folder(tmp_path, {name: "care_sheet"})
    filled_care_sheet(d / name)
    result = dossier.process_dossier(d, settings, artifacts_root=tmp_path / "artifacts")
    assert ReasonCode.PROCESSING_ERROR not in result.reasons
    doc = result.documents[0]
    assert doc.care_sheet is not None and doc.care_sheet.crops and Path(doc.thumbnail).is_file()
    assert all(Path(c).is_file() for c in doc.care_sheet.crops.values())
    stem = artifact_stem(name, 1)
    assert len(stem.encode()) < 255 and len(stem) <= STEM_MAX_CHARS + 3
    assert artifact_stem(name, 1) != artifact_stem(name[:-5] + "y.jpg", 1)  # unique per file


def test_a_folder_name_of_250_characters_gets_a_key_that_fits_a_file_name():
    from core.inbox import KEY_MAX_CHARS, results_key

    long_a, long_b = "D-" + "x" * 248, "D-" + "x" * 247 + "y"
    assert len(results_key(long_a)) <= KEY_MAX_CHARS and len(f".{results_key(long_a)}.json.0123456789ab.tmp") < 255
    assert results_key(long_a) != results_key(long_b) and results_key("D-2017-000123") == "D-2017-000123"


def test_an_invoice_carries_its_first_page_hash_and_a_rescan_of_it_is_close(tmp_path):
    """pipeline.document.page_hash on real pages: the sample inbox's invoice, and a rescan of it
    (downscaled to half, JPEG at quality 60, 1° rotated) a few bits away; a care sheet is not hashed."""
    import cv2

    from core.imagehash import hamming
    from core.records import Capture, Page
    from core.settings import REPO_ROOT
    from pipeline.document import page_hash

    src = next(p for p in sorted((REPO_ROOT / "sample_docs" / "inbox").glob("*/facture*.png")))
    image = cv2.imread(str(src))
    h, w = image.shape[:2]
    turned = cv2.warpAffine(image, cv2.getRotationMatrix2D((w / 2, h / 2), 1.0, 1.0), (w, h),
                            borderValue=(255, 255, 255))
    ok, jpeg = cv2.imencode(".jpg", cv2.resize(turned, (w // 2, h // 2), interpolation=cv2.INTER_AREA),
                            [cv2.IMWRITE_JPEG_QUALITY, 60])
    rescan = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    page = Page("f.png", 1, image, 200.0, Capture.IMAGE)
    again = Page("g.jpg", 1, rescan, 100.0, Capture.IMAGE)
    assert hamming(page_hash(page), page_hash(again)) <= 6
    assert page_hash(Page("x.pdf", 1, None, 200.0, Capture.PDF_TEXT)) is None


def _digit_model_built_in_child() -> tuple[int, int]:
    from extractors.care_sheet import digits

    before = digits.model.cache_info().misses
    digits.model()
    return before, digits.model.cache_info().misses


def test_the_dossier_child_inherits_what_warm_up_built():
    """The flow forks a child per dossier (inbox.deadline): built lazily, the digit model was trained
    again in every child (~2.7 s CPU per dossier); warmed first, the child finds it built."""
    from inbox.deadline import call_with_limit
    from pipeline.dossier import warm_up

    warm_up()
    before, after = call_with_limit(_digit_model_built_in_child, 60)
    assert before >= 1 and after == before  # the child's call was a cache hit: nothing trained again


def test_without_its_fonts_the_digit_model_reads_every_cell_as_unknown(monkeypatch):
    import numpy as np

    from extractors.care_sheet import digits

    monkeypatch.setattr(digits, "_font_files", lambda: {})
    empty = digits.model.__wrapped__()
    assert empty[0].shape[0] == 0 and empty[1].shape == (0,)
    monkeypatch.setattr(digits, "model", lambda: empty)
    cell = np.zeros((30, 20), bool)
    cell[5:25, 9:12] = True  # a "1"
    assert digits.classify(cell) == digits.Digit("", 0.0)
