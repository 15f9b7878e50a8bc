"""Drawing on the care-sheet form like people do: handwriting, signatures, rubber stamps, ticks, QR codes.

Helpers of bench/care_sheet_synth.py. Coordinates in mm from the top-left corner of the form;
inks multiply onto the printed page (float RGB 0..1 at DPI).
"""
from __future__ import annotations

import functools
import json
import math
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
import qrcode
from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parent.parent
FORM_DIR = REPO / "extractors" / "care_sheet" / "feuille_de_soins"
DPI = 200  # the filled master sheet, like a PDF page the loader renders at 200 dpi
PPM = DPI / 25.4
FONTS = Path("/usr/share/fonts/truetype")
PRINT_FONTS = ["liberation2/LiberationSans-Bold.ttf", "liberation2/LiberationSans-Regular.ttf",
               "liberation2/LiberationSerif-Bold.ttf", "liberation2/LiberationSerif-Regular.ttf",
               "dejavu/DejaVuSans-Bold.ttf", "dejavu/DejaVuSansCondensed-Bold.ttf", "freefont/FreeSansBold.ttf",
               "liberation2/LiberationMono-Bold.ttf"]
PEN_INKS = {"blue": (0.12, 0.18, 0.62), "black": (0.1, 0.1, 0.12), "blueblack": (0.12, 0.14, 0.35)}
STAMP_INKS = {"blue": (0.2, 0.32, 0.8), "violet": (0.42, 0.22, 0.62), "red": (0.78, 0.16, 0.2),
              "black": (0.14, 0.14, 0.15), "green": (0.15, 0.5, 0.3), "purple": (0.55, 0.3, 0.8)}
TOWNS = ["LYON", "VILLEURBANNE", "BRON", "GRENOBLE", "ANNECY", "VIENNE", "MÂCON", "ST-ETIENNE", "VALENCE"]
NAMES = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY", "MOREAU",
         "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX", "VINCENT", "FOURNIER"]
FIRST = ["Marie", "Jean", "Claire", "Paul", "Sophie", "Luc", "Anne", "Pierre", "Julie", "Marc", "Laure"]


@functools.lru_cache(maxsize=1)
def layout() -> dict[str, dict]:
    return {z["id"]: z for z in json.loads((FORM_DIR / "layout.json").read_text())["zones"]}


@functools.lru_cache(maxsize=2)
def blank_master(dpi: int = DPI) -> np.ndarray:
    """The blank form rendered from its PDF at `dpi`: float32 RGB 0..1 (cached on disk)."""
    cache = Path(tempfile.gettempdir()) / "claims_intake_synth" / f"blank_{dpi}.png"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        stem = cache.with_suffix("")
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile",
                        str(FORM_DIR / "feuille_de_soins_blank.pdf"), str(stem)], check=True)
    return np.asarray(Image.open(cache).convert("RGB"), dtype=np.float32) / 255.0


@functools.lru_cache(maxsize=64)
def _font(path: str, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / path), max(4, px))


def _cap_ratio(path: str) -> float:
    """Cap height / font size of a font."""
    box = _font(path, 200).getbbox("H", anchor="ls")
    return max(0.3, -box[1] / 200)


class Sheet:
    """A page being filled: inks multiply onto the printed form (float RGB 0..1, DPI)."""

    def __init__(self) -> None:
        self.img = blank_master().copy()

    def ink(self, alpha: np.ndarray, colour: tuple[float, float, float], x0: int, y0: int) -> None:
        """Lay ink `alpha` (0..1, patch) with its top-left at (x0, y0) px; clipped to the page."""
        h, w = alpha.shape
        H, W = self.img.shape[:2]
        ax0, ay0 = max(0, -x0), max(0, -y0)
        bx0, by0 = max(0, x0), max(0, y0)
        bx1, by1 = min(W, x0 + w), min(H, y0 + h)
        if bx1 <= bx0 or by1 <= by0:
            return
        a = alpha[ay0:ay0 + by1 - by0, ax0:ax0 + bx1 - bx0, None]
        self.img[by0:by1, bx0:bx1] *= 1.0 - a * (1.0 - np.asarray(colour, np.float32))


