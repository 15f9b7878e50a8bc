"""Care-sheet checks on real rendered pages: every case renders a filled sheet, captures it and reads it."""
from __future__ import annotations

import sys
import time
from dataclasses import replace

import cv2
import pytest

from extractors.care_sheet.layout import zones
from extractors.care_sheet.read import Measures, read_care_sheet
from pipeline.context import Reader
from pipeline.page import read_page
from core.records import (Capture, CareSheetFacts, DocType, DocumentResult, Finding, InvoiceFacts,
                                InvoiceKind, Page, ReasonCode)
from core.settings import REPO_ROOT
from validators.care_sheet import CARE_SHEET_RULES
from validators.rules import DossierFacts, evaluate

sys.path.insert(0, str(REPO_ROOT / "bench"))
from care_sheet_synth import Scenario, StampSpec, capture, render_sheet, rng_for  # noqa: E402

FULL = Scenario(font_family="test")  # everything filled: blue stamp with the signature across it
EMPTY_BOX = replace(FULL, vet_stamp=None, vet_signature=None)


def read(sc: Scenario, kind: str = "scan_colour", seed: int = 0, settings=None, **kw) -> CareSheetFacts:
    rng = rng_for("test", seed)
    cap = capture(render_sheet(sc, rng), kind, rng)
    page = Page(file="fs.jpg", number=1, image=cap.image, dpi=cap.dpi, capture=Capture.IMAGE)
    return read_care_sheet(page, settings, **kw)


def dossier_findings(facts: CareSheetFacts) -> list[Finding]:
    """What the product's dossier rules (`validators.rules.evaluate`) find on a dossier holding this
    one legible care sheet and a veterinary invoice (so that no other document is missing)."""
    sheet = DocumentResult("D", "fs.jpg", (1,), DocType.CARE_SHEET, legible=True, care_sheet=facts)
    invoice = DocumentResult("D", "facture.pdf", (1,), DocType.INVOICE, legible=True,
                             invoice=InvoiceFacts(kind=InvoiceKind.VETERINARY))
    return evaluate(DossierFacts("D", (sheet, invoice)))


def codes(facts: CareSheetFacts) -> set[ReasonCode]:
    """The codes that weigh on the decision (contract §5's operator checks left out: the test sheets'
    random medical words may name an exclusion, e.g. "castration", which is a right EXCLUSION_HINT)."""
    from core.messages import IMPLIES
    from core.records import Decision

    return {f.code for f in dossier_findings(facts) if IMPLIES[f.code] != Decision.ACCEPT}


def test_complete_sheet_has_no_finding(settings, tmp_path):
    facts = read(FULL, "scan_colour", 1, settings, crops_dir=tmp_path)
    assert facts.registered and facts.registration_error_mm < 0.3
    assert (facts.vet_stamp, facts.vet_signature, facts.owner_signature) == (True, True, True)
    assert (facts.motif_ticked, facts.diagnosis_written, facts.medical_section_complete) == (True, True, True)
    assert facts.dated and facts.owner_date and facts.vet_date
    assert codes(facts) == set()
    # the crops that decide the findings are there, small, and look at the right zone
    img = cv2.imread(facts.crops["vet_stamp_signature"])
    assert img is not None and img.shape[1] < 700
    assert {"owner_signature", "motif", "diagnosis", "owner_date", "vet_date"} <= set(facts.crops)


def test_empty_vet_box(settings):
    facts = read(EMPTY_BOX, "scan_grey", 2, settings)
    assert (facts.vet_stamp, facts.vet_signature) == (False, False)
    found = {f.code: f for f in dossier_findings(facts)}
    assert set(found) == {ReasonCode.VET_STAMP_MISSING, ReasonCode.VET_SIGNATURE_MISSING}
    assert "ligne(s) de texte" in found[ReasonCode.VET_STAMP_MISSING].evidence
    assert found[ReasonCode.VET_STAMP_MISSING].message_fr.startswith("Le cachet du vétérinaire")


@pytest.mark.parametrize("colour, shape, kind", [("blue", "rect", "scan_colour"), ("violet", "round", "photo"),
                                                 ("red", "ellipse", "clean"), ("black", "none", "scan_grey")])
def test_stamp_only(settings, colour, shape, kind):
    sc = replace(FULL, vet_stamp=StampSpec(colour=colour, shape=shape, angle=-6.0), vet_signature=None)
    facts = read(sc, kind, 3, settings)
    assert (facts.vet_stamp, facts.vet_signature) == (True, False)
    assert codes(facts) == {ReasonCode.VET_SIGNATURE_MISSING}


@pytest.mark.parametrize("ink, kind", [("blue", "scan_colour"), ("black", "scan_grey")])
def test_signature_only(settings, ink, kind):
    facts = read(replace(FULL, vet_stamp=None, vet_signature=ink), kind, 4, settings)
    assert (facts.vet_stamp, facts.vet_signature) == (False, True)
    assert codes(facts) == {ReasonCode.VET_STAMP_MISSING}


