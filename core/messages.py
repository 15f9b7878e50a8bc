"""What the client and the operator read: decisions, portal statuses, reason messages (French).

Data, in one place. The contract fixes the codes and statuses; wording may evolve.
"""
from __future__ import annotations

from core.records import Decision, InvoiceKind, ReasonCode

STATUS_FR: dict[Decision, str] = {
    Decision.ACCEPT: "A traiter",
    Decision.REQUEST_DOCUMENTS: "En attente de documents supplémentaires",
    Decision.ILLEGIBLE: "Illisible",
}

# The decision each reason implies (contract §2); precedence is in validators.rules.decide.
IMPLIES: dict[ReasonCode, Decision] = {
    ReasonCode.CARE_SHEET_MISSING: Decision.REQUEST_DOCUMENTS,
    ReasonCode.INVOICE_MISSING: Decision.REQUEST_DOCUMENTS,
    ReasonCode.CARE_SHEET_ILLEGIBLE: Decision.ILLEGIBLE,
    ReasonCode.INVOICE_ILLEGIBLE: Decision.ILLEGIBLE,
    ReasonCode.FILE_UNREADABLE: Decision.ILLEGIBLE,
    ReasonCode.VET_STAMP_MISSING: Decision.REQUEST_DOCUMENTS,
    ReasonCode.VET_SIGNATURE_MISSING: Decision.REQUEST_DOCUMENTS,
    ReasonCode.OWNER_SIGNATURE_MISSING: Decision.REQUEST_DOCUMENTS,
    ReasonCode.MEDICAL_SECTION_INCOMPLETE: Decision.REQUEST_DOCUMENTS,
    ReasonCode.CARE_SHEET_UNDATED: Decision.REQUEST_DOCUMENTS,
    ReasonCode.PRESCRIPTION_MISSING: Decision.REQUEST_DOCUMENTS,
    # A dossier whose manifest we cannot trust is looked at by a person.
    ReasonCode.MANIFEST_INVALID: Decision.REQUEST_DOCUMENTS,
    # Our own machinery failed on this dossier: a person looks, the client is asked again.
    ReasonCode.PROCESSING_ERROR: Decision.ILLEGIBLE,
    # Contract §5: implies no decision. ACCEPT is the lowest rank, so it never changes the one the other
    # reasons give; the dossier goes to an operator's review with the earlier dossier's id (evidence).
    ReasonCode.DUPLICATE_INVOICE: Decision.ACCEPT,
    # Contract §5: the dossier checked against itself; for the operator and the claims handler, no decision.
    ReasonCode.AMOUNT_MISMATCH: Decision.ACCEPT,
    ReasonCode.DATE_MISMATCH: Decision.ACCEPT,
    ReasonCode.ANIMAL_MISMATCH: Decision.ACCEPT,
    ReasonCode.CONTRACT_MISMATCH: Decision.ACCEPT,
    ReasonCode.CLAIM_TIME_BARRED: Decision.ACCEPT,
    ReasonCode.EXCLUSION_HINT: Decision.ACCEPT,
}

MESSAGES_FR: dict[ReasonCode, str] = {
    ReasonCode.CARE_SHEET_MISSING: "La feuille de soins est absente de votre envoi.",
    ReasonCode.INVOICE_MISSING: "La facture du vétérinaire est absente de votre envoi.",
    ReasonCode.CARE_SHEET_ILLEGIBLE: "La feuille de soins est illisible.",
    ReasonCode.INVOICE_ILLEGIBLE: "La facture est illisible.",
    ReasonCode.FILE_UNREADABLE: "Un fichier envoyé ne peut pas être ouvert.",
    ReasonCode.VET_STAMP_MISSING: "Le cachet du vétérinaire est absent de la feuille de soins.",
    ReasonCode.VET_SIGNATURE_MISSING: "La signature du vétérinaire est absente de la feuille de soins.",
    ReasonCode.OWNER_SIGNATURE_MISSING: "Votre signature est absente de la feuille de soins (partie administrative).",
    ReasonCode.MEDICAL_SECTION_INCOMPLETE: (
        "La partie médicale de la feuille de soins est incomplète "
        "(motif de la consultation et diagnostic à remplir par le vétérinaire)."
    ),
    ReasonCode.CARE_SHEET_UNDATED: "La feuille de soins n'est pas datée.",
    ReasonCode.PRESCRIPTION_MISSING: (
        "L'ordonnance du vétérinaire doit accompagner la facture de pharmacie ou de laboratoire."
    ),
    ReasonCode.MANIFEST_INVALID: "Votre envoi n'a pas pu être enregistré correctement.",
    ReasonCode.PROCESSING_ERROR: "Votre envoi n'a pas pu être traité automatiquement.",
    ReasonCode.DUPLICATE_INVOICE: (
        "Cette facture nous a déjà été envoyée avec une demande précédente : un gestionnaire va la vérifier."
    ),
    ReasonCode.AMOUNT_MISMATCH: (
        "Le total de la feuille de soins ne correspond pas à celui de la facture : un gestionnaire va le vérifier."
    ),
    ReasonCode.DATE_MISMATCH: (
        "Les dates de la feuille de soins, de la facture et de votre demande ne concordent pas : "
        "un gestionnaire va les vérifier."
    ),
    ReasonCode.ANIMAL_MISMATCH: (
        "L'animal de la feuille de soins n'est pas celui de votre demande : un gestionnaire va le vérifier."
    ),
    ReasonCode.CONTRACT_MISMATCH: (
        "Le numéro de contrat de la feuille de soins n'est pas celui de votre demande : un gestionnaire va le vérifier."
    ),
    ReasonCode.CLAIM_TIME_BARRED: (
        "La facture date de plus de deux ans (prescription, article L114-1 du Code des assurances) : "
        "un gestionnaire va examiner votre demande."
    ),
    ReasonCode.EXCLUSION_HINT: (
        "Un soin mentionné pourrait relever d'une exclusion du contrat (chapitre 2 C des conditions générales) : "
        "un gestionnaire va l'examiner."
    ),
}


def message_fr(code: ReasonCode, detail: str = "") -> str:
    """The client message for a reason, with an optional detail ("photo floue", a file name)."""
    base = MESSAGES_FR[code]
    if not detail:
        return base
    return f"{base[:-1]} : {detail}."

# The kinds of issuer of an invoice (contract §5's invoice_kind values), as the operator reads them.
KIND_FR: dict[InvoiceKind, str] = {InvoiceKind.VETERINARY: "vétérinaire", InvoiceKind.PHARMACY: "pharmacie",
                                   InvoiceKind.LABORATORY: "laboratoire", InvoiceKind.OTHER: "autre"}

# Readability defects (extractors.pages.readability names them) in the words a client understands.
READABILITY_DEFECTS_FR: dict[str, str] = {
    "blur": "photo floue",
    "dark": "image trop sombre",
    "overexposed": "image surexposée (trop claire)",
    "low_contrast": "texte trop pâle ou image trop granuleuse",
    "low_resolution": "résolution insuffisante (texte trop petit)",
    "compression": "image trop compressée",
    "cut_off": "document coupé",
    "no_text": "aucun texte lisible",
}
