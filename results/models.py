"""The results database's schema (SQLAlchemy 2.0 ORM): dossiers, documents, findings, fields, reviews.

The analysts' columns are stored as the text the CSVs write (contract §3), so that the
CSVs exported from the database are byte for byte those of the JSON store; the typed
values live beside them where a query needs them (`fields`, `confidence`). Changing this
file means a new Alembic revision in `results/migrations/versions/` (a test compares them).
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints: Alembic can then drop and alter them on every backend (SQLite included).
NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s"}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Meta(Base):
    """One-off facts about the database itself, e.g. that the earlier runs' JSON results were imported."""

    __tablename__ = "meta"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Dossier(Base):
    """One decided dossier: one dossiers.csv row. `key` (the results key of its folder) is unique:
    a dossier is in the database once, whatever the runs, workers or retries."""

    __tablename__ = "dossiers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    dossier_id: Mapped[str] = mapped_column(Text, index=True)
    folder: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(32))
    status_fr: Mapped[str | None] = mapped_column(Text)
    reasons: Mapped[str | None] = mapped_column(Text)  # codes `|`-joined, as the CSV writes them
    message_fr: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[str | None] = mapped_column(String(64))  # ISO 8601 as the pipeline wrote it
    evidence: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # of the upload the result was made from
    saved_at: Mapped[str] = mapped_column(String(64))  # ISO 8601, UTC: when this row set was (re)written
    source: Mapped[str] = mapped_column(String(16))  # "pipeline" or "json" (imported from an earlier run)
    # the review work (contract §5): how sure the pipeline is, and whether a person must look
    confidence: Mapped[float | None] = mapped_column(Float)
    needs_review: Mapped[bool | None] = mapped_column(Boolean)
    review_why: Mapped[str | None] = mapped_column(Text)

    documents: Mapped[list[Document]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", order_by="Document.position")
    findings: Mapped[list[FindingRow]] = relationship(cascade="all, delete-orphan", order_by="FindingRow.position")
    reviews: Mapped[list[Review]] = relationship(cascade="all, delete-orphan", order_by="Review.id")


class Document(Base):
    """One detected document: one documents.csv row, its columns as the CSV's text."""

    __tablename__ = "documents"
    __table_args__ = (
        # the duplicate checks (results.duplicates): same issuer and number; same issuer, date and total
        Index("ix_documents_siret_number", "vet_siret", "invoice_number"),
        Index("ix_documents_siret_date_total", "vet_siret", "invoice_date", "invoice_total_ttc"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_pk: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # order within the dossier, as the CSV lists them
    dossier_id: Mapped[str | None] = mapped_column(Text)
    file: Mapped[str | None] = mapped_column(Text)
    pages: Mapped[str | None] = mapped_column(Text)
    doc_type: Mapped[str | None] = mapped_column(String(32))
    readability: Mapped[str | None] = mapped_column(Text)
    ocr_confidence: Mapped[str | None] = mapped_column(Text)
    vet_stamp: Mapped[str | None] = mapped_column(String(8))
    vet_signature: Mapped[str | None] = mapped_column(String(8))
    owner_signature: Mapped[str | None] = mapped_column(String(8))
    medical_section_complete: Mapped[str | None] = mapped_column(String(8))
    invoice_date: Mapped[str | None] = mapped_column(String(32))
    invoice_total_ttc: Mapped[str | None] = mapped_column(String(32))
    vet_siret: Mapped[str | None] = mapped_column(String(32))
    invoice_kind: Mapped[str | None] = mapped_column(String(32))
    capture: Mapped[str | None] = mapped_column(String(32))
    legible: Mapped[str | None] = mapped_column(String(8))
    readability_defects: Mapped[str | None] = mapped_column(Text)
    care_sheet_dated: Mapped[str | None] = mapped_column(String(8))
    invoice_number: Mapped[str | None] = mapped_column(String(64))
    invoice_total_ht: Mapped[str | None] = mapped_column(String(32))
    invoice_tva: Mapped[str | None] = mapped_column(String(32))
    invoice_amount_due: Mapped[str | None] = mapped_column(String(32))
    qr_matches_manifest: Mapped[str | None] = mapped_column(String(8))
    error: Mapped[str | None] = mapped_column(Text)
    identified_by: Mapped[str | None] = mapped_column(String(32))
    page_hash: Mapped[str | None] = mapped_column(String(16))  # core.imagehash.dhash of the first page, hex

    dossier: Mapped[Dossier] = relationship(back_populates="documents")
    fields: Mapped[list[Field]] = relationship(cascade="all, delete-orphan", order_by="Field.id")


class FindingRow(Base):
    """One finding of a dossier, in the order the rules gave them."""

    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_pk: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64), index=True)
    message_fr: Mapped[str | None] = mapped_column(Text)  # None for results imported from JSON (not kept there)
    evidence: Mapped[str | None] = mapped_column(Text)


class Field(Base):
    """One field read from a document (e.g. `total_ttc` = "184.50") and how sure the reader was (0-1)."""

    __tablename__ = "fields"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_pk: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)


class Review(Base):
    """A person's review of a dossier: who, when, the decision before and after, and why."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_pk: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    reviewed_by: Mapped[str] = mapped_column(Text)
    reviewed_at: Mapped[str] = mapped_column(String(64))  # ISO 8601
    decision_before: Mapped[str | None] = mapped_column(String(32))
    decision_after: Mapped[str | None] = mapped_column(String(32))
    reasons_before: Mapped[str | None] = mapped_column(Text)
    reasons_after: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict | None] = mapped_column(JSON)  # the whole dicts the reviewer's tool gave
    after: Mapped[dict | None] = mapped_column(JSON)
