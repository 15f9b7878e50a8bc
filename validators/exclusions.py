"""The exclusions of the general conditions, chapter 2 C ("CE QUI EST EXCLU"), as French keywords.

Data only (/work/shared/seeds/004_*.txt, chapter 2 C; chapters 3 C and 4 C add to it by reference):
each entry names the clause it comes from, the words that name it on a care sheet or an invoice
line, and the words that, beside them, mean the care is *not* that exclusion (a vaccination
against typhus is prevention, not the disease). `validators.consistency.rule_exclusion_hint`
matches them tolerantly (case, accents, a letter or two misread); a match is a hint for the
claims handler, never a decision.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Exclusion:
    clause: str  # the clause of chapter 2 C, in the general conditions' words (shortened)
    keywords: tuple[str, ...]  # a word or a few words; matched as whole words
    unless: tuple[str, ...] = ()  # beside any of these the keyword is not the exclusion
    max_age_years: float | None = None  # the exclusion holds only below this age of the animal


CHAPTER = "conditions générales, chapitre 2 C"
EXCLUSIONS: tuple[Exclusion, ...] = (
    Exclusion("maladies qui auraient pu être évitées par les vaccins préventifs (chien)",
              ("maladie de carré", "hépatite de rubarth", "leptospirose", "parvovirose", "rage"),
              unless=("vaccin", "vaccination", "rappel", "antirabique")),
    Exclusion("maladies qui auraient pu être évitées par les vaccins préventifs (chat)",
              ("typhus", "coryza", "calicivirose", "leucose féline", "leucose"),
              unless=("vaccin", "vaccination", "rappel")),
    Exclusion("frais d'alimentation même diététique, thérapeutique, compléments alimentaires",
              ("croquettes", "alimentation", "aliment diététique", "aliment thérapeutique", "complément alimentaire",
               "compléments alimentaires", "pâtée", "friandises")),
    Exclusion("produits cosmétiques, d'entretien, d'hygiène ou de confort, lotions, shampoings, dentifrices",
              ("shampoing", "shampooing", "dentifrice", "cosmétique", "lotion", "toilettage", "produit d'hygiène")),
    Exclusion("frais d'identification : puce électronique ou tatouage",
              ("puce électronique", "pose de puce", "identification", "tatouage", "transpondeur")),
    Exclusion("frais d'établissement d'un passeport ou de tout autre document", ("passeport",)),
    Exclusion("frais d'autopsie ou d'incinération", ("autopsie", "nécropsie", "incinération", "crémation")),
    Exclusion("ovariectomie et castration avant l'âge de 4 ans",
              ("castration", "ovariectomie", "ovariohystérectomie", "stérilisation"), max_age_years=4.0),
    Exclusion("visite d'évaluation comportementale, visite « chien mordeur », trouble du comportement",
              ("comportementale", "comportemental", "comportement", "chien mordeur")),
    Exclusion("diagnostic et soin de la rage, tests antirabiques", ("test antirabique", "titrage antirabique")),
    Exclusion("mises bas et césariennes non occasionnées par un accident, frais de gestation",
              ("mise bas", "césarienne", "gestation", "insémination", "avortement")),
    Exclusion("chirurgie esthétique (taille et correction des oreilles, taille de la queue)",
              ("caudectomie", "otectomie", "taille des oreilles", "taille de la queue")),
    Exclusion("prothèses oculaires, dentaires, appareillages externes", ("prothèse",)),
)
