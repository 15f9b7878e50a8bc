"""The report's figures sections: score histograms, issuers and invoice kinds, care sheet against
invoice, processing time. Optional columns (care_sheet_total_ttc, processing_s) are said to be absent.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from core.messages import KIND_FR
from results import report_charts as charts
from results.report_data import Rows
from results.report_html import image, kpis, money, note, num, table

# Score columns with their range; any other *_confidence column is drawn on 0-100 too.
SCORES = {"readability": ("Lisibilité (0 = illisible, 1 = nette)", (0.0, 1.0)),
          "ocr_confidence": ("Confiance OCR moyenne des mots (0-100)", (0.0, 100.0))}
UNKNOWN_SIRET = "(SIRET inconnu)"
CENT = Decimal("0.01")


def _float(text: str) -> float | None:
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return None


def _amount(text: str) -> Decimal | None:
    try:
        return Decimal(text) if text.strip() else None
    except InvalidOperation:
        return None


def _score_columns(rows: Rows) -> list[str]:
    extra = [c for c in rows.document_columns if c.endswith("_confidence") and c not in SCORES]
    return [*SCORES, *extra]


def scores_section(rows: Rows) -> str:
    """One histogram per score column present, and a summary table."""
    parts, summary = [], []
    for column in _score_columns(rows):
        title, span = SCORES.get(column, (f"{column} (0-100)", (0.0, 100.0)))
        values = [v for v in (_float(d.get(column, "")) for d in rows.documents) if v is not None]
        unknown = len(rows.documents) - len(values)
        if not values:
            parts.append(note(f"{title} : aucune valeur."))
            continue
        parts.append(image(charts.histogram(values, title, column, span=span), title))
        summary.append([column, num(len(values)), num(unknown), num(min(values), 2),
                        num(statistics.median(values), 2), num(max(values), 2)])
    head = table(["Colonne", "Valeurs", "Inconnues", "Min", "Médiane", "Max"], summary) if summary else ""
    return head + "".join(parts)


def _invoice_groups(rows: Rows, key: str) -> dict[str, list[dict[str, str]]]:
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for doc in rows.documents:
        if doc.get("doc_type") == "invoice":
            groups[doc.get(key, "")].append(doc)
    return groups


def _group_row(label: str, docs: list[dict[str, str]]) -> list:
    amounts = [a for a in (_amount(d.get("invoice_total_ttc", "")) for d in docs) if a is not None]
    total = float(sum(amounts, Decimal(0)))
    mean = money(total / len(amounts)) if amounts else None
    dossiers = len({d.get("dossier_id", "") for d in docs})
    return [label, num(len(docs)), num(dossiers), money(total), mean, num(len(docs) - len(amounts))]


def issuers_section(rows: Rows) -> str:
    """Invoices and their TTC amounts per issuer (SIRET) and per invoice kind."""
    by_kind = _invoice_groups(rows, "invoice_kind")
    if not by_kind:
        return note("Aucune facture dans ces résultats.")
    headers = ["Factures", "Dossiers", "Total TTC", "Moyenne TTC", "Montants inconnus"]
    kind_rows = [_group_row(KIND_FR.get(k, k or "(type inconnu)"), docs) for k, docs in sorted(by_kind.items())]
    kind_rows.sort(key=lambda r: -r[3][1])
    chart = charts.horizontal_bars([r[0] for r in kind_rows], [r[3][1] for r in kind_rows],
                                   "Montant TTC par type de facture", "euros TTC")
    siret_rows = [_group_row(s or UNKNOWN_SIRET, docs) for s, docs in _invoice_groups(rows, "vet_siret").items()]
    siret_rows.sort(key=lambda r: (-r[1][1], r[0]))
    return ("<h3>Par type de facture</h3>" + image(chart, "Montant par type de facture")
            + table(["Type", *headers], kind_rows)
            + f"<h3>Par émetteur (SIRET) — {len(siret_rows)} émetteurs</h3>"
            + table(["SIRET", *headers], siret_rows, scroll=True))


def care_sheet_section(rows: Rows) -> str:
    """Per dossier: the total read on the care sheet against the sum of its invoices' TTC."""
    if "care_sheet_total_ttc" not in rows.document_columns:
        return note("Total de la feuille de soins : pas encore lu (colonne care_sheet_total_ttc absente).")
    sheet: dict[str, Decimal] = {}
    invoices: dict[str, Decimal] = defaultdict(Decimal)
    for doc in rows.documents:
        dossier = doc.get("dossier_id", "")
        if doc.get("doc_type") == "care_sheet" and (a := _amount(doc.get("care_sheet_total_ttc", ""))) is not None:
            sheet[dossier] = sheet.get(dossier, Decimal(0)) + a
        if doc.get("doc_type") == "invoice" and (a := _amount(doc.get("invoice_total_ttc", ""))) is not None:
            invoices[dossier] += a
    both = sorted(d for d in sheet if d in invoices)
    if not both:
        return note("Total de la feuille de soins : aucun dossier avec les deux totaux lus.")
    gaps = {d: sheet[d] - invoices[d] for d in both}
    equal = sum(1 for g in gaps.values() if abs(g) < CENT)
    chart = charts.scatter_equal([float(invoices[d]) for d in both], [float(sheet[d]) for d in both],
                                 "Total feuille de soins contre total des factures", "factures (€ TTC)",
                                 "feuille de soins (€ TTC)")
    detail = [[d, money(float(sheet[d])), money(float(invoices[d])), money(float(gaps[d]))] for d in both]
    detail.sort(key=lambda r: -abs(r[3][1]))
    return (kpis([("dossiers comparés", str(len(both))), ("totaux égaux", str(equal)),
                  ("écarts", str(len(both) - equal))])
            + image(chart, "Feuille de soins contre facture")
            + table(["Dossier", "Feuille de soins", "Factures", "Écart"], detail, scroll=True))


def processing_section(rows: Rows) -> str:
    """Seconds per dossier (processing_s): distribution and the slowest dossiers."""
    if "processing_s" not in rows.dossier_columns:
        return note("Temps de traitement par dossier : pas encore mesuré (colonne processing_s absente).")
    timed = [(d.get("dossier_id", ""), v) for d in rows.dossiers if (v := _float(d.get("processing_s", ""))) is not None]
    if not timed:
        return note("Temps de traitement par dossier : aucune valeur.")
    seconds = [v for _, v in timed]
    p90 = statistics.quantiles(seconds, n=10)[-1] if len(seconds) > 1 else seconds[0]
    slowest = sorted(timed, key=lambda t: -t[1])[:20]
    return (kpis([("médiane", f"{num(statistics.median(seconds), 1)[0]} s"), ("90e centile", f"{num(p90, 1)[0]} s"),
                  ("maximum", f"{num(max(seconds), 1)[0]} s"), ("total", f"{num(sum(seconds) / 60, 1)[0]} min")])
            + image(charts.histogram(seconds, "Temps de traitement par dossier", "secondes",
                                    ylabel="dossiers"), "Temps de traitement")
            + "<h3>Les plus lents</h3>"
            + table(["Dossier", "Secondes"], [[d, num(v, 1)] for d, v in slowest]))
