"""Review by an operator: a dossier the pipeline is not sure of waits, in `ARCHIVE/review/<folder>` and
in a flow run of its own (deployment `review-dossier`), suspended until a person answers its form.

    inbox run: decided, needs_review -> archive/review/<folder>, packet out/review/<folder>.json,
               run_deployment(review-dossier, timeout=0)            (the inbox run never waits)
    review run: reads the packet, suspends with a `ReviewInput` form  (no process, no worker held)
    resume:     the operator's decision and reasons become the dossier's (results.store.save_review),
                the client message is rewritten, the folder moves to archive/<decision>/, CSVs rebuilt

The packet carries the form's markdown, built once where the images are (the inbox worker): the review
run needs no pixels and no pipeline. The form's text is built by plain functions (testable without Prefect).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.events import emit_event
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput
from pydantic import Field

from core.files import atomic_write
from core.messages import STATUS_FR, message_fr
from core.records import Decision, DossierResult, ReasonCode
from core.settings import Settings
from flows.artifacts import _cell, artifact_key, dossier_markdown
from inbox.archive import archive as archive_to
from inbox.claim import Owner
from pipeline.confidence import facts_confidence, weak_facts
from core.inbox import results_key
from results.store import dossier_row, save_review, saved_dossier_row, write_csvs

PACKETS = "review"  # out/review/<folder>.json: what a waiting review run shows and started from
REVIEW_DIR = "review"  # archive/review/<folder>: the dossiers waiting for an operator
COMPARED = (("date", "invoice_date"), ("total TTC", "total_ttc"), ("n° de facture", "invoice_number"),
            ("SIRET", "siret"), ("type", "kind"))  # invoice facts set side by side when a dossier has several


class ReviewInput(RunInput):
    """The operator's answer: it replaces the pipeline's decision and reasons."""

    decision: Decision = Field(description="accept / request_documents / illegible")
    reasons: list[ReasonCode] = Field(default_factory=list, description="les motifs retenus (codes du contrat)")
    note: str = Field("", description="pourquoi (gardé avec la revue)")
    operator: str = Field(min_length=1, description="votre nom")


# --- the form's text (plain functions) ------------------------------------------------------------

def client_message(result: DossierResult) -> str:
    """The French message the client gets: every reason's message, once each."""
    return " ".join(dict.fromkeys(f.message_fr for f in result.findings))


def review_markdown(result: DossierResult, settings: Settings, artifact_url: str = "") -> str:
    """The review form's description: why a person must look, the facts with their confidence, the
    documents side by side, the client's message, then the dossier's page (thumbnails and crops)."""
    conf = "—" if result.confidence is None else f"{result.confidence:.2f}"
    lines = [f"# Revue — {result.dossier_id}", "",
             f"Décision proposée : **`{result.decision}`** ({STATUS_FR[Decision(result.decision)]}) · "
             f"confiance **{conf}** (seuil {settings.review_below_confidence:.2f})  ",
             f"Pourquoi une revue : `{' | '.join(result.review_why) or '—'}`", ""]
    if artifact_url:
        lines += [f"[Page complète du dossier (images)]({artifact_url})", ""]
    weak = weak_facts(result, settings)
    if weak:
        lines += ["## Faits incertains", "", "| fait | où | confiance |", "|---|---|---|"]
        lines += [f"| {k} | {_cell(w)} | **{c:.2f}** |" for k, c, w in weak] + [""]
    fields = [(w, c) for k, c, w in facts_confidence(result, settings) if k in ("invoice_fields", "care_sheet_flags")]
    invoices = [d for d in result.documents if d.invoice is not None]
    if invoices:
        lines += ["## Champs lus", "", "| champ | " + " | ".join(f"{d.doc_type} p{d.pages_label}" for d in invoices)
                  + " |", "|---|" + "---|" * len(invoices)]
        for label, attr in COMPARED:
            cells = []
            for d in invoices:
                value = getattr(d.invoice, attr)
                c = d.invoice.confidence.get(attr)
                cells.append(f"{_cell(value) or '—'}" + (f" ({c:.2f})" if c is not None else ""))
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    if fields:
        lines += ["| fait | confiance |", "|---|---|"] + [f"| {_cell(w)} | {c:.2f} |" for w, c in fields] + [""]
    mismatches = [f for f in result.findings if str(f.code).endswith("_MISMATCH") or str(f.code) == "DUPLICATE_INVOICE"]
    if mismatches:
        lines += ["## Écarts entre documents", "", "| code | d'un côté / de l'autre |", "|---|---|"]
        lines += [f"| `{f.code}` | {_cell(f.evidence)} |" for f in mismatches] + [""]
    lines += ["## Message au client", "", f"> {client_message(result) or '(aucun motif : pas de message)'}", ""]
    return "\n".join(lines) + "\n" + dossier_markdown(result)


