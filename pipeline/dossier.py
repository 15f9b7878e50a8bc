"""One dossier, end to end: an explicit, ordered list of steps over one `DossierContext`.

    manifest -> files (load -> pages -> documents) -> by elimination -> check -> decide

Each step is a plain function; `process_dossier` runs them in order and is the dossier's
error boundary (a crash becomes PROCESSING_ERROR, the dossier still gets its row);
`read_files` is each file's (a file our machinery breaks on costs that file, not the
dossier). Prefect wraps `process_dossier` in a thin task; pixels never leave this call.
"""
from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path

from extractors.care_sheet.read import prepare as prepare_care_sheet
from extractors.pages.load import load_file
from extractors.pages.pdf_text import start_server
from core.errors import InfrastructureError
from core.inbox import DocumentEntry, results_key
from core.messages import message_fr
from core.records import DocType, DocumentResult, DossierResult, Finding, ReasonCode
from core.settings import Settings
from pipeline.context import DossierContext, Reader, now_iso
from pipeline.document import build_document, by_elimination, typed_pages
from pipeline.manifest import read_manifest
from pipeline.page import SLOT_TYPES, read_pages
from validators.rules import DossierFacts, decide, evaluate

log = logging.getLogger(__name__)

Step = Callable[[DossierContext], None]


def manifest(ctx: DossierContext) -> None:
    ctx.manifest = read_manifest(ctx.folder)


def read_file(ctx: DossierContext, n: int, entry: DocumentEntry) -> None:
    """Load one file and read its pages into documents (or record why it cannot be opened)."""
    ref = f"{ctx.manifest.dossier_id} f{n}"  # logs name files by their number, never by the client's name
    loaded = load_file(entry.path, entry.file, ctx.reader.settings, ref)
    if loaded.error:
        log.info("%s unreadable: %s", ref, loaded.error)
        ctx.unreadable.append((entry.file, loaded.error))
        ctx.documents.append(DocumentResult(ctx.manifest.dossier_id, entry.file, (), DocType.OTHER,
                                            legible=False, illegible_why=(loaded.error,)))
        return
    readings = read_pages(loaded.pages, entry.slot, ctx.reader)
    del loaded  # the file's pages live on in the readings only
    for _doc_type, idx in typed_pages(readings):
        ctx.documents.append(build_document(ctx.manifest, [readings[i] for i in idx], ctx.reader))


def read_files(ctx: DossierContext) -> None:
    """Every file of the manifest (up to Settings.max_files_per_dossier), each in its own error boundary."""
    limit = ctx.reader.settings.max_files_per_dossier
    for n, entry in enumerate(ctx.manifest.documents[:limit], 1):
        try:
            read_file(ctx, n, entry)
        except InfrastructureError:  # the machine, not this file: the run gives the dossier back
            raise
        except Exception as exc:  # our machinery broke on this file: the dossier's other files still count
            log.error("dossier %s f%d: processing error\n%s", ctx.manifest.dossier_id, n, traceback.format_exc())
            ctx.machine_findings.append(Finding(ReasonCode.PROCESSING_ERROR, message_fr(ReasonCode.PROCESSING_ERROR),
                                                f"fichier {n}: {exc.__class__.__name__}"))
            broken = DocumentResult(ctx.manifest.dossier_id, entry.file, (), SLOT_TYPES.get(entry.slot, DocType.OTHER),
                                    illegible_why=("erreur de traitement",))
            ctx.documents.append(broken)
            ctx.broken.append(broken)
    if len(ctx.manifest.documents) > limit:
        ctx.unreadable.append(("…", f"plus de {limit} fichiers : les suivants sont ignorés"))


def eliminate(ctx: DossierContext) -> None:
    ctx.documents = by_elimination(ctx.documents)


def check(ctx: DossierContext) -> None:
    readable = tuple(d for d in ctx.documents if d.pages) + tuple(ctx.broken)  # broken: legible None, no fields
    m = ctx.manifest
    facts = DossierFacts(m.dossier_id, readable, tuple(ctx.unreadable), m.problems,
                         submitted_at=m.submitted_at, contract_number=m.contract_number, animal_name=m.animal_name)
    ctx.findings = evaluate(facts) + ctx.machine_findings


def decision(ctx: DossierContext) -> None:
    ctx.decision = decide(ctx.findings)


STEPS: tuple[Step, ...] = (manifest, read_files, eliminate, check, decision)


def warm_up() -> None:
    """What every dossier's reading would build for itself, built once in this process: the inbox flow
    calls it before forking a child per dossier (inbox.deadline), which then inherits it. Measured:
    the care sheet's digit model alone is ~2.7 s CPU, once per child before this; the text layer's fork
    server ~0.1 s per child (a child starts its own when this one cannot be started)."""
    prepare_care_sheet()
    try:
        start_server()
    except OSError as exc:
        log.warning("text layer: fork server not started in this process (%s)", exc.__class__.__name__)


def process_dossier(folder: Path, settings: Settings, *, artifacts_root: Path | None = None,
                    cache_dir: Path | None = None) -> DossierResult:
    """Read, check and route one dossier folder (STEPS, in order). A crash of ours becomes
    PROCESSING_ERROR; only InfrastructureError (this machine cannot read any dossier now) is raised. `artifacts_root`: where its crops and thumbnails go; `cache_dir`: the OCR cache."""
    artifacts = artifacts_root / results_key(folder.name) if artifacts_root else None
    ctx = DossierContext(folder, Reader.create(settings, cache_dir=cache_dir, artifacts=artifacts))
    try:
        for step in STEPS:
            step(ctx)
    except InfrastructureError:
        raise
    except Exception as exc:  # our machinery broke on this dossier: it still gets a decision
        dossier_id = ctx.manifest.dossier_id if ctx.manifest else folder.name
        log.error("dossier %s: processing error\n%s", dossier_id, traceback.format_exc())
        finding = Finding(ReasonCode.PROCESSING_ERROR, message_fr(ReasonCode.PROCESSING_ERROR),
                          f"{exc.__class__.__name__}: {exc}")
        return DossierResult(dossier_id, decide([finding]), (finding,), (), now_iso(), folder.name)
    return DossierResult(ctx.manifest.dossier_id, ctx.decision, tuple(ctx.findings), tuple(ctx.documents),
                         now_iso(), folder.name)
