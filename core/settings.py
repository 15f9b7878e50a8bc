"""The one settings object: what an operator may change, in one validated model.

Read from `INTAKE_<NAME>` environment variables (e.g. `INTAKE_RENDER_DPI=200`) and
flags, validated by pydantic, then passed in (inside the pipeline, through
`pipeline.context.Reader`). Here: languages, DPI, timeouts, retries, limits,
the decision thresholds an operator tunes (readability, OCR confidence, orientation)
and paths. Not here, on purpose: the constants of a method (kernel sizes, the
geometry of our form, label weights, measured curves). Each of those is named, with
a one-line reason, beside the code that uses it; changing one is changing the
method, measured by `bench/`, not a setting.
"""
from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

REPO_ROOT = Path(__file__).resolve().parents[1]
FORM_DIR = REPO_ROOT / "extractors" / "care_sheet" / "feuille_de_soins"  # layout.json + blank of the care-sheet form


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    # --- OCR -------------------------------------------------------------
    # extractors.pages.ocr.ENGINES: which engine reads pages. libtesseract in our process by default (no
    # process start and model load per image: bench/README.md), the `tesseract` command its fallback.
    ocr_engine: str = "tesserocr"
    # Pages are read in `ocr_languages`; a page whose words come out unsure in them, or an invoice whose date
    # or total they leave missing or unsure, is read again in `ocr_languages_second` and the surer reading kept
    # ("": never). `fra` alone reads ~27 % faster than `fra+eng`, which till receipts need (English words and
    # symbols): docs/invoices.md has both measured on the real documents.
    ocr_languages: str = "fra"
    ocr_languages_second: str = "fra+eng"
    # the care sheet's zones (its typed and handwritten fields) are read in these: in `fra` alone the generated
    # bench inbox lost typed contract numbers (25 -> 23 of 25) and handwritten dates (docs/invoices.md)
    care_sheet_ocr_languages: str = "fra+eng"
    ocr_timeout_s: float = Field(60.0, gt=0)
    # Tesseract page segmentation: 11, sparse text. Tesseract's own layout analysis (3) drops whole
    # columns of ruled tables; every reader of ours rebuilds lines from word boxes (docs/invoices.md).
    ocr_psm: int = 11
    # ...except on a page whose pixels already say unreadable (a picture, a blurred dark page): OCR then
    # only tells what the page is, and sparse-text mode reads noise as thousands of words for minutes
    # where the layout analysis (3) drops it in a second.
    ocr_psm_unreadable: int = 3
    # ...and at most this long a side: a blurred, dark, noisy capture costs Tesseract's layout analysis
    # seconds per megapixel of specks (a 2945 x 2208 dark photo: 9 s, no word; at half size 0.4 s, the
    # same type), while the words that tell a page's type are its largest (~A4 at 150 dpi here). Chosen on
    # the seed-7 dev set (every eval table identical with it); not swept.
    ocr_unreadable_max_side_px: int = Field(1750, ge=200)
    ocr_retries: int = Field(1, ge=0)  # a crashed/timed-out Tesseract call is tried again this often
    ocr_cache_dir: Path | None = None  # None: <out>/.cache/ocr
    # OCR cache entries (words of client pages: personal data) older than this are purged (`intake purge`)
    ocr_cache_retention_days: float = Field(30.0, ge=0)
    ocr_max_side_px: int = 3600  # larger images are scaled down before OCR

    # --- loading ---------------------------------------------------------
    render_dpi: int = Field(200, ge=72, le=600)  # rasterising PDF pages
    max_file_bytes: int = 60 * 1024 * 1024
    max_pages_per_file: int = 40
    max_image_pixels: int = 80_000_000  # most pixels decoded at once (a JPEG decodes reduced, see below)
    # pixels a page keeps for reading: a larger image is reduced, a PDF page rendered at a lower dpi to fit.
    # 70 Mpx: a PDF page A4-wide and 5.08 m long (PDF's own limit) keeps render_dpi; any camera photo is under it
    max_page_pixels: int = 70_000_000
    max_file_pixels: int = 400_000_000  # all pages of one file together (~1.2 GB): 40 A4 pages at 200 dpi are 155 Mpx
    min_render_dpi: float = 100.0  # a PDF page that fits the budgets only below this dpi is refused (print unreadable)
    max_page_side_mm: float = 5100.0  # a PDF page larger than this is refused (PDF's own limit is 200 in, 5080 mm)
    min_image_side_px: int = 16  # narrower than one line of the smallest print a person reads: "image trop petite"
    pdf_info_timeout_s: float = Field(20.0, gt=0)  # pdfinfo (page count, sizes, password) takes ~10 ms on real files
    pdf_page_timeout_s: float = Field(120.0, gt=0)  # pdftoppm on one page: a real page renders in < 2 s
    pdf_parse_timeout_s: float = Field(30.0, gt=0)  # pdfplumber's text layer, whole file: a real one takes < 1 s
    max_files_per_dossier: int = 30
    text_layer_min_chars: int = 30  # fewer real characters: treat the PDF page as an image
    text_layer_min_valid_ratio: float = 0.8  # share of printable, word-like characters

    # --- normalisation (extractors/pages/normalise.py; measured in docs/readability.md) ---
    orientation_min_confidence: float = 0.3  # own line-direction method below this: ask Tesseract OSD
    osd_min_confidence: float = 1.5  # OSD's orientation confidence below this: keep our own answer
    deskew_min_deg: float = 0.2  # smaller tilts are left alone (OCR does not care, pixels stay crisp)
    deskew_max_deg: float = 5.0  # tilts up to this are turned back whatever the text lines say...
    # ...and up to this when most of the text agrees on them (geometry.Layout.skew_support): a sheet laid
    # crooked on a scanner, a photo whose sheet edges were not found. Tesseract reads ~0.4 of the words
    # of a page tilted 8 degrees, ~0.2 at 12; the text lines give the tilt to within a degree or two up
    # to 35 degrees, at 40 the up/down vote fails (docs/readability.md)
    deskew_steep_max_deg: float = 30.0
    deskew_steep_min_support: float = 0.5  # most of the text's line length within 2 degrees of the tilt
    normalise_max_dpi: float = 300.0  # a flattened photo is not made larger than A4 at this dpi
    # a page whose orientation neither method was sure of, OCRed with mean confidence below this, is
    # OCRed once more turned by 180 degrees and the better reading kept (upside-down text reads ~30-50)
    orientation_recheck_conf: float = 70.0

    # --- classification ---------------------------------------------------
    care_sheet_layout_min: float = 0.5  # layout match (0-1) above which a page is our form without OCR

    # --- readability -----------------------------------------------------
    readability_threshold: float = 0.5  # below: the page cannot be read reliably
    min_ocr_confidence: float = 45.0  # mean word confidence below: the document is illegible

    # --- review by an operator (pipeline/confidence.py; the curve in `intake eval`, docs/operations.md) ---
    # a dossier whose confidence (0-1, its weakest fact) is below this waits for an operator, not released
    review_below_confidence: float = Field(0.6, ge=0, le=1)
    # codes that send a dossier to an operator whatever its confidence (contract §5: "operator review")
    review_codes: tuple[str, ...] = ("PROCESSING_ERROR", "AMOUNT_MISMATCH", "DATE_MISMATCH", "ANIMAL_MISMATCH",
                                     "CONTRACT_MISMATCH", "DUPLICATE_INVOICE")
    # readability this far (or more) from readability_threshold is sure; at the threshold it is a coin toss (0.5)
    review_readability_margin: float = Field(0.15, gt=0)
    # OCR mean word confidence this far (or more) above min_ocr_confidence is a sure reading (0.5 at it): a page
    # read barely may be a required document typed "other" (pipeline.confidence.absence_facts)
    review_ocr_margin: float = Field(20.0, gt=0)
    # the invoice fields (InvoiceFacts.confidence keys) whose confidence the decision rests on
    review_invoice_fields: tuple[str, ...] = ("kind",)
    review_queue_alert: int = Field(10, ge=1)  # more dossiers than this waiting in archive/review/: an event
    review_deployment: str = "review_dossier/review-dossier"  # the deployment a dossier sent to review runs

    # --- run ---------------------------------------------------------------
    # one dossier's reading may take this long; past it the dossier is PROCESSING_ERROR (a page that makes a
    # reader loop, a PDF built to be slow), the rest of the inbox goes on. ~30x a real dossier's median.
    dossier_timeout_s: float = Field(600.0, gt=0)
    infra_retries: int = Field(2, ge=0)  # a dossier whose processing broke is read again this often
    # the Prefect API silent this long mid-run (its server stopped): the run gives its claimed dossiers back
    # and exits with ExitCode.INFRASTRUCTURE (flows.api_watch); Prefect's client alone would retry for ever
    api_lost_s: float = Field(60.0, gt=0)
    max_crashes: int = Field(2, ge=1)  # runs that died holding a dossier; then PROCESSING_ERROR, not read again
    # the output folder must have this much free space for the run to claim another dossier: below it the
    # run stops claiming and ends with InfrastructureError (a dossier's results, artifacts and CSVs take ~1 MB)
    min_free_mb: float = Field(50.0, ge=0)
    workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))
    # dossiers in flight beyond one per worker: while the flow saves, publishes and files a dossier (Prefect's
    # and the database's work, outside the dossier's child process), the next one is read on that core.
    # 1 measured 7 % faster (bench/README.md). (Off for a while: the CI failure it made likelier was a
    # Tesseract slot inherited as taken by the forked child, extractors.pages.ocr._fresh_slots_in_child.)
    dossiers_ahead: int = Field(1, ge=0)
    # CSV dialects written beside the contract's CSVs (results.exports.CSV_DIALECTS: "excel-fr" = `;`, decimal
    # comma, UTF-8 with BOM, for a French Excel); INTAKE_CSV_DIALECTS="excel-fr"
    csv_dialects: tuple[str, ...] = ()
    # each saved dossier is checked against the earlier ones for the same invoice (DUPLICATE_INVOICE -> review)
    detect_duplicates: bool = True
    thumbnails: bool = True
    thumbnail_px: int = 360

    # --- retention (personal data: docs/operations.md) -----------------------------------
    # `intake run` ends by deleting its output's OCR cache entries older than ocr_cache_retention_days
    purge_on_run: bool = True

    # --- results database (results.db) -------------------------------------------------
    # SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db (INTAKE_DATABASE_URL); None: SQLite at
    # <out>/results.db, beside the CSVs it exports
    database_url: str | None = None

    @field_validator("review_codes", "review_invoice_fields", "csv_dialects", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        """From the environment a list is one string: INTAKE_REVIEW_CODES="PROCESSING_ERROR|DATE_MISMATCH"."""
        if isinstance(value, str):
            return tuple(v.strip() for v in value.replace(",", "|").split("|") if v.strip())
        return value

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        """Settings from INTAKE_* variables, then explicit overrides (flags)."""
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = os.environ.get(f"INTAKE_{name.upper()}")
            if raw is not None:
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