# --- the packet, the hook of the inbox run, the events --------------------------------------------

def packet_path(out: Path, folder: str) -> Path:
    return out / PACKETS / f"{results_key(folder)}.json"  # one per folder, never too long for a file name


def write_packet(out: Path, result: DossierResult, settings: Settings) -> Path:
    """What the review run needs, saved where both runs see it: the form's markdown and the row before."""
    ui = _ui_url()
    url = f"{ui}/artifacts/key/{artifact_key('dossier', result.folder or result.dossier_id)}" if ui else ""
    payload = {"folder": result.folder or result.dossier_id, "dossier_id": result.dossier_id,
               "row": dossier_row(result), "markdown": review_markdown(result, settings, url),
               "messages": {str(f.code): f.message_fr for f in result.findings}}
    path = packet_path(out, payload["folder"])
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, json.dumps(payload, ensure_ascii=False))


def _ui_url() -> str:
    from prefect.settings import PREFECT_UI_URL
    return (PREFECT_UI_URL.value() or "").rstrip("/")


def start_review(folder: str, out: Path, archive: Path, settings: Settings) -> str:
    """Start the review run of a dossier waiting in archive/review/ and return its id; without a server
    deployment (`intake run` in one process) return "" and leave it listed in archive/review/."""
    from prefect.deployments import run_deployment
    from prefect.runtime import deployment
    if deployment.id is None:
        return ""
    try:
        run = run_deployment(settings.review_deployment, parameters={"folder": folder, "out": str(out),
                                                                     "archive": str(archive)},
                             timeout=0, as_subflow=False, tags=["review"])
    except Exception as exc:  # noqa: BLE001 - not deployed, server busy: the dossier still waits, listed
        get_run_logger().warning("dossier %s: review run not started (%s); it waits in archive/review/",
                                 folder, exc.__class__.__name__)
        return ""
    return str(run.id)


def waiting(archive: Path) -> list[str]:
    """The folders waiting for an operator."""
    d = archive / REVIEW_DIR
    return sorted(p.name for p in d.iterdir() if p.is_dir() and not p.name.startswith(".")) if d.is_dir() else []


def _resource(dossier_id: str, folder: str) -> dict[str, str]:
    return {"prefect.resource.id": f"intake.dossier.{dossier_id}", "prefect.resource.name": dossier_id,
            "intake.folder": folder}


def emit_decided(result: DossierResult, archive: Path | None, settings: Settings) -> None:
    """Events: decided (every dossier), illegible, sent to review; the queue's size when over its limit."""
    res = _resource(result.dossier_id, result.folder)
    payload = {"decision": str(result.decision), "reasons": list(map(str, result.reasons)),
               "confidence": result.confidence, "needs_review": result.needs_review}
    emit_event("intake.dossier.decided", resource=res, payload=payload)
    if result.decision == Decision.ILLEGIBLE:
        emit_event("intake.dossier.illegible", resource=res, payload=payload)
    if result.needs_review:
        emit_event("intake.dossier.review-requested", resource=res,
                   payload={**payload, "review_why": list(result.review_why)})
        queue = waiting(archive) if archive else []
        if len(queue) > settings.review_queue_alert:
            emit_event("intake.review.queue-over-limit",
                       resource={"prefect.resource.id": "intake.review-queue", "prefect.resource.name": "review"},
                       payload={"waiting": len(queue), "limit": settings.review_queue_alert})


