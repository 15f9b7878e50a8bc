"""What a client's upload or an unlucky operator must never do to the inbox: merge two dossiers' results,
hang the run, lose a dossier when the machine fails, leak a file through a link, or inject a formula."""
import csv
import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from inbox import archive as archiving, claim as claims, ledger
from tests.render import INVOICE_LINES, save_image, text_page, text_pdf, write_dossier

DATA = Path(__file__).parent / "data"


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:  # as the csv module asks: a CR inside a cell stays
        return list(csv.DictReader(fh))


def _tree_digest(folder: Path) -> dict[str, str]:
    """Every file of a folder (relative name -> sha256 of its bytes)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _image_dossier(inbox: Path, name: str, lines: list[str]) -> Path:
    """A dossier whose invoice is a picture (so it is OCRed), with lines of its own (no OCR cache hit)."""
    d = inbox / name
    d.mkdir(parents=True)
    save_image(text_page(lines), d / "facture.png", format="PNG")
    (d / "manifest.json").write_text(json.dumps({"dossier_id": name,
                                                 "documents": [{"file": "facture.png", "slot": "invoice"}]}))
    return d


# --- 1. results keys ----------------------------------------------------------------------------

def test_results_keys_are_readable_and_never_collide():
    from core.inbox import results_key, safe_id

    assert results_key("D-2017-000123") == "D-2017-000123"  # unchanged by safe_id: the name itself
    names = ["D 1", "D_1", "D-é", "D-è", "D-_", "D-", ".D1", "D1", "X-0123456789", results_key("D 1")]
    keys = [results_key(n) for n in names]
    assert len(set(keys)) == len(names)
    assert keys[0].startswith("D_1-") and keys[1] == "D_1"
    assert all(safe_id(k) == k for k in keys)  # usable as file names as they are


@pytest.mark.flow
def test_folders_differing_only_by_what_safe_id_folds_get_a_row_each(tmp_path, prefect_harness):
    from flows.inbox import run_inbox
    from core.settings import Settings

    inbox, out, archive = tmp_path / "inbox", tmp_path / "out", tmp_path / "archive"
    names = ["D 1", "D_1", "D-é", "D-è"]
    for n in names:
        write_dossier(inbox, n)
    run_inbox(inbox, out, Settings(workers=2, ocr_cache_dir=tmp_path / "ocr"), archive=archive)
    rows = _rows(out / "dossiers.csv")
    assert sorted(r["dossier_id"] for r in rows) == sorted(names)
    assert all(r["decision"] == "request_documents" for r in rows)  # the blank form, no invoice: decided
    assert sorted(p.name for p in archive.glob("*/*")) == sorted(names)
    assert len(list((out / "results").glob("*.json"))) == 4 and len(list((out / "ledger").glob("*.json"))) == 4


# --- 2. the poisoned-dossier fallback -----------------------------------------------------------

@pytest.mark.flow
def test_a_dossier_that_kept_killing_runs_gets_its_row_without_parsing_its_manifest(tmp_path, prefect_harness,
                                                                                     monkeypatch):
    import pipeline.manifest
    from flows.inbox import run_inbox
    from core.settings import Settings

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write_dossier(inbox, "D-FINE")
    poison = write_dossier(inbox, "D-POISON")
    (poison / "manifest.json").write_text(json.dumps({"dossier_id": "D-POISON", "poison": True, "documents": []}))
    real = pipeline.manifest._parsed

    def exhausting(folder, data, problems):  # this manifest exhausts memory whenever it is parsed
        if data.get("poison"):
            raise MemoryError("manifest parsing exhausted memory")
        return real(folder, data, problems)

    monkeypatch.setattr(pipeline.manifest, "_parsed", exhausting)
    settings = Settings(workers=2, ocr_cache_dir=tmp_path / "ocr", infra_retries=0)
    for _ in range(settings.max_crashes):  # runs killed while holding it (OOM killer)
        ledger.count_crash(out, "D-POISON")
    summaries = {s["dossier_id"]: s for s in run_inbox(inbox, out, settings)}
    assert summaries["D-POISON"]["reasons"] == "PROCESSING_ERROR"
    rows = {r["dossier_id"]: r for r in _rows(out / "dossiers.csv")}
    assert sorted(rows) == ["D-FINE", "D-POISON"]
    assert "2 exécution(s) interrompue(s)" in rows["D-POISON"]["evidence"]


# --- 3. the per-dossier time limit --------------------------------------------------------------

@pytest.mark.flow
def _marked_processes(marker: str) -> list[int]:
    """Pids of the processes (but this one) whose environment holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_a_dossier_past_its_time_limit_is_processing_error_and_the_inbox_goes_on(tmp_path, prefect_harness,
                                                                                  monkeypatch):
    from flows.inbox import run_inbox
    from core.settings import Settings

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    import cv2

    slow = inbox / "D-SLOW"  # four real A4 scans at 300 dpi (distinct pixels: no OCR cache hit): ~2 s each
    slow.mkdir(parents=True)
    scan = cv2.imread(str(DATA / "ruled_scan.jpg"))
    variants = [scan, cv2.flip(scan, 1), cv2.rotate(scan, cv2.ROTATE_180), cv2.flip(scan, 0)]
    for i, image in enumerate(variants):
        cv2.imwrite(str(slow / f"scan{i}.jpg"), image)
    (slow / "manifest.json").write_text(json.dumps(
        {"dossier_id": "D-SLOW", "documents": [{"file": f"scan{i}.jpg", "slot": "invoice"} for i in range(4)]}))
    fast = inbox / "D-EMPTY"  # a request sent without documents: decided in milliseconds
    fast.mkdir()
    (fast / "manifest.json").write_text(json.dumps({"dossier_id": "D-EMPTY", "documents": []}))
    settings = Settings(workers=2, ocr_cache_dir=tmp_path / "ocr", dossier_timeout_s=1.5)
    marker = f"intake-test-{os.getpid()}-{time.time_ns()}"
    monkeypatch.setenv("INTAKE_TEST_MARKER", marker)  # inherited by every process the reading starts
    started = time.monotonic()
    summaries = {s["dossier_id"]: s for s in run_inbox(inbox, out, settings)}
    took = time.monotonic() - started
    assert summaries["D-SLOW"]["reasons"] == "PROCESSING_ERROR" and summaries["D-SLOW"]["decision"] == "illegible"
    assert summaries["D-EMPTY"]["reasons"] == "CARE_SHEET_MISSING|INVOICE_MISSING"
    rows = {r["dossier_id"]: r for r in _rows(out / "dossiers.csv")}
    assert "plus de 1.5 s (limite dossier_timeout_s)" in rows["D-SLOW"]["evidence"]
    assert took < 60, f"the run waited for the slow dossier ({took:.0f} s)"
    time.sleep(1)
    assert _marked_processes(marker) == [], "the killed reading left a process (Tesseract) behind"


