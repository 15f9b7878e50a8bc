"""One claimed dossier, for the inbox flow: decide it (or give the result of a dossier runs keep dying on),
save it, publish what the UI shows, file it by decision (review/ when a person must look).

Plain steps and the task's body; the flow, its task and the claim loop are `flows.inbox`.
"""
from __future__ import annotations

import errno
import logging
from pathlib import Path

from prefect import get_run_logger

from flows.artifacts import (dossier_markdown, publish_dossier, result_summary, reused_markdown,
                             reused_summary)
from flows.review import REVIEW_DIR, emit_decided, packet_path, start_review, write_packet
from core.errors import InfrastructureError, IntakeError
from core.inbox import results_key
from core.messages import message_fr
from core.records import DossierResult, Finding, ReasonCode
from core.settings import Settings
from extractors.pages.ocr import warm_engines
from pipeline.confidence import assess
from pipeline.dossier import now_iso, process_dossier
from inbox.claim import Owner
from inbox.deadline import TimedOut, call_with_limit
from inbox.feed import file_dossier
from inbox.ledger import already_decided, crashes, fingerprint, forget_crashes, remember
from results.duplicates import with_duplicates
from results.store import save_result, saved_dossier_row
from validators.rules import decide

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
    warm_engines(settings)  # the OCR engines loaded once in this process, not once per forked child
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
