"""The two OCR engines side by side, page by page: the `tesseract` command and libtesseract (tesserocr).

    .venv/bin/python bench/bench_engines.py                    # ~37 real pages, psm 11 and 3, fra+eng and fra
    .venv/bin/python bench/bench_engines.py --pages 20 --modes 11:fra+eng   # a quick look

Pages: the 9 real invoices of /work/shared/real/invoices rendered at 200 dpi (first page), their scan
and photo captures, and the first 10 images/pages of sample_docs/inbox. One page at a time, no cache,
so wall and CPU are the OCR's own. CPU of the command engine is its children's (getrusage), of
tesserocr our own process's (the same thread does the work). The first tesserocr call, which loads
the models, is counted like any other: its cost is in the first page of each mode.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
REAL = REPO.parent / "shared" / "real" / "invoices"


def real_pages(dest: Path, limit_sample: int = 10) -> list[Path]:
    """The bench's pages as image files (rendered once, untimed)."""
    pages: list[Path] = []
    for pdf in sorted(REAL.glob("*.pdf")):
        stem = dest / pdf.stem
        subprocess.run(["pdftoppm", "-r", "200", "-gray", "-png", "-f", "1", "-l", "1", str(pdf), str(stem)],
                       check=True, capture_output=True)
        pages += sorted(dest.glob(f"{pdf.stem}-*.png"))
    pages += sorted((REAL / "captures").glob("*_scan.png")) + sorted((REAL / "captures").glob("*_photo.jpg"))
    sample: list[Path] = []
    for f in sorted((REPO / "sample_docs" / "inbox").glob("*/*")):
        if len(sample) >= limit_sample:
            break
        if f.suffix.lower() in (".jpg", ".jpeg", ".png"):
            sample.append(f)
        elif f.suffix.lower() == ".pdf":
            stem = dest / f"{f.parent.name}_{f.stem}"
            subprocess.run(["pdftoppm", "-r", "200", "-gray", "-png", "-f", "1", "-l", "1", str(f), str(stem)],
                           capture_output=True)
            sample += sorted(dest.glob(f"{stem.name}-*.png"))
    return pages + sample


def cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def measure(engine, images, psm: int) -> tuple[list[float], list[float], list]:
    walls, cpus, words = [], [], []
    for im in images:
        w0, c0 = time.perf_counter(), cpu()
        words.append(engine.read(im, psm=psm).words)
        walls.append(time.perf_counter() - w0)
        cpus.append(cpu() - c0)
    return walls, cpus, words


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=0, help="use only the first N pages (0: all)")
    ap.add_argument("--modes", default="11:fra+eng,11:fra,3:fra+eng,3:fra", help="psm:languages, comma-separated")
    ap.add_argument("--engines", default="tesseract,tesserocr")
    args = ap.parse_args(argv)

    import cv2

    from core.settings import Settings
    from extractors.pages.ocr import ENGINES

    with tempfile.TemporaryDirectory() as tmp:
        paths = real_pages(Path(tmp))
        images = [cv2.imread(str(p)) for p in paths]
    if args.pages:
        images = images[:args.pages]
    print(f"{len(images)} pages; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"OMP_THREAD_LIMIT={os.environ.get('OMP_THREAD_LIMIT', '(unset: 1 for tesserocr)')}")
    print(f"{'psm':>3} {'languages':<9} {'engine':<10} {'wall s/page':>11} {'CPU s/page':>10} "
          f"{'first page CPU':>14}  same words+boxes")
    for mode in args.modes.split(","):
        psm, langs = mode.split(":")
        ref = None
        for name in args.engines.split(","):
            s = Settings(ocr_cache_dir=None, workers=1, ocr_languages=langs)
            walls, cpus, words = measure(ENGINES[name].from_settings(s), images, int(psm))
            key = [[(w.text, w.left, w.top, w.width, w.height, w.line) for w in ws] for ws in words]
            same = "" if ref is None else ("yes" if key == ref else
                                           f"NO ({sum(a != b for a, b in zip(key, ref))} pages differ)")
            ref = ref or key
            n = len(images)
            print(f"{psm:>3} {langs:<9} {name:<10} {sum(walls) / n:11.2f} {sum(cpus) / n:10.2f} "
                  f"{cpus[0]:14.2f}  {same}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
