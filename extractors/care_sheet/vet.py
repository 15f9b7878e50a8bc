"""The vet box: the professional stamp and the handwritten signature, told apart, each with its evidence.

Both may overlap, share a colour, spill out of the box. The box (with a margin)
is read on all its ink and on *ink layers*, each layer in the same two steps:

- Layers: pixels split by their chroma/darkness ratio (black and grey ink ~0.0,
  blue-black ~0.15, blue/violet/red ~0.3, whatever their lightness) and, among
  coloured pixels, by hue; and by stroke darkness (a stamp prints lighter than
  a ballpoint). A black signature over a blue stamp so falls apart in two
  layers; a black stamp under a black signature stays one and relies on shape.
- *The stamp model*: frames (extractors.care_sheet.frame: closed outlines,
  rings/ovals by RANSAC, straight sides) and printed text lines (glyph-sized
  components of similar height aligned along one direction, the stamp's
  rotation).
- *The signature* is the ink the stamp model does not explain: what remains
  after removing the frame band, the glyphs, the text-line bands and, near the
  stamp only, frame leftovers — if it is big and long enough.

The box has a stamp (a signature) when any layer has one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from extractors.care_sheet.ink import InkMap, blobs, crop, stroke_mm
from extractors.care_sheet.frame import (SIDE_BAND_MM, SIDE_MIN_MM, ellipse_frames, hull_frames, long_line_angle,
                                         smooth_remnants, straight_sides)
from extractors.care_sheet.layout import PX_PER_MM, zones

SEARCH_MARGIN_MM = (6.0, 6.0, 12.0, 8.0)  # left, top, right, bottom: stamps spill out of the box
NEUTRAL_RATIO = 0.08  # chroma / darkness below this: black or grey ink
AMBIGUOUS_MAX = 0.25  # share of ink near NEUTRAL_RATIO above which no colour split is made
HUE_SPLIT_DEG = 40.0  # two coloured inks at least this far apart in hue are separate layers ...
HUE_MIN_SHARE = 0.03  # ... when the second one holds LAYER_MIN_MM2 and this share of the coloured ink ...
HUE_VALLEY = 0.5  # ... and the histogram dips between the two peaks below this share of the second one
DARK_SPLIT_MIN = 70  # light vs dark strokes: mean darkness gap that makes two layers
LAYER_MIN_MM2 = 4.0  # a layer with less ink is not analysed on its own
GLYPH_H_MM = (0.8, 4.2)  # height of a printed stamp glyph (or inked-together word), in the stamp's frame
GLYPH_MAX_W_MM = 22.0
ARC_WORD_MAX_MM = 12.0  # a word along a round stamp's ring, at any angle: this long at most ...
ARC_WORD_THICK_MM = 3.2  # ... and this thick
LINE_MIN_GLYPHS = 4  # a text line: at least this many glyphs ...
LINE_MIN_SPAN_MM = 8.0  # ... spread over at least this length
LINE_MIN_COVER = 0.6  # or 2+ word-sized pieces covering this share of the line
LINE_MAX_THICK = 2.0  # a line is at most this many glyph heights thick
BAND_SLACK = 0.5  # ink reaching this many glyph heights above or below a text line runs across it
STAMP_MIN_LINES = 2  # printed text lines that make a stamp on their own ...
STAMP_TEXT_MAX_MM = 2.6  # ... when their letters are this small (median height; handwriting is larger)
SIDE_SCORE_MM2 = 2.0  # choosing the stamp's direction: this much frame side weighs like one glyph in a line
REGION_MARGIN_MM = 2.0  # around the stamp found, where frame leftovers are looked for
INNER_MARGIN_MM = 1.5  # inside the text's first and last letters by this much, no frame side stands
FRAME_MIN_GLYPHS = 4  # glyphs (letters or inked-together words) a frame must hold to make a stamp
SIG_MIN_MM2 = 14.0  # unexplained ink (mm²) that makes a signature (paraphe ~20, stamp leftovers < 10) ...
SIG_MIN_EXTENT_MM = 7.0  # ... with a piece at least this long
SIG_MIN_STROKE_MM = 30.0  # or unexplained pen strokes this long (skeleton): a thin-pen paraphe has little area
REJOIN_MM = 1.5  # pieces of unexplained ink this close are one stroke cut by the print taken out


@dataclass
class LayerReading:
    name: str
    ink_mm2: float
    angle: float  # degrees, the text direction of the stamp (0 when none)
    glyphs: int
    lines: list[tuple[int, float, float]]  # (glyphs, span mm, median glyph height mm) of each text line
    frames: list[str]  # what frame was found, in words
    side_mm: float  # length of straight frame sides found along the text
    unexplained_mm2: float
    unexplained_extent_mm: float
    explained: np.ndarray = field(repr=False)  # bool, search-box frame
    unexplained: np.ndarray = field(repr=False)
    unexplained_stroke_mm: float = 0.0  # length of the unexplained strokes (skeleton)

    @property
    def stamp(self) -> bool:
        """A frame holding glyphs, or several lines of small printed text (handwriting is larger)."""
        if self.frames and self.glyphs >= FRAME_MIN_GLYPHS:
            return True
        small = sum(h <= STAMP_TEXT_MAX_MM for _, _, h in self.lines)
        # a frame half hidden (under the caption, off the page) still shows one long side along its text
        return small >= STAMP_MIN_LINES or (small >= 1 and self.side_mm >= SIDE_MIN_MM)

    @property
    def signature(self) -> bool:
        return ((self.unexplained_mm2 >= SIG_MIN_MM2 or self.unexplained_stroke_mm >= SIG_MIN_STROKE_MM)
                and self.unexplained_extent_mm >= SIG_MIN_EXTENT_MM)


@dataclass
class VetBoxReading:
    stamp: bool
    signature: bool
    layers: list[LayerReading]  # [all ink, colour layers..., darkness layers...]
    signature_layers: list[LayerReading]  # the layers the signature was judged on
    box: tuple[int, int, int, int]  # the search box, form px
    stamp_evidence: str = ""
    signature_evidence: str = ""


def search_box() -> tuple[int, int, int, int]:
    """The vet box's writing area grown by SEARCH_MARGIN_MM, form px."""
    x0, y0, x1, y1 = zones()["vet_stamp_signature"]["writing_area"]
    ml, mt, mr, mb = SEARCH_MARGIN_MM
    return (int((x0 - ml) * PX_PER_MM), int((y0 - mt) * PX_PER_MM),
            int((x1 + mr) * PX_PER_MM), int((y1 + mb) * PX_PER_MM))


