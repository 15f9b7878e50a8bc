"""Bytes -> pages. One interface for every upload: PDF (text layer or not), JPEG, PNG.

The real type is sniffed from the bytes, never the name. Anything no reader
opens becomes `LoadedFile.error` (a sentence for the operator), never an
exception out of `load_file`.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pdfplumber
from pdf2image import convert_from_path
from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFSyntaxError
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from core.errors import UnreadableFile
from core.records import Capture, Page, PageText, TextSource, Word
from core.settings import Settings

log = logging.getLogger(__name__)

A4_LONG_SIDE_IN = 11.69  # 297 mm: an image without a believable DPI is taken for an A4 page filling the frame
STATED_DPI_RANGE = (72, 1200)  # a DPI an image states is believed within this range (scanners, phones, renders)...
PLACEHOLDER_DPI = 72  # ...except 72 (to 1 dpi), what many tools write when they know nothing of the size
PDF_TAIL_BYTES = 2048  # a complete PDF ends with %%EOF within these last bytes (readers look in the last 1024)
SAME_LINE_SHARE = 0.5  # a text-layer word whose top is within this share of a word's height of the line's top
# is on that line (the next line starts a full line height lower)
# A text-layer word made of these characters is a real word; a layer of too few of them is garbage (bad fonts)
_WORDLIKE = re.compile(r"^[\w\-.,:;/€$%'’()°+*&@#«»\"!?=<>\[\]|]+$")


@dataclass(slots=True)
class LoadedFile:
    """One uploaded file as loaded: its sniffed kind and pages, or the reason it could not be read."""

    file: str  # name as uploaded
    kind: str  # "pdf" / "jpeg" / "png" / "unknown"
    pages: list[Page] = field(default_factory=list)
    error: str | None = None  # why the file could not be read (French, for operators and clients)


def sniff(head: bytes) -> str:
    """The real format from the first bytes: 'pdf', 'png', 'jpeg' or 'unknown'."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if b"%PDF-" in head[:1024]:  # the spec tolerates junk before the header
        return "pdf"
    return "unknown"


def load_file(path: Path, name: str, settings: Settings, ref: str = "") -> LoadedFile:
    """Open one uploaded file and return its pages, or the reason it cannot be read.

    `ref` names the file in logs and in each page's `ref` (e.g. "D-123 f2"); client file names stay out of logs.
    """
    ref = ref or "file"
    kind = "unknown"
    try:
        size = path.stat().st_size
        if size == 0:
            raise UnreadableFile("fichier vide")
        if size > settings.max_file_bytes:
            raise UnreadableFile(f"fichier trop volumineux ({size // (1024 * 1024)} Mo)")
        with path.open("rb") as fh:
            head = fh.read(2048)
        kind = sniff(head)
        if kind == "unknown":
            raise UnreadableFile("format non reconnu (ni PDF, ni JPEG, ni PNG)")
        pages = _load_pdf(path, name, settings, ref) if kind == "pdf" else _load_image(path, name, settings)
        return LoadedFile(name, kind, [replace(p, ref=f"{ref} p{p.number}") for p in pages])
    except UnreadableFile as exc:
        return LoadedFile(name, kind, error=exc.reason)
    except FileNotFoundError:
        return LoadedFile(name, kind, error="fichier absent du dossier")
    except OSError as exc:
        return LoadedFile(name, kind, error=f"fichier illisible ({exc.__class__.__name__})")


# --- images --------------------------------------------------------------------


def _load_image(path: Path, name: str, settings: Settings) -> list[Page]:
    try:
        with Image.open(path) as img:
            w, h = img.size
            if w * h > settings.max_image_pixels:
                raise UnreadableFile(f"image démesurée ({w}×{h} pixels)")
            if min(w, h) < 1:
                raise UnreadableFile("image vide")
            img.load()  # truncated data raises here
            img = ImageOps.exif_transpose(img)  # honour the phone's Orientation tag
            dpi = _image_dpi(img)
            rgb = img.convert("RGB")
    except UnreadableFile:
        raise
    except Image.DecompressionBombError as exc:  # Pillow refuses at open beyond twice its own limit
        raise UnreadableFile("image démesurée (trop de pixels)") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnreadableFile(f"image endommagée ou incomplète ({exc.__class__.__name__})") from exc
    image = np.asarray(rgb)[:, :, ::-1].copy()  # RGB -> BGR for OpenCV
    return [Page(file=name, number=1, image=image, dpi=dpi, capture=Capture.IMAGE)]


def _image_dpi(img: Image.Image) -> float:
    """The DPI the file states when plausible, else what an A4 page filling the frame would have."""
    stated = img.info.get("dpi")
    lo, hi = STATED_DPI_RANGE
    if stated and lo <= float(stated[0]) <= hi and abs(float(stated[0]) - PLACEHOLDER_DPI) > 1:
        return float(stated[0])
    return max(img.size) / A4_LONG_SIDE_IN


