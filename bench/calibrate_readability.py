"""Calibrate readability against what matters: can Tesseract read the text?

Renders pages with known text (PIL, several fonts and sizes), rasterises the real invoice PDFs
and the care-sheet form (their text layers are the truth), degrades them by known amounts (blur,
darkness, overexposure, faded ink, downscale, JPEG, noise, perspective photo, crop, and mixes),
scores each with `score_readability`, OCRs it as the pipeline does (`small_text.read_page_text`: small print enlarged) and measures the
character accuracy against the truth, line by line (1 - edit distance / length), so reading
order does not matter. Prints Spearman's rho between score and accuracy, accuracy per score band,
and the threshold below which accuracy falls under the target. Writes every sample to a CSV.

    .venv/bin/python bench/calibrate_readability.py [--quick] [--samples N] [--seed S] [--out FILE]
    .venv/bin/python bench/calibrate_readability.py --remeasure RUN.csv --seed S --out NEW.csv  # no OCR
    .venv/bin/python bench/calibrate_readability.py --rescore NEW.csv  # no OCR, no images: curves only
    .venv/bin/python bench/calibrate_readability.py --ceilings RUN.csv  # how high any score could go
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from rapidfuzz.distance import Levenshtein
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors.pages.load import load_file  # noqa: E402
from pipeline.page import page_readability  # noqa: E402
from extractors.pages.normalise import enlargement, normalise_page  # noqa: E402
from extractors.pages.ocr import engine_for  # noqa: E402
from extractors.pages.small_text import ocr_scale, read_page_text  # noqa: E402
from core.errors import OcrError  # noqa: E402
from extractors.pages.readability import CURVES, GATE_CAP_SHARE, judge  # noqa: E402
from core.records import Capture, Page  # noqa: E402
from core.settings import Settings  # noqa: E402

REAL = ROOT.parent / "shared" / "real" / "invoices"
REAL_PDFS = [  # one of each distinct printed page (the *_MINIMUM twins repeat a BASICWL page)
    "fnfe_Avoir_FR_type381_BASIC.pdf", "fnfe_Facture_DOM_BASICWL.pdf", "fnfe_Facture_FR_BASICWL.pdf",
    "fnfe_Facture_UE_BASICWL.pdf", "i2d_NetpresseInvoice.pdf", "i2d_free_fiber.pdf",
]
FORM_PDF = ROOT / "extractors" / "care_sheet" / "feuille_de_soins" / "feuille_de_soins_blank.pdf"
FONTS = [
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationMono-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
]
SIZES_PT = [8, 10, 12]
DPI = 200
SEED = 20240611
OCR_TIMEOUT_S = 30.0  # a page Tesseract needs longer for is counted as read as nothing
TARGET_ACCURACY = 0.9  # a page is "readable" when Tesseract gets this share of characters right

# family -> levels (the degradation strength); "mix" draws two others at random.
FAMILIES: dict[str, list[float]] = {
    "clean": [0],
    "blur": [0.8, 1.2, 1.6, 2.0, 2.5, 3.0, 4.0],  # Gaussian sigma, px at 200 dpi
    "dark": [0.3, 0.14, 0.07, 0.05, 0.035, 0.025],  # exposure gain (then sensor noise, 8-bit)
    "overexposed": [1.6, 2.6, 3.5, 4.5, 6.0],  # gain with white clipping
    "faded": [0.3, 0.12, 0.06, 0.04, 0.03],  # ink contrast kept
    "downscale": [0.75, 0.55, 0.45, 0.35, 0.28, 0.22, 0.18],  # scale factor
    "jpeg": [15, 7, 4, 2],  # quality
    "jpeg_small": [30, 15, 8, 4],  # quality, after halving the resolution (small text suffers first)
    "noise": [15, 40, 60, 80, 100],  # sigma, grey levels
    "photo": [0.0, 0.05, 0.1],  # keystone; a perspective phone photo, then normalise_page
    "crop": [0.1, 0.2, 0.35, 0.5],  # share of the page cut away from one side
    "mix": [0],
}


# --- sources: (image, truth lines [(text, x0, y0, x1, y1)]) ----------------------------------

def _words_for_page(rng: random.Random) -> list[str]:
    items = ["Consultation", "Vaccin CHPPiL", "Vermifuge Milbemax", "Antiparasitaire Bravecto",
             "Analyse sanguine complète", "Radiographie du thorax", "Échographie abdominale",
             "Détartrage sous anesthésie", "Castration du chat", "Stérilisation de la chienne",
             "Pansement de la patte avant", "Croquettes diététiques 2 kg", "Collier antiparasitaire",
             "Amoxicilline 250 mg", "Métacam 1,5 mg/ml", "Hospitalisation (1 jour)", "Suture de plaie"]
    prose = ["Le propriétaire déclare que l'animal boite depuis trois jours.",
             "Examen clinique : température normale, muqueuses roses, auscultation sans particularité.",
             "Traitement prescrit pour une durée de sept jours, à renouveler si nécessaire.",
             "Merci de conserver cette facture : elle vous sera demandée par votre assureur.",
             "Règlement à réception par chèque, carte bancaire ou virement.",
             "En cas de retard de paiement, une indemnité forfaitaire de 40 € sera due.",
             "Rendez-vous de contrôle conseillé dans quinze jours à la clinique.",
             "Clinique vétérinaire du Parc, 14 avenue Jean Jaurès, 69007 Lyon.",
             "Docteur Claire Martin, inscrite à l'Ordre sous le numéro 21458."]
    lines = []
    for _ in range(22):
        if rng.random() < 0.55:
            day, month = rng.randint(1, 28), rng.randint(1, 12)
            lines.append(f"{day:02d}/{month:02d}/2017  {rng.choice(items)}  {rng.randint(1, 3)} x "
                         f"{rng.randint(5, 180)},{rng.randint(0, 99):02d} €")
        else:
            lines.append(rng.choice(prose))
    return lines


def render_source(font: str, size_pt: int, seed: int) -> tuple[np.ndarray, list]:
    """An A4 page at DPI with ~22 lines of invoice-like French; truth lines with their boxes."""
    rng = random.Random(seed)
    w, h = int(210 / 25.4 * DPI), int(297 / 25.4 * DPI)
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    f = ImageFont.truetype(font, round(size_pt / 72 * DPI))
    y, truth = int(0.08 * h), []
    for line in _words_for_page(rng):
        x0, y0, x1, y1 = draw.textbbox((int(0.08 * w), y), line, font=f)
        if x1 > 0.95 * w:  # too long for the page at this size: drop words until it fits
            while x1 > 0.95 * w and " " in line:
                line = line.rsplit(" ", 1)[0]
                x0, y0, x1, y1 = draw.textbbox((int(0.08 * w), y), line, font=f)
        draw.text((int(0.08 * w), y), line, fill="black", font=f)
        truth.append((line, x0, y0, x1, y1))
        y += round(size_pt / 72 * DPI * 1.5)
    return np.asarray(img)[:, :, ::-1].copy(), truth


def pdf_source(path: Path, settings: Settings) -> tuple[np.ndarray, list]:
    """Page 1 of a text PDF at the render dpi; truth = its text layer, line by line."""
    page = load_file(path, path.name, settings).pages[0]
    lines: dict[int, list] = {}
    for wd in page.text_layer.words:
        lines.setdefault(wd.line, []).append(wd)
    truth = []
    for ws in lines.values():
        ws.sort(key=lambda w: w.left)
        truth.append((" ".join(w.text for w in ws), min(w.left for w in ws), min(w.top for w in ws),
                      max(w.right for w in ws), max(w.bottom for w in ws)))
    return page.image, truth


# --- degradations: image -> (image, 3x3 matrix source px -> degraded px) ---------------------

def _sensor(img: np.ndarray, rng: np.random.Generator, sigma: float = 2.0) -> np.ndarray:
    return np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def degrade(img: np.ndarray, family: str, level: float, rng: np.random.Generator):
    eye = np.eye(3)
    f = img.astype(np.float32)
    if family == "clean":
        return img, eye
    if family == "blur":
        return cv2.GaussianBlur(img, (0, 0), level), eye
    if family == "dark":
        return _sensor(f * level, rng), eye
    if family == "overexposed":
        return _sensor(np.clip(f * level + 30 * (level - 1), 0, 255), rng, 1.0), eye
    if family == "faded":
        return _sensor(255 - (255 - f) * level, rng, 1.5), eye
    if family == "noise":
        return _sensor(f, rng, level), eye
    if family == "jpeg":
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(level)])
        return cv2.imdecode(buf, cv2.IMREAD_COLOR), eye
    if family == "jpeg_small":
        small = cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, int(level)])
        return cv2.imdecode(buf, cv2.IMREAD_COLOR), np.diag([0.5, 0.5, 1.0])
    if family == "downscale":
        out = cv2.resize(img, None, fx=level, fy=level, interpolation=cv2.INTER_AREA)
        return out, np.diag([level, level, 1.0])
    if family == "crop":
        h, w = img.shape[:2]
        side = int(rng.integers(4))
        cut_h, cut_w = int(h * level), int(w * level)
        if side == 0:
            return img[cut_h:], np.array([[1, 0, 0], [0, 1, -cut_h], [0, 0, 1]], float)
        if side == 1:
            return img[: h - cut_h], eye
        if side == 2:
            return img[:, cut_w:], np.array([[1, 0, -cut_w], [0, 1, 0], [0, 0, 1]], float)
        return img[:, : w - cut_w], eye
    if family == "photo":
        return photo(img, level, rng)
    raise ValueError(family)


def photo(img: np.ndarray, keystone: float, rng: np.random.Generator):
    """A phone photo: the page in perspective on a textured table, uneven light, mild blur, JPEG."""
    fw, fh = 1440, 1920
    ph, pw = img.shape[:2]
    height = fh * rng.uniform(0.75, 0.88)
    width = height * pw / ph
    cx, cy = fw / 2 + rng.uniform(-40, 40), fh / 2 + rng.uniform(-40, 40)
    top = 1 - keystone
    quad = np.float32([[-width / 2 * top, -height / 2], [width / 2 * top, -height / 2],
                       [width / 2, height / 2], [-width / 2, height / 2]])
    a = np.radians(rng.uniform(-4, 4))
    quad = quad @ np.float32([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]]) + np.float32([cx, cy])
    src = np.float32([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]])
    m = cv2.getPerspectiveTransform(src, quad)
    table = rng.uniform(40, 140, 3)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (fh, fw)).astype(np.float32), (0, 0), 3) * 60
    bg = np.clip(table[None, None, :] + grain[..., None], 0, 255).astype(np.uint8)
    out = cv2.warpPerspective(img, m, (fw, fh), dst=bg.copy(), flags=cv2.INTER_AREA,
                              borderMode=cv2.BORDER_TRANSPARENT)
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    light = 1.05 - 0.4 * np.hypot(xx - rng.uniform(0, fw), yy - rng.uniform(0, fh / 2)) / np.hypot(fw, fh)
    out = cv2.GaussianBlur(out.astype(np.float32) * light[..., None], (0, 0), 0.7)
    out = _sensor(out, rng, 2.5)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR), m


# --- accuracy --------------------------------------------------------------------------------

def char_accuracy(truth: list, words, h: np.ndarray) -> float:
    """1 - sum of per-line edit distances / truth length; OCR words go to the nearest truth line."""
    boxes = []
    for text, x0, y0, x1, y1 in truth:
        pts = cv2.perspectiveTransform(np.float32([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]]), h)[0]
        boxes.append((pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()))
    got: list[list] = [[] for _ in truth]
    for w in words:
        cx, cy = w.left + w.width / 2, w.top + w.height / 2
        best, best_d = None, None
        for i, (x0, y0, x1, y1) in enumerate(boxes):
            pad = 0.6 * (y1 - y0)
            if x0 - pad <= cx <= x1 + pad and y0 - pad <= cy <= y1 + pad:
                d = abs(cy - (y0 + y1) / 2)
                if best_d is None or d < best_d:
                    best, best_d = i, d
        if best is not None:
            got[best].append(w)
    dist = total = 0
    for (text, *_), ws in zip(truth, got):
        read = " ".join(w.text for w in sorted(ws, key=lambda w: w.left))
        dist += Levenshtein.distance(text, read)
        total += len(text)
    return max(0.0, 1.0 - dist / max(total, 1))


# --- the run ---------------------------------------------------------------------------------

_SOURCES: dict = {}


def cpu_now() -> float:
    """CPU seconds of this process and its finished children (Tesseract): a busy machine does not inflate it."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _source(key, settings):
    if key not in _SOURCES:
        kind, *args = key
        if kind == "render":
            _SOURCES[key] = render_source(FONTS[args[0]], SIZES_PT[args[1]], SEED + args[0] * 10 + args[1])
        else:
            _SOURCES[key] = pdf_source(Path(args[0]), settings)
    return _SOURCES[key]