def colour_layers(balanced: np.ndarray, ink: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Split ink by colour: black/grey vs coloured, coloured by hue when two inks are far apart."""
    lab = cv2.cvtColor(balanced, cv2.COLOR_BGR2Lab).astype(np.float32)
    a, b = lab[..., 1] - 128, lab[..., 2] - 128
    dark = 255.0 - balanced.min(axis=2).astype(np.float32)
    ratio = np.hypot(a, b) / np.maximum(dark, 1)
    ratio = cv2.medianBlur(np.clip(ratio * 100, 0, 255).astype(np.uint8), 3).astype(np.float32) / 100
    neutral = ink & (ratio < NEUTRAL_RATIO)
    coloured = ink & ~neutral
    min_px = LAYER_MIN_MM2 * PX_PER_MM**2
    lo, hi = NEUTRAL_RATIO * 0.5, NEUTRAL_RATIO * 1.6
    if ((ratio[ink] > lo) & (ratio[ink] < hi)).mean() > AMBIGUOUS_MAX:
        return []  # one ink straddling the limit (blue-black in a dim photo): no honest split
    layers = [("noire", neutral)] if neutral.sum() >= min_px else []
    if coloured.sum() >= min_px:
        hue_img = np.degrees(np.arctan2(b, a))
        hist, edges = np.histogram(hue_img[coloured], bins=36, range=(-180, 180))
        p1 = int(np.argmax(hist))
        dist = np.abs((np.arange(36) - p1 + 18) % 36 - 18) * 10.0
        far = np.where(dist >= HUE_SPLIT_DEG, hist, 0)
        p2 = int(np.argmax(far))
        # the second ink's own mass (its peak ± 20°), not a share of all the ink: a thin signature over a
        # large stamp holds a few % of the ink; and a valley between the peaks (one ink's tail has none)
        near2 = np.abs((np.arange(36) - p2 + 18) % 36 - 18) <= 2
        mass2 = float(hist[near2].sum())
        step = 1 if (p2 - p1) % 36 <= 18 else -1
        between = [hist[(p1 + k * step) % 36] for k in range(1, int(dist[p2] / 10))]
        valley = min(between, default=0)
        if mass2 >= max(min_px, HUE_MIN_SHARE * hist.sum()) and valley <= HUE_VALLEY * hist[p2]:
            c1, c2 = edges[p1] + 5, edges[p2] + 5
            d1 = np.abs((hue_img - c1 + 180) % 360 - 180)
            d2 = np.abs((hue_img - c2 + 180) % 360 - 180)
            layers += [(f"couleur {c1:.0f}°", coloured & (d1 <= d2)), (f"couleur {c2:.0f}°", coloured & (d2 < d1))]
        else:
            layers.append(("couleur", coloured))
    return layers


def darkness_layers(balanced: np.ndarray, ink: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Light strokes vs dark strokes (a stroke's edge takes its core's darkness), when clearly two inks."""
    core = cv2.dilate(255 - balanced.min(axis=2), np.ones((3, 3), np.uint8))
    vals = core[ink]
    if vals.size < LAYER_MIN_MM2 * PX_PER_MM**2 * 2:
        return []
    t, _ = cv2.threshold(vals.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    light, heavy = ink & (core < t), ink & (core >= t)
    share = light.sum() / vals.size
    if not 0.2 <= share <= 0.8 or core[heavy].mean() - core[light].mean() < DARK_SPLIT_MIN:
        return []
    return [("claire", light), ("foncée", heavy)]


def _text_angle(centres: np.ndarray, weights: np.ndarray) -> float:
    """The direction (degrees) along which glyph centres line up best: sharpest projection profile."""
    best, best_score = 0.0, -1.0
    bin_px = 0.5 * PX_PER_MM
    for ang in np.arange(-30, 30.1, 1.5):
        t = np.radians(ang)
        yp = -centres[:, 0] * np.sin(t) + centres[:, 1] * np.cos(t)
        hist = np.bincount(((yp - yp.min()) / bin_px).astype(int), weights=weights)
        score = float((hist**2).sum())
        if score > best_score:
            best, best_score = float(ang), score
    return best


def _angle_candidates(mask: np.ndarray) -> list[float]:
    """Candidate text directions (degrees): the long axis of inked-together words, the sharpest projection
    profile of single letters, and upright. The caller keeps the one along which most glyphs line up."""
    parts, labels = blobs(mask)
    cands = [0.0]
    words = []
    for i, p in enumerate(parts):
        if max(p.w, p.h) > GLYPH_MAX_W_MM * PX_PER_MM or max(p.w, p.h) < 3 * GLYPH_H_MM[0] * PX_PER_MM:
            continue
        ys, xs = np.nonzero(labels[p.y:p.y + p.h, p.x:p.x + p.w] == i + 1)
        (_, _), (a, b), ang = cv2.minAreaRect(np.stack([xs, ys], 1).astype(np.float32))
        long_, short = max(a, b), min(a, b)
        if short <= GLYPH_H_MM[1] * PX_PER_MM and long_ >= 2.5 * short:
            ang = ang if a >= b else ang - 90  # direction of the long side
            ang = (ang + 90) % 180 - 90
            if abs(ang) <= 35:
                words.append((ang, long_))
    if len(words) >= 3:
        angs, wts = np.array(words).T
        order = np.argsort(angs)
        cum = np.cumsum(wts[order])
        cands.append(float(angs[order][np.searchsorted(cum, cum[-1] / 2)]))
    small = [p for p in parts if max(p.w, p.h) <= GLYPH_H_MM[1] * 1.4 * PX_PER_MM]
    if len(small) >= LINE_MIN_GLYPHS:
        cen = np.array([[p.x + p.w / 2, p.y + p.h / 2] for p in small], float)
        cands.append(_text_angle(cen, np.array([p.area for p in small], float)))
    side = long_line_angle(mask)
    if side is not None:
        cands.append(side)
    out: list[float] = []
    for c in cands:
        if all(abs(c - o) > 1.0 for o in out):
            out.append(c)
    return out


def _lines(boxes: list[tuple[int, int, int, int]]) -> list[list[int]]:
    """Group glyph boxes (x, y, w, h) into text lines by their vertical centre."""
    if not boxes:
        return []
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][1] + boxes[i][3] / 2)
    med_h = float(np.median([b[3] for b in boxes]))
    groups, last = [], None
    for i in order:
        cy = boxes[i][1] + boxes[i][3] / 2
        if last is None or cy - last > 0.55 * med_h:
            groups.append([])
        groups[-1].append(i)
        last = cy
    return groups


