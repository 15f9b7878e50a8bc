"""How long personal data we made ourselves is kept: the OCR cache (`<out>/.cache/ocr/xx/<sha>.json`).

Each cache entry holds the words of a client's page, so it is personal data: entries older than
`Settings.ocr_cache_retention_days` (by modification time: when the page was read) are deleted by
`intake purge OUT` and at the end of every `intake run`. A plain function over files, no Prefect.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings

DAY_S = 86_400.0


@dataclass(frozen=True)
class Purged:
    entries: int  # files deleted
    bytes: int  # their total size


def ocr_cache_dir(out: Path, settings: Settings) -> Path:
    """The OCR cache a run into `out` reads through (the rule of flows.inbox.decide_dossier)."""
    return Path(settings.ocr_cache_dir) if settings.ocr_cache_dir is not None else out / ".cache" / "ocr"


def purge_ocr_cache(folder: Path, older_than_days: float, now: float | None = None) -> Purged:
    """Delete the cache entries under `folder` last written more than `older_than_days` ago.

    Entries are `<folder>/<xx>/<sha>.json` (and the `.tmp` files a killed write left); a sub-folder
    left empty goes too. Returns how many files and bytes were deleted; a missing folder is 0, 0.
    """
    cutoff = (time.time() if now is None else now) - older_than_days * DAY_S
    entries = size = 0
    if not folder.is_dir():
        return Purged(0, 0)
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()):
        for entry in sub.iterdir():
            if not entry.is_file() or entry.is_symlink() or not entry.name.endswith((".json", ".tmp")):
                continue
            try:
                st = entry.stat()
                if st.st_mtime >= cutoff:
                    continue
                entry.unlink()
            except OSError:  # taken by another purge, or not ours to delete: the next purge tries again
                continue
            entries += 1
            size += st.st_size
        try:
            sub.rmdir()  # only when empty
        except OSError:
            pass
    return Purged(entries, size)
