"""One dossier, end to end, as a plain function: load -> normalise -> read -> check -> decide.

Prefect wraps `process_dossier` in a thin task; everything here runs and is
tested without Prefect. Pixels never leave this module's call.
"""
from __future__ import annotations

import logging
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np

from intake.pipeline import stages
from extractors.documents.classify import classify_text, group_pages, join_continuations
from extractors.pages.geometry import rotate_quarter
from extractors.pages.load import LoadedFile, load_file
from extractors.pages.normalise import UNSURE_ORIENTATION
from extractors.pages.ocr import ocr_image
from intake.core.errors import OcrError
from intake.core.inbox import Manifest, safe_id
from intake.pipeline.manifest import read_manifest
from intake.core.messages import message_fr
from intake.core.records import (Capture, DocType, DocumentResult, DossierResult, Finding, Page, PageText,
                            Readability, ReasonCode)
from intake.core.settings import Settings
from validators.rules import DossierFacts, decide, evaluate

log = logging.getLogger(__name__)

SLOT_TYPES = {"care_sheet": DocType.CARE_SHEET, "invoice": DocType.INVOICE}


@dataclass(slots=True)
class PageReading:
    """What the pipeline knows of one page once read (lives inside the worker)."""

    page: Page
    slot: str
    readability: Readability
    text: PageText | None
    doc_type: DocType
    legible: bool
    why: tuple[str, ...]
    invoice_score: float = 0.0
    identified_by: str = "text"


def now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def _half_turn_if_better(page: Page, text: PageText, settings: Settings,
                         cache_dir: Path | None, psm: int | None = None) -> tuple[Page, PageText]:
    """The one case a page is OCRed twice: its orientation was a guess and the words came out unsure.
    Upside-down text reads with far lower confidence than upright text, so the better reading wins."""
    image, m = rotate_quarter(page.image, 180)
    turned = ocr_image(stages.ocr_ready(image, page.dpi), settings, psm=psm, cache_dir=cache_dir)
    if (turned.mean_conf or 0.0) <= (text.mean_conf or 0.0) + 10 or len(turned.words) < len(text.words) // 2:
        return page, text
    transform = m @ (page.transform if page.transform is not None else np.eye(3))
    return replace(page, image=image, transform=transform, steps=page.steps + ("rotate_180_ocr",)), turned


def read_page(page: Page, slot: str, settings: Settings, cache_dir: Path | None) -> PageReading:
    """Normalise, score, read and classify one page. OCR runs at most once per page."""
    page = stages.normalise(page, settings)
    text: PageText | None = page.text_layer
    on_form = text is None and stages.looks_like_care_sheet(page.image) >= settings.care_sheet_layout_min
    readability = stages.readability(page, settings, form=on_form)
    doc_type = DocType.OTHER
    invoice_score = 0.0
    identified_by = "text"
    if on_form:
        doc_type, identified_by = DocType.CARE_SHEET, "layout"  # our form's pixels: zone checks need no OCR
    else:
        if text is None:
            legible_pixels = readability.score >= settings.readability_threshold
            psm = settings.ocr_psm if legible_pixels else settings.ocr_psm_unreadable
            text = ocr_image(stages.ocr_ready(page.image, page.dpi), settings, psm=psm, cache_dir=cache_dir)
            if UNSURE_ORIENTATION in page.steps and (text.mean_conf or 0.0) < settings.orientation_recheck_conf:
                page, text = _half_turn_if_better(page, text, settings, cache_dir, psm)
        page_class = classify_text(text.text)
        doc_type, invoice_score = page_class.doc_type, page_class.scores["invoice"]

    why = tuple(stages.defects_fr(readability))
    legible = readability.score >= settings.readability_threshold
    # Words Tesseract is unsure of: the text cannot be read, whatever the pixel measures said. (A page
    # with no words at all, a picture, is judged by its pixels alone.)
    if legible and text is not None and text.source == "ocr" and (doc_type != DocType.OTHER or text.words):
        conf = text.mean_conf
        if conf is None or conf < settings.min_ocr_confidence:
            legible, why = False, why + ("texte illisible",)
    if not legible and doc_type == DocType.OTHER and slot in SLOT_TYPES:
        doc_type, identified_by = SLOT_TYPES[slot], "slot"  # nothing readable: the client's slot is our best hint
    log.info("%s: readability %.2f, %s, legible=%s", page.ref, readability.score, doc_type, legible)
    return PageReading(page, slot, readability, text, doc_type, legible, why, invoice_score, identified_by)


def _read_or_fail(page: Page, slot: str, settings: Settings, cache_dir: Path | None) -> PageReading:
    try:
        return read_page(page, slot, settings, cache_dir)
    except OcrError as exc:  # Tesseract failed on every try: this page cannot be read
        log.warning("%s: %s", page.ref, exc)
        return PageReading(page, slot, Readability(0.0, ("ocr_failed",)), None,
                           SLOT_TYPES.get(slot, DocType.OTHER), False, ("lecture impossible",),
                           identified_by="slot" if slot in SLOT_TYPES else "text")


def read_pages(pages: list[Page], slot: str, settings: Settings, cache_dir: Path | None) -> list[PageReading]:
    """The pages of one file, read side by side (in order): a long invoice or a lone dossier at the
    end of an inbox keeps every core busy. Tesseract itself stays at one process per core
    (`ocr.tesseract_slots`); the file's pages are in memory already, so this holds no more."""
    if len(pages) < 2 or settings.workers < 2:
        return [_read_or_fail(p, slot, settings, cache_dir) for p in pages]
    with ThreadPoolExecutor(min(settings.workers, len(pages)), thread_name_prefix="page") as pool:
        return list(pool.map(lambda p: _read_or_fail(p, slot, settings, cache_dir), pages))


