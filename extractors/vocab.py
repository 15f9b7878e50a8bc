"""Everything the invoice reader knows about French (and a little English) invoices, as data.

Labels with their role and priority, excluded labels, date words, VAT rates, the
vocabularies that tell a veterinary invoice from a pharmacy's or a laboratory's, and the
words that tell an English page from a French one. The code in
extractors/invoice/{lines,labels,amounts,dates,siret,kind,cues,fields}.py only interprets
these tables: adding a label or a month spelling is a one-line change here. The cues that
say "this page is an invoice / a prescription / our care sheet" are the page classifier's,
in extractors/documents/vocab.py.

Phrases are written as printed; matching folds case and accents and ignores
punctuation and spaces (see extractors/invoice/lines.compact), so "Total T.T.C." matches "total ttc".
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Label:
    phrase: str
    role: str
    weight: float = 1.0  # priority among labels of the same role (1.0 = the strongest evidence)
    lang: str = "fr"


# --- roles --------------------------------------------------------------------------
# Amount family: the label an amount stands by decides what the amount is.
TOTAL = "total"  # the invoice total incl. VAT: what we want
TOTAL_SUFFIX = "total_suffix"  # "29,99 € TTC": a qualifier printed after the amount
HT = "ht"  # total excl. VAT
TVA = "tva"  # VAT amount
SUBTOTAL = "subtotal"
DEPOSIT = "deposit"  # acompte, already paid
DUE = "due"  # balance left to pay after a deposit
PAID = "paid"  # paid at the till (card, cash): on a receipt, the total once more
AMOUNT_OTHER = "amount_other"  # a label that owns its amount but is none of the above
# Date family.
DATE = "date"  # announces the invoice date
DATE_CONNECTOR = "date_connector"  # "le", "du": weak, only decides when nothing stronger precedes
DATE_EXCLUDED = "date_excluded"  # due, payment, delivery, birth, period dates: never the invoice's
DATE_WEAK = "date_weak"  # the visit, the act, the sample: the invoice's date only when nothing else is
NUMBER = "number"  # "Facture n°": announces the number, and a date after it is the invoice's
# Identity.
SIRET = "siret"
SIREN = "siren"  # RCS / SIREN / VAT numbers: the issuer's SIREN, to cross-check a SIRET
CLIENT = "client"  # opens the customer's (or the insurer's) block: a SIRET there is not the issuer's
NEUTRAL = "neutral"  # phrases that contain a label word but mean nothing here ("service client")

AMOUNT_ROLES = frozenset({TOTAL, TOTAL_SUFFIX, HT, TVA, SUBTOTAL, DEPOSIT, DUE, PAID, AMOUNT_OTHER})
DATE_ROLES = frozenset({DATE, DATE_CONNECTOR, DATE_EXCLUDED, DATE_WEAK, NUMBER})


def _labels(role: str, lang: str, *items: tuple[str, float] | str) -> tuple[Label, ...]:
    return tuple(
        Label(i, role, 1.0, lang) if isinstance(i, str) else Label(i[0], role, i[1], lang) for i in items
    )


LABELS: tuple[Label, ...] = (
    # Totals, strongest first. "Total" alone is weak: many invoices print it before HT/TVA lines.
    *_labels(
        TOTAL, "fr",
        ("Total TTC", 1.0), ("Montant total TTC", 1.0), ("Total toutes taxes comprises", 1.0),
        ("Montant TTC", 0.95), ("Total facture TTC", 1.0), ("Total T.T.C. à payer", 1.0),
        ("Net à payer", 0.9), ("Net à payer TTC", 0.95), ("Total à payer", 0.9), ("Montant à payer", 0.85),
        ("Somme à payer", 0.85), ("Total à régler", 0.85), ("Montant à régler", 0.85),
        ("Net à régler", 0.85), ("Total général", 0.8), ("Total facture", 0.75), ("Montant total", 0.7),
        ("Total net", 0.6), ("Total", 0.5), ("Montant", 0.3), ("TTC", 0.55), ("À payer", 0.6),
        ("Total de l'avoir", 0.9), ("Montant de l'avoir", 0.85), ("Total avoir", 0.85),
        # till receipts and bills
        ("Total TTC dû", 1.0), ("Total de la facture", 0.9), ("TTC EUR", 0.9),
        ("Totaux", 0.6),  # the VAT breakdown's last row: HT, TVA, TTC of the whole invoice
        ("Total à payer TTC", 1.0),
    ),
    *_labels(
        TOTAL, "en",
        ("Grand total", 0.8), ("Invoice total", 0.8), ("Total incl. VAT", 1.0),
        ("Total including VAT", 1.0), ("Total amount", 0.7), ("Total due", 0.75),
    ),
    *_labels(TOTAL_SUFFIX, "fr", ("TTC", 0.6)),
    *_labels(
        HT, "fr",
        ("Total HT", 1.0), ("Montant HT", 1.0), ("Total hors taxes", 1.0), ("Montant hors taxes", 1.0),
        ("Total H.T. net", 1.0), ("HT", 0.6), ("Base HT", 0.8), ("Total net HT", 1.0),
    ),
    *_labels(HT, "en", ("Net total", 0.9), ("Total excl. VAT", 1.0), ("Total excluding VAT", 1.0)),
    *_labels(
        TVA, "fr",
        ("Total TVA", 1.0), ("Montant TVA", 1.0), ("Total taxes", 0.95), ("TVA", 0.6), ("Taxes", 0.5),
        ("Dont TVA", 0.9), ("TVA collectée", 0.6),
    ),
    *_labels(TVA, "en", ("Tax total", 0.95), ("Total tax", 0.95), ("VAT", 0.6), ("Tax", 0.5),
             ("VAT amount", 1.0)),
    *_labels(SUBTOTAL, "fr", "Sous-total", "Sous total", "Total lignes", "Total brut", "Remise",
             "Escompte", "Frais de port", "Prix unitaire", "P.U.", "P.U. HT", "Prix", "Prix HT"),
    *_labels(SUBTOTAL, "en", "Subtotal", "Sub-total", "Discount", "Unit price", "Price"),
    *_labels(DEPOSIT, "fr", "Acompte", "Acompte versé", "Déjà réglé", "Déjà payé", "Déjà versé",
             "Versement", "Avance", "Règlement reçu", "Montant réglé", "Réglé", "Payé", "Virement",
             "Vir SEPA"),
    # a till receipt's payment lines: what was paid at the till, by card or in cash (its total)
    *_labels(PAID, "fr", "Chèque", "Carte bancaire", "Espèces", "CB", "Card", "CB EMV", "Paiement CB", "Carte bleue", "CB sans contact", "Cash",
             "Montant payé", "Paiement carte", "Carte", "Payé CB", "Payé carte"),
    *_labels(DEPOSIT, "en", "Advance payment", "Paid", "Amount paid", "Deposit", "Wire transfer"),
    *_labels(DUE, "fr", "Solde à payer", "Reste à payer", "Solde dû", "Reste dû", "Solde",
             "Montant restant dû", "Restant dû", "Solde à régler", "Reste à régler"),
    *_labels(DUE, "en", "Residual", "Balance", "Balance due", "Amount due", "Remaining"),
    *_labels(AMOUNT_OTHER, "fr", "Rendu", "Rendu monnaie", "Monnaie rendue", "Capital", "Au capital de", "Indemnité forfaitaire", "Base", "Quantité",
             "Qté", "Taux", "Commande >", "Franco de port"),
    # Dates. NUMBER labels also announce a date: "Facture n° 12 du 02/07/2015".
    *_labels(
        DATE, "fr",
        ("Date de facture", 1.0), ("Date facture", 1.0), ("Date de la facture", 1.0),
        ("Date d'émission", 0.95), ("Émise le", 0.95), ("Émis le", 0.9), ("Facturé le", 0.95),
        ("Date de facturation", 1.0), ("Facture du", 0.95), ("Date de l'avoir", 0.95),
        ("Date d'avoir", 0.95), ("Date", 0.7), ("Fait le", 0.6), ("Édité le", 0.8), ("Établie le", 0.8),
        ("Date de la note", 0.9), ("Date du document", 0.8), ("Date de création", 0.6),
    ),
    *_labels(DATE, "en", ("Invoice date", 1.0), ("Date of issue", 0.95), ("Issue date", 0.95),
             ("Invoice dated", 0.95)),
    *_labels(DATE_CONNECTOR, "fr", ("le", 0.4), ("du", 0.4), ("en date du", 0.6)),
    *_labels(
        DATE_EXCLUDED, "fr",
        "Échéance", "Date d'échéance", "Date limite", "Date limite de paiement", "Paiement", "Payé le",
        "Réglé le", "Règlement", "Virement", "Vir SEPA", "SEPA", "Prélèvement", "Prélevé le",
        "À partir du", "Date de livraison", "Livraison", "Livré le", "Expédition", "Date d'expédition",
        "Naissance", "Date de naissance", "Né le", "Née le", "Vaccin", "Vaccination",
        "Rappel", "Prochain rappel", "Prochaine visite", "Prochain rendez-vous", "Rendez-vous",
        "Valable jusqu'au", "Jusqu'au", "Au", "Période", "Période du",
        "Devis", "Date du devis", "Acompte", "Encaissement", "Date de règlement", "Date de paiement",
        "Identification", "Mise en circulation", "Publication", "Parution",
        # travel, stamps and reprints: a trip's dates, an arrival stamp, a ticket printed again later
        "Date de départ", "Date de retour", "Départ", "Retour", "Date d'arrivée", "Arrivée", "Aller", "Reçu le",
        "Arrivé le", "Service fait", "Date de réception", "Réceptionné le", "Imprimé le", "Réimprimé le",
        "Date d'impression",
    ),
    *_labels(
        DATE_WEAK, "fr",
        ("Consultation", 0.1), ("Consultation du", 0.1), ("Date de consultation", 0.15),
        ("Date de la consultation", 0.15), ("Date de visite", 0.15), ("Acte", 0.1), ("Date de l'acte", 0.15),
        ("Date des soins", 0.15), ("Hospitalisation", 0.1), ("Date d'entrée", 0.1), ("Date de sortie", 0.1),
        ("Date de prélèvement", 0.15), ("Date de commande", 0.1),
    ),
    *_labels(DATE_EXCLUDED, "en", "Due date", "Payment", "Payment date", "Due", "Delivery date",
             "Delivery", "Wire transfer", "Transfer", "Order date", "Ship date", "Valid until"),
    *_labels(NUMBER, "fr", ("Facture", 0.8), ("Facture n°", 0.85), ("N° de facture", 0.85),
             ("Numéro de facture", 0.85), ("Avoir", 0.8), ("Avoir n°", 0.85), ("Note d'honoraires", 0.8),
             ("Note d'honoraires n°", 0.85), ("Reçu", 0.6), ("Reçu n°", 0.7), ("Facture acquittée", 0.8),
             ("Ticket", 0.6), ("Ticket n°", 0.6)),
    *_labels(NUMBER, "en", ("Invoice", 0.8), ("Invoice no", 0.85), ("Invoice number", 0.85),
             ("Credit note", 0.8), ("Receipt", 0.6)),
    # Identity.
    *_labels(SIRET, "fr", "SIRET", "N° SIRET", "SIRET n°", "Numéro SIRET", "N° de SIRET", "Siret :",
             "S1RET", "SlRET", "SIRFT"),
    *_labels(SIREN, "fr", "SIREN", "RCS", "RSC", "R.C.S.", "N° TVA", "TVA intracommunautaire",
             "N° de TVA intracommunautaire", "N° TVA intracommunautaire", "Identifiant TVA", "VAT number"),
    *_labels(CLIENT, "fr", "Client", "N° client", "Code client", "Destinataire", "Facturé à", "Adressé à",
             "Adresse de facturation", "Adresse de livraison", "Livré à", "Acheteur", "Propriétaire",
             "Assuré", "Assureur", "Compagnie d'assurance", "Mutuelle", "Organisme payeur", "Tiers payant",
             "Prise en charge", "N° TVA client", "Votre SIRET",
             "SIRET client", "Donneur d'ordre"),
    *_labels(CLIENT, "en", "Customer", "Bill to", "Billed to", "Ship to", "Sold to", "Buyer",
             "Customer VAT number", "Delivery address"),
    *_labels(NEUTRAL, "fr", "Service client", "Service clients", "Espace client", "Relation client",
             "Contact commercial", "Conditions de paiement", "Modes de règlement", "Mode de règlement",
             "Pénalité de retard", "Paiement anticipé", "Numéro de dossier", "Numéro de ligne"),
    *_labels(NEUTRAL, "en", "Payment terms", "Sales contact"),
)

NUMBER_FILLERS = ("n", "no", "n°", "nº", "numero", "du", "#", ":")  # between "Facture" and its number

# Fuzzy label matching (OCR): labels at least this long (compact form) may match
# with a difflib ratio this high; shorter ones ("TVA", "HT", "le") must match exactly.
FUZZY_MIN_CHARS = 5  # short labels differ from one another by a letter or two ("TTC", "TVA", "HT"): exact only
FUZZY_MIN_RATIO = 0.8  # one misread letter in five or more ("IOTAL", "Total TIC": 0.8, 0.875), never two in a short label

# --- dates -----------------------------------------------------------------------------
MONTHS: dict[str, int] = {
    # French, full and abbreviated, with and without accents (OCR drops them).
    "janvier": 1, "janv": 1, "jan": 1,
    "fevrier": 2, "fevr": 2, "fev": 2, "fevier": 2,
    "mars": 3, "mar": 3,
    "avril": 4, "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7, "juil": 7, "jul": 7,
    "aout": 8, "aou": 8,
    "septembre": 9, "sept": 9, "sep": 9,
    "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
    # English.
    "january": 1, "february": 2, "feb": 2, "march": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "august": 8, "aug": 8, "september": 9, "october": 10,
    "november": 11, "december": 12,
}
DAY_SUFFIXES = ("er", "ere", "e", "eme", "st", "nd", "rd", "th")  # "1er février", "3rd"
# "13.11.17" -> 2017; "13.11.85" -> 1985 (then refused by YEAR_MIN): any pivot from next year's two digits
# up to 90 reads every accepted date the same; 70 keeps doing so until the late 2060s.
TWO_DIGIT_YEAR_PIVOT = 70
YEAR_MIN = 1990  # dates outside [YEAR_MIN, this year + 1] are not invoice dates: a claim brings recent invoices
YEAR_MAX_AHEAD = 1  # one year of slack for an invoice dated at the turn of the year (or a clock off)
# Date weights below rank a bare date under every date label (0.4-1.0) and over the weak ones (0.1-0.15).
DATE_UNLABELLED_WEIGHT = 0.25  # a date with no label at all
DATE_ABOVE_FACTOR = 0.85  # a label on the line above (table header) counts this much: a label beside it wins ties
# "Facture n° 12 ... du 02/07/2015": an invoice word earlier on the line; lifts "du" (0.4) to a plain "Date" (0.7).
DATE_INVOICE_CUE_BONUS = 0.3
# A date on a line that also holds amounts is probably a line item: a bare one drops to a consultation date's 0.1.
DATE_TABLE_ROW_PENALTY = 0.15

# --- amounts ----------------------------------------------------------------------------
VAT_RATES_PERCENT = (20.0, 10.0, 8.5, 5.5, 2.1, 1.05, 0.0)  # France, DOM (8.5, 2.1), Corsica aside
AMOUNT_TOLERANCE = 0.011  # euros: HT + TVA may differ from TTC by a rounding cent
AMOUNT_ABOVE_FACTOR = 0.85  # value under its label (stacked label / one-row table): a label beside it wins ties
# HT + TVA = TTC (or HT x rate) confirms a candidate: more than the spread of the strong total labels
# (0.85-1.0), so among those the one the arithmetic confirms wins.
AMOUNT_ARITHMETIC_BONUS = 0.3
# Equals the balance printed after a deposit: takes a "Net à payer" (0.9) down to a bare "Total" (0.5).
AMOUNT_IS_BALANCE_PENALTY = 0.4
# A value cell finds its column header this many rows up, through rows of values only: a dozen line
# items; further up, a header is too far away to trust.
TABLE_MAX_ROWS = 12
# The total equals the sum of the line items or of the per-VAT-rate rows: more than the arithmetic bonus,
# so the grand total beats one VAT row whose own HT + TVA = TTC holds.
AMOUNT_SUM_BONUS = 0.4
# A till receipt's payment line ("CB EUR 11,10") stands for its total: weaker than any total label, but
# printed once more elsewhere on the receipt (the total line OCR garbled) it wins over a lone weak one.
AMOUNT_PAID_WEIGHT = 0.45
# A label followed by several amounts with no a + b = c among them and no TTC column header over them
# ("Total 15,04 1,96": a VAT breakdown's HT and TVA): taking the rightmost is a guess; it weighs this much
# of its label, so that the same label beside a single amount wins.
AMOUNT_RUN_GUESS_FACTOR = 0.7
# Each further label that gives the same value: small, so two weak labels agreeing ("Total" 0.5 + 0.1)
# do not outrank one strong label ("Net à payer" 0.9).
AMOUNT_AGREEMENT_BONUS = 0.1
TTC_COLUMN_HEADERS = ("TTC", "Total TTC", "Montant TTC")  # a header over the total's column in a totals row
CURRENCY_SYMBOLS = ("€", "£", "$")
CURRENCY_WORDS = ("eur", "euro", "euros", "gbp", "usd", "chf")
OCR_CURRENCY_LOOKALIKES = ("e", "c", "ce")  # "€" as Tesseract sometimes reads it

# --- SIRET ------------------------------------------------------------------------------
# Against 1.0 for a labelled one: with both bonuses below (0.5 + 0.2 + 0.1 = 0.8) an unlabelled SIRET
# still loses to a labelled one.
SIRET_UNLABELLED_WEIGHT = 0.5
SIRET_MATCHES_SIREN_BONUS = 0.2  # its first 9 digits are the RCS/SIREN/VAT number printed elsewhere
# The issuer prints its identity at the top or the bottom: weaker evidence than a matching SIREN.
SIRET_HEADER_FOOTER_BONUS = 0.1
HEADER_SHARE, FOOTER_SHARE = 0.3, 0.25  # of the page height: an A4 letterhead, and the legal footer
# A client label this many lines above, same column, claims a SIRET: label, name, street, town and
# an id or two make an address block; a blank gap (BLOCK_GAP) ends it sooner. A Chorus-Pro invoice's
# "Client" column holds entity, name, street, town, country, "Références" and then the SIRET: 7 lines down.
CLIENT_BLOCK_LINES = 9
# A digit run this long with no valid SIRET in it: small print worth a second look (14 digits, up to
# three of them dropped or misread).
SIRET_REREAD_MIN_DIGITS = 11
# OCR confusions inside digit runs, applied only where the result then passes a check.
OCR_DIGIT_LOOKALIKES = {"O": "0", "o": "0", "D": "0", "Q": "0", "l": "1", "I": "1", "i": "1", "|": "1",
                        "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2", "G": "6", "g": "9", "T": "7"}

# --- invoice kind: issuer vocabularies ---------------------------------------------------
# Longest phrase wins where phrases overlap; negative weights cancel a look-alike
# ("prélèvement automatique" is a direct debit, not a lab sample).
KIND_VOCAB: dict[str, tuple[tuple[str, float], ...]] = {
    "veterinary": (
        ("clinique vétérinaire", 3), ("cabinet vétérinaire", 3), ("centre hospitalier vétérinaire", 3),
        ("centre vétérinaire", 3), ("hôpital vétérinaire", 3), ("cabinet de médecine vétérinaire", 3),
        ("CHV", 2), ("Dr vétérinaire", 3), ("docteur vétérinaire", 3), ("docteurs vétérinaires", 3),
        ("vétérinaire", 1), ("vétérinaires", 1), ("N° Ordre", 2), ("ordre des vétérinaires", 3),
        ("inscrit à l'ordre", 2), ("N° d'inscription", 1), ("consultation", 1), ("vaccin", 1),
        ("vaccination", 1), ("rappel vaccin", 1), ("stérilisation", 1), ("castration", 1),
        ("détartrage", 1), ("hospitalisation", 1), ("anesthésie", 1), ("chirurgie", 1),
        ("radiographie", 1), ("échographie", 1), ("euthanasie", 1), ("identification", 0.5),
        ("vermifuge", 0.5), ("antiparasitaire", 0.5), ("chien", 0.5), ("chat", 0.5),
        ("animal", 0.5), ("espèce", 0.5), ("acte", 0.3), ("visite", 0.3), ("urgence", 0.3),
    ),
    "pharmacy": (
        ("pharmacie", 3), ("pharmacien", 3), ("pharmacienne", 3), ("docteur en pharmacie", 3),
        ("officine", 3), ("CIP", 2), ("code CIP", 2), ("FINESS", 1.5), ("parapharmacie", 2),
        ("pharmacie vétérinaire", 3), ("médicaments", 0.5), ("boîte", 0.3), ("comprimés", 0.3),
        ("délivrance", 1), ("dispensation", 1),
    ),
    "laboratory": (
        ("laboratoire d'analyses", 3), ("laboratoire d'analyses vétérinaires", 4),
        ("analyses vétérinaires", 3), ("laboratoire", 1.5), ("biologie", 2), ("biologie vétérinaire", 3),
        ("biologiste", 2), ("prélèvement", 1), ("échantillon", 1), ("hématologie", 1), ("biochimie", 1),
        ("sérologie", 1), ("histologie", 1), ("cytologie", 1), ("bactériologie", 1), ("PCR", 1),
        ("laboratoire vétérinaire", 3), ("laboratoire départemental", 3), ("lab", 1.5), ("analyses", 0.5),
        ("histologique", 1), ("bactériologique", 1), ("coproscopie", 1), ("antibiogramme", 1),
        ("compte rendu d'analyses", 1.5), ("diagnostics", 0.5),
        ("numération formule", 1), ("IDEXX", 3), ("LABOKLIN", 3), ("VEBIO", 3), ("Antagene", 2),
        ("dossier patient", 0.3), ("résultats d'analyses", 1),
    ),
    "_none": (  # look-alikes that must not count for any kind
        ("prélèvement automatique", 0), ("avis de prélèvement", 0), ("prélèvement SEPA", 0),
        ("mandat de prélèvement", 0), ("date de prélèvement", 0), ("pharmacie de garde", 0),
        ("frais vétérinaires", 0), ("feuille de soins", 0),
    ),
}
# Below: the issuer is some other business. One naming phrase ("pharmacie", 3) gets there; one or two
# loose body words (0.3-1 each: "consultation", "chien") do not.
KIND_MIN_SCORE = 2.5
KIND_HEADER_LINES = 12  # issuer vocabulary in the first lines (the letterhead: name, address, phones, ids)...
# ...counts this much more than in the body: the issuer names itself at the top, the body may quote
# another trade (the "Pharmacie" section of a vet's invoice).
KIND_HEADER_FACTOR = 2.0
# A cue phrase counts at most this many times (a long invoice repeats "TVA" on every line): for the
# issuer's kind here and the page-type cues of extractors/documents/vocab.py.
CUE_MAX_REPEATS = 3

# --- language of a page (for ambiguous numeric dates) ---------------------------------------
# Words shared by both languages ("date", "total") are left out. English wins only clearly: French
# invoices quote some English ("invoice", "number"), so it takes half again as many English words.
LANG_EN_RATIO = 1.5
LANG_WORDS: dict[str, tuple[str, ...]] = {
    "fr": ("le", "la", "les", "des", "du", "et", "à", "de", "facture", "montant", "paiement", "date de",
           "total ttc", "réglé", "adresse", "prix", "quantité", "vétérinaire"),
    "en": ("the", "and", "of", "to", "for", "invoice", "amount", "payment", "due", "address",
           "price", "quantity", "reference", "number", "bank", "following", "your", "terms"),
}
