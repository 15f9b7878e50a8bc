"""Synthetic filled care sheets: render the blank form, fill it like a person would, capture it.

Used by bench/calibrate_care_sheet.py (thresholds) and tests/test_care_sheet.py (real pages).
Every random choice comes from a `numpy.random.Generator` seeded from a *family*
string and an index, so calibration ("calib"), evaluation ("eval") and the tests
("test") never share a sheet. The eval family also writes with other handwriting
fonts than the calib family, to see whether the thresholds generalise.

Fonts: Debian fonts-dkg-handwriting, fonts-breip, fonts-femkeklaver (calib);
fonts-humor-sans, fonts-rufscript, fonts-klee and dkg bold (eval);
fonts-liberation2, fonts-dejavu, fonts-freefont (printed text, stamps).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import cv2
import numpy as np

from care_sheet_capture import Captured, capture  # noqa: F401  (re-exported for the bench and tests)
from care_sheet_draw import (FIRST, NAMES, PEN_INKS, STAMP_INKS, TOWNS, Sheet, draw_qr, draw_signature,  # noqa: F401
                             draw_stamp, draw_strokes, draw_tick, layout, write)

HAND_FONTS = {
    "calib": ["fifthhorseman/dkg.ttf", "fifthhorseman/dkgIt.ttf", "breip/Breip.ttf", "femkeklaver/femkeklaver.ttf"],
    "eval": ["humor-sans/Humor-Sans.ttf", "rufscript/Rufscript010.ttf", "klee/KleeOne-Regular.ttf",
             "fifthhorseman/dkgBd.ttf"],
}
HAND_FONTS["test"] = HAND_FONTS["calib"][:2] + HAND_FONTS["eval"][:2]
STAMP_SHAPES = ("rect", "rounded", "double", "ellipse", "round", "none")
CAPTURES = ("clean", "scan_grey", "scan_colour", "photo")
WORDS = ("boiterie otite gastro-entérite plaie vaccination rappel CHPL dermatite allergie fracture "
         "luxation rotule toux kennel cystite calculs abcès morsure conjonctivite vomissements diarrhée "
         "détartrage stérilisation castration prurit puces tique piroplasmose arthrose hanche "
         "antérieur postérieur droit gauche aigu chronique suspicion bilan sanguin coprologie").split()
ANIMALS = ["MOZART", "FILOU", "NALA", "OSCAR", "PRINCESSE", "ROCKY", "MIA", "TITUS", "LOLA", "VOYOU"]


def rng_for(family: str, index: int) -> np.random.Generator:
    """The generator of sheet `index` of a seed family ("calib", "eval", "test")."""
    digest = hashlib.sha256(f"care-sheet-synth|{family}|{index}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


# --- the scenario: what is on the sheet (the truth) ---------------------------------------------------------


@dataclass(frozen=True)
class StampSpec:
    colour: str = "blue"
    shape: str = "rect"
    angle: float = 0.0  # degrees
    offset_mm: tuple[float, float] = (0.0, 0.0)  # of its centre from the box's writing-area centre
    strength: float = 0.85  # inking, 0..1


@dataclass(frozen=True)
class Scenario:
    vet_stamp: StampSpec | None = StampSpec()
    vet_signature: str | None = "blue"  # pen ink, None = absent
    signature_on_stamp: bool = True  # drawn across the stamp (else beside it)
    vet_handwriting: bool = False  # the vet wrote name/address by hand in the box (not a stamp)
    owner_signature: str | None = "blue"  # "blue"/"black"/"caps" (name in capitals) / None
    motif: str | None = "check"  # check / cross / fill / None
    motif_box: str = "motif_maladie"
    diagnosis_lines: int = 2
    owner_date: str | None = "cells"  # cells / across / None
    vet_date: str | None = "cells"
    prefilled: tuple[str, str] | None = None  # (contract, animal): typed admin part + QR code
    clutter: bool = True  # the other fields filled too
    specks: int = 6  # dust/ink specks anywhere
    strays: int = 0  # short pen marks (1-2.5 mm), some in the checked zones: not a signature, not a date
    vet_paraphe: bool = False  # the vet signs with a short paraphe (10-16 mm) instead of a full signature
    owner_paraphe: bool = False
    diagnosis_short: bool = False  # a single short word on the diagnosis line
    partial_dates: bool = False  # dates written as day and month only
    zigzag: bool = False  # signatures as straight up-and-down strokes, no loops
    thin_tick: bool = False  # the motif ticked with a fine pen, the tick overflowing its box
    signature_in_stamp_ink: bool = False  # a short paraphe across the stamp, in the stamp's own ink
    pen: str = "blue"
    font_family: str = "calib"

    def truth(self) -> dict[str, bool]:
        t = {
            "vet_stamp": self.vet_stamp is not None,
            "vet_signature": self.vet_signature is not None,
            "owner_signature": self.owner_signature is not None,
            "motif_ticked": self.motif is not None,
            "diagnosis_written": self.diagnosis_lines > 0,
            "owner_date": self.owner_date is not None,
            "vet_date": self.vet_date is not None,
        }
        t["medical_section_complete"] = t["motif_ticked"] and t["diagnosis_written"]
        t["dated"] = t["owner_date"] or t["vet_date"]
        return t


def sample_scenario(rng: np.random.Generator, family: str = "calib") -> Scenario:
    """A random sheet: each checked element present or not, in the ways people fill the form."""
    u = rng.random
    stamp = None
    if u() < 0.6:
        spill = u() < 0.25
        off = (rng.uniform(-14, 14), rng.uniform(-3, 3))
        if spill:  # 30-50 % of the stamp outside the box, any side
            side = rng.integers(4)
            off = [(rng.uniform(-40, -30), rng.uniform(-4, 4)), (rng.uniform(30, 40), rng.uniform(-4, 4)),
                   (rng.uniform(-10, 10), rng.uniform(-14, -10)), (rng.uniform(-10, 10), rng.uniform(10, 13))][side]
        stamp = StampSpec(
            colour=str(rng.choice(["blue", "violet", "red", "black", "green", "purple"], p=[0.35, 0.17, 0.1, 0.25, 0.05, 0.08])),
            shape=str(rng.choice(STAMP_SHAPES, p=[0.3, 0.15, 0.1, 0.15, 0.15, 0.15])),
            angle=float(np.clip(rng.normal(0, 8), -25, 25)),
            offset_mm=(float(off[0]), float(off[1])),
            strength=float(rng.uniform(0.45, 1.0)),
        )
    vet_sig = str(rng.choice(["blue", "black", "blueblack"])) if u() < 0.6 else None
    vet_hand = stamp is None and vet_sig is not None and u() < 0.2
    owner = str(rng.choice(["blue", "black", "caps"], p=[0.5, 0.4, 0.1])) if u() < 0.7 else None
    motif = str(rng.choice(["check", "cross", "fill"], p=[0.45, 0.45, 0.1])) if u() < 0.75 else None
    return Scenario(
        vet_stamp=stamp,
        vet_signature=vet_sig,
        signature_on_stamp=u() < 0.6,
        vet_handwriting=vet_hand,
        owner_signature=owner,
        motif=motif,
        motif_box=str(rng.choice(["motif_accident", "motif_maladie", "motif_prevention"])),
        diagnosis_lines=int(rng.integers(1, 4)) if u() < 0.75 else 0,
        owner_date=(str(rng.choice(["cells", "across"], p=[0.8, 0.2])) if u() < 0.65 else None),
        vet_date=(str(rng.choice(["cells", "across"], p=[0.8, 0.2])) if u() < 0.65 else None),
        prefilled=(f"SV-{rng.integers(1000, 9999)}-{rng.integers(0, 9999):04d}", str(rng.choice(ANIMALS)))
        if u() < 0.3 else None,
        clutter=u() < 0.9,
        specks=int(rng.integers(0, 25)),
        pen=str(rng.choice(["blue", "black", "blueblack"])),
        font_family=family,
        strays=int(rng.integers(0, 7)),
        vet_paraphe=bool(rng.random() < 0.2),
        owner_paraphe=bool(rng.random() < 0.2),
        diagnosis_short=bool(rng.random() < 0.15),
        partial_dates=bool(rng.random() < 0.1),
        zigzag=bool(rng.random() < 0.25),
        thin_tick=bool(rng.random() < 0.3),
        signature_in_stamp_ink=bool(stamp is not None and vet_sig is not None and rng.random() < 0.15),
    )


# --- filling a sheet ---------------------------------------------------------------------------------------


def render_sheet(sc: Scenario, rng: np.random.Generator) -> np.ndarray:
    """The filled sheet at DPI, float32 RGB 0..1."""
    L = layout()
    sh = Sheet()
    fonts = HAND_FONTS[sc.font_family]
    hand = str(rng.choice(fonts))
    pen = PEN_INKS[sc.pen]

    def hw(text, x, base, cap=None, colour=pen, font=None):
        write(sh, text, x, base, cap or rng.uniform(2.6, 3.8), font or hand, colour, angle=rng.uniform(-1.5, 1.5))

    def in_box(zid, text, typed=False):
        x0, y0, x1, y1 = L[zid]["bbox"]
        if typed:
            write(sh, text, x0 + 1.5, y1 - 1.8, 2.5, "liberation2/LiberationMono-Regular.ttf", (0.08, 0.08, 0.08))
        else:
            hw(text, x0 + rng.uniform(1, 4), y1 - rng.uniform(1.2, 2.0))

    def date(zid, how, colour=pen):
        d = f"{rng.integers(1, 29):02d}{rng.integers(1, 13):02d}{rng.choice(['2016', '2017'])}"
        z = L[zid]
        if sc.partial_dates:
            d = d[:4]
        if how == "cells":
            for ch, (x0, y0, x1, y1) in zip(d, z["cells"]):
                hw(ch, (x0 + x1) / 2 - 1.1 + rng.uniform(-0.4, 0.4), y1 - rng.uniform(1.2, 1.8), rng.uniform(3.0, 4.0), colour)
        else:
            x0, y0, x1, y1 = z["bbox"]
            hw(f"{d[:2]}/{d[2:4]}/{d[6:]}".rstrip("/"), x0 + rng.uniform(0.5, 4), y1 - rng.uniform(1.0, 2.0),
               rng.uniform(3.0, 4.0), colour)

    # administrative part
    if sc.prefilled:
        contract, animal = sc.prefilled
        in_box("contract_number", contract, typed=True)
        in_box("animal_name", animal, typed=True)
        in_box("owner_name", f"{rng.choice(NAMES)} {rng.choice(FIRST)}", typed=True)
        in_box("owner_address", f"{rng.integers(1, 99)} rue Pasteur 69007 LYON", typed=True)
        draw_qr(sh, f"SVFS1|{contract}|{animal}")
    elif sc.clutter:
        in_box("contract_number", f"SV-{rng.integers(1000, 9999)}-{rng.integers(0, 9999):04d}")
        in_box("owner_name", f"{rng.choice(NAMES)} {rng.choice(FIRST)}")
        in_box("owner_address", f"{rng.integers(1, 99)} av. Jean Jaurès {rng.choice(TOWNS)}")
        in_box("animal_name", str(rng.choice(ANIMALS)))
    if sc.clutter:
        in_box("animal_breed", str(rng.choice(["Labrador", "Européen", "Berger allemand", "Chartreux", "Croisé"])))
        in_box("animal_identification", f"250 26{rng.integers(0, 99999999):08d}")
        draw_tick(sh, rng, L[str(rng.choice(["species_dog", "species_cat"]))]["bbox"], "cross", pen)
        date("animal_birth_date", "cells")
    if sc.owner_date:
        date("owner_date", sc.owner_date)
    if sc.owner_signature:
        x0, y0, x1, y1 = L["owner_signature"]["writing_area"]
        cx, cy = rng.uniform(x0 + 22, x1 - 22), rng.uniform(y0 + 5, y1 - 5)
        if sc.owner_signature == "caps":
            hw(f"{rng.choice(NAMES)}", cx - 15, cy + 2, 3.5)
        elif sc.owner_paraphe:
            draw_signature(sh, rng, cx, cy, PEN_INKS[sc.owner_signature], w_mm=rng.uniform(8, 14), h_mm=rng.uniform(4, 8),
                           zigzag=sc.zigzag)
        else:
            draw_signature(sh, rng, cx, cy, PEN_INKS[sc.owner_signature], h_mm=rng.uniform(5, 10), zigzag=sc.zigzag)

    # medical part
    vet_pen = pen if rng.random() < 0.5 else PEN_INKS[str(rng.choice(list(PEN_INKS)))]
    vet_hand = str(rng.choice(fonts))
    if sc.clutter:
        date("consultation_date", "cells", vet_pen)
        if rng.random() < 0.6:
            date("first_symptoms_date", "cells", vet_pen)
        draw_tick(sh, rng, L[str(rng.choice(["surgery_yes", "surgery_no"]))]["bbox"], "cross", vet_pen)
    if sc.motif:
        draw_tick(sh, rng, L[sc.motif_box]["bbox"], sc.motif, vet_pen, thin=sc.thin_tick and sc.motif == "check")
    for i in range(sc.diagnosis_lines):
        y = L["diagnosis"]["line_y"][i]
        text = " ".join(rng.choice(WORDS, size=rng.integers(2, 7)))
        if sc.diagnosis_short:
            text = str(rng.choice(["otite", "toux", "plaie", "rappel", "prurit", "abcès"]))
        write(sh, text, rng.uniform(18, 40), y - rng.uniform(0.4, 1.0), rng.uniform(2.6, 3.8), vet_hand, vet_pen,
              angle=rng.uniform(-1, 1))
    if sc.clutter:
        for i in range(rng.integers(0, 4)):
            y = L["acts"]["line_y"][i]
            write(sh, " ".join(rng.choice(WORDS, size=rng.integers(2, 6))), rng.uniform(18, 40), y - 0.7, 3.0,
                  vet_hand, vet_pen)
        for r in L["fees_table"]["rows"][: rng.integers(1, 5)]:
            hw(f"{rng.integers(1, 28):02d}/{rng.integers(1, 12):02d}", r[0] + 2, r[3] - 1.4, 3.0, vet_pen)
            hw(str(rng.choice(WORDS)), 48, r[3] - 1.4, 3.0, vet_pen)
            hw(f"{rng.integers(10, 250)},{rng.integers(0, 99):02d}", 160, r[3] - 1.4, 3.0, vet_pen)
        hw(f"{rng.integers(30, 600)},00", 160, 241.6, 3.2, vet_pen)
        in_box("vet_name", f"Dr {rng.choice(NAMES)}")
        in_box("vet_ordre_number", f"{rng.integers(10000, 99999)}")
    if sc.vet_date:
        date("vet_date", sc.vet_date, vet_pen)

    # the vet box
    x0, y0, x1, y1 = L["vet_stamp_signature"]["writing_area"]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    scx, scy = cx, cy
    if sc.vet_stamp:
        scx, scy = cx + sc.vet_stamp.offset_mm[0], cy + sc.vet_stamp.offset_mm[1]
        draw_stamp(sh, rng, sc.vet_stamp, scx, scy)
    if sc.vet_handwriting:
        for i, s in enumerate([f"Dr {rng.choice(FIRST)} {rng.choice(NAMES)}", f"{rng.integers(1, 99)} rue Pasteur",
                               str(rng.choice(TOWNS))][: rng.integers(2, 4)]):
            hw(s, x0 + rng.uniform(3, 10), y0 + 6 + 5.5 * i, rng.uniform(2.6, 3.4), vet_pen, vet_hand)
    if sc.vet_signature:
        if sc.vet_stamp and sc.signature_on_stamp:
            sx, sy = scx + rng.uniform(-10, 10), scy + rng.uniform(-4, 4)
        elif sc.vet_stamp:  # beside the stamp, in the free half of the box
            sx = x1 - rng.uniform(14, 20) if scx < cx else x0 + rng.uniform(14, 20)
            sy = rng.uniform(y0 + 6, y1 - 6)
        else:
            sx, sy = rng.uniform(x0 + 18, x1 - 18), rng.uniform(y0 + 6, y1 - 6)
        sx, sy = float(np.clip(sx, x0 + 8, x1 - 8)), float(np.clip(sy, y0 + 4, y1 - 4))
        if sc.vet_stamp and sc.signature_in_stamp_ink:  # a short paraphe across the stamp, same ink
            sx, sy = scx + rng.uniform(-6, 6), scy + rng.uniform(-3, 3)
            draw_signature(sh, rng, sx, sy, STAMP_INKS[sc.vet_stamp.colour], w_mm=rng.uniform(8, 14),
                           h_mm=rng.uniform(6, 11), zigzag=sc.zigzag)
        elif sc.vet_paraphe:
            draw_signature(sh, rng, sx, sy, PEN_INKS[sc.vet_signature], w_mm=rng.uniform(10, 16), h_mm=rng.uniform(5, 9),
                           zigzag=sc.zigzag)
        else:
            draw_signature(sh, rng, sx, sy, PEN_INKS[sc.vet_signature], zigzag=sc.zigzag)

    # dust and stray ink specks
    H, W = sh.img.shape[:2]
    for _ in range(sc.specks):
        r = rng.uniform(0.6, 2.2)
        d = np.zeros((9, 9), np.float32)
        cv2.circle(d, (4, 4), int(round(r)), 1.0, -1, cv2.LINE_AA)
        sh.ink(d * rng.uniform(0.4, 0.9), (0.15, 0.15, 0.15), int(rng.integers(0, W)), int(rng.integers(0, H)))
    # stray pen marks: half of them in a checked zone (never inside a checkbox: that would be a tick)
    targets = [L["owner_signature"]["writing_area"], L["owner_date"]["bbox"], L["vet_date"]["bbox"],
               L["diagnosis"]["bbox"], L["vet_stamp_signature"]["writing_area"]]
    for _ in range(sc.strays):
        x0, y0, x1, y1 = targets[rng.integers(len(targets))] if rng.random() < 0.5 else (15, 40, 195, 280)
        p = np.array([rng.uniform(x0 + 1, x1 - 1), rng.uniform(y0 + 1, y1 - 1)])
        a = rng.uniform(0, np.pi)
        q = p + rng.uniform(1.0, 2.5) * np.array([np.cos(a), np.sin(a)])
        draw_strokes(sh, [np.linspace(p, q, 8)], rng.uniform(0.3, 0.5), pen)
    return sh.img



def make_page(family: str, index: int, kind: str | None = None, scenario: Scenario | None = None):
    """One synthetic capture: (Captured, Scenario). The capture kind cycles with the index unless given."""
    rng = rng_for(family, index)
    sc = scenario or sample_scenario(rng, family)
    kind = kind or CAPTURES[index % len(CAPTURES)]
    page = render_sheet(sc, rng)
    return capture(page, kind, rng), sc


def with_font_family(sc: Scenario, family: str) -> Scenario:
    return replace(sc, font_family=family)

