"""The comb reader (extractors.care_sheet.comb): a date written digit by digit in a comb's cells, drawn with
the sample generator's own pen (gen.ink.write_comb) straight into the form frame, read by the real code.

The same digits are also drawn on white paper: that picture is the truth of where the ink is, so the
tests can say which of it the reader recovered and that none of the printed comb was taken for ink.
"""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from extractors.care_sheet import comb, fields
from extractors.care_sheet.ink import INK_MIN, crop, ink_map
from extractors.care_sheet.layout import blank, mm_box, zones
from extractors.care_sheet.zone_text import zone_box_mm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "sample_docs"))
from gen.common import font_path  # noqa: E402
from gen.ink import Hand, write_comb  # noqa: E402

ZONE = "consultation_date"
DAY = date(2017, 11, 13)
YEARS = (2000, 2035)
# print-like hands of the generator (none of them in digits.TRAIN_FONTS); a clear blue ballpoint
HANDS = ("ComicNeue-Regular.otf", "KleeOne-Regular.ttf", "Humor-Sans.ttf")


def _hand(font: str) -> Hand:
    return Hand(font=font_path(font), caps=False, accents=True, size=0.65, slant=0.05, ink=(30, 40, 150),
                pressure=0.9, spacing=1.0, jitter=0.03, stroke=0.0)


def _sheet(text: str, font: str, seed: int, shift: tuple[int, int] = (0, 0), off_cell: float = 0.0):
    """(ink map of the form frame with `text` written in the comb, truth: bool mask of the ink drawn), the
    whole sheet moved by `shift` (dy, dx) px: a registration that is off by that much; `off_cell`: each
    digit written this share of a cell to the right (on the separator at 0.5)."""
    cells = [mm_box(c) for c in zones()[ZONE]["cells"]]
    cells = [(x0 + round(off_cell * (x1 - x0)), y0, x1 + round(off_cell * (x1 - x0)), y1) for x0, y0, x1, y1 in cells]
    form = blank()[..., ::-1].astype(np.float32)  # RGB float, as the generator draws
    paper = np.full_like(form, 255.0)
    write_comb(form, text, cells, _hand(font), np.random.default_rng(seed))
    write_comb(paper, text, cells, _hand(font), np.random.default_rng(seed))  # the same strokes on white
    dy, dx = shift
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    h, w = form.shape[:2]
    form = cv2.warpAffine(form, m, (w, h), borderValue=(255, 255, 255))
    paper = cv2.warpAffine(paper, m, (w, h), borderValue=(255, 255, 255))
    bgr = np.clip(form[..., ::-1], 0, 255).astype(np.uint8)
    truth = (255 - paper.min(axis=2)) >= INK_MIN
    return ink_map(np.ascontiguousarray(bgr), np.ones((h, w), bool)), truth


def _read(ink) -> fields.FieldReading:
    return fields._date(ink, ZONE, None, fields._ink_mm2(ink, zone_box_mm(ZONE)), YEARS)


@pytest.mark.parametrize("font", HANDS)
def test_a_date_written_in_the_cells_is_read(font):
    ink, _ = _sheet(DAY.strftime("%d%m%Y"), font, seed=3)
    r = _read(ink)
    assert r.value == DAY.isoformat(), r
    assert r.how == "cases 13112017" and r.confidence > 0.3  # every cell read, not a lucky date


