"""A file's pages grouped into documents, each read for its fields: one `DocumentResult` each.

The care sheet is checked zone by zone (`extractors.care_sheet`), an invoice read for
its fields with a second look at the SIRET's lines when none was read
(`extractors.invoice`); a document that is not legible gets no field guessed.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from datetime import date
from pathlib import Path

import cv2
import numpy as np

from extractors.care_sheet.read import read_care_sheet
from extractors.documents.classify import group_pages, join_continuations, split_invoices
from extractors.invoice.fields import read_invoice, stronger, unsure
from extractors.invoice.small_print import reread_siret
from extractors.pages.normalise import ocr_ready
from extractors.pages.ocr import OcrEngine
from core.imagehash import dhash
from core.inbox import Manifest, safe_id
from core.records import DocType, DocumentResult, InvoiceFacts, Page, PageText
from pipeline.context import Reader
from pipeline.page import PageReading, read_again_wider

log = logging.getLogger(__name__)

REQUIRED = (DocType.CARE_SHEET, DocType.INVOICE)  # the two documents every request holds (contract §2)
# A file system takes names of 255 bytes at most; a client's file name may be longer (and non-ASCII
# folds to several bytes): a crops folder or thumbnail named after it keeps this many characters and a hash.
STEM_MAX_CHARS = 80


def artifact_stem(file: str, page: int) -> str:
    """The name of a document's crops folder and thumbnail: readable, unique per file, never too long."""
    stem = safe_id(file)
    if len(stem) > STEM_MAX_CHARS:
        digest = hashlib.sha1(file.encode("utf-8", "backslashreplace")).hexdigest()[:10]
        stem = f"{stem[:STEM_MAX_CHARS - 11]}-{digest}"
    return f"{stem}_p{page}"


def write_thumbnail(page: Page, path: Path, max_px: int) -> Path | None:
    """A small PNG of the page for the operator's view (None, logged, when it cannot be written: the
    view then shows no picture, the document is read all the same)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = page.image.shape[:2]
    scale = max_px / max(h, w)  # also enlarges a tiny page: the view shows every page at one size
    small = cv2.resize(page.image, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    if not cv2.imwrite(str(path), small):  # OpenCV reports a failed write by its return value only
        log.warning("%s: thumbnail not written", page.ref)
        return None
    return path


HASH_WIDTH_PX = 256  # the page is hashed from a copy this wide: the hash's 9x8 grid needs no more


def page_hash(page: Page) -> str | None:
    """The first page's perceptual hash (core.imagehash.dhash), from a small copy: cheap on a 12 MP photo."""
    if page.image is None:
        return None
    h, w = page.image.shape[:2]
    small = cv2.resize(page.image, (HASH_WIDTH_PX, max(1, round(h * HASH_WIDTH_PX / w))), interpolation=cv2.INTER_AREA)
    return dhash(small)


def mean_conf(texts: list[PageText]) -> float:
    """The mean word confidence of these pages' words together (0 with none)."""
    confs = [w.conf for t in texts for w in t.words if w.conf >= 0]
    return sum(confs) / len(confs) if confs else 0.0


def _fields(texts: list[PageText], pages: list[Page], ocr: OcrEngine) -> InvoiceFacts:
    """The invoice's fields; a SIRET not read at once gets a second, closer look at its lines with `ocr`.
    `pages[i]`: the page `texts[i]` was read from."""
    def ocr_image_of(i: int) -> np.ndarray | None:  # what the OCR step gave the engine, made again for this page only
        return None if pages[i].image is None else ocr_ready(pages[i].image, pages[i].dpi)

    return reread_siret(read_invoice(texts), texts, ocr_image_of, ocr)