def _curved_glyph(labels: np.ndarray, label: int, p) -> bool:
    """A glyph or short word at any angle (the text around a round stamp): thin and short whatever its direction."""
    if max(p.w, p.h) > ARC_WORD_MAX_MM * PX_PER_MM or max(p.w, p.h) <= GLYPH_H_MM[1] * PX_PER_MM:
        return False
    ys, xs = np.nonzero(labels[p.y:p.y + p.h, p.x:p.x + p.w] == label)
    (_, _), (a, b), _ = cv2.minAreaRect(np.stack([xs, ys], 1).astype(np.float32))
    return min(a, b) <= ARC_WORD_THICK_MM * PX_PER_MM


def _text_lines(r_mask: np.ndarray, ring: bool = False):
    """Printed glyphs (letters or inked-together words) of a mask whose text runs horizontally, and the
    lines they form: (glyph count, lines, explained mask, bounding box of the lines or None).
    `ring`: a round stamp was found, so words at any angle along it are glyphs too (without a ring, a
    thin piece up to ARC_WORD_MAX_MM long is a signature's stroke as likely as a word)."""
    rparts, rlabels = blobs(r_mask)
    hmin, hmax = GLYPH_H_MM[0] * PX_PER_MM, GLYPH_H_MM[1] * PX_PER_MM
    glyph_ids = [i for i, p in enumerate(rparts) if (hmin <= p.h <= hmax and p.w <= GLYPH_MAX_W_MM * PX_PER_MM)
                 or (ring and _curved_glyph(rlabels, i + 1, p))]
    boxes = [(rparts[i].x, rparts[i].y, rparts[i].w, rparts[i].h) for i in glyph_ids]
    glyphs = np.isin(rlabels, [i + 1 for i in glyph_ids])
    explained = np.zeros(r_mask.shape, bool)
    lines, extent = [], None
    pad = int(0.3 * PX_PER_MM)
    for g in _lines(boxes):
        x0, x1 = min(boxes[i][0] for i in g), max(boxes[i][0] + boxes[i][2] for i in g)
        span = (x1 - x0) / PX_PER_MM
        covered = sum(boxes[i][2] for i in g) / max(1, x1 - x0)
        words = len(g) >= 2 and covered >= LINE_MIN_COVER  # inked-together words: fewer, wider pieces
        y0, y1 = min(boxes[i][1] for i in g), max(boxes[i][1] + boxes[i][3] for i in g)
        med_h = float(np.median([boxes[i][3] for i in g]))
        thin = y1 - y0 <= LINE_MAX_THICK * med_h  # one line, not several read along a wrong direction
        # printed letters are at most GLYPH_H_MM high: a row of taller pieces (a signature's loops,
        # let in as letters of a round stamp's ring) is not a line of print and explains nothing
        printed = med_h <= hmax
        if thin and printed and span >= LINE_MIN_SPAN_MM and (len(g) >= LINE_MIN_GLYPHS or words):
            # the line's band explains the ink that stays within it (letters, their broken pieces), not
            # a stroke that runs across it: a signature crossing the print keeps its crossings
            band = np.zeros(r_mask.shape, bool)
            band[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad] = True
            slack = int(BAND_SLACK * med_h)
            crossing = [i + 1 for i, p in enumerate(rparts) if p.y < y0 - slack or p.y + p.h > y1 + slack]
            explained |= band & ~np.isin(rlabels, crossing)
            explained |= np.isin(rlabels, [glyph_ids[i] + 1 for i in g])
            lines.append((len(g), round(span, 1), round(med_h / PX_PER_MM, 2)))
            extent = _union_box(extent, (x0, y0, x1, y1))
    return len(glyph_ids), lines, explained, extent, glyphs