# --- resume: the operator's answer becomes the dossier's --------------------------------------------

def reviewed_row(before: dict[str, str], messages: dict[str, str], answer: ReviewInput) -> dict[str, str]:
    """The dossiers.csv row after the review: decision, status, reasons and the client message rewritten."""
    decision = Decision(answer.decision)
    codes = list(dict.fromkeys(str(r) for r in answer.reasons))
    text = " ".join(dict.fromkeys(messages.get(c) or message_fr(ReasonCode(c)) for c in codes))
    return {**before, "decision": str(decision), "status_fr": STATUS_FR[decision], "reasons": "|".join(codes),
            "message_fr": text}


def apply_review(out: Path, archive: Path | None, folder: str, answer: ReviewInput) -> dict[str, str]:
    """Save the operator's answer, move the folder to its decision's archive, rebuild the CSVs.
    Returns what changed ({column: "before -> after"})."""
    packet = json.loads(packet_path(out, folder).read_text(encoding="utf-8"))
    before = saved_dossier_row(out, folder)
    after = reviewed_row(before, packet["messages"], answer)
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    save_review(out, results_key(folder), reviewed_by=answer.operator, reviewed_at=at, before=before, after=after,
                note=answer.note)
    if archive is not None and (archive / REVIEW_DIR / folder).is_dir():
        archive_to(archive / REVIEW_DIR / folder, archive, after["decision"], Owner.current())
    write_csvs(out)
    packet_path(out, folder).unlink()
    return {k: f"{before.get(k, '')} -> {v}" for k, v in after.items() if before.get(k, "") != v}


@flow(name="review_dossier", flow_run_name="review-{folder}", persist_result=True)
def review_dossier(folder: str, out: str, archive: str | None = None) -> dict[str, str]:
    """Wait (suspended, holding no worker) for an operator's review of `folder`, then apply it."""
    log = get_run_logger()
    out_p, archive_p = Path(out), Path(archive) if archive else None
    if not packet_path(out_p, folder).exists():  # applied already (a re-run of a finished review)
        row = saved_dossier_row(out_p, folder)
        log.info("dossier %s: reviewed by %s at %s", folder, row.get("reviewed_by"), row.get("reviewed_at"))
        return {}
    packet = json.loads(packet_path(out_p, folder).read_text(encoding="utf-8"))
    row = packet["row"]
    form = ReviewInput.with_initial_data(description=packet["markdown"], decision=Decision(row["decision"]),
                                         reasons=[ReasonCode(c) for c in row["reasons"].split("|") if c in
                                                  ReasonCode.__members__])
    log.info("dossier %s: waiting for an operator (%s)", folder, row.get("review_why"))
    # the key names the run's inputs: Prefect takes lowercase letters, digits and dashes only
    answer = suspend_flow_run(wait_for_input=form, key=artifact_key("review", folder))
    changed = apply_review(out_p, archive_p, folder, answer)
    log.info("dossier %s: reviewed by %s, %s", folder, answer.operator, changed or "no change")
    emit_event("intake.dossier.reviewed", resource=_resource(packet["dossier_id"], folder),
               payload={"decision": str(answer.decision), "reasons": [str(r) for r in answer.reasons],
                        "reviewed_by": answer.operator, "changed": changed})
    return changed


@flow(name="review_queue_alert")
def review_queue_alert(archive: str, limit: int | None = None) -> list[str]:
    """Run by the automation on `intake.review.queue-over-limit`: say, loudly, who is waiting."""
    from prefect.artifacts import create_table_artifact
    names = waiting(Path(archive))
    limit = limit or Settings.from_env().review_queue_alert
    get_run_logger().warning("review queue: %d dossier(s) waiting for an operator (limit %d)", len(names), limit)
    create_table_artifact([{"folder": n} for n in names], key="review-queue",
                          description=f"{len(names)} dossier(s) en attente de revue (limite {limit})")
    return names
