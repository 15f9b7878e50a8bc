"""The care sheet's fields (extractors.care_sheet.fields): real sheets drawn by the sample generator, real OCR."""
from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from core.records import Capture, DocType, DocumentResult, DossierResult, Decision, Page
from extractors.care_sheet import digits
from extractors.care_sheet.layout import blank
from extractors.care_sheet.parse import parse_amount, parse_animal_id, parse_contract, parse_date_text, parse_ordre
from extractors.care_sheet.read import read_care_sheet

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "sample_docs"))
from gen.care_sheet import CareSheetSpec, render_care_sheet  # noqa: E402
from gen.common import rng_for  # noqa: E402
from gen.data import make_case  # noqa: E402
from gen.ink import HAND_FONTS  # noqa: E402


def drawn(seed: int, prefilled: bool):
    """A sheet drawn by the generator at 200 dpi (a clean capture) and the truth of its fields."""
    rng = rng_for(seed, "test_care_fields")
    case = make_case(rng)
    image, truth = render_care_sheet(case, CareSheetSpec(prefilled=prefilled), rng, 200)
    bgr = np.ascontiguousarray(np.asarray(image)[..., ::-1])
    return Page("fs.png", 1, bgr, 200.0, Capture.IMAGE, ref="test"), truth, case


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_prefilled_sheets_typed_fields_and_ticks_are_read_exactly(settings, seed):
    page, truth, case = drawn(seed, prefilled=True)
    facts = read_care_sheet(page, settings, submitted=case.visit_date)
    f = facts.fields
    assert f["contract_number"] == truth["contract_number"]
    assert f["animal_name"].upper() == truth["animal_name"].upper()
    assert f["animal_id"] == truth["animal_id"]
    assert f["animal_birth_date"] == truth["animal_birth_date"]
    assert f["species"] == truth["species"]
    assert f["motif"] == truth["motif"]
    assert f["fee_lines"] == truth["fee_lines"]
    assert (f["surgery"] or "") == truth["surgery"]
    for name in ("contract_number", "animal_id", "species", "motif"):
        assert facts.field_confidence[name] >= 0.8, name


def test_a_blank_form_reads_as_empty_fields_surely(settings):
    page = Page("blank.png", 1, blank().copy(), 150.0, Capture.IMAGE, ref="test")
    facts = read_care_sheet(page, settings)
    assert facts.registered
    for name in ("contract_number", "animal_name", "consultation_date", "total_ttc", "diagnosis", "vet_date"):
        assert facts.fields[name] is None and facts.field_confidence[name] == 1.0, name
    assert facts.fields["species"] is None and facts.fields["fee_lines"] == "0"


def test_a_page_that_is_not_our_form_has_no_fields(settings):
    noise = np.random.default_rng(0).integers(0, 255, (1200, 900, 3), dtype=np.uint8)
    facts = read_care_sheet(Page("x.png", 1, noise, 150.0, Capture.IMAGE, ref="test"), settings)
    assert facts.registered is False and facts.fields == {}


def _generator_digit_masks():
    """Digits written in the generator's own hands (none of them in digits.TRAIN_FONTS), at the form frame's scale."""
    from gen.common import font_path
    from gen.ink import Hand, text_mask

    rng = np.random.default_rng(5)
    for name, *_ in HAND_FONTS:
        hand = Hand(font=font_path(name), caps=False, accents=True, size=0.6, slant=0.1, ink=(20, 20, 120),
                    pressure=0.9, spacing=1.0, jitter=0.04, stroke=0.0)
        for d in "0123456789":
            m, _, _ = text_mask(d, hand, float(rng.uniform(17, 26)), rng)
            yield d, m > 0.35


def test_the_digit_classifier_reads_hands_it_never_saw():
    assert not {f[0] for f in HAND_FONTS} & set(digits.TRAIN_FONTS)
    results = [digits.classify(mask).digit == d for d, mask in _generator_digit_masks()]
    assert len(results) == 10 * len(HAND_FONTS)
    assert np.mean(results) >= 0.75  # measured 0.8x; single digits, no date constraint yet


def _cell(probs: dict[int, float]) -> digits.Digit:
    p = np.full(10, 0.01)
    for k, v in probs.items():
        p[k] = v
    p /= p.sum()
    return digits.Digit(str(int(p.argmax())), float(p.max()), p)


