"""The QR code of pre-filled care sheets: decoded in `qr_box` and compared with the dossier's manifest."""
from __future__ import annotations

import re
import unicodedata

import cv2
import numpy as np

from extractors.care_sheet.form import Registration
from extractors.care_sheet.ink import InkMap, crop
from extractors.care_sheet.layout import mm_box, zone_px, zones

QR_PREFIX = "SVFS1"  # the payload format our pre-filled sheets print: SVFS1|contract|animal
QR_MIN_INK = 0.15  # share of the QR box inked before a decode is tried (a QR code is about half black)
QR_INSET_MM = 1.0  # that share is measured this far inside the box's printed border
QR_SEARCH_MARGIN_MM = 4.0  # decoded this much around qr_box: a decoder needs the whole code and its quiet zone


def _norm(s: str | None) -> str:
    s = unicodedata.normalize("NFKD", s or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]", "", s.upper())


def _decode(image: np.ndarray, reg: Registration) -> str | None:
    """The payload of the QR code in `qr_box`: on the original image (at 1x, then 2x), then on the warped crop."""
    corners = np.array([[x, y] for x in (0, 2) for y in (1, 3)], int)
    box = mm_box(zones()["qr_box"]["bbox"], QR_SEARCH_MARGIN_MM)
    pts = np.float64([[box[i], box[j]] for i, j in corners]).reshape(-1, 1, 2)
    inv = np.linalg.inv(reg.homography)
    src = cv2.perspectiveTransform(pts, inv).reshape(-1, 2)
    x0, y0 = np.floor(src.min(0)).astype(int)
    x1, y1 = np.ceil(src.max(0)).astype(int)
    h, w = image.shape[:2]
    candidates = [image[max(0, y0):min(h, y1), max(0, x0):min(w, x1)], crop(reg.form_image, box)]
    det = cv2.QRCodeDetector()
    for c in candidates:
        if c.size == 0:
            continue
        for scale in (1.0, 2.0):
            img = c if scale == 1.0 else cv2.resize(c, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
            try:
                text, _, _ = det.detectAndDecode(img)
            except cv2.error:
                text = ""
            if text:
                return text
    return None


def read_qr(image: np.ndarray, reg: Registration, expected_contract: str | None,
            expected_animal: str | None) -> tuple[str | None, bool | None, str]:
    """Decode the QR code in `qr_box` (payload SVFS1|contract|animal) and compare it with the manifest:
    (payload or None, matches the manifest or None when nothing to compare, a note for the operator or "")."""
    payload = _decode(image, reg)
    if payload is None:
        return None, None, ""
    parts = payload.split("|")
    if len(parts) != 3 or parts[0] != QR_PREFIX:
        return payload, None, f"QR code lu mais pas au format {QR_PREFIX}|contrat|animal: {payload!r}"
    checks = []
    if expected_contract:
        checks.append(("contrat", parts[1], expected_contract))
    if expected_animal:
        checks.append(("animal", parts[2], expected_animal))
    if not checks:
        return payload, None, f"QR code {payload!r}, rien à comparer dans le manifeste"
    bad = [f"{what} {got!r} sur la feuille, {want!r} dans le manifeste" for what, got, want in checks
           if _norm(got) != _norm(want)]
    if bad:
        return payload, False, "feuille pré-remplie pour un autre dossier ? " + "; ".join(bad)
    return payload, True, f"QR code {payload!r} conforme au manifeste"


def qr_on_sheet(image: np.ndarray, reg: Registration, ink: InkMap, expected_contract: str | None,
                expected_animal: str | None) -> tuple[str | None, bool | None, str]:
    """`read_qr` when the QR box holds ink; (None, None, "") when it is blank (a sheet not pre-filled)."""
    if crop(ink.ink, zone_px("qr_box", margin_mm=-QR_INSET_MM)).mean() >= QR_MIN_INK:
        return read_qr(image, reg, expected_contract, expected_animal)
    return None, None, ""
