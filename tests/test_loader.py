import io
import struct
import zlib

import numpy as np
from PIL import Image
from pypdf import PdfReader, PdfWriter

from extractors.pages.load import load_file, sniff
from core.records import Capture
from tests.conftest import FORM_PDF
from tests.render import INVOICE_LINES, image_pdf, save_image, text_page, text_pdf


def test_sniff_reads_bytes_not_names():
    assert sniff(b"\x89PNG\r\n\x1a\nrest") == "png"
    assert sniff(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff(b"%PDF-1.7\n") == "pdf"
    assert sniff(b"<html><body>") == "unknown"


def test_text_pdf_gives_its_text_layer_without_ocr(tmp_path, settings):
    loaded = load_file(text_pdf(INVOICE_LINES, tmp_path / "f.pdf"), "f.pdf", settings)
    assert loaded.error is None and loaded.kind == "pdf"
    page = loaded.pages[0]
    assert page.capture == Capture.PDF_TEXT
    assert "Total TTC" in page.text_layer.text
    # boxes are in pixels of the rendered page: the title sits in the top fifth
    word = next(w for w in page.text_layer.words if w.text == "FACTURE")
    assert 0 < word.top < page.image.shape[0] / 5


def test_image_only_pdf_has_no_text_layer(tmp_path, settings):
    loaded = load_file(image_pdf(text_page(INVOICE_LINES), tmp_path / "scan.pdf"), "scan.pdf", settings)
    assert loaded.error is None
    assert loaded.pages[0].capture == Capture.PDF_IMAGE and loaded.pages[0].text_layer is None


def test_png_named_pdf_is_read_as_png(tmp_path, settings):
    path = save_image(text_page(["Facture"]), tmp_path / "facture.pdf", format="PNG")
    loaded = load_file(path, "facture.pdf", settings)
    assert loaded.error is None and loaded.kind == "png" and len(loaded.pages) == 1


def test_exif_orientation_is_applied(tmp_path, settings):
    img = Image.new("RGB", (300, 200), "white")
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "photo.jpg"
    img.save(path, exif=exif)
    page = load_file(path, "photo.jpg", settings).pages[0]
    assert page.image.shape[:2] == (300, 200)


def test_truncated_pdf_is_unreadable(tmp_path, settings):
    data = text_pdf(INVOICE_LINES, tmp_path / "ok.pdf").read_bytes()
    bad = tmp_path / "cut.pdf"
    bad.write_bytes(data[: len(data) // 2])
    loaded = load_file(bad, "cut.pdf", settings)
    assert loaded.error and not loaded.pages


def test_encrypted_pdf_is_unreadable_but_owner_only_password_is_read(tmp_path, settings):
    writer = PdfWriter(clone_from=str(FORM_PDF))
    writer.encrypt(user_password="secret", owner_password="owner")
    locked = tmp_path / "locked.pdf"
    writer.write(locked)
    assert "mot de passe" in load_file(locked, "locked.pdf", settings).error

    writer = PdfWriter(clone_from=str(FORM_PDF))
    writer.encrypt(user_password="", owner_password="owner")
    owner_only = tmp_path / "owner.pdf"
    writer.write(owner_only)
    assert PdfReader(str(owner_only)).is_encrypted
    loaded = load_file(owner_only, "owner.pdf", settings)
    assert loaded.error is None and "FEUILLE DE SOINS" in loaded.pages[0].text_layer.text


def test_random_bytes_html_and_empty_files_are_unreadable(tmp_path, settings):
    rnd = tmp_path / "rnd.pdf"
    rnd.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    html = tmp_path / "page.pdf"
    html.write_text("<!DOCTYPE html><html><body>Facture</body></html>")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    for p in (rnd, html, empty):
        loaded = load_file(p, p.name, settings)
        assert loaded.error and not loaded.pages, p


def test_truncated_jpeg_is_unreadable(tmp_path, settings):
    buf = io.BytesIO()
    Image.fromarray(text_page(["Facture"])[:, :, ::-1]).save(buf, format="JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    assert load_file(path, "cut.jpg", settings).error


def test_decompression_bomb_is_refused_before_decoding(tmp_path, settings):
    # A valid PNG header claiming 50000 x 50000 pixels, with almost no data behind it.
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 50000, 50000, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    path = tmp_path / "bomb.png"
    path.write_bytes(png)
    loaded = load_file(path, "bomb.png", settings)
    assert "démesurée" in loaded.error


def test_missing_file_is_reported(tmp_path, settings):
    assert "absent" in load_file(tmp_path / "nope.pdf", "nope.pdf", settings).error


def test_a_zip_holding_a_pdf_is_no_pdf(tmp_path, settings):
    """poppler finds '%PDF-' inside a ZIP that stores one; the file is still a ZIP: unreadable."""
    import zipfile

    from tests.render import INVOICE_LINES, text_pdf

    pdf = text_pdf(INVOICE_LINES, tmp_path / "facture.pdf")
    disguised = tmp_path / "facture_zip.pdf"
    with zipfile.ZipFile(disguised, "w", compression=zipfile.ZIP_STORED) as z:
        z.write(pdf, "facture.pdf")
    loaded = load_file(disguised, "facture.pdf", settings)
    assert not loaded.pages and loaded.error
