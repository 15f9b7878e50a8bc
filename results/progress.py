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
