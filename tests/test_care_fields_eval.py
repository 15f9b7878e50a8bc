"""evaluation.care_fields: field exact rates and check precision / recall on hand-written tables."""
from __future__ import annotations

from evaluation.care_fields import check_scores, comparable, field_rates
from evaluation.evaluate import evaluate, format_text


def _sheet(**kw):
    row = {"dossier_id": "D-1", "file": "fs.jpg", "pages": "1", "doc_type": "care_sheet", "legible": "true",
           "capture": "scan", "care_sheet_prefilled": "false", "care_sheet_species": "chien"}
    row.update(kw)
    return row


def test_fields_compare_as_values_not_as_strings():
    assert comparable("total_ttc", "184,5") == comparable("total_ttc", "184.50") == "184.50"
    assert comparable("animal_name", "Médor") == comparable("animal_name", "MEDOR")
    assert comparable("consultation_date", "2017-1-2") is None and comparable("fee_lines", "03") == "3"


def test_field_rates_by_writing_and_the_share_exact_among_sure_readings():
    truth = _sheet(care_sheet_animal_name="Médor", care_sheet_prefilled="true", care_sheet_total_ttc="184.50")
    pred = {**truth, "care_sheet_animal_name": "MEDOR", "care_sheet_animal_name_confidence": "0.95",
            "care_sheet_total_ttc": "134.50", "care_sheet_total_ttc_confidence": "0.92",
            "care_sheet_species_confidence": "0.99"}
    rates = field_rates([(truth, pred)])
    assert rates["animal_name"]["rate"] == 1.0 and rates["animal_name"]["by_writing"]["typed"]["exact"] == 1
    assert rates["total_ttc"]["rate"] == 0.0 and rates["total_ttc"]["by_writing"]["hand"]["written"] == 1
    assert rates["total_ttc"]["sure"] == 1 and rates["total_ttc"]["sure_rate"] == 0.0
    assert rates["vet_name"]["written"] == 0 and rates["vet_name"]["blank"] == 1


def test_checks_are_scored_apart_from_the_contract_reasons():
    truth = [{"dossier_id": "D-1", "decision": "accept", "reasons": "", "checks": "AMOUNT_MISMATCH", "capture": "scan"},
             {"dossier_id": "D-2", "decision": "accept", "reasons": "", "checks": "", "capture": "scan"}]
    pred = [{"dossier_id": "D-1", "decision": "accept", "reasons": "AMOUNT_MISMATCH|DATE_MISMATCH"},
            {"dossier_id": "D-2", "decision": "accept", "reasons": "AMOUNT_MISMATCH"}]
    s = check_scores(truth, {p["dossier_id"]: p for p in pred})
    assert (s["AMOUNT_MISMATCH"]["tp"], s["AMOUNT_MISMATCH"]["fp"], s["AMOUNT_MISMATCH"]["precision"]) == (1, 1, 0.5)
    assert s["DATE_MISMATCH"]["fp"] == 1 and s["DATE_MISMATCH"]["recall"] is None
    rep = evaluate(truth, [], pred, [])
    assert "AMOUNT_MISMATCH" not in rep["reasons"]["per_code"] and rep["reasons"]["micro"]["fp"] == 0
    text = format_text(rep)
    assert "Check" in text and "AMOUNT_MISMATCH" in text
