"""Registration of real rendered care sheets onto the blank form (extractors/care_sheet/form.py, layout.py)."""
from __future__ import annotations

import sys
from dataclasses import replace

import cv2
import numpy as np
import pytest

from extractors.care_sheet import form, layout
from extractors.care_sheet.read import looks_like_care_sheet
from core.settings import REPO_ROOT
from tests.render import INVOICE_LINES, text_page

sys.path.insert(0, str(REPO_ROOT / "bench"))
from care_sheet_synth import Scenario, capture, render_sheet, rng_for  # noqa: E402


def true_error_mm(form_to_image: np.ndarray, homography: np.ndarray) -> float:
    """Worst distance over the page between where the truth and the registration put a point (mm)."""
    xs, ys = np.meshgrid(np.linspace(10, 200, 8), np.linspace(10, 287, 10))
    p = np.stack([xs.ravel(), ys.ravel()], 1).reshape(-1, 1, 2)
    back = cv2.perspectiveTransform(cv2.perspectiveTransform(p, form_to_image), homography)
    return float(np.linalg.norm(back.reshape(-1, 2) / layout.PX_PER_MM - p.reshape(-1, 2), axis=1).max())


@pytest.fixture(scope="module")
def sheet() -> np.ndarray:
    return render_sheet(Scenario(font_family="test"), rng_for("test", 100))


def test_zones_map_mm_to_form_pixels():
    x0, y0, x1, y1 = layout.zone_px("vet_stamp_signature")
    assert (x0, y1) == (round(114.0 * 150 / 25.4), round(281.2 * 150 / 25.4))
    assert layout.blank().shape[:2] == (1754, 1241)
    assert len(form.landmarks()) > 100  # printed points spread over the page


@pytest.mark.parametrize("kind, tolerance_mm", [("clean", 0.2), ("scan_grey", 0.3), ("photo", 0.5)])
def test_register_captures(sheet, kind, tolerance_mm):
    cap = capture(sheet, kind, rng_for("test", 101))
    reg = form.register(cap.image)
    assert reg.ok and reg.method == "fiducials"
    assert true_error_mm(cap.form_to_image, reg.homography) < tolerance_mm
    assert reg.error_mm < 0.3  # the estimate (landmark residual) is honest too
    assert reg.form_image.shape[:2] == layout.blank().shape[:2]


def test_register_upside_down_scan(sheet):
    cap = capture(sheet, "scan_grey", rng_for("test", 102))
    h, w = cap.image.shape[:2]
    flipped = cv2.rotate(cap.image, cv2.ROTATE_180)
    truth = np.array([[-1, 0, w - 1], [0, -1, h - 1], [0, 0, 1.0]]) @ cap.form_to_image
    reg = form.register(flipped)
    assert reg.ok
    assert true_error_mm(truth, reg.homography) < 0.3


def test_register_without_a_fiducial_falls_back_on_features(sheet):
    cap = capture(sheet, "photo", rng_for("test", 103))
    img = cap.image.copy()
    corner = cv2.perspectiveTransform(np.array([[[200.0, 287.0]]]), cap.form_to_image)[0, 0]
    cv2.circle(img, (int(corner[0]), int(corner[1])), 45, (90, 110, 100), -1)  # a thumb over the square
    reg = form.register(img)
    assert reg.ok and reg.method == "features"
    assert true_error_mm(cap.form_to_image, reg.homography) < 0.5


def test_not_our_form():
    invoice = text_page(INVOICE_LINES)
    reg = form.register(invoice)
    assert not reg.ok and reg.form_image is None
    assert looks_like_care_sheet(invoice) < 0.5
    assert looks_like_care_sheet(np.full((2339, 1654, 3), 255, np.uint8)) < 0.5


def test_looks_like_care_sheet_on_our_form(sheet):
    photo = capture(sheet, "photo", rng_for("test", 104)).image
    assert looks_like_care_sheet(photo) > 0.8
    blank_scan = capture(render_sheet(replace(Scenario(), vet_stamp=None, vet_signature=None, owner_signature=None,
                                              motif=None, diagnosis_lines=0, owner_date=None, vet_date=None,
                                              clutter=False), rng_for("test", 105)),
                         "scan_grey", rng_for("test", 106)).image
    assert looks_like_care_sheet(blank_scan) > 0.8
