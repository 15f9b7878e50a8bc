"""The per-page and per-document stages the dossier pipeline calls, in one place.

Thin adapters from `intake.pipeline.dossier` to the stage modules: normalisation,
readability, care-sheet checks, invoice fields.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from extractors.care_sheet.read import looks_like_care_sheet as _layout_score
from extractors.care_sheet.read import read_care_sheet as _read_care_sheet
from extractors.invoice.fields import read_invoice as _read_invoice
from extractors.pages.normalise import footprint, native_pixels, normalise_page
from extractors.pages.normalise import ocr_ready as _ocr_ready
from extractors.pages.readability import READABILITY_DEFECTS_FR, score_readability
from extractors.invoice.small_print import reread_siret
from intake.core.records import CareSheetFacts, InvoiceFacts, Page, PageText, Readability
from intake.core.settings import Settings


def normalise(page: Page, settings: Settings) -> Page:
    return normalise_page(page, settings)


def ocr_ready(image: np.ndarray, dpi: float | None = None) -> np.ndarray:
    return _ocr_ready(image, dpi)


def readability(page: Page, settings: Settings, *, form: bool = False) -> Readability:
    if page.text_layer is not None:
        return Readability(1.0)  # born digital: nothing to read badly
    # measured at the capture's own resolution: the warp's enlargement would read as blur
    image = native_pixels(page)
    return score_readability(image, settings, form=form, footprint=footprint(page, image.shape[:2]))


def defects_fr(r: Readability) -> list[str]:
    return [READABILITY_DEFECTS_FR.get(d, d) for d in r.defects]


def looks_like_care_sheet(image: np.ndarray) -> float:
    return _layout_score(image)


def read_care_sheet(page: Page, settings: Settings, manifest, crops_dir: Path | None) -> CareSheetFacts:
    return _read_care_sheet(page, settings, expected_contract=manifest.contract_number,
                            expected_animal=manifest.animal_name, crops_dir=crops_dir)


def read_invoice(texts: list[PageText], pages: list[Page], settings: Settings,
                 cache_dir: Path | None = None) -> InvoiceFacts:
    """The invoice's fields; a SIRET not read at once gets a second, closer look at its lines.
    `pages[i]`: the page `texts[i]` was read from."""
    def ocr_image_of(i: int) -> np.ndarray | None:  # what read_page gave Tesseract, made again for this page only
        return None if pages[i].image is None else _ocr_ready(pages[i].image, pages[i].dpi)

    return reread_siret(_read_invoice(texts), texts, ocr_image_of, settings, cache_dir)
