"""Prefect orchestration only: one flow clears an inbox, one thin task per dossier.

The work itself is `pipeline.dossier.process_dossier`, a plain function; claiming,
archiving, crash recovery and the claim-when-a-slot-is-free bookkeeping are `inbox`;
the saved results and the CSVs are `results.store`; what the UI shows is
`flows.artifacts`. The flow claims a dossier only when a worker slot is free, so
two runs on two workers share an inbox without ever taking the same dossier.

Each dossier is read in a child process killed past `Settings.dossier_timeout_s`
(`inbox.deadline`: Prefect's task timeout cannot stop a thread inside Tesseract).
When the machine itself fails (InfrastructureError: the OCR engine gone; the output disk
full or read-only) the run stops claiming, gives every dossier it holds but has not decided
back to the inbox, writes what it can and ends by raising InfrastructureError.
"""
from __future__ import annotations

import errno
import logging
import os
import threading
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.runtime import task_run
from prefect.task_runners import ThreadPoolTaskRunner

from flows.artifacts import (dossier_markdown, publish_dossier, publish_run, result_summary, reused_markdown,
                             reused_summary)
from flows.review import REVIEW_DIR, emit_decided, packet_path, start_review, write_packet
from core.errors import InfrastructureError, IntakeError
from core.inbox import results_key
from core.messages import message_fr
from core.records import DossierResult, Finding, ReasonCode
from core.settings import Settings
from pipeline.confidence import assess
from pipeline.dossier import now_iso, process_dossier
from inbox.claim import Heartbeat, Owner
from inbox.deadline import TimedOut, call_with_limit
from inbox.feed import Feed, file_dossier, recover_crashed
from inbox.ledger import already_decided, crashes, fingerprint, forget_crashes, remember
from results.duplicates import with_duplicates
from results.exports import write_exports
from results.progress import Bar
from results.report import write_report
from results.store import save_result, saved_dossier_row, write_csvs
from validators.rules import decide

POLL_S = 5  # the flow wakes at least this often to look at its tasks; a task's end wakes it at once
RETRY_DELAY_S = 1  # between two attempts at a dossier whose processing broke (a transient fault: try soon)


# Writing the output fails like this when the machine, not the dossier, is at fault: stop the run.
FULL_OR_READ_ONLY = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


class DossierRetry(IntakeError):
    """Our machinery broke on a dossier (Tesseract, memory): Prefect reads it again."""


class OutputUnwritable(InfrastructureError):
    """The output (results, ledger, archive) cannot be written: disk full, quota, read-only, I/O error.
    The dossier is not to blame: it goes back to the inbox without a crash counted."""


def _unwritable(exc: OSError, what: str) -> OutputUnwritable:
    return OutputUnwritable(f"cannot write {what}: {errno.errorcode.get(exc.errno, exc.errno)} ({exc.strerror})")


def _retry_unless_infrastructure(_task: object, _run: object, state: object) -> bool:
    """Prefect's retry condition: the machine failing is not retried (the run stops), anything else is."""
    return not isinstance(getattr(state, "data", None), InfrastructureError)


# --- plain steps of one dossier (no Prefect) ---------------------------------------------------

def _machine_result(claimed: Path, evidence: str) -> DossierResult:
    """PROCESSING_ERROR for a dossier we did not finish reading. Nothing of it is parsed again (its
    manifest may be what broke the runs): the dossier id is the folder's name (contract §3)."""
    finding = Finding(ReasonCode.PROCESSING_ERROR, message_fr(ReasonCode.PROCESSING_ERROR), evidence)
    return DossierResult(claimed.name, decide([finding]), (finding,), (), now_iso(), claimed.name)


def _poisoned(claimed: Path, crashed: int) -> DossierResult:
    """The result for a dossier that `crashed` runs died on: PROCESSING_ERROR, without reading it."""
    return _machine_result(claimed, f"{crashed} exécution(s) interrompue(s) pendant le traitement de ce dossier")


