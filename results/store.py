"""The analysts' files (contract §3): dossiers.csv and documents.csv, exported from the results database.

Each finished dossier is saved in the database (`results.db`: one transaction, its key unique),
and the CSVs are exported from it, so the analysts' files and the operators' view never
disagree. A re-run, or a run killed half-way and started again, therefore writes each dossier
once. `results/<key>.json` is still written, as a mirror of the database's rows, inside the
same transaction: the ledger's "already decided" check and the report's reader look at it.

Client text reaches these cells (dossier ids, file names, manifest values, OCR'd invoice
numbers, messages quoting file names), so two guards apply to **every cell of both CSVs**:

- formula injection (OWASP "CSV Injection"): a cell whose first character is `=`, `+`, `-`,
  `@`, a tab or a carriage return gets a single quote `'` in front, so a spreadsheet shows it
  as text instead of running it; a cell that is a plain decimal number (`-12.50`, `+3`,
  `+33123456789012`: optional sign, digits, optional `.digits`) is left as it is, so amounts
  stay numbers. Only the CSVs are neutralised: the saved JSON results keep the text as read.
- text UTF-8 cannot encode (a lone surrogate such as `\udc80`, from an undecodable file name
  or a JSON escape) is written as its backslash escape (`\udc80`), in the results too.
"""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.files import atomic_write
from core.inbox import printable, results_key
from core.messages import MESSAGES_FR, STATUS_FR
from core.records import Decision, DocType, DocumentResult, DossierResult, ReasonCode
from results.columns import (CARE_SHEET_FIELDS, DOCUMENT_COLUMNS, DOCUMENT_CSV_COLUMNS, DOSSIER_COLUMNS,
                             INVOICE_CONFIDENCE_COLUMNS, INVOICE_FIELD_COLUMNS)
from results.db import RESULTS_DIR, NotSaved, RowSet, dossier_by_key, engine_for, replace, rows_of, run
from results.models import Document, Dossier, Review

__all__ = ["DOCUMENT_COLUMNS", "DOSSIER_COLUMNS", "RESULTS_DIR", "NotSaved", "document_row", "dossier_row",
           "load_rows", "result_key", "save_result", "save_review", "saved_dossier_row", "write_csvs"]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula (OWASP)
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")  # amounts and phone-like digits: kept as numbers


def neutralised(cell: str) -> str:
    """A CSV cell that no spreadsheet runs as a formula: `'` before a leading = + - @ tab CR,
    unless the whole cell is a plain decimal number (`-12.50`)."""
    if cell.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def _clean_row(row: dict[str, str]) -> dict[str, str]:
    return {k: printable(v) if isinstance(v, str) else v for k, v in row.items()}


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
        for f in CARE_SHEET_FIELDS:  # contract §5: dates ISO, amounts with a dot (as the reader gives them)
            if f in cs.field_confidence:
                row[f"care_sheet_{f}"] = _s(cs.fields.get(f))
                row[f"care_sheet_{f}_confidence"] = f"{cs.field_confidence[f]:.3f}"
    if inv is not None:
        row.update({"invoice_date": _s(inv.invoice_date), "invoice_total_ttc": _s(inv.total_ttc),
                    "vet_siret": _s(inv.siret), "invoice_kind": _s(inv.kind),
                    "invoice_number": _s(inv.invoice_number), "invoice_total_ht": _s(inv.total_ht),
                    "invoice_tva": _s(inv.total_tva), "invoice_amount_due": _s(inv.amount_due)})
    return row


def result_key(result: DossierResult) -> str:
    """The results key of a dossier: `core.inbox.results_key` of its folder (unique in the database)."""
    return results_key(result.folder or result.dossier_id)


