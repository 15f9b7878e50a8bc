"""One page, read: an ordered list of small steps over a `PageReading`.

normalise -> spot our form -> score readability -> OCR (unless a text layer or our
form) -> half-turn check -> unsure words read in more languages -> classify -> judge the text
-> the slot's hint. OCR runs once per page, in Settings.ocr_languages; again only for the
half-turn check and, in Settings.ocr_languages_second, for words (or an invoice's fields,
pipeline.document) read unsurely.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from extractors.care_sheet.read import looks_like_care_sheet
from extractors.documents.classify import classify_text, slot_confirms_invoice
from extractors.pages.geometry import rotate_quarter
from extractors.pages.normalise import UNSURE_ORIENTATION, enlargement, footprint, native_pixels, normalise_page, ocr_ready
from extractors.pages.readability import score_readability
from extractors.pages.ocr import OcrEngine
from extractors.pages.small_text import ocr_scale, read_page_text
from core.messages import READABILITY_DEFECTS_FR
from core.errors import OcrError
from core.records import DocType, Page, PageText, Readability, TextSource
from core.settings import Settings
from pipeline.context import Reader

log = logging.getLogger(__name__)

SLOT_TYPES = {"care_sheet": DocType.CARE_SHEET, "invoice": DocType.INVOICE}
# Upside-down text reads at a mean word confidence of ~30-50, upright text well above: a half-turned
# reading must beat the first by this much to be taken.
HALF_TURN_MIN_GAIN = 10


@dataclass(slots=True)
class PageReading:
    """What the pipeline knows of one page once read (lives inside the worker)."""

    page: Page
    slot: str
    readability: Readability = Readability(0.0)
    text: PageText | None = None
    doc_type: DocType = DocType.OTHER
    legible: bool = False
    why: tuple[str, ...] = ()
    invoice_score: float = 0.0
    identified_by: str = "text"
    on_form: bool = False  # our care-sheet form, known by its pixels: checked by zones, never OCRed
    ocred: bool = False  # the text was read by OCR in this reading (not a PDF's text layer)
    wide_text: PageText | None = None  # its reading in the second reading's languages, once made


PageStep = Callable[[PageReading, Reader], None]


def normalise(r: PageReading, reader: Reader) -> None:
    r.page = normalise_page(r.page, reader.settings, reader.ocr)
    r.text = r.page.text_layer


def spot_form(r: PageReading, reader: Reader) -> None:
    if r.text is None and looks_like_care_sheet(r.page.image) >= reader.settings.care_sheet_layout_min:
        r.on_form, r.doc_type, r.identified_by = True, DocType.CARE_SHEET, "layout"


def page_readability(page: Page, settings: Settings, *, form: bool = False) -> Readability:
    """The page's readability score; a born-digital page (text layer) has nothing to read badly."""
    if page.text_layer is not None:
        return Readability(1.0)
    image = native_pixels(page)  # the capture's own resolution: the warp's enlargement would read as blur
    return score_readability(image, settings, form=form, footprint=footprint(page, image.shape[:2]))


def defects_fr(r: Readability) -> tuple[str, ...]:
    """The readability defects in the client's words ("photo floue", …)."""
    return tuple(READABILITY_DEFECTS_FR.get(d, d) for d in r.defects)


def score(r: PageReading, reader: Reader) -> None:
    r.readability = page_readability(r.page, reader.settings, form=r.on_form)
    r.why = defects_fr(r.readability)
    r.legible = r.readability.score >= reader.settings.readability_threshold


def _scale(r: PageReading, settings: Settings) -> float:
    """How much the page is resized for OCR. Small print on a page legible by its pixels is read
    enlarged. A page illegible by its pixels is OCRed only to know what it is (nothing read on it makes
    it legible again, see judge_text), at most `ocr_unreadable_max_side_px` long: its "small print" is
    mostly blur and specks, whose cores measure small, and enlarging it up to 3x cost up to 9x the OCR
    (a dark, blurred photo of a care sheet: 30 s of Tesseract, read twice for the half turn)."""
    if r.legible:
        return ocr_scale(r.readability.metrics, enlargement(r.page))
    return min(1.0, settings.ocr_unreadable_max_side_px / max(r.page.image.shape[:2]))


def _read_with(r: PageReading, engine: OcrEngine, settings: Settings) -> PageText:
    """The page's words as the OCR step reads them (same scale and mode), with `engine`."""
    psm = settings.ocr_psm if r.legible else settings.ocr_psm_unreadable  # r.legible: by its pixels, so far
    return read_page_text(engine, r.page.image, r.page.dpi, _scale(r, settings), psm)


def ocr(r: PageReading, reader: Reader) -> None:
    if r.on_form or r.text is not None:
        return
    r.text = _read_with(r, reader.ocr, reader.settings)
    r.ocred = True


def read_again_wider(r: PageReading, reader: Reader) -> PageText | None:
    """The page's reading in the second reading's languages, made at most once (None: no second reading,
    or not an OCRed page)."""
    if reader.second is None or not r.ocred:
        return None
    if r.wide_text is None:
        r.wide_text = _read_with(r, reader.second, reader.settings)
    return r.wide_text


def unsure_words(text: PageText | None, settings: Settings) -> bool:
    """Words read so unsurely that the page would be judged illegible by them (mean confidence under
    min_ocr_confidence, judge_text). A page with no words (a picture) is not unsure of them."""
    return text is not None and bool(text.words) and (text.mean_conf or 0.0) < settings.min_ocr_confidence


