"""normalise_page on real material: the blank care sheet, the real invoice captures, rendered pages."""
from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest
from PIL import Image

from extractors.pages import geometry, sheet
from extractors.pages.load import load_file
from extractors.pages.normalise import normalise_page, ocr_ready
from extractors.pages.ocr import ocr_image
from pipeline.document import invoice_fields
from pipeline.context import Reader
from core.records import Capture, Page
from core.settings import REPO_ROOT, Settings

FORM_PNG = REPO_ROOT / "extractors" / "care_sheet" / "feuille_de_soins" / "feuille_de_soins_blank.png"  # 150 dpi
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
    np.full((1, 1, 3), 255, np.uint8),  # one pixel (what a tracking pixel or a broken export gives)
    np.full((2, 3, 3), 255, np.uint8),
    np.full((400, 1, 3), 255, np.uint8),  # one column
    np.full((1, 400), 0, np.uint8),  # one row, grey
    np.full((900, 640, 3), 255, np.uint8),  # blank
    np.zeros((900, 640, 3), np.uint8),  # all black
    np.random.default_rng(1).integers(0, 256, (700, 500, 3), dtype=np.uint8),  # noise
    np.full((600, 400), 128, np.uint8),  # grey, 2-D
])
def test_odd_images_never_raise(image, settings):
    # normalise_page hides nothing: an odd image that made it raise would fail this test
    out = normalise_page(image_page(image), settings)
    assert out.image.shape[:2][0] > 0
    assert ocr_ready(out.image).ndim == 2


def test_a_failure_inside_normalisation_is_not_hidden(settings):
    # an image no loader makes (int64 pixels): OpenCV refuses it; that is our bug, not a page to keep as is
    with pytest.raises(Exception):
        normalise_page(image_page(np.zeros((900, 640, 3), np.int64)), settings)


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

    from extractors.pages.sheet import plausible_sheet

    # what a watershed following a shadow returned on a real-looking photo: sides 1660/830, a 35-degree corner
    shadow = np.array([[312, 245], [1712, 1127], [1641, 1862], [67, 2134]], float)
    assert not plausible_sheet(shadow)
    # an A4 sheet photographed from above and a little to the side
    tilted = np.array([[300, 200], [1800, 260], [1880, 2300], [220, 2200]], float)
    assert plausible_sheet(tilted)


def _canvas(dpi: int = 300) -> tuple[Image.Image, float]:
    px = dpi / 25.4
    return Image.new("L", (int(120 * px), int(80 * px)), 255), px


def test_rules_are_erased_letters_and_filled_bands_are_not():
    from PIL import ImageDraw, ImageFont

    from extractors.pages.normalise import erase_rules
    from tests.render import FONT

    img, px = _canvas()
    d = ImageDraw.Draw(img)
    d.line([(5 * px, 10 * px), (115 * px, 10 * px)], fill=0, width=round(0.3 * px))  # a table rule
    d.line([(60 * px, 12 * px), (60 * px, 40 * px)], fill=0, width=round(0.3 * px))  # a column rule
    d.text((8 * px, 20 * px), "TOTAL TTC 346,24", fill=0, font=ImageFont.truetype(FONT, int(30 / 72 * 300)))
    d.rectangle([5 * px, 50 * px, 115 * px, 75 * px], fill=70)  # a filled band
    grey = np.asarray(img)
    out = erase_rules(grey, 300)
    assert (out[round(10 * px) - 1 : round(10 * px) + 2, round(5 * px) : round(115 * px)] > 200).all()
    assert (out[round(14 * px) : round(18 * px), round(60 * px) - 1 : round(60 * px) + 2] > 200).all()
    letters = (slice(round(19 * px), round(33 * px)), slice(round(8 * px), round(58 * px)))
    assert np.count_nonzero(out[letters] < 128) >= 0.97 * np.count_nonzero(grey[letters] < 128)
    assert (out[round(52 * px) : round(73 * px), round(7 * px) : round(113 * px)] == 70).all()


