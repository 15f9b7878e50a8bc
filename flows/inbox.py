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
back to the inbox, writes what it can and ends by raising InfrastructureError. When the Prefect
server itself is gone (`flows.api_watch`), the run gives its claimed dossiers back and ends the process
with ExitCode.INFRASTRUCTURE: Prefect's client would retry for ever.
"""
from __future__ import annotations

import errno
import logging
import os
import threading
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.client.orchestration import get_client
from prefect.settings import get_current_settings
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.runtime import task_run
from prefect.task_runners import ThreadPoolTaskRunner

from flows.api_watch import ApiWatch
from flows.artifacts import publish_run
from flows.dossier import FULL_OR_READ_ONLY, OutputUnwritable, _retry_unless_infrastructure, _unwritable, handle_dossier
from core.errors import InfrastructureError, IntakeError
from core.settings import Settings
from inbox.claim import Heartbeat, Owner
from inbox.feed import Feed, recover_crashed
from pipeline.dossier import warm_up
from results.exports import write_exports
from results.progress import Bar
from results.report import write_report
from results.store import write_csvs

POLL_S = 5  # the flow wakes at least this often to look at its tasks; a task's end wakes it at once
RETRY_DELAY_S = 1  # between two attempts at a dossier whose processing broke (a transient fault: try soon)



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
        self.feed: Feed | None = None  # the run's claims, once it has begun claiming

    def give_back_all(self, why: str) -> None:
        """The Prefect server is gone (called from `ApiWatch`'s thread): no more claims, and every dossier
        in flight back to the inbox, uncounted. One saved already is filed by the next run from the ledger."""
        self.why = self.why or why
        feed = self.feed
        for name, claimed in list(feed.in_flight.values()) if feed else []:
            try:
                feed.give_back(name, claimed, crash=False)
                self.given_back.append(name)
            except OSError as exc:  # filed meanwhile by its task, or the disk failed too: the next run recovers it
                logging.getLogger(__name__).error("dossier %s: not given back (%s)", name, exc.strerror)


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
    feed = stop.feed = Feed(inbox, out, owner, settings.workers + settings.dossiers_ahead, cores=settings.workers)
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
    with get_client(sync_client=True) as client:
        api_url = str(client.api_url)
    # the whole body under the watch: the claims, the CSVs and the run's artifacts all wait on the API
    with ApiWatch(api_url, settings.api_lost_s, stop.give_back_all):
        with Heartbeat(inbox_p, owner):
            warm_up()  # before the first dossier's child is forked: each inherits it
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
    """One dossier per core in threads (each read in a child process of its own), and
    Settings.dossiers_ahead more (measured against ProcessPoolTaskRunner in bench/README.md)."""
    return ThreadPoolTaskRunner(max_workers=settings.workers + settings.dossiers_ahead)


def run_inbox(inbox: Path, out: Path, settings: Settings, archive: Path | None = None) -> list[dict[str, str]]:
    """Run the flow in this process with the task runner above.

    With a server of its own (PREFECT_API_URL), the flow's start and final state are watched too: the
    flow watches its body, this the calls Prefect makes around it (nothing is claimed then)."""
    api_url = get_current_settings().api.url
    with ApiWatch(api_url, settings.api_lost_s, lambda _why: None):
        return process_inbox.with_options(task_runner=task_runner(settings))(
            str(inbox), str(out), str(archive) if archive else None, settings)