def _union_box(a, b):
    if a is None or b is None:
        return b if a is None else a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _mask_box(m: np.ndarray):
    ys, xs = np.nonzero(m)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else None


def analyse_layer(name: str, mask: np.ndarray, blind: np.ndarray) -> LayerReading:
    """Stamp model (frame, text lines) and unexplained ink of one layer (bool mask of the search box)."""
    parts, labels = blobs(mask)
    clean = labels > 0
    ink_mm2 = float(clean.sum()) / PX_PER_MM**2
    frame_band = np.zeros(mask.shape, bool)
    frames: list[str] = []
    ring = False
    for finder in (hull_frames, ellipse_frames, hull_frames):  # a ring found may free an inner frame
        band, found = finder(clean & ~frame_band, blind)
        frame_band |= band
        frames += found
        ring |= finder is ellipse_frames and bool(found)
    rest = clean & ~frame_band

    # the stamp's rotation: of the candidate directions, the one along which most glyphs line up
    h, w = mask.shape
    best = None
    for angle in _angle_candidates(rest):
        M = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        r_rest = cv2.warpAffine(rest.astype(np.uint8), M, (w, h), flags=cv2.INTER_NEAREST) > 0
        h_band, v_band, sides = straight_sides(r_rest)  # frame sides along / across the text
        found = _text_lines(r_rest & ~h_band, ring)
        score = sum(n for n, _, _ in found[1]) + h_band.sum() / (SIDE_SCORE_MM2 * PX_PER_MM**2)
        if best is None or score > best[0]:
            best = (score, angle, M, r_rest, h_band, v_band, sides, found)
    _, angle, M, r_rest, h_band, v_band, sides, (n_glyphs, lines, explained, text_box, glyphs) = best
    frames += sides
    inv = cv2.invertAffineTransform(M)
    rot = lambda m: cv2.warpAffine(m.astype(np.uint8), M, (w, h), flags=cv2.INTER_NEAREST) > 0  # noqa: E731
    back = lambda m: cv2.warpAffine(m.astype(np.uint8), inv, (w, h), flags=cv2.INTER_NEAREST) > 0  # noqa: E731
    explained |= h_band

    # where the stamp is (frames, long sides, text lines): short straight sides and frame leftovers are
    # explained there only, so that a zigzag signature beside the stamp is not taken for a frame
    region = np.zeros(mask.shape, bool)
    box = _union_box(_union_box(text_box, _mask_box(rot(frame_band))), _mask_box(h_band))
    if box is not None:
        m = int(REGION_MARGIN_MM * PX_PER_MM)
        region[max(0, box[1] - m):box[3] + m, max(0, box[0] - m):box[2] + m] = True
    # a lone glyph-sized piece is stamp print near the stamp only: elsewhere it is a piece of a signature
    # broken by the box's lines or a thin paraphe's stroke
    # a stroke across the text *between* its first and last letters is not a side of the frame (which
    # stands beyond the text): it is a signature's down-stroke crossing the print
    sides_v = v_band
    if text_box is not None:
        inner = np.zeros(mask.shape, bool)
        m_in = int(INNER_MARGIN_MM * PX_PER_MM)
        inner[:, max(0, text_box[0] + m_in):max(0, text_box[2] - m_in)] = True
        sides_v = v_band & ~inner
    explained |= (sides_v | glyphs) & region
    left = r_rest & ~explained
    remnants, _ = smooth_remnants(left & region)
    explained |= remnants
    left &= ~remnants
    left_parts, _ = blobs(left, min_mm=1.5)
    un_mm2 = sum(p.area for p in left_parts) / PX_PER_MM**2
    un_stroke = sum(stroke_mm(left[p.y:p.y + p.h, p.x:p.x + p.w]) for p in left_parts)
    # a stroke crossing the print is cut where the print was taken out: its pieces, rejoined over such
    # cuts (REJOIN_MM), give the stroke's extent
    kept = np.zeros(left.shape, np.uint8)
    for p in left_parts:
        kept[p.y:p.y + p.h, p.x:p.x + p.w] |= left[p.y:p.y + p.h, p.x:p.x + p.w]
    k = max(1, int(REJOIN_MM * PX_PER_MM)) | 1
    joined, _ = blobs(cv2.dilate(kept, np.ones((k, k), np.uint8)) > 0, min_mm=1.5) if left_parts else ([], None)
    extent = max((max(p.w, p.h) - k + 1 for p in joined), default=0) / PX_PER_MM
    explained_back = (back(explained) | frame_band) & clean
    side_mm = float(h_band.sum()) / (2 * SIDE_BAND_MM * PX_PER_MM**2)
    return LayerReading(name, round(ink_mm2, 1), angle, n_glyphs, lines, frames, round(side_mm, 1), round(un_mm2, 1),
                        round(extent, 1), explained_back, back(left) & clean, round(un_stroke, 1))


