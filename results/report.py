"""`intake report OUT [--since DATE] [--html FILE]`: one self-contained HTML page for the analysts.

Read from the run's saved results (`OUT/results/*.json`), so it works on a finished run, a run
still going, or one killed half-way. The page opens with no network: inline CSS, a few lines of
inline JS (sortable tables), and charts as PNG `data:` images.

Charts: matplotlib, not plotly. A PNG per chart is ~20-40 KB and needs no script, so the page of a
200-dossier run stays well under a megabyte, mails and archives well, and renders the same in any
browser (plotly would inline ~3.5 MB of JS per page for hover tooltips nobody here needs; the
numbers behind each chart are in a sortable table beside it).
"""
from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from core.files import atomic_write
from results import report_amounts as amounts
from results import report_sections as sections
from results.progress import progress as progress_bar
from results.report_data import Rows, read_results
from results.report_html import note, page

REPORT_NAME = "report.html"  # OUT/report.html unless --html says otherwise
TITLE = "Rapport de traitement des dossiers"


def _meta(out: Path, rows: Rows, since: date | None) -> str:
    generated = datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")
    period = f" — dossiers traités depuis le {since.isoformat()}" if since else ""
    return f"Résultats de {out} — généré le {generated}{period}"


def _empty_body(out: Path, rows: Rows, since: date | None) -> str:
    if not rows.results_found:
        return note(f"Aucun résultat : le dossier {out / 'results'} n'existe pas (aucun traitement n'a écrit ici).")
    if since is not None:
        return note(f"Aucun dossier traité depuis le {since.isoformat()}.")
    return note("Aucun dossier traité : le dossier des résultats est vide.")


def build_html(out: Path, rows: Rows, since: date | None = None) -> str:
    """The page's HTML for these rows; a page that says there is nothing when there are no dossiers."""
    unreadable = (note(f"{len(rows.unreadable)} fichier(s) de résultat illisible(s), ignoré(s) : "
                       + ", ".join(rows.unreadable[:20])) if rows.unreadable else "")
    if not rows.dossiers:
        return page(TITLE, _meta(out, rows, since), [("resultats", "Résultats", _empty_body(out, rows, since)
                                                      + unreadable)])
    parts = [
        ("decisions", "Décisions et motifs dans le temps", unreadable + sections.decisions_section(rows)),
        ("revue", "Revue par les opérateurs", sections.review_section(rows)),
        ("illisibles", "Causes d'illisibilité", sections.illegible_section(rows)),
        ("scores", "Lisibilité et confiance", amounts.scores_section(rows)),
        ("emetteurs", "Volumes et montants par émetteur et type de facture", amounts.issuers_section(rows)),
        ("feuille-facture", "Feuille de soins et facture", amounts.care_sheet_section(rows)),
        ("temps", "Temps de traitement", amounts.processing_section(rows)),
    ]
    return page(TITLE, _meta(out, rows, since), parts)


def write_report(out: Path, html: Path | None = None, since: date | None = None, progress: bool = False) -> Path:
    """Write the report of the run in `out` to `html` (default OUT/report.html); returns its path.

    `since` keeps the dossiers processed on or after that day; `progress` shows a bar while the
    results are read (only at a terminal, never in CI or a Prefect flow run).
    """
    out = Path(out)
    rows = read_results(out, since, progress_bar if progress else None)
    target = Path(html) if html else out / REPORT_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(target, build_html(out, rows, since))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def report_main(argv: list[str]) -> int:
    """`intake report OUT [--since DATE] [--html FILE]`; prints the page's path, returns the exit code."""
    parser = argparse.ArgumentParser(prog="intake report", description="Write the analysts' HTML report of a run.")
    parser.add_argument("out", type=Path, help="the run's output folder (the one holding results/)")
    parser.add_argument("--since", type=_day, help="only dossiers processed on or after this day (YYYY-MM-DD)")
    parser.add_argument("--html", type=Path, help=f"where to write the page (default OUT/{REPORT_NAME})")
    args = parser.parse_args(argv)
    path = write_report(args.out, args.html, args.since, progress=True)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(report_main(sys.argv[1:]))
