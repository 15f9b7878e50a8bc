"""Real rubber stamps and real signatures, cut from real public scans, pasted into the care sheet's vet box.

The crops live in bench/data/vetbox_real/ (provenance and licences in its README.md; `CROPS` below says
what each one holds, read by eye). `extract(src_dir)` re-cuts them from the source images (the
repositories' files, named as in the README). Pasting (`make_sheet`) multiplies a crop's ink into the
blank form at 200 dpi, rotated, shifted (a fifth of them half outside the box), and the page is then
captured by bench/vetbox_indep.capture (render, scan, photo) — the bench's own drawing code is not used.

Splits: every crop is in "dev" or "held" (stamps alternately in name order, signatures by writer), and a
sheet only combines crops of its own split.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import cv2
import numpy as np

from vetbox_indep import DPI, KINDS, MM, VetCase, blank_page, capture, vet_area

DATA = Path(__file__).resolve().parent / "data" / "vetbox_real"
# crop -> (source image, box x0 y0 x1 y1 in source px or None for a coloured-ink extraction, source dpi,
#          holds a signature, split)
CROPS = {
    "stamp_md10.png": ("mullevik/data/documents/stamps/faktúra.pdf-0.jpg", None, 300, True, "dev"),
    "stamp_md11.png": ("mullevik/data/documents/stamps/faktúra.pdf-1.jpg", None, 300, True, "held"),
    "stamp_md3.png": ("mullevik/…/Faktura č. 2016275 za 12_2016.pdf-1.jpg", None, 300, True, "dev"),
    "stamp_md8_paid.png": ("mullevik/data/documents/stamps/faktura-237279.pdf.jpg", None, 300, False, "held"),
    "stamp_md8_grey.png": ("mullevik/data/documents/stamps/faktura-237279.pdf.jpg", None, 300, True, "dev"),
    "stamp_md9_dater.png": ("mullevik/…/kostýmy MŠ + ZŠ - 8.2.2017 - zálohová faktura k č. 2.PDF.jpg", None, 300,
                            False, "held"),
    "stamp_vt_teal.png": ("no-one2k/997353b.jpg", None, 190, False, "dev"),
    "stamp_vt_violet.png": ("no-one2k/997353b.jpg", None, 190, False, "held"),
    "stamp_md5_agos.png": ("mullevik/…/Faktura č. 2016275 za 12_2016.pdf-10.jpg", (540, 2985, 1250, 3290), 300, True,
                           "dev"),
    "stamp_md5_blue.png": ("mullevik/…/Faktura č. 2016275 za 12_2016.pdf-10.jpg", (700, 2540, 1360, 2900), 300, True,
                           "held"),
    "stamp_md6_black.png": ("mullevik/data/documents/stamps/Papercon_13_40012_colorstav2130553.pdf.jpg",
                            (1450, 2505, 2120, 2830), 300, True, "dev"),
    "stamp_md7_table.png": ("mullevik/data/documents/stamps/f_2011_094.pdf.jpg", (1430, 1640, 2395, 2150), 300,
                            False, "held"),
    "stamp_md7_black.png": ("mullevik/data/documents/stamps/f_2011_094.pdf.jpg", (540, 1655, 1320, 2040), 300, True,
                            "dev"),
}
SIGNATURE_SPLIT = {"B-S-1": "dev", "H-S-1": "dev", "E-S-1": "dev", "B-S-2": "held", "H-S-2": "held", "V-S-1": "held"}
CASES = ("real_stamp", "stamp_plus_signature", "signature", "neither")


def balanced(img: np.ndarray) -> np.ndarray:
    """The image divided by its paper level (a closing at 1/4 scale): white paper, the ink's own colour."""
    small = cv2.resize(img, None, fx=0.25, fy=0.25)
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    paper = cv2.resize(cv2.GaussianBlur(paper, (0, 0), 3), (img.shape[1], img.shape[0]))
    return np.clip(img.astype(np.float32) / np.maximum(paper.astype(np.float32), 30) * 255, 0, 255).astype(np.uint8)


def coloured_ink(bal: np.ndarray) -> np.ndarray:
    """Coloured ink pixels (stamps, ballpoint) of a white-balanced scan: not black print, not yellow highlighter."""
    lab = cv2.cvtColor(bal, cv2.COLOR_BGR2Lab).astype(np.float32)
    a, b = lab[..., 1] - 128, lab[..., 2] - 128
    hue = np.degrees(np.arctan2(b, a))
    return (np.hypot(a, b) > 18) & (255 - bal.min(2).astype(np.float32) > 45) & ~((hue > 60) & (hue < 110))


