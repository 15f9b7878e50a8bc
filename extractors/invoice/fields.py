"""Invoice fields from any layout: plain functions over the words of a document's pages.

`read_invoice(pages)` takes the `PageText` of each page of one invoice, in order, whoever
read them (PDF text layer or Tesseract), and returns `InvoiceFacts`: the invoice date,
the total incl. VAT, the issuer's SIRET, the kind of issuer, and what came with them.
`invoice_score` / `prescription_score` / `invoice_kind` read plain text and serve the
page classifier. All field knowledge (labels, months, VAT rates, vocabularies) lives in
extractors/vocab.py; docs/invoices.md explains how each field is decided.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

from extractors import vocab
from extractors.invoice.amounts import AMOUNT_LABEL_ROLES, choose_totals, find_amounts, fmt, place_amounts
from extractors.invoice.dates import choose_invoice_date, find_dates
from extractors.invoice.labels import match_labels
from extractors.invoice.lines import Line, build_lines, fold
from extractors.invoice.siret import IDENTITY_ROLES, choose_siret, lines_to_reread
from intake.core.records import InvoiceFacts, InvoiceKind, PageText, TextSource

_TOKEN = re.compile(r"[a-z0-9]+")
_MONEY = re.compile(r"\d[\d .]*[,.]\d{2} ?(?:€|eur\b)")
OCR_CONF_FULL = 90.0  # mean Tesseract confidence at which OCR costs a field nothing


def read_invoice(pages: Sequence[PageText]) -> InvoiceFacts:
    """Read one invoice (its pages in order) into InvoiceFacts; fields not found are None."""
    lines = build_lines(pages)
    if not lines:
        return InvoiceFacts(confidence={})
    text = "\n".join(line.text for line in lines)
    date_roles = vocab.DATE_ROLES | {vocab.NEUTRAL}
    date_hits = {ln.index: match_labels(ln, date_roles) for ln in lines}
    amount_hits = {ln.index: match_labels(ln, AMOUNT_LABEL_ROLES) for ln in lines}
    id_hits = {ln.index: match_labels(ln, IDENTITY_ROLES) for ln in lines}
    dates = {ln.index: find_dates(ln) for ln in lines}
    amounts = {ln.index: find_amounts(ln, [(d.start, d.end) for d in dates[ln.index]]) for ln in lines}

    date = choose_invoice_date(
        lines, dates, date_hits, {i: len(a) for i, a in amounts.items()}, page_language(text)
    )
    totals = choose_totals(place_amounts(lines, amounts, amount_hits))
    siret = choose_siret(lines, id_hits)
    scores = kind_scores(text)
    kind = _kind_from(scores)
    top = max(scores.values())
    ocr_factor = _ocr_factor(pages)
    confidence = {
        "invoice_date": round(date.confidence * ocr_factor, 3),
        "total_ttc": round(totals.confidence * ocr_factor, 3),
        "siret": round(siret.confidence * ocr_factor, 3),
        "kind": round(min(1.0, top / (2 * vocab.KIND_MIN_SCORE)) if kind != InvoiceKind.OTHER else 0.5, 3),
    }
    return InvoiceFacts(
        invoice_date=date.iso,
        total_ttc=fmt(totals.total_ttc),
        siret=siret.siret,
        kind=kind,
        invoice_number=invoice_number(lines, date_hits),
        total_ht=fmt(totals.total_ht),
        total_tva=fmt(totals.total_tva),
        amount_due=fmt(totals.amount_due),
        confidence=confidence,
    )


def siret_lines(pages: Sequence[PageText], limit: int) -> list[tuple[int, tuple[int, int, int, int]]]:
    """Where on the pages a second, closer reading may find the SIRET: (page index, line box x0, y0, x1, y1)."""
    lines = build_lines(pages)
    hits = {ln.index: match_labels(ln, IDENTITY_ROLES) for ln in lines}
    return [(ln.page, (min(w.left for w in ln.words), min(w.top for w in ln.words),
                       max(w.right for w in ln.words), max(w.top + w.height for w in ln.words)))
            for ln in lines_to_reread(lines, hits, limit)]


def _ocr_factor(pages: Sequence[PageText]) -> float:
    confs = [p.mean_conf for p in pages if p.source == TextSource.OCR and p.mean_conf is not None]
    if not confs:
        return 1.0
    return min(1.0, (sum(confs) / len(confs)) / OCR_CONF_FULL)


def invoice_number(lines: Sequence[Line], date_hits: dict[int, list]) -> str | None:
    """The word after 'Facture n°' / 'Invoice' / 'Avoir'... that holds a digit and is not a date."""
    best: tuple[float, int, str] | None = None
    for line in lines:
        for h in date_hits.get(line.index, []):
            if h.role != vocab.NUMBER:
                continue
            for w in line.words[h.last + 1 : h.last + 4]:
                t = re.sub(r"^(?:n[°o]|nº|no\.|#|:)+", "", w.text.strip(), flags=re.I).strip(":.,;")
                if not t or fold(t) in vocab.NUMBER_FILLERS or re.fullmatch(r"\w°", t):
                    continue  # 'n°' and its OCR forms ('0°')
                if not re.search(r"\d", t) or re.fullmatch(r"[\d/.\-]{6,10}", t) and t.count("/") == 2:
                    break
                key = (h.label.weight, -line.index, t)
                if best is None or key[:2] > best[:2]:
                    best = key
                break
    return best[2] if best else None


# --- text cues: kind of issuer, invoice or prescription ------------------------------------


def _tokens(text: str) -> list[list[str]]:
    return [_TOKEN.findall(line) for line in fold(text).split("\n")]


@lru_cache(maxsize=32)
def _phrases(table: tuple[tuple[str, float, str], ...]) -> dict[str, list[tuple[tuple[str, ...], float, str]]]:
    """First token -> [(phrase tokens, weight, tag)], longest first."""
    index: dict[str, list[tuple[tuple[str, ...], float, str]]] = {}
    for phrase, weight, tag in table:
        toks = tuple(_TOKEN.findall(fold(phrase)))
        if toks:
            index.setdefault(toks[0], []).append((toks, weight, tag))
    for v in index.values():
        v.sort(key=lambda p: -len(p[0]))
    return index


def _count(text: str, table: tuple[tuple[str, float, str], ...], header_lines: int = 0) -> dict[str, float]:
    """Sum of cue weights per tag; longest phrase wins, each phrase counted CUE_MAX_REPEATS times at most,
    phrases in the first `header_lines` lines (the letterhead) counted double."""
    index = _phrases(table)
    seen: dict[tuple[str, ...], int] = {}
    out: dict[str, float] = {}
    for n, toks in enumerate(_tokens(text)):
        i = 0
        while i < len(toks):
            for ptoks, weight, tag in index.get(toks[i], ()):
                if tuple(toks[i : i + len(ptoks)]) == ptoks:
                    seen[ptoks] = seen.get(ptoks, 0) + 1
                    if seen[ptoks] <= vocab.CUE_MAX_REPEATS:
                        out[tag] = out.get(tag, 0.0) + weight * (vocab.KIND_HEADER_FACTOR if n < header_lines else 1)
                    i += len(ptoks)
                    break
            else:
                i += 1
    return out


_KIND_TABLE = tuple((p, w, kind) for kind, items in vocab.KIND_VOCAB.items() for p, w in items)


def kind_scores(text: str) -> dict[InvoiceKind, float]:
    """Weight of each issuer vocabulary in the text (letterhead lines count double)."""
    raw = _count(text, _KIND_TABLE, vocab.KIND_HEADER_LINES)
    return {k: raw.get(k.value, 0.0) for k in (InvoiceKind.VETERINARY, InvoiceKind.PHARMACY, InvoiceKind.LABORATORY)}


def _kind_from(scores: dict[InvoiceKind, float]) -> InvoiceKind:
    kind, best = max(scores.items(), key=lambda kv: kv[1])
    return kind if best >= vocab.KIND_MIN_SCORE else InvoiceKind.OTHER


def invoice_kind(text: str) -> InvoiceKind:
    """veterinary / pharmacy / laboratory from the issuer's vocabulary, else other."""
    return _kind_from(kind_scores(text))


