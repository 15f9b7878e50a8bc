"""`intake eval-real --receipts`: the pipeline's page reading and invoice reader on real receipts.

Each image of /work/shared/real/receipts (or the folder given; truth.csv, see its README) goes
through what the pipeline does to an upload in the invoice slot: load, normalise, readability,
OCR, classification (the slot deciding only when nothing can be read), then the invoice's fields
with the second look at the SIRET. Per capture kind it counts the legible documents judged
illegible, the invoices recognised by their text, and the exact date, total TTC and issuer SIRET
(as printed, where one is printed), and how often a SIRET not the issuer's was given (the
client's among them). Calibration: among values with confidence >= 0.9, the share exact.

Set separation: a file whose numeric id is even belongs to the development set, odd to the
held-out set (measured at the start and once at the end, never looked at while building).
"""
from __future__ import annotations

import csv
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.settings import REPO_ROOT, Settings

DEFAULT_FOLDER = REPO_ROOT.parent / "shared" / "real" / "receipts"
FIELDS = ("date", "total", "siret")
SETS = ("dev", "held")
CONF_SURE = 0.9  # calibration: values at or above this confidence should be exact
STRIP_ASPECT = 1.7  # long side / short side from which a capture is a till strip, not a page
_DIGITS = re.compile(r"\d(?:[ ]?\d){13}")


@dataclass
class ReceiptRow:
    file: str
    set: str
    kind: str  # capture kind: till_strip, page, handwritten
    expected: dict[str, str]
    client_sirets: tuple[str, ...] = ()
    got: dict[str, str] = field(default_factory=dict)
    conf: dict[str, float] = field(default_factory=dict)
    ok: dict[str, bool] = field(default_factory=dict)
    siret_flagged: bool = False  # the SIRET given is the printed one failing Luhn (InvoiceFacts.siret_failing_luhn)
    illegible: bool = False
    why: tuple[str, ...] = ()
    readability: float = 0.0
    doc_type: str = ""
    identified_by: str = ""
    seconds: float = 0.0
    error: str | None = None


def file_set(name: str) -> str:
    """'dev' for an even numeric id in the file name, 'held' for an odd one."""
    m = re.search(r"(\d+)", name)
    return "dev" if m and int(m.group(1)) % 2 == 0 else "held"


def _kind(path: Path, truth: dict[str, str]) -> str:
    if truth.get("handwritten") == "yes":
        return "handwritten"
    try:
        from PIL import Image

        with Image.open(path) as im:
            w, h = im.size
    except OSError:
        return "page"
    return "till_strip" if max(w, h) >= STRIP_ASPECT * min(w, h) else "page"


def jobs(folder: Path, sets: tuple[str, ...]) -> list[ReceiptRow]:
    rows = []
    with (folder / "truth.csv").open(encoding="utf-8") as fh:
        for t in csv.DictReader(fh):
            s = file_set(t["file"])
            if s not in sets or not (folder / t["file"]).exists():
                continue
            issuer = t["issuer_siret"].strip()
            note = t.get("note", "")
            clients = tuple(sorted({d.replace(" ", "") for d in _DIGITS.findall(note)} - {issuer}
                                   if "client" in note.lower() else ()))
            rows.append(ReceiptRow(t["file"], s, _kind(folder / t["file"], t),
                                   {"date": t["invoice_date"], "total": t["invoice_total_ttc"], "siret": issuer},
                                   clients))
    return sorted(rows, key=lambda r: r.file)


def run_one(args: tuple[ReceiptRow, str, dict]) -> ReceiptRow:
    """One image through the pipeline's page steps and the invoice reader (runs in a worker process)."""
    row, folder, settings_kw = args
    from core.records import DocType
    from extractors.pages.load import load_file
    from pipeline.context import Reader
    from pipeline.document import invoice_fields, typed_pages
    from pipeline.page import read_pages

    settings = Settings(**settings_kw)
    reader = Reader.create(settings)
    path = Path(folder) / row.file
    t0 = time.perf_counter()
    loaded = load_file(path, path.name, settings)
    if loaded.error:
        row.error, row.illegible = loaded.error, True
        return row
    readings = read_pages(loaded.pages, "invoice", reader)
    groups = typed_pages(readings)
    row.readability = round(min(r.readability.score for r in readings), 3)
    row.illegible = not all(r.legible for r in readings)
    row.why = tuple(dict.fromkeys(w for r in readings for w in r.why))
    invoices = [idx for t, idx in groups if t == DocType.INVOICE]
    if invoices:
        idx = invoices[0]
        first = readings[idx[0]]
        row.doc_type, row.identified_by = DocType.INVOICE.value, first.identified_by
        read = [readings[i] for i in idx if readings[i].text is not None]
        if read and all(readings[i].legible for i in idx):
            facts = invoice_fields(read, reader)
            # the issuer's SIRET as printed: the valid one, or the 14 digits flagged as failing Luhn
            row.got = {"date": facts.invoice_date or "", "total": facts.total_ttc or "",
                       "siret": facts.siret or facts.siret_failing_luhn or ""}
            row.siret_flagged = facts.siret is None and facts.siret_failing_luhn is not None
            c = facts.confidence
            row.conf = {"date": c.get("invoice_date", 0.0), "total": c.get("total_ttc", 0.0),
                        "siret": c.get("siret", 0.0)}
    else:
        row.doc_type = groups[0][0].value if groups else ""
    row.ok = {f: row.got.get(f, "") == row.expected[f] for f in FIELDS}
    row.seconds = round(time.perf_counter() - t0, 2)
    return row


