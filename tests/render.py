"""Real test pages, rendered here: text images (PIL) and text PDFs (reportlab)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import cv2
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


def photo_of(page: np.ndarray, corners: np.ndarray, frame: tuple[int, int] = (1440, 1920),
             table: tuple[int, int, int] = (120, 128, 135), shadow: tuple[int, int] | None = None,
             seed: int = 0) -> np.ndarray:
    """A phone photo of `page` (BGR) lying on a grainy table with its corners (TL, TR, BR, BL) at
    `corners` in a frame of `frame` (w, h) px: light falling off across the frame, mild blur, sensor
    noise, JPEG 85. `shadow`: a soft shadow cast by the sheet, offset by (dx, dy) px."""
    rng = np.random.default_rng(seed)
    fw, fh = frame
    ph, pw = page.shape[:2]
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]]), np.float32(corners))
    grain = cv2.GaussianBlur(rng.normal(0, 1, (fh, fw)).astype(np.float32), (0, 0), 3) * 40
    out = np.clip(np.float32(table)[None, None, :] + grain[..., None], 0, 255)
    if shadow is not None:
        cast = np.zeros((fh, fw), np.float32)
        cv2.fillConvexPoly(cast, (np.float32(corners) + np.float32(shadow)).astype(np.int32), 1.0)
        out *= 1 - 0.45 * cv2.GaussianBlur(cast, (0, 0), 6)[..., None]
    sheet_mask = cv2.warpPerspective(np.ones((ph, pw), np.float32), m, (fw, fh), flags=cv2.INTER_AREA)
    warped = cv2.warpPerspective(page, m, (fw, fh), flags=cv2.INTER_AREA).astype(np.float32)
    out = out * (1 - sheet_mask[..., None]) + warped
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    out *= (1.05 - 0.35 * np.hypot(xx - 0.3 * fw, yy - 0.2 * fh) / np.hypot(fw, fh))[..., None]
    out = cv2.GaussianBlur(out, (0, 0), 0.7) + rng.normal(0, 2.5, out.shape)
    ok, buf = cv2.imencode(".jpg", np.clip(out, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


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

    from core.settings import REPO_ROOT

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
    from core.settings import REPO_ROOT

    return subprocess.Popen([str(REPO_ROOT / ".venv" / "bin" / "intake"), "run", str(inbox), "--out", str(out),
                             "--archive", str(archive), "--workers", str(workers)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **popen)
