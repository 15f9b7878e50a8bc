"""The OCR engine interface, and Tesseract behind it: nothing else starts an OCR.

Callers hold an `OcrEngine` and ask it for the words of an image (or a region of it)
and for a page's orientation; which engine runs is `Settings.ocr_engine`, so another
one can be measured side by side without touching a caller.

`Tesseract` runs the `tesseract` command once per image or region, French + English,
single-threaded (OMP_THREAD_LIMIT=1, given to each process it starts, never set in
our own environment: several times faster per page here and lets pages run in
parallel), with a timeout, bounded retries and a cache by content hash. It runs the
command pytesseract's `image_to_data` / `image_to_osd` run and parses their output
with pytesseract's own parsers; it starts the process itself because pytesseract
hands every process `os.environ` and cannot take an environment per call.

`TesserOcr` (`ocr_engine="tesserocr"`) is the same engine with libtesseract in our process
(`tess_api`): the same words, boxes, confidences and orientation without a process start and two
model loads per image (bench/README.md: ~20 % less CPU per page); the command stays the fallback.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from pytesseract.pytesseract import file_to_dict, osd_to_dict

from core.errors import InfrastructureError, OcrError
from core.files import atomic_write
from core.records import PageText, TextSource, Word
from core.settings import Settings
from extractors.pages import tess_api

log = logging.getLogger(__name__)

# Tesseract reads the page from a file. A PNG costs ~0.3 s of zlib per 200-dpi page (a fifth of
# the OCR's own time); an uncompressed PGM in RAM costs ~2 ms.
_TMP_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
# What tesseract prints when a language's .traineddata is not installed (4.x and 5.x)
MISSING_DATA_CUES = ("Failed loading language", "Error opening data file")
CACHE_VERSION = "v1"  # part of every cache key: bump it when what a cached reading means changes


class OcrEngine(Protocol):
    """What every OCR engine offers the readers. Boxes are in pixels of the image given."""

    name: str

    def read(self, image: np.ndarray, *, region: tuple[int, int, int, int] | None = None,
             psm: int | None = None) -> PageText:
        """The words of `image` (or of its region x0, y0, x1, y1); raises OcrError when it cannot."""

    def orientation(self, image: np.ndarray) -> tuple[int, float] | None:
        """(degrees to turn clockwise to make the page upright, confidence), or None."""

    def warm(self) -> None:
        """Load now what reading needs, in this process: before forking children that will read."""


_SLOTS: dict[int, threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


def tesseract_slots(n: int) -> threading.BoundedSemaphore:
    """At most `n` tesseract processes at once in this process, however many dossiers and pages
    run in threads: one single-threaded Tesseract per core, never more."""
    with _SLOTS_LOCK:
        return _SLOTS.setdefault(max(1, n), threading.BoundedSemaphore(max(1, n)))


@contextmanager
def _image_file(grey: np.ndarray):
    """The grey image as an uncompressed PGM file, removed afterwards."""
    fd, name = tempfile.mkstemp(suffix=".pgm", prefix="intake-ocr-", dir=_TMP_DIR)
    os.close(fd)
    try:
        if not cv2.imwrite(name, grey):
            raise OSError("could not write the page for Tesseract")
        yield name
    finally:
        try:
            os.unlink(name)
        except OSError:
            pass


def _parse(data: dict) -> tuple[Word, ...]:
    """Tesseract's TSV as a dict of columns -> words, numbered by (block, paragraph, line)."""
    words: list[Word] = []
    line_ids: dict[tuple[int, int, int], int] = {}
    for i, text in enumerate(data.get("text", ())):
        text = (str(text) if text is not None else "").strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        line = line_ids.setdefault(key, len(line_ids))
        words.append(Word(text=text, left=int(data["left"][i]), top=int(data["top"][i]),
                          width=int(data["width"][i]), height=int(data["height"][i]), conf=conf, line=line))
    return tuple(words)