def _fields(d: DocumentResult) -> list[tuple[str, str | None, float | None]]:
    """The invoice's fields as read, with the reader's confidence in each (InvoiceFacts.confidence); a care
    sheet's fields (CareSheetFacts.fields) as `care_sheet_<field>`."""
    inv, cs = d.invoice, d.care_sheet
    if inv is None:
        if cs is None or d.doc_type != DocType.CARE_SHEET:
            return []
        return [(f"care_sheet_{f}", cs.fields.get(f), cs.field_confidence[f]) for f in CARE_SHEET_FIELDS
                if f in cs.field_confidence]
    names = list(INVOICE_FIELD_COLUMNS) + [n for n in inv.confidence if n not in INVOICE_FIELD_COLUMNS]
    out = []
    for name in names:
        value = getattr(inv, name, None)
        value = None if value is None or value == "" else str(value)
        if value is not None or name in inv.confidence:
            out.append((name, value, inv.confidence.get(name)))
    return out


def rowset(result: DossierResult, fingerprint: str | None = None) -> RowSet:
    """What the database stores for a decided dossier."""
    needs_review = result.needs_review
    why = list(result.review_why)  # reason codes and "low_confidence:<what>" (pipeline.confidence)
    if ReasonCode.DUPLICATE_INVOICE in result.reasons:  # contract §5: goes to an operator's review
        needs_review = True
        why = why if ReasonCode.DUPLICATE_INVOICE in why else [*why, str(ReasonCode.DUPLICATE_INVOICE)]
    return RowSet(
        key=result_key(result), dossier=_clean_row(dossier_row(result)),
        documents=[_clean_row(document_row(d)) for d in result.documents],
        findings=[(str(f.code), printable(f.message_fr), printable(f.evidence) or None) for f in result.findings],
        fields=[_fields(d) for d in result.documents],
        page_hashes=[d.page_hash for d in result.documents],  # the first page's core.imagehash.dhash
        fingerprint=fingerprint, confidence=result.confidence, needs_review=needs_review,
        review_why="|".join(why) or None)


def _result_path(out_dir: Path, key: str) -> Path:
    return out_dir / RESULTS_DIR / f"{key}.json"


def _mirror(out_dir: Path, key: str, dossier: dict[str, str], documents: list[dict[str, str]]) -> Path:
    path = _result_path(out_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps({"dossier": dossier, "documents": documents}, ensure_ascii=False, indent=1))
    return path


def save_result(out_dir: Path, result: DossierResult, *, fingerprint: str | None = None) -> Path:
    """Save one dossier in the results database, replacing an earlier run's rows; returns its JSON mirror."""
    rs = rowset(result, fingerprint)

    def save(session: Session) -> Path:
        replace(session, rs)
        return _mirror(out_dir, rs.key, rs.dossier, rs.documents)  # before commit: mirrors land in commit order

    return run(engine_for(out_dir), save)


def saved_dossier_row(out_dir: Path, folder: str) -> dict[str, str]:
    """The dossiers.csv row saved for the folder `folder` (raises NotSaved, an OSError, when there is none)."""
    def read(session: Session) -> dict[str, str]:
        d = dossier_by_key(session, results_key(folder))
        if d is None:
            raise NotSaved(f"no saved result for {results_key(folder)}")
        return rows_of(d)[0]

    return run(engine_for(out_dir), read)


def _rows_with_fields(session: Session) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """`results.db.all_rows`, with each care sheet's fields and each invoice's confidences from the `fields`
    table (contract §5)."""
    found = session.scalars(select(Dossier).options(
        selectinload(Dossier.documents).selectinload(Document.fields), selectinload(Dossier.reviews))).all()
    dossiers: list[dict[str, str]] = []
    documents: list[dict[str, str]] = []
    for d in sorted(found, key=lambda d: f"{d.key}.json"):
        row, docs = rows_of(d)
        for doc_row, doc in zip(docs, d.documents):
            for f in doc.fields:
                if f.name in CARE_SHEET_FIELD_NAMES:
                    doc_row[f.name] = f.value or ""
                    doc_row[f"{f.name}_confidence"] = "" if f.confidence is None else f"{f.confidence:.3f}"
                elif f.name in INVOICE_CONFIDENCE_COLUMNS and f.confidence is not None:
                    doc_row[INVOICE_CONFIDENCE_COLUMNS[f.name]] = f"{f.confidence:.3f}"
        dossiers.append(row)
        documents.extend(docs)
    return dossiers, documents


