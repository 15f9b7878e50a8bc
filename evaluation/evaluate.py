"""`intake eval`: score a run's dossiers.csv / documents.csv against a generated truth folder.

    intake eval --truth DIR/truth --out OUTDIR [--json]

Figures: decision accuracy and confusion matrix; precision / recall / F1 per reason code; documents
found / missed / extra per type; invoice field exact-match rates; care-sheet flag accuracy with both
error kinds; care-sheet field exact rates by writing and capture, and precision / recall of each
operator check (evaluation.care_fields); illegible dossiers accepted; readable dossiers flagged illegible; each by capture kind.
Rules: a dossier missing from the run is wrong; an empty predicted cell is unknown, hence wrong when the
truth has a value. `evaluate()` is a pure function over CSV rows, so tests feed it hand-written tables.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import unicodedata
from collections import defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from evaluation.care_fields import CHECKS, check_scores, field_rates
from evaluation.care_fields import format_text as care_fields_text

DECISIONS = ["accept", "request_documents", "illegible"]
REASONS = ["CARE_SHEET_MISSING", "INVOICE_MISSING", "CARE_SHEET_ILLEGIBLE", "INVOICE_ILLEGIBLE", "FILE_UNREADABLE",
           "VET_STAMP_MISSING", "VET_SIGNATURE_MISSING", "OWNER_SIGNATURE_MISSING", "MEDICAL_SECTION_INCOMPLETE",
           "CARE_SHEET_UNDATED", "PRESCRIPTION_MISSING"]
DOC_TYPES = ["care_sheet", "invoice", "prescription", "other"]
CAPTURES = ["text_pdf", "scan", "photo", "degraded", "corrupt"]
FLAGS = ["vet_stamp", "vet_signature", "owner_signature", "medical_section_complete", "dated"]
# a flag's column in the run when it differs from the truth's (the contract has no "dated" column)
RUN_COLUMN = {"dated": "care_sheet_dated"}
INVOICE_FIELDS = ["invoice_date", "invoice_total_ttc", "vet_siret", "invoice_kind"]
SCORED_KINDS = {"veterinary", "pharmacy", "laboratory"}
MISSING = "missing"  # the run wrote no row for this dossier
# The review aims (issue "review by an operator"): among dossiers not sent to review, decision accuracy at
# least AIM_ACCURACY, with at most AIM_REVIEW_SHARE of the dossiers sent to review.
AIM_ACCURACY = 0.995
AIM_REVIEW_SHARE = 0.15
LOW_CONFIDENCE = "low_confidence"  # review_why tokens that depend on the threshold (pipeline.confidence.LOW)
# contract §5's codes whose decision effect is "none (operator)": a dossier whose truth holds one is owed to an
# operator whatever the pipeline's confidence; sent for it, it is not doubt but the contract's routing
OPERATOR_CODES = {"AMOUNT_MISMATCH", "DATE_MISMATCH", "ANIMAL_MISMATCH", "CONTRACT_MISMATCH", "DUPLICATE_INVOICE"}
Row = dict[str, str]


# ---------------------------------------------------------------- reading and normalising cells

def read_csv(path: Path) -> list[Row]:
    """Rows of a UTF-8 CSV with a header; an absent file reads as no rows."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k.strip(): (v or "").strip() for k, v in r.items() if k} for r in csv.DictReader(fh)]


def _name(s: str) -> str:
    return unicodedata.normalize("NFC", s.strip())


def _pages(s: str) -> set[int]:
    """'1', '2-3', '1,3' -> page numbers."""
    out: set[int] = set()
    for part in s.replace(" ", "").split(","):
        lo, _, hi = part.partition("-")
        if lo.isdigit():
            out.update(range(int(lo), int(hi if hi.isdigit() else lo) + 1))
    return out


def _bool(s: str | None) -> bool | None:
    v = (s or "").strip().lower()
    return True if v in ("true", "1", "yes", "oui") else False if v in ("false", "0", "no", "non") else None


