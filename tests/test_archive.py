"""The inbox as a work queue: atomic claims, archiving by decision, recovery after kill -9."""
import csv
import json
import multiprocessing
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from inbox import archive as archiving, claim as claims, ledger
from inbox.feed import Feed, file_dossier
from tests.render import INVOICE_LINES, intake_run, text_pdf, write_dossier


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _claim_all(inbox: str, names: list[str], barrier, report: str) -> None:
    """Child process: wait until both are ready, then try to claim every dossier."""
    barrier.wait(60)
    owner = claims.Owner.current()
    won = [n for n in names if claims.claim(Path(inbox), n, owner) is not None]
    Path(report).write_text(json.dumps({"owner": owner.name, "won": won}))


def test_two_processes_never_claim_the_same_dossier(tmp_path):
    inbox = tmp_path / "inbox"
    names = [f"D-{i:04d}" for i in range(300)]
    for n in names:
        (inbox / n).mkdir(parents=True)
        (inbox / n / "manifest.json").write_text("{}")
    (inbox / "D-UPLOADING").mkdir()  # no manifest: never claimed
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    reports = [tmp_path / "a.json", tmp_path / "b.json"]
    procs = [ctx.Process(target=_claim_all, args=(str(inbox), order, start, str(r)))
             for order, r in ((names, reports[0]), (names[::-1], reports[1]))]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    a, b = (json.loads(r.read_text()) for r in reports)
    assert a["owner"] != b["owner"]
    assert not set(a["won"]) & set(b["won"])
    assert sorted(a["won"] + b["won"]) == names
    assert a["won"] and b["won"]  # both really raced
    for rep in (a, b):
        area = inbox / claims.WORK_DIR / claims.PROCESSING / rep["owner"]
        assert sorted(p.name for p in area.iterdir()) == sorted(rep["won"])
    assert claims.claimable(inbox) == []
    assert (inbox / "D-UPLOADING").is_dir()


def test_archive_across_filesystems_copies_then_renames(tmp_path):
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem")
    owner = claims.Owner.current()
    inbox = tmp_path / "inbox"
    write_dossier(inbox, "D-X")
    claimed = claims.claim(inbox, "D-X", owner)
    root = Path(shm / f"intake-archive-{os.getpid()}")
    try:
        dest = archiving.archive(claimed, root, "accept", owner)
        assert dest == root / "accept" / "D-X"
        assert (dest / "manifest.json").is_file() and (dest / "feuille.pdf").stat().st_size > 0
        assert not claimed.exists()
        assert not list((root / "accept").glob(".partial-*"))
        again = write_dossier(inbox, "D-X")  # the same id sent again is archived beside, never over
        assert archiving.archive(claims.claim(inbox, again.name, owner), root, "accept", owner).name == "D-X~2"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_recover_returns_claims_of_dead_runs_only(tmp_path):
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    me = claims.Owner.current()
    dead = claims.Owner(me.host, 999_999_999, "1")  # no such process
    parent = claims.Owner(me.host, os.getppid(), claims._start_ticks(os.getppid()))  # alive
    remote = claims.Owner("other-host", 42, "7")
    for owner, name in ((dead, "D-DEAD"), (parent, "D-LIVE"), (remote, "D-REMOTE")):
        write_dossier(inbox, name)
        assert claims.claim(inbox, name, owner) is not None
    (archive / "accept").mkdir(parents=True)
    (archive / "accept" / f"{archiving.PARTIAL}{dead.name}-D-DEAD").mkdir()  # a half-made copy
    assert claims.recover(inbox, me, archive) == ["D-DEAD"]
    assert (inbox / "D-DEAD" / "manifest.json").is_file()
    assert not list((archive / "accept").iterdir())
    assert claims.claimable(inbox) == ["D-DEAD"]
    remote_area = claims.processing_dir(inbox, remote)
    old = time.time() - claims.LEASE_S - 5
    os.utime(remote_area, (old, old))  # its heartbeat stopped: the lease expired
    assert claims.recover(inbox, me, archive) == ["D-REMOTE"]
    assert (claims.processing_dir(inbox, parent) / "D-LIVE").is_dir()



