"""The analysts' columns (contract §3) in their order, then ours at the end, so their spreadsheets keep working.

Beside the schema (results.models) and the CSV writer (results.store), which both follow them.
"""
from __future__ import annotations

DOSSIER_TEXT_COLUMNS = ["dossier_id", "decision", "status_fr", "reasons", "message_fr", "processed_at",
                        # extensions
                        "folder", "evidence"]  # stored as written (results.models.Dossier)
# the review (pipeline.confidence, flows.review): typed in the database, written as text at the end
REVIEW_COLUMNS = ["confidence", "needs_review", "review_why", "reviewed_by", "reviewed_at"]
DOSSIER_COLUMNS = DOSSIER_TEXT_COLUMNS + REVIEW_COLUMNS
DOCUMENT_COLUMNS = ["dossier_id", "file", "pages", "doc_type", "readability", "ocr_confidence",
                    "vet_stamp", "vet_signature", "owner_signature", "medical_section_complete",
                    "invoice_date", "invoice_total_ttc", "vet_siret", "invoice_kind",
                    # extensions
                    "capture", "legible", "readability_defects", "care_sheet_dated",
                    "invoice_number", "invoice_total_ht", "invoice_tva", "invoice_amount_due",
                    "qr_matches_manifest", "error", "identified_by"]
# InvoiceFacts field -> its documents.csv column: the `fields` table names a field as InvoiceFacts does
INVOICE_FIELD_COLUMNS = {"invoice_date": "invoice_date", "total_ttc": "invoice_total_ttc", "siret": "vet_siret",
                         "kind": "invoice_kind", "invoice_number": "invoice_number",
                         "total_ht": "invoice_total_ht", "total_tva": "invoice_tva",
                         "amount_due": "invoice_amount_due"}