def _shift(words: tuple[Word, ...], x0: int, y0: int, scale: float) -> tuple[Word, ...]:
    """Map boxes from the scaled crop back to the full image."""
    if scale == 1.0 and x0 == 0 and y0 == 0:
        return words
    return tuple(Word(w.text, int(round(w.left / scale)) + x0, int(round(w.top / scale)) + y0,
                      int(round(w.width / scale)), int(round(w.height / scale)), w.conf, w.line)
                 for w in words)


def _crop(image: np.ndarray, region: tuple[int, int, int, int] | None) -> tuple[np.ndarray, int, int]:
    """The region of `image` (clipped to it) and its top-left corner."""
    if region is None:
        return image, 0, 0
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (int(v) for v in region)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    return image[y0:y1, x0:x1], x0, y0


class _Cache:
    """Readings by content hash under one folder; a damaged or unwritable entry is never a failure."""

    def __init__(self, folder: Path | None):
        self.folder = Path(folder) if folder is not None else None

    def file(self, image: np.ndarray, key_text: str) -> Path | None:
        if self.folder is None:
            return None
        h = hashlib.sha256()
        h.update(f"{image.shape}|{image.dtype}|{key_text}|{CACHE_VERSION}".encode())
        h.update(np.ascontiguousarray(image).data)
        key = h.hexdigest()
        return self.folder / key[:2] / f"{key}.json"

    @staticmethod
    def get(path: Path | None) -> tuple[Word, ...] | None:
        if path is None or not path.exists():
            return None
        try:
            return tuple(Word(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in json.loads(path.read_text()))
        except (ValueError, IndexError, TypeError, OSError):
            return None  # recomputed

    @staticmethod
    def put(path: Path | None, words: tuple[Word, ...]) -> None:
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps([[w.text, w.left, w.top, w.width, w.height, w.conf, w.line]
                                           for w in words]))
        except OSError:
            pass  # the cache is an optimisation, never a failure


