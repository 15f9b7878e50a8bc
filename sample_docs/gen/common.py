"""Shared helpers of the generator: seeded randomness, units, fonts, the form's layout, French formats, ids.

Every random draw in the generator comes from a `numpy.random.Generator` made by
`rng_for(seed, key...)`, so a dossier depends only on the run seed and its own index.
"""
from __future__ import annotations

import json
import unicodedata
import zlib
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Sequence, TypeVar

import numpy as np

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
FORM_DIR = REPO / "extractors" / "care_sheet" / "feuille_de_soins"  # the care-sheet form: blank PDF + layout.json
FONT_ROOT = Path("/usr/share/fonts")


# ---------------------------------------------------------------- randomness

def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """A generator that depends only on the seed and the keys (e.g. dossier index, document name)."""
    parts = [int(seed)] + [zlib.crc32(str(k).encode()) for k in keys]
    return np.random.default_rng(parts)


def pick(rng: np.random.Generator, seq: Sequence[T], p: Sequence[float] | None = None) -> T:
    """One element of a sequence (numpy's choice would turn strings and tuples into arrays)."""
    if p is not None:
        w = np.asarray(p, dtype=float)
        return seq[int(rng.choice(len(seq), p=w / w.sum()))]
    return seq[int(rng.integers(len(seq)))]


def chance(rng: np.random.Generator, p: float) -> bool:
    """True with probability p."""
    return bool(rng.random() < p)


# ---------------------------------------------------------------- units and layout

def mm_to_px(v: float, dpi: float) -> float:
    """Millimetres to pixels at a resolution."""
    return v / 25.4 * dpi


def box_px(bbox: Sequence[float], dpi: float) -> tuple[int, int, int, int]:
    """A [x0, y0, x1, y1] box in mm to integer pixels."""
    return tuple(int(round(mm_to_px(v, dpi))) for v in bbox)  # type: ignore[return-value]


@lru_cache(maxsize=1)
def layout_zones() -> dict[str, dict]:
    """The form's zones from layout.json, by id."""
    data = json.loads((FORM_DIR / "layout.json").read_text(encoding="utf-8"))
    return {z["id"]: z for z in data["zones"]}


# ---------------------------------------------------------------- fonts

def font_path(name: str) -> str:
    """Absolute path of a font file found anywhere under /usr/share/fonts."""
    try:
        return str(_font_index()[name])
    except KeyError:
        raise FileNotFoundError(f"font {name} not found under {FONT_ROOT}: install the Debian font packages "
                                "listed in sample_docs/README.md") from None


@lru_cache(maxsize=1)
def _font_index() -> dict[str, Path]:
    return {p.name: p for p in FONT_ROOT.rglob("*") if p.suffix.lower() in (".ttf", ".otf")}


def strip_accents(text: str) -> str:
    """'Médor' -> 'Medor': people writing in capitals often drop accents, and some fonts lack them."""
    nfd = unicodedata.normalize("NFD", text)
    return "".join(c for c in nfd if not unicodedata.combining(c))


# ---------------------------------------------------------------- French formats

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre"]
MONTHS_ABBR = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août",
               "sept.", "oct.", "nov.", "déc."]
DATE_STYLES = ("dmy_slash", "dmy_dot_short", "d_mon_abbr", "d_month_long", "iso", "dmy_dash")
AMOUNT_STYLES = ("space_comma", "dot_comma", "comma", "comma_euro", "eur_dot", "space_comma_euro")


def fmt_date(d: date, style: str) -> str:
    """A date as French documents print it: 13/11/2017, 13.11.17, 13 nov. 2017, 1er février 2017, 2017-11-13."""
    day = "1er" if d.day == 1 else str(d.day)
    if style == "dmy_slash":
        return d.strftime("%d/%m/%Y")
    if style == "dmy_dot_short":
        return d.strftime("%d.%m.%y")
    if style == "d_mon_abbr":
        return f"{d.day} {MONTHS_ABBR[d.month - 1]} {d.year}"
    if style == "d_month_long":
        return f"{day} {MONTHS[d.month - 1]} {d.year}"
    if style == "iso":
        return d.isoformat()
    if style == "dmy_dash":
        return d.strftime("%d-%m-%Y")
    raise ValueError(style)


def money(v: Decimal | float | str) -> Decimal:
    """Round to cents, half up (as invoicing software does)."""
    return Decimal(str(v)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def fmt_amount(v: Decimal, style: str) -> str:
    """An amount in a French style: 1 234,56 / 1.234,56 / 184,50 € / EUR 184.50."""
    v = money(v)
    sign = "-" if v < 0 else ""
    units, cents = f"{abs(v):.2f}".split(".")
    groups = []
    while len(units) > 3:
        groups.insert(0, units[-3:])
        units = units[:-3]
    groups.insert(0, units)
    if style == "space_comma":
        return f"{sign}{' '.join(groups)},{cents}"
    if style == "dot_comma":
        return f"{sign}{'.'.join(groups)},{cents}"
    if style == "comma":
        return f"{sign}{''.join(groups)},{cents}"
    if style == "comma_euro":
        return f"{sign}{''.join(groups)},{cents} €"
    if style == "eur_dot":
        return f"EUR {sign}{''.join(groups)}.{cents}"
    if style == "space_comma_euro":
        return f"{sign}{' '.join(groups)},{cents} €"
    raise ValueError(style)


# ---------------------------------------------------------------- identifiers

def luhn_ok(digits: str) -> bool:
    """Luhn check (SIREN, SIRET, FINESS keys)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def luhn_complete(prefix: str) -> str:
    """Append the one digit that makes prefix Luhn-valid."""
    for d in "0123456789":
        if luhn_ok(prefix + d):
            return prefix + d
    raise AssertionError("unreachable")


def make_siret(rng: np.random.Generator) -> str:
    """A 14-digit SIRET whose SIREN (9) and whole number are both Luhn-valid, like real ones."""
    siren = luhn_complete(str(int(rng.integers(1, 10))) + "".join(str(int(x)) for x in rng.integers(0, 10, 7)))
    nic = "000" + str(int(rng.integers(1, 10)))
    return luhn_complete(siren + nic)


def fmt_siret(siret: str, style: int) -> str:
    """SIRET as printed: grouped 3-3-3-5, all together, or with dots."""
    if style == 0:
        return f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    if style == 1:
        return siret
    return f"{siret[:3]}.{siret[3:6]}.{siret[6:9]}.{siret[9:]}"


def make_finess(rng: np.random.Generator) -> str:
    """A 9-digit FINESS number (department + serial + Luhn key)."""
    dep = f"{int(rng.integers(1, 96)):02d}"
    return luhn_complete(dep + "0" + "".join(str(int(x)) for x in rng.integers(0, 10, 5)))


def make_cip13(rng: np.random.Generator) -> str:
    """A CIP13 drug code: 34009 + 7 digits + EAN-13 key."""
    body = "34009" + "".join(str(int(x)) for x in rng.integers(0, 10, 7))
    s = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body))
    return body + str((10 - s % 10) % 10)