def test_feed_claims_only_while_a_slot_is_free_and_gives_failures_back(tmp_path):
    inbox, out, archive = tmp_path / "inbox", tmp_path / "out", tmp_path / "archive"
    for name in ("D-1", "D-2", "D-3", "D-4"):
        write_dossier(inbox, name)
    me = claims.Owner.current()
    feed = Feed(inbox, out, me, slots=2)
    assert feed.names == ["D-1", "D-2", "D-3", "D-4"]
    assert claims.claim(inbox, "D-2", claims.Owner("other-host", 42, "7")) is not None  # another run wins D-2
    took = []
    for name, claimed in feed.claims():
        took.append((name, claimed is not None))
        if claimed is not None:
            feed.started(name, name, claimed)  # the name stands in for the task's future
    assert took == [("D-1", True), ("D-2", False), ("D-3", True)]  # two slots: D-4 stays in the inbox
    assert (inbox / "D-4").is_dir() and feed.progress == 25.0
    assert list(feed.claims()) == []  # no free slot

    name, claimed = feed.finished("D-1")
    assert file_dossier(claimed, inbox, archive, "accept", me) == "accept/D-1"
    name, claimed = feed.finished("D-3")
    feed.give_back(name, claimed)  # failed after every retry
    assert (inbox / "D-3" / "manifest.json").is_file() and ledger.crashes(out, "D-3") == 1
    for name, claimed in feed.claims():  # a slot is free again
        assert name == "D-4" and claimed is not None
        feed.started(name, name, claimed)
    assert feed.progress == 75.0
    assert file_dossier(feed.finished("D-4")[1], inbox, None, "accept", me) is None  # no archive: back
    assert (inbox / "D-4").is_dir() and feed.progress == 100.0

def test_the_cores_are_shared_out_between_the_dossiers_read_at_once(tmp_path):
    """Each dossier is read in its own process with its own Tesseract cap: the caps must add up to
    the workers, one each while the inbox keeps every slot busy, all of them for a lone dossier."""
    inbox = tmp_path / "inbox"
    for name in ("D-1", "D-2", "D-3", "D-4", "D-5"):
        write_dossier(inbox, name)
    feed = Feed(inbox, tmp_path / "out", claims.Owner.current(), slots=4)
    shares = []
    for name, claimed in feed.claims():
        shares.append(feed.cores_per_dossier())
        feed.started(name, name, claimed)
    assert shares == [1, 1, 1, 1]
    for name in ("D-1", "D-2", "D-3"):
        feed.finished(name)
    for name, claimed in feed.claims():  # D-5, the last, beside D-4: half of the cores
        shares.append(feed.cores_per_dossier())
        feed.started(name, name, claimed)
    assert shares[4:] == [2]
    write_dossier(tmp_path / "lone", "D-9")
    alone = Feed(tmp_path / "lone", tmp_path / "out", claims.Owner.current(), slots=4)
    assert [alone.cores_per_dossier() for _name, _claimed in alone.claims()] == [4]


def test_a_dossier_read_ahead_holds_a_slot_but_no_core_of_its_own(tmp_path):
    """Two cores, one dossier ahead (Settings.dossiers_ahead): three dossiers in flight, one core each (their
    children share the two); the last one alone gets both."""
    inbox = tmp_path / "inbox"
    for name in ("D-1", "D-2", "D-3", "D-4"):
        write_dossier(inbox, name)
    feed = Feed(inbox, tmp_path / "out", claims.Owner.current(), slots=3, cores=2)
    shares = []
    for name, claimed in feed.claims():
        shares.append(feed.cores_per_dossier())
        feed.started(name, name, claimed)
    assert shares == [1, 1, 1] and len(feed.in_flight) == 3
    for name in ("D-1", "D-2", "D-3"):
        feed.finished(name)
    assert [feed.cores_per_dossier() for _name, _claimed in feed.claims()] == [2]


