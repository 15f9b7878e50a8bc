"""The per-page and per-document stages the dossier pipeline calls, in one place.

Each later capability (normalisation, readability, care-sheet checks, invoice
fields) plugs in here; until its module exists the stage is a neutral pass
that never invents a fact (flags stay None, so their rules cannot fire).
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from intake.records import CareSheetFacts, InvoiceFacts, Page, PageText, Readability
from intake.settings import Settings

try:
    from extractors.normalise import normalise_page, ocr_ready as _ocr_ready
except ImportError:  # pragma: no cover - until the normalisation stage lands
    normalise_page = None
    _ocr_ready = None

try:
    from extractors.readability import READABILITY_DEFECTS_FR, score_readability
except ImportError:  # pragma: no cover
    score_readability = None
    READABILITY_DEFECTS_FR = {}

try:
    from extractors.care_sheet import looks_like_care_sheet as _layout_score, read_care_sheet as _read_cs
except ImportError:  # pragma: no cover
    _layout_score = None
    _read_cs = None

try:
    from extractors.invoice import read_invoice as _read_invoice
except ImportError:  # pragma: no cover
    _read_invoice = None


def normalise(page: Page, settings: Settings) -> Page:
    return normalise_page(page, settings) if normalise_page else page


def ocr_ready(image: np.ndarray) -> np.ndarray:
    if _ocr_ready:
        return _ocr_ready(image)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def readability(page: Page, settings: Settings) -> Readability:
    if page.text_layer is not None:
        return Readability(1.0)  # born digital: nothing to read badly
    if score_readability is None:
        return Readability(1.0, (), {"unscored": 1.0})
    return score_readability(page.image, settings)


def defects_fr(r: Readability) -> list[str]:
    return [READABILITY_DEFECTS_FR.get(d, d) for d in r.defects]


def looks_like_care_sheet(image: np.ndarray) -> float:
    return _layout_score(image) if _layout_score else 0.0


def read_care_sheet(page: Page, settings: Settings, manifest, crops_dir: Path | None) -> CareSheetFacts:
    if _read_cs is None:
        return CareSheetFacts()
    return _read_cs(page, settings, expected_contract=manifest.contract_number,
                    expected_animal=manifest.animal_name, crops_dir=crops_dir)


def read_invoice(texts: list[PageText]) -> InvoiceFacts:
    return _read_invoice(texts) if _read_invoice else InvoiceFacts()
