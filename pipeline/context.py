"""What the pipeline's steps share: the reader a dossier is read with, and the dossier's context.

`Reader` is fixed for a dossier (settings, the OCR engine, where its crops and
thumbnails go); `DossierContext` is what the steps of `pipeline.dossier`
fill in, one after the other. Both live inside the worker: what leaves it is the
`DossierResult` the last step builds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from extractors.pages.ocr import OcrEngine, engine_for, second_engine_for
from core.inbox import Manifest
from core.records import Decision, DocumentResult, Finding
from core.settings import Settings


@dataclass(frozen=True)
class Reader:
    """How a dossier is read: the settings, the OCR engine, the folder of its crops and thumbnails."""

    settings: Settings
    ocr: OcrEngine
    artifacts: Path | None = None  # None: no crops or thumbnails are written
    cache_dir: Path | None = None  # the OCR cache (the engine reads through it too)
    second: OcrEngine | None = None  # the second reading's engine (Settings.ocr_languages_second), or None
    zones: OcrEngine | None = None  # the care sheet's zones' engine (Settings.care_sheet_ocr_languages)

    @classmethod
    def create(cls, settings: Settings, *, cache_dir: Path | None = None,
               artifacts: Path | None = None) -> "Reader":
        cache_dir = cache_dir or settings.ocr_cache_dir
        return cls(settings, engine_for(settings, cache_dir), artifacts, cache_dir,
                   second_engine_for(settings, cache_dir),
                   engine_for(settings, cache_dir, settings.care_sheet_ocr_languages))


@dataclass
class DossierContext:
    """One dossier as its steps fill it in (see `pipeline.dossier.STEPS`)."""

    folder: Path
    reader: Reader
    manifest: Manifest | None = None
    documents: list[DocumentResult] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (file, why): files no reader opens
    machine_findings: list[Finding] = field(default_factory=list)  # our own failures, per file
    # the files our machinery broke on, typed by their slot: no rule may call them missing or illegible
    broken: list[DocumentResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    decision: Decision | None = None


def now_iso() -> str:
    """The local time now, ISO 8601 to the second, with its offset."""
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
