"""normalise_page on real material: the blank care sheet, the real invoice captures, rendered pages."""
from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest
from PIL import Image

from extractors import geometry, sheet
from extractors.loader import load_file
from extractors.normalise import normalise_page, ocr_ready
from extractors.ocr import ocr_image
from intake.records import Capture, Page
from intake.settings import REPO_ROOT, Settings

FORM_PNG = REPO_ROOT / "intake" / "form" / "feuille_de_soins_blank.png"  # 150 dpi
REAL = REPO_ROOT.parent / "shared" / "real" / "invoices"
needs_real = pytest.mark.skipif(not (REAL / "captures.csv").exists(), reason="shared/real/invoices not present")


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(ocr_cache_dir=None)


@pytest.fixture(scope="module")
def form() -> np.ndarray:
    return cv2.imread(str(FORM_PNG))


def captures() -> list[dict]:
    with (REAL / "captures.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def image_page(image: np.ndarray, dpi: float = 150.0) -> Page:
    return Page("test.png", 1, image, dpi, Capture.IMAGE)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two page images at thumbnail size (1.0: the same page the same way up)."""
    size = (120, 170)
    ta = cv2.resize(geometry.to_grey(a), size, interpolation=cv2.INTER_AREA).astype(float).ravel()
    tb = cv2.resize(geometry.to_grey(b), size, interpolation=cv2.INTER_AREA).astype(float).ravel()
    return float(np.corrcoef(ta, tb)[0, 1])


@pytest.mark.parametrize("turn", [cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_COUNTERCLOCKWISE])
def test_turned_care_sheet_comes_back_upright(form, settings, turn):
    page = normalise_page(image_page(cv2.rotate(form, turn)), settings)
    assert page.image.shape[:2] == form.shape[:2]
    assert similarity(page.image, form) > 0.95
    assert any(s.startswith("rotate_") for s in page.steps)


def test_upside_down_page_reads_after_normalising(form, settings):
    page = normalise_page(image_page(cv2.rotate(form, cv2.ROTATE_180)), settings)
    h, w = page.image.shape[:2]
    text = ocr_image(ocr_ready(page.image), settings, region=(0, 0, w, h // 8)).text
    assert "FEUILLE" in text and "SOINS" in text


def test_upright_clean_page_is_left_alone(form, settings):
    page = image_page(form)
    assert normalise_page(page, settings) is page  # nothing to do: the same page, no resampling


@needs_real
def test_photo_sheet_is_found_where_captures_csv_says():
    for row in captures():
        if row["capture"] != "photo":
            continue
        image = cv2.imread(str(REAL / row["capture_file"]))
        quad = sheet.find_sheet(image)
        assert quad is not None, row["capture_file"]
        truth = np.array([[float(v) for v in p.split(",")] for p in row["page_corners"].split()])
        # corners may start at another one when the photo is turned: compare as a cycle
        err = min(np.abs(np.roll(quad, k, axis=0) - truth).max() for k in range(4))
        assert err < 0.01 * np.hypot(*image.shape[:2]), (row["capture_file"], err)


@needs_real
def test_turned_photo_is_warped_flat_upright_and_a4(settings):
    row = next(r for r in captures() if r["capture"] == "photo" and r["rotation_deg"] == "-90")
    path = REAL / row["capture_file"]
    page = load_file(path, path.name, settings).pages[0]
    out = normalise_page(page, settings)
    h, w = out.image.shape[:2]
    assert out.steps[0] == "perspective" and any(s.startswith("rotate_") for s in out.steps)
    assert h > w and abs(h / w - 297 / 210) < 0.01
    assert out.dpi == pytest.approx(settings.render_dpi, rel=0.02)
    # The kept transform maps the photo's page corners onto the corners of the new image.
    truth = np.float32([[float(v) for v in p.split(",")] for p in row["page_corners"].split()])
    mapped = cv2.perspectiveTransform(truth[None], out.transform)[0]
    frame = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    err = min(np.abs(np.roll(mapped, k, axis=0) - frame).max() for k in range(4))
    assert err < 0.02 * h
    # And the page reads: the invoice number printed at the top.
    text = ocr_image(ocr_ready(out.image), settings, region=(0, 0, w, h // 4)).text
    assert "FA-2017-0010" in text


@needs_real
def test_exif_turned_photo_is_upright_after_loading_and_normalising(tmp_path, settings):
    row = next(r for r in captures() if r["capture"] == "photo" and r["rotation_deg"] == "0")
    upright = Image.open(REAL / row["capture_file"])
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # the sensor's pixels, turned
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 clockwise to display
    path = tmp_path / "phone.jpg"
    stored.save(path, exif=exif.tobytes(), quality=92)
    out = normalise_page(load_file(path, path.name, settings).pages[0], settings)
    plain = REAL / row["capture_file"]
    reference = normalise_page(load_file(plain, plain.name, settings).pages[0], settings)
    assert out.image.shape[0] > out.image.shape[1]
    assert similarity(out.image, reference.image) > 0.95


@needs_real
def test_scan_is_deskewed_by_its_own_angle(settings):
    row = next(r for r in captures() if r["capture"] == "scan" and abs(float(r["skew_deg"])) > 1.2)
    path = REAL / row["capture_file"]
    out = normalise_page(load_file(path, path.name, settings).pages[0], settings)
    step = next(s for s in out.steps if s.startswith("deskew_"))
    assert float(step.split("_")[1]) == pytest.approx(-float(row["skew_deg"]), abs=0.3)
    assert abs(geometry.text_layout(out.image).skew_deg) < 0.2
    assert "perspective" not in out.steps  # a scan is not a photo: no sheet to cut out


def test_text_pdf_pages_are_returned_unchanged(form, settings):
    page = Page("f.pdf", 1, form, 150.0, Capture.PDF_TEXT)
    assert normalise_page(page, settings) is page


@pytest.mark.parametrize("image", [
    np.zeros((5, 5, 3), np.uint8),  # tiny
    np.full((900, 640, 3), 255, np.uint8),  # blank
    np.zeros((900, 640, 3), np.uint8),  # all black
    np.random.default_rng(1).integers(0, 256, (700, 500, 3), dtype=np.uint8),  # noise
    np.full((600, 400), 128, np.uint8),  # grey, 2-D
])
def test_odd_images_never_raise(image, settings):
    out = normalise_page(image_page(image), settings)
    assert out.image.shape[:2][0] > 0
    assert ocr_ready(out.image).ndim == 2


def test_ocr_ready_flattens_a_shadow(form):
    h, w = form.shape[:2]
    light = np.linspace(1.0, 0.35, w, dtype=np.float32)[None, :, None]  # a shadow across the page
    shaded = (form.astype(np.float32) * light).astype(np.uint8)
    flat = ocr_ready(shaded)
    paper = geometry.ink_mask(geometry.to_grey(form)) == 0
    left, right = flat[:, : w // 4][paper[:, : w // 4]], flat[:, -w // 4 :][paper[:, -w // 4 :]]
    assert abs(float(np.median(left)) - float(np.median(right))) < 8  # same paper either side
    assert np.percentile(flat, 1) < 100  # the print is still dark


def test_a_quad_no_camera_makes_of_a_sheet_is_not_warped():
    import numpy as np

    from extractors.sheet import plausible_sheet

    # what a watershed following a shadow returned on a real-looking photo: sides 1660/830, a 35-degree corner
    shadow = np.array([[312, 245], [1712, 1127], [1641, 1862], [67, 2134]], float)
    assert not plausible_sheet(shadow)
    # an A4 sheet photographed from above and a little to the side
    tilted = np.array([[300, 200], [1800, 260], [1880, 2300], [220, 2200]], float)
    assert plausible_sheet(tilted)
