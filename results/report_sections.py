"""The report's first sections: decisions and reasons over time, operator review, illegibility causes.

Each function takes the saved rows and returns the section's HTML body (French for the operator).
"""
from __future__ import annotations

from collections import Counter, defaultdict

from core.messages import MESSAGES_FR, READABILITY_DEFECTS_FR, STATUS_FR
from core.records import Decision, ReasonCode
from results import report_charts as charts
from results.report_data import Rows, processed_day
from results.report_html import image, kpis, note, num, pct, table

UNKNOWN_DAY = "(date inconnue)"
DECISION_COLORS = {STATUS_FR[Decision.ACCEPT]: "#2e7d32", STATUS_FR[Decision.REQUEST_DOCUMENTS]: "#ef6c00",
                   STATUS_FR[Decision.ILLEGIBLE]: "#c62828"}
REVIEW_COLUMNS = ("needs_review", "review_why", "reviewed_by", "reviewed_at")
NO_REVIEW = "Aucune revue enregistrée"
DOC_TYPE_FR = {"care_sheet": "feuille de soins", "invoice": "facture", "prescription": "ordonnance",
               "other": "autre document"}


def status_label(decision: str) -> str:
    """The portal status of a decision code, the code itself when unknown, « (vide) » when empty."""
    try:
        return STATUS_FR[Decision(decision)]
    except ValueError:
        return decision or "(vide)"


def reason_label(code: str) -> str:
    try:
        return MESSAGES_FR[ReasonCode(code)]
    except ValueError:
        return "(motif inconnu du référentiel)"


def _day(row: dict[str, str]) -> str:
    day = processed_day(row)
    return day.isoformat() if day else UNKNOWN_DAY


def _reasons(row: dict[str, str]) -> list[str]:
    return [r for r in row.get("reasons", "").split("|") if r]


def decisions_section(rows: Rows) -> str:
    """KPIs, decisions per day (chart + table), reasons overall and per day."""
    total = len(rows.dossiers)
    by_decision = Counter(status_label(d.get("decision", "")) for d in rows.dossiers)
    statuses = [s for s in DECISION_COLORS if by_decision[s]] + [s for s in by_decision if s not in DECISION_COLORS]
    per_day: dict[str, Counter] = defaultdict(Counter)
    for d in rows.dossiers:
        per_day[_day(d)][status_label(d.get("decision", ""))] += 1
    days = sorted(per_day)
    chart = charts.stacked_bars(days, {s: [per_day[day][s] for day in days] for s in statuses},
                                "Décisions par jour de traitement", "dossiers", DECISION_COLORS)
    day_rows = [[day, *[num(per_day[day][s]) for s in statuses], num(sum(per_day[day].values()))] for day in days]
    parts = [kpis([("dossiers", str(total)), ("documents", str(len(rows.documents)))]
                  + [(s, f"{by_decision[s]} ({pct(by_decision[s], total)[0]})") for s in statuses]),
             image(chart, "Décisions par jour"),
             table(["Jour", *statuses, "Total"], day_rows)]
    parts.append(_reasons_part(rows, total))
    return "".join(parts)


def _reasons_part(rows: Rows, total: int) -> str:
    overall = Counter(r for d in rows.dossiers for r in dict.fromkeys(_reasons(d)))
    if not overall:
        return "<h3>Motifs</h3>" + note("Aucun motif : tous les dossiers sont à traiter.")
    ranked = overall.most_common()
    chart = charts.horizontal_bars([c for c, _ in ranked], [n for _, n in ranked], "Motifs (dossiers concernés)",
                                   "dossiers")
    reason_rows = [[code, reason_label(code), num(n), pct(n, total)] for code, n in ranked]
    per_day = Counter((_day(d), r) for d in rows.dossiers for r in dict.fromkeys(_reasons(d)))
    day_rows = [[day, code, num(n)] for (day, code), n in sorted(per_day.items())]
    return ("<h3>Motifs</h3>" + image(chart, "Motifs")
            + table(["Code", "Libellé", "Dossiers", "Part des dossiers"], reason_rows)
            + "<h3>Motifs par jour</h3>" + table(["Jour", "Code", "Dossiers"], day_rows, scroll=True))