def test_white_print_on_a_dark_band_is_lifted_shadows_and_bold_titles_are_not(settings):
    from PIL import ImageDraw, ImageFont

    from extractors.pages.normalise import lift_inverted
    from tests.render import FONT

    img, px = _canvas()
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, img.width, 30 * px], fill=(70))  # full-width letterhead band
    d.text((8 * px, 10 * px), "SIRET 734 073 588 00018", fill=255, font=ImageFont.truetype(FONT, int(11 / 72 * 300)))
    bold = ImageFont.truetype(FONT.replace("DejaVuSans", "DejaVuSans-Bold"), int(36 / 72 * 300))
    d.text((8 * px, 45 * px), "FACTURE", fill=0, font=bold)
    grey = np.asarray(img)
    out = lift_inverted(grey, 300)
    band = out[: round(29 * px)]
    assert np.median(band) > 230 and np.count_nonzero(band < 100) > 0  # paper-light, its print dark
    assert (out[round(32 * px) :] == grey[round(32 * px) :]).all()  # the bold title is left as it is
    assert "734" in ocr_image(ocr_ready(out, 300), settings, region=(0, 0, out.shape[1], round(30 * px))).text
    shadow = grey.copy()
    shadow[round(32 * px) :, round(60 * px) :] = (shadow[round(32 * px) :, round(60 * px) :] * 0.4).astype(np.uint8)
    shadowed = lift_inverted(shadow, 300)
    assert (shadowed[round(32 * px) :] == shadow[round(32 * px) :]).all()  # a shadow holds no bright print


def test_a_scanned_invoice_with_a_ruled_table_gives_its_total(settings):
    """A generated clinic invoice, scanned: Tesseract's layout analysis (psm 3) took its ruled table for
    a picture and read no amount at all; ruled lines erased and sparse-text OCR, the total is read."""
    from extractors.invoice.fields import read_invoice
    from pipeline.page import read_page

    page = load_file(REPO_ROOT / "tests" / "data" / "ruled_scan.jpg", "facture.jpg", settings).pages[0]
    reading = read_page(page, "invoice", Reader.create(settings))
    facts = read_invoice([reading.text])
    assert (facts.total_ttc, facts.total_ht, facts.invoice_date) == ("346.24", "288.53", "2017-03-06")


def test_a_siret_in_small_print_misread_on_the_page_is_read_on_a_second_look(settings):
    """A generated clinic invoice scanned at 150 dpi: the page's OCR reads its footer's SIRET as
    'SIRET 189 999 345 Sos' (no valid SIRET); the pipeline OCRs that line again, enlarged, and reads it."""
    from extractors.invoice.fields import read_invoice
    from pipeline.page import read_page

    page = load_file(REPO_ROOT / "tests" / "data" / "small_print_siret_scan.jpg", "scan.jpg", settings).pages[0]
    reading = read_page(page, "invoice", Reader.create(settings))
    assert read_invoice([reading.text]).siret is None  # the first reading: no valid SIRET on the page
    facts = invoice_fields([reading], Reader.create(settings))
    assert facts.siret == "18999934500094"
    assert 0 < facts.confidence["siret"] < 1


PHOTO_CORNERS = np.float32([[265, 230], [1205, 262], [1262, 1640], [205, 1610]])  # an A4 sheet seen a little askew


