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

from extractors.pages.image_load import load_image
from extractors.pages.pdf_load import check_pdf, page_dpis, render_page
from extractors.pages.pdf_text import RawPage, raw_words
from extractors.pages.pieces import split_long_page
from core.errors import UnreadableFile
from core.records import Capture, Page, PageText, TextSource, Word
from core.settings import Settings

log = logging.getLogger(__name__)

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


# Formats that may carry a PDF's bytes inside them (poppler finds '%PDF-' in a ZIP that stores one):
# ZIP / Office, gzip, 7z, RAR, ELF, Windows executables
FOREIGN_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!", b"\x7fELF", b"MZ")


def sniff(head: bytes) -> str:
    """The real format from the first bytes: 'pdf', 'png', 'jpeg' or 'unknown'."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(FOREIGN_MAGIC):  # an archive or a program holding a PDF is not a PDF
        return "unknown"
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
        pages = _load_pdf(path, name, settings, ref) if kind == "pdf" else _load_image(path, name, settings, ref)
        pages = [replace(p, ref=f"{ref} p{p.number}") for p in pages]
        return LoadedFile(name, kind, [piece for p in pages for piece in split_long_page(p)])
    except UnreadableFile as exc:
        return LoadedFile(name, kind, error=exc.reason)
    except FileNotFoundError:
        return LoadedFile(name, kind, error="fichier absent du dossier")
    except OSError as exc:
        return LoadedFile(name, kind, error=f"fichier illisible ({exc.__class__.__name__})")


# --- images --------------------------------------------------------------------


def _load_image(path: Path, name: str, settings: Settings, ref: str) -> list[Page]:
    image, dpi = load_image(path, settings, ref)
    return [Page(file=name, number=1, image=image, dpi=dpi, capture=Capture.IMAGE)]


# --- PDF -------------------------------------------------------------------------


def _load_pdf(path: Path, name: str, settings: Settings, ref: str) -> list[Page]:
    """Each page rendered on its own at its own dpi (pdf_load), with its text layer when usable."""
    info = check_pdf(path, settings)
    dpis = page_dpis(info, settings)
    raw = raw_words(path, len(info), settings.pdf_parse_timeout_s)
    if raw is None:
        log.info("%s: text layer not usable (parse failed or ran past %.0f s)", ref, settings.pdf_parse_timeout_s)
    pages = []
    for i, (p, dpi) in enumerate(zip(info, dpis)):
        image = render_page(path, p.number, dpi, settings)
        layer = _page_layer(raw[i], dpi, settings) if raw is not None and i < len(raw) else None
        capture = Capture.PDF_TEXT if layer is not None else Capture.PDF_IMAGE
        pages.append(Page(name, p.number, image, float(dpi), capture, layer))
    return pages


def _text_layers(path: Path, dpi: float, n: int, settings: Settings, ref: str = "file") -> list[PageText | None]:
    """pdfplumber words per page, in pixels at `dpi`; None where the layer is empty or garbage."""
    raw = raw_words(path, n, settings.pdf_parse_timeout_s)
    if raw is None:
        log.info("text layer of %s not usable", ref)
        return [None] * n
    return [_page_layer(r, dpi, settings) for r in raw] + [None] * (n - len(raw))


def _page_layer(page: RawPage, dpi: float, settings: Settings) -> PageText | None:
    scale = dpi / 72.0
    page_w, page_h, raw = page
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
    width, height = int(page_w * scale), int(page_h * scale)
    return PageText(tuple(words), TextSource.TEXT_LAYER, width, height)
