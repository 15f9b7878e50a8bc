"""Labels on a line: which words of a visual line are "Total TTC", "Date d'échéance", "SIRET"...

The labels themselves are data (extractors/vocab.py). Matching folds case, accents and
punctuation; on OCR text it also accepts near matches; and where matches overlap it keeps
the reading of the line that explains it best (see match_labels).
"""
from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Iterable

from extractors import vocab
from extractors.invoice.lines import Line, compact, fold
from extractors.vocab import Label

# In line heights: a wider gap between two words is a column break, not one label (a word space is a
# fraction of a height).
LABEL_MAX_GAP = 1.5


@dataclass(frozen=True, slots=True)
class LabelHit:
    label: Label
    first: int  # word indices, inclusive
    last: int
    quality: float  # 1.0 exact, else the fuzzy ratio

    @property
    def role(self) -> str:
        return self.label.role


@lru_cache(maxsize=1)
def said(phrase: str | None, where: str = "") -> str:
    """The evidence's words for what a value stood by: « étiquette « Total TTC » », or that no label did."""
    return f"étiquette « {phrase} »{where}" if phrase else "sans étiquette"


@lru_cache(maxsize=1)  # vocab.LABELS is constant: built once (it was rebuilt per line, ~5 % of a run's CPU)
def _tables() -> tuple[dict[str, list[tuple[Label, int]]], dict[int, list[tuple[Label, str, int]]], int]:
    """Labels indexed for matching: by compact phrase (exact), by phrase length (fuzzy), max words."""
    exact: dict[str, list[tuple[Label, int]]] = {}
    by_len: dict[int, list[tuple[Label, str, int]]] = {}
    max_words = 1
    for lab in vocab.LABELS:
        key = compact(lab.phrase)
        if not key:
            continue
        nw = len(fold(lab.phrase).replace("'", " ").split())
        max_words = max(max_words, nw)
        exact.setdefault(key, []).append((lab, nw))
        if len(key) >= vocab.FUZZY_MIN_CHARS:
            by_len.setdefault(len(key), []).append((lab, key, nw))
    return exact, by_len, max_words


@lru_cache(maxsize=4096)  # the field families and the lookups above a value ask for the same lines
def _candidates(line: Line) -> tuple[LabelHit, ...]:
    """Every label occurrence on the line, overlapping ones included."""
    exact, by_len, max_words = _tables()
    keys, n = line.keys, len(line.keys)
    found: list[LabelHit] = []
    for i in range(n):
        if not keys[i]:
            continue
        win = ""
        for j in range(i, min(n, i + max_words + 2)):
            if j > i and line.words[j].left - line.words[j - 1].right > LABEL_MAX_GAP * line.height:
                break  # "Date      Échéance" are two header cells, not "Date d'échéance"
            win += keys[j]
            k = j - i + 1
            if not keys[j]:
                continue
            for lab, nw in exact.get(win, ()):
                if nw - 1 <= k <= nw + 2:
                    found.append(LabelHit(lab, i, j, 1.0))
            if not line.ocr or len(win) < vocab.FUZZY_MIN_CHARS - 1:
                continue
            # OCR only: near matches ('Total TIC', 'Regle'). Cheap filters first: length, then
            # the first letter or the next two must agree (OCR rarely garbles both).
            slack = max(1, len(win) // 5)
            for length in range(len(win) - slack, len(win) + slack + 1):
                for lab, key, nw in by_len.get(length, ()):
                    if key == win or not (nw - 1 <= k <= nw + 2):
                        continue
                    if key[0] != win[0] and key[1:3] != win[1:3]:
                        continue
                    q = SequenceMatcher(None, win, key, autojunk=False).ratio()
                    if q >= vocab.FUZZY_MIN_RATIO:
                        found.append(LabelHit(lab, i, j, q))
    return tuple(found)


@lru_cache(maxsize=1024)
def _key_len(phrase: str) -> int:
    return len(compact(phrase))


HIT_COST = 0.5  # per label in a reading: one long label beats the same words cut into short ones


def match_labels(line: Line, roles: Iterable[str]) -> list[LabelHit]:
    """The best non-overlapping reading of a line as labels of these roles, left to right.

    A label matches a window of consecutive words whose letters and digits equal the
    label's (or, on OCR text, come within difflib ratio FUZZY_MIN_RATIO for labels of
    FUZZY_MIN_CHARS or more). Among overlapping matches we keep the set that explains
    the most characters (fuzzy ones discounted by their ratio squared, each label costing
    HIT_COST): "Total HT" beats "Total", "Date d'échéance" beats "Date", and an OCR'd
    "Montant | Total HT" reads as "Montant" + "Total HT", not as a fuzzy "Montant total TTC"."""
    roles = frozenset(roles)
    cands = [h for h in _candidates(line) if h.role in roles]
    if not cands:
        return []
    n = len(line.keys)

    def gain(h: LabelHit) -> float:
        return _key_len(h.label.phrase) * h.quality**2 - HIT_COST + 0.01 * h.label.weight

    # Weighted interval scheduling over word positions: best[j] = best reading of words < j.
    ends: dict[int, list[LabelHit]] = {}
    for h in cands:
        ends.setdefault(h.last + 1, []).append(h)
    best: list[tuple[float, tuple[LabelHit, ...]]] = [(0.0, ())] * (n + 1)
    for j in range(1, n + 1):
        best[j] = best[j - 1]
        for h in ends.get(j, ()):
            score = best[h.first][0] + gain(h)
            if score > best[j][0]:
                best[j] = (score, best[h.first][1] + (h,))
    return list(best[n][1])