def test_call_with_limit_kills_the_child_and_what_it_started(tmp_path):
    from inbox.deadline import ChildDied, TimedOut, call_with_limit

    assert call_with_limit(sum, 10, [1, 2, 3]) == 6
    with pytest.raises(ZeroDivisionError):
        call_with_limit(divmod, 10, 1, 0)  # its exception comes back
    marker = tmp_path / "still-running"
    started = time.monotonic()
    with pytest.raises(TimedOut):
        call_with_limit(subprocess.run, 0.5, ["sh", "-c", f"sleep 3; touch {marker}"])
    assert time.monotonic() - started < 2
    time.sleep(3.5)
    assert not marker.exists()  # the grandchild (as Tesseract would be) was killed with it
    with pytest.raises(ChildDied):
        call_with_limit(_die, 10)  # killed without answering (the OOM killer, a segfault)


def _log_and_answer(n: int) -> int:
    import logging
    logging.getLogger("pipeline.test").warning("dossier D-1 f%d: read in the child", n)
    return n * 2


def test_the_childs_logs_reach_the_parents_handlers(caplog):
    import logging

    from inbox.deadline import call_with_limit

    with caplog.at_level(logging.INFO):
        assert call_with_limit(_log_and_answer, 10, 21) == 42
    (record,) = [r for r in caplog.records if r.name == "pipeline.test"]
    assert record.getMessage() == "dossier D-1 f21: read in the child" and record.process != os.getpid()


