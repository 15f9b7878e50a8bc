"""Who and what a dossier is about: owners, animals, clinics, visits, drugs, analyses (French pools).

`make_case(rng)` draws one coherent story: an owner, an animal, a clinic and its vet, a visit
with a motif, a diagnosis, acts, drugs, and the dates around it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from .common import chance, make_finess, make_siret, money, pick

FIRST = ["Marie", "Jean", "Sophie", "Pierre", "Nathalie", "Philippe", "Isabelle", "Laurent", "Céline",
         "Nicolas", "Aurélie", "Stéphane", "Émilie", "François", "Julie", "Hélène", "Mathieu", "Chloé",
         "Sébastien", "Camille", "Thierry", "Manon", "Gérard", "Léa", "Olivier", "Sandrine", "Benoît"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
        "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
        "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand",
        "Chevalier", "Gauthier", "Perrin", "Rousseau", "Blanchard", "Faure", "Guérin", "Boyer", "Lemoine"]
STREET_TYPES = ["rue", "avenue", "boulevard", "impasse", "chemin", "place", "allée", "route"]
STREETS = ["de la République", "Victor Hugo", "des Lilas", "Jean Jaurès", "du Général de Gaulle", "Pasteur",
           "des Tilleuls", "de la Gare", "du Moulin", "Gambetta", "des Acacias", "Émile Zola", "du Stade",
           "de Verdun", "Saint-Exupéry", "des Écoles", "de la Liberté", "Paul Bert", "des Vignes"]
TOWNS = [("69003", "Lyon", "04"), ("75011", "Paris", "01"), ("13008", "Marseille", "04"),
         ("31400", "Toulouse", "05"), ("33000", "Bordeaux", "05"), ("44000", "Nantes", "02"),
         ("67000", "Strasbourg", "03"), ("59000", "Lille", "03"), ("35000", "Rennes", "02"),
         ("38000", "Grenoble", "04"), ("21000", "Dijon", "03"), ("37000", "Tours", "02"),
         ("63000", "Clermont-Ferrand", "04"), ("74000", "Annecy", "04"), ("29200", "Brest", "02"),
         ("64000", "Pau", "05"), ("45000", "Orléans", "02"), ("84000", "Avignon", "04"),
         ("69100", "Villeurbanne", "04"), ("92100", "Boulogne-Billancourt", "01")]
DOG_NAMES = ["Médor", "Rex", "Filou", "Oscar", "Mozart", "Naya", "Paco", "Ulysse", "Vasco", "Loula",
             "Tango", "Rocky", "Iris", "Jazz", "Hercule", "Nala", "Pépette", "Sultan", "Gribouille"]
CAT_NAMES = ["Minou", "Félix", "Caramel", "Mimi", "Grisou", "Réglisse", "Pixel", "Tigrou", "Noisette",
             "Moustache", "Chipie", "Zéphyr", "Câline", "Plume", "Biscotte"]
DOG_BREEDS = ["Labrador", "Berger allemand", "Golden retriever", "Bouledogue français", "Jack Russell",
              "Cavalier King Charles", "Border collie", "Beagle", "Berger australien", "Croisé", "Teckel",
              "Yorkshire terrier", "Épagneul breton", "Staffordshire bull terrier", "Chihuahua"]
CAT_BREEDS = ["Européen", "Maine coon", "Persan", "Siamois", "Chartreux", "Sacré de Birmanie",
              "Ragdoll", "British shorthair", "Bengal", "Croisé"]

CLINIC_PREFIX = ["Clinique Vétérinaire", "Cabinet Vétérinaire", "Centre Vétérinaire",
                 "Clinique Vétérinaire", "Cabinet Vétérinaire", "Centre Hospitalier Vétérinaire"]
CLINIC_SUFFIX = ["des Tilleuls", "du Parc", "Saint-Roch", "des Quatre Saisons", "de la Croix-Rousse",
                 "du Lac", "des Alpes", "Pasteur", "de l'Étoile", "du Vieux Port", "des Capucins",
                 "Bellecour", "du Val de Loire", "des Marronniers", "de la Vallée", "Saint-Martin", "Les Érables"]

# motif -> (diagnoses, acts that go with them)
VISITS = {
    "accident": (["Plaie profonde coussinet antérieur gauche", "Fracture du radius droit",
                  "Morsure au cou (bagarre)", "Ingestion corps étranger", "Entorse du carpe",
                  "Traumatisme suite accident voie publique", "Lacération de l'oreille"],
                 ["Suture sous anesthésie", "Radiographie 2 vues", "Pansement", "Parage de plaie",
                  "Endoscopie", "Pose d'attelle", "Hospitalisation 24 h"]),
    "maladie": (["Otite externe bilatérale", "Gastro-entérite aiguë", "Dermatite allergique",
                 "Cystite idiopathique", "Conjonctivite", "Insuffisance rénale chronique", "Arthrose hanche",
                 "Diabète sucré", "Hyperthyroïdie", "Boiterie postérieur droit", "Toux chronique"],
                ["Examen clinique", "Bilan sanguin", "Échographie abdominale", "Analyse d'urine",
                 "Nettoyage auriculaire", "Injection anti-inflammatoire", "Perfusion", "Cytologie"]),
    "prevention": (["Vaccination annuelle CHPPiL", "Vaccination typhus coryza", "Bilan de santé annuel",
                    "Vermifugation et antiparasitaire", "Détartrage préventif"],
                   ["Vaccin", "Examen clinique", "Vermifuge", "Détartrage sous anesthésie"]),
}
# act label -> (min, max) price excluding tax
ACT_PRICES = {"Consultation": (35, 55), "Consultation de suivi": (25, 40), "Examen clinique": (30, 45),
              "Suture sous anesthésie": (120, 260), "Radiographie 2 vues": (70, 120), "Pansement": (15, 35),
              "Parage de plaie": (40, 80), "Endoscopie": (180, 350), "Pose d'attelle": (60, 110),
              "Hospitalisation 24 h": (60, 120), "Bilan sanguin": (60, 110), "Échographie abdominale": (80, 140),
              "Analyse d'urine": (25, 45), "Nettoyage auriculaire": (15, 30), "Injection anti-inflammatoire": (12, 25),
              "Perfusion": (40, 90), "Cytologie": (30, 60), "Vaccin": (45, 65), "Vermifuge": (8, 18),
              "Détartrage sous anesthésie": (150, 260)}
DRUGS = [("Metacam 1,5 mg/ml susp. buv. 32 ml", "3 gouttes/kg une fois par jour pendant 5 jours"),
         ("Clavaseptin 250 mg cp", "1 comprimé matin et soir pendant 10 jours"),
         ("Previcox 57 mg cp", "1 comprimé par jour au repas pendant 7 jours"),
         ("Surolan suspension auriculaire 15 ml", "5 gouttes dans chaque oreille 2 fois par jour, 7 jours"),
         ("Milbemax grand chien cp", "1 comprimé en une prise, à renouveler dans 3 mois"),
         ("Otoxolan gouttes auriculaires", "4 gouttes 2 fois par jour pendant 10 jours"),
         ("Rilexine 300 mg cp", "1 comprimé matin et soir pendant 14 jours"),
         ("Cortavance 76 ml", "2 pulvérisations par jour sur la zone atteinte"),
         ("Forthyron 200 µg cp", "1/2 comprimé matin et soir, contrôle T4 dans 1 mois"),
         ("Semintra 4 mg/ml sol. buv.", "1 ml par jour dans la nourriture"),
         ("Fortekor 5 mg cp", "1 comprimé par jour le matin"),
         ("Stronghold 45 mg", "1 pipette, à renouveler tous les mois"),
         ("Caninsulin 40 UI/ml", "8 UI matin et soir en sous-cutané"),
         ("Smecta 3 g sachet", "1 sachet 3 fois par jour pendant 3 jours")]
ANALYSES = [("Numération formule sanguine (NFS)", (18, 30)), ("Biochimie 8 paramètres", (35, 60)),
            ("T4 totale", (25, 40)), ("Analyse d'urine complète + culot", (20, 35)),
            ("Coproscopie parasitaire", (15, 25)), ("Examen histologique (1 prélèvement)", (55, 90)),
            ("Sérologie FIV / FeLV", (30, 45)), ("Culture bactériologique + antibiogramme", (45, 70)),
            ("SDMA", (20, 35)), ("Cortisol basal", (30, 45)), ("Fructosamine", (20, 32))]
LAB_NAMES = ["Laboratoire d'Analyses Vétérinaires", "Vet-Analyses", "LABOVET Diagnostics",
             "Laboratoire Vétérinaire Départemental", "BioVet Lab"]
PHARMACY_NAMES = ["Pharmacie du Marché", "Pharmacie Centrale", "Pharmacie de la Mairie", "Grande Pharmacie",
                  "Pharmacie des Halles", "Pharmacie du Centre"]
SHOP_NAMES = [("Animalis", "Croquettes Royal Canin 12 kg"), ("Jardiland", "Litière agglomérante 10 L"),
              ("Toilettage Chic & Chien", "Toilettage complet"), ("Maxi Zoo", "Harnais anti-traction"),
              ("Truffaut", "Arbre à chat 120 cm")]


@dataclass(frozen=True)
class Party:
    """A person or business with a postal address."""

    name: str
    street: str
    postcode: str
    town: str
    phone: str
    siret: str = ""
    extra: dict = field(default_factory=dict)  # e.g. {"ordre": "12345", "vet": "Dr ..."}


@dataclass(frozen=True)
class Case:
    """One coherent reimbursement story; documents are drawn from it."""

    owner: Party
    owner_first: str
    owner_last: str
    contract_number: str
    animal_name: str
    species: str  # "chien" | "chat"
    breed: str
    animal_birth: date
    animal_id: str
    clinic: Party
    vet_name: str  # "Dr Marie DUPONT"
    vet_ordre: str
    motif: str  # accident | maladie | prevention
    diagnosis: str
    acts: tuple[tuple[str, Decimal], ...]  # (label, price HT)
    drugs: tuple[tuple[str, str], ...]  # (drug, posology)
    visit_date: date
    symptoms_date: date
    surgery: bool
    description: str


def _street(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(1, 120))} {pick(rng, STREET_TYPES)} {pick(rng, STREETS)}"


def _phone(rng: np.random.Generator, prefix: str) -> str:
    return prefix + " " + " ".join(f"{int(x):02d}" for x in rng.integers(0, 100, 4))


def make_business(rng: np.random.Generator, name: str, **extra: str) -> Party:
    """A business with an address, a phone and a valid SIRET."""
    pc, town, tel = pick(rng, TOWNS)
    return Party(name, _street(rng), pc, town, _phone(rng, tel), make_siret(rng), dict(extra))


def make_case(rng: np.random.Generator, year: int = 2017) -> Case:
    """Draw one owner/animal/clinic/visit story."""
    first, last = pick(rng, FIRST), pick(rng, LAST)
    pc, town, tel = pick(rng, TOWNS)
    owner = Party(f"{first} {last}", _street(rng), pc, town, _phone(rng, pick(rng, ["06", "07", tel])))
    species = "chien" if chance(rng, 0.6) else "chat"
    animal = pick(rng, DOG_NAMES if species == "chien" else CAT_NAMES)
    breed = pick(rng, DOG_BREEDS if species == "chien" else CAT_BREEDS)
    vet_first, vet_last = pick(rng, FIRST), pick(rng, LAST)
    ordre = str(int(rng.integers(10000, 39999)))
    clinic = make_business(rng, f"{pick(rng, CLINIC_PREFIX)} {pick(rng, CLINIC_SUFFIX)}", ordre=ordre)
    clinic = Party(clinic.name, clinic.street, pc if chance(rng, 0.7) else clinic.postcode,
                   town if clinic.postcode == pc or chance(rng, 0.7) else clinic.town,
                   clinic.phone, clinic.siret, clinic.extra)
    motif = pick(rng, ["accident", "maladie", "prevention"], p=[0.3, 0.55, 0.15])
    diagnoses, act_pool = VISITS[motif]
    diagnosis = pick(rng, diagnoses)
    chosen = ["Consultation"] + [pick(rng, act_pool) for _ in range(int(rng.integers(0, 3)))]
    acts = tuple((a, money(rng.uniform(*ACT_PRICES[a]))) for a in dict.fromkeys(chosen))
    drugs = tuple(DRUGS[i] for i in rng.choice(len(DRUGS), int(rng.integers(1, 4)), replace=False))
    visit = date(year, 1, 1) + timedelta(days=int(rng.integers(0, 330)))
    symptoms = visit - timedelta(days=int(rng.integers(0, 12)))
    born = date(year - int(rng.integers(1, 14)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
    chip = "250" + "".join(str(int(x)) for x in rng.integers(0, 10, 12))
    tattoo = f"2{pick(rng, 'ABCDEFGHJK')}{pick(rng, 'ABCDEFGHJK')}{pick(rng, 'ABCDEFGHJK')}{int(rng.integers(100, 999))}"
    return Case(owner=owner, owner_first=first, owner_last=last,
                contract_number=f"SV-{int(rng.integers(1000, 9999))}-{int(rng.integers(0, 9999)):04d}",
                animal_name=animal, species=species, breed=breed, animal_birth=born,
                animal_id=chip if chance(rng, 0.75) else tattoo, clinic=clinic,
                vet_name=f"Dr {vet_first} {vet_last.upper()}", vet_ordre=ordre, motif=motif,
                diagnosis=diagnosis, acts=acts, drugs=drugs, visit_date=visit, symptoms_date=symptoms,
                surgery=any("anesthésie" in a or "Suture" in a for a, _ in acts),
                description=diagnosis if chance(rng, 0.6) else pick(rng, [
                    "Consultation vétérinaire", "Soins suite à un accident", "Remboursement consultation",
                    f"{animal} malade", "Vaccins", ""]))


def make_pharmacy(rng: np.random.Generator) -> Party:
    """A pharmacy with SIRET and FINESS."""
    return make_business(rng, pick(rng, PHARMACY_NAMES), finess=make_finess(rng))


def make_lab(rng: np.random.Generator) -> Party:
    """A veterinary analysis laboratory."""
    return make_business(rng, pick(rng, LAB_NAMES))
