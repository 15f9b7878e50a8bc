"""Words with boxes -> visual lines (label matching on them: extractors/invoice/labels.py).

Whoever read the page (PDF text layer or Tesseract), the invoice reader sees the same
thing: `Line`s in reading order, each with its words left to right, the raw text, and
folded views of it (lowercase, accents off, OCR look-alikes turned into digits inside
numbers) of the *same length*, so a regex match on a folded view maps back to words
and boxes. Tesseract splits one printed line into several when columns are far apart;
we merge them back by vertical overlap after undoing the page's skew, so that a label
and its value sit on one line again.
"""
from __future__ import annotations

import bisect
import re
import statistics
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from extractors import vocab
from core.records import PageText, TextSource, Word

MAX_SKEW = 0.1  # |slope| above this (5.7°) is not skew but a bad estimate: ignore it
# Two word groups share a line when they overlap this much of the smaller height: a label and its value
# far apart still do, the lines above and below at normal spacing do not overlap at all.
LINE_OVERLAP = 0.5
# In line heights: more blank space than this between two lines ends a block / a label's reach; well
# beyond normal line spacing (about half a height), so only a blank line or more breaks a block.
BLOCK_GAP = 3.0
_DIGITISABLE = re.compile(r"[0-9%s]{2,}" % re.escape("".join(vocab.OCR_DIGIT_LOOKALIKES)))


@dataclass(frozen=True, slots=True)
class Line:
    """One visual line of one page: words left to right and text views of equal length."""

    index: int  # position in the document, reading order across pages
    page: int  # 0-based page index in the document
    words: tuple[Word, ...]
    text: str  # words joined by single spaces, as read
    fold: str  # lowercased, accents stripped: for words and dates
    num: str  # `fold` with OCR look-alikes inside digit runs turned into digits: for numbers
    starts: tuple[int, ...]  # offset of each word in the texts
    keys: tuple[str, ...]  # each word folded to letters and digits only, for label matching
    top: float  # deskewed, pixels
    bottom: float
    page_width: int
    page_height: int
    ocr: bool

    @property
    def height(self) -> float:
        return max(1.0, self.bottom - self.top)

    @property
    def y_share(self) -> float:
        """Vertical position of the line on its page, 0 (top) to 1 (bottom), whatever boxes a reader gives."""
        return min(1.0, max(0.0, ((self.top + self.bottom) / 2) / max(1, self.page_height)))

    def word_span(self, start: int, end: int) -> tuple[int, int]:
        """Indices of the first and last word touched by the character span [start, end)."""
        first = bisect.bisect_right(self.starts, start) - 1
        last = bisect.bisect_right(self.starts, max(start, end - 1)) - 1
        return max(0, first), max(0, last)

    def x_range(self, first: int, last: int) -> tuple[int, int]:
        ws = self.words[first : last + 1]
        return min(w.left for w in ws), max(w.right for w in ws)

    def place(self) -> str:
        """Where the line is, for the operator's evidence: 'p. 1, zone 120,340-560,372' (pixels of the page read)."""
        x0, x1 = self.x_range(0, len(self.words) - 1)
        y0, y1 = min(w.top for w in self.words), max(w.top + w.height for w in self.words)
        return f"p. {self.page + 1}, zone {x0},{y0}-{x1},{y1}"

    def conf(self, first: int, last: int) -> float:
        """Mean word confidence of words first..last, 0..1."""
        ws = self.words[first : last + 1]
        return sum(max(0.0, w.conf) for w in ws) / (100.0 * len(ws)) if ws else 0.0


# --- text views ---------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    base = "".join(ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch))
    out = base[:1].lower()[:1] if base else c  # exactly one character: offsets must not move
    return {"’": "'", "‘": "'", "−": "-", "–": "-", "—": "-", "\u00a0": " ", "\u202f": " "}.get(out, out or c)


def fold(text: str) -> str:
    """Lowercase, accents stripped, typographic quotes and dashes plain; same length as `text`."""
    return "".join(_fold_char(c) for c in text)


def compact(text: str) -> str:
    """Letters and digits only, folded: 'Total T.T.C. :' -> 'totalttc'."""
    return "".join(c for c in fold(text) if c.isalnum())


def digitise(text: str) -> str:
    """Turn OCR look-alikes (O, l, S...) into digits inside runs that are mostly digits.

    '1O4,5O' -> '104,50'; 'SIRET' and 'Total' are left alone (no digit in the run)."""

    def fix(m: re.Match) -> str:
        run = m.group(0)
        digits = sum(c.isdigit() for c in run)
        if digits == 0 or digits < len(run) - digits:
            return run
        return "".join(vocab.OCR_DIGIT_LOOKALIKES.get(c, c) for c in run)

    return _DIGITISABLE.sub(fix, text)


# --- lines ----------------------------------------------------------------------------------


