"""The inbox's shape (contract §1): the manifest's name, the upload slots, what a manifest says,
which folders are ready, and the id-to-file-name folding used for results and artifacts.

Records and pure helpers only; parsing a manifest is the pipeline's first step
(`pipeline.manifest`), claiming folders is the queue's (`inbox`).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "manifest.json"
SLOTS = ("care_sheet", "invoice", "other")
_ID_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
KEY_HASH_CHARS = 10  # hex digits of sha256 in a folded folder's key: 40 bits, readable, no accidental clash
# 255 bytes make a file name; '<key>.json' and atomic_write's '.<key>.json.<12 hex>.tmp' beside it must fit
KEY_MAX_CHARS = 120
_HASHED_KEY = re.compile(rf".*-[0-9a-f]{{{KEY_HASH_CHARS}}}")  # the shape of a key that carries a hash


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
    """Dossier folders of the inbox (real folders, not links) whose manifest.json exists, sorted by name."""
    if not inbox.is_dir():
        return []
    # a link is no dossier (it would be read, claimed and archived where it points): lstat, never followed
    return sorted(p for p in inbox.iterdir() if not p.is_symlink() and p.is_dir() and (p / MANIFEST).is_file())


def safe_id(text: str) -> str:
    """A dossier id usable in file names (artifacts, result files)."""
    return _ID_SAFE.sub("_", text).strip("._") or "dossier"


def results_key(name: str) -> str:
    """The key of a dossier folder's saved state (result file, ledger, artifacts): one name per folder.

    The folder name itself when `safe_id` leaves it unchanged, else `safe_id(name)-<hash of the exact
    name>`, so `D 1` and `D_1`, `D-é` and `D-è` never share a key; a name past KEY_MAX_CHARS is cut
    there, hash included, so `<key>.json` and the temporary files beside it fit a file name. A plain name that merely looks like a
    hashed key (`X-0123456789`) is hashed too, so a plain key and a hashed key never meet.
    """
    folded = safe_id(name)
    if folded == name and not _HASHED_KEY.fullmatch(name) and len(name) <= KEY_MAX_CHARS:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:KEY_HASH_CHARS]
    return f"{folded[:KEY_MAX_CHARS - KEY_HASH_CHARS - 1]}-{digest}"


def printable(text: str) -> str:
    """`text` as UTF-8 can write it: a lone surrogate (a JSON escape, or a file name's undecodable
    byte) becomes its backslash escape instead of breaking every file it is written to."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
