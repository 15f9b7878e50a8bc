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
# contract §5: the fields read from the care sheet (CareSheetFacts.fields), each followed by its confidence
CARE_SHEET_FIELDS = ["contract_number", "animal_name", "species", "animal_birth_date", "animal_id",
                     "consultation_date", "first_symptoms_date", "surgery", "motif", "diagnosis", "acts", "fee_lines",
                     "total_ttc", "vet_name", "vet_ordre_number", "owner_date", "vet_date"]
CARE_SHEET_FIELD_COLUMNS = [c for f in CARE_SHEET_FIELDS for c in (f"care_sheet_{f}", f"care_sheet_{f}_confidence")]
# InvoiceFacts field -> its documents.csv column: the `fields` table names a field as InvoiceFacts does
INVOICE_FIELD_COLUMNS = {"invoice_date": "invoice_date", "total_ttc": "invoice_total_ttc", "siret": "vet_siret",
                         "kind": "invoice_kind", "invoice_number": "invoice_number",
                         "total_ht": "invoice_total_ht", "total_tva": "invoice_tva",
                         "amount_due": "invoice_amount_due"}
# contract §5: an invoice field's confidence (InvoiceFacts.confidence, 0..1) beside the field, as `<column>_confidence`
INVOICE_CONFIDENCE_COLUMNS = {f: f"{c}_confidence" for f, c in INVOICE_FIELD_COLUMNS.items()}
# documents.csv: the documents table's columns, then the care-sheet fields and the invoice fields' confidences
# (both from the `fields` table)
DOCUMENT_CSV_COLUMNS = DOCUMENT_COLUMNS + CARE_SHEET_FIELD_COLUMNS + list(INVOICE_CONFIDENCE_COLUMNS.values())
