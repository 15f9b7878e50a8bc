"""One run's side of the queue: claim while a worker slot is free, file each dossier when it is done.

Plain bookkeeping, no Prefect: the flow submits the claimed dossiers and hands back
whatever handle it got (a future), so the rules live here and can be tested alone.
Claiming only when a slot is free leaves the rest of the inbox to other runs.
"""
from __future__ import annotations

import logging
from collections.abc import Hashable, Iterator
from pathlib import Path

from inbox.archive import archive
from inbox.claim import Owner, claim, claimable, recover, release
from inbox.ledger import count_crash

log = logging.getLogger(__name__)


def recover_crashed(inbox: Path, out: Path, owner: Owner, archive_root: Path | None) -> list[tuple[str, int]]:
    """Give dead runs' claims back to the inbox, counting one crash for each: (name, crashes so far;
    0 when the count could not be written, a full output disk say: the dossier is back all the same)."""
    counted = []
    for name in recover(inbox, owner, archive_root):
        try:
            counted.append((name, count_crash(out, name)))
        except OSError as exc:
            log.error("dossier %s: crash not counted (%s)", name, exc.strerror)
            counted.append((name, 0))
    return counted


def file_dossier(claimed: Path, inbox: Path, archive_root: Path | None, decision: str, owner: Owner) -> str | None:
    """Archive a decided dossier under its decision and return where, relative to the archive;
    with no archive, give it back to the inbox and return None."""
    if archive_root is None:
        release(claimed, inbox)
        return None
    return str(archive(claimed, archive_root, decision, owner).relative_to(archive_root))


class Feed:
    """The inbox's ready dossiers (listed once, at the start) claimed one free slot at a time.

    `seen` counts the dossiers finished or taken by another run, for the progress bar.
    """

    def __init__(self, inbox: Path, out: Path, owner: Owner, slots: int, cores: int | None = None):
        self.inbox, self.out, self.owner, self.slots = inbox, out, owner, slots
        self.cores = cores or slots  # what the dossiers in flight share (cores_per_dossier)
        self.names = claimable(inbox)
        self._pending = iter(self.names)
        self.in_flight: dict[Hashable, tuple[str, Path]] = {}
        self.seen = 0
        self.taken = 0  # names of `names` already handed out by `claims` (claimed or not)

    def claims(self) -> Iterator[tuple[str, Path | None]]:
        """While a slot is free, claim the next dossier: (name, claimed folder), or (name, None) when
        another run has it. Pass each claimed one to `started` before taking the next."""
        while len(self.in_flight) < self.slots:
            name = next(self._pending, None)
            if name is None:
                return
            self.taken += 1
            claimed = claim(self.inbox, name, self.owner)
            if claimed is None:
                self.seen += 1
            yield name, claimed

    def started(self, handle: Hashable, name: str, claimed: Path) -> None:
        """The claimed dossier is being processed under `handle` (it holds a slot)."""
        self.in_flight[handle] = (name, claimed)

    def finished(self, handle: Hashable) -> tuple[str, Path]:
        """The dossier under `handle` is done (or failed): its slot is free; returns (name, claimed folder)."""
        self.seen += 1
        return self.in_flight.pop(handle)

    def give_back(self, name: str, claimed: Path, crash: bool = True) -> None:
        """Its processing failed: put it back for the next run, counting a crash unless `crash` is False
        (the machine failed, not the dossier). The dossier goes back first: counting may fail on a full disk."""
        if claimed.exists():
            release(claimed, self.inbox)
            if crash:
                try:
                    count_crash(self.out, name)
                except OSError as exc:
                    log.error("dossier %s: crash not counted (%s)", name, exc.strerror)

    def cores_per_dossier(self) -> int:
        """The cores the next dossier may use for its pages and its Tesseract processes.

        Each dossier is read in its own child process, and a child's cap on Tesseract processes
        (extractors.pages.ocr.tesseract_slots) is its own: so the cores are shared out here, one
        each when the inbox keeps every slot busy, more for the last dossiers of a run.
        """
        running = min(self.slots, len(self.in_flight) + 1 + (len(self.names) - self.taken))
        return max(1, self.cores // max(1, running))

    @property
    def progress(self) -> float:
        """Percent of the dossiers listed at the start that are finished or taken by another run."""
        return 100.0 * self.seen / max(1, len(self.names))
