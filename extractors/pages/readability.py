"""Readability: can a person (and Tesseract) read this page? 0.0-1.0 with the defects that lowered it.

Cheap pixel measures taken on the text itself, not on the whole page (readability_measures.py): the
height of each text line's characters in pixels (resolution; the small print counts, it is what fails
first), edge width at the text relative to those heights (focus), paper and ink levels
(exposure, contrast), noise, JPEG blocking, text cut by the frame. Each becomes a sub-score in
0..1 here; the page score is their product. The curves and the threshold come from
bench/calibrate_readability.py (Tesseract's character accuracy on degraded pages with known
text); docs/readability.md has the method and the figures. Score the normalised page image.
"""
from __future__ import annotations

import numpy as np

from extractors.pages.readability_measures import SIZE_QUANTILES, measure
from core.records import Readability
from core.settings import Settings

# Client-facing words for each defect (the one place they are spelled).

# --- the judgement (the measures' own constants are in readability_measures.py) -------------------
# On our own care-sheet form the smallest print is the form's captions, which we know by heart: what must
# be read is what people wrote and stamped on it, the larger shares.
FORM_QUANTILES = (70, 90)
CHAR_REF_PX = 20.0  # blur is judged against the character height, but no larger than this (blurred
# text merges into blobs that look taller than any character)...
PITCH_SHARE = 0.5  # ...or than this share of the distance between lines (characters are ~0.35-0.45 of it,
# blurred blobs of small print ~0.65; a line pitch is not changed by blur)

# Sub-score curves: logistic(value; midpoint, width), fitted on the calibration pages
# (bench/calibrate_readability.py). Each maps one measure to how well text is still read with
# that defect alone; the page score is their product.
CURVES: dict[str, tuple[float, float]] = {
    "low_resolution": (4.5, 1.0),  # height of a text line's characters (dark cores), px; averaged over SIZE_QUANTILES.
    # 4.5, not 6: small print is OCRed enlarged (small_text.py), and the calibration pages at 4 px cores read
    # 0.65-0.93 of their characters so (0.0 before); at 3 px ~0.6, still under the 0.9 target
    "blur": (-0.21, 0.02),  # minus (edge width - sharp edge) / character height, per SIZE_QUANTILES share
    "low_contrast": (2.6, 0.1),  # log2 contrast-to-noise ratio (dark, noisy and faded pages alike)
    # paper level (0..1, sRGB grey). Not fitted on Tesseract (which reads a page exposed at 5 %) but set
    # by who must read the page next, a claims handler: WCAG's minimum contrast for large text (3:1)
    # needs paper of relative luminance 0.10 under black ink, sRGB grey ~0.35; at ~0.25 the ratio is
    # ~2:1 and the page is too dark for a person to read on screen.
    "dark": (0.25, 0.025),
    "compression": (-1.7, 0.05),  # minus JPEG blockiness ratio (Tesseract shrugs off all but the worst)
    "cut_off": (-2.0, 0.5),  # minus characters cut by the frame (one may be a speck; three are lines cut)
}
# `dark` is not fitted on Tesseract but set by a person's eye: it must reject the page, yet it says
# nothing of how much text is there. It lowers the score by its factor, but never under this share of
# the threshold or what the other measures say, whichever is lower (routing is the same either way).
GATE_CAP_SHARE = 0.9
DEFECT_BELOW = 0.8  # a sub-score under this names its defect: that defect alone costs over a fifth of the text
SHARP_EDGE_PX = 2.0  # a perfectly sharp edge still measures ~2 px (pixel grid, anti-aliasing)
FAINT_INK = 0.02  # ink at least this much darker than paper but no characters found: faint, not blank
DARK_PAPER, BURNT_SHARE = 0.35, 0.5  # low contrast on paper darker than this is "dark" (sRGB grey ~0.35:
# WCAG's 3:1 under black ink, see CURVES); on paper burnt out at this share, "overexposed"


