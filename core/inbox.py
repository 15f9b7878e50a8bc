"""The inbox's shape (contract §1): the manifest's name, the upload slots, what a manifest says,
which folders are ready, and the id-to-file-name folding used for results and artifacts.

Records and pure helpers only; parsing a manifest is the pipeline's first step
(`pipeline.manifest`), claiming folders is the queue's (`inbox`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "manifest.json"
SLOTS = ("care_sheet", "invoice", "other")
_ID_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class DocumentEntry:
    file: str  # name as the client gave it
    slot: str  # care_sheet / invoice / other
    path: Path | None  # resolved inside the folder; None when the entry is refused


@dataclass(frozen=True, slots=True)
class Manifest:
    folder: Path
    dossier_id: str
    submitted_at: str | None = None
    contract_number: str | None = None
    animal_name: str | None = None
    documents: tuple[DocumentEntry, ...] = ()
    problems: tuple[str, ...] = field(default=())  # French, for the operator


def ready_dossiers(inbox: Path) -> list[Path]:
    """Dossier folders of the inbox whose manifest.json exists, sorted by name."""
    if not inbox.is_dir():
        return []
    return sorted(p for p in inbox.iterdir() if p.is_dir() and (p / MANIFEST).is_file())


def safe_id(text: str) -> str:
    """A dossier id usable in file names (artifacts, result files)."""
    return _ID_SAFE.sub("_", text).strip("._") or "dossier"