# --- 4. the machine failing mid-run -------------------------------------------------------------

def _tesseract_dies_after_d1(tmp_path, monkeypatch) -> tuple[Path, Path, Path, list[str], dict]:
    """Four dossiers; tesseract works until D-1's result is saved, then is killed on every call (as by
    the OOM killer, or an upgrade removing it under the run)."""
    real = shutil.which("tesseract")
    inbox, out, archive = tmp_path / "inbox", tmp_path / "out", tmp_path / "archive"
    names = ["D-1", "D-2", "D-3", "D-4"]
    for n in names:
        _image_dossier(inbox, n, [f"Dossier {n}", *INVOICE_LINES])
    before = {n: _tree_digest(inbox / n) for n in names}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "tesseract"
    wrapper.write_text(f"#!/bin/sh\nif [ -e '{out}/results/D-1.json' ]; then kill -9 $$; fi\nexec '{real}' \"$@\"\n")
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return inbox, out, archive, names, before


@pytest.mark.flow
def test_tesseract_vanishing_with_a_dossier_read_ahead_loses_none(tmp_path, prefect_harness, monkeypatch):
    """With a dossier read ahead (Settings.dossiers_ahead=1), which dossiers are decided before
    tesseract dies is a race; what holds: those decided were read by a working tesseract (none illegible or
    in error because of the machine), every other is back in the inbox byte-identical, one crash counted."""
    from flows.inbox import run_inbox
    from core.errors import InfrastructureError
    from core.settings import Settings

    inbox, out, archive, names, before = _tesseract_dies_after_d1(tmp_path, monkeypatch)
    settings = Settings(workers=1, dossiers_ahead=1, ocr_cache_dir=tmp_path / "ocr", ocr_engine="tesseract")
    with pytest.raises(InfrastructureError, match="tesseract killed by signal 9"):
        run_inbox(inbox, out, settings, archive=archive)
    rows = _rows(out / "dossiers.csv")
    decided = sorted(r["dossier_id"] for r in rows)
    assert "D-1" in decided and len(decided) < len(names)
    assert all(r["decision"] != "illegible" and "PROCESSING_ERROR" not in r["reasons"] for r in rows)
    assert sorted(p.name for p in archive.glob("*/*")) == decided
    back = sorted(claims.claimable(inbox))
    assert back == [n for n in names if n not in decided]
    for n in back:
        assert _tree_digest(inbox / n) == before[n]
    assert not (inbox / claims.WORK_DIR).exists()
    assert sum(ledger.crashes(out, n) for n in names) == 1
    assert all(ledger.crashes(out, n) == 0 for n in decided)


@pytest.mark.flow
def test_tesseract_vanishing_mid_run_gives_the_undecided_dossiers_back(tmp_path, prefect_harness, monkeypatch):
    """One dossier at a time (no read-ahead), so the order is known: D-1 decided, D-2 the one it happened
    on (its crash counted), D-3 and D-4 never claimed."""
    from flows.inbox import run_inbox
    from core.errors import InfrastructureError
    from core.settings import Settings

    inbox, out, archive, names, before = _tesseract_dies_after_d1(tmp_path, monkeypatch)
    settings = Settings(workers=1, dossiers_ahead=0, ocr_cache_dir=tmp_path / "ocr",
                        ocr_engine="tesseract")  # the command is killed
    with pytest.raises(InfrastructureError, match="tesseract killed by signal 9"):
        run_inbox(inbox, out, settings, archive=archive)
    rows = _rows(out / "dossiers.csv")
    assert [r["dossier_id"] for r in rows] == ["D-1"]  # nothing decided "illisible" because of the machine
    assert [p.name for p in archive.glob("*/*")] == ["D-1"]
    assert sorted(claims.claimable(inbox)) == ["D-2", "D-3", "D-4"]  # given back or never claimed
    for n in names[1:]:
        assert _tree_digest(inbox / n) == before[n]  # byte-identical
    assert not (inbox / claims.WORK_DIR).exists()
    # one crash for the dossier it happened on only: one that kills Tesseract every time ends
    # PROCESSING_ERROR after max_crashes runs, the innocent ones are never counted
    assert [ledger.crashes(out, n) for n in names] == [0, 1, 0, 0]


