from core.messages import IMPLIES, MESSAGES_FR
from core.records import (CareSheetFacts, Decision, DocType, DocumentResult, Finding, InvoiceFacts,
                            InvoiceKind, ReasonCode)
from validators.rules import DossierFacts, decide, evaluate


def doc(doc_type, *, kind=None, legible=True, file="f.pdf", care_sheet=None):
    inv = InvoiceFacts(kind=kind) if doc_type == DocType.INVOICE else None
    return DocumentResult("D", file, (1,), doc_type, readability=0.9 if legible else 0.1,
                          legible=legible, invoice=inv, care_sheet=care_sheet,
                          illegible_why=() if legible else ("photo floue",))


def codes(facts):
    return [f.code for f in evaluate(facts)]


def test_every_code_has_a_message_and_a_decision():
    for code in ReasonCode:
        assert MESSAGES_FR[code] and code in IMPLIES


def test_precedence_illegible_over_request_over_accept():
    f = lambda c: Finding(c, "")
    assert decide([]) == Decision.ACCEPT
    assert decide([f(ReasonCode.INVOICE_MISSING)]) == Decision.REQUEST_DOCUMENTS
    assert decide([f(ReasonCode.INVOICE_MISSING), f(ReasonCode.FILE_UNREADABLE)]) == Decision.ILLEGIBLE
    assert decide([f(ReasonCode.CARE_SHEET_ILLEGIBLE), f(ReasonCode.VET_STAMP_MISSING)]) == Decision.ILLEGIBLE


def test_complete_dossier_is_accepted():
    facts = DossierFacts("D", (doc(DocType.CARE_SHEET), doc(DocType.INVOICE, kind=InvoiceKind.VETERINARY)))
    assert codes(facts) == []


def test_missing_documents():
    assert codes(DossierFacts("D", ())) == [ReasonCode.CARE_SHEET_MISSING, ReasonCode.INVOICE_MISSING]
    assert codes(DossierFacts("D", (doc(DocType.INVOICE),))) == [ReasonCode.CARE_SHEET_MISSING]


def test_pharmacy_invoice_alone_is_not_the_vet_invoice_and_needs_a_prescription():
    facts = DossierFacts("D", (doc(DocType.CARE_SHEET), doc(DocType.INVOICE, kind=InvoiceKind.PHARMACY)))
    assert codes(facts) == [ReasonCode.INVOICE_MISSING, ReasonCode.PRESCRIPTION_MISSING]
    with_rx = DossierFacts("D", facts.documents + (doc(DocType.PRESCRIPTION),
                                                   doc(DocType.INVOICE, kind=InvoiceKind.VETERINARY)))
    assert codes(with_rx) == []


def test_unreadable_file_is_reported_and_what_it_held_counts_as_absent():
    # contract: CARE_SHEET_MISSING when no page of the dossier is a care sheet; a corrupt file has no pages
    facts = DossierFacts("D", (doc(DocType.INVOICE, kind=InvoiceKind.VETERINARY),), (("x.pdf", "PDF endommagé"),))
    found = evaluate(facts)
    assert [f.code for f in found] == [ReasonCode.FILE_UNREADABLE, ReasonCode.CARE_SHEET_MISSING]
    assert "x.pdf" in found[0].message_fr and decide(found) == Decision.ILLEGIBLE


def test_illegible_only_when_no_readable_copy():
    blurred = doc(DocType.CARE_SHEET, legible=False)
    facts = DossierFacts("D", (blurred, doc(DocType.INVOICE)))
    found = evaluate(facts)
    assert [f.code for f in found] == [ReasonCode.CARE_SHEET_ILLEGIBLE]
    assert "photo floue" in found[0].message_fr
    facts2 = DossierFacts("D", (blurred, doc(DocType.CARE_SHEET), doc(DocType.INVOICE)))
    assert codes(facts2) == []


def test_undetermined_care_sheet_flags_never_fire():
    facts = DossierFacts("D", (doc(DocType.CARE_SHEET, care_sheet=CareSheetFacts()), doc(DocType.INVOICE)))
    assert codes(facts) == []


def test_a_shop_receipt_is_not_the_vet_invoice_but_an_unread_issuer_may_be():
    shop = DossierFacts("D", (doc(DocType.CARE_SHEET), doc(DocType.INVOICE, kind=InvoiceKind.OTHER)))
    assert codes(shop) == [ReasonCode.INVOICE_MISSING]
    unknown = DossierFacts("D", (doc(DocType.CARE_SHEET), doc(DocType.INVOICE, kind=None)))
    assert codes(unknown) == []
