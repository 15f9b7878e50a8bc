"""Per-PDF cost of the text layer's deadline child: a fresh Python per PDF (the former way, still what
`python -m extractors.pages.pdf_text FILE N` does) against a fork of the fork server (`raw_words`).

    .venv/bin/python bench/bench_pdf_text.py [--rounds 3]

The 9 real invoices of /work/shared/real/invoices, each parsed `--rounds` times one after the other.
CPU: ours + our children's; a fork-server child is the server's child, so it reports its own CPU.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
REAL = REPO.parent / "shared" / "real" / "invoices"


def cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    from extractors.pages import pdf_text

    pdfs = sorted(REAL.glob("*.pdf"))
    n = args.rounds * len(pdfs)
    print(f"{n} PDFs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    env = {"PYTHONPATH": str(REPO), "PATH": "", "OMP_THREAD_LIMIT": "1"}  # the former child's environment
    w0, c0 = time.perf_counter(), cpu()
    for _ in range(args.rounds):
        for p in pdfs:
            subprocess.run([sys.executable, "-m", "extractors.pages.pdf_text", str(p), "5"], env=env, cwd=str(REPO),
                           capture_output=True, check=True, timeout=60)
    print(f"fresh Python per PDF: wall {(time.perf_counter() - w0) / n * 1000:4.0f} ms/PDF, "
          f"CPU {(cpu() - c0) / n * 1000:4.0f} ms/PDF")
    pdf_text.raw_words(pdfs[0], 1, 30)  # the server's start, once per process
    w0, c0, k0 = time.perf_counter(), cpu(), pdf_text.CHILD_CPU[0]
    for _ in range(args.rounds):
        for p in pdfs:
            assert pdf_text.raw_words(p, 5, 60) is not None
    print(f"fork-server child:    wall {(time.perf_counter() - w0) / n * 1000:4.0f} ms/PDF, "
          f"CPU {(cpu() - c0 + pdf_text.CHILD_CPU[0] - k0) / n * 1000:4.0f} ms/PDF")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