def _prepare(task: tuple, settings: Settings):
    """The degraded, normalised page of a task: (page, source px -> page px matrix, truth, label,
    CPU seconds of normalisation)."""
    key, family, level, seed = task
    img, truth = _source(key, settings)
    rng = np.random.default_rng(seed)
    label = f"{family}:{level}"
    if family == "mix":
        fams = rng.choice([f for f in FAMILIES if f not in ("clean", "mix", "photo", "crop")], 2, replace=False)
        h_total = np.eye(3)
        label = ""
        for fam in fams:
            lv = float(rng.choice(FAMILIES[fam][: 4]))  # mild-to-middle levels: mixes are harder
            img, h = degrade(img, fam, lv, rng)
            h_total = h @ h_total
            label += f"{fam}:{lv}+"
        label = label.rstrip("+")
        h = h_total
    else:
        img, h = degrade(img, family, level, rng)
    page = Page("calib", 1, img, DPI, Capture.IMAGE)
    t0 = cpu_now()
    page = normalise_page(page, settings)
    t_norm = cpu_now() - t0
    if page.transform is not None:
        h = page.transform @ h
    return page, h, truth, label, t_norm


def _source_name(key) -> str:
    return Path(str(key[-1])).stem if key[0] == "pdf" else f"{Path(FONTS[key[1]]).stem}-{SIZES_PT[key[2]]}pt"


