"""The words of a PDF's text layer, parsed by pdfplumber in a child process with a deadline.

pdfminer (under pdfplumber) has no deadline of its own: 226 kB of compressed text operators keep it
busy for minutes (measured: > 60 s for 3 million `Tj`; a real clinic invoice takes < 1 s). No check
before parsing can tell such a file from a real one (it is small, one page, and poppler opens it in
milliseconds), so the parse always runs in a child process that is killed at the deadline.

The children are forked from a multiprocessing fork server: a single-threaded Python that has imported
pdfplumber (never a fork of our own threaded process). A fresh Python per PDF cost ~0.28 s of CPU
(interpreter + pdfplumber's import); a fork of the server costs a few milliseconds (bench/README.md,
"The text layer's child"). The inbox flow starts the server once (`start_server`, from
pipeline.dossier.warm_up) before it forks a child per dossier; those children use it (`_connect`)
rather than each starting its own.

`python -m extractors.pages.pdf_text FILE N` prints, as JSON, per page of the first N: its size in
points and its words (text, x0, x1, top, bottom).
"""
from __future__ import annotations

import io
import json
import multiprocessing
import os
import resource
import socket
import sys
import threading
import time
from multiprocessing import forkserver, popen_forkserver, reduction, resource_tracker, spawn, util
from multiprocessing.context import ForkServerProcess
from pathlib import Path

RawPage = tuple[float, float, list[dict]]  # width pt, height pt, words
PRELOAD = ["pdfplumber", "extractors.pages.pdf_text"]  # what the server imports once
CHILD_CPU = [0.0]  # CPU seconds the children spent parsing (they are the fork server's, not ours): benches



class _Popen(popen_forkserver.Popen):
    """multiprocessing's fork-server launch, without the main script: a spawned or fork-server child
    imports our `__main__` again (the CLI, pytest, a bench script: slow, or wrong when unguarded), and
    the child needs nothing of it. CPython 3.11's `_launch`, main-module entries left out."""

    def _launch(self, process_obj):
        prep_data = {k: v for k, v in spawn.get_preparation_data(process_obj._name).items()
                     if k not in ("init_main_from_path", "init_main_from_name")}
        buf = io.BytesIO()
        popen_forkserver.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            popen_forkserver.set_spawning_popen(None)
        self.sentinel, w = _connect(self._fds)
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Parse(ForkServerProcess):
    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


_CTX_LOCK = threading.Lock()  # held while the server starts: never across a fork (see the handlers below)
_ctx: multiprocessing.context.BaseContext | None = None
_OWNER: list[int | None] = [None]  # the pid of the process that started the running server


def _context() -> multiprocessing.context.BaseContext:
    """The fork-server context (made once), the server preloading pdfplumber."""
    global _ctx
    if _ctx is None:
        _ctx = multiprocessing.get_context("forkserver")
        _ctx.set_forkserver_preload(PRELOAD)
    return _ctx


def start_server() -> None:
    """The fork server running now (started, or again if it died), in this process: the dossiers'
    children forked from here use it, instead of each starting its own (a Python and pdfplumber's import,
    ~0.1 s per dossier). Raises OSError when it cannot start."""
    with _CTX_LOCK:
        _context()
        forkserver.ensure_running()
        _OWNER[0] = os.getpid()


def _connect(fds: list[int]) -> tuple[int, int]:
    """`forkserver.connect_to_new_process`, from whichever process. In a child forked from the process
    that started the server, that function's liveness check (a `waitpid` on the server, which is not the
    child's own) fails: the child connects to the inherited server directly, and starts its own only
    when that one is gone."""
    if _OWNER[0] not in (None, os.getpid()):
        try:
            return _connect_inherited(fds)
        except OSError:  # the server died: this process starts its own
            server = forkserver._forkserver
            server._forkserver_address = server._forkserver_alive_fd = server._forkserver_pid = None
    with _CTX_LOCK:
        got = forkserver.connect_to_new_process(fds)  # starts the server when there is none
        _OWNER[0] = os.getpid()
        return got