def _share(n: int, d: int) -> str:
    return f"{n / d:.2f} ({n}/{d})" if d else "-"


def summarise(rows: list[ReceiptRow]) -> dict:
    """Counts and exact shares for one group of rows."""
    printed = [r for r in rows if r.expected["siret"]]
    wrong_siret = [r for r in rows if r.got.get("siret") and r.got["siret"] != r.expected["siret"] and not r.siret_flagged]
    sure = [(r, f) for r in rows for f in FIELDS if r.got.get(f) and r.conf.get(f, 0.0) >= CONF_SURE]
    unsure = [(r, f) for r in rows for f in FIELDS if r.got.get(f) and r.conf.get(f, 0.0) < CONF_SURE]
    return {
        "n": len(rows),
        "judged_illegible": sum(r.illegible for r in rows),
        "invoice_by_text": sum(r.doc_type == "invoice" and r.identified_by == "text" for r in rows),
        "invoice_any": sum(r.doc_type == "invoice" for r in rows),
        "date": sum(r.ok.get("date", False) for r in rows),
        "total": sum(r.ok.get("total", False) for r in rows),
        "siret_printed": len(printed),
        "siret_exact": sum(r.ok.get("siret", False) for r in printed),
        "siret_none_ok": sum(r.ok.get("siret", False) for r in rows if not r.expected["siret"]),
        "siret_wrong_given": len(wrong_siret),
        "client_siret_taken": sum(r.got.get("siret") in r.client_sirets for r in rows),
        "siret_flagged_luhn": sum(r.siret_flagged for r in rows),
        "sure_values": len(sure),
        "sure_exact": sum(r.ok[f] for r, f in sure),
        "unsure_values": len(unsure),
        "seconds_per_doc": round(sum(r.seconds for r in rows) / max(1, len(rows)), 2),
    }


def report(rows: list[ReceiptRow], show_rows: bool) -> list[str]:
    """The printed table: per set, per capture kind and all together."""
    out = []
    head = (f"{'set':<5} {'kind':<12} {'n':>3} {'illegible':>9} {'invoice':>13} {'date':>13} {'total':>13}"
            f" {'siret printed':>14} {'wrong siret':>11} {'client':>6} {'luhn-flag':>9}  conf>=0.9 exact  <0.9  s/doc")
    for s in SETS:
        rs = [r for r in rows if r.set == s]
        if not rs:
            continue
        out.append(f"real receipts, {'development set (even ids)' if s == 'dev' else 'HELD-OUT set (odd ids)'}")
        out.append(head)
        kinds = sorted({r.kind for r in rs})
        for k in kinds + ["all"]:
            g = rs if k == "all" else [r for r in rs if r.kind == k]
            m = summarise(g)
            out.append(
                f"{s:<5} {k:<12} {m['n']:>3} {m['judged_illegible']:>9} {_share(m['invoice_by_text'], m['n']):>13}"
                f" {_share(m['date'], m['n']):>13} {_share(m['total'], m['n']):>13}"
                f" {_share(m['siret_exact'], m['siret_printed']):>14} {m['siret_wrong_given']:>11}"
                f" {m['client_siret_taken']:>6} {m['siret_flagged_luhn']:>9}  {_share(m['sure_exact'], m['sure_values']):>15} {m['unsure_values']:>5} {m['seconds_per_doc']:>6.2f}"
            )
    if show_rows:
        for r in rows:
            if r.set != "dev" and show_rows != "all":
                continue  # the held-out set's failures are not looked at while building
            bad = [f"{f}: {r.got.get(f, '')!r}({r.conf.get(f, 0):.2f}) != {r.expected[f]!r}" for f in FIELDS
                   if not r.ok.get(f)]
            state = f"{'ILLEGIBLE ' + '/'.join(r.why) if r.illegible else ''} {r.doc_type}/{r.identified_by}"
            out.append(f"  {r.file:<15} {r.kind:<11} read {r.readability:.2f} {state:<30} "
                       f"{'ok' if not bad else '; '.join(bad)}{' ' + r.error if r.error else ''}")
    return out


def run(folder: Path, sets: tuple[str, ...], settings: Settings, workers: int) -> list[ReceiptRow]:
    from concurrent.futures import ProcessPoolExecutor

    rows = jobs(folder, sets)
    with ProcessPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(run_one, [(r, str(folder), settings.model_dump()) for r in rows]))
