"""Decisions and fields of every dossier, read once with each OCR engine: are they the same?

    .venv/bin/python bench/compare_engines.py [--inbox DIR] [--engines tesseract,tesserocr]

`process_dossier` over the inbox (read only) on 2 threads per engine, fresh OCR cache each, the same
artifacts folder (evidence names its crops); compares the rows of dossiers.csv and documents.csv
(`results.store.dossier_row` / `document_row`) but the processing time. Prints what differs.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def rows(inbox: Path, engine: str, artifacts: Path) -> list[tuple[dict, list[dict]]]:
    from core.settings import Settings
    from pipeline.dossier import process_dossier
    from results.store import document_row, dossier_row

    folders = sorted(p for p in inbox.iterdir() if (p / "manifest.json").is_file())
    settings = Settings(workers=2, ocr_engine=engine)
    shutil.rmtree(artifacts, ignore_errors=True)
    with tempfile.TemporaryDirectory() as cache, ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda f: process_dossier(f, settings, artifacts_root=artifacts,
                                                          cache_dir=Path(cache)), folders))
    return [({k: v for k, v in dossier_row(r).items() if k != "processed_at"},
             [document_row(d) for d in r.documents]) for r in results]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inbox", type=Path, default=REPO / "sample_docs" / "inbox")
    ap.add_argument("--engines", default="tesseract,tesserocr")
    args = ap.parse_args(argv)
    first, second = args.engines.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        a, b = rows(args.inbox, first, Path(tmp) / "artifacts"), rows(args.inbox, second, Path(tmp) / "artifacts")
    differ = 0
    for (da, docs_a), (db, docs_b) in zip(a, b):
        if (da, docs_a) == (db, docs_b):
            continue
        differ += 1
        print(da["dossier_id"], {k: (da[k], db[k]) for k in da if da[k] != db[k]})
        for x, y in zip(docs_a, docs_b):
            print("   ", x["file"], {k: (x[k], y[k]) for k in x if x[k] != y[k]})
    print(f"{len(a)} dossiers, {differ} differ ({first} / {second})")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
