"""The results database, on SQLite and on PostgreSQL (a throwaway cluster of Debian's binaries)."""
from __future__ import annotations

import csv
import glob
import io
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.imagehash import dhash, hamming
from core.records import (CareSheetFacts, Capture, Decision, DocType, DocumentResult, DossierResult, Finding,
                          InvoiceFacts, InvoiceKind, ReasonCode)
from results import db
from results.duplicates import find_duplicates, with_duplicates
from results.models import Base, Document, Dossier, Field, Review
from results.columns import DOCUMENT_CSV_COLUMNS
from results.store import (DOCUMENT_COLUMNS, DOSSIER_COLUMNS, document_row, dossier_row, load_rows, save_result,
                           save_review, saved_dossier_row, write_csvs)

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL cluster of its own in a temp dir on a free port, stopped and removed afterwards."""
    if not PG_BIN:
        pytest.skip("PostgreSQL binaries absent (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql")
    bindir = Path(PG_BIN[-1]).parent
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as Debian's postgres user
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as a non-root user")
        as_user = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="intake-pg-"))
    data = root / "data"
    if as_user:
        shutil.chown(root, "postgres")
    port = _free_port()
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8"], check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o",
                    f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, monkeypatch, tmp_path):
    """The database URL the store will use for output folder tmp_path/out (env INTAKE_DATABASE_URL)."""
    if request.param == "sqlite":
        monkeypatch.delenv("INTAKE_DATABASE_URL", raising=False)
        url = f"sqlite:///{(tmp_path / 'out' / db.DB_FILE).resolve()}"
    else:
        import psycopg

        server = request.getfixturevalue("postgres")
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        url = f"{server}/{name}"
        monkeypatch.setenv("INTAKE_DATABASE_URL", url)
    yield url
    db.dispose_engines()


@pytest.fixture
def out(tmp_path, backend) -> Path:
    path = tmp_path / "out"
    path.mkdir(exist_ok=True)
    return path


# --- sample results -----------------------------------------------------------------------

def invoice(did: str, file: str = "facture.pdf", *, siret="73282932000074", number="F-2017-0042",
            date="2017-01-20", total="184.50", **kw) -> DocumentResult:
    facts = InvoiceFacts(invoice_date=date, total_ttc=total, siret=siret, kind=InvoiceKind.VETERINARY,
                         invoice_number=number, total_ht="153.75", total_tva="30.75",
                         confidence={"invoice_date": 0.9, "total_ttc": 0.85, "siret": 0.97, "kind": 0.6})
    return DocumentResult(did, file, (2, 3), DocType.INVOICE, capture=Capture.PDF_TEXT, readability=0.93,
                          ocr_confidence=None, invoice=facts, legible=True, identified_by="text", **kw)


def dossier(did: str, folder: str | None = None, *docs: DocumentResult, findings=(),
            decision=Decision.ACCEPT) -> DossierResult:
    return DossierResult(did, decision, tuple(findings), tuple(docs), "2017-01-26T14:03:00+01:00", folder or did)


def varied() -> list[DossierResult]:
    """Dossiers with what a CSV can trip on: commas, quotes, new lines, accents, empty cells, odd order."""
    care = DocumentResult("D-1", "feuille, de \"soins\".jpg", (1,), DocType.CARE_SHEET, capture=Capture.IMAGE,
                          readability=0.6123456789, readability_defects=("blur", "dark"), ocr_confidence=71.25,
                          care_sheet=CareSheetFacts(vet_stamp=False, vet_signature=True, owner_signature=None,
                                                    medical_section_complete=True, owner_date=True),
                          legible=True, identified_by="layout")
    broken = DocumentResult("D-1", "scan\nbizarre.png", (), DocType.OTHER, legible=False,
                            illegible_why=("photo floue", "image trop sombre"), identified_by="slot")
    stamp = Finding(ReasonCode.VET_STAMP_MISSING, "Le cachet du vétérinaire est absent de la feuille de soins.",
                    "f1 p1 zone vet_stamp: encre 0.02")
    unread = Finding(ReasonCode.FILE_UNREADABLE, "Un fichier envoyé ne peut pas être ouvert : « scan ».", "")
    return [
        dossier("D-1", "D-1", care, invoice("D-1"), broken, findings=(stamp, unread), decision=Decision.ILLEGIBLE),
        dossier("D-1-b", "D-1-b", invoice("D-1-b", number="A,1", siret=None)),  # sorts before D-1 as a file name
        dossier("D-2", "D 2 (copie)"),  # no documents, a folder name that is not a safe id
        dossier("É-3", "E3", invoice("É-3", date=None, total=None),
                findings=(Finding(ReasonCode.INVOICE_MISSING, "La facture \"vétérinaire\"\r\nest absente."),),
                decision=Decision.REQUEST_DOCUMENTS),
    ]


def old_store_csvs(folder: Path, results: list[DossierResult], confidences: bool = False) -> tuple[str, str]:
    """dossiers.csv and documents.csv as the JSON store (before the database) wrote them; with `confidences`,
    plus the invoice fields' confidences the database now adds (its JSON files never held them)."""
    from core.inbox import safe_id

    (folder / "results").mkdir(parents=True)
    for r in results:
        payload = {"dossier": dossier_row(r), "documents": [document_row(d) for d in r.documents]}
        (folder / "results" / f"{safe_id(r.folder or r.dossier_id)}.json").write_text(
            json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    dossiers, documents = [], []
    for path in sorted((folder / "results").glob("*.json")):
        payload = json.loads(path.read_text(encoding="utf-8"))
        dossiers.append(payload["dossier"])
        documents.extend(payload["documents"])
    if confidences:
        by_row = [d for r in sorted(results, key=lambda r: f"{safe_id(r.folder or r.dossier_id)}.json")
                  for d in r.documents]
        documents = [_with_confidences(doc, row) for doc, row in zip(by_row, documents)]
    texts = []
    from results.columns import DOCUMENT_CSV_COLUMNS  # documents.csv adds the care-sheet fields (contract §5)

    for columns, rows in ((DOSSIER_COLUMNS, dossiers), (DOCUMENT_CSV_COLUMNS, documents)):
        buf = io.StringIO(newline="")
        writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        texts.append(buf.getvalue())
    return texts[0], texts[1]


def _with_confidences(d: DocumentResult, row: dict) -> dict:
    """The JSON store's row of `d`, plus what documents.csv now adds from the `fields` table: each invoice
    field's confidence (contract §5), three decimals."""
    from results.columns import INVOICE_CONFIDENCE_COLUMNS

    row = dict(row)
    for name, column in INVOICE_CONFIDENCE_COLUMNS.items():
        if d.invoice is not None and d.invoice.confidence.get(name) is not None:
            row[column] = f"{d.invoice.confidence[name]:.3f}"
    return row


def _bytes(out: Path) -> tuple[str, str]:
    return ((out / "dossiers.csv").read_bytes().decode("utf-8"), (out / "documents.csv").read_bytes().decode("utf-8"))


def _engine(out: Path):
    return db.engine_for(out)


# --- schema and migrations ---------------------------------------------------------------

def test_migrations_upgrade_downgrade_and_match_the_models(backend):
    engine = db.create(backend)
    try:
        db.migrate(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            assert {"dossiers", "documents", "findings", "fields", "reviews", "meta"} <= set(inspect(conn).get_table_names())
        db.migrate(engine, "base", down=True)
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        db.migrate(engine)  # and up again, from nothing
        with engine.connect() as conn:
            assert "dossiers" in inspect(conn).get_table_names()
    finally:
        engine.dispose()


def test_the_database_refuses_a_second_row_set_of_one_key(out):
    engine = _engine(out)
    with Session(engine) as s, s.begin():
        s.add(Dossier(key="K", dossier_id="D", decision="accept", saved_at="x", source="test"))
    with pytest.raises(IntegrityError), Session(engine) as s, s.begin():
        s.add(Dossier(key="K", dossier_id="D", decision="accept", saved_at="y", source="test"))


# --- the store ------------------------------------------------------------------------------

def test_csvs_from_the_database_are_byte_for_byte_those_of_the_json_store(out, tmp_path):
    results = varied()
    for r in results:
        save_result(out, r)
    write_csvs(out)
    assert _bytes(out) == old_store_csvs(tmp_path / "old", results, confidences=True)
    dossiers, documents = load_rows(out)
    assert [d["dossier_id"] for d in dossiers] == ["D-1-b", "D-1", "D-2", "É-3"]  # "D-1-b.json" < "D-1.json"
    assert len(documents) == 5 and set(DOCUMENT_COLUMNS) <= set(documents[0]) <= set(DOCUMENT_CSV_COLUMNS)


def test_every_record_is_stored(out):
    r = varied()[0]
    save_result(out, r, fingerprint="ab" * 32)
    with Session(_engine(out)) as s:
        d = s.scalar(select(Dossier).where(Dossier.key == "D-1"))
        assert (d.decision, d.fingerprint, d.source) == ("illegible", "ab" * 32, "pipeline")
        assert [f.code for f in d.findings] == ["VET_STAMP_MISSING", "FILE_UNREADABLE"]
        assert [doc.doc_type for doc in d.documents] == ["care_sheet", "invoice", "other"]
        inv = d.documents[1]
        fields = {f.name: (f.value, f.confidence) for f in inv.fields}
        assert fields["siret"] == ("73282932000074", 0.97) and fields["invoice_number"] == ("F-2017-0042", None)
        assert fields["total_ttc"] == ("184.50", 0.85)
    assert saved_dossier_row(out, "D-1")["reasons"] == "VET_STAMP_MISSING|FILE_UNREADABLE"
    with pytest.raises(OSError):
        saved_dossier_row(out, "nowhere")


def test_a_rerun_replaces_the_row_set_and_keeps_the_reviews(out):
    first = dossier("D-9", "D-9", invoice("D-9"), invoice("D-9", "b.pdf"))
    save_result(out, first)
    save_review(out, "D-9", reviewed_by="alice", reviewed_at="2017-02-01T10:00:00+01:00",
                before={"decision": "accept", "reasons": ""}, after={"decision": "accept"}, note="ok")
    again = dossier("D-9", "D-9", invoice("D-9", number="F-3"), decision=Decision.ACCEPT)
    save_result(out, again)
    with Session(_engine(out)) as s:
        assert s.query(Dossier).count() == 1
        assert [d.invoice_number for d in s.scalars(select(Document))] == ["F-3"]
        assert s.query(Field).count() == len(db.INVOICE_FIELD_COLUMNS) - 1  # amount_due unknown
        assert s.query(Review).count() == 1
    write_csvs(out)
    assert _bytes(out)[1].count("\r\n") == 2  # header + the one document


def test_concurrent_savers_of_one_dossier_leave_one_row_set(out):
    variants = [dossier("D-C", "D-C", *[invoice("D-C", f"f{i}-{j}.pdf") for j in range(i + 1)]) for i in range(6)]
    barrier = threading.Barrier(len(variants))
    errors: list[BaseException] = []

    def save(r: DossierResult) -> None:
        try:
            barrier.wait()
            save_result(out, r)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    _engine(out)  # migrated once before the race: the race is on the dossier's key
    threads = [threading.Thread(target=save, args=(r,)) for r in variants]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session(_engine(out)) as s:
        (d,) = s.scalars(select(Dossier)).all()
        files = [doc.file for doc in d.documents]
        assert s.query(Document).count() == len(files)
    n = len(files)
    assert files == [f"f{n - 1}-{j}.pdf" for j in range(n)]  # one saver's whole set, no mixture
    mirror = json.loads((out / "results" / "D-C.json").read_text(encoding="utf-8"))
    assert [d["file"] for d in mirror["documents"]] == files  # the JSON mirror is the committed one


def test_save_review_records_who_when_before_after_and_updates_the_dossier(out):
    save_result(out, dossier("D-R", "D-R", invoice("D-R")))
    rid = save_review(out, "D-R", reviewed_by="bob", reviewed_at="2017-02-02T09:30:00+01:00",
                      before={"decision": "accept", "reasons": []},
                      after={"decision": "request_documents", "reasons": ["INVOICE_MISSING"]}, note="facture d'un autre")
    with Session(_engine(out)) as s:
        review = s.get(Review, rid)
        assert (review.reviewed_by, review.reviewed_at, review.decision_before, review.decision_after,
                review.reasons_after, review.note) == ("bob", "2017-02-02T09:30:00+01:00", "accept",
                                                       "request_documents", "INVOICE_MISSING", "facture d'un autre")
        assert review.after == {"decision": "request_documents", "reasons": ["INVOICE_MISSING"]}
        assert s.scalar(select(Dossier.needs_review)) is False
    row = next(csv.DictReader(io.StringIO(_bytes(out)[0])))  # save_review exported the CSVs again
    assert (row["decision"], row["status_fr"], row["reasons"]) == (
        "request_documents", "En attente de documents supplémentaires", "INVOICE_MISSING")
    assert row["message_fr"] == "La facture du vétérinaire est absente de votre envoi."
    with pytest.raises(ValueError):
        save_review(out, "D-R", reviewed_by="bob", reviewed_at="x", before={}, after={"decision": "maybe"}, note="")
    with pytest.raises(OSError):
        save_review(out, "nope", reviewed_by="bob", reviewed_at="x", before={}, after={}, note="")


def test_earlier_json_results_are_imported_once(out, tmp_path):
    results = varied()
    expected = old_store_csvs(tmp_path / "old", results)
    shutil.copytree(tmp_path / "old" / "results", out / "results")
    (out / "results" / "broken.json").write_text("{not json", encoding="utf-8")
    write_csvs(out)  # first open: imports them
    assert _bytes(out) == expected
    with Session(_engine(out)) as s:
        assert s.query(Dossier).filter(Dossier.source == "json").count() == 4
        assert json.loads(s.get(db.Meta, db.IMPORT_MARKER).value)["skipped"] == ["broken.json"]
    # a later process opening the same database does not import again (a file added by hand stays out)
    db.dispose_engines()
    late = dossier("Z-late", "Z-late")
    (out / "results" / "Z-late.json").write_text(json.dumps({"dossier": dossier_row(late), "documents": []}))
    write_csvs(out)
    assert _bytes(out) == expected


# --- duplicates -----------------------------------------------------------------------------

def test_the_same_invoice_in_two_dossiers_is_a_duplicate_of_the_earlier(out):
    save_result(out, dossier("D-A", "D-A", invoice("D-A")))
    save_result(out, dossier("D-X", "D-X", invoice("D-X", siret="11111111111111", number="Z")))
    later = dossier("D-B", "D-B", invoice("D-B", "facture-bis.pdf", date="2017-03-01", total="1.00"))
    ((earlier, why),) = find_duplicates(out, later)
    assert earlier == "D-A" and "F-2017-0042" in why and "73282932000074" in why
    # same SIRET, date and total, another number (a retyped invoice)
    retyped = dossier("D-C", "D-C", invoice("D-C", number="F-2017-0042bis"))
    assert [e for e, _ in find_duplicates(out, retyped)] == ["D-A"]
    # a dossier is never its own duplicate (a re-run)
    assert find_duplicates(out, dossier("D-A", "D-A", invoice("D-A"))) == []
    assert find_duplicates(out, dossier("D-N", "D-N", invoice("D-N", number="N-1", total="9.99"))) == []
    flagged = with_duplicates(out, later)
    assert flagged.decision == later.decision == Decision.ACCEPT  # the decision does not change
    (finding,) = [f for f in flagged.findings if f.code == ReasonCode.DUPLICATE_INVOICE]
    assert "D-A" in finding.evidence and finding.message_fr.startswith("Cette facture")
    save_result(out, flagged)
    with Session(_engine(out)) as s:
        d = s.scalar(select(Dossier).where(Dossier.key == "D-B"))
        assert (d.needs_review, d.review_why, d.reasons) == (True, "DUPLICATE_INVOICE", "DUPLICATE_INVOICE")


def test_a_near_identical_page_is_a_duplicate(out):
    rng = np.random.default_rng(7)
    page = np.kron(rng.integers(0, 255, (16, 12), dtype=np.uint8), np.ones((50, 50), np.uint8))
    rescan = np.clip(page.astype(int) + rng.integers(-12, 12, page.shape), 0, 255).astype(np.uint8)
    other = np.kron(rng.integers(0, 255, (16, 12), dtype=np.uint8), np.ones((50, 50), np.uint8))
    save_result(out, dossier("D-H1", "D-H1", invoice("D-H1", number="H-1", page_hash=dhash(page))))
    with Session(_engine(out)) as s:
        assert s.scalar(select(Document.page_hash)) == dhash(page)
    unread = dict(siret=None, number=None)  # nothing read but the pixels
    ((earlier, why),) = find_duplicates(out, dossier("D-H2", "D-H2", invoice("D-H2", page_hash=dhash(rescan), **unread)))
    assert earlier == "D-H1" and "presque identique" in why
    assert find_duplicates(out, dossier("D-H3", "D-H3", invoice("D-H3", page_hash=dhash(other), **unread))) == []
    # one clinic's template, another invoice: the same hash, but another number, date or total read -> a
    # sibling; and a near hash beside an invoice nothing was read from is no evidence (a mostly blank page)
    for sibling in (dict(number="H-2"), dict(number=None, total="72.10"), dict(number=None, date="2017-03-02"),
                    dict(number=None, date=None, total=None)):
        doc = invoice("D-H4", page_hash=dhash(rescan), siret=None, **sibling)
        assert find_duplicates(out, dossier("D-H4", "D-H4", doc)) == [], sibling


def test_dhash_is_close_for_a_rescan_and_far_for_another_page():
    rng = np.random.default_rng(1)
    page = np.kron(rng.integers(0, 255, (20, 15), dtype=np.uint8), np.ones((40, 40), np.uint8))
    bgr = np.dstack([page] * 3)
    assert len(dhash(page)) == 16 and dhash(page) == dhash(bgr)
    smaller = page[::2, ::2]
    assert hamming(dhash(page), dhash(smaller)) <= 2
    other = np.kron(rng.integers(0, 255, (20, 15), dtype=np.uint8), np.ones((40, 40), np.uint8))
    assert hamming(dhash(page), dhash(other)) > 16
    assert dhash(np.zeros((3, 2), np.uint8)) == "0" * 16  # tiny and flat: defined, not an error


def test_review_why_is_stored_and_exported_as_codes_not_a_tuple(out):
    """pipeline.confidence gives a tuple; the database and dossiers.csv hold "A|B" (a tuple's repr,
    "('CONTRACT_MISMATCH',)", reached the CSV before)."""
    from dataclasses import replace

    flagged = replace(dossier("D-W", "D-W", invoice("D-W")), confidence=0.42, needs_review=True,
                      review_why=("low_confidence:invoice_fields", "CONTRACT_MISMATCH"))
    save_result(out, flagged)
    with Session(_engine(out)) as s:
        d = s.scalar(select(Dossier).where(Dossier.key == "D-W"))
        assert (d.needs_review, d.review_why, d.confidence) == (True, "low_confidence:invoice_fields|CONTRACT_MISMATCH", 0.42)
    write_csvs(out)
    with (out / "dossiers.csv").open(encoding="utf-8") as fh:
        (row,) = [r for r in csv.DictReader(fh) if r["dossier_id"] == "D-W"]
    assert row["review_why"] == "low_confidence:invoice_fields|CONTRACT_MISMATCH" and row["needs_review"] == "true"


def test_documents_csv_gives_each_invoice_field_its_confidence(out):
    """Contract §5: `F_confidence` beside each field read; an invoice's from InvoiceFacts.confidence."""
    save_result(out, dossier("D-C", "D-C", invoice("D-C")))
    write_csvs(out)
    with (out / "documents.csv").open(encoding="utf-8") as fh:
        (row,) = [r for r in csv.DictReader(fh) if r["dossier_id"] == "D-C"]
    assert (row["invoice_date_confidence"], row["invoice_total_ttc_confidence"], row["vet_siret_confidence"],
            row["invoice_kind_confidence"]) == ("0.900", "0.850", "0.970", "0.600")
    assert row["invoice_number_confidence"] == ""  # no confidence given for it: empty, not a guess
