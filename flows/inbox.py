"""Prefect orchestration only: one flow clears an inbox, one thin task per dossier.

The work itself is `intake.dossier.process_dossier`, a plain function.
"""
from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.task_runners import ThreadPoolTaskRunner

from intake.csvout import save_result, write_csvs
from intake.dossier import process_dossier
from intake.manifest import ready_dossiers
from intake.settings import Settings


@task(name="dossier", task_run_name="{folder_name}", retries=1, retry_delay_seconds=2)
def dossier_task(folder: str, folder_name: str, out: str, settings: Settings) -> dict[str, str]:
    """Process one dossier and save its result; returns the small summary the flow keeps."""
    out_dir = Path(out)
    result = process_dossier(Path(folder), settings, artifacts_root=out_dir / "artifacts",
                             cache_dir=settings.ocr_cache_dir or out_dir / ".cache" / "ocr")
    save_result(out_dir, result)
    get_run_logger().info("dossier %s: %s %s", result.dossier_id, result.decision, "|".join(result.reasons))
    return {"dossier_id": result.dossier_id, "decision": str(result.decision), "reasons": "|".join(result.reasons)}


@flow(name="process_inbox", log_prints=True)
def process_inbox(inbox: str, out: str, settings: Settings | None = None) -> list[dict[str, str]]:
    """Decide every ready dossier of `inbox`; write out/dossiers.csv and out/documents.csv."""
    settings = settings or Settings.from_env()
    logger = get_run_logger()
    folders = ready_dossiers(Path(inbox))
    logger.info("inbox %s: %d dossier(s) ready", inbox, len(folders))
    futures = [dossier_task.submit(str(f), f.name, out, settings) for f in folders]
    summaries = [fut.result() for fut in futures]
    Path(out).mkdir(parents=True, exist_ok=True)
    write_csvs(Path(out))
    return summaries


def run_inbox(inbox: Path, out: Path, settings: Settings) -> list[dict[str, str]]:
    """Run the flow with one worker thread per core (Tesseract itself runs single-threaded)."""
    runner = ThreadPoolTaskRunner(max_workers=settings.workers)
    return process_inbox.with_options(task_runner=runner)(str(inbox), str(out), settings)