def run_one(task: tuple) -> dict:
    key, family, level, seed = task
    settings = Settings(ocr_cache_dir=None, ocr_timeout_s=OCR_TIMEOUT_S, ocr_retries=0)
    page, h, truth, label, t_norm = _prepare(task, settings)
    t1 = cpu_now()
    r = page_readability(page, settings)  # as the pipeline does: native pixels (the warp's enlargement is not blur)
    t2 = cpu_now()
    # OCR the way the pipeline does (pipeline.page.read_page): sparse text above the threshold,
    # layout analysis below it, small print enlarged first (extractors.pages.small_text)
    psm = settings.ocr_psm if r.score >= settings.readability_threshold else settings.ocr_psm_unreadable
    try:
        scale = ocr_scale(r.metrics, enlargement(page))
        words = read_page_text(engine_for(settings), page.image, page.dpi, scale, psm).words
    except OcrError:  # Tesseract lost in noise: nothing was read
        words = ()
    t3 = cpu_now()
    return {"source": _source_name(key), "family": family, "degradation": label, "seed": seed,
            "score": r.score, "defects": "|".join(r.defects),
            "accuracy": round(char_accuracy(truth, words, h), 4), "steps": "|".join(page.steps),
            "t_normalise": round(t_norm, 3), "t_readability": round(t2 - t1, 3), "t_ocr": round(t3 - t2, 3),
            **{k: round(v, 4) for k, v in r.metrics.items()}}