def _field(name: str, s: str | None) -> str | None:
    """A comparable form of an invoice field; None when empty or unparsable (= unknown)."""
    s = (s or "").strip()
    if not s:
        return None
    try:
        if name == "invoice_date":
            return date.fromisoformat(s[:10]).isoformat()
        if name == "invoice_total_ttc":
            return str(Decimal(s.replace(",", ".")).quantize(Decimal("0.01")))
    except (ValueError, InvalidOperation):
        return None
    if name == "vet_siret":
        return "".join(c for c in s if c.isdigit()) or None
    return s.lower()


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


# ---------------------------------------------------------------- the figures

def _reasons(rows_t: list[Row], pred: dict[str, Row]) -> dict:
    """Per reason code; the operator's check codes (contract §5) are scored apart (`checks`)."""
    codes = list(REASONS)
    split = lambda s: {c.strip() for c in (s or "").split("|") if c.strip()} - set(CHECKS)  # noqa: E731
    for r in rows_t:
        codes += [c for c in sorted(split(r["reasons"])) if c not in codes]
    for p in pred.values():
        codes += [c for c in sorted(split(p.get("reasons"))) if c not in codes]
    per, tp_all, fp_all, fn_all = {}, 0, 0, 0
    for code in codes:
        tp = fp = fn = 0
        for r in rows_t:
            t, p = code in split(r["reasons"]), code in split(pred.get(r["dossier_id"], {}).get("reasons"))
            tp, fp, fn = tp + (t and p), fp + (p and not t), fn + (t and not p)
        prec, rec = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        f1 = round(2 * prec * rec / (prec + rec), 4) if prec and rec else (0.0 if tp + fp + fn else None)
        per[code] = {"support": tp + fn, "tp": tp, "fp": fp, "fn": fn, "precision": prec, "recall": rec, "f1": f1}
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
    p, r = _ratio(tp_all, tp_all + fp_all), _ratio(tp_all, tp_all + fn_all)
    micro = {"tp": tp_all, "fp": fp_all, "fn": fn_all, "precision": p, "recall": r,
             "f1": round(2 * p * r / (p + r), 4) if p and r else (0.0 if tp_all + fp_all + fn_all else None)}
    return {"per_code": per, "micro": micro}


def _decisions(rows_t: list[Row], pred: dict[str, Row]) -> dict:
    confusion = {d: defaultdict(int) for d in DECISIONS}
    correct = illegible_accepted = flagged = 0
    for r in rows_t:
        p = (pred.get(r["dossier_id"], {}).get("decision") or MISSING).lower()
        confusion.setdefault(r["decision"], defaultdict(int))[p] += 1
        correct += p == r["decision"]
        illegible_accepted += r["decision"] == "illegible" and p == "accept"
        flagged += r["decision"] != "illegible" and p == "illegible"
    readable = sum(r["decision"] != "illegible" for r in rows_t)
    return {"total": len(rows_t), "correct": correct, "accuracy": _ratio(correct, len(rows_t)),
            "confusion": {t: dict(c) for t, c in confusion.items()},
            "illegible_accepted": illegible_accepted,
            "illegible_total": sum(r["decision"] == "illegible" for r in rows_t),
            "readable_flagged_illegible": {"count": flagged, "total": readable, "rate": _ratio(flagged, readable)}}


def match_documents(truth_docs: list[Row], pred_docs: list[Row]) -> tuple[list[tuple[Row, Row | None]], list[Row]]:
    """Pair truth and predicted documents of one dossier by (file, doc_type); page ranges may differ,
    the largest page overlap wins. Returns (pairs for every truth doc, unmatched predictions)."""
    left = list(pred_docs)
    pairs = []
    for t in truth_docs:
        cands = [p for p in left if _name(p.get("file", "")) == _name(t["file"]) and p.get("doc_type") == t["doc_type"]]
        best = max(cands, key=lambda p: len(_pages(p.get("pages", "")) & _pages(t["pages"])), default=None)
        if best is not None:
            left.remove(best)
        pairs.append((t, best))
    return pairs, left