def _banded_invoice(band: bool) -> np.ndarray:
    from PIL import ImageDraw, ImageFont

    from tests.render import FONT, INVOICE_LINES, text_page

    page = text_page(INVOICE_LINES[3:], size_pt=11)
    h, w = page.shape[:2]
    img = Image.fromarray(page[:, :, ::-1].copy())
    d = ImageDraw.Draw(img)
    top = round(0.14 * h)
    if band:  # the letterhead: a full-bleed dark teal band with the clinic's name and SIRET in white
        d.rectangle([0, 0, w, top], fill=(0, 100, 90))
    ink = (255, 255, 255) if band else (0, 0, 0)
    bold = ImageFont.truetype(FONT.replace("DejaVuSans", "DejaVuSans-Bold"), round(20 / 72 * 200))
    d.text((round(0.06 * w), round(0.03 * h)), INVOICE_LINES[0], fill=ink, font=bold)
    d.text((round(0.75 * w), round(0.03 * h)), "FACTURE", fill=ink, font=bold)
    font = ImageFont.truetype(FONT, round(11 / 72 * 200))
    d.text((round(0.06 * w), round(0.09 * h)), INVOICE_LINES[2], fill=ink, font=font)
    return np.asarray(img)[:, :, ::-1].copy()


def test_a_letterhead_printed_as_a_dark_band_stays_on_the_photographed_sheet(settings):
    # The strongest edge is the one between paper and band: the outline found first stops there and
    # the band, clinic name and SIRET with it, was cut off the page.
    from tests.render import photo_of

    photo = photo_of(_banded_invoice(band=True), PHOTO_CORNERS, table=(108, 115, 109))  # closer to band than paper
    quad = sheet.find_sheet(photo)
    assert quad is not None
    assert np.abs(quad - PHOTO_CORNERS).max() < 0.01 * np.hypot(*photo.shape[:2])
    out = normalise_page(image_page(photo, 130.0), settings)
    h, w = out.image.shape[:2]
    text = ocr_image(ocr_ready(out.image, out.dpi), settings, region=(0, 0, w, h // 5)).text
    assert "732 829 320 00074" in text


@pytest.mark.parametrize("band", [True, False])
@pytest.mark.parametrize("table", [(60, 60, 60), (150, 160, 170)])
def test_a_shadow_cast_along_the_sheet_is_not_taken_for_paper(band, table):
    from tests.render import photo_of

    photo = photo_of(_banded_invoice(band), PHOTO_CORNERS, table=table, shadow=(35, 45), seed=1)
    quad = sheet.find_sheet(photo)
    assert quad is not None
    assert np.abs(quad - PHOTO_CORNERS).max() < 0.01 * np.hypot(*photo.shape[:2])


def test_a_turned_care_sheet_runs_on_past_its_vet_band_to_the_paper_edge(settings):
    """A phone photo (from a generated dossier) of a care sheet turned a little, its vet section's edge
    close to the photo's frame. The outline found first stops at the dark band heading that section;
    looking beyond it, the strip out to the paper's edge is crossed by the frame, and the whole strip
    had to lie in the photo: the sheet was cut at the band, the vet's stamp and signature with it
    ('une partie de la feuille manque sur l'image', 2 care sheets in a fresh 200-dossier draw). Each
    part of the edge across now counts where the photo shows it; and the look beyond is taken again
    from the new side, as long as the sheet runs on (a band, then the paper's edge)."""
    from extractors.care_sheet.read import read_care_sheet

    path = REPO_ROOT / "tests" / "data" / "care_sheet_photo_vet_band.jpg"
    page = normalise_page(load_file(path, path.name, settings).pages[0], settings)
    assert "perspective" in page.steps
    facts = read_care_sheet(page, settings)
    assert facts.registered and facts.vet_stamp and facts.vet_signature, facts.notes


def test_a_sheet_running_out_of_the_photo_is_not_cut_across_by_a_false_outline(settings):
    """A phone photo (from a generated dossier) of a care sheet whose bottom corner lies outside the
    frame: the watershed leaks in where the paper touches the frame and its outline cuts across the
    paper, under the vet's section; the sheet was warped to that outline and the vet's stamp and
    signature were 'hors de l'image' (an invoice's header was cut the same way: 'document coupé').
    Every side of an outline must be the paper's edge (a colour step across it along at least half
    its length); this one is not, so the photo is kept unwarped and the form registration finds it."""
    from extractors.care_sheet.read import read_care_sheet

    path = REPO_ROOT / "tests" / "data" / "care_sheet_photo_out_of_frame.jpg"
    raw = load_file(path, path.name, settings).pages[0]
    assert sheet.find_sheet(raw.image) is None
    page = normalise_page(raw, settings)
    assert "perspective" not in page.steps
    facts = read_care_sheet(page, settings)
    assert facts.registered and facts.vet_stamp and facts.vet_signature, facts.notes


def _words(text) -> set[str]:
    return {w.text for w in text.words if sum(c.isalnum() for c in w.text) >= 3}


@needs_real
@pytest.mark.parametrize("tilt", [9.0, 14.0])
def test_a_crooked_scan_is_turned_back_and_reads_like_a_straight_one(settings, tilt):
    """A sheet laid crooked on the scanner (no sheet edge to find): Tesseract read 0.41-0.48 of the
    words at 8 degrees and 0.22 at 12, when only tilts up to 5 degrees were turned back."""
    row = next(r for r in captures() if r["capture_file"].endswith("i2d_free_fiber_scan.png"))
    path = REAL / row["capture_file"]
    straight = normalise_page(load_file(path, path.name, settings).pages[0], settings)
    page = load_file(path, path.name, settings).pages[0]
    h, w = page.image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), tilt, 1.0)
    crooked = cv2.warpAffine(page.image, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=(255, 255, 255))
    out = normalise_page(image_page(crooked, page.dpi), settings)
    step = next(s for s in out.steps if s.startswith("deskew_"))
    assert float(step.split("_")[1]) == pytest.approx(-tilt - float(row["skew_deg"]), abs=1.0)
    corners = out.transform @ np.array([[0, w, 0, w], [0, 0, h, h], [1, 1, 1, 1]], float)
    assert corners[0].min() > -1 and corners[0].max() < out.image.shape[1] + 1  # nothing cut off
    assert corners[1].min() > -1 and corners[1].max() < out.image.shape[0] + 1
    truth = _words(ocr_image(ocr_ready(straight.image, straight.dpi), settings))
    read = _words(ocr_image(ocr_ready(out.image, out.dpi), settings))
    assert len(truth & read) >= 0.9 * len(truth)