def measure_one(task: tuple) -> dict:
    """The same page as `run_one` (same seed, same degradation), measured and scored but not OCRed."""
    key, family, level, seed = task
    settings = Settings(ocr_cache_dir=None)
    page, _, _, label, _ = _prepare(task, settings)
    t1 = cpu_now()
    r = page_readability(page, settings)
    t2 = cpu_now()
    return {"source": _source_name(key), "family": family, "degradation": label, "seed": seed,
            "score": r.score, "defects": "|".join(r.defects), "t_readability": round(t2 - t1, 3),
            **{k: round(v, 4) for k, v in r.metrics.items()}}


def tasks(n: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    keys = [("render", i, j) for i in range(len(FONTS)) for j in range(len(SIZES_PT))]
    keys += [("pdf", str(REAL / p)) for p in REAL_PDFS if (REAL / p).exists()] * 2  # real pages: more weight
    keys += [("pdf", str(FORM_PDF))] * 2
    grid = [(fam, lv) for fam, lvs in FAMILIES.items() for lv in lvs]
    pairs = [(k, g) for k in keys for g in grid]  # every source with every degradation...
    rng.shuffle(pairs)
    seen, out = set(), []
    for i, (key, (fam, lv)) in enumerate(pairs):  # ...drawn without repeats, each degradation in turn
        if (key, fam, lv) in seen and fam != "mix":
            continue
        seen.add((key, fam, lv))
        out.append((key, fam, lv, seed + i))
    by_grid: dict = {}
    for t in out:
        by_grid.setdefault((t[1], t[2]), []).append(t)
    out = [ts[j] for j in range(max(map(len, by_grid.values()))) for ts in by_grid.values() if j < len(ts)][:n]
    # Group by source so that each worker renders a source once.
    return sorted(out, key=lambda t: str(t[0]))


def report(rows: list[dict]) -> None:
    s = np.array([r["score"] for r in rows])
    a = np.array([r["accuracy"] for r in rows])
    rho = spearmanr(s, a).statistic
    print(f"\n{len(rows)} pages; Spearman rho(score, accuracy) = {rho:.3f}")
    seen = np.array([float(r.get("paper_level") or 0.0) >= CURVES["dark"][0] for r in rows])
    if 2 < seen.sum() < len(rows):
        print(f"  on the {seen.sum()} pages bright enough for a person (paper >= {CURVES['dark'][0]:.2f}, "
              f"the person-set 'dark' gate): {spearmanr(s[seen], a[seen]).statistic:.3f}")
    print("\nper family: n, rho within family, mean accuracy, mean score")
    fams = sorted({r["family"] for r in rows})
    for fam in fams:
        sel = [r for r in rows if r["family"] == fam]
        fs, fa = np.array([r["score"] for r in sel]), np.array([r["accuracy"] for r in sel])
        frho = spearmanr(fs, fa).statistic if len(sel) > 2 and np.ptp(fs) > 0 and np.ptp(fa) > 0 else float("nan")
        print(f"  {fam:12s} {len(sel):4d}  {frho:6.3f}  {fa.mean():.3f}  {fs.mean():.3f}")
    print("\nscore band: n, mean accuracy, share of pages with accuracy >= target")
    edges = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01]
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = a[(s >= lo) & (s < hi)]
        if len(sel):
            print(f"  [{lo:.1f}, {hi:.1f})  {len(sel):4d}  {sel.mean():.3f}  {np.mean(sel >= TARGET_ACCURACY):.2f}")
    print(f"\nthreshold search (readable = accuracy >= {TARGET_ACCURACY}):")
    best = None
    measures = [_measures(r) for r in rows]
    for t in np.arange(0.05, 0.96, 0.05):
        acc_ok = a >= TARGET_ACCURACY
        passed = np.array([judge(m, t).score >= t for m in measures])  # the 'dark' cap follows the threshold
        false_accept = np.sum(passed & ~acc_ok)  # unreadable called readable
        false_reject = np.sum(~passed & acc_ok)  # readable called illegible
        print(f"  t={t:.2f}: accepted-but-unreadable {false_accept:3d}, rejected-but-readable {false_reject:3d}, "
              f"mean accuracy above {a[passed].mean() if passed.any() else float('nan'):.3f}")
        cost = false_accept + false_reject
        if best is None or cost < best[0]:
            best = (cost, t)
    print(f"\nfewest errors at threshold {best[1]:.2f}")
    t_n = np.array([r["t_normalise"] for r in rows])
    t_r = np.array([r["t_readability"] for r in rows])
    t_o = np.array([r["t_ocr"] for r in rows])
    print(f"\nCPU seconds per page (median / p90): normalise {np.median(t_n):.3f}/{np.percentile(t_n, 90):.3f}  "
          f"readability {np.median(t_r):.3f}/{np.percentile(t_r, 90):.3f}  OCR {np.median(t_o):.2f}/{np.percentile(t_o, 90):.2f}")


