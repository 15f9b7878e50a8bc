"""The vet box: the professional stamp and the handwritten signature, told apart, each with its evidence.

Both may overlap, share a colour, spill out of the box. The box (with a margin)
is read on all its ink and on *ink layers* (extractors.care_sheet.ink_layers:
by colour, by stroke darkness), each layer in the same two steps:

- *The stamp model* (extractors.care_sheet.stamp): frames (closed outlines,
  rings/ovals by RANSAC, straight sides) and printed text lines (glyph-sized
  components of similar height aligned along one direction, the stamp's
  rotation).
- *The signature* is the ink the stamp model does not explain: what remains
  after removing the frame band, the glyphs, the text-line bands and, near the
  stamp only, frame leftovers — if it is big and long enough.

The box has a stamp (a signature) when any layer has one. Each flag carries a confidence (`confidence`: its
deciding measure's margin from the threshold); a stroke joined to the stamp's frame that runs out of it
(stamp_object.leaving_mm) makes "no signature" unsure and a signature found surer.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from extractors.care_sheet.frame import SIDE_BAND_MM, all_frames, smooth_remnants
from extractors.care_sheet.ink import InkMap, blobs, crop, stroke_mm
from extractors.care_sheet.ink_layers import colour_layers, darkness_layers, stamp_pad_ink
from extractors.care_sheet.layout import PX_PER_MM, zones
from extractors.care_sheet.stamp import (GLYPH_H_MM, STAMP_MIN_LINES, STAMP_TEXT_MAX_MM, holds_stamp, mask_box,
                                         orient, stamp_score, union_box)
from extractors.care_sheet.stamp_object import (axis_pieces, broken_ring, concentric_arcs, leaving_mm, ring_glyphs,
                                                text_ring_arcs)

SEARCH_MARGIN_MM = (6.0, 6.0, 12.0, 8.0)  # left, top, right, bottom: stamps spill out of the box
REGION_MARGIN_MM = 2.0  # around the stamp found, where frame leftovers are looked for
FRAME_PIECE_MARGIN_MM = 4.5  # ... and pieces of its frame along its own directions (a side under the caption)
INNER_MARGIN_MM = 1.5  # inside the text's first and last letters by this much, no frame side stands
SIG_MIN_MM2 = 14.0  # unexplained ink (mm²) that makes a signature (paraphe ~20, stamp leftovers < 10) ...
SIG_MIN_EXTENT_MM = 7.0  # ... with a piece at least this long
SIG_MIN_STROKE_MM = 30.0  # or unexplained pen strokes this long (skeleton): a thin-pen paraphe has little area
SIG_PIECE_MIN_MM = 1.5  # unexplained pieces smaller than this both ways are crumbs of the print taken out
REJOIN_MM = 1.5  # pieces of unexplained ink this close are one stroke cut by the print taken out
FAINT_STAMP_MIN = 15  # darkness above the blank's of a faint stamp's print (paper noise stays under ~15) ...
FAINT_HALO_MM = 0.8  # ... away from dark strokes (a blurred photo's halo reaches ~0.5-1 mm around a pen's) ...
FAINT_HALO_DARK = 90  # ... as dark as a pen's core (a faint stamp's own cores stay far under it) ...
FAINT_GAIN = 1.15  # ... read when it adds this much ink to the box (else nothing faint is there)
DOUBT_SCORE = 0.9  # "no stamp" beside a frame found, or DOUBT_GLYPHS letters, is this close to a stamp
DOUBT_GLYPHS = 20.0
ENTANGLED_MM = 0.4  # unexplained ink this close to the stamp's explained ink borders it (a blurred edge's reach)
SURE_RATIO = 3.0  # a measure this many times over (or under) its threshold makes a flag sure (confidence 1.0)
LEAVE_MIN_MM = 3.0  # ink joined to the stamp's frame running this far out of it (stamp_object.leaving_mm): a
# stroke crossing the frame (a cursive continuation the stamp object took in), not print (it stays inside)
LEAVING_CONFIDENCE = 0.4  # "no signature" while such a stroke leaves the frame: under UNKNOWN_FLAG (0.5),
# a measure points to a signature the flag denies (eval200 dev: both vet signatures read missing at 1.0)


@dataclass
class LayerReading:
    """The stamp model and the unexplained ink of one ink layer of the vet box."""

    name: str
    ink_mm2: float
    angle: float  # degrees, the text direction of the stamp (0 when none)
    glyphs: int
    lines: list[tuple]  # (glyphs, span mm, median glyph height mm) of each text line
    frames: list[str]  # what frame was found, in words
    side_mm: float  # length of straight frame sides found along the text
    unexplained_mm2: float
    unexplained_extent_mm: float
    explained: np.ndarray = field(repr=False)  # bool, search-box frame
    unexplained: np.ndarray = field(repr=False)
    unexplained_stroke_mm: float = 0.0  # length of the unexplained strokes (skeleton)
    entangled: float = 0.0  # share of the unexplained ink bordering the stamp's (`_entangled`)
    pad_ink: bool = False  # a stamp pad's ink (ink_layers.stamp_pad_ink): its text lines are print at any size
    leaving_mm: float = 0.0  # how far ink joined to the stamp's frame runs out of it (stamp_object.leaving_mm)

    @property
    def text_max_mm(self) -> float:
        return GLYPH_H_MM[1] if self.pad_ink else STAMP_TEXT_MAX_MM

    @property
    def stamp(self) -> bool:
        """A frame holding glyphs, or several lines of small printed text (handwriting is larger)."""
        return holds_stamp(self.frames, self.glyphs, self.lines, self.side_mm, self.text_max_mm)

    @property
    def signature(self) -> bool:
        """Enough unexplained ink, or long enough unexplained strokes, with one long piece."""
        return self.signature_score >= 1.0

    @property
    def signature_score(self) -> float:
        """The signature measures over their thresholds: >= 1 exactly when the layer holds a signature."""
        return min(max(self.unexplained_mm2 / SIG_MIN_MM2, self.unexplained_stroke_mm / SIG_MIN_STROKE_MM),
                   self.unexplained_extent_mm / SIG_MIN_EXTENT_MM)

    @property
    def stamp_score(self) -> float:
        """The stamp evidence over its thresholds: >= 1 exactly when the layer holds a stamp."""
        return stamp_score(self.frames, self.glyphs, self.lines, self.side_mm, self.text_max_mm)


@dataclass
class VetBoxReading:
    """The vet box's stamp and signature, the layers they were read on, and the evidence in words."""

    stamp: bool
    signature: bool
    layers: list[LayerReading]  # [all ink, colour layers..., darkness layers...]
    signature_layers: list[LayerReading]  # the layers the signature was judged on
    box: tuple[int, int, int, int]  # the search box, form px
    stamp_evidence: str = ""
    signature_evidence: str = ""
    stamp_confidence: float = 1.0  # 0..1: how far the deciding measure is from its threshold (`confidence`)
    signature_confidence: float = 1.0
    stamp_layer: LayerReading | None = field(default=None, repr=False)  # the layer that decided
    signature_layer: LayerReading | None = field(default=None, repr=False)


