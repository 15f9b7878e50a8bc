"""The results database: where every decided dossier is, once.

One engine per URL (`Settings.database_url`, else SQLite at `<out>/results.db`), migrated to
Alembic's head on first use; on the first open under an output folder, the earlier runs'
`results/*.json` are imported (once: a marker in the database). A dossier's rows are replaced
in one transaction; its key is unique in the database, so two savers of one dossier leave one
row set whatever the order they commit in.
"""
from __future__ import annotations

import errno
import json
import logging
import sqlite3
from contextlib import contextmanager
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload

from core.errors import IntakeError
from core.settings import Settings
from results.columns import DOCUMENT_COLUMNS, DOSSIER_TEXT_COLUMNS, INVOICE_FIELD_COLUMNS
from results.models import Document, Dossier, Field, FindingRow, Meta

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")  # Alembic's env.py and versions/, shipped as package data
DB_FILE = "results.db"  # <out>/results.db: the default database, beside the CSVs it exports
RESULTS_DIR = "results"  # <out>/results/<key>.json: earlier runs' results (imported once), then a mirror
IMPORT_MARKER = "json_results_imported"  # meta row: the earlier runs' JSON results are in
ATTEMPTS = 5  # a transaction that lost a race (another saver inserted the same key first) is run again
SQLITE_BUSY_S = 60.0  # SQLite has one writer at a time: the others wait this long for their turn
MIGRATION_LOCK = 7_142_011  # PostgreSQL advisory lock: two processes starting at once migrate one after the other

T = TypeVar("T")


class NotSaved(IntakeError, FileNotFoundError):
    """No dossier of that key in the database (an OSError, as a missing JSON result was)."""


@dataclass(frozen=True)
class RowSet:
    """Everything stored for one dossier: its CSV rows as text, and what the CSVs do not carry."""

    key: str
    dossier: dict[str, str]
    documents: list[dict[str, str]]
    findings: list[tuple[str, str | None, str | None]]  # (code, message_fr, evidence), in order
    fields: list[list[tuple[str, str | None, float | None]]]  # per document: (name, value, confidence)
    page_hashes: list[str | None]  # per document
    source: str = "pipeline"
    fingerprint: str | None = None
    confidence: float | None = None
    needs_review: bool | None = None
    review_why: str | None = None


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def database_url(out: Path) -> str:
    """The URL of the results database for output folder `out` (settings first, else its SQLite file)."""
    url = Settings.from_env().database_url or f"sqlite:///{Path(out).resolve() / DB_FILE}"
    for bare in ("postgresql://", "postgres://"):  # the driver we install (psycopg 3), not psycopg2
        if url.startswith(bare):
            url = "postgresql+psycopg://" + url[len(bare):]
    return url


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_S})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # noqa: ANN001
        # take the write lock at the start: a deferred transaction that reads then writes can deadlock
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create(url: str) -> Engine:
    """A new engine for `url` (SQLite: WAL, foreign keys, one writer at a time), not migrated."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    """Alembic's configuration for our migrations folder and `url` (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine, revision: str = "head", *, down: bool = False) -> None:
    """Upgrade the database to `revision` (or downgrade to it with down=True), in one transaction."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


_engines: dict[str, Engine] = {}
_opened: set[tuple[str, str]] = set()  # (url, out) whose earlier JSON results this process made sure of
_lock = threading.Lock()


# What the databases say when the disk, not the data, is the problem: the run must stop and give the
# dossiers back (an OSError with this errno), never decide them
_DISK_ERRORS = (("database or disk is full", errno.ENOSPC), ("disk is full", errno.ENOSPC),
                ("readonly database", errno.EROFS), ("disk I/O error", errno.EIO),
                ("No space left on device", errno.ENOSPC))


@contextmanager
def disk_errors():
    """Turn a database's 'disk full' / 'read-only' / 'I/O error' into the OSError the flow stops on."""
    try:
        yield
    except (OperationalError, sqlite3.OperationalError) as exc:
        text = str(exc)
        for cue, code in _DISK_ERRORS:
            if cue in text:
                raise OSError(code, f"results database: {cue}") from exc
        raise


def engine_for(out: Path) -> Engine:
    """The migrated engine of `out`'s database; the first call imports the earlier runs' JSON results."""
    url = database_url(out)
    with _lock, disk_errors():
        engine = _engines.get(url)
        if engine is None:
            engine = create(url)
            migrate(engine)
            _engines[url] = engine
        if (url, str(Path(out).resolve())) not in _opened:
            n = run(engine, lambda s: import_json_results(s, Path(out)))
            if n:
                logger.info("results database: %d earlier result(s) imported from %s", n, RESULTS_DIR)
            _opened.add((url, str(Path(out).resolve())))
    return engine