# The top cluster: pages Tesseract reads this well differ mostly by their source document (its fonts,
# tables, codes), not by how they were captured.
TOP_CLUSTER = 0.95


def ceilings(rows: list[dict]) -> None:
    """How high rho could go for a score that knew each page's accuracy, step by step adding back what
    a readability score must or cannot do: (1) the person-set `dark` gate (a page a person cannot read
    is held just under the threshold, whatever Tesseract reads of it); (2) a crop that cuts no
    character removes text without a trace (the page looks whole: it reads like its source's other
    good pages); (3) in the top cluster, the share of accuracy that follows the source document
    (its mean there) is not a property of the capture. Printed with and without (1)."""
    a = np.array([float(r["accuracy"]) for r in rows])
    s = np.array([float(r["score"]) for r in rows])
    threshold = Settings().readability_threshold
    paper = np.array([float(r.get("paper_level") or 1.0) for r in rows])
    gated = paper < CURVES["dark"][0]
    source = np.array([r["source"] for r in rows])
    top = a >= TOP_CLUSTER
    top_mean = {src: a[top & (source == src)].mean() for src in set(source[top])}
    level = np.array([top_mean.get(src, a[top].mean()) for src in source])
    cut = np.array([float(r.get("cut_chars") or 0.0) for r in rows])
    unseen = np.array([r["family"] == "crop" for r in rows]) & (cut == 0)
    # 'document coupé' is the other gate a person sets: print cut by the frame means text is gone.
    cut_through = cut > -CURVES["cut_off"][0]

    def rho(x: np.ndarray) -> float:
        return float(spearmanr(x, a).statistic)

    def steps(gate: bool) -> list[tuple[str, float]]:
        x = a.copy()
        out = []
        if gate:
            x[gated] = np.minimum(x[gated], GATE_CAP_SHARE * threshold)
            out.append((f"(1) too dark for a person ({gated.sum()} pages) held under the threshold", rho(x)))
            x[cut_through] = np.minimum(x[cut_through], GATE_CAP_SHARE * threshold)
            out.append((f"(1b) + cut through print ({cut_through.sum()} pages) held under it too", rho(x)))
        x[unseen] = level[unseen]
        out.append((f"(2) + crops that cut no character unseen ({unseen.sum()} pages)", rho(x)))
        shift = top & ~(gated | cut_through if gate else np.zeros_like(top))
        x[shift] = a[shift] - level[shift] + a[top].mean()
        out.append((f"(3) + the source's part of the top cluster unknown ({top.sum()} pages >= {TOP_CLUSTER})", rho(x)))
        return out

    print(f"\n{len(rows)} pages; rho of the score itself: {rho(s):.3f}")
    print("ceilings: rho of a score equal to Tesseract's accuracy, except that")
    for label, r in steps(gate=True):
        print(f"  {label}: {r:.3f}")
    print("without the person-set gates:")
    for label, r in steps(gate=False):
        print(f"  {label}: {r:.3f}")


