"""Normalisation figures: orientation (own text-line method vs Tesseract OSD), timings, photo vs scan OCR.

1. Orientation: upright pages (the real invoice captures flattened with their known geometry, the
   care sheet, rendered text pages) turned 0/90/180/270; accuracy and time of geometry.text_layout,
   of OSD on the full page and on a 1600 px copy, and of the policy normalise.orientation uses.
2. Timings of normalise_page and score_readability on the real captures.
Times are CPU seconds (this process + Tesseract children), so a busy machine does not inflate them.
3. Word recall of Tesseract (bag of words vs the PDF's text layer) on the scans, the raw photos and
   the normalised photos of shared/real/invoices/captures, and on a scan and photos of the care
   sheet made with the same generator (make_captures.py).
4. Word recall of three real scans turned 0-30 degrees on their own frame (a sheet laid crooked on
   the scanner), as they are and once normalised.

    .venv/bin/python bench/bench_normalise.py [--skip-osd]
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import resource
import sys
from collections import Counter
from dataclasses import replace
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.calibrate_readability import FONTS, render_source  # noqa: E402
from extractors.pages import geometry, sheet  # noqa: E402
from extractors.pages.load import load_file  # noqa: E402
from extractors.pages.normalise import normalise_page, ocr_ready, orientation  # noqa: E402
from extractors.pages.ocr import engine_for, ocr_image  # noqa: E402
from extractors.pages.readability import score_readability  # noqa: E402
from core.settings import Settings  # noqa: E402

REAL = ROOT.parent / "shared" / "real" / "invoices"
FORM_PDF = ROOT / "extractors" / "care_sheet" / "feuille_de_soins" / "feuille_de_soins_blank.pdf"
FORM_PNG = ROOT / "extractors" / "care_sheet" / "feuille_de_soins" / "feuille_de_soins_blank.png"
SETTINGS = Settings(ocr_cache_dir=None)


def cpu_now() -> float:
    """CPU seconds of this process and its finished children (Tesseract): honest on a busy machine."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def make_captures_module():
    """The generator of the real captures (scan / phone photo), to make care-sheet captures alike."""
    spec = importlib.util.spec_from_file_location("make_captures", REAL / "make_captures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def captures() -> list[dict]:
    with (REAL / "captures.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def upright_pages() -> list[tuple[str, np.ndarray]]:
    """Upright page images, made with the known truth (not with the method under test)."""
    pages = []
    for row in captures():
        img = cv2.imread(str(REAL / row["capture_file"]))
        if row["capture"] == "photo":
            quad = np.float32([[float(v) for v in p.split(",")] for p in row["page_corners"].split()])
            w, h, _ = sheet.sheet_size(quad, 2339, 2339)
            img, _ = sheet.warp_sheet(img, quad, (w, h))  # page_corners follow the content: upright
        pages.append((Path(row["capture_file"]).stem, img))
    pages.append(("care_sheet_blank", cv2.imread(str(FORM_PNG))))
    for i, font in enumerate(FONTS):
        pages.append((f"render_{Path(font).stem}", render_source(font, 10, 100 + i)[0]))
    return pages


def orientation_case(args: tuple) -> dict:
    name, img, turn, with_osd = args
    turned, _ = geometry.rotate_quarter(img, turn)
    truth = (-turn) % 360
    out = {"name": name, "turn": turn}
    t = cpu_now()
    lay = geometry.text_layout(turned)
    out["own"], out["own_conf"], out["t_own"] = lay.rotation == truth, lay.confidence, cpu_now() - t
    t = cpu_now()
    rot, how, _ = orientation(turned, SETTINGS)
    out["policy"], out["policy_osd"], out["t_policy"] = rot == truth, how == "osd", cpu_now() - t
    if with_osd:
        t = cpu_now()
        osd = engine_for(SETTINGS).orientation(turned)
        out["osd"], out["t_osd"] = (osd is not None and osd[0] % 360 == truth), cpu_now() - t
        h, w = turned.shape[:2]
        s = min(1.0, 1600 / max(h, w))
        small = cv2.resize(turned, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        t = cpu_now()
        osd = engine_for(SETTINGS).orientation(small)
        out["osd_small"], out["t_osd_small"] = (osd is not None and osd[0] % 360 == truth), cpu_now() - t
    return out


def bag(words) -> Counter:
    return Counter(w for w in words if any(c.isalnum() for c in w))


def recall(image: np.ndarray, truth: Counter) -> float:
    got = bag(w.text for w in ocr_image(image, SETTINGS).words)
    return sum((truth & got).values()) / max(sum(truth.values()), 1)


def ocr_case(args: tuple) -> dict:
    name, kind, path, truth_pdf = args
    truth = bag(w.text for w in load_file(truth_pdf, truth_pdf.name, SETTINGS).pages[0].text_layer.words)
    page = load_file(path, path.name, SETTINGS).pages[0]
    t0 = cpu_now()
    norm = normalise_page(page, SETTINGS)
    t1 = cpu_now()
    r = score_readability(norm.image, SETTINGS)
    t2 = cpu_now()
    return {"name": name, "kind": kind, "raw": recall(page.image, truth), "normalised": recall(ocr_ready(norm.image), truth),
            "steps": "|".join(norm.steps), "score": r.score, "defects": "|".join(r.defects),
            "t_normalise": t1 - t0, "t_readability": t2 - t1}


TILTS = (0, 8, 12, 16, 20, 25, 30)  # degrees: a sheet laid crooked on the scanner


CROOKED = ("fnfe_Facture_FR_BASICWL_scan", "i2d_free_fiber_scan", "i2d_NetpresseInvoice_scan")


def tilt_case(args: tuple) -> dict:
    """A real scan turned by `tilt` on its own frame (corners cut, as a flatbed does): word recall as
    it is and once normalised."""
    name, path, truth_pdf, tilt = args
    truth = bag(w.text for w in load_file(truth_pdf, truth_pdf.name, SETTINGS).pages[0].text_layer.words)
    page = load_file(path, path.name, SETTINGS).pages[0]
    h, w = page.image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), tilt, 1.0)
    crooked = cv2.warpAffine(page.image, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=(255, 255, 255))
    norm = normalise_page(replace(page, image=crooked), SETTINGS)
    return {"name": name, "tilt": tilt, "raw": recall(ocr_ready(crooked), truth),
            "normalised": recall(ocr_ready(norm.image), truth), "steps": "|".join(norm.steps)}


def care_sheet_captures(out_dir: Path) -> list[tuple]:
    """A scan and three photos (one turned by 90 deg) of the care sheet, made like the real captures."""
    mc = make_captures_module()
    out_dir.mkdir(parents=True, exist_ok=True)
    cases = []
    scan, _, _ = mc.make_scan(mc.render_first_page(FORM_PDF, mc.SCAN_DPI, grey=True), mc.rng_for(mc.SEED, "fds", "scan"))
    cv2.imwrite(str(out_dir / "fds_scan.png"), scan)
    cases.append(("care_sheet_scan", "scan", out_dir / "fds_scan.png", FORM_PDF))
    colour = mc.render_first_page(FORM_PDF, mc.PHOTO_RENDER_DPI, grey=False)
    for i, turn in enumerate([0, 0, 90]):
        photo, _, _ = mc.make_photo(colour, mc.rng_for(mc.SEED + i, "fds", "photo"), turn)
        path = out_dir / f"fds_photo_{i}.jpg"
        cv2.imwrite(str(path), photo[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, mc.PHOTO_JPEG_QUALITY])
        cases.append((f"care_sheet_photo_{i}_turn{turn}", "photo", path, FORM_PDF))
    return cases


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-osd", action="store_true", help="orientation: own method only (fast)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    print("1. orientation (turned 0/90/180/270)")
    jobs = [(n, img, turn, not args.skip_osd) for n, img in upright_pages() for turn in (0, 90, 180, 270)]
    with Pool(args.workers) as pool:
        rows = pool.map(orientation_case, jobs, chunksize=1)
    methods = ["own", "policy"] + ([] if args.skip_osd else ["osd", "osd_small"])
    for m in methods:
        ok = np.mean([r[m] for r in rows])
        t = np.array([r[f"t_{m}"] for r in rows])
        print(f"  {m:10s} accuracy {ok:.3f} ({sum(r[m] for r in rows)}/{len(rows)})  "
              f"time median {np.median(t):.3f} s, p90 {np.percentile(t, 90):.3f} s")
    print(f"  policy asked OSD on {sum(r['policy_osd'] for r in rows)}/{len(rows)} pages")
    for r in rows:
        if not all(r[m] for m in methods):
            print("   miss:", r["name"], r["turn"], {m: r[m] for m in methods}, f"own conf {r['own_conf']:.2f}")

    print("\n2-3. photo vs scan OCR (word recall vs the PDF text layer) and timings")
    cases = [(Path(r["capture_file"]).stem, r["capture"], REAL / r["capture_file"], REAL / r["from_file"])
             for r in captures()]
    cases += care_sheet_captures(Path("/tmp/bench_normalise"))
    with Pool(args.workers) as pool:
        res = pool.map(ocr_case, cases, chunksize=1)
    for r in res:
        print(f"  {r['name']:40s} {r['kind']:5s} raw {r['raw']:.3f}  normalised {r['normalised']:.3f}  "
              f"score {r['score']:.2f} {r['defects'] or '-':12s} {r['steps']}")
    for group in ("fnfe_", "i2d_", "care_sheet"):
        for kind in ("scan", "photo"):
            sel = [r for r in res if r["name"].startswith(group) and r["kind"] == kind]
            if sel:
                print(f"  mean {group:11s} {kind:5s}: raw {np.mean([r['raw'] for r in sel]):.3f}  "
                      f"normalised {np.mean([r['normalised'] for r in sel]):.3f}  (n={len(sel)})")
    tn, tr = np.array([r["t_normalise"] for r in res]), np.array([r["t_readability"] for r in res])
    print(f"  normalise_page: median {np.median(tn):.3f} s, max {tn.max():.3f} s; "
          f"score_readability: median {np.median(tr):.3f} s, max {tr.max():.3f} s")

    print("\n4. crooked scans: word recall of three real scans turned on their own frame, as is / normalised")
    scans = [(Path(r["capture_file"]).stem, REAL / r["capture_file"], REAL / r["from_file"]) for r in captures()
             if r["capture"] == "scan" and Path(r["capture_file"]).stem in CROOKED]
    with Pool(args.workers) as pool:
        res = pool.map(tilt_case, [(*c, t) for c in scans for t in TILTS], chunksize=1)
    for t in TILTS:
        sel = [r for r in res if r["tilt"] == t]
        print(f"  {t:2d} deg: " + "  ".join(f"{r['raw']:.2f} -> {r['normalised']:.2f}" for r in sel)
              + "   " + " ".join(sorted({s for r in sel for s in r["steps"].split("|") if s.startswith("deskew")})))


if __name__ == "__main__":
    main()
