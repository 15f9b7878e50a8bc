"""Archiving: a decided dossier moves to `<archive>/<decision>/<folder>`, never over an earlier one.

On one filesystem the move is one rename; across filesystems the folder is copied
to a partial name, synced and renamed, so the archive never holds half a dossier.
A symbolic link inside a dossier (a client's upload may hold one pointing anywhere)
is copied as a link, never followed: its target is neither read nor copied.
"""
from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # claim.py imports this module; the owner is only read here
    from inbox.claim import Owner

PARTIAL = ".partial-"  # a cross-filesystem copy being made; never a finished archive entry


def archive(claimed: Path, archive_root: Path, decision: str, owner: Owner) -> Path:
    """Move a processed dossier to <archive>/<decision>/<folder> (a new name if that exists)."""
    dest_dir = archive_root / decision
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = free_name(dest_dir, claimed.name)
    move_dir(claimed, dest, owner)
    return dest


def free_name(parent: Path, name: str) -> Path:
    """parent/name, or parent/name~2, name~3 ... : the first that does not exist yet."""
    dest, n = parent / name, 1
    while dest.exists():
        n += 1
        dest = parent / f"{name}~{n}"
    return dest


def move_dir(src: Path, dest: Path, owner: Owner) -> None:
    """Atomic rename; across filesystems copy to a partial name, fsync, rename, then delete the source."""
    try:
        os.rename(src, dest)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    partial = dest.parent / f"{PARTIAL}{owner.name}-{dest.name}"
    if partial.exists():
        shutil.rmtree(partial)
    try:
        shutil.copytree(src, partial, symlinks=True)  # links as links: never read what they point to
        for root, _dirs, files in os.walk(partial):  # os.walk does not descend into linked folders
            for f in files:
                if not os.path.islink(os.path.join(root, f)):
                    _fsync(Path(root) / f)
            _fsync(Path(root))
        os.rename(partial, dest)
    except BaseException:  # a full archive disk, say: no half copy left, the source is untouched
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _fsync(dest.parent)
    shutil.rmtree(src)


def remove_partials(archive_root: Path, owner_names: set[str]) -> None:
    """Delete the half-made copies that the runs named `owner_names` left in the archive."""
    if not archive_root.is_dir():
        return
    for partial in archive_root.glob(f"*/{PARTIAL}*"):
        if any(partial.name.startswith(f"{PARTIAL}{d}-") for d in owner_names):
            shutil.rmtree(partial, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
