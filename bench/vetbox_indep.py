"""A second, independent way of filling the care sheet's vet box: other signatures, other stamps, other captures.

Shares no code and no font with bench/care_sheet_draw.py, care_sheet_synth.py, care_sheet_capture.py
or sample_docs/gen (import-checked by tests/test_vetbox_families.py):

- *Signatures* are pen trajectories: a carrier moving right at a varying speed, plus a sum of 2-4
  oscillations in x and y (loops when the x oscillation outruns the carrier), pen lifts, an optional
  Bézier flourish/underline; the pen's width follows its pressure (slower = wider) and each point is a
  disc stamped along the path (no font).
- *Stamps*: round (one or two rings, text set along the ring, a star/centre line), oval, rectangle
  (single, double, rounded corners drawn as arcs), frameless (2-4 lines), dater (a frame, a large
  date, one or two small lines). Fonts: FreeMono Bold, FreeSerif Bold, DejaVu Serif, Because We
  Build / Create / Organize, Comic Neue Bold (none of them used by the other generators). Inks:
  black, grey, blue, violet, red; inking uneven (low-frequency field), faint (down to 25 %),
  partly missing (a fading half-plane), rotated ±35°, some half outside the box.
- *Captures*: the sheet as a 200-dpi render, a grey or colour flatbed scan (resampled, gamma, unsharp,
  JPEG) or a phone photo (homography, vignetting, warm cast, JPEG), all written here.

Cases (the truth): neither, stamp only, signature only, both beside, signature across the stamp's text,
signature in the stamp's own ink, handwritten lines instead of a stamp (no stamp).
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parent.parent
FORM = REPO / "extractors" / "care_sheet" / "feuille_de_soins"
DPI = 200
MM = DPI / 25.4
STAMP_FONTS = ["/usr/share/fonts/truetype/freefont/FreeMonoBold.ttf",
               "/usr/share/fonts/truetype/freefont/FreeSerifBold.ttf",
               "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
               "/usr/share/fonts/opentype/bwht/BecauseWeBuild-Regular.otf",
               "/usr/share/fonts/opentype/bwht/BecauseWeCreate-Regular.otf",
               "/usr/share/fonts/opentype/bwht/BecauseWeOrganize-Regular.otf",
               "/usr/share/fonts/opentype/comic-neue/ComicNeue-Bold.otf"]
HAND_FONTS = ["/usr/share/fonts/opentype/dancingscript/DancingScript-Bold.otf",
              "/usr/share/fonts/opentype/comic-neue/ComicNeue-BoldItalic.otf",
              "/usr/share/fonts/truetype/klee/KleeOne-SemiBold.ttf"]
INKS = {"black": (0.16, 0.16, 0.17), "grey": (0.42, 0.42, 0.44), "blue": (0.16, 0.27, 0.72),
        "violet": (0.45, 0.2, 0.58), "red": (0.72, 0.12, 0.16)}
PENS = {"blue": (0.1, 0.15, 0.55), "black": (0.08, 0.08, 0.1), "navy": (0.12, 0.13, 0.3)}
CASES = ("neither", "stamp", "signature", "both_beside", "across_text", "stamp_ink", "handwriting")
KINDS = ("clean", "scan_grey", "scan_colour", "photo")
WORDS = ["CLINIQUE VÉTÉRINAIRE", "CABINET VÉTÉRINAIRE", "DOCTEUR VÉTÉRINAIRE", "Dr", "SELARL", "des Tilleuls",
         "du Parc", "Saint-Roch", "des Alpes", "de la Gare", "ORDRE N°", "SIRET", "Tél.", "rue", "avenue", "place"]
SURNAMES = ["FAURE", "GIRAUD", "CHEVALIER", "BLANC", "GUERIN", "BOYER", "GARNIER", "ROUSSEL", "MERCIER"]
CITIES = ["CHAMBÉRY", "ROANNE", "BOURG-EN-BRESSE", "AIX-LES-BAINS", "ANNEMASSE", "OYONNAX", "RUMILLY"]
MONTHS = ["JAN", "FEV", "MARS", "AVR", "MAI", "JUIN", "JUIL", "AOUT", "SEPT", "OCT", "NOV", "DEC"]


def rng_for(split: str, i: int) -> np.random.Generator:
    d = hashlib.blake2b(f"vetbox-indep/{split}/{i}".encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(d, "big"))


@functools.lru_cache(maxsize=1)
def vet_area() -> tuple[float, float, float, float]:
    zones = json.loads((FORM / "layout.json").read_text())["zones"]
    return tuple(next(z for z in zones if z["id"] == "vet_stamp_signature")["writing_area"])


@functools.lru_cache(maxsize=1)
def blank_page() -> np.ndarray:
    """The blank form rendered from its PDF at DPI (float32 RGB 0..1), cached in the temp folder."""
    out = Path(tempfile.gettempdir()) / "vetbox_indep" / "blank"
    if not out.with_suffix(".png").exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["pdftoppm", "-r", str(DPI), "-png", "-singlefile", str(FORM / "feuille_de_soins_blank.pdf"),
                        str(out)], check=True)
    return np.asarray(Image.open(out.with_suffix(".png")).convert("RGB"), np.float32) / 255


def apply_ink(page: np.ndarray, cover: np.ndarray, colour, x_mm: float, y_mm: float) -> None:
    """Multiply ink of coverage `cover` (float 0..1, centred on (x_mm, y_mm)) into the page, in place."""
    h, w = cover.shape
    x0, y0 = int(round(x_mm * MM - w / 2)), int(round(y_mm * MM - h / 2))
    X0, Y0, X1, Y1 = max(0, x0), max(0, y0), min(page.shape[1], x0 + w), min(page.shape[0], y0 + h)
    if X1 <= X0 or Y1 <= Y0:
        return
    c = cover[Y0 - y0:Y1 - y0, X0 - x0:X1 - x0, None]
    page[Y0:Y1, X0:X1] *= 1 - c * (1 - np.asarray(colour, np.float32))


# --- signatures: pen trajectories -------------------------------------------------------------------------


def trajectory(rng: np.random.Generator, width_mm: float, height_mm: float) -> list[np.ndarray]:
    """Pen-down strokes (arrays of (x, y, pressure) in mm, centred on 0) of a signature."""
    n = 900
    t = np.linspace(0, 1, n)
    speed = 1 + 0.4 * np.sin(2 * np.pi * (rng.uniform(1, 3) * t + rng.random()))
    x = np.cumsum(speed)
    x = (x / x[-1] - 0.5) * width_mm
    y = np.zeros(n)
    cycles = rng.uniform(3, 9)
    for _ in range(rng.integers(2, 5)):
        f = cycles * rng.uniform(0.5, 2.0)
        ph = rng.uniform(0, 2 * np.pi)
        y += rng.uniform(0.15, 0.5) * height_mm * np.sin(2 * np.pi * f * t + ph)
        x += rng.uniform(0.0, 0.9) * width_mm / (2 * np.pi * cycles) * np.cos(2 * np.pi * f * t + ph)
    y += rng.uniform(-0.25, 0.25) * height_mm * t  # a slope
    y *= 0.5 * height_mm / max(1e-6, np.abs(y).max())
    v = np.hypot(np.gradient(x), np.gradient(y))
    pressure = np.clip(1.2 - v / (v.mean() * 2.2), 0.35, 1.0) * (0.85 + 0.15 * np.sin(7 * t + rng.random()))
    pts = np.stack([x, y, pressure], 1)
    cuts = sorted(rng.choice(np.arange(100, n - 100), size=int(rng.integers(0, 3)), replace=False).tolist())
    strokes = [s for s in np.split(pts, cuts) if len(s) > 20]
    if rng.random() < 0.5:  # a flourish: a cubic Bézier under or through the name
        p = np.array([[-0.55 * width_mm, rng.uniform(0.2, 0.7) * height_mm],
                      [rng.uniform(-0.2, 0.2) * width_mm, rng.uniform(0.6, 1.1) * height_mm],
                      [rng.uniform(0.1, 0.4) * width_mm, rng.uniform(-0.2, 0.6) * height_mm],
                      [0.6 * width_mm, rng.uniform(-0.3, 0.4) * height_mm]])
        u = np.linspace(0, 1, 200)[:, None]
        b = (1 - u) ** 3 * p[0] + 3 * (1 - u) ** 2 * u * p[1] + 3 * (1 - u) * u ** 2 * p[2] + u ** 3 * p[3]
        strokes.append(np.hstack([b, np.linspace(0.9, 0.4, 200)[:, None]]))
    return strokes


def pen_cover(strokes: list[np.ndarray], pen_mm: float, angle: float) -> np.ndarray:
    """Coverage (float 0..1) of strokes drawn with a pen of nominal width pen_mm, rotated by angle (degrees)."""
    ss = 3  # supersampling
    a = math.radians(angle)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    pts = [np.hstack([s[:, :2] @ rot.T, s[:, 2:]]) for s in strokes]
    allp = np.concatenate(pts)
    lo, hi = allp[:, :2].min(0) - 2, allp[:, :2].max(0) + 2
    size = np.ceil((hi - lo) * MM * ss).astype(int)
    img = np.zeros((size[1], size[0]), np.uint8)
    for s in pts:
        q = (s[:, :2] - lo) * MM * ss
        for (x0, y0), (x1, y1), p in zip(q[:-1], q[1:], s[1:, 2]):
            r = max(1, int(round(pen_mm * p * MM * ss / 2)))
            cv2.line(img, (int(x0), int(y0)), (int(x1), int(y1)), 255, 2 * r, cv2.LINE_AA)
    c = cv2.resize(img, ((size[0] + 2) // ss, (size[1] + 2) // ss), interpolation=cv2.INTER_AREA)
    return c.astype(np.float32) / 255


# --- stamps --------------------------------------------------------------------------------------------------


def _font(path: str, cap_mm: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, max(6, int(round(cap_mm * MM * 1.4))))


def _text(draw: ImageDraw.ImageDraw, xy, s: str, font, anchor="mm") -> None:
    draw.text(xy, s, fill=255, font=font, anchor=anchor)


def _along_circle(img: Image.Image, s: str, font, cx: float, cy: float, r: float, centre: float, bottom: bool) -> None:
    """Text set along a circle of radius r (px), centred on angle `centre` (radians, clockwise from the top);
    `bottom`: read from left to right along the lower half (letters upright towards the centre)."""
    adv = [font.getlength(ch) * 1.08 / r for ch in s]
    a = centre - (sum(adv) / 2) * (-1 if bottom else 1)
    for ch, da in zip(s, adv):
        mid = a + (da / 2) * (-1 if bottom else 1)
        g = Image.new("L", (int(r), int(r)), 0)
        _text(ImageDraw.Draw(g), (g.width / 2, g.height / 2), ch, font)
        g = g.rotate(-math.degrees(mid) + (180 if bottom else 0), resample=Image.BILINEAR)
        px, py = cx + r * math.sin(mid), cy - r * math.cos(mid)
        img.paste(255, (int(px - g.width / 2), int(py - g.height / 2)), g)
        a += da * (-1 if bottom else 1)


def stamp_cover(rng: np.random.Generator, shape: str) -> np.ndarray:
    """Coverage of a rubber stamp's print (float 0..1), upright."""
    font = str(rng.choice(STAMP_FONTS))
    cap = rng.uniform(1.5, 2.4)
    lw = max(2, int(round(rng.uniform(0.3, 0.6) * MM)))
    name = f"Dr {rng.choice(SURNAMES)}"
    town = f"{rng.integers(1000, 9999) * 10} {rng.choice(CITIES)}"
    lines = [str(rng.choice(WORDS[:3])), name, f"{rng.integers(1, 90)} {rng.choice(WORDS[13:])} {rng.choice(WORDS[6:10])}",
             town, f"{rng.choice(['ORDRE N°', 'Tél.'])} {rng.integers(10000, 99999)}"]
    if shape in ("round", "round2"):
        d = rng.uniform(28, 40) * MM
        W = int(d + 4 * lw)
        img = Image.new("L", (W, W), 0)
        dr = ImageDraw.Draw(img)
        c = W / 2
        dr.ellipse([c - d / 2, c - d / 2, c + d / 2, c + d / 2], outline=255, width=lw)
        if shape == "round2":
            r2 = d / 2 - rng.uniform(5, 7) * MM
            dr.ellipse([c - r2, c - r2, c + r2, c + r2], outline=255, width=max(1, lw - 1))
        f = _font(font, cap)
        r_text = d / 2 - cap * MM * 1.2
        _along_circle(img, lines[0], f, c, c, r_text, 0.0, False)
        _along_circle(img, town.split(" ", 1)[1], f, c, c, r_text, math.pi, True)
        _text(dr, (c, c - cap * MM * 0.9), name, _font(font, cap))
        if rng.random() < 0.6:
            _text(dr, (c, c + cap * MM * 1.3), f"N° {rng.integers(10000, 99999)}", _font(font, cap * 0.9))
        return np.asarray(img, np.float32) / 255
    chosen = lines[: int(rng.integers(2, 5))] if shape != "dater" else [lines[0], town]
    fonts = [_font(font, cap * (1.2 if i == 1 else 1.0)) for i in range(len(chosen))]
    boxes = [f.getbbox(s, anchor="lt") for f, s in zip(fonts, chosen)]
    tw = max(b[2] - b[0] for b in boxes)
    lh = [b[3] - b[1] for b in boxes]
    gap = cap * MM * 0.6
    if shape == "dater":
        date = f"{rng.integers(1, 29):02d} {rng.choice(MONTHS)} {rng.integers(2015, 2018)}"
        df = _font(font, cap * rng.uniform(1.6, 2.2))
        db = df.getbbox(date, anchor="lt")
        chosen.insert(1, date)
        fonts.insert(1, df)
        lh.insert(1, db[3] - db[1])
        tw = max(tw, db[2] - db[0])
    th = sum(lh) + gap * (len(lh) - 1)
    pad = rng.uniform(2, 4) * MM
    W, H = int(tw + 2 * pad + 4 * lw), int(th + 2 * pad + 4 * lw)
    if shape == "oval":
        W, H = int(W * 1.3), int(H * 1.35)
    img = Image.new("L", (W, H), 0)
    dr = ImageDraw.Draw(img)
    y = (H - th) / 2
    for s, f, h in zip(chosen, fonts, lh):
        _text(dr, (W / 2, y), s, f, anchor="mt")
        y += h + gap
    m = lw
    if shape in ("rect", "dater"):
        dr.rectangle([m, m, W - m, H - m], outline=255, width=lw)
    elif shape == "double":
        dr.rectangle([m, m, W - m, H - m], outline=255, width=lw)
        k = m + int(1.2 * MM)
        dr.rectangle([k, k, W - k, H - k], outline=255, width=max(1, lw // 2))
    elif shape == "rounded":
        dr.rounded_rectangle([m, m, W - m, H - m], radius=int(rng.uniform(2, 5) * MM), outline=255, width=lw)
    elif shape == "oval":
        dr.ellipse([m, m, W - m, H - m], outline=255, width=lw)
    return np.asarray(img, np.float32) / 255


def weather(rng: np.random.Generator, cover: np.ndarray, strength: float, partial: bool) -> np.ndarray:
    """Uneven inking: a low-frequency field, pores, and (partial) a half-plane fading out."""
    h, w = cover.shape
    field = cv2.resize(rng.uniform(0, 1, (max(2, h // 40), max(2, w // 40))).astype(np.float32), (w, h),
                       interpolation=cv2.INTER_CUBIC)
    ink = cover * np.clip(strength * (0.55 + 0.7 * field), 0, 1)
    ink *= rng.random(cover.shape) > rng.uniform(0.0, 0.15)
    if partial:
        a = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w]
        s = ((xx - w / 2) * np.cos(a) + (yy - h / 2) * np.sin(a)) / (0.5 * max(h, w))
        ink *= np.clip(1.2 - 1.6 * np.clip(s, 0, None), 0, 1)
    return cv2.GaussianBlur(ink.astype(np.float32), (0, 0), 0.6)


def rotate_cover(c: np.ndarray, angle: float) -> np.ndarray:
    h, w = c.shape
    d = int(math.hypot(h, w)) + 4
    big = np.zeros((d, d), np.float32)
    big[(d - h) // 2:(d - h) // 2 + h, (d - w) // 2:(d - w) // 2 + w] = c
    M = cv2.getRotationMatrix2D((d / 2, d / 2), angle, 1.0)
    return cv2.warpAffine(big, M, (d, d), flags=cv2.INTER_LINEAR)


def handwriting_cover(rng: np.random.Generator) -> np.ndarray:
    """Two or three handwritten lines (the vet's name and address written instead of a stamp)."""
    f = _font(str(rng.choice(HAND_FONTS)), rng.uniform(2.6, 3.4))
    rows = [f"Dr {rng.choice(SURNAMES).title()}", f"{rng.integers(1, 90)} avenue du Parc", str(rng.choice(CITIES)).title()]
    rows = rows[: int(rng.integers(2, 4))]
    img = Image.new("L", (int(70 * MM), int(len(rows) * 6 * MM + 4 * MM)), 0)
    for k, s in enumerate(rows):
        _text(ImageDraw.Draw(img), (2 * MM, 2 * MM + k * 6 * MM), s, f, anchor="lt")
    return np.asarray(img, np.float32) / 255


# --- the vet box -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VetCase:
    case: str
    stamp_shape: str | None
    stamp_ink: str | None
    signature: bool
    stamp: bool
    kind: str

    def truth(self) -> dict[str, bool]:
        return {"vet_stamp": self.stamp, "vet_signature": self.signature}


def fill_box(page: np.ndarray, rng: np.random.Generator, case: str) -> tuple[str | None, str | None]:
    """Draw one case into the vet box of `page` (in place): (stamp shape, stamp ink)."""
    x0, y0, x1, y1 = vet_area()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    shape = ink = None
    sx, sy = cx, cy
    if case in ("stamp", "both_beside", "across_text", "stamp_ink"):
        shape = str(rng.choice(["round", "round2", "oval", "rect", "double", "rounded", "frameless", "dater"]))
        ink = str(rng.choice(list(INKS), p=[0.3, 0.2, 0.25, 0.15, 0.1]))
        cover = stamp_cover(rng, shape)
        angle = float(np.clip(rng.normal(0, 12), -35, 35))
        out = rng.random() < 0.2  # half outside the box
        if case == "both_beside":
            sx = cx + rng.choice([-1, 1]) * rng.uniform(12, 20)
        else:
            sx = cx + rng.uniform(-12, 12)
        sy = cy + rng.uniform(-3, 3)
        if out:
            sx, sy = (sx + rng.choice([-1, 1]) * rng.uniform(22, 30), sy) if rng.random() < 0.5 else \
                     (sx, sy + rng.choice([-1, 1]) * rng.uniform(9, 13))
        cover = weather(rng, rotate_cover(cover, angle), rng.uniform(0.3, 1.0), partial=rng.random() < 0.2)
        apply_ink(page, cover, INKS[ink], sx, sy)
    if case == "handwriting":
        apply_ink(page, handwriting_cover(rng), PENS[str(rng.choice(list(PENS)))], cx - 2, cy)
    if case in ("signature", "both_beside", "across_text", "stamp_ink"):
        w, h = rng.uniform(14, 34), rng.uniform(5, 13)
        if case == "stamp_ink":
            w, h = rng.uniform(10, 18), rng.uniform(5, 10)
        strokes = trajectory(rng, w, h)
        cov = pen_cover(strokes, rng.uniform(0.25, 0.7), rng.uniform(-20, 15))
        colour = INKS[ink] if case == "stamp_ink" else PENS[str(rng.choice(list(PENS)))]
        if case == "signature":
            px, py = cx + rng.uniform(-18, 18), cy + rng.uniform(-4, 4)
        elif case == "both_beside":
            px = float(np.clip(2 * cx - sx + rng.uniform(-3, 3), x0 + w / 2 + 2, x1 - w / 2 - 2))
            py = cy + rng.uniform(-4, 4)
        else:
            px, py = sx + rng.uniform(-5, 5), sy + rng.uniform(-3, 3)
        px = float(np.clip(px, x0 + 6, x1 - 6))
        py = float(np.clip(py, y0 + 4, y1 - 4))
        apply_ink(page, cov * rng.uniform(0.75, 1.0), colour, px, py)
    for _ in range(int(rng.integers(0, 5))):  # dust
        d = np.zeros((7, 7), np.float32)
        cv2.circle(d, (3, 3), int(rng.integers(1, 3)), 1.0, -1)
        apply_ink(page, d * rng.uniform(0.3, 0.8), (0.2, 0.2, 0.2), rng.uniform(x0, x1), rng.uniform(y0, y1))
    return shape, ink


# --- captures (own model) --------------------------------------------------------------------------------------


def _jpeg(bgr: np.ndarray, q: int) -> np.ndarray:
    return cv2.imdecode(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, q])[1], cv2.IMREAD_COLOR)


def capture(page: np.ndarray, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """(BGR uint8 image, dpi) of the filled page as a render, a flatbed scan or a phone photo."""
    bgr = np.ascontiguousarray((np.clip(page, 0, 1) * 255).astype(np.uint8)[:, :, ::-1])
    if kind == "clean":
        return bgr, DPI
    if kind.startswith("scan"):
        dpi = float(rng.choice([150, 240, 300]))
        img = cv2.resize(bgr, None, fx=dpi / DPI, fy=dpi / DPI, interpolation=cv2.INTER_AREA if dpi < DPI else cv2.INTER_CUBIC)
        M = cv2.getRotationMatrix2D((img.shape[1] / 2, img.shape[0] / 2), rng.uniform(-1.5, 1.5), 1.0)
        img = cv2.warpAffine(img, M, (img.shape[1], img.shape[0]), borderValue=(245, 245, 245)).astype(np.float32)
        img = 255 * (img / 255) ** rng.uniform(0.8, 1.25)
        blur = cv2.GaussianBlur(img, (0, 0), 1.2)
        img = img + rng.uniform(0.0, 0.6) * (img - blur)  # the scanner's sharpening
        if kind == "scan_grey":
            img = np.repeat(img.mean(2, keepdims=True), 3, 2)
        img += rng.normal(0, rng.uniform(1, 4), img.shape[:2])[:, :, None]
        return _jpeg(np.clip(img, 0, 255).astype(np.uint8), int(rng.integers(60, 92))), dpi
    h, w = bgr.shape[:2]
    W, H = 1800, 2400
    s = 0.85 * min(W / w, H / h)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = (src - [w / 2, h / 2]) * s + [W / 2, H / 2] + rng.uniform(-45, 45, (4, 2))
    P = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    img = cv2.warpPerspective(cv2.GaussianBlur(bgr, (0, 0), 0.5 / s), P, (W, H), borderValue=tuple(rng.uniform(40, 120, 3).tolist()))
    img = img.astype(np.float32)
    yy, xx = np.mgrid[0:H, 0:W]
    vign = 1 - rng.uniform(0.1, 0.3) * (((xx - W / 2) / W) ** 2 + ((yy - H / 2) / H) ** 2) * 2
    img *= vign[:, :, None] * np.float32([rng.uniform(0.8, 0.92), rng.uniform(0.9, 0.98), 1.0])
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.0))
    img += rng.normal(0, rng.uniform(2, 5), img.shape)
    return _jpeg(np.clip(img, 0, 255).astype(np.uint8), int(rng.integers(70, 92))), H / 11.69


def make_sheet(split: str, i: int) -> tuple[np.ndarray, float, VetCase]:
    """Sheet i of a split ("dev" or "held"): (BGR image, dpi, truth). Cases and captures cycle with i."""
    rng = rng_for(split, i)
    case = CASES[i % len(CASES)]
    kind = KINDS[(i // len(CASES)) % len(KINDS)]
    page = blank_page().copy()
    shape, ink = fill_box(page, rng, case)
    img, dpi = capture(page, kind, rng)
    signed = case in ("signature", "both_beside", "across_text", "stamp_ink")
    stamped = shape is not None
    return img, dpi, VetCase(case, shape, ink, signed, stamped, kind)