def invoice_fields(read: list[PageReading], reader: Reader) -> InvoiceFacts:
    """The fields of the invoice on these pages (each with its text). When its date or total is missing or
    under Settings.review_below_confidence (what an operator would have to look at), its OCRed pages are read
    once more in the second reading's languages (at most once per page, pipeline.page.read_again_wider) and
    the reading that found more, more surely, is kept (extractors.invoice.fields.stronger)."""
    texts, pages = [r.text for r in read], [r.page for r in read]
    facts = _fields(texts, pages, reader.ocr)
    if reader.second is None or not unsure(facts, reader.settings.review_below_confidence):
        return facts
    if not any(r.ocred for r in read):  # text layers only: nothing to read again
        return facts
    wider = [read_again_wider(r, reader) or r.text for r in read]
    how = f"relu en {reader.settings.ocr_languages_second}"
    return stronger(facts, _fields(wider, pages, reader.second), how, first_conf=mean_conf(texts),
                    second_conf=mean_conf(wider))


def typed_pages(readings: list[PageReading]) -> list[tuple[DocType, list[int]]]:
    """A file's pages as documents: continuation pages joined to their invoice, consecutive pages of one
    type grouped (one care sheet per page): [(type, [page indexes])]. Sets each reading's final type."""
    types = join_continuations([r.doc_type for r in readings], [r.invoice_score for r in readings])
    for r, t in zip(readings, types):
        r.doc_type = t
    return split_invoices(group_pages(types), [r.text for r in readings])  # two invoices in one file: two documents


def submitted_day(submitted_at: str | None) -> date | None:
    """The manifest's submission day (ISO 8601), or None when absent or malformed."""
    try:
        return date.fromisoformat(submitted_at[:10]) if submitted_at else None
    except ValueError:
        return None


def build_document(manifest: Manifest, readings: list[PageReading], reader: Reader) -> DocumentResult:
    """One document of consecutive pages: its readability, legibility, thumbnail and fields."""
    first = readings[0]
    read = [r for r in readings if r.text is not None]
    texts = [r.text for r in read]
    confs = [t.mean_conf for t in texts if t.source == "ocr" and t.mean_conf is not None]
    legible = all(r.legible for r in readings)
    why = tuple(dict.fromkeys(w for r in readings for w in r.why))
    doc = DocumentResult(
        dossier_id=manifest.dossier_id,
        file=first.page.file,
        pages=tuple(r.page.number for r in readings),
        doc_type=first.doc_type,
        capture=first.page.capture,
        readability=round(min(r.readability.score for r in readings), 3),
        readability_defects=tuple(dict.fromkeys(d for r in readings for d in r.readability.defects)),
        ocr_confidence=round(sum(confs) / len(confs), 1) if confs else None,
        legible=legible,
        illegible_why=() if legible else why,
        identified_by=first.identified_by,
    )
    crops = None
    if reader.artifacts is not None:
        stem = artifact_stem(first.page.file, first.page.number)
        crops = reader.artifacts / stem
        if reader.settings.thumbnails:
            thumb = write_thumbnail(first.page, reader.artifacts / f"{stem}.png", reader.settings.thumbnail_px)
            doc = replace(doc, thumbnail=str(thumb) if thumb else None)
    if doc.doc_type == DocType.CARE_SHEET and legible:
        facts = read_care_sheet(first.page, reader.settings, expected_contract=manifest.contract_number,
                                expected_animal=manifest.animal_name, crops_dir=crops, engine=reader.zones,
                                submitted=submitted_day(manifest.submitted_at))
        doc = replace(doc, care_sheet=facts)
    elif doc.doc_type == DocType.INVOICE and texts and legible:  # no fields guessed from unreadable text
        doc = replace(doc, invoice=invoice_fields(read, reader))
    if doc.doc_type == DocType.INVOICE:
        doc = replace(doc, page_hash=page_hash(first.page))
    return doc


def by_elimination(documents: list[DocumentResult]) -> list[DocumentResult]:
    """Clients swap the two upload fields. An unreadable page typed only by its slot, when that type is
    found legible elsewhere and the other required type is nowhere, is that other document."""
    out = list(documents)
    for i, d in enumerate(out):
        if d.identified_by != "slot" or d.legible is not False or d.doc_type not in REQUIRED:
            continue
        other = REQUIRED[1 - REQUIRED.index(d.doc_type)]
        found_legible = any(o.doc_type == d.doc_type and o.legible for o in out if o is not d)
        if found_legible and not any(o.doc_type == other for o in out):
            out[i] = replace(d, doc_type=other, identified_by="elimination")
    return out