def test_a_date_is_decoded_as_the_most_probable_real_date():
    sure = [_cell({d: .95}) for d in (1, 5, 0, 3, 2, 0, 1, 7)]
    day, conf = digits.decode_date(sure, (2000, 2035))
    assert day == date(2017, 3, 15) and conf > 0.6
    impossible = [_cell({d: .95}) for d in (3, 1, 0, 2, 2, 0, 1, 7)]  # 31/02 is no date: the next likeliest
    day, conf = digits.decode_date(impossible, (2000, 2035))
    assert day is not None and day != date(2017, 2, 28) or conf < 0.9
    short = sure[:6] + [digits.Digit("", 1.0), digits.Digit("", 1.0)]  # DDMMYY in the first six cells
    short[4], short[5] = _cell({1: .95}), _cell({7: .95})
    assert digits.decode_date(short, (2000, 2035))[0] == date(2017, 3, 15)


def test_the_submission_day_makes_a_near_year_likelier():
    ambiguous = [_cell({d: .95}) for d in (1, 5, 0, 3, 2, 0, 1)] + [_cell({1: .5, 7: .45})]
    assert digits.decode_date(ambiguous, (2000, 2035))[0] == date(2011, 3, 15)
    assert digits.decode_date(ambiguous, (2000, 2035), date(2017, 4, 2), 365.0)[0] == date(2017, 3, 15)


def test_parsers_validate_and_forgive_lookalikes():
    assert parse_contract("SV-4471-OO93 |")[0] == "SV-4471-0093"
    assert parse_contract("Médor")[0] is None
    assert parse_animal_id("250 2689 1234 56789")[0] is None  # 16 digits: not a chip
    assert parse_animal_id("250268912345678")[0] == "250268912345678"
    assert parse_animal_id("2ABC123")[0] == "2ABC123"
    assert parse_amount("1 234,56 €")[0] == "1234.56" and parse_amount("459,36")[0] == "459.36"
    assert parse_amount("0,00")[0] is None and parse_amount("abc")[0] is None
    assert parse_ordre("2 1401")[0] == "21401" and parse_ordre("12")[0] is None
    assert parse_date_text("13/11/17") == ("2017", "11", "13")


def test_documents_csv_carries_each_field_and_its_confidence(tmp_path):
    from core.records import CareSheetFacts
    from results.store import save_result, write_csvs

    facts = CareSheetFacts(registered=True, fields={"total_ttc": "184.50", "consultation_date": "2017-01-20",
                                                    "contract_number": None},
                           field_confidence={"total_ttc": 0.93, "consultation_date": 0.41, "contract_number": 1.0})
    doc = DocumentResult("D-1", "fs.jpg", (1,), DocType.CARE_SHEET, legible=True, care_sheet=facts)
    save_result(tmp_path, DossierResult("D-1", Decision.ACCEPT, (), (doc,), "2017-01-26T10:00:00+01:00", "D-1"))
    _, documents_csv = write_csvs(tmp_path)
    (row,) = list(csv.DictReader(documents_csv.open(encoding="utf-8")))
    assert row["care_sheet_total_ttc"] == "184.50" and row["care_sheet_total_ttc_confidence"] == "0.930"
    assert row["care_sheet_consultation_date"] == "2017-01-20"
    assert row["care_sheet_contract_number"] == "" and row["care_sheet_contract_number_confidence"] == "1.000"
    assert row["care_sheet_animal_name"] == "" and row["care_sheet_animal_name_confidence"] == ""


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
def test_a_handwritten_total_is_read_right_or_not_surely(settings, seed):
    """The total TTC by two readers (OCR and glyphs): a confident value is the written one."""
    page, truth, case = drawn(seed, prefilled=False)
    facts = read_care_sheet(page, settings, submitted=case.visit_date)
    value, conf = facts.fields.get("total_ttc"), facts.field_confidence.get("total_ttc", 0.0)
    if truth["total_ttc"]:
        assert value == truth["total_ttc"] or conf < 0.6, (value, conf, truth["total_ttc"])
    else:
        assert value is None


def test_a_check_finding_shows_the_sheets_zone_it_compared(settings, tmp_path):
    """Issue 21: each check's finding puts the two values side by side with the sheet's crop. The crops
    of the compared zones are written with the others, and the finding names them."""
    from validators.consistency import Context, rule_contract

    page, truth, case = drawn(1, prefilled=True)
    facts = read_care_sheet(page, settings, submitted=case.visit_date, crops_dir=tmp_path)
    for zone in ("contract_number", "animal_name", "consultation_date", "first_symptoms_date", "total_ttc"):
        assert Path(facts.crops[zone]).is_file(), zone
    other = "SV-0000-0001"
    assert facts.fields["contract_number"] != other
    ctx = Context(facts, "fs.png", (), case.visit_date, other, None)
    (finding,) = rule_contract(ctx)
    assert other in finding.evidence and facts.fields["contract_number"] in finding.evidence
    assert facts.crops["contract_number"] in finding.evidence