def _doc_table() -> tuple[tuple[str, float, str], ...]:
    return (
        tuple((p, w, "invoice") for p, w in vocab.INVOICE_CUES)
        + tuple((p, w, "prescription") for p, w in vocab.PRESCRIPTION_CUES)
        + tuple((p, w, "care_sheet") for p, w in vocab.CARE_SHEET_CUES)
    )


_DOC_TABLE = _doc_table()


def care_sheet_cues(text: str) -> float:
    """Raw weight of our form's printed titles ("feuille de soins", "partie médicale"...) in the text."""
    return _count(text, _DOC_TABLE).get("care_sheet", 0.0)


def invoice_score(text: str) -> float:
    """0..1: how much the text reads like an invoice or receipt (a care sheet scores 0)."""
    raw = _count(text, _DOC_TABLE)
    money = min(len(_MONEY.findall(fold(text))), vocab.CUE_MAX_REPEATS) * vocab.INVOICE_MONEY_WEIGHT
    net = raw.get("invoice", 0.0) + money - raw.get("care_sheet", 0.0)
    return max(0.0, min(1.0, net / vocab.INVOICE_SCORE_SATURATION))


def prescription_score(text: str) -> float:
    """0..1: how much the text reads like a prescription (ordonnance, Rp, posologie...)."""
    raw = _count(text, _DOC_TABLE)
    net = raw.get("prescription", 0.0) - raw.get("care_sheet", 0.0)
    return max(0.0, min(1.0, net / vocab.PRESCRIPTION_SCORE_SATURATION))


def _text(pages: Sequence[PageText]) -> str:
    return "\n".join(line.text for line in build_lines(pages))


def is_invoice(pages: Sequence[PageText]) -> bool:
    """True when the pages read as an invoice (and more as an invoice than as a prescription)."""
    text = _text(pages)
    inv = invoice_score(text)
    return inv >= vocab.INVOICE_SCORE_THRESHOLD and inv >= prescription_score(text)


def is_prescription(pages: Sequence[PageText]) -> bool:
    """True when the pages read as a prescription rather than an invoice that mentions one."""
    text = _text(pages)
    pre = prescription_score(text)
    return pre >= vocab.PRESCRIPTION_SCORE_THRESHOLD and pre > invoice_score(text)


def page_language(text: str) -> str:
    """'en' when English words clearly outnumber French ones, else 'fr'."""
    table = tuple((w, 1.0, lang) for lang, words in vocab.LANG_WORDS.items() for w in words)
    index = _phrases(table)
    counts = {"fr": 0.0, "en": 0.0}
    for toks in _tokens(text):
        i = 0
        while i < len(toks):
            for ptoks, weight, tag in index.get(toks[i], ()):
                if tuple(toks[i : i + len(ptoks)]) == ptoks:
                    counts[tag] += weight
                    i += len(ptoks) - 1
                    break
            i += 1
    return "en" if counts["en"] > vocab.LANG_EN_RATIO * counts["fr"] else "fr"