def _document(manifest: Manifest, readings: list[PageReading], settings: Settings,
              artifacts: Path | None, cache_dir: Path | None = None) -> DocumentResult:
    first = readings[0]
    doc_type = first.doc_type
    read = [r for r in readings if r.text is not None]
    texts = [r.text for r in read]
    confs = [t.mean_conf for t in texts if t.source == "ocr" and t.mean_conf is not None]
    legible = all(r.legible for r in readings)
    why = tuple(dict.fromkeys(w for r in readings for w in r.why))
    doc = DocumentResult(
        dossier_id=manifest.dossier_id,
        file=first.page.file,
        pages=tuple(r.page.number for r in readings),
        doc_type=doc_type,
        capture=first.page.capture,
        readability=round(min(r.readability.score for r in readings), 3),
        readability_defects=tuple(dict.fromkeys(d for r in readings for d in r.readability.defects)),
        ocr_confidence=round(sum(confs) / len(confs), 1) if confs else None,
        legible=legible,
        illegible_why=() if legible else why,
        identified_by=first.identified_by,
    )
    crops = None
    if artifacts is not None:
        stem = f"{safe_id(first.page.file)}_p{first.page.number}"
        crops = artifacts / stem
        if settings.thumbnails:
            doc = replace(doc, thumbnail=str(_thumbnail(first.page, artifacts / f"{stem}.png", settings)))
    if doc_type == DocType.CARE_SHEET and legible:
        doc = replace(doc, care_sheet=stages.read_care_sheet(first.page, settings, manifest, crops))
    elif doc_type == DocType.INVOICE and texts and legible:  # no fields guessed from unreadable text
        doc = replace(doc, invoice=stages.read_invoice(texts, [r.page for r in read], settings, cache_dir))
    return doc


def _thumbnail(page: Page, path: Path, settings: Settings) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = page.image.shape[:2]
    scale = settings.thumbnail_px / max(h, w)
    small = cv2.resize(page.image, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(path), small)
    return path


def by_elimination(documents: list[DocumentResult]) -> list[DocumentResult]:
    """Clients swap the two upload fields. An unreadable page typed only by its slot, when that type is
    found legible elsewhere and the other required type is nowhere, is that other document."""
    required = (DocType.CARE_SHEET, DocType.INVOICE)
    out = list(documents)
    for i, d in enumerate(out):
        if d.identified_by != "slot" or d.legible is not False or d.doc_type not in required:
            continue
        other = required[1 - required.index(d.doc_type)]
        found_legible = any(o.doc_type == d.doc_type and o.legible for o in out if o is not d)
        if found_legible and not any(o.doc_type == other for o in out):
            out[i] = replace(d, doc_type=other, identified_by="elimination")
    return out


def process_dossier(folder: Path, settings: Settings, *, artifacts_root: Path | None = None,
                    cache_dir: Path | None = None) -> DossierResult:
    """Read, check and route one dossier folder. Never raises: a crash becomes PROCESSING_ERROR."""
    manifest = read_manifest(folder)
    artifacts = artifacts_root / safe_id(folder.name) if artifacts_root else None
    try:
        return _process(manifest, settings, artifacts, cache_dir)
    except Exception as exc:  # our machinery broke on this dossier: it still gets a decision
        log.error("dossier %s: processing error\n%s", manifest.dossier_id, traceback.format_exc())
        finding = Finding(ReasonCode.PROCESSING_ERROR, message_fr(ReasonCode.PROCESSING_ERROR),
                          f"{exc.__class__.__name__}: {exc}")
        return DossierResult(manifest.dossier_id, decide([finding]), (finding,), (), now_iso(), folder.name)


def _process(manifest: Manifest, settings: Settings, artifacts: Path | None,
             cache_dir: Path | None) -> DossierResult:
    documents: list[DocumentResult] = []
    unreadable: list[tuple[str, str]] = []
    entries = manifest.documents[: settings.max_files_per_dossier]
    for n, entry in enumerate(entries, 1):
        ref = f"{manifest.dossier_id} f{n}"  # logs name files by their number, never by the client's name
        loaded: LoadedFile = load_file(entry.path, entry.file, settings, ref)
        if loaded.error:
            log.info("%s unreadable: %s", ref, loaded.error)
            unreadable.append((entry.file, loaded.error))
            documents.append(DocumentResult(manifest.dossier_id, entry.file, (), DocType.OTHER,
                                            legible=False, illegible_why=(loaded.error,)))
            continue
        readings = read_pages(loaded.pages, entry.slot, settings, cache_dir)
        types = join_continuations([r.doc_type for r in readings], [r.invoice_score for r in readings])
        for r, t in zip(readings, types):
            r.doc_type = t
        for doc_type, idx in group_pages(types):
            documents.append(_document(manifest, [readings[i] for i in idx], settings, artifacts, cache_dir))
        del loaded, readings
    if len(manifest.documents) > settings.max_files_per_dossier:
        unreadable.append(("…", f"plus de {settings.max_files_per_dossier} fichiers : les suivants sont ignorés"))

    documents = by_elimination(documents)
    readable_docs = tuple(d for d in documents if d.pages)
    facts = DossierFacts(manifest.dossier_id, readable_docs, tuple(unreadable), manifest.problems)
    findings = evaluate(facts)
    return DossierResult(manifest.dossier_id, decide(findings), tuple(findings), tuple(documents),
                         now_iso(), manifest.folder.name)
