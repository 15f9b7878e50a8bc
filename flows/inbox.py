"""Prefect orchestration only: one flow clears an inbox, one thin task per dossier.

The work itself is `intake.pipeline.dossier.process_dossier`, a plain function; claiming,
archiving and crash recovery are `intake.queue`; what the UI shows is
`flows.artifacts`. The flow claims a dossier only when a worker slot is free, so
two runs on two workers share an inbox without ever taking the same dossier.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.runtime import task_run
from prefect.task_runners import ThreadPoolTaskRunner

from flows.artifacts import dossier_markdown, publish_dossier, publish_run, reused_markdown
from intake.queue.archive import archive as archive_dossier
from intake.queue.claim import Heartbeat, Owner, claim, claimable, recover, release
from intake.queue.ledger import already_decided, count_crash, crashes, fingerprint, forget_crashes, remember
from intake.results.store import RESULTS_DIR, save_result, write_csvs
from intake.pipeline.dossier import now_iso, process_dossier
from intake.core.errors import IntakeError
from intake.core.inbox import safe_id
from intake.pipeline.manifest import read_manifest
from intake.core.messages import STATUS_FR, message_fr
from intake.core.records import Decision, DossierResult, Finding, ReasonCode
from intake.core.settings import Settings
from validators.rules import decide



class DossierRetry(IntakeError):
    """Our machinery broke on a dossier (Tesseract, memory): Prefect reads it again."""


def _poisoned(claimed: Path, crashes: int) -> DossierResult:
    manifest = read_manifest(claimed)
    finding = Finding(ReasonCode.PROCESSING_ERROR, message_fr(ReasonCode.PROCESSING_ERROR),
                      f"{crashes} exécution(s) interrompue(s) pendant le traitement de ce dossier")
    return DossierResult(manifest.dossier_id, decide([finding]), (finding,), (), now_iso(), claimed.name)


def handle_dossier(claimed: Path, out: Path, settings: Settings, archive_root: Path | None, inbox: Path,
                   owner: Owner, attempt: int = 1) -> dict[str, str]:
    """Decide one claimed dossier, save its result, then archive it (or give it back to the inbox)."""
    log = get_run_logger()
    name = claimed.name
    fp = fingerprint(claimed)
    summary: dict[str, str]
    entry = already_decided(out, name, fp) if archive_root else None
    if entry:  # saved by a run killed before it moved the folder: file it, do not read it again
        decision = entry["decision"]
        row = json.loads((out / RESULTS_DIR / f"{safe_id(name)}.json").read_text(encoding="utf-8"))["dossier"]
        summary = {"dossier_id": entry["dossier_id"], "decision": decision, "reasons": row.get("reasons", ""),
                   "status_fr": STATUS_FR[Decision(decision)], "note": "déjà décidé"}
        publish_dossier(reused_markdown(entry["dossier_id"], summary), name, f"{decision} (run précédent)")
    else:
        crashed = crashes(out, name)
        if crashed >= settings.max_crashes:
            result = _poisoned(claimed, crashed)
        else:
            result = process_dossier(claimed, settings, artifacts_root=out / "artifacts",
                                     cache_dir=settings.ocr_cache_dir or out / ".cache" / "ocr")
            if ReasonCode.PROCESSING_ERROR in result.reasons and attempt <= settings.infra_retries:
                raise DossierRetry(f"dossier {name}: processing error, attempt {attempt}")
        files = list(dict.fromkeys(d.file for d in result.documents))  # file ids, never the client's file names
        for doc in result.documents:
            log.info("dossier %s file %d p%s: %s, readability %s, %s", name, files.index(doc.file) + 1,
                     doc.pages_label or "-", doc.doc_type, doc.readability,
                     {True: "legible", False: "illegible", None: "not judged"}[doc.legible])
        save_result(out, result)
        remember(out, name, fp, str(result.decision), result.dossier_id)
        forget_crashes(out, name)
        decision = str(result.decision)
        summary = {"dossier_id": result.dossier_id, "decision": decision, "status_fr": STATUS_FR[result.decision],
                   "reasons": "|".join(result.reasons), "documents": str(len(result.documents)),
                   "note": "après erreur" if ReasonCode.PROCESSING_ERROR in result.reasons else ""}
        publish_dossier(dossier_markdown(result), name, f"{decision} — {STATUS_FR[result.decision]}")
    if archive_root is not None:
        dest = archive_dossier(claimed, archive_root, decision, owner)
        summary["archived_to"] = str(dest.relative_to(archive_root))
    else:
        release(claimed, inbox)
    log.info("dossier %s: %s %s%s", name, decision, summary.get("reasons", ""),
             f" -> archive/{summary['archived_to']}" if "archived_to" in summary else "")
    return summary


@task(name="dossier", task_run_name="{folder_name}", retry_delay_seconds=1)  # retries: Settings.infra_retries
def dossier_task(claimed: str, folder_name: str, out: str, settings: Settings, archive: str | None,
                 inbox: str, owner: Owner) -> dict[str, str]:
    """Process one claimed dossier; returns the small summary the flow keeps."""
    return handle_dossier(Path(claimed), Path(out), settings, Path(archive) if archive else None, Path(inbox),
                          owner, attempt=task_run.run_count)


@flow(name="process_inbox", log_prints=True, task_runner=ThreadPoolTaskRunner())
def process_inbox(inbox: str, out: str, archive: str | None = None,
                  settings: Settings | None = None) -> list[dict[str, str]]:
    """Decide every ready dossier of `inbox`; write out/dossiers.csv and out/documents.csv.

    With `archive`, each decided dossier moves to archive/<decision>/<folder>.
    """
    settings = settings or Settings.from_env()
    logger = get_run_logger()
    archive = archive or None
    for label, value in (("inbox", inbox), ("out", out), ("archive", archive or "")):
        if "{{" in value:  # a prefect.yaml template whose variable was not set at deploy time
            raise IntakeError(f"parameter {label} is unset ({value}): export INTAKE_{label.upper()} and deploy again")
    inbox_p, out_p = Path(inbox), Path(out)
    archive_p = Path(archive) if archive else None
    out_p.mkdir(parents=True, exist_ok=True)
    owner = Owner.current()
    summaries: list[dict[str, str]] = []
    failed: list[str] = []
    with Heartbeat(inbox_p, owner):
        for name in recover(inbox_p, owner, archive_p):
            logger.warning("dossier %s: interrupted %d time(s) so far", name, count_crash(out_p, name))
        names = claimable(inbox_p)
        logger.info("inbox: %d dossier(s) ready, %d worker(s)", len(names), settings.workers)
        progress = create_progress_artifact(0.0, key="inbox-progress",
                                            description=f"{len(names)} dossier(s) in the inbox at start")
        run_dossier = dossier_task.with_options(retries=settings.infra_retries)
        pending = iter(names)
        in_flight: dict = {}
        finished = threading.Event()  # set by any task's end (thread or process runner alike)
        seen = 0

        def top_up() -> None:  # claim only when a slot is free: other runs keep their share
            nonlocal seen
            while len(in_flight) < settings.workers:
                name = next(pending, None)
                if name is None:
                    return
                claimed = claim(inbox_p, name, owner)
                if claimed is None:
                    seen += 1
                    logger.info("dossier %s: taken by another run", name)
                    continue
                fut = run_dossier.submit(str(claimed), name, str(out_p), settings, archive, str(inbox_p), owner)
                fut.add_done_callback(lambda _f: finished.set())
                in_flight[fut] = (name, claimed)

        top_up()
        while in_flight:
            finished.wait(timeout=5)
            finished.clear()
            for fut in [f for f in in_flight if f.wrapped_future.done()]:
                name, claimed = in_flight.pop(fut)
                seen += 1
                try:
                    summaries.append(fut.result())
                except Exception as exc:  # our machinery broke after every retry: next run tries again
                    failed.append(name)
                    logger.error("dossier %s: failed (%s), back in the inbox", name, exc.__class__.__name__)
                    if claimed.exists():
                        count_crash(out_p, name)
                        release(claimed, inbox_p)
            update_progress_artifact(progress, 100.0 * seen / max(1, len(names)))
            top_up()
        update_progress_artifact(progress, 100.0)
    write_csvs(out_p)
    publish_run(summaries, out_p)
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