def test_ink_crossing_the_separators_is_recovered():
    """The wide comparison (InkMap.ink) loses every stroke within ±BLANK_SPREAD_PX of a printed line; the
    comb's aligned, tight comparison gives part of it back, and takes none of the print."""
    ink, truth = _sheet("0000", HANDS[0], seed=3, off_cell=0.5)  # round digits over the separators
    window = fields.comb_window(ZONE)
    _, mask = comb.comb_ink(ink, window)
    drawn = crop(truth, window)
    wide = crop(ink.ink, window)
    near_print = cv2.dilate((255 - crop(blank(), window).min(axis=2) >= INK_MIN).astype(np.uint8),
                            np.ones((7, 7), np.uint8)) > 0
    lost = drawn & near_print & ~wide  # the strokes the wide comparison erased
    assert lost.sum() > 50  # the digits do cross the comb's lines
    # measured: 37 % of the erased strokes back (the rest lies under the print itself), 1.39 x the ink seen
    assert (mask & lost).sum() >= 0.3 * lost.sum()
    assert (mask & drawn).sum() >= 1.25 * (wide & drawn).sum()
    grown = cv2.dilate(drawn.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert (mask & ~grown).sum() <= 0.02 * mask.sum()  # nothing printed read as ink


@pytest.mark.parametrize("shift", [(2, -2), (-3, 1)])
def test_a_misregistered_comb_is_aligned_to_the_page(shift):
    """A sheet registered 2-3 px off: the blank's print is found where the page has it, and the date is
    still read; the comb's own lines never come back as ink."""
    ink, truth = _sheet(DAY.strftime("%d%m%Y"), HANDS[0], seed=3, shift=shift)
    window = fields.comb_window(ZONE)
    printed = comb._aligned_print(ink, window)
    s = comb.SEARCH_PX
    x0, y0, x1, y1 = window
    dy, dx = shift
    expected = 255 - crop(cv2.cvtColor(blank(), cv2.COLOR_BGR2GRAY),
                          (x0 - dx, y0 - dy, x1 - dx, y1 - dy)).astype(np.float32)
    assert np.array_equal(printed, expected)
    _, mask = comb.comb_ink(ink, window)
    grown = cv2.dilate(crop(truth, window).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert (mask & ~grown).sum() <= 0.02 * mask.sum()
    assert _read(ink).value == DAY.isoformat()
    assert abs(dy) <= s and abs(dx) <= s


def test_a_cell_without_ink_is_empty():
    """A two-digit year in the first six cells: the last two cells hold no ink and read as no digit."""
    text = DAY.strftime("%d%m%y")
    ink, _ = _sheet(text, HANDS[0], seed=4)
    window = fields.comb_window(ZONE)
    _, mask = comb.comb_ink(ink, window)
    cells = [fields._cell_mask(mask, window, c) for c in zones()[ZONE]["cells"]]
    assert all(c.any() for c in cells[:6]) and not any(c.any() for c in cells[6:])
    from extractors.care_sheet import digits
    assert [digits.classify(c).digit for c in cells[6:]] == ["", ""]
    assert _read(ink).value == DAY.isoformat()


def test_a_comb_without_ink_reads_as_surely_empty():
    ink, _ = _sheet("", HANDS[0], seed=5, shift=(1, 2))
    _, mask = comb.comb_ink(ink, fields.comb_window(ZONE))
    assert not mask.any()
    r = _read(ink)
    assert r.value is None and r.confidence == 1.0


def _total_sheet(text: str, font: str, size: float, seed: int):
    """The form frame with `text` written in the total TTC box by the generator's pen at `size` (a share of
    the box's height; at 1.0, a large hand that rises over the box's top edge as some dev sheets do)."""
    from gen.ink import write_in_box

    form = blank()[..., ::-1].astype(np.float32)
    hand = Hand(font=font_path(font), caps=False, accents=True, size=size, slant=0.05, ink=(30, 40, 150),
                pressure=0.9, spacing=1.0, jitter=0.03, stroke=0.0)
    write_in_box(form, text, mm_box(zones()["total_ttc"]["bbox"]), hand, np.random.default_rng(seed), align="right")
    bgr = np.ascontiguousarray(np.clip(form[..., ::-1], 0, 255).astype(np.uint8))
    return ink_map(bgr, np.ones(bgr.shape[:2], bool))


@pytest.mark.parametrize("font", HANDS[:2])
def test_a_total_rising_over_its_box_is_read_whole(font):
    """Dev set seed 31: one handwritten total in four rose over the box's top edge, its digits' tops cut off
    by the window and split from them by the printed edge (read None or a wrong digit)."""
    from extractors.care_sheet.amounts import read_amount

    ink = _total_sheet("129,71", font, size=1.0, seed=2)
    top = mm_box(zones()["total_ttc"]["bbox"])[1]
    assert crop(ink.ink, (0, top - 12, ink.ink.shape[1], top - 3)).any()  # the handwriting does rise over the edge
    assert read_amount(ink, zone_box_mm("total_ttc")).value == "129.71"


@pytest.mark.parametrize("font", HANDS[:2])
def test_an_unsure_total_can_still_say_it_is_not_the_invoices(font):
    """Dev set seed 7: no handwritten total was read at >= 0.9, the gate of AMOUNT_MISMATCH, so the check
    never fired (support 10, found 0). The glyphs' digit probabilities now travel with the reading and the
    invoice's figure is weighed against them: several glyphs that read surely as other digits make a
    mismatch, the written figure itself (or one within rounding) does not."""
    from decimal import Decimal

    from extractors.care_sheet.amounts import read_amount
    from validators.consistency import MISMATCH_MIN, mismatch_probability

    amount = read_amount(_total_sheet("129,71", font, size=0.7, seed=3), zone_box_mm("total_ttc"))
    assert len(amount.digits) == 5 and all(len(p) == 10 for p in amount.digits)
    assert mismatch_probability(amount.digits, [Decimal("129.71")]) < 0.5
    assert mismatch_probability(amount.digits, [Decimal("129.74")]) < 0.5  # within the rounding tolerance
    assert mismatch_probability(amount.digits, [Decimal("186.35")]) >= MISMATCH_MIN
    assert mismatch_probability(amount.digits, [Decimal("1129.71")]) is None  # more digits than glyphs: cannot tell
