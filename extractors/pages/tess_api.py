"""libtesseract inside our process (tesserocr): engines kept loaded between pages, handed out by slot.

The `tesseract` command pays a process start and the load of its models (fra + eng: ~0.2 s of CPU)
on every image and region. Here an engine (`tesserocr.PyTessBaseAPI`) is made once per OCR slot and
language set and lent to whichever thread holds the slot: the pipeline's page threads come and go
with each file (one pool per file), so an engine per thread would be loaded again for every file.
An engine is used by one thread at a time; the caller bounds how many run at once
(`ocr.tesseract_slots`), so no more engines exist than slots.

A dossier is read in a child forked for it (inbox.deadline): engines made there die with it, and
loading fra+eng again for every dossier costs ~0.4 s of CPU each (osd ~0.1 s). `warm` makes them in
the parent before the first fork; each child starts with them loaded (copy-on-write). The locks here
are taken around every fork (`os.register_at_fork`), so no child starts with one held.

The TSV is the one the command prints (`GetTSVText`, the renderer's own header), from the same grey
buffer the command reads from its PGM file, so both engines parse the same text.

Single-threaded OpenMP: Debian's libtesseract links libgomp, which reads OMP_THREAD_LIMIT once, when
it is loaded. The variable is put in our environment only for the import of tesserocr, and only when
this engine is chosen, then taken out again; when libgomp was already loaded by something else the
limit cannot be set any more and we say so in the log.
"""
from __future__ import annotations

import logging
import os
import threading
from contextlib import contextmanager
from types import ModuleType

import numpy as np

from core.errors import InfrastructureError, OcrError

log = logging.getLogger(__name__)

# What TessTsvRenderer writes before the first page (tesseract 5.x renderer.cpp)
TSV_HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
# GetOsdText's `Rotate:` from DetectOrientationScript's clockwise `orient_deg` (OrientationIdToValue)
_ROTATE = {0: 0, 90: 270, 180: 180, 270: 90}

_LOAD_LOCK = threading.Lock()
_lib: ModuleType | None = None


def _libgomp_loaded() -> bool:
    try:
        with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
            return any("libgomp" in line for line in maps)
    except OSError:
        return False


def library() -> ModuleType:
    """tesserocr, loaded with single-threaded OpenMP (see the module docstring). Raises
    InfrastructureError when it is not installed."""
    global _lib
    with _LOAD_LOCK:
        if _lib is not None:
            return _lib
        if _libgomp_loaded() and os.environ.get("OMP_THREAD_LIMIT") != "1":
            log.warning("libgomp is already loaded: libtesseract will run OpenMP with several threads")
        before = os.environ.get("OMP_THREAD_LIMIT")
        os.environ["OMP_THREAD_LIMIT"] = before or "1"
        try:
            import tesserocr
        except ImportError as exc:
            raise InfrastructureError(f"tesserocr is not installed ({exc})") from exc
        finally:
            if before is None:
                del os.environ["OMP_THREAD_LIMIT"]
        _lib = tesserocr
        return _lib


class _Pool:
    """Idle engines of one language set; a new one is made when all are lent out."""

    def __init__(self, languages: str, osd: bool, tessdata: str | None = None):
        self.languages, self.osd, self.tessdata = languages, osd, tessdata
        self.idle: list = []
        self.made = 0  # engines made by this process (idle or lent), for `warm`
        self.lock = threading.Lock()

    def _make(self):
        lib = library()
        where = {} if self.tessdata is None else {"path": self.tessdata}  # None: the data libtesseract was built with
        try:
            if self.osd:  # the command's `-l osd --psm 0` (its default engine mode: legacy, the only one osd has)
                return lib.PyTessBaseAPI(lang="osd", psm=lib.PSM.OSD_ONLY, **where)
            return lib.PyTessBaseAPI(lang=self.languages, oem=lib.OEM.LSTM_ONLY, **where)
        except RuntimeError as exc:  # tesserocr: "Failed to init API, possibly an invalid tessdata path"
            raise InfrastructureError(f"tesseract language data missing ({'osd' if self.osd else self.languages})") from exc

    @contextmanager
    def engine(self):
        with self.lock:
            api = self.idle.pop() if self.idle else None
        if api is None:
            api = self._make()
            with self.lock:
                self.made += 1
        ok = False
        try:
            yield api
            ok = True
        finally:
            if ok:
                api.Clear()  # drops the page's results and image, keeps the models
                with self.lock:
                    self.idle.append(api)
            else:
                api.End()  # an engine that failed mid-page is not lent again
                with self.lock:
                    self.made -= 1

    def warm(self, n: int) -> None:
        """At least `n` engines made (idle, unless some thread holds one)."""
        while True:
            with self.lock:
                if self.made >= n:
                    return
            api = self._make()
            with self.lock:
                self.made += 1
                self.idle.append(api)


