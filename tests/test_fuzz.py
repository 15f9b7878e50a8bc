"""Property-based fuzzing (Hypothesis): hostile input is a finding or nothing, never an exception.

Each test states one "nothing escapes" property over one reader: the invoice fields, the manifest,
the file loader, and one dossier end to end. The default profile ("ci") is derandomised and keeps the
whole file near a minute on one core; HYPOTHESIS_PROFILE=long runs ten times the examples with a
random seed, and keeps its failures under .pytest_cache/ (never in the repo).
"""
from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import re
import tempfile
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings, strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase
from PIL import Image, ImageDraw

from extractors import vocab
from extractors.invoice.amounts import MAX_AMOUNT_INT_DIGITS, find_amounts, fmt
from extractors.invoice.dates import find_dates
from extractors.invoice.fields import read_invoice, siret_lines
from extractors.invoice.lines import build_lines
from extractors.invoice.siret import find_sirets, luhn_ok
from extractors.pages.load import LoadedFile, load_file
from core.errors import InfrastructureError
from core.inbox import MANIFEST, SLOTS, Manifest
from core.records import Decision, DossierResult, InvoiceFacts, InvoiceKind, PageText, ReasonCode, TextSource, Word
from core.settings import REPO_ROOT, Settings
from pipeline.dossier import process_dossier
from pipeline.manifest import read_manifest

# Hypothesis' own caches (and the "long" profile's failures) live under .pytest_cache, never in the repo
set_hypothesis_home_dir(str(REPO_ROOT / ".pytest_cache" / "hypothesis"))
_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile("ci", derandomize=True, database=None, deadline=None, suppress_health_check=_SLOW)
_LONG_DB = DirectoryBasedExampleDatabase(str(REPO_ROOT / ".pytest_cache" / "hypothesis" / "examples"))
settings.register_profile("long", database=_LONG_DB, deadline=None, suppress_health_check=_SLOW)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
SCALE = 10 if PROFILE == "long" else 1  # "long": ten times every test's examples


def budget(n: int) -> settings:
    """`n` examples in CI (chosen so the file stays near a minute on one core), n x SCALE otherwise."""
    return settings(max_examples=n * SCALE)


# --- strategies ----------------------------------------------------------------------------------

ANY_TEXT = st.text(st.characters(exclude_categories=()))  # lone surrogates included
PLAIN_TEXT = st.text(min_size=1, max_size=14)  # Hypothesis leaves surrogates out by default: what a reader returns
VOCAB = sorted({lab.phrase for lab in vocab.LABELS} | set(vocab.MONTHS) | set(vocab.CURRENCY_SYMBOLS)
               | set(vocab.CURRENCY_WORDS) | {"SIRET", "N°", "le", "du", ":", "|", "%"})
TOKENS = st.one_of(
    PLAIN_TEXT,
    st.sampled_from(VOCAB),
    st.from_regex(r"-?[0-9]{1,40}(?:[ .,'][0-9]{1,3}){0,5}(?:[.,][0-9]{2})?(?: ?(?:€|EUR|%))?", fullmatch=True),
    st.from_regex(r"[0-9]{1,6}[/.-][0-9]{1,6}[/.-][0-9]{1,8}", fullmatch=True),
    st.text("0123456789OolIS|٠١٢٣٤٥٦٧٨٩０１２３４５６７８９²① .,/-", min_size=1, max_size=60),
)


@st.composite
def page_texts(draw) -> PageText:
    """Rows of tokens laid out left to right (so labels meet values), plus words with random boxes."""
    words = []
    for row in range(draw(st.integers(0, 12))):
        x, y = draw(st.integers(0, 300)), 40 + 60 * row + draw(st.integers(-20, 20))
        for tok in draw(st.lists(TOKENS, max_size=6)):
            w = max(1, 18 * len(tok))
            words.append(Word(tok, x, y, w, 30, 95.0, row))
            x += w + draw(st.integers(0, 400))
    for _ in range(draw(st.integers(0, 6))):
        words.append(Word(draw(TOKENS), draw(st.integers(-50, 5000)), draw(st.integers(-50, 7000)),
                          draw(st.integers(0, 2000)), draw(st.integers(0, 400)),
                          draw(st.floats(-1, 100)), draw(st.integers(0, 40))))
    source = draw(st.sampled_from(TextSource))
    return PageText(tuple(words), source, draw(st.integers(0, 5000)), draw(st.integers(0, 7000)))


