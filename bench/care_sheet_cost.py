"""CPU cost of reading one care sheet (read_care_sheet with its fields), per sheet, on a generated inbox.

    PYTHONPATH=. .venv/bin/python bench/care_sheet_cost.py --inbox /tmp/cf-dev/inbox [--limit 20] [--profile 15]

Each dossier's care sheet (the file its manifest names for the care_sheet slot, else the one the truth
calls so) is loaded and normalised as the pipeline does (untimed), then read_care_sheet runs with the
settings' engine (tesserocr: libtesseract in this process, so its CPU is counted) and a fresh, empty OCR
cache: the CPU seconds of this process (time.process_time) around the call. Prints the median and p90,
the split by read.py's timings (register / fields / the rest), and with --profile the functions that cost
most. The digit model is built before timing (the inbox flow builds it before forking its children).
Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import pstats
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from core.settings import Settings  # noqa: E402
from extractors.care_sheet.read import Measures, prepare, read_care_sheet  # noqa: E402
from extractors.pages.load import load_file  # noqa: E402
from extractors.pages.normalise import normalise_page  # noqa: E402
from extractors.pages.ocr import engine_for  # noqa: E402


def truth_rows(inbox: Path, truth: Path | None) -> dict[Path, dict]:
    """The truth's documents.csv row of each care sheet in the inbox, by file."""
    if truth is None or not (truth / "documents.csv").is_file():
        return {}
    rows = csv.DictReader((truth / "documents.csv").open(encoding="utf-8"))
    return {inbox / r["dossier_id"] / r["file"]: r for r in rows
            if r["doc_type"] == "care_sheet" and (inbox / r["dossier_id"] / r["file"]).is_file()}


SCORED = ("consultation_date", "first_symptoms_date", "animal_birth_date", "owner_date", "vet_date", "total_ttc")


def score(rows: list[tuple[dict, dict]]) -> None:
    """Exact rate of the handwritten dates and total (sheets not pre-filled; truth non-empty), and how many
    wrong values were given with confidence >= 0.6. A quick look at the dev set; `intake eval` is the score."""
    for name in SCORED:
        got = [(f.get(name), c.get(name, 0.0), t[f"care_sheet_{name}"]) for t, (f, c) in rows
               if t[f"care_sheet_{name}"] and (name != "animal_birth_date" or "prefilled" not in t["note"])]
        if got:
            right = sum(v == w for v, _, w in got)
            sure_wrong = sum(v != w and v is not None and cf >= 0.6 for v, cf, w in got)
            print(f"  {name:20s} {right:3d}/{len(got):3d} = {right / len(got):.2f}   wrong with conf >= 0.6: {sure_wrong}")


def care_sheets(inbox: Path, truth: Path | None) -> list[Path]:
    """The care-sheet file of each dossier (by the truth's documents.csv when given)."""
    if truth_rows(inbox, truth):
        return list(truth_rows(inbox, truth))
    out = []
    for folder in sorted(p for p in inbox.iterdir() if (p / "manifest.json").is_file()):
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        out += [folder / d["file"] for d in m.get("documents", [])
                if d.get("slot") == "care_sheet" and (folder / d["file"]).is_file()]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inbox", type=Path, required=True)
    ap.add_argument("--truth", type=Path, default=None, help="default: <inbox>/../truth")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--show", default="", help="print truth / read / how of this field on every sheet where they differ")
    ap.add_argument("--profile", type=int, default=0, help="print this many costliest functions (cumulative)")
    args = ap.parse_args()
    truth = args.truth or args.inbox.parent / "truth"
    files = care_sheets(args.inbox, truth)[: args.limit or None]
    with tempfile.TemporaryDirectory() as cache:
        settings = Settings.from_env(ocr_cache_dir=Path(cache))
        engine = engine_for(settings, languages=settings.care_sheet_ocr_languages)  # as pipeline.context.Reader
        prepare()
        pages, truths, read, days, hows = [], [], [], [], []
        known = truth_rows(args.inbox, truth)
        for i, path in enumerate(files):
            loaded = load_file(path, path.name, settings, ref=f"sheet {i}")
            if loaded.pages:
                pages.append(normalise_page(loaded.pages[0], settings, engine))
                truths.append(known.get(path))
                sent = json.loads((path.parent / "manifest.json").read_text(encoding="utf-8")).get("submitted_at")
                days.append(date.fromisoformat(sent[:10]) if sent else None)
        read_care_sheet(pages[0], settings, engine=engine)  # warm: the model, the blank, tesserocr's init
        prof = cProfile.Profile() if args.profile else None
        cpu, parts = [], {"register": [], "fields": []}
        for page, day in zip(pages, days):
            m = Measures()
            if prof:
                prof.enable()
            t = time.process_time()
            facts = read_care_sheet(page, settings, engine=engine, measures=m, submitted=day)
            cpu.append(time.process_time() - t)
            read.append((facts.fields, facts.field_confidence))
            if args.show and m.fields.get(args.show) is not None:
                hows.append(m.fields[args.show].how)
            else:
                hows.append("")
            if prof:
                prof.disable()
            if facts.registered:
                for k in parts:
                    parts[k].append(m.timings_ms.get(k, 0.0) / 1000)
    a = np.array(cpu)
    print(f"care sheets: {len(a)} (engine {settings.ocr_engine}, fresh OCR cache)")
    print(f"CPU s per sheet: median {np.median(a):.3f}  p90 {np.percentile(a, 90):.3f}  max {a.max():.3f}")
    for k, v in parts.items():
        if v:
            print(f"  {k:9s} wall s: median {np.median(v):.3f}  p90 {np.percentile(v, 90):.3f}")
    scored = [(t, r) for t, r in zip(truths, read) if t is not None]
    if scored:
        print(f"fields (handwritten, {len(scored)} sheets with truth):")
        score(scored)
    if args.show:
        for k, (t, (f, c)) in enumerate(zip(truths, read)):
            want = t and t.get(f"care_sheet_{args.show}")
            if t is not None and (f.get(args.show) or "") != want:
                print(f"  sheet {k:2d} {t['capture']:6s} truth {want!r:14s} read {f.get(args.show)!r:12s} "
                      f"conf {c.get(args.show, 0):.2f}  {hows[k]}")
    if prof:
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(args.profile)
        print(s.getvalue())


if __name__ == "__main__":
    main()
