"""The stamp as one object, on drawn masks: a ring's arcs around its text wherever they lie, a stamp set
upright, and how much of the ink left for a signature borders the stamp's (the signature's confidence)."""
from __future__ import annotations

import cv2
import numpy as np

from extractors.care_sheet.layout import PX_PER_MM
from extractors.care_sheet.stamp import orient
from extractors.care_sheet.stamp_object import text_ring_arcs
from extractors.care_sheet.vet import _entangled


def _mm(v: float) -> int:
    return int(round(v * PX_PER_MM))


def _text(mask: np.ndarray, lines: list[str], x: int, y: int, scale: float = 0.32) -> None:
    for k, words in enumerate(lines):  # small print, ~2 mm capitals
        cv2.putText(mask, words, (x, y + k * _mm(3.5)), cv2.FONT_HERSHEY_SIMPLEX, scale, 1, 1, cv2.LINE_8)


def test_the_arcs_of_a_ring_around_the_text_are_the_stamps_wherever_they_lie():
    mask = np.zeros((_mm(60), _mm(80)), np.uint8)
    c = (_mm(40), _mm(30))
    cv2.ellipse(mask, c, (_mm(20), _mm(20)), 0, 200, 290, 1, 3)  # an outer ring's arc, upper left
    cv2.ellipse(mask, c, (_mm(20), _mm(20)), 0, 60, 110, 1, 3)  # and one below
    text_box = (c[0] - _mm(8), c[1] - _mm(4), c[0] + _mm(8), c[1] + _mm(4))
    t = np.linspace(0, 1, 400)
    zigzag = np.stack([_mm(62) + t * _mm(16), _mm(9) + _mm(3) * np.sin(t * 35)], 1).astype(np.int32)
    cv2.polylines(mask, [zigzag], False, 1, 3)  # a signature's zigzag up right
    arcs, rings = text_ring_arcs(mask > 0, text_box)
    assert len(rings) >= 1 and abs(rings[0][1][0] / PX_PER_MM - 40) < 2
    assert arcs[:_mm(25), :_mm(30)].any() and arcs[_mm(45):, _mm(30):_mm(50)].any()
    assert not arcs[:_mm(14), _mm(62):].any()  # the zigzag is left for the signature
    # an arc whose circle is not centred on the print (a flourish far from it) is not the stamp's ring
    far = np.zeros_like(mask)
    cv2.ellipse(far, (_mm(40), _mm(-30)), (_mm(30), _mm(30)), 0, 60, 120, 1, 3)
    assert not text_ring_arcs(far > 0, text_box)[0].any()


def test_a_stamp_set_upright_is_read_along_its_text():
    flat = np.zeros((_mm(40), _mm(60)), np.uint8)
    _text(flat, ["CLINIQUE VETERINAIRE", "DR MARTIN 12 RUE", "74000 ANNECY"], _mm(8), _mm(14))
    upright = np.ascontiguousarray(np.rot90(flat)) > 0
    o = orient(upright, False)
    assert abs(abs(o.angle) - 90) <= 3 and len(o.lines) >= 2


def test_ink_running_along_the_stamps_borders_it_a_stroke_across_it_does_not():
    print_ = np.zeros((_mm(30), _mm(60)), np.uint8)
    cv2.line(print_, (_mm(5), _mm(15)), (_mm(55), _mm(15)), 1, 3)  # a frame's side, explained
    along = np.zeros_like(print_)
    cv2.line(along, (_mm(5), _mm(15) + 3), (_mm(55), _mm(15) + 3), 1, 2)  # its edge left over
    across = np.zeros_like(print_)
    cv2.line(across, (_mm(30), _mm(2)), (_mm(34), _mm(28)), 1, 3)  # a pen stroke crossing it
    explained = print_ > 0
    assert _entangled(along > 0, explained) > 0.9
    assert _entangled((across > 0) & ~explained, explained) < 0.2


def test_ink_joined_to_the_frame_leaving_it_is_measured_the_stamps_print_is_not():
    from extractors.care_sheet.stamp_object import leaving_mm as _leaving_mm
    from extractors.care_sheet.vet import LEAVE_MIN_MM
    stamp = np.zeros((_mm(40), _mm(70)), np.uint8)
    cv2.rectangle(stamp, (_mm(10), _mm(10)), (_mm(50), _mm(28)), 1, 3)  # the frame
    _text(stamp, ["CLINIQUE VETERINAIRE", "DR MARTIN 12 RUE"], _mm(13), _mm(17))
    frame = np.zeros_like(stamp)
    cv2.rectangle(frame, (_mm(10), _mm(10)), (_mm(50), _mm(28)), 1, 3)
    assert _leaving_mm(stamp > 0, frame > 0) < 1.0  # the print stays inside its frame
    caption = stamp.copy()
    _text(caption, ["DR MARTIN"], _mm(14), _mm(34))  # a caption under the frame, not joined to it
    assert _leaving_mm(caption > 0, frame > 0) < 1.0
    signed = stamp.copy()
    cv2.line(signed, (_mm(40), _mm(20)), (_mm(58), _mm(16)), 1, 3)  # a pen stroke across the right side
    assert _leaving_mm(signed > 0, frame > 0) >= LEAVE_MIN_MM
    assert _leaving_mm(signed > 0, np.zeros_like(frame, bool)) == 0.0  # no frame: nothing measured