def well_formed(facts: InvoiceFacts) -> None:
    assert isinstance(facts, InvoiceFacts)
    if facts.invoice_date is not None:
        assert dt.date.fromisoformat(facts.invoice_date).isoformat() == facts.invoice_date
    for amount in (facts.total_ttc, facts.total_ht, facts.total_tva, facts.amount_due):
        assert amount is None or re.fullmatch(r"-?[0-9]+\.[0-9]{2}", amount), amount
    assert facts.siret is None or (re.fullmatch(r"[0-9]{14}", facts.siret) and luhn_ok(facts.siret)), facts.siret
    assert facts.kind is None or isinstance(facts.kind, InvoiceKind)
    assert facts.invoice_number is None or isinstance(facts.invoice_number, str)
    assert all(0.0 <= c <= 1.0 for c in facts.confidence.values()), facts.confidence


# --- invoice fields --------------------------------------------------------------------------------


@budget(250)
@given(st.lists(page_texts(), min_size=1, max_size=3))
def test_invoice_reader_never_raises_and_fields_are_well_formed(pages: list[PageText]) -> None:
    well_formed(read_invoice(pages))
    for page, _box in siret_lines(pages, 5):
        assert 0 <= page < len(pages)


@budget(250)
@given(page_texts())
def test_amount_date_and_siret_parsers_never_raise(pt: PageText) -> None:
    cap = Decimal(10) ** MAX_AMOUNT_INT_DIGITS
    for line in build_lines([pt]):
        for a in find_amounts(line):
            assert abs(a.value) < cap and re.fullmatch(r"-?[0-9]+\.[0-9]{2}", fmt(a.value))
        for d in find_dates(line):
            for day in (d.dmy, d.mdy):
                assert day is None or vocab.YEAR_MIN <= day.year <= dt.date.today().year + vocab.YEAR_MAX_AHEAD
        for s in find_sirets(line):
            assert re.fullmatch(r"[0-9]{14}", s.digits) and luhn_ok(s.digits)


@budget(200)
@given(ANY_TEXT)
def test_luhn_check_takes_any_text(text: str) -> None:
    assert luhn_ok(text) in (True, False)
    if luhn_ok(text):
        assert re.fullmatch(r"[0-9]+", text)


# --- manifest --------------------------------------------------------------------------------------

ODD = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)
FILE_NAMES = st.one_of(
    st.sampled_from(["", " ", ".", "..", "../x", "a/../../b", "/etc/passwd", MANIFEST, "x\x00y", "a" * 300,
                     "é" * 200, "sub/inner.pdf", "link", "fifo", "dir", "nfd-é.pdf", "\ud800.pdf", "f.bin"]),
    ANY_TEXT,
)
DOC = st.one_of(ODD, st.fixed_dictionaries({"slot": st.one_of(st.sampled_from(SLOTS), ODD),
                                            "file": st.one_of(FILE_NAMES, ODD)}))
MANIFESTS = st.one_of(ODD, st.fixed_dictionaries(
    {"dossier_id": st.one_of(ANY_TEXT, ODD), "documents": st.one_of(st.lists(DOC, max_size=5), ODD)},
    optional={k: ODD for k in ("submitted_at", "contract_number", "animal_name")},
))
RAW_NAMES = st.binary(min_size=1, max_size=80).filter(lambda b: b"/" not in b and b"\x00" not in b
                                                      and b not in (b".", b".."))


