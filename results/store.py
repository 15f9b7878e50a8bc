"""The analysts' files (contract §3): dossiers.csv and documents.csv.

Each finished dossier is first saved as its own small JSON result (atomically);
the CSVs are then rebuilt from all results of the output folder. A re-run, or a
run killed half-way and started again, therefore writes each dossier once.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from core.files import atomic_write
from core.inbox import safe_id
from core.messages import STATUS_FR
from core.records import DocType, DocumentResult, DossierResult

# The analysts' columns: the contract's (§3) in its order, then ours at the end, so their spreadsheets keep working.
DOSSIER_COLUMNS = ["dossier_id", "decision", "status_fr", "reasons", "message_fr", "processed_at",
                   # extensions
                   "folder", "evidence",
                   # review (pipeline.confidence, flows.review)
                   "confidence", "needs_review", "review_why", "reviewed_by", "reviewed_at"]
DOCUMENT_COLUMNS = ["dossier_id", "file", "pages", "doc_type", "readability", "ocr_confidence",
                    "vet_stamp", "vet_signature", "owner_signature", "medical_section_complete",
                    "invoice_date", "invoice_total_ttc", "vet_siret", "invoice_kind",
                    # extensions
                    "capture", "legible", "readability_defects", "care_sheet_dated",
                    "invoice_number", "invoice_total_ht", "invoice_tva", "invoice_amount_due",
                    "qr_matches_manifest", "error", "identified_by"]
RESULTS_DIR = "results"  # <out>/results/<folder>.json: one file per dossier, so a re-run replaces, never adds


def _b(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def _s(value: object) -> str:
    return "" if value is None else str(value)


def dossier_row(r: DossierResult) -> dict[str, str]:
    return {
        "dossier_id": r.dossier_id,
        "decision": str(r.decision),
        "status_fr": STATUS_FR[r.decision],
        "reasons": "|".join(r.reasons),
        "message_fr": " ".join(dict.fromkeys(f.message_fr for f in r.findings)),
        "processed_at": r.processed_at,
        "folder": r.folder,
        "evidence": " | ".join(f"{f.code}: {f.evidence}" for f in r.findings if f.evidence),
        "confidence": "" if r.confidence is None else f"{r.confidence:.3f}",
        "needs_review": _b(r.needs_review),
        "review_why": "|".join(r.review_why),
        "reviewed_by": r.reviewed_by,
        "reviewed_at": r.reviewed_at,
    }


def document_row(d: DocumentResult) -> dict[str, str]:
    cs, inv = d.care_sheet, d.invoice
    row = {c: "" for c in DOCUMENT_COLUMNS}
    row.update({
        "dossier_id": d.dossier_id, "file": d.file, "pages": d.pages_label, "doc_type": str(d.doc_type),
        "readability": _s(d.readability), "ocr_confidence": _s(d.ocr_confidence),
        "capture": _s(d.capture), "legible": _b(d.legible),
        "readability_defects": "|".join(d.readability_defects),
        "error": "" if d.pages else " ; ".join(d.illegible_why),
        "identified_by": d.identified_by,
    })
    if d.doc_type == DocType.CARE_SHEET and cs is not None:
        row.update({"vet_stamp": _b(cs.vet_stamp), "vet_signature": _b(cs.vet_signature),
                    "owner_signature": _b(cs.owner_signature),
                    "medical_section_complete": _b(cs.medical_section_complete),
                    "care_sheet_dated": _b(cs.dated), "qr_matches_manifest": _b(cs.qr_matches_manifest)})
    if inv is not None:
        row.update({"invoice_date": _s(inv.invoice_date), "invoice_total_ttc": _s(inv.total_ttc),
                    "vet_siret": _s(inv.siret), "invoice_kind": _s(inv.kind),
                    "invoice_number": _s(inv.invoice_number), "invoice_total_ht": _s(inv.total_ht),
                    "invoice_tva": _s(inv.total_tva), "invoice_amount_due": _s(inv.amount_due)})
    return row


def _result_path(out_dir: Path, folder: str) -> Path:
    return out_dir / RESULTS_DIR / f"{safe_id(folder)}.json"


def save_result(out_dir: Path, result: DossierResult) -> Path:
    """Store one dossier's rows as results/<folder>.json (replacing an earlier run's)."""
    path = _result_path(out_dir, result.folder or result.dossier_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"dossier": dossier_row(result), "documents": [document_row(d) for d in result.documents]}
    atomic_write(path, json.dumps(payload, ensure_ascii=False, indent=1))
    return path


def saved_dossier_row(out_dir: Path, folder: str) -> dict[str, str]:
    """The dossiers.csv row saved for the folder `folder` (raises OSError when there is none)."""
    return json.loads(_result_path(out_dir, folder).read_text(encoding="utf-8"))["dossier"]


def _csv_text(columns: list[str], rows: list[dict[str, str]]) -> str:
    """The CSV file's text: the csv module's default dialect, rows ended by \\r\\n, unknown keys ignored."""
    buf = io.StringIO(newline="")  # keep the csv module's \r\n as written; atomic_write(newline="") too
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_csvs(out_dir: Path) -> tuple[Path, Path]:
    """Rebuild dossiers.csv and documents.csv from every saved result, one row set per dossier."""
    dossiers, documents = [], []
    for path in sorted((out_dir / RESULTS_DIR).glob("*.json")):
        payload = json.loads(path.read_text(encoding="utf-8"))
        dossiers.append(payload["dossier"])
        documents.extend(payload["documents"])
    paths = []
    for name, columns, rows in (("dossiers.csv", DOSSIER_COLUMNS, dossiers),
                                ("documents.csv", DOCUMENT_COLUMNS, documents)):
        paths.append(atomic_write(out_dir / name, _csv_text(columns, rows), newline=""))
    return paths[0], paths[1]


# --- review (minimal JSON version; the database store replaces it) ----------------------------

def save_review(out_dir: Path, key: str, *, reviewed_by: str, reviewed_at: str, before: dict, after: dict,
                note: str) -> Path:
    """An operator's review of the dossier saved under `key` (its folder): `after` becomes its dossiers.csv
    row, and the review (who, when, the row before and after, the note) is kept beside it."""
    path = _result_path(out_dir, key)
    payload = json.loads(path.read_text(encoding="utf-8"))
    payload["dossier"] = {**payload["dossier"], **after, "reviewed_by": reviewed_by, "reviewed_at": reviewed_at}
    payload.setdefault("reviews", []).append({"reviewed_by": reviewed_by, "reviewed_at": reviewed_at,
                                              "before": before, "after": after, "note": note})
    atomic_write(path, json.dumps(payload, ensure_ascii=False, indent=1))
    return path
