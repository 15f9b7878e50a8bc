"""Typed exports: Parquet read back with real dtypes and values; Excel-fr CSV read back the French way."""
import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from results.exports import ExportError, column_type, write_exports
from results.store import RESULTS_DIR
from tests.test_report import make_run


@pytest.fixture
def run(tmp_path):
    out = make_run(tmp_path / "out", n=12, extra=True)
    return out, write_exports(out)


def test_exports_are_written_beside_the_csvs(run):
    out, paths = run
    assert [p.name for p in paths] == ["dossiers.parquet", "dossiers_excel-fr.csv",
                                       "documents.parquet", "documents_excel-fr.csv"]
    assert all(p.parent == out and p.stat().st_size > 0 for p in paths)


def test_parquet_round_trip_keeps_types_and_values(run):
    out, _ = run
    docs = pd.read_parquet(out / "documents.parquet", dtype_backend="pyarrow")
    dossiers = pd.read_parquet(out / "dossiers.parquet", dtype_backend="pyarrow")
    assert docs["invoice_date"].dtype == pd.ArrowDtype(pa.date32())
    assert docs["invoice_total_ttc"].dtype == pd.ArrowDtype(pa.decimal128(12, 2))
    assert docs["vet_stamp"].dtype == pd.ArrowDtype(pa.bool_())
    assert docs["readability"].dtype == pd.ArrowDtype(pa.float64())
    assert docs["siret_confidence"].dtype == pd.ArrowDtype(pa.float64())  # a *_confidence column, typed by pattern
    assert docs["file"].dtype == pd.ArrowDtype(pa.string())
    assert dossiers["processed_at"].dtype == pd.ArrowDtype(pa.timestamp("us", tz="UTC"))
    assert dossiers["needs_review"].dtype == pd.ArrowDtype(pa.bool_())

    first = docs[(docs["dossier_id"] == "D-TEST-000") & (docs["doc_type"] == "invoice")].iloc[0]
    assert first["invoice_total_ttc"] == Decimal("1234.50") and first["invoice_date"] == date(2026, 11, 1)
    assert pd.isna(first["ocr_confidence"])  # "" = unknown -> null
    sheets = docs[docs["doc_type"] == "care_sheet"]["vet_stamp"]
    assert sheets.isna().any() and (sheets == True).any() and (sheets == False).any()  # noqa: E712
    assert pd.isna(docs.loc[docs["invoice_total_ttc"].isna()].iloc[0]["invoice_total_ttc"])
    when = dossiers.set_index("dossier_id").loc["D-TEST-001", "processed_at"]
    assert when == pd.Timestamp(datetime(2026, 11, 29, 9, 15, tzinfo=timezone.utc))
    assert pd.isna(dossiers.set_index("dossier_id").loc["D-TEST-007", "processed_at"])
    # reviewed_at written +01:00, kept as the same instant in UTC
    assert dossiers.set_index("dossier_id").loc["D-TEST-000", "reviewed_at"] == pd.Timestamp("2026-12-01T09:00Z")

    # A plain read_parquet keeps exact values too: Decimals, dates, a tz-aware timestamp column.
    plain = pd.read_parquet(out / "documents.parquet")
    assert isinstance(plain["invoice_total_ttc"].dropna().iloc[0], Decimal)
    assert str(pd.read_parquet(out / "dossiers.parquet")["processed_at"].dtype).endswith("UTC]")


def test_excel_fr_csv_reads_back_with_accents_and_decimal_commas(run):
    out, _ = run
    path = out / "documents_excel-fr.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == raw.count(b"\n")
    assert b"1234,50" in raw and b"2026-11-01" in raw  # decimal comma on amounts only; dates untouched
    docs = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig", dtype={"vet_siret": str})
    row = docs[(docs["dossier_id"] == "D-TEST-000") & (docs["doc_type"] == "invoice")].iloc[0]
    assert row["invoice_total_ttc"] == 1234.5 and docs["readability"].dtype == float
    assert "Feuille é è 0.pdf" in set(docs["file"]) and "Numérisation 2.png" in set(docs["file"])
    # A client's file name Excel would run as a formula stays text.
    assert "'=HYPERLINK(\"x\").png" in set(docs["file"])
    dossiers = pd.read_csv(out / "dossiers_excel-fr.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert len(dossiers) == 12 and "Vétérinaire contacté, pièce reçue après relance" in set(dossiers["message_fr"])


def test_types_are_one_table_and_bad_values_are_named(tmp_path):
    assert column_type("invoice_tva") == pa.decimal128(12, 2) and column_type("whatever") == pa.string()
    out = make_run(tmp_path / "out", n=2)
    path = out / RESULTS_DIR / "D-TEST-001.json"
    payload = json.loads(path.read_text(encoding="utf-8"))
    payload["documents"][1]["invoice_total_ttc"] = "12,50"
    path.write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(ExportError, match="D-TEST-001: invoice_total_ttc='12,50'"):
        write_exports(out)
    with pytest.raises(ValueError, match="unknown CSV dialect"):
        write_exports(out, dialects=["excel-de"])


def test_no_results_give_empty_typed_files(tmp_path):
    paths = write_exports(tmp_path / "out", dialects=())
    docs = pd.read_parquet(paths[1], dtype_backend="pyarrow")
    assert len(docs) == 0 and docs["invoice_date"].dtype == pd.ArrowDtype(pa.date32())