def _documents(truth_docs: list[Row], pred_docs: list[Row]) -> tuple[dict, list[tuple[Row, Row | None]]]:
    """Found / missed / extra per doc type. Corrupt files are left out on both sides (they have no pages)."""
    corrupt = {(t["dossier_id"], _name(t["file"])) for t in truth_docs if t.get("capture") == "corrupt"}
    by_t, by_p = defaultdict(list), defaultdict(list)
    for t in truth_docs:
        if (t["dossier_id"], _name(t["file"])) not in corrupt:
            by_t[t["dossier_id"]].append(t)
    for p in pred_docs:
        if (p.get("dossier_id", ""), _name(p.get("file", ""))) not in corrupt:
            by_p[p.get("dossier_id", "")].append(p)
    stats = {d: {"truth": 0, "found": 0, "missed": 0, "extra": 0} for d in DOC_TYPES}
    all_pairs = []
    for did in set(by_t) | set(by_p):
        pairs, extra = match_documents(by_t.get(did, []), by_p.get(did, []))
        all_pairs += pairs
        for t, p in pairs:
            s = stats.setdefault(t["doc_type"], {"truth": 0, "found": 0, "missed": 0, "extra": 0})
            s["truth"] += 1
            s["found" if p else "missed"] += 1
        for p in extra:
            stats.setdefault(p.get("doc_type") or "(empty)", {"truth": 0, "found": 0, "missed": 0, "extra": 0})["extra"] += 1
    for s in stats.values():
        s["recall"] = _ratio(s["found"], s["truth"])
    return stats, all_pairs


def _invoice_fields(pairs: list[tuple[Row, Row | None]]) -> dict:
    out = {}
    scored = [(t, p) for t, p in pairs if t["doc_type"] == "invoice" and t.get("invoice_kind") in SCORED_KINDS
              and t.get("legible", "true") == "true"]
    for f in INVOICE_FIELDS:
        correct = unknown = 0
        for t, p in scored:
            want, got = _field(f, t.get(f)), _field(f, (p or {}).get(f))
            correct += got == want
            unknown += got is None and want is not None
        out[f] = {"total": len(scored), "correct": correct, "rate": _ratio(correct, len(scored)), "unknown": unknown}
    return out


def _flags(pairs: list[tuple[Row, Row | None]]) -> dict:
    out = {}
    sheets = [(t, p) for t, p in pairs if t["doc_type"] == "care_sheet" and t.get("legible", "true") == "true"]
    for f in FLAGS:
        s = {"total": 0, "correct": 0, "false_present": 0, "false_missing": 0, "unknown": 0, "truth_true": 0, "truth_false": 0}
        for t, p in sheets:
            want, got = _bool(t.get(f)), _bool((p or {}).get(RUN_COLUMN.get(f, f)))
            if want is None:
                continue
            s["total"] += 1
            s["truth_true" if want else "truth_false"] += 1
            s["correct"] += got == want
            s["unknown"] += got is None
            s["false_present"] += want is False and got is True
            s["false_missing"] += want is True and got is False
        s["accuracy"] = _ratio(s["correct"], s["total"])
        s["false_present_rate"] = _ratio(s["false_present"], s["truth_false"])
        s["false_missing_rate"] = _ratio(s["false_missing"], s["truth_true"])
        out[f] = s
    return out


def _block(rows_t: list[Row], docs_t: list[Row], pred: dict[str, Row], docs_p: list[Row]) -> dict:
    documents, pairs = _documents(docs_t, docs_p)
    return {"decision": _decisions(rows_t, pred), "reasons": _reasons(rows_t, pred), "documents": documents,
            "invoice_fields": _invoice_fields(pairs), "care_sheet_flags": _flags(pairs),
            "care_sheet_fields": field_rates(pairs), "checks": check_scores(rows_t, pred)}


def _review_point(items: list[tuple[bool, float, bool, bool, bool]], threshold: float | None) -> dict:
    """Share sent to review and accuracy of the rest, for one threshold (None: the run's own needs_review);
    `doubt` counts those sent other than for a code the truth also holds (a true mismatch: the contract's)."""
    sent = [forced or (conf < threshold if threshold is not None else run_flag)
            for forced, conf, _ok, run_flag, _owed in items]
    rest = [ok for (_f, _c, ok, _r, _o), s in zip(items, sent) if not s]
    doubt = sum(s and not owed for (_f, _c, _ok, _r, owed), s in zip(items, sent))
    return {"threshold": threshold, "sent": sum(sent), "share": _ratio(sum(sent), len(items)),
            "doubt": doubt, "doubt_share": _ratio(doubt, len(items)),
            "rest": len(rest), "rest_errors": len(rest) - sum(rest), "rest_accuracy": _ratio(sum(rest), len(rest))}