@pytest.mark.parametrize("stamp_ink, pen, kind", [
    ("blue", "blue", "scan_colour"),  # same colour: told apart by shape and stroke darkness
    ("black", "black", "scan_grey"),  # a black stamp under a black signature, no colour at all
    ("violet", "black", "photo"),
])
def test_stamp_and_signature_overlapping(settings, stamp_ink, pen, kind):
    sc = replace(FULL, vet_stamp=StampSpec(colour=stamp_ink, shape="rect", angle=4.0), vet_signature=pen,
                 signature_on_stamp=True)
    facts = read(sc, kind, 5, settings)
    assert (facts.vet_stamp, facts.vet_signature) == (True, True)


def test_stamp_half_outside_the_box(settings):
    sc = replace(FULL, vet_stamp=StampSpec(colour="blue", shape="rect", angle=3.0, offset_mm=(34.0, 0.0)),
                 vet_signature=None)
    facts = read(sc, "scan_colour", 6, settings)
    assert facts.vet_stamp is True and facts.vet_signature is False


def test_photo_in_perspective(settings):
    facts = read(FULL, "photo", 7, settings)
    assert facts.registered
    assert codes(facts) == set()


def crooked_scan(tilt: float, shift: float = 0.0):
    """The full sheet scanned laid `tilt` degrees crooked and `shift` of its size down and right: the
    scanner's frame cuts its corners (and with a shift, the vet section)."""
    rng = rng_for("test", 11)
    cap = capture(render_sheet(FULL, rng), "scan_colour", rng)
    h, w = cap.image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), tilt, 1.0)
    m[:, 2] += (shift * w, shift * h)
    crooked = cv2.warpAffine(cap.image, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=(255, 255, 255))
    return Page(file="fs.jpg", number=1, image=crooked, dpi=cap.dpi, capture=Capture.IMAGE)


def test_a_sheet_scanned_crooked_is_our_form_and_reads_whole(settings):
    """Laid 11 degrees crooked, its margins cut by the frame: tilts over 5 degrees were not undone and
    the sheet was called illegible, 'document coupé'. On our form a cut is judged by the zones it hides."""
    reading = read_page(crooked_scan(11.0), "care_sheet", Reader.create(settings))
    assert (reading.doc_type, reading.identified_by, reading.legible) == (DocType.CARE_SHEET, "layout", True)
    facts = read_care_sheet(reading.page, settings)
    assert facts.registered and codes(facts) == set()


def test_a_vet_box_cut_off_a_crooked_scan_is_unseen_not_empty(settings):
    """Turned back upright, the corner the scanner did not capture is filled with paper: read as such,
    the vet box was 'empty' (VET_STAMP_MISSING). It is a part of the sheet the image does not show."""
    reading = read_page(crooked_scan(-11.0, 0.1), "care_sheet", Reader.create(settings))
    assert reading.doc_type == DocType.CARE_SHEET and reading.legible
    facts = read_care_sheet(reading.page, settings)
    assert facts.vet_stamp is None
    found = dossier_findings(facts)
    assert [f.code for f in found] == [ReasonCode.CARE_SHEET_ILLEGIBLE]
    assert "cachet du vétérinaire" in found[0].message_fr


def test_motif_ticked_or_not(settings):
    for motif in ("check", "cross"):
        assert read(replace(FULL, motif=motif, motif_box="motif_accident"), "scan_grey", 8, settings).motif_ticked
    facts = read(replace(FULL, motif=None), "scan_grey", 8, settings)
    assert facts.motif_ticked is False and facts.medical_section_complete is False
    found = [f for f in dossier_findings(facts) if f.code == ReasonCode.MEDICAL_SECTION_INCOMPLETE]
    assert len(found) == 1 and "motif de la consultation non coché" in found[0].message_fr


def _speck_in_motif_box(radius_px: int, kind: str, seed: int):
    """A sheet with no motif ticked but a round speck of ink, `radius_px` at the rendering's resolution, in the
    middle of the "maladie" box (a pen touched down; a scanner's dust), captured as `kind`."""
    rng = rng_for("test", seed)
    sheet = render_sheet(replace(FULL, motif=None), rng)
    x0, y0, x1, y1 = zones()["motif_maladie"]["bbox"]
    k = sheet.shape[1] / 210.0  # rendering px per mm (A4 wide)
    cv2.circle(sheet, (int((x0 + x1) / 2 * k), int((y0 + y1) / 2 * k)), radius_px, (0.1, 0.15, 0.5), -1, cv2.LINE_AA)
    return capture(sheet, kind, rng)


