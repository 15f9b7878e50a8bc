"""The ledger (`<out>/ledger/`): which upload each saved result belongs to, and how often runs died on it.

`<folder>.json` holds the fingerprint of the folder's files that the saved result
was made from: a dossier whose result was saved but which was never moved is
archived without being read again. `<folder>.crashes` counts the runs that died
while holding the folder, so a dossier that kills every run is not read forever.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

from core.files import atomic_write
from core.inbox import results_key

LEDGER = "ledger"  # <out>/ledger/: beside the results it vouches for, so both travel with the output folder
RESULTS_DIR = "results"  # = results.store.RESULTS_DIR, which this floor may not import (siblings)


def fingerprint(folder: Path) -> str:
    """Hash of the folder's file names, sizes and modification times (a rename keeps them).

    By lstat, never following a link: a symlink counts by its own name and target text, and what it
    points to (outside the dossier, maybe) is never looked at.
    """
    h = hashlib.sha256()
    entries = []
    for root, dirs, files in os.walk(folder):  # does not descend into linked folders
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            entries.append(Path(root) / name)
    for p in sorted(entries):
        st = os.lstat(p)
        rel = str(p.relative_to(folder)).encode("utf-8", "surrogateescape")
        if stat.S_ISLNK(st.st_mode):
            h.update(b"L|" + rel + b"|" + os.fsencode(os.readlink(p)) + b"\n")
        elif stat.S_ISREG(st.st_mode):
            h.update(rel + f"|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _ledger_path(out: Path, name: str) -> Path:
    return out / LEDGER / f"{results_key(name)}.json"


def _crashes_path(out: Path, name: str) -> Path:
    return out / LEDGER / f"{results_key(name)}.crashes"


def remember(out: Path, name: str, fp: str, decision: str, dossier_id: str) -> None:
    """Record that the result saved for folder `name` was made from the upload `fp`."""
    path = _ledger_path(out, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps({"fingerprint": fp, "decision": decision, "dossier_id": dossier_id}))


def already_decided(out: Path, name: str, fp: str) -> dict | None:
    """The ledger entry when this very upload was already decided and its result saved."""
    path = _ledger_path(out, name)
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    result_file = out / RESULTS_DIR / f"{results_key(name)}.json"
    return entry if entry.get("fingerprint") == fp and result_file.is_file() else None


def count_crash(out: Path, name: str) -> int:
    """One more run died while holding this dossier; returns how many have so far."""
    path = _crashes_path(out, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        n = int(path.read_text() or 0) + 1
    except (OSError, ValueError):
        n = 1
    path.write_text(str(n))
    return n


def crashes(out: Path, name: str) -> int:
    """How many runs died while holding this dossier (0 when none, or the count is unreadable)."""
    try:
        return int(_crashes_path(out, name).read_text() or 0)
    except (OSError, ValueError):
        return 0


def forget_crashes(out: Path, name: str) -> None:
    """The dossier's result is saved: its crash count starts again from zero."""
    _crashes_path(out, name).unlink(missing_ok=True)