@pytest.mark.flow
def test_archive_mode_files_each_dossier_and_reuses_saved_results(tmp_path, prefect_harness):
    from flows.inbox import run_inbox
    from core.settings import Settings

    inbox, out, archive = tmp_path / "inbox", tmp_path / "out", tmp_path / "archive"
    invoice = text_pdf(INVOICE_LINES, tmp_path / "facture.pdf")
    write_dossier(inbox, "D-1", invoice)
    write_dossier(inbox, "D-2")
    write_dossier(inbox, "D-UP", invoice, manifest=False)
    # D-3 below sends D-1's invoice again: a duplicate would (rightly) wait for review; this test is about filing
    settings = Settings(workers=2, ocr_cache_dir=tmp_path / "ocr", detect_duplicates=False)

    # Without an archive the inbox is left as it was (and the ledger knows what was decided) ...
    first = run_inbox(inbox, out, settings)
    assert sorted(s["dossier_id"] for s in first) == ["D-1", "D-2"]
    assert sorted(p.name for p in inbox.iterdir()) == ["D-1", "D-2", "D-UP"]  # work area removed when empty
    decided = {r["dossier_id"]: r["decision"] for r in _rows(out / "dossiers.csv")}

    # ... so a run with an archive files them by that decision without reading them again.
    second = run_inbox(inbox, out, settings, archive=archive)
    assert {s["dossier_id"]: s.get("note") for s in second} == {"D-1": "déjà décidé", "D-2": "déjà décidé"}
    for name, decision in decided.items():
        assert (archive / decision / name / "manifest.json").is_file()
    assert sorted(p.name for p in inbox.iterdir() if not p.name.startswith(".")) == ["D-UP"]
    assert not (inbox / claims.WORK_DIR).exists()

    write_dossier(inbox, "D-3", invoice)  # a new one: read, decided, archived
    third = run_inbox(inbox, out, settings, archive=archive)
    assert [s["dossier_id"] for s in third] == ["D-3"] and third[0]["note"] == ""  # read, not reused
    rows = _rows(out / "dossiers.csv")
    assert sorted(r["dossier_id"] for r in rows) == ["D-1", "D-2", "D-3"]
    assert (archive / third[0]["archived_to"] / "facture.pdf").is_file()


@pytest.mark.flow
def test_infrastructure_errors_are_retried_then_become_the_finding(tmp_path, prefect_harness, monkeypatch):
    import pipeline.dossier
    from flows.inbox import run_inbox
    from core.settings import Settings

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    invoice = text_pdf(INVOICE_LINES, tmp_path / "facture.pdf")
    for name in ("D-FLAKY", "D-BROKEN", "D-FINE"):
        write_dossier(inbox, name, invoice)
    attempts = tmp_path / "attempts"  # one line per attempt: each attempt runs in its own child process
    real = pipeline.dossier.read_file

    def failing(ctx, n, entry):  # out of memory on a page, as numpy reports it
        dossier_id = ctx.manifest.dossier_id
        if n == 1:  # one attempt at the dossier
            with attempts.open("a") as fh:
                fh.write(dossier_id + "\n")
        tries = attempts.read_text().split().count(dossier_id)
        if dossier_id == "D-BROKEN" or (dossier_id == "D-FLAKY" and tries == 1):
            raise MemoryError("Unable to allocate 2.1 GiB for an array")
        return real(ctx, n, entry)

    monkeypatch.setattr(pipeline.dossier, "read_file", failing)
    settings = Settings(workers=2)
    summaries = {s["dossier_id"]: s for s in run_inbox(inbox, out, settings, archive=tmp_path / "arch")}
    calls = {d: attempts.read_text().split().count(d) for d in ("D-FLAKY", "D-BROKEN", "D-FINE")}
    assert calls == {"D-FLAKY": 2, "D-BROKEN": settings.infra_retries + 1, "D-FINE": 1}
    assert "PROCESSING_ERROR" not in summaries["D-FLAKY"]["reasons"]
    assert summaries["D-BROKEN"]["reasons"] == "PROCESSING_ERROR"  # the files it broke on are not "missing"
    assert summaries["D-BROKEN"]["decision"] == "illegible"
    rows = {r["dossier_id"]: r for r in _rows(out / "dossiers.csv")}
    assert "MemoryError" in rows["D-BROKEN"]["evidence"]
    assert rows["D-FINE"]["reasons"] == summaries["D-FINE"]["reasons"]


