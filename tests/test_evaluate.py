"""intake eval on small hand-written truth and run tables: every figure checked by hand."""
from __future__ import annotations

import json

from evaluation.evaluate import evaluate, format_text, main, match_documents

TRUTH_DOSSIERS = """dossier_id,decision,status_fr,reasons,message_fr,processed_at,capture
D1,accept,A traiter,,,,scan
D2,request_documents,En attente,VET_STAMP_MISSING|CARE_SHEET_UNDATED,,,photo
D3,illegible,Illisible,CARE_SHEET_ILLEGIBLE,,,degraded
D4,illegible,Illisible,FILE_UNREADABLE|INVOICE_MISSING,,,text_pdf
D5,request_documents,En attente,PRESCRIPTION_MISSING,,,scan
"""
TRUTH_DOCUMENTS = """dossier_id,file,pages,doc_type,vet_stamp,vet_signature,owner_signature,medical_section_complete,invoice_date,invoice_total_ttc,vet_siret,invoice_kind,capture,legible
D1,scan.pdf,1,care_sheet,true,true,true,true,,,,,scan,true
D1,scan.pdf,2-3,invoice,,,,,2017-11-13,184.50,73282932000074,veterinary,scan,true
D2,IMG_1.jpg,1,care_sheet,false,true,true,true,,,,,photo,true
D2,facture.pdf,1,invoice,,,,,2017-02-01,1234.56,73282932000074,veterinary,text_pdf,true
D3,photo.jpg,1,care_sheet,true,true,true,true,,,,,degraded,false
D3,facture.pdf,1,invoice,,,,,2017-03-03,50.00,11111111111111,veterinary,text_pdf,true
D4,fs.jpg,1,care_sheet,true,true,false,true,,,,,photo,true
D4,facture.pdf,1,invoice,,,,,,,,,corrupt,false
D5,fs.png,1,care_sheet,true,true,true,false,,,,,scan,true
D5,f.pdf,1,invoice,,,,,2017-05-05,99.90,22222222222222,veterinary,text_pdf,true
D5,pharma.pdf,1,invoice,,,,,2017-05-06,12.10,33333333333333,pharmacy,text_pdf,true
"""
# D1 right; D2 right decision but misses the undated reason; D3 accepted although illegible;
# D4 right decision, one reason missing; D5 absent from the run. E9 is a folder that was still uploading.
RUN_DOSSIERS = """dossier_id,decision,status_fr,reasons,message_fr,processed_at
D1,accept,A traiter,,,2024-01-01T00:00:00
D2,request_documents,En attente,VET_STAMP_MISSING,,2024-01-01T00:00:00
D3,accept,A traiter,,,2024-01-01T00:00:00
D4,illegible,Illisible,FILE_UNREADABLE,,2024-01-01T00:00:00
E9,illegible,Illisible,OWNER_SIGNATURE_MISSING,,2024-01-01T00:00:00
"""
# D1's invoice found with other pages (still a match), total written 184.5, SIRET with spaces;
# D2's care sheet: stamp right, owner signature wrongly false; invoice date wrong, total unknown;
# D2 also reports an extra prescription; D4's corrupt file row is ignored.
RUN_DOCUMENTS = """dossier_id,file,pages,doc_type,vet_stamp,vet_signature,owner_signature,medical_section_complete,invoice_date,invoice_total_ttc,vet_siret,invoice_kind
D1,scan.pdf,1,care_sheet,true,true,true,,,,,
D1,scan.pdf,2,invoice,,,,,2017-11-13,184.5,732 829 320 00074,veterinary
D2,IMG_1.jpg,1,care_sheet,false,true,false,true,,,,
D2,facture.pdf,1,invoice,,,,,2017-01-02,,73282932000074,veterinary
D2,facture.pdf,1,prescription,,,,,,,,
D3,photo.jpg,1,care_sheet,,,,,,,,
D3,facture.pdf,1,invoice,,,,,2017-03-03,50.00,11111111111111,other
D4,fs.jpg,1,care_sheet,true,true,false,true,,,,
D4,facture.pdf,,other,,,,,,,,
"""


def rows(text: str) -> list[dict[str, str]]:
    lines = text.strip().splitlines()
    head = lines[0].split(",")
    return [dict(zip(head, line.split(","))) for line in lines[1:]]


def report() -> dict:
    return evaluate(rows(TRUTH_DOSSIERS), rows(TRUTH_DOCUMENTS), rows(RUN_DOSSIERS), rows(RUN_DOCUMENTS), ["E9"])


def test_decisions_and_confusion_count_missing_dossiers_as_wrong():
    d = report()["decision"]
    assert (d["correct"], d["total"], d["accuracy"]) == (3, 5, 0.6)
    assert d["confusion"]["accept"] == {"accept": 1}
    assert d["confusion"]["request_documents"] == {"request_documents": 1, "missing": 1}
    assert d["confusion"]["illegible"] == {"accept": 1, "illegible": 1}
    assert (d["illegible_accepted"], d["illegible_total"]) == (1, 2)
    assert d["readable_flagged_illegible"] == {"count": 0, "total": 3, "rate": 0.0}


def test_unexpected_and_pending_folders_are_reported():
    ds = report()["dossiers"]
    assert ds["missing"] == ["D5"] and ds["unexpected"] == ["E9"] and ds["pending_processed"] == ["E9"]


