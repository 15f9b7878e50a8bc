"""sample_docs/generate.py: layout of the inbox, manifest last, determinism, truth consistency, files that open."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

REPO = Path(__file__).resolve().parents[1]
N = 5  # the first recipes cover a corrupt file, a two-document PDF, a degraded sheet and a PNG named .pdf
CONTRACT_DOSSIER = ["dossier_id", "decision", "status_fr", "reasons", "message_fr", "processed_at"]
CONTRACT_DOCUMENT = ["dossier_id", "file", "pages", "doc_type", "readability", "ocr_confidence", "vet_stamp",
                     "vet_signature", "owner_signature", "medical_section_complete", "invoice_date",
                     "invoice_total_ttc", "vet_siret", "invoice_kind"]
ILLEGIBLE = {"CARE_SHEET_ILLEGIBLE", "INVOICE_ILLEGIBLE", "FILE_UNREADABLE"}


def generate(out: Path, seed: int = 11) -> None:
    cmd = [sys.executable, str(REPO / "sample_docs" / "generate.py"), "--out", str(out), "--seed", str(seed),
           "--n", str(N), "--workers", "2", "--profile", "compact"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    generate(a)
    generate(b)
    return a, b


def test_truth_has_contract_columns(runs):
    out = runs[0]
    dossiers, documents = read(out / "truth" / "dossiers.csv"), read(out / "truth" / "documents.csv")
    assert len(dossiers) == N
    assert list(dossiers[0])[:6] == CONTRACT_DOSSIER and "capture" in dossiers[0]
    assert list(documents[0])[:14] == CONTRACT_DOCUMENT and {"capture", "legible"} <= set(documents[0])
    assert {d["capture"] for d in documents} <= {"text_pdf", "scan", "photo", "degraded", "corrupt"}


def test_inbox_layout_and_manifest_written_last(runs):
    out = runs[0]
    dossiers = {d["dossier_id"] for d in read(out / "truth" / "dossiers.csv")}
    pending = {r["folder"] for r in read(out / "truth" / "pending.csv")}
    assert pending and not pending & dossiers
    assert {p.name for p in (out / "inbox").iterdir()} == dossiers | pending
    for folder in (out / "inbox").iterdir():
        names = {p.name for p in folder.iterdir()}
        assert not any(n.endswith(".tmp") for n in names)
        if folder.name in pending:
            assert "manifest.json" not in names and names
            continue
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert m["dossier_id"] == folder.name and m["submitted_at"]
        listed = [d["file"] for d in m["documents"]]
        assert set(listed) == names - {"manifest.json"} and len(listed) == len(set(listed))
        assert {d["slot"] for d in m["documents"]} <= {"care_sheet", "invoice", "other"}
        last = (folder / "manifest.json").stat().st_mtime_ns
        assert all((folder / n).stat().st_mtime_ns <= last for n in listed)


def test_same_seed_same_bytes(runs):
    a, b = runs
    for name in ("dossiers.csv", "documents.csv", "pending.csv"):
        assert (a / "truth" / name).read_bytes() == (b / "truth" / name).read_bytes()
    files = sorted(f.relative_to(a) for f in (a / "inbox").rglob("*") if f.is_file())
    assert files == sorted(f.relative_to(b) for f in (b / "inbox").rglob("*") if f.is_file())
    for f in files:  # encrypted PDFs included: they are keyed on the file id, without random salt
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


def test_decision_follows_reasons_by_precedence(runs):
    out = runs[0]
    docs: dict[str, list[dict]] = {}
    for d in read(out / "truth" / "documents.csv"):
        docs.setdefault(d["dossier_id"], []).append(d)
    for row in read(out / "truth" / "dossiers.csv"):
        reasons = set(filter(None, row["reasons"].split("|")))
        want = "illegible" if reasons & ILLEGIBLE else "request_documents" if reasons else "accept"
        assert row["decision"] == want, row
        mine = docs[row["dossier_id"]]
        readable = [d for d in mine if d["capture"] != "corrupt"]
        vet = [d for d in readable if d["invoice_kind"] == "veterinary"]
        assert ("INVOICE_MISSING" in reasons) == (not vet)
        assert ("FILE_UNREADABLE" in reasons) == (len(readable) < len(mine))
        assert ("CARE_SHEET_MISSING" in reasons) == (not any(d["doc_type"] == "care_sheet" for d in readable))
        bought = any(d["invoice_kind"] in ("pharmacy", "laboratory") for d in readable)
        assert ("PRESCRIPTION_MISSING" in reasons) == (bought and not any(d["doc_type"] == "prescription" for d in readable))
        sheets = [d for d in readable if d["doc_type"] == "care_sheet" and d["legible"] == "true"]
        if sheets:
            assert ("VET_STAMP_MISSING" in reasons) == (sheets[0]["vet_stamp"] == "false")
            assert ("CARE_SHEET_UNDATED" in reasons) == (sheets[0]["dated"] == "false")
        elif any(d["doc_type"] == "care_sheet" for d in readable):
            assert "CARE_SHEET_ILLEGIBLE" in reasons and "VET_STAMP_MISSING" not in reasons


def _opens(data: bytes, pages: str) -> None:
    last = int(pages.split("-")[-1])
    if data[:5] == b"%PDF-":
        reader = PdfReader(io.BytesIO(data))
        assert not reader.is_encrypted or reader.decrypt("") > 0  # owner password only: opens freely
        assert len(reader.pages) >= last
        assert set(reader.metadata or {}) <= {"/Producer", "/Creator"}  # nothing naming the document
    else:
        img = Image.open(io.BytesIO(data))
        img.load()
        assert set(img.getexif()) <= {0x0112}  # at most an Orientation tag


def test_files_open_except_the_broken_ones(runs):
    out = runs[0]
    formats = set()
    for d in read(out / "truth" / "documents.csv"):
        data = (out / "inbox" / d["dossier_id"] / d["file"]).read_bytes()
        formats.add(d["file_format"])
        if d["capture"] == "corrupt":
            with pytest.raises(Exception):
                reader = PdfReader(io.BytesIO(data))
                if reader.is_encrypted and not reader.decrypt(""):
                    raise PermissionError("needs a password")
                reader.pages[0].extract_text()
        else:
            _opens(data, d["pages"])
    assert {"pdf", "png"} <= formats and formats - {"pdf", "png", "jpeg"}  # at least one broken kind


CARE_FIELDS = ["care_sheet_contract_number", "care_sheet_animal_name", "care_sheet_species", "care_sheet_animal_birth_date",
               "care_sheet_animal_id", "care_sheet_consultation_date", "care_sheet_first_symptoms_date",
               "care_sheet_surgery", "care_sheet_motif", "care_sheet_diagnosis", "care_sheet_acts",
               "care_sheet_fee_lines", "care_sheet_total_ttc", "care_sheet_vet_name", "care_sheet_vet_ordre_number",
               "care_sheet_owner_date", "care_sheet_vet_date"]


def test_care_sheet_rows_carry_the_truth_of_every_field(runs):
    out = runs[0]
    sheets = [d for d in read(out / "truth" / "documents.csv") if d["doc_type"] == "care_sheet" and d["capture"] != "corrupt"]
    assert sheets and set(CARE_FIELDS) <= set(sheets[0])
    for d in sheets:
        assert d["care_sheet_species"] in ("chien", "chat")
        assert d["care_sheet_animal_name"]
        for f in ("care_sheet_consultation_date", "care_sheet_owner_date", "care_sheet_vet_date"):
            assert d[f] == "" or len(d[f]) == 10 and d[f][4] == "-"
        assert d["care_sheet_total_ttc"] == "" or "." in d["care_sheet_total_ttc"]
        assert d["care_sheet_motif"] in ("", "accident", "maladie", "prevention")
        if d["medical_section_complete"] == "true":
            assert d["care_sheet_motif"] and d["care_sheet_diagnosis"]


def test_the_first_recipes_break_the_checks_they_name(runs):
    """Recipe 0 writes another contract in the manifest, recipe 2 another total on the sheet (gen/consistency.py)."""
    out = runs[0]
    rows = read(out / "truth" / "dossiers.csv")
    assert rows[0]["checks"] == "CONTRACT_MISMATCH" and "+contract_mismatch" in rows[0]["scenario"]
    assert rows[2]["checks"] == "AMOUNT_MISMATCH"
    assert all(not r["checks"] for i, r in enumerate(rows) if i not in (0, 2))
    docs = {d["dossier_id"]: d for d in read(out / "truth" / "documents.csv") if d["doc_type"] == "care_sheet"}
    manifest = json.loads((out / "inbox" / rows[0]["dossier_id"] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["contract_number"] != docs[rows[0]["dossier_id"]]["care_sheet_contract_number"]