@dataclass(frozen=True)
class Tesseract:
    """The `tesseract` command as an OcrEngine (see the module docstring)."""

    languages: str = "fra+eng"
    psm: int = 11
    timeout_s: float = 60.0
    retries: int = 1
    max_side_px: int = 3600
    processes: int = 1  # tesseract processes at once in this process (one per core)
    cache_dir: Path | None = None
    command: str = "tesseract"
    name: str = "tesseract"

    @classmethod
    def from_settings(cls, settings: Settings, cache_dir: Path | None = None) -> "Tesseract":
        return cls(languages=settings.ocr_languages, psm=settings.ocr_psm, timeout_s=settings.ocr_timeout_s,
                   retries=settings.ocr_retries, max_side_px=settings.ocr_max_side_px,
                   processes=settings.workers, cache_dir=cache_dir or settings.ocr_cache_dir)

    def env(self) -> dict[str, str]:
        """The environment of each tesseract process: ours, single-threaded."""
        return {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def _run(self, path: str, args: list[str]) -> str:
        """One tesseract process on `path`, its standard output. Raises OcrError when this image could
        not be read (a timeout, an error exit), InfrastructureError when no image can be: the command
        or its language data is missing, or the process was killed (out of memory, an operator)."""
        try:
            done = subprocess.run([self.command, path, "stdout", *args], env=self.env(), stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=self.timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise OcrError(f"tesseract timed out after {self.timeout_s:g} s") from exc
        except OSError as exc:  # not installed, not executable
            raise InfrastructureError(f"tesseract could not start ({exc.__class__.__name__}: {exc.strerror})") from exc
        err = done.stderr.decode(errors="replace")
        if done.returncode < 0:
            raise InfrastructureError(f"tesseract killed by signal {-done.returncode}")
        if done.returncode != 0 and any(cue in err for cue in MISSING_DATA_CUES):
            raise InfrastructureError(f"tesseract language data missing ({self.languages})")
        if done.returncode != 0:
            raise OcrError(f"tesseract exited {done.returncode}: {err[-300:]}")
        return done.stdout.decode("utf-8", errors="replace")

    def _prepared(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """Grey, and scaled down to `max_side_px` (Tesseract gains nothing beyond): image, scale."""
        scale = 1.0
        if max(image.shape[:2]) > self.max_side_px:
            scale = self.max_side_px / max(image.shape[:2])
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return (cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image), scale

    def read(self, image: np.ndarray, *, region: tuple[int, int, int, int] | None = None,
             psm: int | None = None) -> PageText:
        psm = self.psm if psm is None else psm
        full_h, full_w = image.shape[:2]
        crop, x0, y0 = _crop(image, region)
        if crop.size == 0:
            return PageText((), TextSource.OCR, full_w, full_h)
        grey, scale = self._prepared(crop)
        cache_file = _Cache(self.cache_dir).file(grey, f"{self.languages}|{psm}")
        cached = _Cache.get(cache_file)
        if cached is not None:
            return PageText(_shift(cached, x0, y0, scale), TextSource.OCR, full_w, full_h)
        last: OcrError | None = None
        last_infra: InfrastructureError | None = None
        for attempt in range(self.retries + 1):
            try:
                tsv = self._tsv(grey, psm)
                break
            except InfrastructureError as exc:
                last_infra = exc
                log.warning("tesseract attempt %d failed: %s", attempt + 1, exc)
            except (OcrError, OSError) as exc:
                last_infra = None
                last = exc if isinstance(exc, OcrError) else OcrError(str(exc))
                log.warning("tesseract attempt %d failed: %s", attempt + 1, exc)
        else:
            if last_infra is not None:  # the last try too: this machine cannot OCR now
                raise last_infra
            raise OcrError(f"Tesseract failed: {last}")
        local = _parse(file_to_dict(tsv, "\t", -1))  # in the (scaled, cropped) image's pixels
        _Cache.put(cache_file, local)
        return PageText(_shift(local, x0, y0, scale), TextSource.OCR, full_w, full_h)

    def _tsv(self, grey: np.ndarray, psm: int) -> str:
        """Tesseract's TSV of one grey image, in one slot."""
        args = ["-l", self.languages, "-c", "tessedit_create_tsv=1", "--psm", str(psm), "--oem", "1"]
        with _image_file(grey) as path, tesseract_slots(self.processes):
            return self._run(path, args)

    def _osd(self, grey: np.ndarray) -> tuple[int, float] | None:
        with _image_file(grey) as path, tesseract_slots(self.processes):
            osd = osd_to_dict(self._run(path, ["-l", "osd", "--psm", "0"]))
        return int(osd.get("rotate", 0)), float(osd.get("orientation_conf", 0.0))

    def warm(self) -> None:
        """Nothing to load ahead: each call starts its own process (TesserOcr loads its engines here)."""

    def orientation(self, image: np.ndarray) -> tuple[int, float] | None:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        try:
            return self._osd(grey)
        except (OcrError, OSError):
            return None


_UNUSABLE: set[tuple[str | None, str]] = set()  # (tessdata, languages) tesserocr could not load
_SAID: set[str] = set()  # causes of a fallback already in the log
_FALLBACK_LOCK = threading.Lock()
_COMMAND = object()  # TesserOcr._in_process: the command reads this image


def _fresh_slots_in_child() -> None:
    """A forked child (a dossier's reading, inbox.deadline) starts with every slot free: a slot another
    thread of the parent held at the fork (warming its engines) belongs to a thread the child does not
    have, and would never be given back (its first OCR waited until the dossier's time limit)."""
    global _SLOTS_LOCK, _FALLBACK_LOCK
    _SLOTS.clear()
    _SLOTS_LOCK, _FALLBACK_LOCK = threading.Lock(), threading.Lock()


os.register_at_fork(after_in_child=_fresh_slots_in_child)


@dataclass(frozen=True)
class TesserOcr(Tesseract):
    """libtesseract in our process (tesserocr, extractors.pages.tess_api): the command's words, boxes and
    confidences without a process start and two model loads per image. Same scaling, cache, slots and
    retries; the timeout stops recognition at its deadline instead of killing a process.

    The command is the fallback: when tesserocr cannot be imported or an engine cannot be made (no
    library, no language data where it looks), the command reads every later image of those languages;
    when one call raises otherwise, the command reads that image. Said once in the log per cause. A page
    past its deadline is that page's OcrError either way (the command would take as long)."""

    name: str = "tesserocr"
    tessdata: str | None = None  # libtesseract's data folder; None: the one it was built with

    def _in_process(self, languages: str, call):
        """`call()` through libtesseract, or _COMMAND when the command must read instead (see the class)."""
        key = (self.tessdata, languages)
        if key in _UNUSABLE:
            return _COMMAND
        try:
            with tesseract_slots(self.processes):
                return call()
        except OcrError:
            raise
        except Exception as exc:  # noqa: BLE001 - InfrastructureError (not installed, no data) or the library's own
            lasting = isinstance(exc, InfrastructureError)
            cause = f"{type(exc).__name__}: {exc}"
            with _FALLBACK_LOCK:
                if lasting:
                    _UNUSABLE.add(key)
                said = cause in _SAID
                _SAID.add(cause)
            if not said:
                log.warning("tesserocr could not read (%s): the tesseract command reads %s", cause,
                            "from now on" if lasting else "this image")
        return _COMMAND

    def warm(self) -> None:
        """One engine per slot loaded now, before forks (tess_api.warm); the command's fallback if it cannot."""
        self._in_process(self.languages, lambda: tess_api.warm(self.languages, self.processes, self.tessdata))

    def _tsv(self, grey: np.ndarray, psm: int) -> str:
        got = self._in_process(self.languages, lambda: tess_api.tsv(grey, self.languages, psm, self.timeout_s,
                                                                    self.tessdata))
        return super()._tsv(grey, psm) if got is _COMMAND else got

    def _osd(self, grey: np.ndarray) -> tuple[int, float] | None:
        got = self._in_process("osd", lambda: tess_api.osd(grey, self.tessdata))
        return super()._osd(grey) if got is _COMMAND else got


ENGINES: dict[str, type[Tesseract]] = {"tesseract": Tesseract, "tesserocr": TesserOcr}  # Settings.ocr_engine


def engine_for(settings: Settings, cache_dir: Path | None = None, languages: str | None = None) -> OcrEngine:
    """The OCR engine `settings` names, reading through `cache_dir` (or Settings.ocr_cache_dir), in
    `languages` (None: Settings.ocr_languages)."""
    engine = ENGINES[settings.ocr_engine].from_settings(settings, cache_dir)
    return engine if languages is None else replace(engine, languages=languages)


def second_engine_for(settings: Settings, cache_dir: Path | None = None) -> OcrEngine | None:
    """The engine of the second reading (Settings.ocr_languages_second), or None when there is none."""
    wide = settings.ocr_languages_second
    return engine_for(settings, cache_dir, wide) if wide and wide != settings.ocr_languages else None


def warm_engines(settings: Settings) -> None:
    """Every engine a dossier may read with (each language set) loaded in this process, before forks."""
    for engine in (engine_for(settings), second_engine_for(settings),
                   engine_for(settings, languages=settings.care_sheet_ocr_languages)):
        if engine is not None:
            engine.warm()


def ocr_image(image: np.ndarray, settings: Settings, *, region: tuple[int, int, int, int] | None = None,
              psm: int | None = None, cache_dir: Path | None = None) -> PageText:
    """OCR with the engine `settings` names: for scripts and tests that hold settings, not an engine."""
    return engine_for(settings, cache_dir).read(image, region=region, psm=psm)
