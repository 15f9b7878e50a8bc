"""`intake eval`'s figures for the care sheet's fields and the dossier's checks (contract §5).

- Fields: on legible care sheets, per field, the exact rate among fields the writer filled
  (`written`), by capture kind (scan / photo) and by writing (`typed`: the administrative part of a
  pre-filled sheet; `hand`: everything else); `false_values`: a value read where nothing was
  written; `sure`: among readings with confidence >= SURE, how many, and the share exact (what a
  confidence of 0.9 promises).
- Checks: precision / recall of each check code, the truth's `checks` column against the run's
  `reasons` (the check codes are scored here, not among the contract's reasons).
"""
from __future__ import annotations

import unicodedata
from collections import defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation

FIELDS = ["contract_number", "animal_name", "species", "animal_birth_date", "animal_id", "consultation_date",
          "first_symptoms_date", "surgery", "motif", "diagnosis", "acts", "fee_lines", "total_ttc", "vet_name",
          "vet_ordre_number", "owner_date", "vet_date"]
TYPED_WHEN_PREFILLED = {"contract_number", "animal_name", "species", "animal_birth_date", "animal_id"}
CHECKS = ["AMOUNT_MISMATCH", "DATE_MISMATCH", "ANIMAL_MISMATCH", "CONTRACT_MISMATCH", "CLAIM_TIME_BARRED",
          "EXCLUSION_HINT"]
SURE = 0.9
Row = dict[str, str]


def comparable(field: str, s: str | None) -> str | None:
    """A field's value in a form both sides share: ISO dates, 2-place amounts, names without case, accents
    or punctuation; None when empty or unparsable."""
    s = (s or "").strip()
    if not s:
        return None
    try:
        if field.endswith("_date"):
            return date.fromisoformat(s[:10]).isoformat()
        if field == "total_ttc":
            return str(Decimal(s.replace(",", ".")).quantize(Decimal("0.01")))
        if field == "fee_lines":
            return str(int(s))
    except (ValueError, InvalidOperation):
        return None
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if c.isalnum() and not unicodedata.combining(c)).upper() or None


def _writing(field: str, t: Row) -> str:
    return "typed" if t.get("care_sheet_prefilled") == "true" and field in TYPED_WHEN_PREFILLED else "hand"


def field_rates(pairs: list[tuple[Row, Row | None]]) -> dict:
    """{field: {"written", "exact", "rate", "false_values", "blank", "sure", "sure_exact", "sure_rate",
    "by_writing": {typed|hand: {...}}, "by_capture": {scan|photo: {...}}}} on legible care sheets."""
    sheets = [(t, p or {}) for t, p in pairs if t["doc_type"] == "care_sheet" and t.get("legible", "true") == "true"
              and "care_sheet_species" in t]
    out = {}
    for f in FIELDS:
        col = f"care_sheet_{f}"
        groups: dict[tuple[str, str], dict] = defaultdict(lambda: {"written": 0, "exact": 0, "false_values": 0,
                                                                    "blank": 0, "sure": 0, "sure_exact": 0})
        groups[("all", "")]  # noqa: B018 - always present, even without sheets
        for t, p in sheets:
            want, got = comparable(f, t.get(col)), comparable(f, p.get(col))
            conf = float(p.get(f"{col}_confidence") or 0)
            for key in (("all", ""), ("writing", _writing(f, t)), ("capture", t.get("capture", ""))):
                g = groups[key]
                if want is None:
                    g["blank"] += 1
                    g["false_values"] += got is not None
                else:
                    g["written"] += 1
                    g["exact"] += got == want
                if got is not None and conf >= SURE:
                    g["sure"] += 1
                    g["sure_exact"] += got == want
        for g in groups.values():
            g["rate"] = round(g["exact"] / g["written"], 4) if g["written"] else None
            g["sure_rate"] = round(g["sure_exact"] / g["sure"], 4) if g["sure"] else None
        out[f] = {**groups[("all", "")],
                  "by_writing": {k[1]: v for k, v in groups.items() if k[0] == "writing"},
                  "by_capture": {k[1]: v for k, v in groups.items() if k[0] == "capture"}}
    return out


def _split(s: str | None) -> set[str]:
    return {c.strip() for c in (s or "").split("|") if c.strip()}


def check_scores(rows_t: list[Row], pred: dict[str, Row]) -> dict:
    """{code: {"support", "tp", "fp", "fn", "precision", "recall"}} for each check code."""
    out = {}
    for code in CHECKS:
        tp = fp = fn = 0
        for r in rows_t:
            t = code in _split(r.get("checks"))
            p = code in _split(pred.get(r["dossier_id"], {}).get("reasons"))
            tp, fp, fn = tp + (t and p), fp + (p and not t), fn + (t and not p)
        out[code] = {"support": tp + fn, "tp": tp, "fp": fp, "fn": fn,
                     "precision": round(tp / (tp + fp), 4) if tp + fp else None,
                     "recall": round(tp / (tp + fn), 4) if tp + fn else None}
    return out


def _pct(v: float | None) -> str:
    return "   -  " if v is None else f"{100 * v:5.1f}%"


def format_text(fields: dict, checks: dict) -> list[str]:
    """The two tables as text lines."""
    out = [f"\n{'Care-sheet field':<22}{'exact':>8}{'of written':>12}{'typed':>16}{'hand':>16}{'scan':>16}{'photo':>16}"
           f"{'false val.':>11}{'conf>=0.9 exact':>17}"]
    for f, s in fields.items():
        if not s["written"] and not s["blank"]:
            continue  # a truth without the fields' columns (an older generator)

        def cell(g: dict | None) -> str:
            return f"{_pct(g['rate'])} ({g['exact']}/{g['written']})" if g and g["written"] else "-"
        out.append(f"{f:<22}{_pct(s['rate']):>8}{s['exact']:>6}/{s['written']:<5}"
                   f"{cell(s['by_writing'].get('typed')):>16}{cell(s['by_writing'].get('hand')):>16}"
                   f"{cell(s['by_capture'].get('scan')):>16}{cell(s['by_capture'].get('photo')):>16}"
                   f"{s['false_values']:>5}/{s['blank']:<5}{_pct(s['sure_rate']):>9} ({s['sure_exact']}/{s['sure']})")
    out.append(f"\n{'Check':<22}{'support':>8}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>9}")
    for code, s in checks.items():
        out.append(f"{code:<22}{s['support']:>8}{s['tp']:>5}{s['fp']:>5}{s['fn']:>5}{_pct(s['precision']):>11}"
                   f"{_pct(s['recall']):>9}")
    return out
