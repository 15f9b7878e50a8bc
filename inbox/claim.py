"""Claiming: a ready dossier is taken by one run only, and given back when that run dies.

A ready dossier (one with manifest.json) is *claimed* by renaming its folder into
`<inbox>/.intake/processing/<owner>/`: one rename on one filesystem, so of two
runs (two workers, two machines sharing the inbox) exactly one wins and the
other gets FileNotFoundError. A run killed with -9 leaves its claims behind; the
next run sees their owner is dead and puts them back in the inbox.
"""
from __future__ import annotations

import errno
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from core.inbox import MANIFEST, ready_dossiers, safe_id
from inbox.archive import free_name, remove_partials

log = logging.getLogger(__name__)

WORK_DIR = ".intake"  # inside the inbox: a claim is a rename within one filesystem
PROCESSING = "processing"  # <inbox>/.intake/processing/<owner>/: one folder per run, so a dead run's claims are found
LEASE_S = 600.0  # a claim of another host whose heartbeat is older than this is stale (20 missed heartbeats)
HEARTBEAT_S = 30.0  # how often a run shows other hosts it is alive: well inside LEASE_S, and costs one utime
HEARTBEAT_JOIN_S = 5  # at the end of a run, wait this long at most for the heartbeat thread (a daemon anyway)


@dataclass(frozen=True, slots=True)
class Owner:
    """Who holds a claim: host, process id and the process's start time (pids are reused)."""

    host: str
    pid: int
    started: str

    @property
    def name(self) -> str:
        return f"{self.host}_{self.pid}_{self.started}"

    @classmethod
    def current(cls) -> "Owner":
        return cls(safe_id(socket.gethostname()).replace("_", "-"), os.getpid(), _start_ticks(os.getpid()))

    @classmethod
    def parse(cls, name: str) -> "Owner | None":
        host, _, rest = name.partition("_")
        pid, _, started = rest.partition("_")
        return cls(host, int(pid), started) if pid.isdigit() and started else None

    def alive(self) -> bool | None:
        """True/False for a process of this host; None when it runs elsewhere (cannot tell)."""
        if self.host != Owner.current().host:
            return None
        return _start_ticks(self.pid) == self.started


def _start_ticks(pid: int) -> str:
    """The process's start time in clock ticks since boot ('' when it does not exist)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the command name


def processing_dir(inbox: Path, owner: Owner) -> Path:
    """The folder holding `owner`'s claims in `inbox`."""
    return inbox / WORK_DIR / PROCESSING / owner.name


def claimable(inbox: Path) -> list[str]:
    """Names of the inbox's ready dossiers (manifest present), sorted; the work area excluded."""
    return [p.name for p in ready_dossiers(inbox) if not p.name.startswith(".")]


def claim(inbox: Path, name: str, owner: Owner) -> Path | None:
    """Move inbox/<name> into the owner's processing area. None: not ready, or another run won."""
    src = inbox / name
    if not (src / MANIFEST).is_file():
        return None  # still uploading, or already taken
    target = processing_dir(inbox, owner)
    target.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(src, target / name)
    except FileNotFoundError:
        return None  # another run renamed it first
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            log.warning("dossier %s: already in this run's processing area, not claimed again", name)
            return None
        raise
    return target / name


def release(claimed: Path, inbox: Path) -> Path:
    """Put a claimed dossier back in the inbox (no archive given, or not processed after all)."""
    dest = inbox / claimed.name
    try:
        os.rename(claimed, dest)
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        # The portal uploaded a new folder under the same name meanwhile: keep both.
        dest = free_name(inbox, claimed.name)
        os.rename(claimed, dest)
    return dest


def recover(inbox: Path, owner: Owner, archive_root: Path | None = None, lease_s: float = LEASE_S) -> list[str]:
    """Give back to the inbox the dossiers claimed by dead runs; returns their names.

    A claim of this host is stale when its process is gone; of another host,
    when its heartbeat (the claim folder's mtime) is older than `lease_s`. The
    half-made archive copies of the dead runs are removed from `archive_root`.
    """
    root = inbox / WORK_DIR / PROCESSING
    returned: list[str] = []
    dead: set[str] = set()
    for area in sorted(root.iterdir()) if root.is_dir() else []:
        other = Owner.parse(area.name)
        if other is None or other == owner:
            continue
        alive = other.alive()
        if alive is None:
            alive = time.time() - area.stat().st_mtime < lease_s
        if alive:
            continue
        dead.add(other.name)
        for claimed in sorted(area.iterdir()):
            if claimed.is_dir():
                back = release(claimed, inbox)
                returned.append(back.name)
                log.warning("dossier %s: claimed by a run that died (%s), back in the inbox", back.name, other.name)
        try:
            area.rmdir()
        except OSError:
            pass  # a stray file: leave it for a person to look at
    if archive_root is not None and dead:
        remove_partials(archive_root, dead)  # their sources are back in the inbox
    return returned


class Heartbeat:
    """Touches the owner's processing folder every `every_s` so other hosts see the claims are live."""

    def __init__(self, inbox: Path, owner: Owner, every_s: float = HEARTBEAT_S):
        self.path = processing_dir(inbox, owner)
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="intake-heartbeat", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                os.utime(self.path)
            except OSError:
                pass

    def __enter__(self) -> "Heartbeat":
        self.path.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=HEARTBEAT_JOIN_S)
        for empty in (self.path, self.path.parent, self.path.parent.parent):  # leave no trace in the inbox
            try:
                empty.rmdir()  # fails while a claim (of this or another run) is still there
            except OSError:
                break