# --- PDF -------------------------------------------------------------------------


def _check_pdf(path: Path, settings: Settings) -> int:
    """Validate a PDF before rendering it; return its page count."""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - PDF_TAIL_BYTES))
        if b"%%EOF" not in fh.read():
            raise UnreadableFile("PDF incomplet (le transfert semble interrompu)")
    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            # An owner password alone opens with the empty user password: that PDF is read.
            if not reader.decrypt(""):
                raise UnreadableFile("PDF protégé par un mot de passe")
        n = len(reader.pages)
        for page in reader.pages[: settings.max_pages_per_file]:
            box = page.mediabox
            w_mm, h_mm = float(box.width) * 25.4 / 72, float(box.height) * 25.4 / 72
            if max(w_mm, h_mm) > settings.max_page_side_mm:
                raise UnreadableFile(f"page PDF démesurée ({w_mm:.0f}×{h_mm:.0f} mm)")
    except UnreadableFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise UnreadableFile(f"PDF endommagé ({exc.__class__.__name__})") from exc
    except Exception as exc:  # pypdf raises assorted errors on hostile files
        if "password" in str(exc).lower() or "crypt" in str(exc).lower():
            raise UnreadableFile("PDF protégé par un mot de passe") from exc
        raise UnreadableFile(f"PDF endommagé ({exc.__class__.__name__})") from exc
    if n == 0:
        raise UnreadableFile("PDF sans page")
    if n > settings.max_pages_per_file:
        raise UnreadableFile(f"PDF de {n} pages (au plus {settings.max_pages_per_file} acceptées)")
    return n


def _load_pdf(path: Path, name: str, settings: Settings, ref: str) -> list[Page]:
    n = _check_pdf(path, settings)
    dpi = settings.render_dpi
    try:
        images = convert_from_path(str(path), dpi=dpi, userpw="", timeout=settings.ocr_timeout_s * 2)
    except (PDFPageCountError, PDFSyntaxError, PDFInfoNotInstalledError, OSError, ValueError) as exc:
        raise UnreadableFile(f"PDF illisible ({exc.__class__.__name__})") from exc
    except Exception as exc:  # pdf2image's timeout and poppler failures
        raise UnreadableFile(f"PDF illisible ({exc.__class__.__name__})") from exc
    if len(images) != n:
        log.warning("%s: pypdf sees %d pages, poppler rendered %d", ref, n, len(images))
    layers = _text_layers(path, dpi, len(images), settings, ref)
    pages = []
    for i, img in enumerate(images):
        bgr = np.asarray(img.convert("RGB"))[:, :, ::-1].copy()
        layer = layers[i] if i < len(layers) else None
        capture = Capture.PDF_TEXT if layer is not None else Capture.PDF_IMAGE
        pages.append(Page(name, i + 1, bgr, float(dpi), capture, layer))
    return pages


def _text_layers(path: Path, dpi: float, n: int, settings: Settings, ref: str = "file") -> list[PageText | None]:
    """pdfplumber words per page, in pixels at `dpi`; None where the layer is empty or garbage."""
    out: list[PageText | None] = []
    try:
        with pdfplumber.open(str(path), password="") as pdf:
            for page in pdf.pages[:n]:
                out.append(_page_layer(page, dpi, settings))
    except Exception as exc:  # a text layer we cannot parse is simply not used
        log.info("text layer of %s not usable: %s", ref, exc.__class__.__name__)
        return [None] * n
    return out


def _page_layer(page, dpi: float, settings: Settings) -> PageText | None:
    scale = dpi / 72.0
    raw = page.extract_words(keep_blank_chars=False, use_text_flow=False, extra_attrs=["size"])
    raw = [w for w in raw if w["text"].strip()]
    chars = sum(len(w["text"]) for w in raw)
    if chars < settings.text_layer_min_chars:
        return None
    good = sum(len(w["text"]) for w in raw if _WORDLIKE.match(w["text"]) and "(cid:" not in w["text"])
    if good / chars < settings.text_layer_min_valid_ratio:
        return None
    words: list[Word] = []
    line, line_top, line_h = -1, None, 0.0
    for w in sorted(raw, key=lambda w: w["top"]):
        h = w["bottom"] - w["top"]
        if line_top is None or abs(w["top"] - line_top) > SAME_LINE_SHARE * max(h, line_h):
            line, line_top, line_h = line + 1, w["top"], h
        words.append(
            Word(
                text=w["text"],
                left=int(w["x0"] * scale),
                top=int(w["top"] * scale),
                width=max(1, int((w["x1"] - w["x0"]) * scale)),
                height=max(1, int(h * scale)),
                conf=100.0,
                line=line,
            )
        )
    words.sort(key=lambda w: (w.line, w.left))
    width, height = int(page.width * scale), int(page.height * scale)
    return PageText(tuple(words), TextSource.TEXT_LAYER, width, height)