def review_curve(truth_dossiers: list[Row], pred: dict[str, Row]) -> dict | None:
    """The review curve: for each threshold (each confidence the run gave), the share of dossiers sent to
    review (confidence below it, or a review code) against the decision accuracy of the others; then the
    run's own point and the aims. None when the run has no `confidence` column."""
    if not any("confidence" in p for p in pred.values()):
        return None
    # (sent whatever the threshold, confidence, decision right, the run's needs_review, sent for a true mismatch)
    items = []
    owed = 0  # dossiers whose truth holds an operator code
    for r in truth_dossiers:
        true_codes = {c for c in (r.get("checks") or "").split("|") if c} & OPERATOR_CODES
        owed += bool(true_codes)
        p = pred.get(r["dossier_id"])
        if p is None:  # a dossier missing from the run: a person must look, and it is wrong
            items.append((True, 0.0, False, True, False))
            continue
        why = [w for w in (p.get("review_why") or "").split("|") if w]
        forced = any(not w.startswith(LOW_CONFIDENCE) for w in why)
        conf = float(p["confidence"]) if p.get("confidence") else 0.0
        items.append((forced, conf, (p.get("decision") or "").lower() == r["decision"],
                      _bool(p.get("needs_review")) or False, bool(true_codes & set(why))))
    thresholds = sorted({c for _f, c, _o, _r, _w in items} | {0.0}) + [1.001]
    curve = [_review_point(items, t) for t in thresholds]
    run = _review_point(items, None)
    meets = [c for c in curve if (c["rest_accuracy"] or 0) >= AIM_ACCURACY and (c["share"] or 0) <= AIM_REVIEW_SHARE]
    return {"curve": curve, "run": run, "aims": {"accuracy": AIM_ACCURACY, "review_share": AIM_REVIEW_SHARE},
            "owed_to_operator": owed, "owed_share": _ratio(owed, len(items)),
            "run_meets_aims": (run["rest_accuracy"] or 0) >= AIM_ACCURACY and (run["share"] or 0) <= AIM_REVIEW_SHARE,
            "thresholds_meeting_aims": [c["threshold"] for c in meets]}


def evaluate(truth_dossiers: list[Row], truth_documents: list[Row], pred_dossiers: list[Row],
             pred_documents: list[Row], pending: list[str] = ()) -> dict:
    """All figures, overall and by capture kind (dossier figures by the dossier's capture, document figures
    by each document's capture)."""
    pred = {p["dossier_id"]: p for p in pred_dossiers if p.get("dossier_id")}
    truth_ids = {r["dossier_id"] for r in truth_dossiers}
    report = {"dossiers": {"truth": len(truth_dossiers), "predicted": len(pred),
                           "missing": sorted(truth_ids - pred.keys()),
                           "unexpected": sorted(pred.keys() - truth_ids),
                           "pending_processed": sorted(set(pending) & pred.keys())}}
    report.update(_block(truth_dossiers, truth_documents, pred, pred_documents))
    report["review"] = review_curve(truth_dossiers, pred)
    report["by_capture"] = {}
    for cap in CAPTURES:
        rows = [r for r in truth_dossiers if r.get("capture") == cap]
        docs = [d for d in truth_documents if d.get("capture") == cap]
        if not rows and not docs:
            continue
        keep = {(d["dossier_id"], _name(d["file"])) for d in docs}
        docs_p = [p for p in pred_documents if (p.get("dossier_id", ""), _name(p.get("file", ""))) in keep]
        block = _block(rows, docs, pred, docs_p)
        block["dossiers"] = len(rows)
        report["by_capture"][cap] = block
    return report


# ---------------------------------------------------------------- printing

def _pct(v: float | None) -> str:
    return "   -  " if v is None else f"{100 * v:5.1f}%"


