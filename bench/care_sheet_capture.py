"""Capturing a filled care sheet as the portal receives it: a clean PDF render, a scan, a phone photo.

Helpers of bench/care_sheet_synth.py. Each capture returns the truth of where the form landed
(form mm -> image px), so registration can be scored.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from care_sheet_draw import DPI, PPM


@dataclass
class Captured:
    image: np.ndarray  # BGR uint8
    dpi: float
    kind: str
    form_to_image: np.ndarray  # 3x3: form mm -> image px (the truth for registration)


def _noise(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32)


def _jpeg(bgr: np.ndarray, q: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(q)])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def capture(page: np.ndarray, kind: str, rng: np.random.Generator) -> Captured:
    """Capture a filled sheet: 'clean' (the PDF render), 'scan_grey'/'scan_colour' (±2°, noise, JPEG), 'photo'."""
    mm_to_page = np.diag([PPM, PPM, 1.0])
    rgb8 = np.clip(page * 255 + 0.5, 0, 255).astype(np.uint8)
    bgr = np.ascontiguousarray(rgb8[:, :, ::-1])
    if kind == "clean":
        return Captured(bgr, DPI, kind, mm_to_page)
    if kind.startswith("scan"):
        dpi = float(rng.choice([150, 200, 300], p=[0.25, 0.5, 0.25]))
        s = dpi / DPI
        ang = rng.uniform(-2, 2)
        W, H = int(round(216 / 25.4 * dpi)), int(round(300 / 25.4 * dpi))  # the scanner glass: a little larger
        M = cv2.getRotationMatrix2D((page.shape[1] / 2, page.shape[0] / 2), ang, s)
        M[:, 2] += [W / 2 - page.shape[1] / 2 + rng.uniform(-2, 2) * dpi / 25.4,
                    H / 2 - page.shape[0] / 2 + rng.uniform(-2, 2) * dpi / 25.4]
        src = bgr if s >= 1 else cv2.GaussianBlur(bgr, (0, 0), 0.5 / s)
        out = cv2.warpAffine(src, M, (W, H), flags=cv2.INTER_LINEAR, borderValue=(250, 250, 250))
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 0.8))
        if kind == "scan_grey":
            out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        out = out.astype(np.float32) * np.float32(rng.uniform(0.88, 1.0)) + np.float32(rng.uniform(-5, 8))
        sigma = rng.uniform(2, 6)
        out += sigma * _noise(rng, out.shape[:2])[:, :, None]
        if kind == "scan_colour":
            out += 0.5 * sigma * _noise(rng, out.shape)
        out = _jpeg(np.clip(out, 0, 255).astype(np.uint8), rng.integers(55, 90))
        A = np.vstack([M, [0, 0, 1]])
        return Captured(out, dpi, kind, A @ mm_to_page)
    # photo: the page on a table, in perspective, shadow, colour cast, blur, noise, JPEG
    Wo, Ho = int(rng.integers(1500, 2300)), 0
    Ho = int(Wo * 4 / 3)
    ph, pw = page.shape[:2]
    fill = rng.uniform(0.8, 0.95)
    sc = min(Wo * fill / pw, Ho * fill / ph)
    cx, cy = Wo / 2 + rng.uniform(-0.03, 0.03) * Wo, Ho / 2 + rng.uniform(-0.03, 0.03) * Ho
    ang = math.radians(rng.uniform(-6, 6))
    corners = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    ctr = (corners - [pw / 2, ph / 2]) * sc
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    dst = ctr @ rot.T + [cx, cy]
    dst += rng.uniform(-0.045, 0.045, (4, 2)) * Wo  # perspective: each corner moves
    P = cv2.getPerspectiveTransform(corners, dst.astype(np.float32))
    bg = rng.uniform(60, 200, 3)
    table = np.empty((Ho, Wo, 3), np.float32)
    table[:] = bg
    table += cv2.resize(rng.normal(0, 18, (Ho // 16, Wo // 16, 3)).astype(np.float32), (Wo, Ho))
    src = cv2.GaussianBlur(bgr, (0, 0), max(0.01, 0.45 / sc)) if sc < 1 else bgr
    warped = cv2.warpPerspective(src, P, (Wo, Ho), flags=cv2.INTER_LINEAR).astype(np.float32)
    mask = cv2.warpPerspective(np.ones((ph, pw), np.float32), P, (Wo, Ho), flags=cv2.INTER_LINEAR)[:, :, None]
    out = warped * mask + table * (1 - mask)
    gx, gy = rng.uniform(-1, 1, 2)
    xx = np.linspace(-0.5, 0.5, Wo, dtype=np.float32)[None, :]
    yy = np.linspace(-0.5, 0.5, Ho, dtype=np.float32)[:, None]
    light = 1.0 - 0.18 * rng.random() * (gx * xx + gy * yy + 0.5)
    if rng.random() < 0.7:  # a soft shadow (the phone, a hand) over a part of the page
        q = 8  # drawn and blurred at 1/8 scale: a soft shadow has no detail
        sh = np.zeros((Ho // q, Wo // q), np.float32)
        p0 = np.array([rng.uniform(0, Wo), rng.uniform(0, Ho)])
        poly = ((p0 + rng.uniform(-0.5, 0.5, (5, 2)) * [Wo, Ho]) / q).astype(np.int32)
        cv2.fillPoly(sh, [poly], 1.0)
        sh = cv2.GaussianBlur(sh, (0, 0), Wo / q * rng.uniform(0.03, 0.08))
        light *= 1.0 - rng.uniform(0.2, 0.45) * cv2.resize(sh, (Wo, Ho), interpolation=cv2.INTER_LINEAR)
    cast = np.array([rng.uniform(0.78, 0.95), rng.uniform(0.92, 1.0), rng.uniform(0.98, 1.05)], np.float32)  # B, G, R
    out *= (light * rng.uniform(0.85, 1.0))[:, :, None]
    out *= cast
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.3))
    sigma = rng.uniform(2, 7)
    out += sigma * _noise(rng, out.shape[:2])[:, :, None]  # sensor noise, partly per channel
    out += 0.6 * sigma * _noise(rng, out.shape)
    out = _jpeg(np.clip(out, 0, 255).astype(np.uint8), rng.integers(70, 93))
    return Captured(out, max(Wo, Ho) / 11.69, kind, P @ mm_to_page)