def read_wider(r: PageReading, reader: Reader) -> None:
    """Words read so unsurely in the first languages that the page would be called illegible are read again in
    the second's; the surer reading is kept. A till receipt's English words and symbols read in French alone
    come out garbled, not missing (a dev receipt: illegible in `fra`, read in `fra+eng`). A page read unsurely
    but legibly is read again only for its invoice's fields (pipeline.document.invoice_fields)."""
    if not unsure_words(r.text, reader.settings):
        return
    again = read_again_wider(r, reader)
    if again is not None and (again.mean_conf or 0.0) > (r.text.mean_conf or 0.0):
        r.text = again


def half_turn_if_better(page: Page, text: PageText, reader: Reader, psm: int | None = None,
                        scale: float = 1.0) -> tuple[Page, PageText]:
    """The one case a page is OCRed twice: its orientation was a guess and the words came out unsure.
    Upside-down text reads with far lower confidence than upright text, so the better reading wins."""
    image, m = rotate_quarter(page.image, 180)
    turned = read_page_text(reader.ocr, image, page.dpi, scale, psm)  # small print enlarged, as first read
    if (turned.mean_conf or 0.0) <= (text.mean_conf or 0.0) + HALF_TURN_MIN_GAIN \
            or len(turned.words) < len(text.words) // 2:
        return page, text
    transform = m @ (page.transform if page.transform is not None else np.eye(3))
    return replace(page, image=image, transform=transform, steps=page.steps + ("rotate_180_ocr",)), turned


def settle_orientation(r: PageReading, reader: Reader) -> None:
    s = reader.settings
    conf = (r.text.mean_conf or 0.0) if r.text is not None else 0.0
    # a guessed orientation read unsurely, or any reading about to be called illegible (OSD turned a
    # till receipt upside down: sharp print read at 44): the half turn is tried once
    if r.ocred and ((UNSURE_ORIENTATION in r.page.steps and conf < s.orientation_recheck_conf)
                    or (r.legible and r.text.words and conf < s.min_ocr_confidence)):
        psm = s.ocr_psm if r.legible else s.ocr_psm_unreadable
        r.page, r.text = half_turn_if_better(r.page, r.text, reader, psm, _scale(r, s))


def classify(r: PageReading, reader: Reader) -> None:
    if r.on_form:
        return
    page_class = classify_text(r.text.text)
    r.doc_type, r.invoice_score = page_class.doc_type, page_class.scores["invoice"]


def judge_text(r: PageReading, reader: Reader) -> None:
    """Words Tesseract is unsure of: the text cannot be read, whatever the pixel measures said.
    (A page with no words at all, a picture, is judged by its pixels alone.)"""
    t = r.text
    if r.legible and t is not None and t.source == TextSource.OCR and (r.doc_type != DocType.OTHER or t.words):
        if t.mean_conf is None or t.mean_conf < reader.settings.min_ocr_confidence:
            r.legible, r.why = False, r.why + ("texte illisible",)


def slot_hint(r: PageReading, reader: Reader) -> None:
    if not r.legible and r.doc_type == DocType.OTHER and r.slot in SLOT_TYPES:
        r.doc_type, r.identified_by = SLOT_TYPES[r.slot], "slot"  # nothing readable: the client's slot is our best hint
    elif SLOT_TYPES.get(r.slot) == DocType.INVOICE and slot_confirms_invoice(r.doc_type, r.invoice_score):
        r.doc_type, r.identified_by = DocType.INVOICE, "slot"  # a receipt OCR garbled, with some invoice cues


PAGE_STEPS: tuple[PageStep, ...] = (normalise, spot_form, score, ocr, settle_orientation, read_wider, classify,
                                    judge_text, slot_hint)


def read_page(page: Page, slot: str, reader: Reader) -> PageReading:
    """Normalise, score, read and classify one page (PAGE_STEPS, in order)."""
    r = PageReading(page, slot)
    for step in PAGE_STEPS:
        step(r, reader)
    log.info("%s: readability %.2f, %s, legible=%s", r.page.ref, r.readability.score, r.doc_type, r.legible)
    return r


def _read_or_fail(page: Page, slot: str, reader: Reader) -> PageReading:
    try:
        return read_page(page, slot, reader)
    except OcrError as exc:  # the engine failed on every try: this page cannot be read
        log.warning("%s: %s", page.ref, exc)
        return PageReading(page, slot, Readability(0.0, ("ocr_failed",)), None, SLOT_TYPES.get(slot, DocType.OTHER),
                           False, ("lecture impossible",), identified_by="slot" if slot in SLOT_TYPES else "text")


def read_pages(pages: list[Page], slot: str, reader: Reader) -> list[PageReading]:
    """The pages of one file, read side by side (in order): a long invoice or a lone dossier at the
    end of an inbox keeps every core busy. The OCR engine itself stays at one process per core
    (`ocr.tesseract_slots`); the file's pages are in memory already, so this holds no more."""
    workers = reader.settings.workers
    if len(pages) < 2 or workers < 2:
        return [_read_or_fail(p, slot, reader) for p in pages]
    with ThreadPoolExecutor(min(workers, len(pages)), thread_name_prefix="page") as pool:
        return list(pool.map(lambda p: _read_or_fail(p, slot, reader), pages))