def decide_dossier(claimed: Path, out: Path, settings: Settings, attempt: int) -> DossierResult:
    """Read and decide a claimed dossier, or give the PROCESSING_ERROR result when runs keep dying on it.

    Raises DossierRetry when our machinery broke and attempt `attempt` is not the last one.
    """
    crashed = crashes(out, claimed.name)
    if crashed >= settings.max_crashes:
        return _poisoned(claimed, crashed)
    try:  # in a child process killed at the limit: the worker is really free again (inbox.deadline)
        result = call_with_limit(process_dossier, settings.dossier_timeout_s, claimed, settings,
                                 artifacts_root=out / "artifacts",
                                 cache_dir=settings.ocr_cache_dir or out / ".cache" / "ocr")
    except TimedOut:
        return _machine_result(claimed, f"lecture interrompue : plus de {settings.dossier_timeout_s:g} s "
                                        f"(limite dossier_timeout_s)")
    if ReasonCode.PROCESSING_ERROR in result.reasons and attempt <= settings.infra_retries:
        raise DossierRetry(f"dossier {claimed.name}: processing error, attempt {attempt}")
    return result


def record(out: Path, name: str, fp: str, result: DossierResult) -> None:
    """Save the result of folder `name`, then note in the ledger which upload (`fp`) it was made from."""
    save_result(out, result, fingerprint=fp)
    remember(out, name, fp, str(result.decision), result.dossier_id)
    forget_crashes(out, name)


def _log_documents(log: logging.Logger | logging.LoggerAdapter, name: str, result: DossierResult) -> None:
    files = list(dict.fromkeys(d.file for d in result.documents))  # file ids, never the client's file names
    for doc in result.documents:
        log.info("dossier %s file %d p%s: %s, readability %s, %s", name, files.index(doc.file) + 1,
                 doc.pages_label or "-", doc.doc_type, doc.readability,
                 {True: "legible", False: "illegible", None: "not judged"}[doc.legible])


# --- Prefect ----------------------------------------------------------------------------------

def handle_dossier(claimed: Path, out: Path, settings: Settings, archive_root: Path | None, inbox: Path,
                   owner: Owner, attempt: int = 1) -> dict[str, str]:
    """Decide one claimed dossier, save its result, then archive it (or give it back to the inbox).

    Returns the dossier's summary (a row of the run's table); publishes its artifact.
    """
    log = get_run_logger()
    name = claimed.name
    fp = fingerprint(claimed)
    entry = already_decided(out, name, fp) if archive_root else None
    key = results_key(name)
    result = None
    if entry:  # saved by a run killed before it moved the folder: file it, do not read it again
        summary = reused_summary(entry, saved_dossier_row(out, name))
        review = packet_path(out, name).exists()  # it was sent to review: it still waits for one
        publish_dossier(reused_markdown(entry["dossier_id"], summary), key, f"{summary['decision']} (run précédent)")
    else:
        # an earlier dossier sent the same invoice (DUPLICATE_INVOICE) counts in what is reviewed
        result = decide_dossier(claimed, out, settings, attempt)
        result = assess(with_duplicates(out, result) if settings.detect_duplicates else result, settings)
        _log_documents(log, name, result)
        review = result.needs_review and archive_root is not None  # no archive: every dossier goes back anyway
        try:
            if review:  # before the ledger: a run killed after it still knows the dossier waits for a review
                write_packet(out, result, settings)
            record(out, name, fp, result)
        except OSError as exc:
            if exc.errno in FULL_OR_READ_ONLY:
                raise _unwritable(exc, "the results") from exc
            raise
        summary = result_summary(result)
        publish_dossier(dossier_markdown(result), key, f"{summary['decision']} — {summary['status_fr']}")
    # A dossier sent to review is not released: it waits in archive/review/ for its own (suspended) run.
    try:
        archived_to = file_dossier(claimed, inbox, archive_root, REVIEW_DIR if review else summary["decision"], owner)
    except OSError as exc:  # saved but not filed: given back, the next run files it from the ledger
        if exc.errno in FULL_OR_READ_ONLY:
            raise _unwritable(exc, "the archive") from exc
        raise
    if archived_to is not None:
        summary["archived_to"] = archived_to
    if review:
        run_id = start_review(name, out, archive_root, settings)
        summary["note"] = f"revue {run_id}" if run_id else "revue : en attente dans archive/review/ (pas de déploiement)"
        log.info("dossier %s: sent to review (%s)%s", name, result.review_why if result else "earlier run",
                 f", review run {run_id}" if run_id else ", no deployment: it waits in archive/review/")
    if result is not None:
        emit_decided(result, archive_root, settings)
    log.info("dossier %s: %s %s%s", name, summary["decision"], summary.get("reasons", ""),
             f" -> archive/{archived_to}" if archived_to is not None else "")
    return summary