def text_alpha(text: str, font: str, cap_mm: float, angle: float = 0.0) -> tuple[np.ndarray, tuple[int, int]]:
    """Rendered text as alpha, and the pixel of its baseline start inside the patch."""
    ft = _font(font, int(round(cap_mm * PPM / _cap_ratio(font))))
    l, t, r, b = ft.getbbox(text, anchor="ls")
    pad = int(4 + 0.1 * (r - l))
    w, h = r - l + 2 * pad, b - t + 2 * pad
    img = Image.new("L", (w, h), 0)
    origin = (pad - l, pad - t)
    ImageDraw.Draw(img).text(origin, text, fill=255, font=ft, anchor="ls")
    if angle:
        img = img.rotate(angle, resample=Image.BICUBIC, center=origin)
    return np.asarray(img, np.float32) / 255.0, origin


def write(sheet: Sheet, text: str, x_mm: float, base_mm: float, cap_mm: float, font: str,
          colour, angle: float = 0.0, strength: float = 1.0) -> None:
    """Write `text` with its baseline starting at (x_mm, base_mm)."""
    alpha, (ox, oy) = text_alpha(text, font, cap_mm, angle)
    sheet.ink(alpha * strength, colour, int(round(x_mm * PPM)) - ox, int(round(base_mm * PPM)) - oy)


