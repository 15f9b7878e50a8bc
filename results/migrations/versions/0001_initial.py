"""Initial schema: dossiers, documents, findings, fields, reviews

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-01
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dossiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('dossier_id', sa.Text(), nullable=False),
    sa.Column('folder', sa.Text(), nullable=True),
    sa.Column('decision', sa.String(length=32), nullable=False),
    sa.Column('status_fr', sa.Text(), nullable=True),
    sa.Column('reasons', sa.Text(), nullable=True),
    sa.Column('message_fr', sa.Text(), nullable=True),
    sa.Column('processed_at', sa.String(length=64), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('saved_at', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('needs_review', sa.Boolean(), nullable=True),
    sa.Column('review_why', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossiers')),
    sa.UniqueConstraint('key', name=op.f('uq_dossiers_key'))
    )
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossiers_dossier_id'), ['dossier_id'], unique=False)

    op.create_table('meta',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_meta'))
    )
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_pk', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Text(), nullable=True),
    sa.Column('file', sa.Text(), nullable=True),
    sa.Column('pages', sa.Text(), nullable=True),
    sa.Column('doc_type', sa.String(length=32), nullable=True),
    sa.Column('readability', sa.Text(), nullable=True),
    sa.Column('ocr_confidence', sa.Text(), nullable=True),
    sa.Column('vet_stamp', sa.String(length=8), nullable=True),
    sa.Column('vet_signature', sa.String(length=8), nullable=True),
    sa.Column('owner_signature', sa.String(length=8), nullable=True),
    sa.Column('medical_section_complete', sa.String(length=8), nullable=True),
    sa.Column('invoice_date', sa.String(length=32), nullable=True),
    sa.Column('invoice_total_ttc', sa.String(length=32), nullable=True),
    sa.Column('vet_siret', sa.String(length=32), nullable=True),
    sa.Column('invoice_kind', sa.String(length=32), nullable=True),
    sa.Column('capture', sa.String(length=32), nullable=True),
    sa.Column('legible', sa.String(length=8), nullable=True),
    sa.Column('readability_defects', sa.Text(), nullable=True),
    sa.Column('care_sheet_dated', sa.String(length=8), nullable=True),
    sa.Column('invoice_number', sa.String(length=64), nullable=True),
    sa.Column('invoice_total_ht', sa.String(length=32), nullable=True),
    sa.Column('invoice_tva', sa.String(length=32), nullable=True),
    sa.Column('invoice_amount_due', sa.String(length=32), nullable=True),
    sa.Column('qr_matches_manifest', sa.String(length=8), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('identified_by', sa.String(length=32), nullable=True),
    sa.Column('page_hash', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['dossier_pk'], ['dossiers.id'], name=op.f('fk_documents_dossier_pk_dossiers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_dossier_pk'), ['dossier_pk'], unique=False)
        batch_op.create_index('ix_documents_siret_date_total', ['vet_siret', 'invoice_date', 'invoice_total_ttc'], unique=False)
        batch_op.create_index('ix_documents_siret_number', ['vet_siret', 'invoice_number'], unique=False)

    op.create_table('findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_pk', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('message_fr', sa.Text(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['dossier_pk'], ['dossiers.id'], name=op.f('fk_findings_dossier_pk_dossiers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_findings'))
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_findings_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_findings_dossier_pk'), ['dossier_pk'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_pk', sa.Integer(), nullable=False),
    sa.Column('reviewed_by', sa.Text(), nullable=False),
    sa.Column('reviewed_at', sa.String(length=64), nullable=False),
    sa.Column('decision_before', sa.String(length=32), nullable=True),
    sa.Column('decision_after', sa.String(length=32), nullable=True),
    sa.Column('reasons_before', sa.Text(), nullable=True),
    sa.Column('reasons_after', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['dossier_pk'], ['dossiers.id'], name=op.f('fk_reviews_dossier_pk_dossiers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_dossier_pk'), ['dossier_pk'], unique=False)

    op.create_table('fields',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_pk', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['document_pk'], ['documents.id'], name=op.f('fk_fields_document_pk_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fields'))
    )
    with op.batch_alter_table('fields', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fields_document_pk'), ['document_pk'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('fields', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fields_document_pk'))

    op.drop_table('fields')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_dossier_pk'))

    op.drop_table('reviews')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_findings_dossier_pk'))
        batch_op.drop_index(batch_op.f('ix_findings_code'))

    op.drop_table('findings')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_siret_number')
        batch_op.drop_index('ix_documents_siret_date_total')
        batch_op.drop_index(batch_op.f('ix_documents_dossier_pk'))

    op.drop_table('documents')
    op.drop_table('meta')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossiers_dossier_id'))

    op.drop_table('dossiers')
