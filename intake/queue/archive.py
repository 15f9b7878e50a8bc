"""The inbox as a work queue: claim a dossier atomically, archive it by decision, recover after a crash.

A ready dossier (one with manifest.json) is *claimed* by renaming its folder into
`<inbox>/.intake/processing/<owner>/`: one rename on one filesystem, so of two
runs (two workers, two machines sharing the inbox) exactly one wins and the
other gets FileNotFoundError. When done it is moved to `<archive>/<decision>/`
(or back to the inbox when no archive is given). A run killed with -9 leaves
its claims behind; the next run sees their owner is dead and puts them back.

The ledger (`<out>/ledger/<folder>.json`) remembers which upload (a fingerprint
of the folder's files) each saved result belongs to: a dossier whose result was
saved but which was never moved is archived without being read again.
"""
from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from intake.core.files import atomic_write
from intake.core.inbox import MANIFEST, ready_dossiers, safe_id

log = logging.getLogger(__name__)

WORK_DIR = ".intake"  # inside the inbox: a claim is a rename within one filesystem
PROCESSING = "processing"
LEDGER = "ledger"
PARTIAL = ".partial-"  # a cross-filesystem copy being made; never a finished archive entry
LEASE_S = 600.0  # a claim of another host whose heartbeat is older than this is stale
HEARTBEAT_S = 30.0


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
        dest = _free_name(inbox, claimed.name)
        os.rename(claimed, dest)
    return dest


def archive(claimed: Path, archive_root: Path, decision: str, owner: Owner) -> Path:
    """Move a processed dossier to <archive>/<decision>/<folder> (a new name if that exists)."""
    dest_dir = archive_root / decision
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = _free_name(dest_dir, claimed.name)
    move_dir(claimed, dest, owner)
    return dest


def _free_name(parent: Path, name: str) -> Path:
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
    shutil.copytree(src, partial)
    for root, _dirs, files in os.walk(partial):
        for f in files:
            _fsync(Path(root) / f)
        _fsync(Path(root))
    os.rename(partial, dest)
    _fsync(dest.parent)
    shutil.rmtree(src)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover(inbox: Path, owner: Owner, archive_root: Path | None = None, lease_s: float = LEASE_S) -> list[str]:
    """Give back to the inbox the dossiers claimed by dead runs; returns their names.

    A claim of this host is stale when its process is gone; of another host,
    when its heartbeat (the claim folder's mtime) is older than `lease_s`.
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
    if archive_root is not None and archive_root.is_dir() and dead:
        for partial in archive_root.glob(f"*/{PARTIAL}*"):
            if any(partial.name.startswith(f"{PARTIAL}{d}-") for d in dead):
                shutil.rmtree(partial, ignore_errors=True)  # the source is back in the inbox
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
        self._thread.join(timeout=5)
        for empty in (self.path, self.path.parent, self.path.parent.parent):  # leave no trace in the inbox
            try:
                empty.rmdir()  # fails while a claim (of this or another run) is still there
            except OSError:
                break


# --- the ledger: which upload each saved result belongs to -------------------------------------

def fingerprint(folder: Path) -> str:
    """Hash of the folder's file names, sizes and modification times (a rename keeps them)."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(folder)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _ledger_path(out: Path, name: str) -> Path:
    return out / LEDGER / f"{safe_id(name)}.json"


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
    result_file = out / "results" / f"{safe_id(name)}.json"
    return entry if entry.get("fingerprint") == fp and result_file.is_file() else None


def count_crash(out: Path, name: str) -> int:
    """One more run died while holding this dossier; returns how many have so far."""
    path = out / LEDGER / f"{safe_id(name)}.crashes"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        n = int(path.read_text() or 0) + 1
    except (OSError, ValueError):
        n = 1
    path.write_text(str(n))
    return n


def crashes(out: Path, name: str) -> int:
    try:
        return int((out / LEDGER / f"{safe_id(name)}.crashes").read_text() or 0)
    except (OSError, ValueError):
        return 0


def forget_crashes(out: Path, name: str) -> None:
    (out / LEDGER / f"{safe_id(name)}.crashes").unlink(missing_ok=True)