@pytest.fixture
def full_tmpfs(tmp_path):
    """A 2 MB tmpfs, filled to the last byte, or skip when this machine may not mount one."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        (mnt / "results").mkdir()
        (mnt / "ledger").mkdir()
        with (mnt / "filler").open("wb", buffering=0) as fh:  # unbuffered: nothing left to fail at close
            try:
                while True:
                    fh.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.flow
def test_a_full_output_disk_stops_the_run_and_gives_dossiers_back(tmp_path, prefect_harness, full_tmpfs):
    from flows.inbox import run_inbox
    from core.errors import InfrastructureError
    from core.settings import Settings

    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    invoice = text_pdf(INVOICE_LINES, tmp_path / "facture.pdf")
    names = ["D-1", "D-2", "D-3"]
    for n in names:
        write_dossier(inbox, n, invoice)
    before = {n: _tree_digest(inbox / n) for n in names}
    settings = Settings(workers=2, ocr_cache_dir=tmp_path / "ocr", infra_retries=0, thumbnails=False)

    # the free-space check: nothing is claimed at all
    with pytest.raises(InfrastructureError, match="min_free_mb"):
        run_inbox(inbox, full_tmpfs, settings, archive=archive)
    assert claims.claimable(inbox) == names

    # without it, the writes fail: the dossiers read are given back, no crash counted, none archived
    with pytest.raises(InfrastructureError, match="ENOSPC"):
        run_inbox(inbox, full_tmpfs, settings.model_copy(update={"min_free_mb": 0}), archive=archive)
    assert claims.claimable(inbox) == names
    for n in names:
        assert _tree_digest(inbox / n) == before[n]
        assert ledger.crashes(full_tmpfs, n) == 0
    assert not archive.exists() or not list(archive.glob("*/*"))
    assert not (inbox / claims.WORK_DIR).exists()


# --- 5. symlinks ------------------------------------------------------------------------------

def test_a_link_inside_a_dossier_is_archived_as_a_link_and_never_read(tmp_path):
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem")
    secret = tmp_path / "secret.txt"  # outside the dossier: another client's file, /etc/shadow
    secret.write_text("SECRET-OTHER-CLIENT")
    inbox = tmp_path / "inbox"
    d = write_dossier(inbox, "D-LINK")
    (d / "facture.pdf").symlink_to(secret)
    (d / "sub").mkdir()
    (d / "sub" / "dir-link").symlink_to(tmp_path, target_is_directory=True)
    owner = claims.Owner.current()
    claimed = claims.claim(inbox, "D-LINK", owner)
    fp = ledger.fingerprint(claimed)
    secret.write_text("SECRET-OTHER-CLIENT, longer now")  # the fingerprint describes the link, not its target
    assert ledger.fingerprint(claimed) == fp
    root = shm / f"intake-archive-link-{os.getpid()}"
    try:
        dest = archiving.archive(claimed, root, "accept", owner)
        assert (dest / "facture.pdf").is_symlink() and os.readlink(dest / "facture.pdf") == str(secret)
        assert (dest / "sub" / "dir-link").is_symlink()
        copied = [p for p in dest.rglob("*") if p.is_file() and not p.is_symlink()]
        assert all(b"SECRET" not in p.read_bytes() for p in copied)
        assert secret.read_text().startswith("SECRET")  # untouched
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- 6. CSV injection and markdown ----------------------------------------------------------------

def test_csv_cells_cannot_start_a_formula_and_odd_text_does_not_crash(tmp_path):
    from core.records import (Decision, DocType, DocumentResult, DossierResult, Finding, InvoiceFacts,
                                     ReasonCode)
    from results.store import save_result, write_csvs

    evil = '=HYPERLINK("http://x","clic")'
    inv = InvoiceFacts(invoice_date="2017-11-13", total_ttc="-12.50", invoice_number="-1+cmd|' /C calc'!A0",
                       siret="+33123456789012")
    docs = (DocumentResult(evil, "@SUM(A1).pdf", (1,), DocType.INVOICE, readability=0.8, legible=True, invoice=inv),
            DocumentResult(evil, "\tx\udc80.pdf", (), DocType.OTHER, legible=False, illegible_why=("\rboom",)))
    finding = Finding(ReasonCode.FILE_UNREADABLE, "+le fichier « x\udc80.pdf » est illisible", "-2+3")
    save_result(tmp_path, DossierResult(evil, Decision.ILLEGIBLE, (finding,), docs, "2026-01-01T10:00:00+01:00",
                                        evil))
    write_csvs(tmp_path)
    dossier = _rows(tmp_path / "dossiers.csv")[0]
    assert dossier["dossier_id"] == "'" + evil and dossier["folder"] == "'" + evil
    assert dossier["message_fr"].startswith("'+le fichier « x\\udc80.pdf »")  # the surrogate, escaped
    assert dossier["processed_at"] == "2026-01-01T10:00:00+01:00"
    first, second = _rows(tmp_path / "documents.csv")
    assert first["file"] == "'@SUM(A1).pdf" and first["invoice_number"].startswith("'-1+cmd")
    assert first["invoice_total_ttc"] == "-12.50" and first["vet_siret"] == "+33123456789012"  # numbers stay
    assert first["readability"] == "0.8"
    assert second["file"] == "'\tx\\udc80.pdf" and second["error"] == "'\rboom"
    for row in (dossier, first, second):
        assert not any(v and v[0] in "=+-@\t\r" and not v.lstrip("+-").replace(".", "", 1).isdigit()
                       for v in row.values())


def test_client_text_is_inert_in_the_dossier_markdown():
    from markdown_it import MarkdownIt

    from flows.artifacts import dossier_markdown
    from core.records import (Decision, DocType, DocumentResult, DossierResult, Finding, InvoiceFacts,
                                     ReasonCode)

    evil = "<img src=x onerror=alert(1)>|[x](javascript:1)"
    inv = InvoiceFacts(invoice_number="`code` *b* _i_ <script>alert(2)</script>\n| x |", total_ttc="97.00")
    doc = DocumentResult(evil, "f<b>|[y](javascript:2).pdf", (1,), DocType.INVOICE, readability=0.7, legible=True,
                         invoice=inv, illegible_why=("<svg onload=alert(3)>",))
    finding = Finding(ReasonCode.VET_STAMP_MISSING, "msg [z](javascript:3)", "ev <i>|x</i>\nnext")
    md = dossier_markdown(DossierResult(evil, Decision.ACCEPT, (finding,), (doc,), "2026-01-01", evil),
                          images=False)
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    for tag in ("<img", "<script", "<svg", "<b>", "<i>", "href=", "<code>code"):
        assert tag not in html, tag
    assert "javascript:1" in html and "&lt;img src=x onerror=alert(1)&gt;" in html  # shown, as text
    # every table keeps its columns: 3 in the reasons, 4 in the fields (value, confidence, evidence)
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert all(len(r.replace("\\|", "").split("|")) - 2 in (3, 4) for r in rows)
    assert html.count("<tr>") == len([r for r in rows if not r.startswith("|---")])
