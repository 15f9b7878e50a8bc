#!/usr/bin/env python3
"""Generate a labelled inbox of reimbursement dossiers and its truth.

    python sample_docs/generate.py --out DIR --seed N --n K [--workers W] [--profile full|compact]

Writes DIR/inbox/<dossier_id>/ (files, then manifest.json last and atomically), plus a few folders
still being uploaded (no manifest), and DIR/truth/dossiers.csv, documents.csv, pending.csv.
Same seed, n and profile -> byte-identical files (with the same library versions).
DIR/inbox and DIR/truth are emptied first; nothing else under DIR is touched.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread per worker process: the pool is the parallelism

from gen.common import rng_for  # noqa: E402
from gen.dossier import Job, build  # noqa: E402
from gen.truth import DocTruth, DossierTruth, csv_text  # noqa: E402


def dossier_ids(seed: int, n: int) -> list[str]:
    """Portal-style ids, increasing, starting somewhere that depends on the seed."""
    start = int(rng_for(seed, "ids").integers(100, 900)) * 100
    return [f"D-2017-{start + i:06d}" for i in range(n)]


def n_pending(n: int) -> int:
    """Folders still uploading: one per 40 dossiers, at least one."""
    return max(1, n // 40)


def run(out: Path, seed: int, n: int, workers: int, profile: str) -> tuple[list[DossierTruth], list[DocTruth]]:
    """Build everything; returns the truth rows sorted by dossier id."""
    inbox, truth = out / "inbox", out / "truth"
    for d in (inbox, truth):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    ids = dossier_ids(seed, n + n_pending(n))
    jobs = [Job(seed, i, ids[i], str(inbox), profile, pending=i >= n) for i in range(len(ids))]
    if workers > 1:
        with mp.get_context("fork").Pool(workers, maxtasksperchild=20) as pool:
            results = pool.map(build, jobs, chunksize=1)
    else:
        results = [build(j) for j in jobs]
    dossiers = [d for d, _ in results if d is not None]
    documents = [row for _, rows in results for row in rows]
    (truth / "dossiers.csv").write_text(csv_text(dossiers, DossierTruth), encoding="utf-8")
    (truth / "documents.csv").write_text(csv_text(documents, DocTruth), encoding="utf-8")
    pending = "".join(f"{j.dossier_id}\n" for j in jobs if j.pending)
    (truth / "pending.csv").write_text("folder\n" + pending, encoding="utf-8")
    return dossiers, documents


def main(argv: list[str] | None = None) -> int:
    """CLI entry: parse flags, generate, print a one-line summary."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="writes OUT/inbox and OUT/truth")
    p.add_argument("--seed", type=int, default=2017)
    p.add_argument("--n", type=int, default=20, help="dossiers with a manifest (plus pending folders)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--profile", choices=["full", "compact"], default="full",
                   help="compact: lower dpi and JPEG quality (the committed sample)")
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    dossiers, documents = run(a.out, a.seed, a.n, max(1, a.workers), a.profile)
    counts: dict[str, int] = {}
    for d in dossiers:
        counts[d.decision] = counts.get(d.decision, 0) + 1
    print(f"{len(dossiers)} dossiers, {len(documents)} documents in {time.perf_counter() - t0:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
