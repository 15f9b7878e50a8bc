"""Cue phrases counted in plain text: the matcher behind the issuer's kind, the page's
language and (in extractors.documents) the page-type scores.

Text is folded (extractors/invoice/lines.fold) and cut into lowercase letter-and-digit
tokens per line; a table of (phrase, weight, tag) is matched token by token, the longest
phrase starting at a token winning, so "laboratoire d'analyses vétérinaires" counts once
for the laboratory and not again for "vétérinaire". The tables are data in extractors/vocab.py.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator

from extractors import vocab
from extractors.invoice.lines import fold

CueTable = tuple[tuple[str, float, str], ...]  # (phrase as printed, weight, tag)
_Phrase = tuple[tuple[str, ...], float, str]  # (phrase tokens, weight, tag)

_TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[list[str]]:
    """The folded tokens of each line of `text`."""
    return [_TOKEN.findall(line) for line in fold(text).split("\n")]


@lru_cache(maxsize=32)
def _phrases(table: CueTable) -> dict[str, list[_Phrase]]:
    """First token -> [(phrase tokens, weight, tag)], longest first."""
    index: dict[str, list[_Phrase]] = {}
    for phrase, weight, tag in table:
        toks = tuple(_TOKEN.findall(fold(phrase)))
        if toks:
            index.setdefault(toks[0], []).append((toks, weight, tag))
    for v in index.values():
        v.sort(key=lambda p: -len(p[0]))
    return index


def _matches(toks: list[str], index: dict[str, list[_Phrase]]) -> Iterator[_Phrase]:
    """The phrases found in one line's tokens, left to right, longest first, never overlapping."""
    i = 0
    while i < len(toks):
        for ptoks, weight, tag in index.get(toks[i], ()):
            if tuple(toks[i : i + len(ptoks)]) == ptoks:
                yield ptoks, weight, tag
                i += len(ptoks)
                break
        else:
            i += 1


def count_cues(text: str, table: CueTable, header_lines: int = 0) -> dict[str, float]:
    """Sum of cue weights per tag; longest phrase wins, each phrase counted CUE_MAX_REPEATS times at most,
    phrases in the first `header_lines` lines (the letterhead) counted KIND_HEADER_FACTOR times."""
    index = _phrases(table)
    seen: dict[tuple[str, ...], int] = {}
    out: dict[str, float] = {}
    for n, toks in enumerate(tokens(text)):
        for ptoks, weight, tag in _matches(toks, index):
            seen[ptoks] = seen.get(ptoks, 0) + 1
            if seen[ptoks] <= vocab.CUE_MAX_REPEATS:
                out[tag] = out.get(tag, 0.0) + weight * (vocab.KIND_HEADER_FACTOR if n < header_lines else 1)
    return out


_LANG_TABLE: CueTable = tuple((w, 1.0, lang) for lang, words in vocab.LANG_WORDS.items() for w in words)


def page_language(text: str) -> str:
    """'en' when English words clearly outnumber French ones, else 'fr' (every occurrence counts)."""
    index = _phrases(_LANG_TABLE)
    counts = {"fr": 0.0, "en": 0.0}
    for toks in tokens(text):
        for _, weight, tag in _matches(toks, index):
            counts[tag] += weight
    return "en" if counts["en"] > vocab.LANG_EN_RATIO * counts["fr"] else "fr"