def test_a_picture_whose_marks_line_up_on_a_slant_is_not_turned(settings):
    """Three rows of marks at 12 degrees (an x-ray's vertebrae, a pattern) are not a tilted page."""
    img = np.full((1200, 1600, 3), 235, np.uint8)
    for row in range(3):
        for i in range(14):
            x, y = 200 + i * 80, 400 + row * 200
            cv2.rectangle(img, (x, y), (x + 40, y + 30), (40, 40, 40), -1)
    m = cv2.getRotationMatrix2D((800, 600), 12.0, 1.0)
    img = cv2.warpAffine(img, m, (1600, 1200), borderValue=(235, 235, 235))
    layout = geometry.text_layout(img)
    assert layout.skew_deg == pytest.approx(-12.0, abs=1.0) and layout.skew_support == 0.0
    assert not any(s.startswith("deskew_") for s in normalise_page(image_page(img), settings).steps)


def test_up_or_down_is_as_sure_on_a_short_note_as_its_characters_allow():
    """Six lines of text: too few to vouch for a steep tilt (skew_support 0), plenty to tell up from
    down. The up/down confidence was once scaled by the tilt's support instead of the characters seen."""
    from tests.render import text_page

    note = text_page(["Ordonnance du 12/10/2017 pour le chat MOZART, 4 ans, 5,2 kg."] * 6)
    layout = geometry.text_layout(note)
    assert layout.skew_support == 0.0
    assert layout.rotation == 0 and layout.confidence >= Settings().orientation_min_confidence