@pytest.mark.flow
def test_a_run_killed_with_sigkill_is_finished_by_the_next(tmp_path, prefect_harness):
    from prefect.settings import PREFECT_API_URL

    inbox, out, archive = tmp_path / "inbox", tmp_path / "out", tmp_path / "archive"
    invoice = text_pdf(INVOICE_LINES, tmp_path / "facture.pdf")
    names = [f"D-{i:02d}" for i in range(10)]
    for n in names:
        write_dossier(inbox, n, invoice)
    write_dossier(inbox, "D-UPLOADING", invoice, manifest=False)
    # Both runs report to the test's Prefect server: the killed one stays "Running" there, as after a crash.
    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value(), INTAKE_OCR_CACHE_DIR=str(tmp_path / "ocr"))

    run = intake_run(inbox, out, archive, env, 2, start_new_session=True)
    deadline = time.time() + 240
    results = out / "results"
    while time.time() < deadline and run.poll() is None:
        done = len(list(results.glob("*.json"))) if results.is_dir() else 0
        if done >= 2:
            break
        time.sleep(0.05)
    assert run.poll() is None, run.stdout.read().decode()[-3000:]
    os.killpg(run.pid, signal.SIGKILL)  # the run and everything it started: Prefect's server, tesseract
    run.wait(30)
    left = claims.claimable(inbox)
    claimed = list((inbox / claims.WORK_DIR / claims.PROCESSING).glob("*/*"))
    assert len(left) + len(claimed) > 0 and len(left) < len(names)  # really killed half-way

    again = intake_run(inbox, out, archive, env, 2, start_new_session=True)
    log = again.communicate(timeout=400)[0].decode()
    assert again.returncode == 0, log[-3000:]
    rows = _rows(out / "dossiers.csv")
    assert sorted(r["dossier_id"] for r in rows) == names  # each exactly once
    filed = sorted(p.name for p in archive.glob("*/*"))
    assert filed == names
    assert [p.name for p in inbox.iterdir()] == ["D-UPLOADING"]  # no claim left behind


@pytest.mark.flow
def test_an_invoice_sent_again_in_a_later_dossier_waits_for_review_with_the_earlier_ones_id(tmp_path, prefect_harness):
    from core.settings import Settings
    from flows.inbox import run_inbox

    inbox, out, archive = tmp_path / "inbox", tmp_path / "out", tmp_path / "archive"
    invoice = text_pdf(INVOICE_LINES, tmp_path / "facture.pdf")
    settings = Settings(workers=2, ocr_cache_dir=tmp_path / "ocr", detect_duplicates=True)
    write_dossier(inbox, "D-1", invoice)
    run_inbox(inbox, out, settings, archive=archive)
    write_dossier(inbox, "D-2", invoice)
    run_inbox(inbox, out, settings, archive=archive)
    rows = {r["dossier_id"]: r for r in _rows(out / "dossiers.csv")}
    assert "DUPLICATE_INVOICE" not in rows["D-1"]["reasons"]
    assert "DUPLICATE_INVOICE" in rows["D-2"]["reasons"] and "D-1" in rows["D-2"]["evidence"]
    assert rows["D-2"]["needs_review"] == "true" and (archive / "review" / "D-2" / "manifest.json").is_file()