def _true(text: str) -> bool:
    return text.strip().lower() in ("true", "1", "oui", "yes")


def review_section(rows: Rows) -> str:
    """Share sent to review, why, who reviewed, and what they changed (columns optional today)."""
    present = [c for c in REVIEW_COLUMNS if c in rows.dossier_columns]
    flagged = [d for d in rows.dossiers if _true(d.get("needs_review", ""))]
    reviewed = [d for d in rows.dossiers if d.get("reviewed_by") or d.get("reviewed_at")]
    if not present or not (flagged or reviewed):
        why = "colonnes de revue absentes des résultats" if not present else "aucun dossier marqué ou revu"
        return note(f"{NO_REVIEW} ({why}).")
    total = len(rows.dossiers)
    parts = [kpis([("à revoir", f"{len(flagged)} ({pct(len(flagged), total)[0]})"),
                   ("revus", f"{len(reviewed)} ({pct(len(reviewed), total)[0]})")])]
    whys = Counter(w.strip() for d in flagged for w in d.get("review_why", "").split("|") if w.strip())
    if whys:
        parts.append("<h3>Pourquoi une revue</h3>"
                     + table(["Raison", "Dossiers"], [[w, num(n)] for w, n in whys.most_common()]))
    by_who = Counter(d.get("reviewed_by") or "(inconnu)" for d in reviewed)
    if by_who:
        parts.append("<h3>Par opérateur</h3>"
                     + table(["Opérateur", "Dossiers revus"], [[w, num(n)] for w, n in by_who.most_common()]))
    # What operators changed: any reviewed_* / corrected_* column a review step adds, shown as saved.
    extra = [c for c in rows.dossier_columns
             if c.startswith(("reviewed_", "corrected_")) and c not in REVIEW_COLUMNS]
    headers = ["Dossier", "Décision", "Raison de la revue", "Revu par", "Revu le", *extra]
    detail = [[d.get("dossier_id", ""), status_label(d.get("decision", "")), d.get("review_why", ""),
               d.get("reviewed_by", ""), d.get("reviewed_at", ""), *[d.get(c, "") for c in extra]]
              for d in reviewed]
    if detail:
        parts.append("<h3>Dossiers revus et corrections</h3>" + table(headers, detail, scroll=True))
    return "".join(parts)


def illegible_causes(rows: Rows) -> Counter:
    """Cause words over the illegible documents: readability defects, then the file errors / why words."""
    causes: Counter = Counter()
    for doc in rows.documents:
        if doc.get("legible", "").lower() != "false":
            continue
        words = [READABILITY_DEFECTS_FR.get(w, w) for w in doc.get("readability_defects", "").split("|") if w]
        for column in ("illegible_why", "error"):
            words += [w.strip() for w in doc.get(column, "").split(" ; ") if w.strip()]
        causes.update(list(dict.fromkeys(words)) or ["(cause non précisée)"])
    return causes


def illegible_section(rows: Rows) -> str:
    illegible = sum(1 for d in rows.documents if d.get("legible", "").lower() == "false")
    if not illegible:
        return note("Aucun document illisible.")
    causes = illegible_causes(rows).most_common()
    chart = charts.horizontal_bars([c for c, _ in causes], [n for _, n in causes],
                                   "Causes d'illisibilité (documents)", "documents")
    by_type = Counter(DOC_TYPE_FR.get(d.get("doc_type", ""), d.get("doc_type") or "(inconnu)") for d in rows.documents
                      if d.get("legible", "").lower() == "false")
    return (kpis([("documents illisibles", f"{illegible} ({pct(illegible, len(rows.documents))[0]})")])
            + image(chart, "Causes d'illisibilité")
            + table(["Cause", "Documents", "Part des illisibles"], [[c, num(n), pct(n, illegible)] for c, n in causes])
            + "<h3>Par type de document</h3>"
            + table(["Type", "Documents illisibles"], [[t, num(n)] for t, n in by_type.most_common()]))