def confidence(score: float) -> float:
    """0.5 at the threshold (score 1), 1.0 at SURE_RATIO times over or under it (and with nothing measured)."""
    if score <= 0:
        return 1.0
    return round(0.5 + 0.5 * min(1.0, abs(float(np.log(score))) / float(np.log(SURE_RATIO))), 3)


def write_decision_crops(balanced_box: np.ndarray, vet: VetBoxReading, crops_dir) -> dict[str, str]:
    """The crops that decided each flag: the vet box with the deciding ink framed (stamp: the ink its model
    explains; signature: the ink left over), or the whole box when the flag says absent: {name: path}."""
    out = {}
    for name, layer, mask in (("vet_stamp_decision", vet.stamp_layer, "explained"),
                              ("vet_signature_decision", vet.signature_layer, "unexplained")):
        view = balanced_box.copy()
        box = mask_box(getattr(layer, mask)) if layer is not None else None
        if box is not None:
            m = int(REGION_MARGIN_MM * PX_PER_MM)
            cv2.rectangle(view, (box[0] - m, box[1] - m), (box[2] + m, box[3] + m), (40, 40, 220), 2)
        path = crops_dir / f"{name}.png"
        cv2.imwrite(str(path), view)
        out[name] = str(path)
    return out


def search_box() -> tuple[int, int, int, int]:
    """The vet box's writing area grown by SEARCH_MARGIN_MM, form px."""
    x0, y0, x1, y1 = zones()["vet_stamp_signature"]["writing_area"]
    ml, mt, mr, mb = SEARCH_MARGIN_MM
    return (int((x0 - ml) * PX_PER_MM), int((y0 - mt) * PX_PER_MM),
            int((x1 + mr) * PX_PER_MM), int((y1 + mb) * PX_PER_MM))


