"""`intake` console script: run the pipeline, evaluate a run."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flows import prefect_env


def _run(args: argparse.Namespace) -> int:
    prefect_env.configure()
    from flows.inbox import run_inbox  # imports Prefect: after configure()
    from core.settings import Settings

    settings = Settings.from_env(workers=args.workers, render_dpi=args.dpi)
    out = Path(args.out).resolve()
    archive = Path(args.archive).resolve() if args.archive else None
    summaries = run_inbox(Path(args.inbox).resolve(), out, settings, archive=archive)
    counts: dict[str, int] = {}
    for s in summaries:
        counts[s["decision"]] = counts.get(s["decision"], 0) + 1
    print(f"{len(summaries)} dossier(s): " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"CSV: {out / 'dossiers.csv'}")
    print(f"CSV: {out / 'documents.csv'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "eval":
        from evaluation.evaluate import main as eval_main
        return eval_main(argv[1:])
    if argv and argv[0] == "eval-real":
        from evaluation.real_invoices import main as real_main
        return real_main(argv[1:])

    parser = argparse.ArgumentParser(prog="intake", description="Claims intake: read, check and route dossiers.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="decide every ready dossier of an inbox, write the CSVs")
    run.add_argument("inbox", help="inbox folder: one sub-folder per dossier")
    run.add_argument("--out", required=True, help="output folder for dossiers.csv and documents.csv")
    run.add_argument("--archive", default=None,
                     help="move each decided dossier to ARCHIVE/<decision>/<folder> (default: leave it in the inbox)")
    run.add_argument("--workers", type=int, default=None, help="dossiers in parallel (default: cores)")
    run.add_argument("--dpi", type=int, default=None, help="PDF rendering resolution")
    sub.add_parser("eval", help="compare a run with a truth folder (see `intake eval --help`)")
    sub.add_parser("eval-real", help="measure the invoice reader on the real invoices")
    args = parser.parse_args(argv)
    return _run(args)


if __name__ == "__main__":
    raise SystemExit(main())
