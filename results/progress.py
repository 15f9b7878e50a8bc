"""A progress bar for a person at a terminal, and silence everywhere else.

Shown only when stderr is a terminal, outside CI, and outside a Prefect flow-run process
(Prefect 3's workers and runners start each flow run with PREFECT__FLOW_RUN_ID set:
prefect/workers/base.py, prefect/runner/runner.py). Logs and captured output stay clean.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

# Set by CI services (GitHub Actions, GitLab…) and by Prefect 3 in a flow run's process.
QUIET_ENV = ("CI", "PREFECT__FLOW_RUN_ID")


def interactive() -> bool:
    """True when a person is watching stderr: a TTY, not CI, not a Prefect flow run."""
    stream = sys.stderr
    is_tty = bool(getattr(stream, "isatty", None)) and stream.isatty()
    return is_tty and not any(os.environ.get(name) for name in QUIET_ENV)


def progress(iterable: Iterable[T], total: int, label: str) -> Iterator[T]:
    """Yield the items of `iterable`, drawing a rich bar on stderr when `interactive()`."""
    if not interactive():
        yield from iterable
        return
    from rich.console import Console
    from rich.progress import track

    yield from track(iterable, total=total, description=label, console=Console(stderr=True), transient=True)


class Bar:
    """A bar advanced by hand (`bar.advance()`), for work that is not one iterable: the dossiers of an
    inbox run finishing in any order. Drawn only when `interactive()`; a no-op otherwise."""

    def __init__(self, total: int, label: str):
        self._progress = None
        if interactive() and total > 0:
            from rich.console import Console
            from rich.progress import Progress

            self._progress = Progress(console=Console(stderr=True), transient=True)
            self._task = self._progress.add_task(label, total=total)

    def __enter__(self) -> "Bar":
        if self._progress is not None:
            self._progress.start()
        return self

    def advance(self, n: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