def _encoded(value, how: str) -> bytes:
    """A JSON value as manifest bytes: escaped (lone surrogates as \\ud800), raw UTF-8, or surrogates kept."""
    if how == "ascii":
        return json.dumps(value, ensure_ascii=True).encode()
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass" if how == "surrogates" else "replace")


def _dossier(root: Path, name: bytes, manifest: bytes, files: list[bytes]) -> Path:
    folder = os.path.join(os.fsencode(root), name)
    os.mkdir(folder)
    with open(os.path.join(folder, os.fsencode(MANIFEST)), "wb") as fh:
        fh.write(manifest)
    for f in files:
        if f != os.fsencode(MANIFEST):
            with open(os.path.join(folder, f), "wb") as fh:
                fh.write(b"%PDF-1.4\n")
    os.symlink("/etc/passwd", os.path.join(folder, b"link"))
    os.mkdir(os.path.join(folder, b"dir"))
    os.mkfifo(os.path.join(folder, b"fifo"))
    return Path(os.fsdecode(folder))


def _check_manifest(m: Manifest, folder: Path) -> None:
    assert isinstance(m, Manifest) and isinstance(m.dossier_id, str) and m.dossier_id
    m.dossier_id.encode("utf-8")
    for d in m.documents:
        d.file.encode("utf-8")
        assert d.slot in SLOTS
        assert d.path is None or folder.resolve() in d.path.resolve().parents
    for p in m.problems:
        p.encode("utf-8")


@budget(150)
@given(name=RAW_NAMES, data=st.binary(max_size=2048), files=st.lists(RAW_NAMES, max_size=3))
def test_manifest_of_arbitrary_bytes(name: bytes, data: bytes, files: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = _dossier(Path(tmp), name, data, files)
        _check_manifest(read_manifest(folder), folder)


@budget(200)
@given(name=RAW_NAMES, value=MANIFESTS, how=st.sampled_from(["ascii", "utf8", "surrogates"]),
       files=st.lists(RAW_NAMES, max_size=3))
def test_manifest_of_arbitrary_json(name: bytes, value, how: str, files: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = _dossier(Path(tmp), name, _encoded(value, how), [*files, "nfd-e\u0301.pdf".encode()])
        _check_manifest(read_manifest(folder), folder)


# --- loader ----------------------------------------------------------------------------------------

SAMPLE_TEXT = ["Clinique Vétérinaire", "SIRET 732 829 320 00074", "Date : 13/11/2017", "Total TTC 97,00 €"]


@lru_cache(maxsize=None)
def sample(kind: str) -> bytes:
    """A small valid file of `kind` (png / jpeg / pdf with a text layer), made here."""
    if kind == "pdf":
        from reportlab.pdfgen import canvas

        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=(220, 90))  # points: a small page renders in a blink
        for i, line in enumerate(SAMPLE_TEXT):
            c.drawString(6, 76 - 18 * i, line)
        c.showPage()
        c.save()
        return buf.getvalue()
    img = Image.new("RGB", (160, 60), "white")
    ImageDraw.Draw(img).text((4, 4), "\n".join(SAMPLE_TEXT), fill="black")
    buf = io.BytesIO()
    img.save(buf, "PNG" if kind == "png" else "JPEG", **({"dpi": (200, 200)} if kind == "png" else {"quality": 80}))
    return buf.getvalue()


# Positions are shares of the file (0..1): Hypothesis favours small numbers, and a mutation at byte 0
# only ever tests the type sniffing; the first MAGIC_KEEP bytes are spared unless `head` is drawn.
MUTATIONS = st.lists(st.tuples(st.sampled_from(["flip", "truncate", "insert", "delete"]),
                               st.integers(0, 1000), st.binary(min_size=1, max_size=16), st.booleans()),
                     min_size=1, max_size=4)
MAGIC_KEEP = 16


def mutate(data: bytes, ops) -> bytes:
    """Flip, truncate, insert or delete bytes at the given positions (per mille of the length)."""
    b = bytearray(data)
    for op, permille, chunk, head in ops:
        keep = 0 if head else min(MAGIC_KEEP, len(b))
        at = keep + (len(b) - keep) * (1000 - permille) // 1000  # 0 per mille: the very end
        if op == "flip" and at < len(b):
            b[at] ^= chunk[0] or 0xFF
        elif op == "truncate":
            del b[at:]
        elif op == "insert":
            b[at:at] = chunk
        elif op == "delete":
            del b[at : at + len(chunk)]
    return bytes(b)


def _check_loaded(loaded: LoadedFile) -> None:
    assert isinstance(loaded, LoadedFile)
    event(f"{loaded.kind}: {re.sub(r'[(][^)]*[)]', '', loaded.error or 'pages')}")  # --hypothesis-show-statistics
    if loaded.error is not None:
        assert isinstance(loaded.error, str) and loaded.error.strip() and not loaded.pages
        loaded.error.encode("utf-8")
    else:
        assert loaded.pages, "no pages and no error"
        for p in loaded.pages:
            assert p.image.dtype == np.uint8 and p.image.ndim == 3 and p.image.size > 0


def _load(data: bytes, name: str) -> LoadedFile:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(data)
        try:
            return load_file(path, name, Settings(), "fuzz")
        except InfrastructureError:
            raise  # the only exception allowed out: this machine, not the file
    # (anything else escaping fails the test with its traceback)


@budget(120)
@given(head=st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"%PDF-1.4\n"]),
       data=st.binary(max_size=4096), tail=st.sampled_from([b"", b"\n%%EOF\n"]), name=ANY_TEXT)
