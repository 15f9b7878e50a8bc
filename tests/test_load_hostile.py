"""What clients really upload, at its worst: tiny, transparent, huge, long, odd-EXIF images and PDFs, and
a machine without poppler. Each outcome is a page or a reason, never an exception (but InfrastructureError)."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from extractors.pages.load import load_file
from core.errors import InfrastructureError
from core.records import Capture
from core.settings import Settings
from pipeline.context import Reader
from pipeline.page import page_readability, read_page
from extractors.pages.normalise import normalise_page
from tests.render import FONT, INVOICE_LINES, text_page, text_pdf


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _legible(page, settings) -> float:
    return page_readability(normalise_page(page, settings), settings).score


# --- 1. tiny images ------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(1, 1), (3, 2), (1, 400), (400, 1), (5, 5)])
def test_a_tiny_image_is_unreadable_because_too_small(tmp_path, settings, size):
    path = tmp_path / "tiny.png"
    Image.new("RGB", size, "white").save(path)
    loaded = load_file(path, "tiny.png", settings)
    assert not loaded.pages and "trop petite" in loaded.error


def test_a_small_image_above_the_floor_reads_to_the_end_without_raising(tmp_path, settings):
    path = tmp_path / "small.png"
    Image.new("RGB", (settings.min_image_side_px, 40), "white").save(path)
    page = load_file(path, "small.png", settings).pages[0]
    reading = read_page(page, "invoice", Reader.create(settings))
    assert not reading.legible and reading.why


def test_a_pdf_page_too_small_to_hold_text_is_unreadable(tmp_path, settings):
    from reportlab.pdfgen import canvas

    path = tmp_path / "dot.pdf"
    c = canvas.Canvas(str(path), pagesize=(1, 1))
    c.showPage()
    c.save()
    loaded = load_file(path, "dot.pdf", settings)
    assert not loaded.pages and "trop petite" in loaded.error


# --- 2. transparency -----------------------------------------------------------------------------

def _transparent_text(mode: str) -> Image.Image:
    """Black print on a fully transparent background (what an export or a screenshot gives)."""
    page = Image.fromarray(text_page(INVOICE_LINES)[:, :, ::-1]).convert("L")
    alpha = Image.eval(page, lambda v: 255 - v)  # ink opaque, paper transparent
    black = Image.new("L", page.size, 0)
    if mode == "LA":
        return Image.merge("LA", (black, alpha))
    rgba = Image.merge("RGBA", (black, black, black, alpha))
    if mode == "P":  # palette + tRNS: quantised, transparent index for the paper
        return rgba.quantize(colors=16, method=Image.Quantize.FASTOCTREE)
    return rgba


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_print_on_a_transparent_background_reads_on_white(tmp_path, settings, mode):
    path = tmp_path / "export.png"
    _transparent_text(mode).save(path)
    page = load_file(path, "export.png", settings).pages[0]
    assert np.median(page.image) > 240  # paper, not black
    assert _legible(page, settings) >= settings.readability_threshold


def test_a_transparent_image_in_a_pdf_reads_on_white(tmp_path, settings):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    path = tmp_path / "export.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(ImageReader(_transparent_text("RGBA")), 0, 0, *A4, mask="auto")
    c.save()
    page = load_file(path, "export.pdf", settings).pages[0]
    assert page.capture == Capture.PDF_IMAGE and np.median(page.image) > 240
    assert _legible(page, settings) >= settings.readability_threshold


# --- 3. huge images and long pages -----------------------------------------------------------------

def test_a_12000_by_9000_jpeg_is_read_reduced_not_refused(tmp_path, settings):
    page = Image.fromarray(text_page(INVOICE_LINES, dpi=150)[:, :, ::-1])
    big = page.resize((9000, 12000), Image.Resampling.BILINEAR)  # an A4 page at ~1000 dpi
    path = tmp_path / "huge.jpg"
    big.save(path, quality=85)
    loaded = load_file(path, "huge.jpg", settings)
    assert loaded.error is None
    (p,) = loaded.pages
    h, w = p.image.shape[:2]
    assert h * w <= settings.max_page_pixels and 2 * w <= 9000  # decoded reduced (draft), not at full size
    assert abs(p.dpi - h / 11.69) < 0.01 * p.dpi  # dpi follows the pixels (an A4 page filling the frame)
    reading = read_page(p, "invoice", Reader.create(settings))
    assert reading.legible and "Total" in reading.text.text


def _receipt_pdf(path, length_mm: float = 5000.0, width_mm: float = 80.0):
    """A till receipt printed on one PDF page `length_mm` long: a line of print every 6 mm, the total last."""
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVu", FONT))
    c = canvas.Canvas(str(path), pagesize=(width_mm * mm, length_mm * mm))
    c.setFont("DejaVu", 9)
    y, n = (length_mm - 10) * mm, 0
    while y > 20 * mm:
        c.drawString(5 * mm, y, f"Article {n:04d} croquettes          12,50")
        y, n = y - 6 * mm, n + 1
    c.setFont("DejaVu", 12)
    c.drawString(5 * mm, 10 * mm, "Total TTC 97,00 EUR")
    c.showPage()
    c.save()
    return path


def test_a_pdf_page_5_m_long_is_read_whole_at_full_dpi(tmp_path, settings):
    loaded = load_file(_receipt_pdf(tmp_path / "ticket.pdf"), "ticket.pdf", settings)
    assert loaded.error is None
    (page,) = loaded.pages  # born digital: its text layer is read whole, nothing to cut
    assert page.capture == Capture.PDF_TEXT and page.dpi == settings.render_dpi
    assert page.image.shape[0] * page.image.shape[1] <= settings.max_page_pixels
    assert "Total TTC 97,00 EUR" in page.text_layer.text


def test_a_5_m_scanned_receipt_image_is_cut_into_legible_pieces(tmp_path, settings):
    w, h = 640, 39000  # 80 mm x 4.95 m at 200 dpi
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 26)
    for n, y in enumerate(range(40, h - 120, 48)):
        draw.text((20, y), f"Article {n:04d} croquettes  12,50", fill=0, font=font)
    draw.text((20, h - 80), "Total TTC 97,00 EUR", fill=0, font=font)
    path = tmp_path / "ticket.png"
    img.save(path, dpi=(200, 200))
    pages = load_file(path, "ticket.png", settings).pages
    assert len(pages) > 1 and sum(p.image.shape[0] for p in pages) == h  # nothing lost, nothing twice
    for p in pages:
        assert _legible(p, settings) >= settings.readability_threshold, p.ref
    reading = read_page(pages[-1], "invoice", Reader.create(settings))
    assert "Total" in reading.text.text


# --- 4. PDF rendering under a pixel budget, parsing under a deadline ---------------------------

def test_pdf_pages_are_rendered_one_by_one_within_the_pixel_budget(tmp_path):
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    path = tmp_path / "posters.pdf"
    c = canvas.Canvas(str(path), pagesize=(1000 * mm, 1200 * mm))
    for i in range(3):
        c.setFont("Helvetica", 200)
        c.drawString(100 * mm, 600 * mm, f"Page {i + 1}")
        c.showPage()
    c.save()
    settings = Settings(max_page_pixels=4_000_000, min_render_dpi=30)
    loaded = load_file(path, "posters.pdf", settings)
    assert loaded.error is None and len(loaded.pages) == 3
    for p in loaded.pages:
        h, w = p.image.shape[:2]
        assert h * w <= 4_000_000 and p.dpi < settings.render_dpi
        assert abs(w - 1000 / 25.4 * p.dpi) <= 2  # the page's dpi is the one it was rendered at


def test_forty_pages_of_1200_mm_are_refused_before_any_is_rendered(tmp_path, settings):
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    path = tmp_path / "posters.pdf"
    c = canvas.Canvas(str(path), pagesize=(850 * mm, 1200 * mm))
    for i in range(40):
        c.drawString(100, 100, f"Page {i + 1}")
        c.showPage()
    c.save()
    import time

    t = time.perf_counter()
    loaded = load_file(path, "posters.pdf", settings)  # all at 200 dpi: 40 x 63 Mpx, ~7.6 GB of pixels
    assert "démesuré" in loaded.error and time.perf_counter() - t < 5


def test_a_pdf_whose_text_layer_takes_forever_to_parse_is_stopped_and_read_by_its_pixels(tmp_path):
    # 226 kB: three million text operators behind one FlateDecode stream; pdfminer needs minutes
    ops = zlib.compress(b"BT /F1 1 Tf 10 10 Td (x) Tj ET\n" * 3_000_000, 9)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(ops) + ops + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    path = tmp_path / "slow.pdf"
    path.write_bytes(bytes(out))
    settings = Settings(pdf_parse_timeout_s=3, pdf_page_timeout_s=30)
    import time

    t = time.perf_counter()
    loaded = load_file(path, "slow.pdf", settings)
    assert time.perf_counter() - t < 30
    assert loaded.error is None and loaded.pages[0].text_layer is None  # read by OCR like a scan


# --- 5. EXIF -----------------------------------------------------------------------------------

def _jpeg_with_app1(payload: bytes, size=(300, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "JPEG")
    data = buf.getvalue()
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + data[2:]


def _png_with_exif(payload: bytes, size=(300, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "PNG")
    data = buf.getvalue()
    return data[:33] + _png_chunk(b"eXIf", payload) + data[33:]  # after IHDR


@pytest.mark.parametrize("data", [
    _png_with_exif(bytes(range(256))),  # garbage, not a TIFF block at all
    _png_with_exif(b"II\x2a\x00\x08\x00\x00\x00\xff"),  # truncated IFD
    _jpeg_with_app1(b"Exif\x00\x00" + bytes(range(256)) * 2),
    _jpeg_with_app1(b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xf0"),  # IFD offset beyond the block
    # Orientation tag as ASCII "abc", and as SHORT 0 / 9
    _jpeg_with_app1(b"Exif\x00\x00II\x2a\x00\x08\x00\x00\x00\x01\x00\x12\x01\x02\x00\x04\x00\x00\x00abc\x00\x00\x00\x00\x00"),
    _jpeg_with_app1(b"Exif\x00\x00II\x2a\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
    _jpeg_with_app1(b"Exif\x00\x00II\x2a\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x09\x00\x00\x00\x00\x00"),
], ids=["png-garbage", "png-truncated", "jpeg-garbage", "jpeg-bad-offset", "orientation-ascii",
        "orientation-0", "orientation-9"])
def test_malformed_exif_is_ignored_and_the_image_loaded_as_is(tmp_path, settings, data):
    path = tmp_path / "photo.img"
    path.write_bytes(data)
    loaded = load_file(path, "photo.img", settings)
    assert loaded.error is None and loaded.pages[0].image.shape[:2] == (200, 300)


# --- 6. poppler missing ------------------------------------------------------------------------

def test_a_machine_without_poppler_raises_infrastructure_error_not_illisible(tmp_path, settings, monkeypatch):
    path = text_pdf(INVOICE_LINES, tmp_path / "f.pdf")
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(InfrastructureError):
        load_file(path, "f.pdf", settings)