def _by_capture(rep: dict, section: str, names: list[str], title: str, cell, first: int, width: int) -> list[str]:
    """One row per name, one column per capture kind that has any of `section`."""
    caps = [c for c, b in rep["by_capture"].items() if any(s["total"] for s in b[section].values())]
    out = [f"\n{title}", " " * first + "".join(f"{c:>{width}}" for c in caps)]
    for name in names:
        cells = [cell(s) if (s := rep["by_capture"][c][section][name])["total"] else "-" for c in caps]
        out.append(f"{name:<{first}}" + "".join(f"{x:>{width}}" for x in cells))
    return out


def format_text(rep: dict) -> str:
    """The report as aligned plain-text tables."""
    d, out = rep["decision"], []
    ds = rep["dossiers"]
    out.append(f"Dossiers: {ds['truth']} in truth, {ds['predicted']} in the run, {len(ds['missing'])} missing, "
               f"{len(ds['unexpected'])} unexpected" + (f", still-uploading folders processed: {', '.join(ds['pending_processed'])}"
                                                          if ds["pending_processed"] else ""))
    out.append(f"\nDecision accuracy: {_pct(d['accuracy'])} ({d['correct']}/{d['total']})")
    cols = DECISIONS + sorted({p for c in d["confusion"].values() for p in c} - set(DECISIONS))
    corner = "truth \\ run"
    out.append(f"{corner:<20}" + "".join(f"{c[:17]:>19}" for c in cols))
    for t, row in d["confusion"].items():
        out.append(f"{t:<20}" + "".join(f"{row.get(c, 0):>19}" for c in cols))
    out.append(f"Illegible accepted: {d['illegible_accepted']} of {d['illegible_total']}   "
               f"Readable flagged illegible: {d['readable_flagged_illegible']['count']} of "
               f"{d['readable_flagged_illegible']['total']} ({_pct(d['readable_flagged_illegible']['rate'])})")
    out.append(f"\n{'Reason':<28}{'support':>8}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>9}{'F1':>9}")
    for code, s in list(rep["reasons"]["per_code"].items()) + [("(micro)", {**rep["reasons"]["micro"], "support": ""})]:
        out.append(f"{code:<28}{s['support']:>8}{s['tp']:>5}{s['fp']:>5}{s['fn']:>5}{_pct(s['precision']):>11}"
                   f"{_pct(s['recall']):>9}{_pct(s['f1']):>9}")
    out.append(f"\n{'Document type':<16}{'truth':>7}{'found':>7}{'missed':>8}{'extra':>7}{'recall':>9}")
    for t, s in rep["documents"].items():
        out.append(f"{t:<16}{s['truth']:>7}{s['found']:>7}{s['missed']:>8}{s['extra']:>7}{_pct(s['recall']):>9}")
    out.append(f"\n{'Invoice field':<20}{'exact':>8}{'correct':>9}{'unknown':>9}   (legible vet/pharmacy/lab invoices)")
    for f, s in rep["invoice_fields"].items():
        out.append(f"{f:<20}{_pct(s['rate']):>8}{s['correct']:>5}/{s['total']:<3}{s['unknown']:>9}")
    out.append(f"\n{'Care-sheet flag':<26}{'accuracy':>9}{'false present':>15}{'false missing':>15}{'unknown':>9}")
    for f, s in rep["care_sheet_flags"].items():
        out.append(f"{f:<26}{_pct(s['accuracy']):>9}{s['false_present']:>6}/{s['truth_false']:<3}{_pct(s['false_present_rate']):>6}"
                   f"{s['false_missing']:>6}/{s['truth_true']:<3}{_pct(s['false_missing_rate']):>6}{s['unknown']:>9}")
    out += _by_capture(rep, "care_sheet_flags", FLAGS, "Flag by capture: accuracy (false present / false missing)",
                       lambda s: f"{_pct(s['accuracy'])} ({s['false_present']}/{s['false_missing']})", 26, 22)
    out += _by_capture(rep, "invoice_fields", INVOICE_FIELDS, "Invoice field by capture: exact (correct/total)",
                       lambda s: f"{_pct(s['rate'])} ({s['correct']}/{s['total']})", 20, 18)
    out.append(f"\n{'By capture':<10}{'dossiers':>9}{'decision':>10}{'reasons F1':>12}{'ill.acc':>9}{'read->ill':>11}"
               f"{'docs found':>12}{'inv. fields':>13}{'flags':>9}")
    for cap, b in rep["by_capture"].items():
        docs = b["documents"].values()
        found, total = sum(s["found"] for s in docs), sum(s["truth"] for s in docs)
        inv = b["invoice_fields"].values()
        fl = b["care_sheet_flags"].values()
        out.append(f"{cap:<10}{b['dossiers']:>9}{_pct(b['decision']['accuracy']):>10}{_pct(b['reasons']['micro']['f1']):>12}"
                   f"{b['decision']['illegible_accepted']:>9}{_pct(b['decision']['readable_flagged_illegible']['rate']):>11}"
                   f"{_pct(_ratio(found, total)):>12}"
                   f"{_pct(_ratio(sum(s['correct'] for s in inv), sum(s['total'] for s in inv))):>13}"
                   f"{_pct(_ratio(sum(s['correct'] for s in fl), sum(s['total'] for s in fl))):>9}")
    out += care_fields_text(rep["care_sheet_fields"], rep["checks"])
    out += _review_text(rep.get("review"))
    return "\n".join(out) + "\n"


