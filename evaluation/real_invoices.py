"""`intake eval-real`: measure the invoice reader on the real public invoices.

Runs `read_invoice` on /work/shared/real/invoices (or the folder given) four ways:
  pdf_text  the PDFs through their text layer (OCR only where a page has none)
  pdf_ocr   the same PDFs rasterised by the loader and OCRed (text layer ignored)
  scan      captures/*_scan.png   (truth: the truth.csv row of captures.csv's from_file)
  photo     captures/*_photo.jpg  (normalised, then ocr_ready, as in the pipeline)
and prints exact-match rates per field and per mode, and the time per page of each path.
Then the real receipts (evaluation/real_receipts.py), development and held-out sets apart.
The expected SIRET is empty when the printed one fails Luhn (the FNFE placeholder).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.settings import REPO_ROOT, Settings

MODES = ("pdf_text", "pdf_ocr", "scan", "photo")
FIELDS = ("date", "total", "siret", "kind", "number", "due")
DEFAULT_FOLDER = REPO_ROOT.parent / "shared" / "real" / "invoices"
RECEIPTS_FOLDER = REPO_ROOT.parent / "shared" / "real" / "receipts"


@dataclass
class Row:
    mode: str
    file: str
    truth_file: str
    expected: dict[str, str]
    got: dict[str, str] = field(default_factory=dict)
    ok: dict[str, bool] = field(default_factory=dict)
    conf: dict[str, float] = field(default_factory=dict)  # the reader's confidence per field
    pages: int = 0
    load_s: float = 0.0  # loading (and rendering) the file
    text_s: float = 0.0  # getting words: text layer or OCR (+ normalisation for captures)
    read_s: float = 0.0  # read_invoice itself
    ocr_pages: int = 0
    normalised: bool = False
    error: str | None = None


def _truth(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "truth.csv").open(encoding="utf-8") as fh:
        return {r["file"]: r for r in csv.DictReader(fh)}


def _expected(t: dict[str, str]) -> dict[str, str]:
    siret_ok = t.get("issuer_siret_luhn_ok", "") == "yes"
    return {
        "date": t["invoice_date"],
        "total": t["invoice_total_ttc"],
        "siret": t["issuer_siret"] if siret_ok else "",
        "kind": "other",  # none of the real invoices is from a vet, a pharmacy or a lab
        "number": t.get("invoice_number", ""),
        "due": t.get("amount_due", ""),  # the balance, printed only when it differs from the total
    }


def jobs(folder: Path, modes: tuple[str, ...]) -> list[Row]:
    """One Row per (mode, file) to run, with its expected fields."""
    truth = _truth(folder)
    rows: list[Row] = []
    for mode in modes:
        if mode in ("pdf_text", "pdf_ocr"):
            for name in sorted(truth):
                if (folder / name).exists():
                    rows.append(Row(mode, name, name, _expected(truth[name])))
        else:
            with (folder / "captures.csv").open(encoding="utf-8") as fh:
                for c in csv.DictReader(fh):
                    if c["capture"] == mode and c["from_file"] in truth:
                        rows.append(Row(mode, c["capture_file"], c["from_file"], _expected(truth[c["from_file"]])))
    return rows


def run_one(args: tuple[Row, str, dict]) -> Row:
    """Load, read and score one file in one mode (runs in a worker process)."""
    row, folder, settings_kw, no_norm = args
    from extractors.invoice.fields import read_invoice, stronger, unsure
    from extractors.invoice.small_print import reread_siret
    from extractors.pages.load import load_file
    from extractors.pages.normalise import normalise_page, ocr_ready
    from extractors.pages.ocr import engine_for, second_engine_for
    from pipeline.document import mean_conf
    from pipeline.page import unsure_words

    settings = Settings(**settings_kw)
    ocr, second = engine_for(settings), second_engine_for(settings)
    path = Path(folder) / row.file
    t0 = time.perf_counter()
    loaded = load_file(path, path.name, settings)
    row.load_s = time.perf_counter() - t0
    if loaded.error:
        row.error = loaded.error
        return row
    texts, images, read_wide = [], [], []  # read_wide[i]: page i read in the second languages, or None
    t0 = time.perf_counter()
    for page in loaded.pages:
        if row.mode == "pdf_text" and page.text_layer is not None:
            texts.append(page.text_layer)
            images.append(None)
            read_wide.append(None)
            continue
        image = page.image
        if not no_norm:  # what the pipeline does: captures normalised, every OCRed page made ocr_ready
            if row.mode in ("scan", "photo"):
                page = normalise_page(page, settings)
                row.normalised = True
            image = ocr_ready(page.image, page.dpi)
        text, again = ocr.read(image), None
        if second is not None and unsure_words(text, settings):  # as the pipeline's read_wider
            again = second.read(image)
            text = again if (again.mean_conf or 0.0) > (text.mean_conf or 0.0) else text
        texts.append(text)
        images.append(image)
        read_wide.append(again)
        row.ocr_pages += 1
    row.text_s = time.perf_counter() - t0
    row.pages = len(texts)
    t0 = time.perf_counter()
    facts = reread_siret(read_invoice(texts), texts, images.__getitem__, ocr)  # as the pipeline does
    if second is not None and unsure(facts, settings.review_below_confidence) and any(i is not None for i in images):
        wide = [t if i is None else w or second.read(i)  # as pipeline.document.invoice_fields
                for t, i, w in zip(texts, images, read_wide)]
        again = reread_siret(read_invoice(wide), wide, images.__getitem__, second)
        facts = stronger(facts, again, f"relu en {settings.ocr_languages_second}", first_conf=mean_conf(texts),
                         second_conf=mean_conf(wide))
    row.read_s = time.perf_counter() - t0
    row.got = {
        "date": facts.invoice_date or "",
        "total": facts.total_ttc or "",
        "siret": facts.siret or "",
        "kind": facts.kind.value if facts.kind else "",
        "number": facts.invoice_number or "",
        "due": facts.amount_due or "",
    }
    row.ok = {f: row.got[f] == row.expected[f] for f in FIELDS}
    names = {"date": "invoice_date", "total": "total_ttc", "siret": "siret", "kind": "kind",
             "number": "invoice_number", "due": "amount_due"}
    row.conf = {f: facts.confidence.get(names[f], 0.0) for f in FIELDS}
    return row


def text_layer_seconds(folder: Path, settings: Settings) -> tuple[float, int]:
    """Time pdfplumber alone on every PDF (the text path's own cost; rendering is shared)."""
    from pypdf import PdfReader

    from extractors.pages import load as loader

    total, pages = 0.0, 0
    for pdf in sorted(folder.glob("*.pdf")):
        n = len(PdfReader(str(pdf)).pages)
        t0 = time.perf_counter()
        loader._text_layers(pdf, settings.render_dpi, n, settings)  # the loader's own text-layer step
        total += time.perf_counter() - t0
        pages += n
    return total, pages


def summarise(rows: list[Row]) -> dict:
    """Exact-match rates per mode and field, and mean seconds per page."""
    out: dict = {}
    for mode in MODES:
        rs = [r for r in rows if r.mode == mode]
        if not rs:
            continue
        pages = sum(r.pages for r in rs) or 1
        out[mode] = {
            "n": len(rs),
            **{f: round(sum(r.ok.get(f, False) for r in rs) / len(rs), 3) for f in FIELDS},
            "errors": sum(1 for r in rs if r.error),
            # calibration: values given with confidence >= 0.9 and how many of them are exact; values under 0.9
            "sure": sum(1 for r in rs for f in FIELDS if r.got.get(f) and r.conf.get(f, 0.0) >= 0.9),
            "sure_exact": sum(1 for r in rs for f in FIELDS if r.got.get(f) and r.conf.get(f, 0.0) >= 0.9 and r.ok[f]),
            "unsure": sum(1 for r in rs for f in FIELDS if r.got.get(f) and r.conf.get(f, 0.0) < 0.9),
            "normalised": any(r.normalised for r in rs),
            "words_s_per_page": round(sum(r.text_s for r in rs) / pages, 3),
            "read_s_per_page": round(sum(r.read_s for r in rs) / pages, 4),
            "load_s_per_page": round(sum(r.load_s for r in rs) / pages, 3),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line entry: prints the table (or JSON); returns 0, or 2 when the folder is missing."""
    ap = argparse.ArgumentParser(prog="intake eval-real", description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER, help="real invoices folder")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of " + ",".join(MODES))
    ap.add_argument("--workers", type=int, default=None, help="parallel files (default: settings.workers)")
    ap.add_argument("--cache", type=Path, default=None, help="OCR cache folder (default: none, honest timings)")
    ap.add_argument("--rows", action="store_true", help="also list every file with what was read")
    ap.add_argument("--raw", action="store_true", help="OCR pages as loaded, without normalise_page / ocr_ready")
    ap.add_argument("--receipts", type=Path, default=RECEIPTS_FOLDER,
                    help="real receipts folder, read as the pipeline reads an upload (evaluation/real_receipts.py)")
    ap.add_argument("--receipt-sets", default="dev,held",
                    help="dev (even ids), held (odd ids, the held-out set), dev,held or both (the default); '' to skip")
    ap.add_argument("--receipt-rows", action="store_true", help="list every development-set receipt with what was read")
    a = ap.parse_args(argv)
    folder = a.folder.resolve()
    if not (folder / "truth.csv").exists():
        print(f"no truth.csv in {folder}", file=sys.stderr)
        return 2
    modes = tuple(m for m in a.modes.split(",") if m in MODES)
    wanted = "dev,held" if a.receipt_sets.strip() == "both" else a.receipt_sets
    receipt_sets = tuple(x for x in wanted.split(",") if x in ("dev", "held"))
    settings_kw = {"ocr_cache_dir": str(a.cache)} if a.cache else {}
    settings = Settings.from_env(**settings_kw)
    workers = a.workers or settings.workers
    rows = jobs(folder, modes)
    with ProcessPoolExecutor(max_workers=workers) as ex:
        rows = list(ex.map(run_one, [(r, str(folder), settings.model_dump(), a.raw) for r in rows]))
    receipts: list = []
    if receipt_sets and (a.receipts / "truth.csv").exists():
        from evaluation import real_receipts

        receipts = real_receipts.run(a.receipts.resolve(), receipt_sets, settings, workers)
    summary = summarise(rows)
    tl_s, tl_pages = text_layer_seconds(folder, settings) if "pdf_text" in modes else (0.0, 0)
    timing = {"text_layer_s_per_page": round(tl_s / max(1, tl_pages), 4)}
    if "pdf_ocr" in summary:
        timing["ocr_s_per_page"] = summary["pdf_ocr"]["words_s_per_page"]
    if a.json:
        payload = {"folder": str(folder), "modes": summary, "timing": timing}
        if a.rows:
            payload["rows"] = [asdict(r) for r in rows]
        if receipts:
            from evaluation import real_receipts

            payload["receipts"] = {s: real_receipts.summarise([r for r in receipts if r.set == s])
                                   for s in receipt_sets}
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    print(f"real invoices: {folder}  (workers {workers}, OCR cache {'on' if a.cache else 'off'})")
    print(f"{'mode':<9} {'n':>3} {'date':>6} {'total':>6} {'siret':>6} {'kind':>6} {'number':>6} {'due':>6}"
          "  words s/page  read s/page  normalised"
          "  conf>=0.9 exact  <0.9")
    for mode, s in summary.items():
        print(
            f"{mode:<9} {s['n']:>3} {s['date']:>6.2f} {s['total']:>6.2f} {s['siret']:>6.2f} {s['kind']:>6.2f}"
            f" {s['number']:>6.2f} {s['due']:>6.2f}"
            f"  {s['words_s_per_page']:>12.3f} {s['read_s_per_page']:>12.4f}  {'yes' if s['normalised'] else 'no':>10}"
            f"  {s['sure_exact']:>6}/{s['sure']:<8} {s['unsure']:>4}"
        )
    print("text layer (pdfplumber) s/page:", timing["text_layer_s_per_page"],
          "| OCR s/page:", timing.get("ocr_s_per_page", "-"))
    if a.rows:
        for r in rows:
            bad = [f"{f}: {r.got.get(f, '')!r} != {r.expected[f]!r}" for f in FIELDS if not r.ok.get(f)]
            print(f"  {r.mode:<8} {r.file:<45} {'ok' if not bad else '; '.join(bad)}{' ' + r.error if r.error else ''}")
    if receipts:
        from evaluation import real_receipts

        print("\n".join(real_receipts.report(receipts, a.receipt_rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
