"""The vet box on three families kept apart: VET_SIGNATURE_MISSING and VET_STAMP_MISSING precision/recall.

    .venv/bin/python bench/calibrate_vetbox.py --family indep --split dev --n 140 [--show-errors]
    .venv/bin/python bench/calibrate_vetbox.py --family real --split held --n 80
    .venv/bin/python bench/calibrate_vetbox.py --family bench --split calib --n 200   # the bench's own sheets

Families: "bench" (bench/care_sheet_synth.py, splits calib / eval), "indep" (bench/vetbox_indep.py, an
independent drawing of signatures, stamps and captures; splits dev / held) and "real" (real stamps and
signatures cut from public scans, bench/vetbox_real.py; splits dev / held). The held splits are measured
once, at the end. A finding is "positive": precision = share of the findings raised that were deserved,
recall = share of the missing items that raised one. Undetermined flags (None) raise nothing and are
counted apart.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.records import Capture, Page  # noqa: E402
from core.settings import Settings  # noqa: E402
from extractors.care_sheet.read import Measures, read_care_sheet  # noqa: E402

FLAGS = {"vet_signature": "VET_SIGNATURE_MISSING", "vet_stamp": "VET_STAMP_MISSING"}
REVIEW_BELOW = Settings().review_below_confidence  # a flag under it sends the dossier to a person


def sheet(family: str, split: str, i: int):
    """(image, dpi, capture kind, truth, case) of one sheet."""
    if family == "bench":
        from care_sheet_synth import make_page

        cap, sc = make_page(split, i)
        t = sc.truth()
        case = ("stamp" if t["vet_stamp"] else "") + ("+sig" if t["vet_signature"] else "")
        return cap.image, cap.dpi, cap.kind, {f: t[f] for f in FLAGS}, case or "neither"
    mod = __import__("vetbox_indep" if family == "indep" else "vetbox_real")
    img, dpi, c = mod.make_sheet(split, i)
    return img, dpi, c.kind, c.truth(), f"{c.case}/{c.stamp_shape}/{c.stamp_ink}"


def run_one(job):
    family, split, i = job
    img, dpi, kind, truth, case = sheet(family, split, i)
    page = Page(file=f"{family}-{i}.png", number=1, image=img, dpi=dpi,
                capture=Capture.PDF_IMAGE if kind == "clean" else Capture.IMAGE)
    m = Measures()
    facts = read_care_sheet(page, Settings(), measures=m)
    conf = {f: getattr(facts, f"{f}_confidence", None) for f in FLAGS}
    return {"i": i, "kind": kind, "case": case, "truth": truth, "flags": {f: getattr(facts, f) for f in FLAGS},
            "confidence": conf, "vet_ms": m.timings_ms.get("vet_box", 0.0), "total_ms": m.timings_ms.get("total", 0.0),
            "notes": [n for n in facts.notes if n.startswith("vet_")],
            "leaving_mm": max((l.leaving_mm for l in m.vet.layers if l.stamp), default=0.0) if m.vet else None}


def report(recs: list[dict], label: str) -> dict:
    out = {}
    print(f"\n{label}: {len(recs)} sheets")
    for f, code in FLAGS.items():
        fired = [r for r in recs if r["flags"][f] is False]
        missing = [r for r in recs if not r["truth"][f]]
        tp = sum(not r["truth"][f] for r in fired)
        und = sum(r["flags"][f] is None for r in recs)
        p = tp / len(fired) if fired else 1.0
        rc = tp / len(missing) if missing else 1.0
        out[code] = (p, rc)
        print(f"  {code:24s} precision {p:.3f} ({tp}/{len(fired)})  recall {rc:.3f} ({tp}/{len(missing)})  "
              f"undetermined {und}")
    errs = Counter()
    for r in recs:
        for f in FLAGS:
            if r["flags"][f] is not None and r["flags"][f] != r["truth"][f]:
                errs[(f, "false missing" if r["truth"][f] else "false present", r["case"].split("/")[0])] += 1
    for (f, how, case), n in sorted(errs.items()):
        print(f"    {f:14s} {how:14s} {case:22s} {n}")
    vet = [r["vet_ms"] for r in recs]
    print(f"  vet box wall ms: median {np.median(vet):.0f}, p95 {np.percentile(vet, 95):.0f}; "
          f"read_care_sheet median {np.median([r['total_ms'] for r in recs]):.0f}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", required=True, choices=["bench", "indep", "real"])
    ap.add_argument("--split", required=True, help="bench: calib/eval; indep, real: dev/held")
    ap.add_argument("--n", type=int, default=140)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--show-errors", action="store_true")
    ap.add_argument("--dump", help="write the per-sheet records (JSON) here")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    t = time.time()
    with Pool(args.jobs) as pool:
        recs = list(pool.imap(run_one, [(args.family, args.split, i) for i in range(args.n)], chunksize=2))
    print(f"{len(recs)} sheets in {time.time() - t:.0f} s")
    report(recs, f"{args.family}/{args.split}")
    if args.dump:
        Path(args.dump).write_text(json.dumps(recs, default=str))
    if args.family == "indep":  # the handwriting case (a vet's address written by hand, no stamp) apart
        report([r for r in recs if not r["case"].startswith("handwriting")], f"{args.family}/{args.split} without handwriting")
        report([r for r in recs if r["case"].startswith("handwriting")], f"{args.family}/{args.split} handwriting only")
    low = [r for r in recs for f in FLAGS if r["confidence"][f] is not None and r["confidence"][f] < REVIEW_BELOW]
    wrong = [(r, f) for r in recs for f in FLAGS if r["flags"][f] is not None and r["flags"][f] != r["truth"][f]]
    caught = sum(r["confidence"][f] is not None and r["confidence"][f] < REVIEW_BELOW for r, f in wrong)
    print(f"\nconfidence < {REVIEW_BELOW}: {len(low)} flags of {len(recs) * len(FLAGS)} sent to a person; "
          f"{caught} of the {len(wrong)} wrong flags among them")
    for f in FLAGS:  # per flag and value: how many were sent to a person, right and wrong apart
        for value in (False, True):
            got = [r for r in recs if r["flags"][f] is value]
            sent = [r for r in got if r["confidence"][f] is not None and r["confidence"][f] < REVIEW_BELOW]
            bad = [r for r in got if r["truth"][f] != value]
            print(f"  {f:14s} read {'present' if value else 'missing'}: {len(got)}, sent {len(sent)}; "
                  f"wrong {len(bad)}, of them sent {sum(r in sent for r in bad)}; "
                  f"right sent {sum(r not in bad for r in sent)}")
    if args.show_errors:
        for r in recs:
            bad = [f for f in FLAGS if r["flags"][f] is not None and r["flags"][f] != r["truth"][f]]
            if bad:
                print(r["i"], r["kind"], r["case"], bad, r["confidence"], *r["notes"], sep="\n   ")


if __name__ == "__main__":
    main()