def _split_glued(w: Word) -> list[Word]:
    """'Date:28/11/2022' -> 'Date:' + '28/11/2022' (boxes shared by character count)."""
    m = re.match(r"^([^\W\d_][\w'’.°]*:)(\S+)$", w.text)
    if not m:
        return [w]
    cut = len(m.group(1)) / len(w.text)
    left_w = max(1, int(w.width * cut))
    return [
        Word(m.group(1), w.left, w.top, left_w, w.height, w.conf, w.line),
        Word(m.group(2), w.left + left_w, w.top, max(1, w.width - left_w), w.height, w.conf, w.line),
    ]


def _skew(words: Sequence[Word]) -> float:
    """Median slope (dy/dx) of the reader's own lines: undoes a scan's tilt before grouping."""
    groups: dict[int, list[Word]] = {}
    for w in words:
        groups.setdefault(w.line, []).append(w)
    slopes = []
    for ws in groups.values():
        if len(ws) < 3:
            continue
        xs = [w.left + w.width / 2 for w in ws]
        ys = [w.top + w.height / 2 for w in ws]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        if sxx <= 0:
            continue
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
        h = statistics.median(w.height for w in ws)
        if max(abs(y - my - slope * (x - mx)) for x, y in zip(xs, ys)) > 0.6 * h:
            continue  # not one straight line of text (a reader that numbers lines differently)
        slopes.append(slope)
    if not slopes:
        return 0.0
    s = statistics.median(slopes)
    return s if abs(s) <= MAX_SKEW else 0.0


def _page_lines(pt: PageText) -> tuple[float, list[list[Word]]]:
    """The page's skew and its words grouped into visual lines (top to bottom), each left to right."""
    words = [p for w in pt.words if w.text.strip() for p in _split_glued(w)]
    slope = _skew(words) if pt.source == TextSource.OCR else 0.0

    def dy(w: Word) -> float:
        return slope * (w.left + w.width / 2)

    units: dict[int, list[Word]] = {}
    for w in words:
        units.setdefault(w.line, []).append(w)
    parts: list[list[Word]] = []
    for ws in units.values():
        centres = [w.top + w.height / 2 - dy(w) for w in ws]
        if max(centres) - min(centres) > statistics.median(w.height for w in ws):
            parts.extend([w] for w in ws)  # the reader's "line" spans several: regroup its words one by one
        else:
            parts.append(ws)
    boxes = []
    for ws in parts:
        top = statistics.median(w.top - dy(w) for w in ws)
        bottom = statistics.median(w.bottom - dy(w) for w in ws)
        boxes.append((top, bottom, ws))
    boxes.sort(key=lambda b: (b[0] + b[1]) / 2)
    merged: list[tuple[float, float, list[Word]]] = []
    for top, bottom, ws in boxes:
        if merged:
            mt, mb, mws = merged[-1]
            overlap = min(mb, bottom) - max(mt, top)
            if overlap >= LINE_OVERLAP * min(mb - mt, bottom - top):
                mws.extend(ws)
                continue
        merged.append((top, bottom, list(ws)))
    return slope, [sorted(ws, key=lambda w: w.left) for _, _, ws in merged]


def build_lines(pages: Sequence[PageText]) -> list[Line]:
    """The visual lines of a document's pages, in reading order (page by page, top to bottom)."""
    out: list[Line] = []
    for p, pt in enumerate(pages):
        ocr = pt.source == TextSource.OCR
        slope, groups = _page_lines(pt)
        for ws in groups:
            starts, parts, pos = [], [], 0
            for w in ws:
                starts.append(pos)
                parts.append(w.text)
                pos += len(w.text) + 1
            text = " ".join(parts)
            folded = fold(text)
            tops = [w.top - slope * (w.left + w.width / 2) for w in ws]
            bottoms = [w.bottom - slope * (w.left + w.width / 2) for w in ws]
            out.append(
                Line(
                    index=len(out), page=p, words=tuple(ws), text=text, fold=folded,
                    num=fold(digitise(text)), starts=tuple(starts), keys=tuple(compact(w.text) for w in ws),
                    top=statistics.median(tops), bottom=statistics.median(bottoms),
                    page_width=pt.width, page_height=pt.height, ocr=ocr,
                )
            )
    return out


def lines_above(lines: Sequence[Line], line: Line, max_lines: int) -> list[Line]:
    """Up to `max_lines` lines just above `line` on the same page, nearest first."""
    out = []
    for i in range(line.index - 1, max(-1, line.index - 1 - max_lines), -1):
        if lines[i].page != line.page:
            break
        out.append(lines[i])
    return out


def x_overlap(a: tuple[int, int], b: tuple[int, int], slack: float = 0.0) -> float:
    """Horizontal overlap in pixels of two ranges, each widened by `slack` on both sides."""
    return min(a[1], b[1]) + slack - (max(a[0], b[0]) - slack)


def is_value_only(line: Line, first: int, last: int) -> bool:
    """True when words first..last hold no letters except currency marks: a bare value cell."""
    for key in line.keys[first : last + 1]:  # compact(w.text) of each word, made once per line
        letters = "".join(c for c in key if c.isalpha())
        if letters and letters not in vocab.CURRENCY_WORDS and letters not in vocab.OCR_CURRENCY_LOOKALIKES:
            return False
    return True