@task(name="dossier", task_run_name="{folder_name}", retry_delay_seconds=RETRY_DELAY_S,  # retries: infra_retries
      retry_condition_fn=_retry_unless_infrastructure)
def dossier_task(claimed: str, folder_name: str, out: str, settings: Settings, archive: str | None,
                 inbox: str, owner: Owner) -> dict[str, str]:
    """Process one claimed dossier; returns the small summary the flow keeps."""
    return handle_dossier(Path(claimed), Path(out), settings, Path(archive) if archive else None, Path(inbox),
                          owner, attempt=task_run.run_count)


def _check_parameters(**values: str) -> None:
    for label, value in values.items():
        if "{{" in value:  # a prefect.yaml template whose variable was not set at deploy time
            raise IntakeError(f"parameter {label} is unset ({value}): export INTAKE_{label.upper()} and deploy again")


def _low_on_space(out: Path, settings: Settings) -> str | None:
    """Why the output folder cannot take another dossier (free space under Settings.min_free_mb), or None."""
    try:
        st = os.statvfs(out)
    except OSError as exc:
        return f"cannot inspect the output folder ({exc.strerror})"
    free_mb = st.f_bavail * st.f_frsize / 1e6
    if free_mb < settings.min_free_mb:
        return f"the output folder has {free_mb:.1f} MB free, below min_free_mb={settings.min_free_mb:g}"
    return None


class _Stop:
    """Why this run stopped claiming (the first infrastructure failure), and whether a crash was counted."""

    def __init__(self) -> None:
        self.why: str | None = None
        self.crash_counted = False
        self.given_back: list[str] = []


def _collect(fut, name: str, claimed: Path, feed: Feed, stop: "_Stop", summaries: list[dict[str, str]],
             failed: list[str]) -> None:
    """A finished dossier task: its summary kept, or the dossier given back to the inbox."""
    logger = get_run_logger()
    try:
        summaries.append(fut.result())
    except InfrastructureError as exc:  # the machine: stop claiming, this dossier is not to blame...
        # ...unless it is what broke the OCR engine: one crash for the first dossier it happened on,
        # so one that kills Tesseract every time ends PROCESSING_ERROR after max_crashes runs
        crash = not isinstance(exc, OutputUnwritable) and not stop.crash_counted
        stop.crash_counted |= crash
        if stop.why is None:
            stop.why = f"dossier {name}: {exc}"
            logger.error("run stops claiming: %s", stop.why)
        feed.give_back(name, claimed, crash=crash)
        stop.given_back.append(name)
        logger.error("dossier %s: not decided (%s), back in the inbox", name, exc.__class__.__name__)
    except Exception as exc:  # our machinery broke after every retry: next run tries again
        failed.append(name)
        logger.error("dossier %s: failed (%s), back in the inbox", name, exc.__class__.__name__)
        feed.give_back(name, claimed)


def _clear(inbox: Path, out: Path, archive: str | None, settings: Settings, owner: Owner,
           stop: _Stop) -> tuple[list[dict[str, str]], list[str]]:
    """Run a task for every dossier this run claims; returns their summaries and the folders that failed.

    On an infrastructure failure `stop.why` is set: nothing more is claimed, the dossiers in flight
    finish, and the ones the failure hit go back to the inbox (listed in `stop.given_back`).
    """
    logger = get_run_logger()
    for name, n in recover_crashed(inbox, out, owner, Path(archive) if archive else None):
        logger.warning("dossier %s: interrupted %d time(s) so far", name, n)
    feed = Feed(inbox, out, owner, settings.workers)
    logger.info("inbox: %d dossier(s) ready, %d worker(s)", len(feed.names), settings.workers)
    progress = create_progress_artifact(0.0, key="inbox-progress",
                                        description=f"{len(feed.names)} dossier(s) in the inbox at start")
    run_dossier = dossier_task.with_options(retries=settings.infra_retries)
    finished = threading.Event()  # set by any task's end (thread or process runner alike)
    summaries: list[dict[str, str]] = []
    failed: list[str] = []

    def top_up() -> None:
        wants_more = feed.taken < len(feed.names) and len(feed.in_flight) < feed.slots
        if stop.why is None and wants_more and (low := _low_on_space(out, settings)):
            stop.why = low
            logger.error("run stops claiming: %s", low)
        if stop.why is not None:
            return
        try:
            for name, claimed in feed.claims():
                if claimed is None:
                    logger.info("dossier %s: taken by another run", name)
                    continue
                share = settings.model_copy(update={"workers": feed.cores_per_dossier()})  # cores, shared out
                fut = run_dossier.submit(str(claimed), name, str(out), share, archive, str(inbox), owner)
                fut.add_done_callback(lambda _f: finished.set())
                feed.started(fut, name, claimed)
        except OSError as exc:  # the inbox's work area cannot be written (full, read-only): stop claiming
            if exc.errno not in FULL_OR_READ_ONLY:
                raise
            stop.why = f"cannot claim in the inbox: {errno.errorcode.get(exc.errno, exc.errno)} ({exc.strerror})"
            logger.error("run stops claiming: %s", stop.why)

    top_up()
    bar = Bar(len(feed.names), "Dossiers")  # a person at a terminal sees it; Prefect workers and CI do not
    with bar:
        while feed.in_flight:
            finished.wait(timeout=POLL_S)
            finished.clear()
            for fut in [f for f in feed.in_flight if f.wrapped_future.done()]:
                name, claimed = feed.finished(fut)
                bar.advance()
                _collect(fut, name, claimed, feed, stop, summaries, failed)
            update_progress_artifact(progress, feed.progress)
            top_up()
    update_progress_artifact(progress, 100.0)
    return summaries, failed


