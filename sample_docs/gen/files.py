"""Bytes on disk: images with or without an EXIF orientation, image-only PDFs, merged PDFs, metadata, broken files.

Nothing written here may tell a reader what a document is: PDF metadata is reduced to a
generic Producer/Creator, and JPEGs carry at most an Orientation tag.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject
from reportlab import rl_config
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from .common import pick

TEXT_PRODUCERS = [("Qt 5.15.2", "Vetup"), ("Microsoft: Print To PDF", "Microsoft Word"), ("PDFsharp 1.50", ""),
                  ("wkhtmltopdf 0.12.6", ""), ("LibreOffice 6.4", "Writer"), ("iText 5.5.13", "")]
SCAN_PRODUCERS = [("Canon iR-ADV C3525", "Canon"), ("HP Scan", "HP"), ("Adobe Scan", "Adobe Scan for iOS"),
                  ("iOS Version 15.4 (Build 19E241) Quartz PDFContext", "Notes"), ("EPSON Scan", ""),
                  ("CamScanner", ""), ("Brother MFC-L2710DW", "")]
rl_config.useA85 = 0  # binary image streams (smaller, faster)
# EXIF orientation tag -> how to turn the stored pixels so that a viewer shows them upright
EXIF_TRANSPOSE = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_270, 8: Image.Transpose.ROTATE_90}


def encode_image(img: Image.Image, fmt: str, quality: int, orientation: int | None = None, png_colours: int = 0) -> bytes:
    """JPEG or PNG bytes; a JPEG may carry only an EXIF Orientation tag (nothing about the content).
    png_colours > 0 stores a PNG with a palette of that many colours (the compact sample)."""
    buf = io.BytesIO()
    if fmt == "jpeg":
        exif = Image.Exif()
        if orientation:
            exif[0x0112] = orientation
        img = img.convert("RGB") if img.mode not in ("L", "RGB") else img
        img.save(buf, "JPEG", quality=quality, exif=exif.tobytes() if orientation else b"")
    else:
        if png_colours and img.mode in ("L", "RGB"):
            img = img.quantize(png_colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        img.save(buf, "PNG", compress_level=7)
    return buf.getvalue()


def orient_for_upload(img: Image.Image, rng: np.random.Generator, mode: str | None = None
                      ) -> tuple[Image.Image, int | None, str]:
    """How a phone stores a photo: upright, turned pixels (no tag), or turned pixels + EXIF tag that fixes them,
    or (a buggy app) upright pixels with a stale tag that turns them on display. Returns (pixels, tag, defect)."""
    mode = mode or pick(rng, ["upright", "pixels", "exif", "stale_exif"], p=[0.5, 0.25, 0.18, 0.07])
    if mode == "upright":
        return img, None, ""
    tag = pick(rng, [6, 8, 3], p=[0.5, 0.3, 0.2])
    if mode == "pixels":
        turn = {6: Image.Transpose.ROTATE_270, 8: Image.Transpose.ROTATE_90, 3: Image.Transpose.ROTATE_180}[tag]
        return img.transpose(turn), None, f"rotated_pixels_{ {6: 90, 8: 270, 3: 180}[tag]}"
    if mode == "exif":  # stored sideways, the tag tells the viewer how to stand it up
        inverse = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270, 3: Image.Transpose.ROTATE_180}[tag]
        return img.transpose(inverse), tag, f"exif_orientation_{tag}"
    return img, tag, f"stale_exif_orientation_{tag}"


def _page_jpeg(img: Image.Image, quality: int) -> io.BytesIO:
    buf = io.BytesIO()
    img.convert("L" if img.mode in ("L", "1") else "RGB").save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return buf


def images_pdf(pages: list[tuple[Image.Image, float]], quality: int) -> bytes:
    """An image-only PDF (what scanners and scanner apps make): one JPEG per page, page size from its dpi."""
    buf = io.BytesIO()
    c = Canvas(buf, invariant=1, pageCompression=1)
    for img, dpi in pages:
        w, h = img.width * 72 / dpi, img.height * 72 / dpi
        c.setPageSize((w, h))
        c.drawImage(ImageReader(_page_jpeg(img, quality)), 0, 0, w, h)
        c.showPage()
    c.save()
    return buf.getvalue()


def merge_pdfs(parts: list[bytes]) -> bytes:
    """Concatenate PDFs page by page (a client merging a scan and the clinic's PDF)."""
    w = PdfWriter()
    for p in parts:
        w.append(PdfReader(io.BytesIO(p)))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def finalize_pdf(pdf: bytes, rng: np.random.Generator, scanned: bool, owner_password: str | None = None) -> bytes:
    """Replace all metadata by a generic Producer/Creator; optionally add an owner-only password (opens freely)."""
    w = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    w.metadata = None
    producer, creator = pick(rng, SCAN_PRODUCERS if scanned else TEXT_PRODUCERS)
    w.add_metadata({"/Producer": producer, **({"/Creator": creator} if creator else {})})
    if owner_password:
        _encrypt(w, "", owner_password)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _encrypt(w: PdfWriter, user: str, owner: str) -> None:
    """RC4-128 keyed on the file's first identifier: no random salt or IV, so the bytes stay reproducible
    (pypdf draws a random second identifier; we put the first one back, as a freshly written file has)."""
    w.encrypt(user_password=user, owner_password=owner, algorithm="RC4-128")
    w._ID = ArrayObject([w._ID[0], w._ID[0]])  # noqa: SLF001 - pypdf has no public setter


# ---------------------------------------------------------------- files that cannot be opened

def encrypted(pdf: bytes) -> bytes:
    """A PDF that needs a user password to open (the client protected it)."""
    w = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    _encrypt(w, "chouchou2017", "chouchou2017-owner")
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def truncated(data: bytes, rng: np.random.Generator) -> bytes:
    """An upload cut short: the first 20-60 % of a real file."""
    return data[: int(len(data) * rng.uniform(0.2, 0.6))]


def random_bytes(rng: np.random.Generator) -> bytes:
    """Garbage named .pdf (a failed download)."""
    return rng.integers(0, 256, int(rng.integers(2_000, 40_000)), dtype=np.uint8).tobytes()


def html_page(rng: np.random.Generator) -> bytes:
    """A web page saved under a .pdf name (the clinic portal's download page, not the invoice)."""
    title = pick(rng, ["Espace client - Vos factures", "Session expirée", "Téléchargement de votre document"])
    body = pick(rng, ["<p>Votre session a expiré. Veuillez vous reconnecter pour télécharger votre facture.</p>",
                      "<p>Le document demandé n'est plus disponible.</p>",
                      "<p>Cliquez <a href='/download?id=84213'>ici</a> si le téléchargement ne démarre pas.</p>"])
    return (f"<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n"
            f"<body><h1>{title}</h1>{body}</body></html>\n").encode("utf-8")


CORRUPTIONS = ("truncated_pdf", "random_bytes", "html", "encrypted_pdf", "empty")


def corrupt(kind: str, valid_pdf: bytes, rng: np.random.Generator) -> bytes:
    """Bytes of a broken upload of the given kind, made from a valid PDF where it needs one."""
    if kind == "truncated_pdf":
        return truncated(valid_pdf, rng)
    if kind == "random_bytes":
        return random_bytes(rng)
    if kind == "html":
        return html_page(rng)
    if kind == "encrypted_pdf":
        return encrypted(valid_pdf)
    if kind == "empty":
        return b""
    raise ValueError(kind)