ROW_FIELDS = ("source", "family", "degradation", "seed", "score", "defects", "accuracy", "steps",
              "t_normalise", "t_readability", "t_ocr")


DERIVED = ("blur_excess",)  # written by `judge`, not by `measure` (as are the sub_* columns)


def _measures(r: dict) -> dict[str, float]:
    """The raw measures stored in a CSV row: every column `measure` wrote, none that `judge` derives."""
    return {k: float(v) for k, v in r.items()
            if k not in ROW_FIELDS and k not in DERIVED and not k.startswith("sub_") and v not in (None, "")}


def rescore(path: Path) -> list[dict]:
    """Rows of an earlier run, scored again from their stored measures (curves changed, OCR not)."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    threshold = Settings().readability_threshold
    for r in rows:
        j = judge(_measures(r), threshold)
        r["score"], r["defects"] = j.score, "|".join(j.defects)
        for k in ("accuracy", "t_normalise", "t_readability", "t_ocr"):
            r[k] = float(r[k])
    return rows


def remeasure(path: Path, seed: int, workers: int) -> list[dict]:
    """Rows of an earlier run (same --seed), measured again by the current `measure`: the pages are
    rebuilt from their seeds and normalised, but not OCRed; their accuracy is kept from the CSV."""
    with path.open(newline="") as fh:
        old = list(csv.DictReader(fh))
    todo = tasks(len(old), seed)
    with ProcessPoolExecutor(workers) as pool:
        fresh = list(pool.map(measure_one, todo, chunksize=4))
    by_seed = {int(r["seed"]): r for r in old if r.get("seed")}
    by_label = {(r["source"], r["family"], r["degradation"]): r for r in old}
    rows = []
    for f in fresh:
        o = by_seed.get(f["seed"]) or by_label.get((f["source"], f["family"], f["degradation"]))
        if o is None:
            continue  # not in that run (different --seed or --samples)
        row = {k: o[k] for k in ("source", "family", "degradation", "accuracy", "steps", "t_normalise", "t_ocr")}
        row.update(f)
        row.update({k: float(row[k]) for k in ("accuracy", "t_normalise", "t_ocr")})
        rows.append(row)
    print(f"re-measured {len(rows)} of {len(old)} pages")
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="60 pages instead of 200")
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", type=Path, default=Path("/tmp/readability_calibration.csv"))
    ap.add_argument("--rescore", type=Path, default=None,
                    help="no OCR: re-score the measures stored in this CSV with the current curves")
    ap.add_argument("--remeasure", type=Path, default=None,
                    help="no OCR: rebuild that run's pages (same --seed), measure them again, keep their accuracy; "
                         "writes --out (then iterate on curves with --rescore)")
    ap.add_argument("--ceilings", type=Path, default=None,
                    help="no OCR: how high rho could go on this CSV's pages (see `ceilings`)")
    args = ap.parse_args()
    if args.ceilings:
        with args.ceilings.open(newline="") as fh:
            ceilings(list(csv.DictReader(fh)))
        return
    if args.rescore:
        report(rescore(args.rescore))
        return
    if args.remeasure:
        rows = remeasure(args.remeasure, args.seed, args.workers)
        write_csv(rows, args.out)
        report(rows)
        print(f"\nmeasures in {args.out}")
        return
    n = args.samples or (60 if args.quick else 200)
    t0 = time.time()
    # not multiprocessing.Pool: its daemonic workers may not start the PDF parser's own child process
    with ProcessPoolExecutor(args.workers) as pool:
        rows = []
        for i, row in enumerate(pool.map(run_one, tasks(n, args.seed), chunksize=2)):
            rows.append(row)
            if (i + 1) % 20 == 0:
                print(f"  {i + 1}/{n} pages, {time.time() - t0:.0f} s", flush=True)
    write_csv(rows, args.out)
    report(rows)
    print(f"\n{n} pages in {time.time() - t0:.0f} s; samples in {args.out}")


if __name__ == "__main__":
    main()
