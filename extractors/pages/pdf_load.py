"""One PDF -> its pages: checked by poppler's `pdfinfo`, rendered one page at a time by `pdftoppm`,
each at the dpi its size allows within the pixel budgets, text layers parsed under a deadline (pdf_text).

Every poppler call runs with a timeout (a hostile file costs at most that); poppler missing from the
machine is InfrastructureError, never "PDF illisible". What no one can read is UnreadableFile (French).
"""
from __future__ import annotations

import io
import logging
import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from extractors.pages.pdf_text import TOOL_MAX_BYTES
from core.errors import InfrastructureError, UnreadableFile
from core.settings import Settings

log = logging.getLogger(__name__)

PDF_TAIL_BYTES = 2048  # a complete PDF ends with %%EOF within these last bytes (readers look in the last 1024)
PT_PER_INCH = 72.0
MM_PER_INCH = 25.4
DPI_MARGIN = 0.002  # a dpi fitted to a budget is lowered by this share until poppler's rounded-up sides fit
_PAGES = re.compile(rb"^Pages:\s+(\d+)", re.M)
_SIZE = re.compile(rb"^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts", re.M)
_ROT = re.compile(rb"^Page\s+(\d+) rot:\s+(\d+)", re.M)
_PASSWORD = (b"password", b"Incorrect password")


@dataclass(frozen=True)
class PdfPage:
    number: int  # 1-based
    width_in: float  # as displayed (rotation applied)
    height_in: float


PRLIMIT = shutil.which("prlimit") is not None  # util-linux, on every Debian


def _poppler(args: list[str], timeout_s: float) -> subprocess.CompletedProcess:
    """A poppler tool under a deadline and a memory cap (`prlimit`, util-linux, when the machine has it:
    a preexec_fn is not safe in our threaded process); its output captured."""
    capped = ["prlimit", f"--as={TOOL_MAX_BYTES}", "--", *args] if PRLIMIT and shutil.which(args[0]) else args
    try:
        return subprocess.run(capped, capture_output=True, timeout=timeout_s, check=False)
    except FileNotFoundError as exc:  # the tool is not installed: this machine cannot read any PDF now
        raise InfrastructureError(f"poppler missing: {args[0]} not found on PATH") from exc
    except subprocess.TimeoutExpired as exc:  # run() kills it
        raise UnreadableFile("PDF trop complexe pour être lu (délai dépassé)") from exc


def check_pdf(path: Path, settings: Settings) -> list[PdfPage]:
    """The pages of a PDF (sizes as displayed) after poppler opened it; UnreadableFile when it cannot."""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - PDF_TAIL_BYTES))
        if b"%%EOF" not in fh.read():
            raise UnreadableFile("PDF incomplet (le transfert semble interrompu)")
    # the empty user password opens a PDF with only an owner password: that PDF is read
    done = _poppler(["pdfinfo", "-upw", "", "-f", "1", "-l", str(settings.max_pages_per_file), str(path)],
                    settings.pdf_info_timeout_s)
    if done.returncode != 0:
        if any(p in done.stderr for p in _PASSWORD):
            raise UnreadableFile("PDF protégé par un mot de passe")
        raise UnreadableFile("PDF endommagé")
    count = _PAGES.search(done.stdout)
    n = int(count.group(1)) if count else 0
    if n == 0:
        raise UnreadableFile("PDF sans page")
    if n > settings.max_pages_per_file:
        raise UnreadableFile(f"PDF de {n} pages (au plus {settings.max_pages_per_file} acceptées)")
    rot = {int(k): int(v) for k, v in _ROT.findall(done.stdout)}
    pages = []
    for k, w, h in _SIZE.findall(done.stdout):
        w_in, h_in = float(w) / PT_PER_INCH, float(h) / PT_PER_INCH
        if rot.get(int(k), 0) % 180:
            w_in, h_in = h_in, w_in
        if max(w_in, h_in) * MM_PER_INCH > settings.max_page_side_mm:
            raise UnreadableFile(f"page PDF démesurée ({w_in * MM_PER_INCH:.0f}×{h_in * MM_PER_INCH:.0f} mm)")
        pages.append(PdfPage(int(k), w_in, h_in))
    if len(pages) != n:
        raise UnreadableFile("PDF endommagé (pages illisibles)")
    return pages


def page_dpis(pages: list[PdfPage], settings: Settings) -> list[float]:
    """The dpi each page is rendered at: Settings.render_dpi, lowered so that the page fits
    max_page_pixels and the file fits max_file_pixels; UnreadableFile when that is below min_render_dpi
    (print would be too small to read) or a page is too small to hold a line of print."""
    dpis = [min(float(settings.render_dpi), _fit(p, settings.max_page_pixels)) for p in pages]
    total = sum(d * d * p.width_in * p.height_in for d, p in zip(dpis, pages))
    if total > settings.max_file_pixels:
        k = math.sqrt(settings.max_file_pixels / total) * (1 - DPI_MARGIN)
        dpis = [d * k for d in dpis]
    for d, p in zip(dpis, pages):
        if d < settings.min_render_dpi:
            raise UnreadableFile("PDF démesuré (pages trop grandes pour être lues)")
        if min(p.width_in, p.height_in) * d < settings.min_image_side_px:
            raise UnreadableFile(f"page PDF {p.number} trop petite pour être lue")
    return dpis


def _fit(page: PdfPage, budget: int) -> float:
    """The highest dpi at which poppler's rendering of `page` (sides rounded up) stays within `budget` pixels."""
    dpi = math.sqrt(budget / (page.width_in * page.height_in))
    while (math.ceil(page.width_in * dpi) + 1) * (math.ceil(page.height_in * dpi) + 1) > budget:
        dpi *= 1 - DPI_MARGIN
    return dpi


def render_page(path: Path, number: int, dpi: float, settings: Settings) -> np.ndarray:
    """Page `number` rendered at `dpi` by pdftoppm: BGR uint8 (only this page is ever in memory)."""
    r = f"{dpi:.4f}"
    done = _poppler(["pdftoppm", "-f", str(number), "-l", str(number), "-r", r, "-upw", "", str(path)],
                    settings.pdf_page_timeout_s)
    if done.returncode != 0 or not done.stdout:
        raise UnreadableFile(f"PDF illisible (page {number})")
    with Image.open(io.BytesIO(done.stdout)) as img:
        rgb = np.asarray(img.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])
