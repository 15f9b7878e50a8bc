"""The rows a report or an export is made of: every saved result of an output folder, read once.

`read_results` returns the dossiers.csv and documents.csv rows as saved (strings, "" = unknown)
and the column order of the CSVs, followed by any column a newer run added (review, timings…),
so optional columns reach the report and the exports without a change here.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from results.store import DOCUMENT_COLUMNS, DOSSIER_COLUMNS, RESULTS_DIR

logger = logging.getLogger(__name__)

Progress = Callable[[Iterable[Path], int, str], Iterator[Path]]


@dataclass(frozen=True)
class Rows:
    """One output folder's saved rows, and what could not be read."""

    dossiers: list[dict[str, str]] = field(default_factory=list)
    documents: list[dict[str, str]] = field(default_factory=list)
    dossier_columns: list[str] = field(default_factory=lambda: list(DOSSIER_COLUMNS))
    document_columns: list[str] = field(default_factory=lambda: list(DOCUMENT_COLUMNS))
    unreadable: list[str] = field(default_factory=list)  # result files that are not valid JSON results
    results_found: bool = False  # False when <out>/results does not exist


def _columns(base: list[str], rows: list[dict[str, str]]) -> list[str]:
    """`base` in its order, then every other key in the order first seen."""
    extra = dict.fromkeys(k for row in rows for k in row if k not in base)
    return [*base, *extra]


def processed_day(row: dict[str, str]) -> date | None:
    """The day of `processed_at` as written (its own offset), None when missing or not ISO."""
    try:
        return date.fromisoformat(row.get("processed_at", "")[:10])
    except ValueError:
        return None


def _one(path: Path) -> tuple[dict[str, str], list[dict[str, str]]]:
    payload = json.loads(path.read_text(encoding="utf-8"))
    dossier, documents = payload["dossier"], payload.get("documents", [])
    if not isinstance(dossier, dict) or not isinstance(documents, list):
        raise ValueError("not a saved result")
    as_text = lambda row: {str(k): "" if v is None else str(v) for k, v in row.items()}  # noqa: E731
    return as_text(dossier), [as_text(d) for d in documents]


def read_results(out: Path, since: date | None = None, progress: Progress | None = None) -> Rows:
    """Every `<out>/results/*.json` (sorted), keeping the dossiers processed on or after `since`.

    A dossier without a readable processed_at is left out when `since` is given. A file that is not
    a saved result is named in `unreadable`, never raised: a report of the rest is still useful.
    """
    folder = Path(out) / RESULTS_DIR
    if not folder.is_dir():
        return Rows()
    paths = sorted(folder.glob("*.json"))
    dossiers, documents, unreadable = [], [], []
    for path in progress(paths, len(paths), "Lecture des résultats") if progress else paths:
        try:
            dossier, docs = _one(path)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            logger.warning("result %s skipped: %s", path.name, exc)
            unreadable.append(path.name)
            continue
        if since is not None and (processed_day(dossier) is None or processed_day(dossier) < since):
            continue
        dossiers.append(dossier)
        documents.extend(docs)
    return Rows(dossiers, documents, _columns(list(DOSSIER_COLUMNS), dossiers),
                _columns(list(DOCUMENT_COLUMNS), documents), unreadable, True)