def analyse_layer(name: str, mask: np.ndarray, blind: np.ndarray, lone_line_is_print: bool = True,
                  pen: bool = False) -> LayerReading:
    """Stamp model (frame, text lines) and unexplained ink of one layer (bool mask of the search box).

    `lone_line_is_print=False`: a single line of glyphs explains nothing (read_vet_box, when no layer holds a
    stamp: one row of a signature's letters is not print). `pen=True`: a colour of its own beside the stamp
    (read_vet_box): a straight stroke along the text explains nothing unless a frame was found (a paraphe's
    flourish is straight), and the layer is turned upright on a canvas holding all of it (see below)."""
    _, labels = blobs(mask)
    clean = labels > 0
    ink_mm2 = float(clean.sum()) / PX_PER_MM**2
    rings: list = []
    frame_band, frames, ring = all_frames(clean, blind, rings)
    # the stamp as one object (extractors.care_sheet.stamp_object): a ring printed as separate arcs, rings and
    # arcs concentric with a ring found, and the letters set around a round ring
    broken = broken_ring(clean & ~frame_band, blind)
    if broken is not None:
        rings.append(broken[0])
        frame_band |= broken[1]
        frames.append(f"anneau en morceaux {broken[0][1][0] / PX_PER_MM:.0f}x{broken[0][1][1] / PX_PER_MM:.0f} mm")
        ring = True
    frame_band |= concentric_arcs(clean & ~frame_band, rings)
    n_ring = ring_glyphs(clean, rings)
    # the text is turned upright within the box itself, which loses the ink turned beyond it: little at the
    # small angles of a stamp, most of a pen's layer read upright (eval200 dev D-2017-038996: 3/4 of a blue
    # paraphe turned out of the box, "no signature" at 1.0). A pen's layer is turned on a canvas as wide as
    # the box's diagonal (the same margin on both sides: the turn's centre stays the box's). The stamp's
    # layers were measured that way too and keep the box (docs/care_sheet.md § 4: their text lines then
    # claimed more of a signature in the stamp's ink, two more read missing on eval200 dev).
    h, w = mask.shape
    diag = float(np.hypot(h, w))
    py, px = (int(np.ceil((diag - h) / 2)), int(np.ceil((diag - w) / 2))) if pen else (0, 0)
    canvas = (h + 2 * py, w + 2 * px)
    pad = (lambda m: np.pad(m, ((py, py), (px, px)))) if pen else (lambda m: m)  # noqa: E731
    o = orient(pad(clean & ~frame_band), ring)
    if not lone_line_is_print and 0 < len(o.lines) < STAMP_MIN_LINES:
        o = replace(o, lines=[], explained=np.zeros_like(o.explained), text_box=None,
                    glyphs=np.zeros_like(o.glyphs))
    frames += o.sides
    inv = cv2.invertAffineTransform(o.matrix)
    rot = lambda m: cv2.warpAffine(pad(m).astype(np.uint8), o.matrix, canvas[::-1],  # noqa: E731
                                   flags=cv2.INTER_NEAREST) > 0
    back = lambda m: cv2.warpAffine(m.astype(np.uint8), inv, canvas[::-1],  # noqa: E731
                                    flags=cv2.INTER_NEAREST)[py:py + h, px:px + w] > 0
    if pen and not frames:
        o = replace(o, h_band=np.zeros_like(o.h_band))
    explained = o.explained | o.h_band

    # where the stamp is (frames, long sides, text lines): short straight sides and frame leftovers are
    # explained there only, so that a zigzag signature beside the stamp is not taken for a frame
    region = _stamp_region(canvas, union_box(union_box(o.text_box, mask_box(rot(frame_band))), mask_box(o.h_band)))
    # a lone glyph-sized piece is stamp print near the stamp only: elsewhere it is a piece of a signature
    # broken by the box's lines or a thin paraphe's stroke
    explained |= (_frame_sides_across(o.v_band, o.text_box) | o.glyphs) & region
    left = o.rotated & ~explained
    remnants, _ = smooth_remnants(left & region)
    if frames:  # the corners and side pieces of a frame broken by uneven ink (its hidden sides lie further out)
        near = _stamp_region(canvas, mask_box(region), FRAME_PIECE_MARGIN_MM - REGION_MARGIN_MM)
        remnants |= axis_pieces(left & near & ~remnants)
    explained |= remnants
    left &= ~remnants
    # the arcs of a ring around the text, wherever they lie (a large ring half out of the box), and its letters
    arcs, _ = text_ring_arcs(left, o.text_box)
    explained |= arcs
    left &= ~arcs
    un_mm2, un_stroke, extent = _unexplained(left)
    frame_ink = rot(frame_band & clean) | o.h_band | _frame_sides_across(o.v_band, o.text_box) | arcs
    leaving = leaving_mm(rot(clean), frame_ink)
    entangled = _entangled(left, explained | rot(frame_band & clean))
    explained_back = (back(explained) | frame_band) & clean
    side_mm = float(o.h_band.sum()) / (2 * SIDE_BAND_MM * PX_PER_MM**2)
    return LayerReading(name, round(ink_mm2, 1), o.angle, o.glyph_count + n_ring, o.lines, frames, round(side_mm, 1),
                        round(un_mm2, 1), round(extent, 1), explained_back, back(left) & clean, round(un_stroke, 1),
                        entangled=round(entangled, 3), leaving_mm=round(leaving, 1))