def extract(image: np.ndarray, box: tuple[int, int, int, int] | None, dpi: float) -> list[np.ndarray]:
    """Crops at DPI: the box given (white-balanced), or every 14-90 mm cluster of coloured ink (ink only)."""
    bal = balanced(image)
    if box is not None:
        x0, y0, x1, y1 = box
        return [cv2.resize(bal[y0:y1, x0:x1], None, fx=DPI / dpi, fy=DPI / dpi, interpolation=cv2.INTER_AREA)]
    ink = coloured_ink(bal)
    mm = dpi / 25.4
    k = int(4 * mm) | 1
    n, _, st, _ = cv2.connectedComponentsWithStats(cv2.dilate(ink.astype(np.uint8), np.ones((k, k), np.uint8)))
    out = []
    for x, y, w, h, _ in st[1:]:
        if 14 * mm <= w <= 90 * mm and 8 * mm <= h <= 70 * mm and ink[y:y + h, x:x + w].sum() >= 40 * mm * mm:
            m = int(mm)
            X0, Y0, X1, Y1 = max(0, x - m), max(0, y - m), x + w + m, y + h + m
            c = bal[Y0:Y1, X0:X1].copy()
            c[~(cv2.dilate(ink[Y0:Y1, X0:X1].astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)] = 255
            out.append(cv2.resize(c, None, fx=DPI / dpi, fy=DPI / dpi, interpolation=cv2.INTER_AREA))
    return out


@functools.lru_cache(maxsize=64)
def _load(name: str) -> np.ndarray:
    img = cv2.imread(str(DATA / name), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(name)
    return img


def signatures(split: str) -> list[str]:
    return sorted(p.name for p in (DATA / "signatures").glob("*.png")
                  if SIGNATURE_SPLIT.get(p.name[:5]) == split)


def stamps(split: str) -> list[str]:
    return sorted(n for n, v in CROPS.items() if v[4] == split)


def _paste(page: np.ndarray, crop_bgr: np.ndarray, x_mm: float, y_mm: float, angle: float, scale: float) -> None:
    """Multiply a white-background crop (BGR uint8 at DPI) into the page, centred at (x_mm, y_mm)."""
    rgb = crop_bgr[:, :, ::-1].astype(np.float32) / 255
    if scale != 1.0:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = rgb.shape[:2]
    d = int(np.hypot(h, w)) + 4
    big = np.ones((d, d, 3), np.float32)
    big[(d - h) // 2:(d - h) // 2 + h, (d - w) // 2:(d - w) // 2 + w] = rgb
    M = cv2.getRotationMatrix2D((d / 2, d / 2), angle, 1.0)
    big = cv2.warpAffine(big, M, (d, d), flags=cv2.INTER_LINEAR, borderValue=(1, 1, 1))
    x0, y0 = int(round(x_mm * MM - d / 2)), int(round(y_mm * MM - d / 2))
    X0, Y0, X1, Y1 = max(0, x0), max(0, y0), min(page.shape[1], x0 + d), min(page.shape[0], y0 + d)
    page[Y0:Y1, X0:X1] *= big[Y0 - y0:Y1 - y0, X0 - x0:X1 - x0]  # ink multiplies onto the paper


def rng_for(split: str, i: int) -> np.random.Generator:
    d = hashlib.blake2b(f"vetbox-real/{split}/{i}".encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(d, "big"))


def make_sheet(split: str, i: int) -> tuple[np.ndarray, float, VetCase]:
    """Sheet i of a split: a real stamp crop (with the signature it carries, if any), a real stamp with a
    real signature pasted across or beside it, a real signature alone, or an empty box."""
    rng = rng_for(split, i)
    case = CASES[i % len(CASES)]
    kind = KINDS[(i // len(CASES)) % len(KINDS)]
    page = blank_page().copy()
    x0, y0, x1, y1 = vet_area()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    stamped, signed, shape = False, False, None
    if case in ("real_stamp", "stamp_plus_signature"):
        pool = stamps(split)
        name = pool[int(rng.integers(len(pool)))]
        crop = _load(name)
        scale = min(1.0, 62 * MM / crop.shape[1], 34 * MM / crop.shape[0]) * rng.uniform(0.85, 1.0)
        sx, sy = cx + rng.uniform(-10, 10), cy + rng.uniform(-2, 2)
        if rng.random() < 0.2:  # half outside the box
            sx += rng.choice([-1, 1]) * rng.uniform(18, 26)
        angle = float(np.clip(rng.normal(0, 10), -30, 30))
        _paste(page, crop, sx, sy, angle, scale)
        stamped, signed, shape = True, CROPS[name][3], name
    if case in ("stamp_plus_signature", "signature"):
        sig = _load("signatures/" + signatures(split)[int(rng.integers(len(signatures(split))))])
        w_mm = rng.uniform(24, 42)
        scale = w_mm * MM / sig.shape[1]
        if case == "signature":
            px, py = cx + rng.uniform(-15, 15), cy + rng.uniform(-3, 3)
        else:
            across = rng.random() < 0.6 and not CROPS[name][3]  # a crop signed already gets one beside
            px, py = (sx + rng.uniform(-8, 8), sy + rng.uniform(-3, 3)) if across else \
                     (float(np.clip(2 * cx - sx, x0 + w_mm / 2, x1 - w_mm / 2)), cy + rng.uniform(-3, 3))
        _paste(page, sig, px, py, rng.uniform(-12, 8), scale)
        signed = True
    img, dpi = capture(page, kind, rng)
    return img, dpi, VetCase(case, shape, None, signed, stamped, kind)
