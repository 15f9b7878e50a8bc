"""Real test pages, rendered here: text images (PIL) and text PDFs (reportlab)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
A4_MM = (210, 297)

INVOICE_LINES = [
    "Clinique Vétérinaire des Tilleuls",
    "12 rue des Lilas 69003 Lyon",
    "SIRET 732 829 320 00074",
    "",
    "FACTURE N° F-2017-0412",
    "Date : 13/11/2017",
    "",
    "Consultation                      35,00 €",
    "Vaccin CHPL                       45,83 €",
    "Total HT                          80,83 €",
    "TVA 20 %                          16,17 €",
    "Total TTC                         97,00 €",
]

PRESCRIPTION_LINES = [
    "Dr Marie Dupont, docteur vétérinaire",
    "N° Ordre 12345",
    "",
    "ORDONNANCE",
    "Le 13/11/2017",
    "Rp/ Amoxicilline 250 mg",
    "1 comprimé matin et soir pendant 7 jours",
    "Posologie à respecter",
]


def text_page(lines: list[str], dpi: int = 200, size_pt: float = 12.0) -> np.ndarray:
    """An A4 page image (BGR) with the lines typed at `size_pt` points."""
    w, h = int(A4_MM[0] / 25.4 * dpi), int(A4_MM[1] / 25.4 * dpi)
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, int(size_pt / 72 * dpi))
    y = int(0.1 * h)
    for line in lines:
        draw.text((int(0.1 * w), y), line, fill="black", font=font)
        y += int(size_pt / 72 * dpi * 1.6)
    return np.asarray(img)[:, :, ::-1].copy()


def save_image(image: np.ndarray, path: Path, dpi: int = 200, **kw) -> Path:
    Image.fromarray(image[:, :, ::-1]).save(path, dpi=(dpi, dpi), **kw)
    return path


def text_pdf(lines: list[str], path: Path) -> Path:
    """A one-page PDF with a real text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVu", FONT))
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("DejaVu", 11)
    y = A4[1] - 60
    for line in lines:
        c.drawString(50, y, line)
        y -= 16
    c.showPage()
    c.save()
    return path


def image_pdf(image: np.ndarray, path: Path, dpi: int = 200) -> Path:
    """A PDF holding only a picture (a scan saved as PDF)."""
    Image.fromarray(image[:, :, ::-1]).save(path, "PDF", resolution=dpi)
    return path


def filled_care_sheet(path: Path, kind: str = "scan_colour", seed: int = 0) -> Path:
    """Our form filled completely (stamp, both signatures, dates, motif, diagnosis), captured as `kind`, as JPEG."""
    import sys

    from intake.settings import REPO_ROOT

    sys.path.insert(0, str(REPO_ROOT / "bench"))
    from care_sheet_synth import Scenario, capture, render_sheet, rng_for

    rng = rng_for("test", seed)
    cap = capture(render_sheet(Scenario(font_family="test"), rng), kind, rng)
    return save_image(cap.image, path, dpi=round(cap.dpi), format="JPEG", quality=90)


def write_dossier(inbox: Path, name: str, invoice: Path | None = None, manifest: bool = True) -> Path:
    """A dossier folder: the blank care sheet, the invoice when given, and (unless still uploading) its manifest."""
    from tests.conftest import FORM_PDF

    d = inbox / name
    d.mkdir(parents=True)
    shutil.copy(FORM_PDF, d / "feuille.pdf")
    if invoice is not None:
        shutil.copy(invoice, d / "facture.pdf")
    if manifest:
        docs = [{"file": "feuille.pdf", "slot": "care_sheet"}]
        if invoice is not None:
            docs.append({"file": "facture.pdf", "slot": "invoice"})
        (d / "manifest.json").write_text(json.dumps({"dossier_id": name, "documents": docs}))
    return d


def intake_run(inbox: Path, out: Path, archive: Path, env: dict, workers: int, **popen) -> subprocess.Popen:
    """`intake run` with an archive, as its own process (what an operator or a worker starts)."""
    from intake.settings import REPO_ROOT

    return subprocess.Popen([str(REPO_ROOT / ".venv" / "bin" / "intake"), "run", str(inbox), "--out", str(out),
                             "--archive", str(archive), "--workers", str(workers)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **popen)