def _entangled(left: np.ndarray, explained: np.ndarray) -> float:
    """Share of the unexplained ink that runs along the ink the stamp model explained (within ENTANGLED_MM of
    it): a pen stroke crossing the print touches it at its crossings only; what is left of a stamp (a ring's
    or a frame's edge outside its band, a letter's broken half) borders the print along its length."""
    kept = _kept(left)
    n = int(kept.sum())
    if n == 0:
        return 0.0
    k = 2 * max(1, int(round(ENTANGLED_MM * PX_PER_MM))) + 1
    near = cv2.dilate(explained.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
    return float((kept & near).sum()) / n


def _stamp_region(shape: tuple[int, int], box: tuple[int, int, int, int] | None,
                  margin_mm: float = REGION_MARGIN_MM) -> np.ndarray:
    """The stamp's box grown by margin_mm (bool mask; empty when no stamp part was found)."""
    region = np.zeros(shape, bool)
    if box is not None:
        m = int(margin_mm * PX_PER_MM)
        region[max(0, box[1] - m):box[3] + m, max(0, box[0] - m):box[2] + m] = True
    return region


def _frame_sides_across(v_band: np.ndarray, text_box: tuple[int, int, int, int] | None) -> np.ndarray:
    """The straight sides across the text that may be the frame's: a stroke across the text *between* its
    first and last letters is not a side of the frame (which stands beyond the text), it is a signature's
    down-stroke crossing the print."""
    if text_box is None:
        return v_band
    inner = np.zeros(v_band.shape, bool)
    m_in = int(INNER_MARGIN_MM * PX_PER_MM)
    inner[:, max(0, text_box[0] + m_in):max(0, text_box[2] - m_in)] = True
    return v_band & ~inner


def _kept(left: np.ndarray) -> np.ndarray:
    """The unexplained pieces that count (SIG_PIECE_MIN_MM either way), bool."""
    parts, _ = blobs(left, min_mm=SIG_PIECE_MIN_MM)
    kept = np.zeros(left.shape, bool)
    for p in parts:
        kept[p.y:p.y + p.h, p.x:p.x + p.w] |= left[p.y:p.y + p.h, p.x:p.x + p.w]
    return kept


def _unexplained(left: np.ndarray) -> tuple[float, float, float]:
    """The ink the stamp model left: its area (mm²), its strokes' length (mm) and its longest piece (mm)."""
    left_parts, _ = blobs(left, min_mm=SIG_PIECE_MIN_MM)
    un_mm2 = sum(p.area for p in left_parts) / PX_PER_MM**2
    un_stroke = sum(stroke_mm(left[p.y:p.y + p.h, p.x:p.x + p.w]) for p in left_parts)
    # a stroke crossing the print is cut where the print was taken out: its pieces, rejoined over such
    # cuts (REJOIN_MM), give the stroke's extent
    kept = np.zeros(left.shape, np.uint8)
    for p in left_parts:
        kept[p.y:p.y + p.h, p.x:p.x + p.w] |= left[p.y:p.y + p.h, p.x:p.x + p.w]
    k = max(1, int(REJOIN_MM * PX_PER_MM)) | 1
    joined, _ = (blobs(cv2.dilate(kept, np.ones((k, k), np.uint8)) > 0, min_mm=SIG_PIECE_MIN_MM) if left_parts
                 else ([], None))
    extent = max((max(p.w, p.h) - k + 1 for p in joined), default=0) / PX_PER_MM
    return un_mm2, un_stroke, extent


def read_vet_box(inkmap: InkMap) -> VetBoxReading:
    """Stamp and signature in the vet box (with its margin), per ink layer and together."""
    box = search_box()
    ink, balanced, blind = crop(inkmap.ink, box), crop(inkmap.balanced, box), crop(inkmap.blind, box)
    by_colour = colour_layers(balanced, ink) if ink.any() else []
    masks = [("toute l'encre", ink)] + (by_colour if len(by_colour) > 1 else []) + darkness_layers(balanced, ink)
    layers = [analyse_layer(n, m, blind) for n, m in masks]
    for layer, (_, m) in zip(layers, masks):
        layer.pad_ink = bool(layer.lines) and stamp_pad_ink(balanced, m)
    stamp = any(l.stamp for l in layers)
    if not stamp:
        # a faint stamp prints under INK_MIN: the box read again at FAINT_STAMP_MIN, for a stamp only (its
        # unexplained ink is not a signature: a pen's stroke is never that light)
        # (light ink hugging a dark stroke is that stroke's blurred edge, not a faint print: left out)
        excess = crop(inkmap.excess, box)
        k = 2 * int(round(FAINT_HALO_MM * PX_PER_MM)) + 1
        halo = cv2.dilate((excess >= FAINT_HALO_DARK).astype(np.uint8), np.ones((k, k), np.uint8)) > 0
        pale = (excess >= FAINT_STAMP_MIN) & crop(inkmap.valid, box) & ~(halo & ~ink) | ink
        if pale.sum() > ink.sum() * FAINT_GAIN:
            faint = analyse_layer("pâle", pale, blind)
            if faint.stamp:
                faint.unexplained_mm2 = faint.unexplained_stroke_mm = faint.unexplained_extent_mm = 0.0
                faint.unexplained = np.zeros_like(faint.unexplained)
                layers.append(faint)
                masks.append(("pâle", pale))
                stamp = True
    if not stamp:  # no stamp anywhere: a lone row of glyphs is a signature's letters, not print
        layers = [analyse_layer(n, m, blind, lone_line_is_print=False) if 0 < len(l.lines) < STAMP_MIN_LINES else l
                  for l, (n, m) in zip(layers, masks)]
        stamp = any(l.stamp for l in layers)
    else:
        # the stamp found, a colour of its own holding no stamp and one row of glyphs larger than print: that
        # row is the pen's (a blue signature over a red stamp, eval200 dev D-2017-038996: read missing at
        # 1.0), not print. A row of small print stays print: a dater sets its date in a second ink (the real
        # held-out family: two unsigned dater stamps were read signed without this condition)
        pen = {n for n, _ in by_colour} if len(by_colour) > 1 else set()
        layers = [analyse_layer(n, m, blind, lone_line_is_print=False, pen=True)
                  if n in pen and not l.stamp and 0 < len(l.lines) < STAMP_MIN_LINES
                  and min(line[2] for line in l.lines) > STAMP_TEXT_MAX_MM else l
                  for l, (n, m) in zip(layers, masks)]
    # a signature may hide in any layer: alone in its colour (a black stroke over a blue stamp), or as the
    # darker strokes of one colour (a ballpoint over a stamp of the same blue)
    signature = any(l.signature for l in layers)
    best = max(layers, key=lambda l: (l.stamp, len(l.lines), len(l.frames), l.glyphs))
    s_ev = (f"encre {best.name}: {len(best.lines)} ligne(s) de texte imprimé "
            f"({', '.join(f'{n} signes sur {s:.0f} mm' for n, s, *_ in best.lines) or 'aucune'}), "
            f"{best.glyphs} signes, cadre: {'; '.join(best.frames) or 'aucun'}, rotation {best.angle:+.0f}°")
    top = max(layers, key=lambda l: (l.signature, l.unexplained_mm2))
    g_ev = (f"encre {top.name}: {top.unexplained_mm2:.0f} mm² de tracé hors cachet, "
            f"{top.unexplained_stroke_mm:.0f} mm de trait, plus long trait {top.unexplained_extent_mm:.0f} mm, "
            f"{top.entangled:.0%} le long du cachet "
            f"(seuils {SIG_MIN_MM2:.0f} mm² ou {SIG_MIN_STROKE_MM:.0f} mm de trait, {SIG_MIN_EXTENT_MM:.0f} mm)")
    s_layer = max(layers, key=lambda l: l.stamp_score)
    g_layer = max(layers, key=lambda l: l.signature_score)
    # no stamp, but a frame or many letters were seen: a stamp the model could not complete is likely
    doubt = max((max(l.stamp_score, DOUBT_SCORE if l.frames else 0.0, min(DOUBT_SCORE, l.glyphs / DOUBT_GLYPHS))
                 for l in layers), default=0.0)
    s_conf = confidence(s_layer.stamp_score if stamp else doubt)
    g_conf = confidence(g_layer.signature_score)
    leave = max((l.leaving_mm for l in layers if l.stamp), default=0.0)
    if not signature and leave >= LEAVE_MIN_MM:  # the stamp object may hold a signature drawn across its frame
        g_conf = min(g_conf, LEAVING_CONFIDENCE)
        g_ev += f"; un trait joint au cadre du cachet en sort de {leave:.0f} mm (seuil {LEAVE_MIN_MM:.0f} mm) : à vérifier"
    if signature:
        # a layer holding the signature but no stamp told them apart by ink; in the stamp's own ink only the
        # stamp model did, as surely as the stroke kept clear of the print (the share bordering it may be
        # stamp ink the model failed to explain)
        g_conf = round(min(g_conf, max(1.0 - l.entangled if l.stamp else 1.0 for l in layers if l.signature)), 3)
        # ... unless ink joined to the stamp's frame runs out of it: a pen crossed the stamp, a second measure
        # of the signature independent of the leftover ink's (the stamp's print stays inside its frame)
        g_conf = max(g_conf, confidence(leave / LEAVE_MIN_MM) if leave >= LEAVE_MIN_MM else 0.0)
    return VetBoxReading(stamp, signature, layers, layers, box, s_ev, g_ev, s_conf, g_conf,
                         s_layer if stamp else None, g_layer if signature else None)