def test_loader_on_arbitrary_bytes(head: bytes, data: bytes, tail: bytes, name: str) -> None:
    _check_loaded(_load(head + data + tail, name))


@budget(60)
@given(kind=st.sampled_from(["png", "jpeg", "pdf"]), ops=MUTATIONS)
def test_loader_on_mutated_real_files(kind: str, ops) -> None:
    _check_loaded(_load(mutate(sample(kind), ops), f"f.{kind}"))


def test_unmutated_samples_load() -> None:
    # the mutation test only means something if its seeds are real files the loader opens
    for kind in ("png", "jpeg", "pdf"):
        loaded = _load(sample(kind), f"f.{kind}")
        assert loaded.error is None and len(loaded.pages) == 1, (kind, loaded.error)


# --- one dossier, end to end -----------------------------------------------------------------------


class _Errors(logging.Handler):
    """The tracebacks the pipeline logs when it turns a crash of ours into PROCESSING_ERROR."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@budget(15)
@given(kind=st.sampled_from(["png", "jpeg", "pdf", "bytes"]), ops=MUTATIONS | st.just([]), raw=st.binary(max_size=512),
       slot=st.sampled_from(SLOTS), manifest=st.one_of(st.none(), MANIFESTS))
def test_dossier_end_to_end_always_decides(kind: str, ops, raw: bytes, slot: str, manifest) -> None:
    data = raw if kind == "bytes" else mutate(sample(kind), ops)
    if manifest is None:  # a well-formed manifest naming the hostile file
        manifest = {"dossier_id": "D-FUZZ", "documents": [{"slot": slot, "file": "f.bin"}]}
    errors = _Errors()
    logging.getLogger("intake").addHandler(errors)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "D-FUZZ"
            folder.mkdir()
            (folder / MANIFEST).write_bytes(_encoded(manifest, "ascii"))
            (folder / "f.bin").write_bytes(data)
            result = process_dossier(folder, Settings(workers=1, thumbnails=False))
    finally:
        logging.getLogger("intake").removeHandler(errors)
    assert isinstance(result, DossierResult) and isinstance(result.decision, Decision)
    event(f"{result.decision}: {','.join(result.reasons)}")
    assert result.reasons or result.decision == Decision.ACCEPT
    result.dossier_id.encode("utf-8")
    # a crash swallowed into PROCESSING_ERROR is still a crash: its traceback is the failure message
    assert ReasonCode.PROCESSING_ERROR not in result.reasons, "\n".join(errors.messages)
