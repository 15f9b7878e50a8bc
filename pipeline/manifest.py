"""Reading a dossier's manifest (contract §1): the pipeline's first step.

A folder without manifest.json is still uploading and is never touched. A bad
manifest is a finding, not a crash: we then read whatever files the folder holds.
No path ever resolves outside the dossier folder.
"""
from __future__ import annotations

import json
import os
import stat
import unicodedata
from pathlib import Path

from core.inbox import MANIFEST, SLOTS, DocumentEntry, Manifest, printable

# A manifest names at most a few dozen files (~100 bytes each); anything past 1 MiB is not one.
MAX_MANIFEST_BYTES = 1024 * 1024
# What reading a hostile manifest or file name can raise: bad JSON or text (ValueError, of which
# UnicodeError), nesting deeper than the parser's stack (RecursionError), a symlink loop (RuntimeError
# from Path.resolve), the file system (OSError).
_BAD_INPUT = (ValueError, RecursionError, RuntimeError, OSError)


def _on_disk(root: Path, candidate: Path) -> Path:
    """`root / candidate`, or the name on disk that differs from it only by Unicode normalisation (a
    name written NFD, as macOS does, while the manifest says NFC, or the other way round)."""
    path = root / candidate
    if os.path.lexists(path) or len(candidate.parts) != 1:
        return path
    want = unicodedata.normalize("NFC", candidate.name)
    for entry in os.scandir(root):
        if unicodedata.normalize("NFC", entry.name) == want:
            return root / entry.name
    return path


def _resolve(folder: Path, name: object) -> tuple[Path | None, str | None]:
    """The file's path inside the folder, or why the entry is refused: outside the folder, a link,
    anything but a regular file (a FIFO, a device, a folder) is refused, never followed."""
    if not isinstance(name, str) or not name.strip():
        return None, "entrée sans nom de fichier"
    if "\x00" in name:
        return None, f"nom de fichier invalide ({printable(repr(name))})"
    candidate = Path(name)
    if candidate.is_absolute() or ".." in candidate.parts:
        return None, f"chemin hors du dossier refusé ({printable(name)})"
    try:
        root = folder.resolve()
        path = _on_disk(root, candidate)
        resolved = path.resolve()
        if root not in resolved.parents:  # symlinks pointing out of the dossier too
            return None, f"chemin hors du dossier refusé ({printable(name)})"
        if not os.path.lexists(path):
            return path, None  # absent: the loader says so, as FILE_UNREADABLE
        mode = os.lstat(path).st_mode
    except _BAD_INPUT as exc:
        return None, f"nom de fichier invalide ({exc.__class__.__name__})"
    if stat.S_ISLNK(mode):
        return None, f"lien symbolique refusé ({printable(name)})"
    if not stat.S_ISREG(mode):
        return None, f"pas un fichier ordinaire, refusé ({printable(name)})"
    return path, None


def _folder_files(folder: Path) -> tuple[DocumentEntry, ...]:
    """Every regular file of the folder but the manifest, when the manifest cannot tell us."""
    entries = []
    try:
        listed = sorted(folder.iterdir())
    except _BAD_INPUT:
        return ()
    for p in listed:
        if p.name == MANIFEST or p.name.startswith(".") or not p.is_file() or p.is_symlink():
            continue
        path, _ = _resolve(folder, p.name)
        if path is not None:
            entries.append(DocumentEntry(printable(p.name), "other", path))
    return tuple(entries)


def _text_or_none(data: dict, key: str, problems: list[str]) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, int)):
        problems.append(f"champ « {key} » invalide")
        return None
    return printable(str(value)).strip() or None


def read_manifest(folder: Path) -> Manifest:
    """Parse and validate a dossier's manifest. Never raises: problems are listed."""
    problems: list[str] = []
    try:
        if (folder / MANIFEST).is_symlink():  # it would read whatever it points to, outside the dossier
            return _broken(folder, "manifest.json est un lien symbolique : refusé")
        fd = os.open(folder / MANIFEST, os.O_RDONLY | os.O_NOFOLLOW)  # and no link swapped in meanwhile
        with os.fdopen(fd, "rb") as fh:  # never more than the limit in memory
            raw = fh.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES:
            return _broken(folder, f"manifest.json trop volumineux (plus de {MAX_MANIFEST_BYTES // 1024} Kio)")
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except UnicodeDecodeError:
        return _broken(folder, "manifest.json n'est pas en UTF-8")
    except _BAD_INPUT as exc:
        return _broken(folder, f"manifest.json illisible ({exc.__class__.__name__})")
    try:
        return _parsed(folder, data, problems)
    except _BAD_INPUT as exc:  # a value of a kind no check foresaw: still a broken manifest, not a crash
        return _broken(folder, f"manifest.json invalide ({exc.__class__.__name__})")


def _broken(folder: Path, why: str) -> Manifest:
    """A manifest we cannot use: the folder's own files are read instead, and the problem is reported."""
    return Manifest(folder, printable(folder.name), documents=_folder_files(folder), problems=(why,))


def _parsed(folder: Path, data: dict, problems: list[str]) -> Manifest:
    """The manifest's fields, each checked; every problem is listed for the operator."""
    dossier_id = _text_or_none(data, "dossier_id", problems)
    if dossier_id is None:
        problems.append("champ « dossier_id » absent")
        dossier_id = printable(folder.name)

    docs_raw = data.get("documents")
    entries: list[DocumentEntry] = []
    if not isinstance(docs_raw, list) or not docs_raw:
        # An empty list from a folder holding nothing else is a request sent without documents (the
        # MISSING rules say so); a missing list, or files the list does not name, is a broken manifest.
        entries = list(_folder_files(folder))
        if not isinstance(docs_raw, list) or entries:
            problems.append("liste « documents » absente ou vide")
    else:
        for item in docs_raw:
            if not isinstance(item, dict):
                problems.append("entrée de « documents » invalide")
                continue
            slot = item.get("slot")
            if slot not in SLOTS:
                problems.append(printable(f"emplacement inconnu ({slot!r}) pour {item.get('file')!r}"))
                slot = "other"
            path, why = _resolve(folder, item.get("file"))
            if why:
                problems.append(why)
                continue
            entries.append(DocumentEntry(printable(str(item["file"])), slot, path))

    return Manifest(
        folder=folder,
        dossier_id=dossier_id,
        submitted_at=_text_or_none(data, "submitted_at", problems),
        contract_number=_text_or_none(data, "contract_number", problems),
        animal_name=_text_or_none(data, "animal_name", problems),
        documents=tuple(entries),
        problems=tuple(problems),
    )
