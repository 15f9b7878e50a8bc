"""Reading a dossier's manifest (contract §1): the pipeline's first step.

A folder without manifest.json is still uploading and is never touched. A bad
manifest is a finding, not a crash: we then read whatever files the folder holds.
No path ever resolves outside the dossier folder.
"""
from __future__ import annotations

import json
from pathlib import Path

from intake.core.inbox import MANIFEST, SLOTS, DocumentEntry, Manifest


def _resolve(folder: Path, name: object) -> tuple[Path | None, str | None]:
    """The file's path inside the folder, or why the entry is refused."""
    if not isinstance(name, str) or not name.strip():
        return None, "entrée sans nom de fichier"
    if "\x00" in name:
        return None, f"nom de fichier invalide ({name!r})"
    candidate = Path(name)
    if candidate.is_absolute() or ".." in candidate.parts:
        return None, f"chemin hors du dossier refusé ({name})"
    root = folder.resolve()
    resolved = (root / candidate).resolve()
    if root not in resolved.parents:  # symlinks pointing out of the dossier too
        return None, f"chemin hors du dossier refusé ({name})"
    return resolved, None


def _folder_files(folder: Path) -> tuple[DocumentEntry, ...]:
    """Every regular file of the folder but the manifest, when the manifest cannot tell us."""
    entries = []
    for p in sorted(folder.iterdir()):
        if p.name == MANIFEST or not p.is_file() or p.name.startswith("."):
            continue
        path, _ = _resolve(folder, p.name)
        if path is not None:
            entries.append(DocumentEntry(p.name, "other", path))
    return tuple(entries)


def _text_or_none(data: dict, key: str, problems: list[str]) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, int)):
        problems.append(f"champ « {key} » invalide")
        return None
    return str(value).strip() or None


def read_manifest(folder: Path) -> Manifest:
    """Parse and validate a dossier's manifest. Never raises: problems are listed."""
    problems: list[str] = []
    try:
        raw = (folder / MANIFEST).read_bytes()
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except UnicodeDecodeError:
        return Manifest(folder, folder.name, documents=_folder_files(folder),
                        problems=("manifest.json n'est pas en UTF-8",))
    except (ValueError, OSError) as exc:
        return Manifest(folder, folder.name, documents=_folder_files(folder),
                        problems=(f"manifest.json illisible ({exc.__class__.__name__})",))

    dossier_id = _text_or_none(data, "dossier_id", problems)
    if dossier_id is None:
        problems.append("champ « dossier_id » absent")
        dossier_id = folder.name

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
                problems.append(f"emplacement inconnu ({slot!r}) pour {item.get('file')!r}")
                slot = "other"
            path, why = _resolve(folder, item.get("file"))
            if why:
                problems.append(why)
                continue
            entries.append(DocumentEntry(str(item["file"]), slot, path))

    return Manifest(
        folder=folder,
        dossier_id=dossier_id,
        submitted_at=_text_or_none(data, "submitted_at", problems),
        contract_number=_text_or_none(data, "contract_number", problems),
        animal_name=_text_or_none(data, "animal_name", problems),
        documents=tuple(entries),
        problems=tuple(problems),
    )