def read_vet_box(inkmap: InkMap) -> VetBoxReading:
    """Stamp and signature in the vet box (with its margin), per ink layer and together."""
    box = search_box()
    ink, balanced, blind = crop(inkmap.ink, box), crop(inkmap.balanced, box), crop(inkmap.blind, box)
    union = analyse_layer("toute l'encre", ink, blind)
    by_colour = colour_layers(balanced, ink) if ink.any() else []
    colour = [analyse_layer(n, m, blind) for n, m in by_colour] if len(by_colour) > 1 else []
    dark = [analyse_layer(n, m, blind) for n, m in darkness_layers(balanced, ink)]
    layers = [union] + colour + dark
    # a signature may hide in any layer: alone in its colour (a black stroke over a blue stamp), or as the
    # darker strokes of one colour (a ballpoint over a stamp of the same blue)
    sig_layers = layers
    stamp = any(l.stamp for l in layers)
    signature = any(l.signature for l in sig_layers)
    best = max(layers, key=lambda l: (l.stamp, len(l.lines), len(l.frames), l.glyphs))
    s_ev = (f"encre {best.name}: {len(best.lines)} ligne(s) de texte imprimé "
            f"({', '.join(f'{n} signes sur {s:.0f} mm' for n, s, _ in best.lines) or 'aucune'}), "
            f"{best.glyphs} signes, cadre: {'; '.join(best.frames) or 'aucun'}, rotation {best.angle:+.0f}°")
    top = max(sig_layers, key=lambda l: (l.signature, l.unexplained_mm2))
    g_ev = (f"encre {top.name}: {top.unexplained_mm2:.0f} mm² de tracé hors cachet, "
            f"{top.unexplained_stroke_mm:.0f} mm de trait, plus long trait {top.unexplained_extent_mm:.0f} mm "
            f"(seuils {SIG_MIN_MM2:.0f} mm² ou {SIG_MIN_STROKE_MM:.0f} mm de trait, {SIG_MIN_EXTENT_MM:.0f} mm)")
    return VetBoxReading(stamp, signature, layers, sig_layers, box, s_ev, g_ev)