CARE_SHEET_FIELD_NAMES = {f"care_sheet_{f}" for f in CARE_SHEET_FIELDS}


def load_rows(out_dir: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Every saved dossier's dossiers.csv row and documents.csv rows, in the CSVs' order (one snapshot)."""
    return run(engine_for(out_dir), _rows_with_fields)


def _reasons_text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else "|".join(str(v) for v in value)  # type: ignore[union-attr]


def save_review(out_dir: Path, key: str, *, reviewed_by: str, reviewed_at: str | datetime, before: dict,
                after: dict, note: str) -> int:
    """Record a person's review of dossier `key`, apply `after` to it, and export the CSVs again.

    `before`/`after` hold what the reviewer saw and decided: `decision` (a Decision value), `reasons`
    (codes, `|`-joined or a list) and optionally `message_fr`; what `after` leaves out is kept.
    The pipeline's findings stay as they were. Returns the review's id; raises NotSaved for an
    unknown key, ValueError for a decision that is not one of the contract's.
    """
    at = reviewed_at.isoformat() if isinstance(reviewed_at, datetime) else str(reviewed_at)

    def apply(session: Session) -> int:
        d = dossier_by_key(session, key, lock=True)
        if d is None:
            raise NotSaved(f"no saved result for {key}")
        decision = Decision(str(after.get("decision") or d.decision))
        reasons = _reasons_text(after.get("reasons"))
        review = Review(dossier_pk=d.id, reviewed_by=reviewed_by, reviewed_at=at,
                        decision_before=str(before.get("decision") or d.decision), decision_after=str(decision),
                        reasons_before=_reasons_text(before.get("reasons")) if "reasons" in before else d.reasons,
                        reasons_after=reasons if reasons is not None else d.reasons, note=note,
                        before=json.loads(json.dumps(before, default=str)),
                        after=json.loads(json.dumps(after, default=str)))
        session.add(review)
        if "message_fr" in after:
            d.message_fr = str(after["message_fr"]) or None
        elif reasons is not None and reasons != (d.reasons or ""):  # the client reads the new reasons' messages
            d.message_fr = " ".join(MESSAGES_FR[ReasonCode(c)] for c in reasons.split("|")
                                    if c in ReasonCode.__members__) or None
        d.decision, d.status_fr = str(decision), STATUS_FR[decision]
        if reasons is not None:
            d.reasons = reasons or None
        d.needs_review = False
        session.flush()
        _mirror(out_dir, d.key, *rows_of(d))
        return review.id

    review_id = run(engine_for(out_dir), apply)
    write_csvs(out_dir)
    return review_id


def _csv_text(columns: list[str], rows: list[dict[str, str]]) -> str:
    """The CSV file's text: the csv module's default dialect, rows ended by \\r\\n, unknown keys ignored."""
    buf = io.StringIO(newline="")  # keep the csv module's \r\n as written; atomic_write(newline="") too
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: neutralised(printable(v)) if isinstance(v, str) else v for k, v in row.items()}
                     for row in rows)
    return buf.getvalue()


def write_csvs(out_dir: Path) -> tuple[Path, Path]:
    """Export dossiers.csv and documents.csv from the results database, one row set per dossier."""
    dossiers, documents = load_rows(out_dir)
    paths = []
    for name, columns, rows in (("dossiers.csv", DOSSIER_COLUMNS, dossiers),
                                ("documents.csv", DOCUMENT_CSV_COLUMNS, documents)):
        paths.append(atomic_write(out_dir / name, _csv_text(columns, rows), newline=""))
    return paths[0], paths[1]