def _review_text(rv: dict | None) -> list[str]:
    if rv is None:
        return ["\nReview: the run has no confidence column"]
    out = ["\nReview curve: confidence below the threshold (or a review code) -> sent to review; "
           "'doubt': sent other than for an operator code the truth holds",
           f"{'threshold':>10}{'sent':>6}{'share':>8}{'doubt':>7}{'share':>8}{'rest':>6}{'errors':>8}{'rest accuracy':>15}"]
    for c in rv["curve"]:
        out.append(f"{c['threshold']:>10.3f}{c['sent']:>6}{_pct(c['share']):>8}{c['doubt']:>7}{_pct(c['doubt_share']):>8}"
                   f"{c['rest']:>6}{c['rest_errors']:>8}{_pct(c['rest_accuracy']):>15}")
    r, a = rv["run"], rv["aims"]
    ok = lambda b: "met" if b else "NOT met"  # noqa: E731
    out.append(f"Aims: accuracy of the rest >= {_pct(a['accuracy'])} with <= {_pct(a['review_share'])} sent to review")
    out.append(f"Owed to an operator by the contract (a mismatch or duplicate in the truth): {rv['owed_to_operator']} "
               f"({_pct(rv['owed_share'])}); the share aim counts them too")
    out.append(f"This run (its needs_review): {r['sent']} sent ({_pct(r['share'])}; {r['doubt']} ({_pct(r['doubt_share'])}) "
               f"for doubt or a false mismatch), rest accuracy {_pct(r['rest_accuracy'])} ({r['rest_errors']} error(s) "
               f"in {r['rest']}): aims {ok(rv['run_meets_aims'])}")
    t = rv["thresholds_meeting_aims"]
    out.append(f"Thresholds meeting both aims: {', '.join(f'{x:.3f}' for x in t) if t else 'none'}")
    return out


def main(argv: list[str]) -> int:
    """CLI: `intake eval --truth DIR/truth --out OUTDIR [--json]` (argv without the word 'eval')."""
    ap = argparse.ArgumentParser(prog="intake eval", description="Score a run against the generated truth.")
    ap.add_argument("--truth", type=Path, required=True, help="folder with dossiers.csv and documents.csv")
    ap.add_argument("--out", type=Path, required=True, help="the run's output folder")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    a = ap.parse_args(argv)
    if not (a.truth / "dossiers.csv").exists() and (a.truth / "truth" / "dossiers.csv").exists():
        a.truth = a.truth / "truth"  # given the generator's --out folder instead of its truth/
    for p in (a.truth / "dossiers.csv", a.out / "dossiers.csv"):
        if not p.exists():
            print(f"intake eval: {p} not found", file=sys.stderr)
            return 2
    pending = [r["folder"] for r in read_csv(a.truth / "pending.csv") if r.get("folder")]
    rep = evaluate(read_csv(a.truth / "dossiers.csv"), read_csv(a.truth / "documents.csv"),
                   read_csv(a.out / "dossiers.csv"), read_csv(a.out / "documents.csv"), pending)
    sys.stdout.write(json.dumps(rep, ensure_ascii=False, indent=1) + "\n" if a.json else format_text(rep))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