@pytest.mark.parametrize("kind", ["scan_grey", "scan_colour"])
def test_medical_section_confidence_is_the_margin_of_its_ink(settings, kind):
    """Clearly blank or clearly filled, the medical section is sure; a speck in a motif box, inking about what
    a tick does, makes either answer a guess, and the dossier goes to an operator (it did not before: every
    determined flag but the vet box's was sure)."""
    from pipeline.confidence import assess

    blank = read(replace(FULL, motif=None), kind, 8, settings)
    assert blank.medical_section_complete is False and blank.medical_section_complete_confidence >= 0.9
    filled = read(replace(FULL, motif="fill"), kind, 8, settings)
    assert filled.medical_section_complete is True and filled.medical_section_complete_confidence >= 0.9
    cap = _speck_in_motif_box(3, kind, 3)
    m = Measures()
    speck = read_care_sheet(Page("fs.jpg", 1, cap.image, cap.dpi, Capture.IMAGE), settings, measures=m)
    assert 0.8 < m.motif_score < 1.25, m.motif_score  # within a quarter of the tick criterion, on its either side
    assert speck.medical_section_complete_confidence < settings.review_below_confidence
    sheet = DocumentResult("D", "fs.jpg", (1,), DocType.CARE_SHEET, readability=0.9, legible=True,
                           identified_by="layout", care_sheet=speck)
    invoice = DocumentResult("D", "facture.pdf", (1,), DocType.INVOICE, readability=0.9, legible=True,
                             identified_by="text", invoice=InvoiceFacts(kind=InvoiceKind.VETERINARY,
                                                                        confidence={"kind": 1.0}))
    from core.records import Decision, DossierResult
    r = assess(DossierResult("D", Decision.ACCEPT, (), (sheet, invoice), "2017-01-26T14:03:00+01:00", "D"), settings)
    assert r.needs_review and r.review_why == ("low_confidence:care_sheet_flags",)


def test_diagnosis_missing(settings):
    facts = read(replace(FULL, diagnosis_lines=0), "photo", 9, settings)
    assert facts.diagnosis_written is False and facts.motif_ticked is True
    assert ReasonCode.MEDICAL_SECTION_INCOMPLETE in codes(facts)


def test_dated_or_not(settings):
    only_vet = read(replace(FULL, owner_date=None), "scan_colour", 10, settings)
    assert (only_vet.owner_date, only_vet.vet_date, only_vet.dated) == (False, True, True)
    undated = read(replace(FULL, owner_date=None, vet_date=None), "scan_colour", 10, settings)
    assert undated.dated is False
    assert ReasonCode.CARE_SHEET_UNDATED in codes(undated)


def test_owner_signature_missing(settings):
    facts = read(replace(FULL, owner_signature=None), "scan_grey", 11, settings)
    assert facts.owner_signature is False
    assert codes(facts) == {ReasonCode.OWNER_SIGNATURE_MISSING}


def test_prefilled_sheet_qr_against_manifest(settings):
    sc = replace(FULL, prefilled=("SV-4471-0093", "MOZART"))
    ok = read(sc, "photo", 12, settings, expected_contract="SV-4471-0093", expected_animal="Mozart")
    assert ok.qr_payload == "SVFS1|SV-4471-0093|MOZART" and ok.qr_matches_manifest is True
    other = read(sc, "photo", 12, settings, expected_contract="SV-1111-2222", expected_animal="MOZART")
    assert other.qr_matches_manifest is False
    assert any(n.startswith("qr:") and "SV-1111-2222" in n for n in other.notes)
    assert codes(other) == set()  # an operator note, not a client reason
    plain = read(FULL, "scan_colour", 12, settings, expected_contract="SV-4471-0093")
    assert plain.qr_payload is None and plain.qr_matches_manifest is None


def test_unregistered_page_is_not_guessed(settings):
    page = Page(file="chat.jpg", number=1, image=cv2.GaussianBlur(
        capture(render_sheet(FULL, rng_for("test", 13)), "clean", rng_for("test", 13)).image[::8, ::8], (0, 0), 3),
        dpi=25, capture=Capture.IMAGE)  # a thumbnail: nothing to register on
    facts = read_care_sheet(page, settings)
    assert facts.registered is False
    assert facts.vet_stamp is None and facts.owner_signature is None and facts.dated is None
    assert codes(facts) == {ReasonCode.CARE_SHEET_ILLEGIBLE}


def test_zone_cut_off_the_photo(settings):
    rng = rng_for("test", 14)
    cap = capture(render_sheet(FULL, rng), "photo", rng)
    h = cap.image.shape[0]
    page = Page(file="fs.jpg", number=1, image=cap.image[: int(h * 0.72)], dpi=cap.dpi, capture=Capture.IMAGE)
    facts = read_care_sheet(page, settings)
    assert facts.registered and facts.vet_stamp is None and facts.vet_signature is None
    assert facts.owner_signature is True  # the top of the sheet is still read
    found = dossier_findings(facts)
    assert [f.code for f in found] == [ReasonCode.CARE_SHEET_ILLEGIBLE]
    assert "cachet du vétérinaire" in found[0].message_fr


