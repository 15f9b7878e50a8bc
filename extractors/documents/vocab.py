"""What says "this page is an invoice / a prescription / our care sheet", as data.

Cue phrases with their weights, and the few constants that turn their sums into a page
type (extractors/documents/scores.py, extractors/documents/classify.py). Phrases are
written as printed; matching folds case and accents and ignores punctuation
(extractors/invoice/cues.py), each phrase counting at most `extractors.vocab.CUE_MAX_REPEATS` times.
"""
from __future__ import annotations

INVOICE_CUES: tuple[tuple[str, float], ...] = (
    ("facture", 2), ("facture acquittée", 3), ("note d'honoraires", 3), ("reçu", 1), ("avoir", 1),
    ("ticket de caisse", 2), ("ticket", 1),
    ("total TTC", 2), ("montant TTC", 1.5), ("net à payer", 2), ("total à payer", 2), ("TVA", 1),
    ("total HT", 1.5), ("SIRET", 1), ("montant", 0.5), ("invoice", 2), ("total", 0.5),
    ("réglé", 0.5), ("règlement", 0.5), ("quantité", 0.5), ("prix unitaire", 0.5), ("P.U.", 0.5),
    # till receipts and bills: what a shop, a restaurant, a taxi or a hotel prints
    ("note de frais", 2), ("justificatif", 1.5), ("justificatif de paiement", 2), ("addition", 1.5),
    ("facturette", 2), ("duplicata", 1), ("TTC", 1),
    ("carte bancaire", 1), ("CB", 1), ("espèces", 1), ("rendu", 1), ("à payer", 1.5), ("à régler", 1.5),
    ("merci de votre visite", 1), ("pro-forma", 1),
)
# An amount printed beside a totals or payment word on one line ("TOTAL 20,00", "CB EUR 11.10",
# "A PAYER 4.50"): the strongest cue there is, read even when OCR garbled the rest of the page.
INVOICE_LABELLED_AMOUNT_WORDS = ("total", "tot", "ttc", "net", "payer", "regler", "cb", "carte", "card",
                                 "especes", "rendu", "tva", "montant")
INVOICE_LABELLED_AMOUNT_WEIGHT = 1.5  # per such line, counted CUE_MAX_REPEATS times at most
PRESCRIPTION_CUES: tuple[tuple[str, float], ...] = (
    ("ordonnance", 3), ("Rp", 2), ("posologie", 2), ("à renouveler", 1.5),
    ("renouvelable", 1.5), ("ne pas renouveler", 1.5), ("prescrit", 1), ("prescription", 1),
    ("prescripteur", 1), ("vétérinaire", 0.5), ("comprimé", 0.5), ("comprimés", 0.5),
    ("matin et soir", 1), ("fois par jour", 1), ("par jour", 0.5), ("pendant", 0.3), ("jours", 0.3),
    ("durée du traitement", 1.5), ("traitement", 0.5), ("mg/kg", 1), ("gélule", 0.5), ("sachet", 0.3),
    ("voie orale", 1), ("usage vétérinaire", 1), ("à administrer", 1), ("administrer", 0.5),
)
CARE_SHEET_CUES: tuple[tuple[str, float], ...] = (
    ("feuille de soins", 6), ("partie administrative", 3), ("partie médicale", 3),
    ("partie financière", 3), ("demande de remboursement", 2),
)
CARE_SHEET_CUE_MIN = 6.0  # the title alone, or two of the form's section titles: the page is our care sheet
# Three printed amounts alone (3 x 0.5 = 1.5 of 6) score 0.25: not an invoice by themselves, but
# enough for a lines-only page to join the invoice beside it (INVOICE_CONTINUATION_MIN).
INVOICE_MONEY_WEIGHT = 0.5  # each printed amount with a currency (at most CUE_MAX_REPEATS)
# "Facture" + "Total TTC" + "TVA" + "SIRET" (2 + 2 + 1 + 1): a plain invoice's title and totals read as fully one.
INVOICE_SCORE_SATURATION = 6.0  # raw cue weight at which invoice_score reaches 1.0
# "Ordonnance" + "Rp" + one dosage line ("matin et soir"): a plain prescription reads as fully one.
PRESCRIPTION_SCORE_SATURATION = 6.0  # raw cue weight at which prescription_score reaches 1.0
# Raw weight 3: "facture" with one totals label, or a title only invoices print ("note d'honoraires");
# a stray "total" or "TVA" on some other page does not get there.
INVOICE_SCORE_THRESHOLD = 0.5
# Raw weight 3: the word "ordonnance" alone, or "Rp" with a dosage; a drug's name and "comprimés" do not.
PRESCRIPTION_SCORE_THRESHOLD = 0.5
# A pharmacy invoice quotes the prescription ("Ordonnance du ...", "Prescripteur", doses) while a
# prescription carries no invoice cues at all (score 0 on every sample): a page that reads as an
# invoice is one unless it reads far more as a prescription.
PRESCRIPTION_OVER_INVOICE_MARGIN = 0.5
# A page of a multi-page invoice without the totals (lines only: "Facture du", "Prix unitaire"...)
# joins the invoice page beside it in the same file when it scores at least this much.
INVOICE_CONTINUATION_MIN = 0.25
# A page uploaded in the invoice slot that reads as no type but carries some invoice cues (a till receipt
# OCR garbled: "Total" and two amounts, or one amount beside a totals word) is the invoice the client
# says it is; a photo of the pet or an x-ray there has none (score 0) and stays "other".
INVOICE_SLOT_MIN = 0.25
# Two invoice numbers this alike (difflib ratio) are one number read twice: "FA-2023-0142" and
# "FA-2023-O142" (a misread letter in 10) are 0.9; two invoices' numbers differ in more than one character.
OTHER_NUMBER_MAX_RATIO = 0.85