def dispose_engines() -> None:
    """Close every engine this process opened (tests; a long-lived process changing databases)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _opened.clear()


def run(engine: Engine, fn: Callable[[Session], T]) -> T:
    """fn(session) in one transaction, committed; run again when it lost a race on a unique key."""
    for attempt in range(1, ATTEMPTS + 1):
        with disk_errors(), Session(engine, expire_on_commit=False) as session:
            try:
                with session.begin():
                    return fn(session)
            except IntegrityError:
                if attempt == ATTEMPTS:
                    raise
                logger.info("results database: transaction lost a race, attempt %d", attempt)
    raise AssertionError("unreachable")


def _v(value: object) -> str | None:
    """A CSV cell as stored: empty (unknown) is NULL."""
    return None if value is None or value == "" else str(value)


def dossier_by_key(session: Session, key: str, *, lock: bool = False) -> Dossier | None:
    q = select(Dossier).where(Dossier.key == key)
    return session.scalar(q.with_for_update() if lock else q)  # FOR UPDATE: PostgreSQL (SQLite locks it all)


def replace(session: Session, rs: RowSet) -> Dossier:
    """Write `rs` as the dossier's one row set: update the dossier row (its reviews stay), replace the rest."""
    d = dossier_by_key(session, rs.key, lock=True)
    if d is None:
        d = Dossier(key=rs.key)
        session.add(d)
    else:
        d.documents.clear()
        d.findings.clear()
        session.flush()
    for col in DOSSIER_TEXT_COLUMNS:
        setattr(d, col, _v(rs.dossier.get(col)))
    d.dossier_id = str(rs.dossier.get("dossier_id") or "")
    d.decision = str(rs.dossier.get("decision") or "")
    d.saved_at, d.source, d.fingerprint = now_utc(), rs.source, rs.fingerprint
    d.confidence, d.needs_review, d.review_why = rs.confidence, rs.needs_review, rs.review_why
    d.findings = [FindingRow(position=i, code=code, message_fr=msg, evidence=ev)
                  for i, (code, msg, ev) in enumerate(rs.findings)]
    docs = []
    for i, row in enumerate(rs.documents):
        doc = Document(position=i, page_hash=rs.page_hashes[i] if i < len(rs.page_hashes) else None,
                       **{col: _v(row.get(col)) for col in DOCUMENT_COLUMNS})
        doc.fields = [Field(name=n, value=v, confidence=c) for n, v, c in (rs.fields[i] if i < len(rs.fields) else [])]
        docs.append(doc)
    d.documents = docs
    session.flush()
    return d


def rows_of(d: Dossier) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The dossier's dossiers.csv row and documents.csv rows, as the CSVs write them (the review's
    columns from the dossier's typed values and its latest review)."""
    row = {col: getattr(d, col) or "" for col in DOSSIER_TEXT_COLUMNS}
    last = d.reviews[-1] if d.reviews else None
    row.update({"confidence": "" if d.confidence is None else f"{d.confidence:.3f}",
                "needs_review": "" if d.needs_review is None else ("true" if d.needs_review else "false"),
                "review_why": d.review_why or "",
                "reviewed_by": last.reviewed_by if last else "", "reviewed_at": last.reviewed_at if last else ""})
    return row, [{col: getattr(doc, col) or "" for col in DOCUMENT_COLUMNS} for doc in d.documents]


def all_rows(session: Session) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Every dossier's rows, in the order the JSON store listed them (its file names, code point order)."""
    found = session.scalars(select(Dossier).options(selectinload(Dossier.documents), selectinload(Dossier.reviews))).all()
    dossiers: list[dict[str, str]] = []
    documents: list[dict[str, str]] = []
    for d in sorted(found, key=lambda d: f"{d.key}.json"):
        row, docs = rows_of(d)
        dossiers.append(row)
        documents.extend(docs)
    return dossiers, documents


def import_json_results(session: Session, out: Path, to_rowset: Callable[[str, dict], RowSet] | None = None) -> int:
    """Import `<out>/results/*.json` of earlier runs, once per database; returns how many were imported.

    A key already in the database is kept (it is newer than the file). A file that is not a saved
    result is logged and left out; the marker lists it.
    """
    if session.get(Meta, IMPORT_MARKER) is not None:
        return 0
    marker = Meta(name=IMPORT_MARKER, value="")
    session.add(marker)
    session.flush()  # a concurrent importer fails here (primary key) and, run again, finds the marker
    to_rowset = to_rowset or rowset_from_json
    imported, skipped = 0, []
    for path in sorted((out / RESULTS_DIR).glob("*.json")):
        try:
            rs = to_rowset(path.stem, json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            logger.warning("result %s not imported: %s", path.name, exc)
            skipped.append(path.name)
            continue
        if session.scalar(select(Dossier.id).where(Dossier.key == rs.key)) is None:
            replace(session, rs)
            imported += 1
    marker.value = json.dumps({"at": now_utc(), "out": str(out), "imported": imported, "skipped": skipped})
    return imported


def rowset_from_json(key: str, payload: dict) -> RowSet:
    """A saved result file's rows: findings are its reason codes (messages and evidence are joined there)."""
    as_text = lambda row: {str(k): "" if v is None else str(v) for k, v in row.items()}  # noqa: E731
    dossier, documents = payload["dossier"], payload.get("documents", [])
    if not isinstance(dossier, dict) or not isinstance(documents, list):
        raise ValueError("not a saved result")
    dossier, documents = as_text(dossier), [as_text(d) for d in documents]
    codes = [c for c in dossier.get("reasons", "").split("|") if c]
    fields = [[(name, doc[col], None) for name, col in INVOICE_FIELD_COLUMNS.items() if doc.get(col)]
              for doc in documents]
    duplicate = "DUPLICATE_INVOICE" in codes
    try:  # the review's columns, when the file has them (written since the review work landed)
        confidence = float(dossier["confidence"]) if dossier.get("confidence") else None
    except ValueError:
        confidence = None
    saved_flag = {"true": True, "false": False}.get(dossier.get("needs_review", ""))
    why = dossier.get("review_why") or ("DUPLICATE_INVOICE" if duplicate else "")
    return RowSet(key, dossier, documents, [(c, None, None) for c in codes], fields, [None] * len(documents),
                  source="json", confidence=confidence, needs_review=True if duplicate else saved_flag,
                  review_why=why or None)