def _connect_inherited(fds: list[int]) -> tuple[int, int]:
    """CPython 3.11's `ForkServer.connect_to_new_process` without its `ensure_running`."""
    server = forkserver._forkserver
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(server._forkserver_address)
        parent_r, child_w = os.pipe()
        child_r, parent_w = os.pipe()
        try:
            reduction.sendfds(client, [child_r, child_w, server._forkserver_alive_fd,
                                       resource_tracker.getfd(), *fds])
            return parent_r, parent_w
        except BaseException:
            os.close(parent_r)
            os.close(parent_w)
            raise
        finally:
            os.close(child_r)
            os.close(child_w)


# No fork while this process starts its server: a child would inherit the locks held meanwhile (ours,
# the fork server's and the resource tracker's), and wait on them for ever.
os.register_at_fork(before=_CTX_LOCK.acquire, after_in_parent=_CTX_LOCK.release,
                    after_in_child=_CTX_LOCK.release)


# the memory a PDF helper process (the text layer's child, poppler) may take: a page of an ordinary PDF
# needs under 300 MB; a stream made to inflate to gigabytes is refused instead of swapping the machine
TOOL_MAX_BYTES = 1536 * 1024 * 1024


def _child(path: str, n: int, conn, timeout_s: float) -> None:
    # A PDF built to inflate to gigabytes (a "flate bomb") makes pdfminer allocate them: the child's own
    # address space is capped, its MemoryError is one more parse that failed (the pages are read by pixels)
    resource.setrlimit(resource.RLIMIT_AS, (TOOL_MAX_BYTES, TOOL_MAX_BYTES))
    # Its CPU too: the server is not in the dossier's process group, so a dossier killed at its limit
    # (inbox.deadline) does not take this parse with it; the kernel ends it past its own deadline.
    cpu_s = int(timeout_s) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    try:
        pages = _parse(path, n)
    except MemoryError:
        conn.send(("error", "MemoryError: the text layer needs more than the cap", time.process_time()))
    except Exception as exc:  # a PDF pdfminer cannot parse: the parent reads its pixels
        conn.send(("error", f"{exc.__class__.__name__}: {exc}"[:300], time.process_time()))
    else:
        conn.send(("ok", pages, time.process_time()))
    conn.close()


def raw_words(path: Path, n: int, timeout_s: float) -> list[RawPage] | None:
    """The first `n` pages' raw words, or None when the parse failed or ran past `timeout_s` (the text
    layer is then not used: the pages are read by their pixels). Raises nothing else."""
    with _CTX_LOCK:
        ctx = _context()  # the server is started by start_server, or by the first parse's connect
    deadline = time.monotonic() + timeout_s
    ours, theirs = ctx.Pipe(duplex=False)
    child = _Parse(target=_child, args=(str(path), n, theirs, timeout_s), daemon=True)
    try:
        child.start()
        theirs.close()  # so that a child dying without a word is an EOF here
        if not ours.poll(max(0.0, deadline - time.monotonic())):
            return None  # past the deadline: killed below
        status, pages, cpu = ours.recv()
        CHILD_CPU[0] += cpu
        return [(p["width"], p["height"], p["words"]) for p in pages] if status == "ok" else None
    except (EOFError, OSError):  # the child died, or could not be started
        return None
    finally:
        ours.close()
        if child.is_alive():
            child.kill()
        if child.pid is not None:
            child.join(5)


def _parse(path: str, n: int) -> list[dict]:
    import pdfplumber

    out = []
    with pdfplumber.open(path, password="") as pdf:
        for page in pdf.pages[:n]:
            words = page.extract_words(keep_blank_chars=False, use_text_flow=False, extra_attrs=["size"])
            out.append({"width": float(page.width), "height": float(page.height),
                        "words": [{k: (w[k] if k == "text" else float(w[k]))
                                   for k in ("text", "x0", "x1", "top", "bottom")} for w in words]})
    return out


def _main(path: str, n: int) -> None:
    json.dump(_parse(path, n), sys.stdout)


if __name__ == "__main__":
    _main(sys.argv[1], int(sys.argv[2]))