def _logistic(x: float, mid: float, width: float) -> float:
    return float(1.0 / (1.0 + np.exp(-(x - mid) / width)))


def score_readability(image: np.ndarray, settings: Settings, *, form: bool = False,
                      footprint: np.ndarray | None = None) -> Readability:
    """Readability of a page image: score 0.0 (unreadable) to 1.0 (clean), named defects, raw metrics.
    `form`: the page is our care-sheet form (its printed captions are not what must be read, and a cut is
    judged by the zones it hides). `footprint`: see `measure`. A degenerate image (a few pixels, one row)
    measures as no text; a measure that raises is a bug and propagates."""
    return judge(measure(image, footprint), settings.readability_threshold, form=form)


def judge(m: dict[str, float], threshold: float, *, form: bool = False) -> Readability:
    """Score and defects from the measures of `measure` (kept apart so calibration can re-score)."""
    if "char_height_px" not in m:  # no text found: blank, black, or ink too faint to find
        return Readability(0.0, (_faint_why(m) if m.get("ink_depth", 0.0) >= FAINT_INK else "no_text",), dict(m))
    # Size and focus are judged on each share of the text at its own height (small print fails
    # first): the expected share of characters that are big enough, and of those, sharp enough.
    quantiles = FORM_QUANTILES if form else SIZE_QUANTILES
    heights = [m[f"char_h_p{q}"] for q in quantiles if f"char_h_p{q}" in m] or [m["char_height_px"]]
    edge_excess = max(m.get("edge_width_px", m["char_height_px"]) - SHARP_EDGE_PX, 0.0)
    res = np.array([_logistic(h, *CURVES["low_resolution"]) for h in heights])
    # Blur: edge width beyond what a sharp edge measures anyway, per pixel of character height.
    # Blurred print swells into blobs taller than its characters, so heights are trusted only up to a
    # cap: CHAR_REF_PX, or a share of the line pitch when the lines stand far apart (large print).
    ref_cap = max(CHAR_REF_PX, PITCH_SHARE * m.get("line_pitch_px", 0.0))
    blurs = np.array([edge_excess / min(h, ref_cap) for h in heights])
    foc = np.array([_logistic(-b, *CURVES["blur"]) for b in blurs])
    subs = {"low_resolution": float(res.mean()),
            # at the pixel floor a small image is a resolution problem, not a focus one
            "blur": float((res * foc).mean() / max(res.mean(), 1e-6))}
    blur = float(np.median(blurs))
    values = {
        "low_contrast": m.get("cnr_log2", 0.0),
        "dark": m["paper_level"],
        "compression": -m["blockiness"],
        "cut_off": -m["cut_chars"],
    }
    subs.update({k: _logistic(values[k], *CURVES[k]) for k in values})
    # On our own form a cut is judged zone by zone (validators.care_sheet.rule_located names the decisive
    # zones the image does not show): print cut in its margins costs nothing. Elsewhere it is lost text.
    machine = float(np.prod([v for k, v in subs.items() if k != "dark" and not (form and k == "cut_off")]))
    score = max(machine * subs["dark"], min(machine, GATE_CAP_SHARE * threshold))
    defects = sorted((k for k, v in subs.items() if v < DEFECT_BELOW), key=lambda k: subs[k])
    if score < threshold and not defects:
        defects = [min(subs, key=subs.get)]
    # Faint text: say why, as a person would see it.
    if "low_contrast" in defects:
        why = _faint_why(m)
        defects = list(dict.fromkeys(why if d == "low_contrast" else d for d in defects))
    out = dict(m)
    out.update({f"sub_{k}": v for k, v in subs.items()}, blur_excess=blur)
    return Readability(round(score, 4), tuple(defects), out)


def _faint_why(m: dict[str, float]) -> str:
    """Why text is faint, as a person would say it: dark photo, burnt-out photo, or pale print."""
    if m.get("paper_level", 1.0) < DARK_PAPER:
        return "dark"
    return "overexposed" if m.get("burnt_paper", 0.0) >= BURNT_SHARE else "low_contrast"
