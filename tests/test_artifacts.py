"""The operator's markdown page for a dossier, built from a real result and real images."""
import base64
import re

import cv2
import numpy as np

from flows.artifacts import (CROP_PX, PAGE_THUMB_PX, artifact_key, dossier_markdown, image_data_uri,
                             table_rows)
from core.records import (CareSheetFacts, Decision, DocType, DocumentResult, DossierResult, Finding,
                            InvoiceFacts, InvoiceKind, ReasonCode)
from tests.render import INVOICE_LINES, save_image, text_page


def _result(tmp_path) -> DossierResult:
    page = save_image(text_page(INVOICE_LINES), tmp_path / "thumb.png", format="PNG")
    stamp = np.full((300, 700, 3), 255, np.uint8)
    cv2.rectangle(stamp, (10, 10), (690, 290), (0, 0, 0), 3)
    cv2.imwrite(str(tmp_path / "stamp.png"), stamp)
    cv2.imwrite(str(tmp_path / "date.png"), stamp[:100])
    care = DocumentResult("D-1", "feuille.pdf", (1,), DocType.CARE_SHEET, readability=0.91, legible=True,
                          thumbnail=str(page),
                          care_sheet=CareSheetFacts(vet_stamp=False, vet_signature=True, owner_signature=True,
                                                    crops={"owner_date": str(tmp_path / "date.png"),
                                                           "vet_stamp_signature": str(tmp_path / "stamp.png")}))
    invoice = DocumentResult("D-1", "facture.pdf", (1, 2), DocType.INVOICE, readability=0.7, ocr_confidence=88.4,
                             legible=True, invoice=InvoiceFacts(invoice_date="2017-11-13", total_ttc="97.00",
                                                                kind=InvoiceKind.VETERINARY,
                                                                confidence={"total_ttc": 0.93, "kind": 1.0},
                                                                evidence={"total_ttc": "étiquette « Total TTC » ; "
                                                                          "HT + TVA = TTC ; p. 2, zone 1,2-3,4"}))
    finding = Finding(ReasonCode.VET_STAMP_MISSING, "Le cachet du vétérinaire est absent de la feuille de soins.",
                      "vet_stamp: 0 mm² d'encre | pipe")
    return DossierResult("D-1", Decision.REQUEST_DOCUMENTS, (finding,), (care, invoice), "2026-01-01T10:00:00+01:00",
                         "D-1")


def test_dossier_page_has_decision_reasons_fields_and_small_images(tmp_path):
    md = dossier_markdown(_result(tmp_path))
    assert "# D-1 — `request_documents`" in md
    assert "En attente de documents supplémentaires" in md
    assert "| `VET_STAMP_MISSING` | Le cachet du vétérinaire est absent de la feuille de soins. |" in md
    assert "d'encre \\| pipe" in md  # a pipe in the evidence does not break the table
    assert "| cachet vétérinaire | **non** |" in md and "| signature vétérinaire | oui |" in md
    # each invoice field with the reader's confidence and what it stood by (page, box, label, arithmetic)
    assert "| total TTC | 97.00 | 0.93 | étiquette « Total TTC » ; HT + TVA = TTC ; p. 2, zone 1,2-3,4 |" in md
    assert "| type de facture | veterinary | 1.00 |" in md and "| date | 2017-11-13 |  |" in md
    assert "`invoice` — facture.pdf p. 1-2" in md and "confiance OCR 88" in md
    sources = re.findall(r'<img alt="([^"]+)" title="[^"]+" src="data:image/jpeg;base64,([^"]+)"', md)
    assert [alt for alt, _ in sources] == ["page", "vet_stamp_signature", "owner_date"]  # the reason's zone first
    for alt, b64 in sources:
        image = cv2.imdecode(np.frombuffer(base64.b64decode(b64), np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and max(image.shape[:2]) <= (PAGE_THUMB_PX if alt == "page" else CROP_PX)
    assert len(md) < 40_000


def test_missing_images_and_keys(tmp_path):
    assert image_data_uri(tmp_path / "absent.png", 100) is None
    assert image_data_uri(None, 100) is None
    assert artifact_key("dossier", "D-2017_000123 (copie)") == "dossier-d-2017-000123-copie"
    rows = table_rows([{"dossier_id": "B", "decision": "accept"}, {"dossier_id": "A", "decision": "illegible"}])
    assert [r["dossier_id"] for r in rows] == ["A", "B"] and rows[0]["reasons"] == ""