# --- the one paper-flattening recipe (geometry.paper_level) and its three callers --------------------------
# The golden sums pin each caller's output on the shadowed blank form bit for bit: they are the outputs the
# three separate implementations gave before they became calls of paper_level (commit "geometry.paper_level").


@pytest.fixture(scope="module")
def shadowed_form(form) -> tuple[np.ndarray, np.ndarray]:
    """The blank form under warm light fading to 45 % across it, and the mask of its bare paper."""
    w = form.shape[1]
    shade = np.linspace(1.0, 0.45, w, dtype=np.float32)[None, :, None] * np.float32([0.8, 0.92, 1.0])
    return np.clip(form * shade, 0, 255).astype(np.uint8), geometry.to_grey(form) > 240


def _halves(paper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(paper.shape[1])
    return paper & (x < paper.shape[1] // 4), paper & (x > 3 * paper.shape[1] // 4)


def test_the_page_flattening_brings_shadowed_paper_to_one_and_keeps_ink_dark(form, shadowed_form):
    shot, paper = shadowed_form
    grey = geometry.to_grey(shot)
    lit, shaded = _halves(paper)
    assert np.median(grey[lit]) - np.median(grey[shaded]) > 90  # the shadow is real
    bg = geometry.paper_background(grey)
    assert bg.dtype == np.float32 and bg.shape == grey.shape and bg.min() >= 1.0
    f = geometry.flat(grey)
    assert abs(np.median(f[lit]) - 1.0) < 0.03 and abs(np.median(f[shaded]) - 1.0) < 0.03
    assert np.median(f[geometry.to_grey(form) < 60]) < 0.2
    assert float(bg.sum(dtype=np.float64)) == 379101343.0  # golden
    assert geometry.paper_background(shot).shape == shot.shape  # colour in, colour out


def test_the_care_sheet_light_flattening_evens_the_paper_and_keeps_the_fiducials_black(shadowed_form):
    from extractors.care_sheet import form as care_form

    shot, paper = shadowed_form
    flat = care_form._flatten_light(geometry.to_grey(shot))
    lit, shaded = _halves(paper)
    assert abs(float(np.median(flat[lit])) - float(np.median(flat[shaded]))) <= 3
    assert np.percentile(flat[paper], 1) >= 225 and np.percentile(flat[paper], 99) <= 235  # paper at 235
    for zone in ("fiducial_top_left", "fiducial_bottom_right"):  # the lit and the shaded corner
        x0, y0, x1, y1 = care_form.zone_px(zone, margin_mm=-1)
        assert flat[y0:y1, x0:x1].max() < care_form.FIDUCIAL_DARK_MAX
    assert int(flat.sum(dtype=np.int64)) == 464171737  # golden


def test_the_ink_white_balance_whitens_tinted_shaded_paper_and_ignores_what_lies_outside_the_photo(shadowed_form):
    from extractors.care_sheet import ink

    shot, paper = shadowed_form
    lit, shaded = _halves(paper)
    balanced = ink.white_balance(shot)
    assert (np.median(balanced[lit], axis=0) >= 250).all() and (np.median(balanced[shaded], axis=0) >= 250).all()
    assert int(balanced.sum(dtype=np.int64)) == 1541892741  # golden
    # A bright table beyond the photo's edge must not lend its level to the paper beside it.
    w = shot.shape[1]
    on_table = shot.copy()
    on_table[:, w - 200 :] = 255
    valid = np.ones(shot.shape[:2], bool)
    valid[:, w - 200 :] = False
    with_valid, without = ink.white_balance(on_table, valid), ink.white_balance(on_table)
    for d in (1, 3, 6):
        col = w - 200 - d
        assert (np.median(with_valid[paper[:, col], col], axis=0) >= 250).all()
        assert (np.median(without[paper[:, col], col], axis=0) < 200).all()
    assert int(with_valid.sum(dtype=np.int64)) == 1555623112  # golden
