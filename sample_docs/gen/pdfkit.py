"""Small reportlab toolkit for the clinic documents: deterministic canvases, fonts, text and tables in mm.

Coordinates are millimetres from the top-left corner, like layout.json, so layouts read top-down.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

from reportlab import rl_config
from reportlab.lib.colors import Color
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from .common import font_path

rl_config.useA85 = 0  # binary streams: ASCII85 makes image PDFs 25 % bigger and is slow in pure Python
A4 = (210.0, 297.0)
# family -> (regular, bold, italic); Helvetica/Times/Courier are reportlab's built-in fonts
FAMILIES = {
    "Helvetica": ("Helvetica", "Helvetica-Bold", "Helvetica-Oblique"),
    "Times": ("Times-Roman", "Times-Bold", "Times-Italic"),
    "Courier": ("Courier", "Courier-Bold", "Courier-Oblique"),
    "Liberation": ("LiberationSans-Regular", "LiberationSans-Bold", "LiberationSans-Italic"),
    "LiberationSerif": ("LiberationSerif-Regular", "LiberationSerif-Bold", "LiberationSerif-Italic"),
    "DejaVu": ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique"),
    "DejaVuCondensed": ("DejaVuSansCondensed", "DejaVuSansCondensed-Bold", "DejaVuSansCondensed-Oblique"),
    "FreeSans": ("FreeSans", "FreeSansBold", "FreeSansOblique"),
    "FreeSerif": ("FreeSerif", "FreeSerifBold", "FreeSerifItalic"),
    "Mono": ("LiberationMono-Regular", "LiberationMono-Bold", "LiberationMono-Italic"),
}
BUILTIN = {"Helvetica", "Times", "Courier"}


@lru_cache(maxsize=1)
def register_fonts() -> None:
    """Register the TrueType families once per process (embedded subsets keep the text layer real)."""
    for fam, names in FAMILIES.items():
        if fam in BUILTIN:
            continue
        for n in names:
            pdfmetrics.registerFont(TTFont(n, font_path(n + ".ttf")))


@dataclass
class Doc:
    """A canvas in mm, top-left origin, with one font family."""

    c: Canvas
    buf: io.BytesIO
    family: str
    page_h: float

    def font(self, size: float, style: int = 0) -> None:
        """style: 0 regular, 1 bold, 2 italic."""
        self.c.setFont(FAMILIES[self.family][style], size)

    def text(self, x: float, y: float, s: str, size: float = 9, style: int = 0, align: str = "l",
             colour: Color | None = None) -> None:
        """Text with its baseline at y mm from the top; align l / r / c at x."""
        self.font(size, style)
        if colour is not None:
            self.c.setFillColor(colour)
        fn = {"l": self.c.drawString, "r": self.c.drawRightString, "c": self.c.drawCentredString}[align]
        fn(x * mm, (self.page_h - y) * mm, s)
        if colour is not None:
            self.c.setFillColorRGB(0, 0, 0)

    def width(self, s: str, size: float, style: int = 0) -> float:
        """Width of a string in mm."""
        return pdfmetrics.stringWidth(s, FAMILIES[self.family][style], size) / mm

    def line(self, x0: float, y0: float, x1: float, y1: float, w: float = 0.5, colour: Color | None = None) -> None:
        self.c.saveState()
        self.c.setLineWidth(w)
        if colour is not None:
            self.c.setStrokeColor(colour)
        self.c.line(x0 * mm, (self.page_h - y0) * mm, x1 * mm, (self.page_h - y1) * mm)
        self.c.restoreState()

    def rect(self, x0: float, y0: float, x1: float, y1: float, w: float = 0.5, stroke: bool = True,
             fill: Color | None = None) -> None:
        self.c.saveState()
        self.c.setLineWidth(w)
        if fill is not None:
            self.c.setFillColor(fill)
        self.c.rect(x0 * mm, (self.page_h - y1) * mm, (x1 - x0) * mm, (y1 - y0) * mm,
                    stroke=int(stroke), fill=int(fill is not None))
        self.c.restoreState()

    def lines(self, x: float, y: float, rows: list[str], size: float = 9, lead: float = 1.35, style: int = 0,
              align: str = "l") -> float:
        """Several lines from baseline y; returns the y below the last one."""
        for r in rows:
            self.text(x, y, r, size, style, align)
            y += size * lead * 0.3528
        return y

    def wrap(self, s: str, width: float, size: float) -> list[str]:
        """Greedy word wrap to a width in mm."""
        out, cur = [], ""
        for word in s.split():
            trial = f"{cur} {word}".strip()
            if self.width(trial, size) > width and cur:
                out.append(cur)
                cur = word
            else:
                cur = trial
        return out + ([cur] if cur else [])

    def new_page(self) -> None:
        self.c.showPage()

    def image(self, reader, x: float, y: float, w: float, h: float) -> None:
        """An image (reportlab ImageReader) with its top-left at (x, y) mm."""
        self.c.drawImage(reader, x * mm, (self.page_h - y - h) * mm, w * mm, h * mm, mask="auto")

    def finish(self) -> bytes:
        self.c.save()
        return self.buf.getvalue()


def new_doc(family: str, size_mm: tuple[float, float] = A4) -> Doc:
    """A deterministic canvas (reportlab invariant mode: fixed dates and ids)."""
    register_fonts()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(size_mm[0] * mm, size_mm[1] * mm), invariant=1, pageCompression=1)
    return Doc(c, buf, family, size_mm[1])
