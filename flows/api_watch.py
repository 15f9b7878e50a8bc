"""A run whose Prefect server is gone ends, instead of hanging in the client's retries.

Prefect's client retries every call for about a minute, and the flow engine, a task's retry and
the final state each make calls: a run whose server died mid-run waits on them for ever (measured:
still running 10 min after the server was killed, deaf to SIGINT). `ApiWatch` asks the API's
`/health` every `every_s`; once it has had no answer for `Settings.api_lost_s`, it calls `on_lost`
(the flow gives its claimed dossiers back to the inbox, uncounted: the outage is not theirs) and
ends the process with `ExitCode.INFRASTRUCTURE`. What was saved stays saved: a dossier decided
before the outage is filed by the next run from the ledger, never read twice.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
import urllib.request
from typing import Callable

from core.errors import ExitCode

log = logging.getLogger(__name__)
PROBE_TIMEOUT_S = 3.0
_ENDING = threading.Lock()  # the flow's watch and the launcher's may both see the loss: one acts


def api_reachable(api_url: str, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """Whether the API answers its health check now (one try, no retry: the client's own are the problem)."""
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout_s) as resp:
            return 200 <= resp.status < 300
    except (OSError, ValueError):  # refused, reset, timed out, DNS, HTTP error, a malformed URL
        return False


class ApiWatch:
    """Watch `api_url` in a daemon thread while the `with` block runs; see the module's docstring."""

    def __init__(self, api_url: str | None, lost_after_s: float, on_lost: Callable[[str], None],
                 every_s: float = 5.0, exit_process: bool = True):
        self.api_url, self.lost_after_s, self.every_s = api_url, lost_after_s, every_s
        self.on_lost, self.exit_process = on_lost, exit_process
        self.lost = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="intake-api-watch", daemon=True)

    def __enter__(self) -> "ApiWatch":
        if self.api_url:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=PROBE_TIMEOUT_S + 1)

    def _run(self) -> None:
        last_seen = time.monotonic()
        while not self._done.wait(self.every_s):
            if api_reachable(self.api_url):
                last_seen = time.monotonic()
                continue
            silent = time.monotonic() - last_seen
            if silent < self.lost_after_s:
                continue
            why = f"Prefect API {self.api_url} unreachable for {silent:.0f} s"
            self.lost.set()
            if not _ENDING.acquire(blocking=False):
                return  # the other watch is ending the process
            try:
                self.on_lost(why)
            except Exception:  # noqa: BLE001 - the process must end all the same; say what broke
                log.exception("giving the claimed dossiers back failed")
            print(f"intake: serveur Prefect injoignable depuis {silent:.0f} s : run arrêté (code "
                  f"{int(ExitCode.INFRASTRUCTURE)}) ; les dossiers en cours sont remis dans la boîte de réception, "
                  f"relancer quand le serveur répond", file=sys.stderr, flush=True)
            if self.exit_process:
                # not sys.exit: the threads stuck in the client's retries would hold the interpreter
                logging.shutdown()
                os._exit(int(ExitCode.INFRASTRUCTURE))
            _ENDING.release()  # in-process use (tests): the process goes on
            return
