"""A dossier's time limit: its reading runs in a forked child process, killed when the limit passes.

Prefect's `timeout_seconds` on a thread-runner task raises an exception *into* the thread, which
Python only delivers between bytecodes: measured with a 1 s timeout, a pure-Python loop stopped at
1.0 s, but a task waiting on a subprocess (`sleep 5`, as on Tesseract or inside cv2/poppler C code)
became TimedOut only after 5 s, and the subprocess was not killed. A child process can be
killed: it gets its own process group, so killing that group also ends the Tesseract it started,
and the worker slot is really free. `fork`, not `spawn`: the child starts in milliseconds with
everything already imported. The child's log records travel back over the answer's pipe and are
handled in the calling thread, so they reach the same handlers as before (Prefect's API handler,
within the task run's context): a forked child has no thread to send them itself.
"""
from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from core.errors import IntakeError

T = TypeVar("T")
JOIN_S = 5  # after the answer (or the kill), wait this long at most for the child to be reaped
_PR_SET_PDEATHSIG = 1  # linux/prctl.h: the child is killed when the thread that forked it dies


class TimedOut(IntakeError):
    """The call ran past its limit and was killed."""

    def __init__(self, limit_s: float):
        super().__init__(f"killed after {limit_s:g} s")
        self.limit_s = limit_s


class ChildDied(IntakeError):
    """The child process died without answering (killed by a signal: the OOM killer, a segfault)."""


def call_with_limit(fn: Callable[..., T], limit_s: float, *args: object, **kwargs: object) -> T:
    """`fn(*args, **kwargs)` in a child process; its value, or its exception raised here.

    Raises TimedOut when it has not answered within `limit_s` (the child and everything it started
    are killed), ChildDied when it died without answering.
    """
    ctx = multiprocessing.get_context("fork")
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(writer, fn, args, kwargs), name="intake-dossier")
    child.start()
    writer.close()
    try:
        os.setpgid(child.pid, child.pid)  # the child does it too: whichever runs first wins the race
    except OSError:
        pass
    deadline = time.monotonic() + limit_s
    try:
        while True:
            if not reader.poll(max(0.0, deadline - time.monotonic())):
                raise TimedOut(limit_s)
            try:
                kind, payload = reader.recv()
            except EOFError:
                child.join(JOIN_S)
                raise ChildDied(f"child process ended with code {child.exitcode} without an answer") from None
            if kind == "log":  # a record the child logged: handled here, as if logged by this thread
                record = logging.makeLogRecord(payload)
                logging.getLogger(record.name).handle(record)
                continue
            ok, value = payload
            break
    finally:
        reader.close()
        _kill_group(child.pid)
        child.join(JOIN_S)
    if ok:
        return value
    raise value


def _kill_group(pid: int) -> None:
    """SIGKILL the child's process group (it and the Tesseract it runs); nothing when it is gone."""
    try:
        if os.getpgid(pid) == pid:  # never our own group, should the child not have got its own yet
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except OSError:
        pass  # already gone


def _forward_logs(writer, lock: threading.Lock) -> None:
    """In the child: every record a logger would handle goes to the parent instead (pickled plain)."""

    def handle(logger: logging.Logger, record: logging.LogRecord) -> None:
        if logger.disabled or not logger.filter(record):
            return
        data = dict(record.__dict__)
        data["msg"], data["args"] = record.getMessage(), None
        if record.exc_info:
            data["exc_text"] = logging.Formatter().formatException(record.exc_info)
        data["exc_info"] = None
        try:
            with lock:
                writer.send(("log", data))
        except Exception:  # noqa: BLE001 - a record that cannot travel is dropped, never the reading
            pass

    logging.Logger.handle = handle  # this process only: the child is a copy


def _child(writer, fn: Callable, args: tuple, kwargs: dict) -> None:
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    lock = threading.Lock()  # the reading may log from several threads (pages side by side)
    _forward_logs(writer, lock)
    try:  # if the run dies (kill -9), its children must not read on behind its back
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    try:
        answer = (True, fn(*args, **kwargs))
    except BaseException as exc:  # noqa: BLE001 - every outcome goes back to the parent
        answer = (False, exc)
    with lock:
        try:
            writer.send(("answer", answer))
        except Exception as exc:  # an answer that does not pickle: say so rather than die silently
            writer.send(("answer", (False, IntakeError(f"answer could not be sent back ({exc.__class__.__name__})"))))
    writer.close()