def test_undetermined_flags_fire_no_rule():
    assert all(rule(CareSheetFacts()) == [] for rule in CARE_SHEET_RULES)


def test_read_is_fast(settings):
    rng = rng_for("test", 15)
    cap = capture(render_sheet(FULL, rng), "scan_colour", rng)
    page = Page(file="fs.jpg", number=1, image=cap.image, dpi=cap.dpi, capture=Capture.IMAGE)
    m = Measures()
    t = time.process_time()
    read_care_sheet(page, settings, measures=m)
    assert time.process_time() - t < 2.0  # about 0.3 s of CPU here; loose bound for loaded CI machines


@pytest.mark.parametrize("kind", ["scan_colour", "photo"])
def test_thin_pen_tick_is_a_tick(settings, kind):
    # a fine ballpoint tick overflowing its box inks little of the box's inside: read by its stroke
    sc = replace(FULL, motif="check", motif_box="motif_maladie", thin_tick=True)
    m = Measures()
    facts = read(sc, kind, 21, settings, measures=m)
    assert facts.motif_ticked is True and facts.medical_section_complete is True
    assert m.tick_stroke["motif_maladie"] > 0.3  # a stroke runs across the box ...
    assert max(m.tick_stroke["motif_accident"], m.tick_stroke["motif_prevention"]) == 0.0  # ... not the others


@pytest.mark.parametrize("colour, shape", [("blue", "rect"), ("black", "round")])
def test_paraphe_across_a_stamp_of_the_same_ink(settings, colour, shape):
    sc = replace(FULL, vet_stamp=StampSpec(colour=colour, shape=shape, angle=4.0), vet_signature="blue",
                 signature_in_stamp_ink=True)
    facts = read(sc, "scan_colour", 22, settings)
    assert (facts.vet_stamp, facts.vet_signature) == (True, True)


def test_blue_signature_across_a_red_round_stamp(settings):
    sc = replace(FULL, vet_stamp=StampSpec(colour="red", shape="round", angle=-8.0), vet_signature="blue",
                 vet_paraphe=True)
    m = Measures()
    facts = read(sc, "scan_colour", 23, settings, measures=m)
    assert (facts.vet_stamp, facts.vet_signature) == (True, True)
    assert any(l.name.startswith("couleur ") and l.signature for l in m.vet.layers)  # told apart by hue


def _stamp_with_lines(signed: bool, seed: int):
    """The vet box's ink mask: a rectangular stamp of four lines of small print and, when `signed`, a
    thin-pen signature whose strokes run down across those lines (drawn, not rendered: exact geometry)."""
    import numpy as np

    from extractors.care_sheet.vet import search_box
    from extractors.care_sheet.layout import PX_PER_MM

    x0, y0, x1, y1 = search_box()
    mm = lambda v: int(round(v * PX_PER_MM))  # noqa: E731
    rng = np.random.default_rng(seed)
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    X, Y = mm(20), mm(12)
    cv2.rectangle(m, (X, Y), (X + mm(62), Y + mm(20)), 1, mm(0.4))
    for row in range(4):
        gx = X + mm(3)
        while gx < X + mm(58 if row == 0 else 40):
            gw = mm(rng.uniform(1.0, 1.8))
            top = Y + mm(2.5 + row * 4.3)
            cv2.rectangle(m, (gx, top), (gx + gw, top + mm(2.0)), 1, mm(0.3))
            gx += gw + mm(0.6)
    if signed:
        t = np.linspace(0, 1, 400)
        xs = X + mm(25) + mm(22) * t + mm(3) * np.sin(t * 12)
        ys = Y - mm(3) + mm(24) * np.abs(np.sin(t * np.pi * 2.5))
        cv2.polylines(m, [np.stack([xs, ys], 1).astype(np.int32)], False, 1, mm(0.35))
    return m > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_thin_signature_running_down_across_the_stamps_print_is_a_signature(seed):
    """A text line's band explained every pixel in it: a thin signature crossing four lines of print
    lost its crossings and read as 14 mm² of scattered pieces, under the thresholds."""
    import numpy as np

    from extractors.care_sheet.vet import analyse_layer

    signed_ink, unsigned_ink = _stamp_with_lines(True, seed), _stamp_with_lines(False, seed)
    signed = analyse_layer("t", signed_ink, np.zeros_like(signed_ink))
    unsigned = analyse_layer("t", unsigned_ink, np.zeros_like(unsigned_ink))
    assert signed.stamp and unsigned.stamp
    assert signed.signature and not unsigned.signature
    assert unsigned.unexplained_mm2 == 0.0