_POOLS: dict[tuple[str, bool, str | None], _Pool] = {}
_POOLS_LOCK = threading.Lock()


def _pool(languages: str, osd: bool = False, tessdata: str | None = None) -> _Pool:
    with _POOLS_LOCK:
        return _POOLS.setdefault((languages, osd, tessdata), _Pool(languages, osd, tessdata))


_WARM_LOCK = threading.Lock()  # held through a warm-up: no fork while libtesseract loads (its own locks)


def warm(languages: str, n: int, tessdata: str | None = None) -> None:
    """`n` engines of `languages` and one OSD engine loaded in this process now (see the module docstring).
    Raises InfrastructureError as reading would."""
    with _WARM_LOCK:
        _pool(languages, tessdata=tessdata).warm(n)
        _pool("osd", osd=True, tessdata=tessdata).warm(1)


_HELD: list[threading.Lock] = []


def _before_fork() -> None:
    for lock in (_WARM_LOCK, _LOAD_LOCK, _POOLS_LOCK):
        lock.acquire()
    _HELD[:] = [_WARM_LOCK, _LOAD_LOCK, _POOLS_LOCK, *(p.lock for p in _POOLS.values())]
    for pool in _POOLS.values():
        pool.lock.acquire()


def _after_fork() -> None:
    for lock in reversed(_HELD):
        lock.release()
    _HELD.clear()


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork, after_in_child=_after_fork)


def _set_image(api, grey: np.ndarray) -> None:
    grey = np.ascontiguousarray(grey, dtype=np.uint8)
    h, w = grey.shape[:2]
    api.SetImageBytes(grey.tobytes(), w, h, 1, w)


def tsv(grey: np.ndarray, languages: str, psm: int, timeout_s: float, tessdata: str | None = None) -> str:
    """The TSV `tesseract PGM stdout -l languages --psm psm --oem 1 -c tessedit_create_tsv=1` prints.
    Raises OcrError when recognition ran past `timeout_s`: libtesseract stops at its deadline (the
    command's own `ETEXT_DESC` monitor) and the engine is used again; a page stuck in layout analysis,
    before the deadline is checked, cannot be stopped from outside a thread."""
    with _pool(languages, tessdata=tessdata).engine() as api:
        api.SetPageSegMode(psm)
        _set_image(api, grey)
        if not api.Recognize(timeout=max(1, int(timeout_s * 1000))):
            raise OcrError(f"tesseract timed out after {timeout_s:g} s")
        return TSV_HEADER + (api.GetTSVText(0) or "")


def osd(grey: np.ndarray, tessdata: str | None = None) -> tuple[int, float] | None:
    """What `tesseract PGM stdout -l osd --psm 0` prints as (Rotate, Orientation confidence), or None
    when it finds too little text to tell."""
    with _pool("osd", osd=True, tessdata=tessdata).engine() as api:
        _set_image(api, grey)
        found = api.DetectOrientationScript()
    if not found:
        return None
    return _ROTATE.get(int(found["orient_deg"]) % 360, 0), round(float(found["orient_conf"]), 2)