def stroke_alpha(points_mm: list[np.ndarray], width_mm: np.ndarray | float, ss: int = 2) -> tuple[np.ndarray, int, int]:
    """Pen strokes (polylines in mm) as alpha, anti-aliased; returns (alpha, x0_px, y0_px)."""
    allp = np.concatenate(points_mm)
    x0, y0 = allp.min(0) - 2.0
    x1, y1 = allp.max(0) + 2.0
    k = PPM * ss
    w, h = int((x1 - x0) * k) + 1, int((y1 - y0) * k) + 1
    canvas = np.zeros((h, w), np.uint8)
    for si, pts in enumerate(points_mm):
        px = ((pts - [x0, y0]) * k).astype(np.int32)
        wi = width_mm[si] if isinstance(width_mm, (list, tuple)) else width_mm
        widths = np.broadcast_to(np.asarray(wi, float), (len(pts),))
        for i in range(len(px) - 1):
            cv2.line(canvas, tuple(px[i]), tuple(px[i + 1]), 255, max(1, int(round(widths[i] * k))), cv2.LINE_AA)
    small = cv2.resize(canvas, (max(1, w // ss), max(1, h // ss)), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255.0, int(round(x0 * PPM)), int(round(y0 * PPM))


def draw_strokes(sheet: Sheet, strokes: list[np.ndarray], width_mm, colour) -> None:
    alpha, x0, y0 = stroke_alpha(strokes, width_mm)
    sheet.ink(np.clip(alpha * 1.1, 0, 1), colour, x0, y0)


def _smooth_noise(rng: np.random.Generator, n: int, knots: int) -> np.ndarray:
    from scipy.interpolate import CubicSpline

    xs = np.linspace(0, 1, knots)
    return CubicSpline(xs, rng.uniform(-1, 1, knots))(np.linspace(0, 1, n))


def signature_strokes(rng: np.random.Generator, w_mm: float, h_mm: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A cursive signature as random looping splines (trochoid + noise), 1-3 pen strokes, maybe a flourish."""
    n = 700
    t = np.linspace(0, 1, n)
    loops = rng.integers(3, 10)
    r = rng.uniform(0.6, 3.0)
    amp = h_mm / 2 * (0.35 + 0.65 * np.abs(_smooth_noise(rng, n, int(loops) + 3)))
    amp[: n // 8] *= rng.uniform(1.0, 1.8)  # a taller capital
    phase = 2 * np.pi * loops * (t + 0.04 * _smooth_noise(rng, n, 7))  # uneven letter widths
    x = w_mm * t + r * np.cos(phase + rng.uniform(0, 6)) + 1.5 * _smooth_noise(rng, n, 5)
    y = amp * np.sin(phase * rng.uniform(0.85, 1.15) + rng.uniform(0, 6)) + 1.5 * _smooth_noise(rng, n, 4)
    slant = rng.uniform(-0.35, 0.1)
    x = x - slant * y
    pts = np.stack([x, y], 1)
    cuts = sorted(rng.choice(np.arange(n // 6, n - n // 6), size=rng.integers(0, 3), replace=False))
    strokes = [s for s in np.split(pts, cuts) if len(s) > 10]
    if rng.random() < 0.45:  # end flourish / underline
        fx = np.linspace(w_mm * rng.uniform(0.9, 1.05), w_mm * rng.uniform(-0.05, 0.3), 80)
        fy = h_mm * rng.uniform(0.45, 0.7) + 1.2 * np.sin(np.linspace(0, np.pi, 80)) * rng.uniform(-1, 1)
        strokes.append(np.stack([fx, fy], 1))
    pen = rng.uniform(0.28, 0.6)
    widths = [pen * (0.8 + 0.35 * _smooth_noise(rng, len(s), 5)) for s in strokes]
    return strokes, widths


def zigzag_strokes(rng: np.random.Generator, w_mm: float, h_mm: float) -> tuple[list[np.ndarray], list[float]]:
    """A hurried signature: one stroke of nearly straight up-and-down segments (no loops)."""
    n = int(rng.integers(3, 8))
    xs = np.sort(rng.uniform(0, w_mm, 2 * n))
    ys = np.where(np.arange(2 * n) % 2 == 0, -h_mm / 2, h_mm / 2) * rng.uniform(0.6, 1.0, 2 * n)
    corners = np.stack([xs, ys], 1)
    pts = np.concatenate([np.linspace(a, b, 12) for a, b in zip(corners[:-1], corners[1:])])
    return [pts], [float(rng.uniform(0.25, 0.5))]


def draw_signature(sheet: Sheet, rng: np.random.Generator, cx: float, cy: float, colour,
                   w_mm: float | None = None, h_mm: float | None = None, zigzag: bool = False) -> None:
    w = w_mm or rng.uniform(18, 42)
    h = h_mm or rng.uniform(6, 14)
    strokes, widths = (zigzag_strokes if zigzag else signature_strokes)(rng, w, h)
    ang = math.radians(rng.uniform(-12, 8))
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    strokes = [(s - [w / 2, 0]) @ rot.T + [cx, cy] for s in strokes]
    alpha, x0, y0 = stroke_alpha(strokes, widths)
    sheet.ink(np.clip(alpha * 1.15, 0, 1), colour, x0, y0)


def stamp_alpha(rng: np.random.Generator, shape: str) -> np.ndarray:
    """A rubber stamp impression (alpha, upright): text lines and a border of the given shape."""
    town = str(rng.choice(TOWNS))
    name = f"Dr {rng.choice(FIRST)} {rng.choice(NAMES)}"
    lines = [f"CLINIQUE VÉTÉRINAIRE {rng.choice(['DES TILLEULS', 'DU PARC', 'SAINT-ROCH', 'DES ALPES', 'DU RHÔNE'])}",
             name, "Docteur Vétérinaire", f"{rng.integers(1, 150)} rue {rng.choice(['de la Paix', 'Victor Hugo', 'des Lilas', 'Pasteur'])}",
             f"{rng.integers(1000, 9999) + 69000} {town}", f"Tél. 04 {rng.integers(10, 99)} {rng.integers(10, 99)} {rng.integers(10, 99)} {rng.integers(10, 99)}",
             f"N° Ordre {rng.integers(10000, 99999)}"]
    font = str(rng.choice(PRINT_FONTS))
    bold = str(rng.choice([f for f in PRINT_FONTS if "Bold" in f]))
    cap = rng.uniform(1.5, 2.5)
    border = rng.uniform(0.3, 0.8) * PPM
    if shape == "round":
        return _round_stamp(rng, lines, font, bold, cap, border)
    keep = sorted(rng.choice(np.arange(1, 7), size=rng.integers(2, 5), replace=False))
    chosen = [lines[0]] + [lines[i] for i in keep]
    if rng.random() < 0.4:
        chosen = chosen[1:] if len(chosen) > 2 else chosen
    rendered = [text_alpha(s, bold if i == 0 else font, cap * (1.15 if i == 0 else 1.0))[0] for i, s in enumerate(chosen)]
    rendered = [_trim(a) for a in rendered]
    gap = int(cap * PPM * rng.uniform(0.45, 0.8))
    width = max(a.shape[1] for a in rendered)
    height = sum(a.shape[0] for a in rendered) + gap * (len(rendered) - 1)
    pad = int(rng.uniform(1.2, 2.8) * PPM)
    W, H = width + 2 * pad, height + 2 * pad
    m = int(border) + 4
    canvas = np.zeros((H + 2 * m, W + 2 * m), np.float32)
    y = m + pad
    for a in rendered:
        x = m + (W - a.shape[1]) // 2
        canvas[y:y + a.shape[0], x:x + a.shape[1]] = np.maximum(canvas[y:y + a.shape[0], x:x + a.shape[1]], a)
        y += a.shape[0] + gap
    bw = max(1, int(round(border)))
    u8 = np.zeros(canvas.shape, np.uint8)
    if shape in ("rect", "double"):
        cv2.rectangle(u8, (m, m), (m + W, m + H), 255, bw, cv2.LINE_AA)
        if shape == "double":
            d = int(0.9 * PPM)
            cv2.rectangle(u8, (m + d, m + d), (m + W - d, m + H - d), 255, max(1, bw // 2), cv2.LINE_AA)
    elif shape == "rounded":
        _rounded_rect(u8, m, m, m + W, m + H, int(rng.uniform(1.5, 4) * PPM), bw)
    elif shape == "ellipse":
        e = int(0.12 * W) + pad
        big = np.zeros((H + 2 * m + 2 * e, W + 2 * m + 2 * e), np.float32)
        big[e:e + canvas.shape[0], e:e + canvas.shape[1]] = canvas
        canvas, u8 = big, np.zeros(big.shape, np.uint8)
        cv2.ellipse(u8, (big.shape[1] // 2, big.shape[0] // 2), (int(W * 0.56) + pad // 2, int(H * 0.56) + pad // 2),
                    0, 0, 360, 255, bw, cv2.LINE_AA)
    out = np.maximum(canvas, u8.astype(np.float32) / 255)
    max_w = rng.uniform(38, 60) * PPM  # real stamps are 4-6 cm wide
    if out.shape[1] > max_w:
        out = cv2.resize(out, None, fx=max_w / out.shape[1], fy=max(0.8, max_w / out.shape[1]), interpolation=cv2.INTER_AREA)
    return out


def _trim(a: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(a > 0.05)
    return a[ys.min():ys.max() + 1, xs.min():xs.max() + 1] if len(ys) else a


def _rounded_rect(img, x0, y0, x1, y1, r, t):
    for (cx, cy, a0) in ((x0 + r, y0 + r, 180), (x1 - r, y0 + r, 270), (x1 - r, y1 - r, 0), (x0 + r, y1 - r, 90)):
        cv2.ellipse(img, (cx, cy), (r, r), a0, 0, 90, 255, t, cv2.LINE_AA)
    cv2.line(img, (x0 + r, y0), (x1 - r, y0), 255, t, cv2.LINE_AA)
    cv2.line(img, (x0 + r, y1), (x1 - r, y1), 255, t, cv2.LINE_AA)
    cv2.line(img, (x0, y0 + r), (x0, y1 - r), 255, t, cv2.LINE_AA)
    cv2.line(img, (x1, y0 + r), (x1, y1 - r), 255, t, cv2.LINE_AA)


def _round_stamp(rng, lines, font, bold, cap, border) -> np.ndarray:
    """Round stamp: two rings, the clinic name and town around, the vet's name in the middle."""
    R = rng.uniform(12, 17) * PPM
    size = int(2 * R + 10)
    c = size / 2
    u8 = np.zeros((size, size), np.uint8)
    bw = max(1, int(round(border)))
    cv2.circle(u8, (int(c), int(c)), int(R), 255, bw, cv2.LINE_AA)
    ring = R - (cap * 1.9) * PPM
    cv2.circle(u8, (int(c), int(c)), int(ring), 255, max(1, bw // 2), cv2.LINE_AA)
    out = u8.astype(np.float32) / 255
    around = f"{lines[0]} * {lines[4].split(' ', 1)[1]} *"
    r_text = (R + ring) / 2
    ft = _font(font, int(round(cap * 0.9 * PPM / _cap_ratio(font))))
    total = sum(ft.getlength(ch) for ch in around)
    span = min(2 * math.pi * 0.92, total / r_text)
    ang = -math.pi / 2 - span / 2
    for ch in around:
        adv = ft.getlength(ch) / r_text
        a = ang + adv / 2
        g = Image.new("L", (int(cap * PPM * 3), int(cap * PPM * 3)), 0)
        ImageDraw.Draw(g).text((g.width / 2, g.height / 2), ch, fill=255, font=ft, anchor="mm")
        g = g.rotate(-math.degrees(a) - 90, resample=Image.BICUBIC)
        gx = int(c + r_text * math.cos(a) - g.width / 2)
        gy = int(c + r_text * math.sin(a) - g.height / 2)
        arr = np.asarray(g, np.float32) / 255
        y0, x0 = max(gy, 0), max(gx, 0)
        sub = out[y0:gy + g.height, x0:gx + g.width]
        sub[:] = np.maximum(sub, arr[y0 - gy:y0 - gy + sub.shape[0], x0 - gx:x0 - gx + sub.shape[1]])
        ang += adv
    for i, s in enumerate([lines[1], lines[6]]):
        a = _trim(text_alpha(s, bold if i == 0 else font, cap * 0.85)[0])
        scale = min(1.0, (ring * 1.6) / a.shape[1])
        a = cv2.resize(a, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        y = int(c - a.shape[0] - 2 if i == 0 else c + 4)
        x = int(c - a.shape[1] / 2)
        out[y:y + a.shape[0], x:x + a.shape[1]] = np.maximum(out[y:y + a.shape[0], x:x + a.shape[1]], a)
    return out


def draw_stamp(sheet: Sheet, rng: np.random.Generator, spec, cx_mm: float, cy_mm: float) -> None:
    """Press a stamp centred at (cx, cy): rotated, unevenly inked, edges a little soft."""
    a = stamp_alpha(rng, spec.shape)
    h, w = a.shape
    diag = int(math.hypot(h, w)) + 4
    big = np.zeros((diag, diag), np.float32)
    big[(diag - h) // 2:(diag - h) // 2 + h, (diag - w) // 2:(diag - w) // 2 + w] = a
    M = cv2.getRotationMatrix2D((diag / 2, diag / 2), spec.angle, 1.0)
    a = cv2.warpAffine(big, M, (diag, diag), flags=cv2.INTER_LINEAR)
    # uneven inking: low-frequency pressure field and speckled dropouts
    field_ = cv2.resize(rng.uniform(0.45, 1.0, (6, 6)).astype(np.float32), (diag, diag), interpolation=cv2.INTER_CUBIC)
    drop = (rng.random((diag, diag)) > rng.uniform(0.0, 0.25)).astype(np.float32)
    drop = cv2.GaussianBlur(drop, (0, 0), 0.7)
    a = np.clip(a * np.clip(field_, 0.3, 1.0) * (0.5 + 0.5 * drop) * spec.strength, 0, 1)
    a = cv2.GaussianBlur(a, (0, 0), 0.5)
    sheet.ink(a, STAMP_INKS[spec.colour], int(cx_mm * PPM - diag / 2), int(cy_mm * PPM - diag / 2))


def draw_tick(sheet: Sheet, rng: np.random.Generator, bbox, kind: str, colour, thin: bool = False) -> None:
    """A tick, a cross or a scribble in a checkbox; `thin`: a fine ballpoint tick, large, overflowing the box."""
    x0, y0, x1, y1 = bbox
    cx, cy = (x0 + x1) / 2 + rng.uniform(-0.5, 0.5), (y0 + y1) / 2 + rng.uniform(-0.5, 0.5)
    s = rng.uniform(0.8, 1.3)
    pen = rng.uniform(0.3, 0.55)
    if thin:
        s, pen = rng.uniform(1.1, 1.7), rng.uniform(0.12, 0.22)
        cy += rng.uniform(0.3, 1.0)  # the vertex sits low, on or under the bottom side
    if kind == "check":
        pts = np.array([[-1.4, -0.1], [-0.3, 1.4], [2.0, -2.8]]) * s + [cx, cy]
        strokes = [np.concatenate([np.linspace(pts[0], pts[1], 12), np.linspace(pts[1], pts[2], 24)])]
    elif kind == "cross":
        d = rng.uniform(1.3, 2.2) * s
        strokes = [np.linspace([cx - d, cy - d], [cx + d, cy + d], 20) + rng.normal(0, 0.05, (20, 2)),
                   np.linspace([cx + d, cy - d + rng.uniform(-0.3, 0.3)], [cx - d, cy + d], 20)]
    else:  # filled: a zigzag scribble over the inside
        ys = np.linspace(y0 + 0.5, y1 - 0.5, 9)
        zig = [[x0 + 0.5 if i % 2 == 0 else x1 - 0.5, yy] for i, yy in enumerate(ys)]
        strokes = [np.array(zig, float)]
    draw_strokes(sheet, strokes, pen, colour)



def draw_qr(sheet: Sheet, payload: str) -> None:
    q = qrcode.QRCode(border=1, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10)
    q.add_data(payload)
    q.make(fit=True)
    m = np.asarray(q.make_image().convert("L"), np.float32) / 255.0
    x0, y0, x1, y1 = layout()["qr_box"]["bbox"]
    side = int((x1 - x0 - 3.0) * PPM)
    a = 1.0 - cv2.resize(m, (side, side), interpolation=cv2.INTER_AREA)
    sheet.ink(a, (0.05, 0.05, 0.05), int((x0 + 1.5) * PPM), int((y0 + 1.5) * PPM))

