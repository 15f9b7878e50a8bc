"""Invoice fields from any layout: plain functions over the words of a document's pages.

`read_invoice(pages)` takes the `PageText` of each page of one invoice, in order, whoever
read them (PDF text layer or Tesseract), and returns `InvoiceFacts`: the invoice date,
the total incl. VAT, the issuer's SIRET, the kind of issuer, and what came with them.
Each field has its module (dates, amounts, siret, kind); this one runs them over one set of
lines. Deciding whether a page *is* an invoice is not done here but by the page classifier
(extractors/documents/classify.py). All field knowledge (labels, months, VAT rates,
vocabularies) lives in extractors/vocab.py; docs/invoices.md explains how each field is decided.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Sequence

from extractors import vocab
from extractors.invoice.amounts import AMOUNT_LABEL_ROLES, choose_totals, find_amounts, fmt, place_amounts
from extractors.invoice.cues import page_language
from extractors.invoice.dates import choose_invoice_date, find_dates
from extractors.invoice.kind import kind_from, kind_scores
from extractors.invoice.labels import match_labels, said
from extractors.invoice.lines import Line, build_lines, fold
from extractors.invoice.siret import IDENTITY_ROLES, choose_siret, lines_to_reread
from core.messages import KIND_FR
from core.records import InvoiceFacts, InvoiceKind, PageText, TextSource

# Taken as what clean print scores: at or above it OCR costs nothing, below it every field's confidence
# shrinks in proportion (45, the pipeline's legibility floor min_ocr_confidence, halves them).
OCR_CONF_FULL = 90.0  # mean Tesseract confidence at which OCR costs a field nothing


MAX_ITEM_LINES = 60  # a long pharmacy or lab invoice's items; beyond this, footers and tables of terms


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
    kind = kind_from(scores)
    top = max(scores.values())
    ocr_factor = _ocr_factor(pages)
    number, number_conf, number_why = invoice_number(lines, date_hits)
    kind_conf = kind_confidence(kind, top, ocr_factor)
    confidence = {
        "invoice_date": round(date.confidence * ocr_factor, 3),
        "total_ttc": round(totals.confidence * ocr_factor, 3),
        "siret": round(siret.confidence * ocr_factor, 3),
        "kind": round(kind_conf, 3),
        **({"invoice_number": number_conf} if number else {}),
        **{name: round(c * ocr_factor, 3) for name, (c, _why) in totals.parts.items()},
    }
    evidence = {"invoice_date": date.evidence, "total_ttc": totals.evidence, "siret": siret.evidence,
                "kind": _kind_evidence(scores, kind), "invoice_number": number_why,
                **{name: why for name, (_c, why) in totals.parts.items()}}
    return InvoiceFacts(
        invoice_date=date.iso,
        total_ttc=fmt(totals.total_ttc),
        siret=siret.siret,
        kind=kind,
        invoice_number=number,
        total_ht=fmt(totals.total_ht),
        total_tva=fmt(totals.total_tva),
        amount_due=fmt(totals.amount_due),
        confidence=confidence,
        evidence={k: v for k, v in evidence.items() if v},
        siret_failing_luhn=siret.failing_luhn,
        item_lines=tuple(ln.text for ln in lines if amounts[ln.index] and not amount_hits[ln.index]
                         and not date_hits[ln.index] and not id_hits[ln.index])[:MAX_ITEM_LINES],
    )


def kind_confidence(kind: InvoiceKind, top: float, ocr_factor: float) -> float:
    """How sure the kind is, from the weight of the strongest issuer vocabulary found (`top`) against
    KIND_MIN_SCORE. A kind named by its vocabulary: 0.5 at the threshold, 1.0 at twice it. "Other" is
    the absence of any: 1.0 when none was found at all, 0.5 when one came close to the threshold (a vet
    invoice whose letterhead the OCR half lost: 2.3 of 2.5 on the seed-7 set, where shops' receipts
    weigh 0.3-1.3), and no surer than the text was read (absence in a poor reading proves little)."""
    if kind != InvoiceKind.OTHER:
        return min(1.0, top / (2 * vocab.KIND_MIN_SCORE))
    return max(0.0, 1.0 - 0.5 * top / vocab.KIND_MIN_SCORE) * ocr_factor


def _kind_evidence(scores: dict[InvoiceKind, float], kind: InvoiceKind) -> str:
    """What the kind stood by: the weight of each issuer vocabulary found against the threshold."""
    found = [f"{KIND_FR[k]} {v:.1f}" for k, v in sorted(scores.items(), key=lambda kv: -kv[1]) if v > 0]
    return (f"vocabulaire {', '.join(found) or 'aucun'} (seuil {vocab.KIND_MIN_SCORE:g})"
            + ("" if kind != InvoiceKind.OTHER else " : autre émetteur"))


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


NUMBER_NEXT_BONUS = 0.1  # the number printed right after its label ("Facture n° 2017-0010"), not two words on


def invoice_number(lines: Sequence[Line], date_hits: dict[int, list]) -> tuple[str | None, float, str]:
    """The word after 'Facture n°' / 'Invoice' / 'Avoir'... that holds a digit and is not a date, with its
    confidence (the label's weight, its match, how close the number follows it, the word's OCR confidence)
    and its evidence."""
    best: tuple[float, int, str, float, str] | None = None
    for line in lines:
        for h in date_hits.get(line.index, []):
            if h.role != vocab.NUMBER:
                continue
            for i, w in enumerate(line.words[h.last + 1 : h.last + 4]):
                t = re.sub(r"^(?:n[°o]|nº|no\.|#|:)+", "", w.text.strip(), flags=re.I).strip(":.,;")
                if not t or fold(t) in vocab.NUMBER_FILLERS or re.fullmatch(r"\w°", t):
                    continue  # 'n°' and its OCR forms ('0°')
                if not re.search(r"\d", t) or re.fullmatch(r"[\d/.\-]{6,10}", t) and t.count("/") == 2:
                    break
                conf = h.label.weight * h.quality + (NUMBER_NEXT_BONUS if i == 0 else 0.0)
                if line.ocr:
                    conf *= min(1.0, max(0.0, w.conf) / OCR_CONF_FULL)
                key = (h.label.weight, -line.index, t, min(1.0, conf),
                       f"{said(h.label.phrase)} ; {line.place()}")
                if best is None or key[:2] > best[:2]:
                    best = key
                break
    return (best[2], round(best[3], 3), best[4]) if best else (None, 0.0, "")


# --- a second reading ------------------------------------------------------------------------------------
# The fields a second OCR reading (pipeline.document.invoice_fields) is tried for when the first left one
# missing or unsure: what the decision and the checks rest on. Which reading wins is judged on how many of
# FOUND_FIELDS each found, then on how well its words were read.
SECOND_READING_FIELDS = ("invoice_date", "total_ttc")
FOUND_FIELDS = ("invoice_date", "total_ttc", "siret")


def unsure(facts: InvoiceFacts, below: float) -> bool:
    """Whether a field of SECOND_READING_FIELDS is missing or read with confidence under `below`."""
    return any(facts.confidence.get(name, 0.0) < below for name in SECOND_READING_FIELDS)


def stronger(first: InvoiceFacts, second: InvoiceFacts, how: str, *, first_conf: float,
             second_conf: float) -> InvoiceFacts:
    """Of two readings of one invoice's pages, `second` (its evidence saying `how` it was read) when it
    found more of FOUND_FIELDS, or as many from words read with a higher mean confidence (`*_conf`, the
    texts' mean word confidence: the rule that picks between two readings of a page, pipeline.page); else
    `first`. The fields' own confidences do not decide: they weigh labels and position, and two readings of
    one page differ in their words, not in where the fields are."""
    def found(f: InvoiceFacts) -> int:
        return sum(getattr(f, name) is not None for name in FOUND_FIELDS)

    if (found(second), second_conf) <= (found(first), first_conf):
        return first
    return replace(second, evidence={k: f"{v} ; {how}" for k, v in second.evidence.items()})
