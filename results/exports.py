"""Typed exports beside the CSVs: dossiers.parquet / documents.parquet, and CSVs in Excel's French dialect.

The CSVs of the contract are text for every column. The Parquet files carry real types, so
`pd.read_parquet(path, dtype_backend="pyarrow")` gives dates, exact amounts, nullable booleans and
a time-zoned timestamp without any parsing. Written with pyarrow: it is what pandas itself uses to
write Parquet, and it has the types we need natively (date32, decimal128, nullable bool,
timestamp with tz), which a pandas DataFrame cannot hold without object columns.

Types are data: `COLUMN_TYPES` below. A new typed column is one line there; a column not named is
text. "" (unknown) becomes null in every typed column; text keeps "" as written (an empty `reasons`
means "no reason", not "unknown").
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from core.errors import IntakeError
from core.files import atomic_write
from results.store import neutralised
from results.report_data import Rows, read_results

AMOUNT = pa.decimal128(12, 2)
WHEN = pa.timestamp("us", tz="UTC")
FLAG = pa.bool_()
SCORE = pa.float64()

# Column -> Arrow type, for dossiers and documents alike; every other column is pa.string().
COLUMN_TYPES: dict[str, pa.DataType] = {
    "processed_at": WHEN,
    "reviewed_at": WHEN,
    "needs_review": FLAG,
    "processing_s": SCORE,
    "invoice_date": pa.date32(),
    "invoice_total_ttc": AMOUNT,
    "invoice_total_ht": AMOUNT,
    "invoice_tva": AMOUNT,
    "invoice_amount_due": AMOUNT,
    "care_sheet_total_ttc": AMOUNT,
    "readability": SCORE,
    "ocr_confidence": SCORE,
    "vet_stamp": FLAG,
    "vet_signature": FLAG,
    "owner_signature": FLAG,
    "medical_section_complete": FLAG,
    "legible": FLAG,
    "care_sheet_dated": FLAG,
    "qr_matches_manifest": FLAG,
}
# Any other per-field confidence a reader adds (e.g. "siret_confidence") is a score too.
PATTERN_TYPES: list[tuple[re.Pattern[str], pa.DataType]] = [(re.compile(r".+_confidence$"), SCORE)]

CSV_DIALECTS = ("excel-fr",)  # --csv-dialect choices


class ExportError(IntakeError):
    """A saved value does not fit its column's type (a bug upstream: our own rows are typed)."""


def column_type(column: str) -> pa.DataType:
    """The Arrow type of a column: COLUMN_TYPES, then PATTERN_TYPES, else string."""
    if column in COLUMN_TYPES:
        return COLUMN_TYPES[column]
    return next((t for pattern, t in PATTERN_TYPES if pattern.fullmatch(column)), pa.string())


def _parse(text: str, kind: pa.DataType) -> object:
    """One saved string as a Python value of `kind` ("" -> None for every typed kind)."""
    if pa.types.is_string(kind):
        return text
    if text == "":
        return None
    if pa.types.is_boolean(kind):
        return {"true": True, "false": False}[text.lower()]
    if pa.types.is_date(kind):
        return date.fromisoformat(text)
    if pa.types.is_timestamp(kind):
        when = datetime.fromisoformat(text)
        return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    if pa.types.is_decimal(kind):
        return Decimal(text).quantize(Decimal(1).scaleb(-kind.scale))
    return float(text)


def _array(column: str, rows: list[dict[str, str]]) -> pa.Array:
    kind = column_type(column)
    values = []
    for row in rows:
        text = row.get(column, "")
        try:
            values.append(_parse(text, kind))
        except (ValueError, KeyError, InvalidOperation) as exc:
            raise ExportError(f"{row.get('dossier_id', '?')}: {column}={text!r} is not {kind}") from exc
    return pa.array(values, type=kind)


def arrow_table(columns: list[str], rows: list[dict[str, str]]) -> pa.Table:
    """The rows as an Arrow table, one typed column per name in `columns`."""
    schema = pa.schema([pa.field(c, column_type(c)) for c in columns])
    return pa.Table.from_arrays([_array(c, rows) for c in columns], schema=schema)


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def _excel_fr_cell(column: str, text: str) -> str:
    """Decimal comma on numeric columns only; a text cell Excel would run as a formula gets a leading '."""
    kind = column_type(column)
    if pa.types.is_decimal(kind) or pa.types.is_floating(kind):
        return text.replace(".", ",")
    if pa.types.is_string(kind):
        return neutralised(text)  # client-chosen file names reach this file: "=HYPERLINK(…)" must stay text
    return text


def excel_fr_text(columns: list[str], rows: list[dict[str, str]]) -> str:
    """Excel (French locale) CSV: ';' separator, decimal comma, CRLF; the BOM is added on write."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([_excel_fr_cell(c, row.get(c, "")) for c in columns] for row in rows)
    return buf.getvalue()


def write_exports(out: Path, dialects: Sequence[str] = CSV_DIALECTS, rows: Rows | None = None) -> list[Path]:
    """Write dossiers.parquet and documents.parquet, and dossiers_<dialect>.csv / documents_<dialect>.csv
    for each dialect, in `out`, from `out`/results. Returns the paths written (atomically)."""
    out = Path(out)
    rows = rows if rows is not None else read_results(out)
    unknown = set(dialects) - set(CSV_DIALECTS)
    if unknown:
        raise ValueError(f"unknown CSV dialect(s) {sorted(unknown)}; known: {list(CSV_DIALECTS)}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, columns, table_rows in (("dossiers", rows.dossier_columns, rows.dossiers),
                                      ("documents", rows.document_columns, rows.documents)):
        written.append(atomic_write(out / f"{name}.parquet", _parquet_bytes(arrow_table(columns, table_rows))))
        for dialect in dialects:  # only excel-fr today
            text = excel_fr_text(columns, table_rows)
            written.append(atomic_write(out / f"{name}_{dialect}.csv", text, encoding="utf-8-sig", newline=""))
    return written