def test_reason_precision_recall_f1():
    per = report()["reasons"]["per_code"]
    assert per["VET_STAMP_MISSING"] == {"support": 1, "tp": 1, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert per["CARE_SHEET_UNDATED"]["fn"] == 1 and per["CARE_SHEET_UNDATED"]["recall"] == 0.0
    assert per["INVOICE_MISSING"]["recall"] == 0.0  # D4 left it out
    assert per["PRESCRIPTION_MISSING"]["fn"] == 1  # D5 missing from the run
    assert per["FILE_UNREADABLE"]["f1"] == 1.0
    assert per["OWNER_SIGNATURE_MISSING"]["fp"] == 0  # only E9 says it, and E9 is not in the truth
    micro = report()["reasons"]["micro"]
    assert (micro["tp"], micro["fp"], micro["fn"]) == (2, 0, 4)
    assert micro["precision"] == 1.0 and micro["recall"] == round(2 / 6, 4)


def test_documents_found_missed_extra_ignore_corrupt_files():
    docs = report()["documents"]
    # truth: 4 sheets, 5 invoices (D4's corrupt one left out); D5's three are missed, D3's invoice found
    assert docs["care_sheet"] == {"truth": 5, "found": 4, "missed": 1, "extra": 0, "recall": 0.8}
    assert docs["invoice"] == {"truth": 5, "found": 3, "missed": 2, "extra": 0, "recall": 0.6}
    assert docs["prescription"]["extra"] == 1
    assert docs["other"]["extra"] == 0  # D4's row for its corrupt file is not an extra


def test_invoice_fields_exact_match_over_legible_scored_invoices():
    f = report()["invoice_fields"]
    # scored: D1, D2, D3 (vet, legible) + D5 vet + D5 pharmacy (both missed) = 5
    assert f["invoice_date"] == {"total": 5, "correct": 2, "rate": 0.4, "unknown": 2}
    assert f["invoice_total_ttc"] == {"total": 5, "correct": 2, "rate": 0.4, "unknown": 3}
    assert f["vet_siret"]["correct"] == 3  # spaces ignored
    assert f["invoice_kind"]["correct"] == 2  # D3 said other


def test_care_sheet_flags_with_both_error_kinds():
    fl = report()["care_sheet_flags"]
    # legible sheets: D1, D2, D4, D5 (D3 is degraded). D5 unmatched -> unknown.
    stamp = fl["vet_stamp"]
    assert (stamp["total"], stamp["correct"], stamp["unknown"]) == (4, 3, 1)
    assert (stamp["false_present"], stamp["false_missing"]) == (0, 0)
    owner = fl["owner_signature"]
    assert (owner["correct"], owner["false_missing"], owner["false_present"]) == (2, 1, 0)
    assert owner["false_missing_rate"] == round(1 / 3, 4)
    med = fl["medical_section_complete"]
    assert (med["correct"], med["unknown"]) == (2, 2)  # D1 left it empty, D5 missing


def test_breakdown_by_capture():
    by = report()["by_capture"]
    assert by["degraded"]["decision"]["illegible_accepted"] == 1
    assert by["scan"]["dossiers"] == 2 and by["scan"]["decision"]["correct"] == 1
    assert by["text_pdf"]["invoice_fields"]["invoice_date"]["total"] == 4
    assert by["photo"]["care_sheet_flags"]["owner_signature"]["false_missing"] == 1


def test_match_documents_prefers_page_overlap():
    truth = [{"file": "a.pdf", "pages": "1", "doc_type": "invoice"}, {"file": "a.pdf", "pages": "3", "doc_type": "invoice"}]
    pred = [{"file": "a.pdf", "pages": "3-4", "doc_type": "invoice"}, {"file": "a.pdf", "pages": "1", "doc_type": "invoice"}]
    pairs, extra = match_documents(truth, pred)
    assert [p["pages"] for _, p in pairs] == ["1", "3-4"] and extra == []


def test_cli_text_and_json(tmp_path, capsys):
    (tmp_path / "truth").mkdir()
    (tmp_path / "run").mkdir()
    (tmp_path / "truth" / "dossiers.csv").write_text(TRUTH_DOSSIERS, encoding="utf-8")
    (tmp_path / "truth" / "documents.csv").write_text(TRUTH_DOCUMENTS, encoding="utf-8")
    (tmp_path / "truth" / "pending.csv").write_text("folder\nE9\n", encoding="utf-8")
    (tmp_path / "run" / "dossiers.csv").write_text(RUN_DOSSIERS, encoding="utf-8")
    (tmp_path / "run" / "documents.csv").write_text(RUN_DOCUMENTS, encoding="utf-8")
    args = ["--truth", str(tmp_path / "truth"), "--out", str(tmp_path / "run")]
    assert main(args + ["--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["decision"]["accuracy"] == 0.6 and rep["dossiers"]["pending_processed"] == ["E9"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "Decision accuracy:  60.0% (3/5)" in text and "VET_STAMP_MISSING" in text and "By capture" in text
    assert main(["--truth", str(tmp_path / "nope"), "--out", str(tmp_path / "run")]) == 2
    assert format_text(report()).count("\n") > 30