def write_analyst_files(out: Path, settings: Settings) -> None:
    """Beside the CSVs: the typed exports (Parquet; the CSV dialects asked for) and the report page.
    A bug in them is logged with its traceback and costs the run nothing: `intake report` redoes them."""
    try:
        write_exports(out, settings.csv_dialects)
        write_report(out)
    except OSError:
        raise  # a full or read-only disk: the caller stops the run
    except Exception:  # noqa: BLE001 - the dossiers are decided and saved; say it, do not fail the run
        get_run_logger().exception("analysts' exports or report not written")


@flow(name="process_inbox", log_prints=True, task_runner=ThreadPoolTaskRunner())
def process_inbox(inbox: str, out: str, archive: str | None = None,
                  settings: Settings | None = None) -> list[dict[str, str]]:
    """Decide every ready dossier of `inbox`; write out/dossiers.csv and out/documents.csv.

    With `archive`, each decided dossier moves to archive/<decision>/<folder>.
    """
    settings = settings or Settings.from_env()
    archive = archive or None
    _check_parameters(inbox=inbox, out=out, archive=archive or "")
    inbox_p, out_p = Path(inbox), Path(out)
    out_p.mkdir(parents=True, exist_ok=True)
    owner = Owner.current()
    stop = _Stop()
    with Heartbeat(inbox_p, owner):
        summaries, failed = _clear(inbox_p, out_p, archive, settings, owner, stop)
    try:
        write_csvs(out_p)
        write_analyst_files(out_p, settings)
    except OSError as exc:
        if exc.errno not in FULL_OR_READ_ONLY:
            raise
        stop.why = stop.why or str(_unwritable(exc, "the CSVs"))
        get_run_logger().error("CSVs not rewritten: %s", _unwritable(exc, "the CSVs"))
    publish_run(summaries, out_p)
    if stop.why is not None:
        raise InfrastructureError(
            f"run stopped, this machine cannot process dossiers now: {stop.why}. "
            f"{len(summaries)} dossier(s) decided; {len(stop.given_back)} given back to the inbox undecided"
            + (f" ({', '.join(stop.given_back)})" if stop.given_back else "")
            + "; the others were not claimed. Fix the machine and run again.")
    if failed:
        raise IntakeError(f"{len(failed)} dossier(s) failed and were left in the inbox: {', '.join(failed)}")
    return summaries


def task_runner(settings: Settings) -> ThreadPoolTaskRunner:
    """One dossier per core in threads: Tesseract runs in its own single-threaded process
    (measured against ProcessPoolTaskRunner in bench/README.md)."""
    return ThreadPoolTaskRunner(max_workers=settings.workers)


def run_inbox(inbox: Path, out: Path, settings: Settings, archive: Path | None = None) -> list[dict[str, str]]:
    """Run the flow in this process with the task runner above."""
    return process_inbox.with_options(task_runner=task_runner(settings))(
        str(inbox), str(out), str(archive) if archive else None, settings)
