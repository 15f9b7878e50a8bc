import os
from pathlib import Path

import pytest

from core.settings import REPO_ROOT, Settings
from flows import prefect_env

# Prefect's logging binds its console handler to the sys.stderr of the moment it is first imported. Import
# it here, under the session's capture, not inside a test whose captured stderr pytest closes afterwards
# (the in-process CLI tests import flows.inbox): later flow runs would log into a closed file.
# The suite's fixtures send one invoice in many dossiers (tests/render.py): with the duplicate check on, every
# such dossier would wait for review. The check has its own tests (test_db.py); the rest run without it
# (the environment reaches the `intake run` subprocesses too).
os.environ.setdefault("INTAKE_DETECT_DUPLICATES", "false")
prefect_env.configure()
import prefect.main  # noqa: E402,F401 - prefect.main sets up its logging

FORM_PDF = REPO_ROOT / "extractors" / "care_sheet" / "feuille_de_soins" / "feuille_de_soins_blank.pdf"
FORM_PNG = REPO_ROOT / "extractors" / "care_sheet" / "feuille_de_soins" / "feuille_de_soins_blank.png"
REAL_DIR = REPO_ROOT.parent / "shared" / "real" / "invoices"


class RecordingEngine:
    """A real OCR engine with what each read was given noted: `reads` holds (image height and width, the
    read's keyword arguments). For tests that check what was asked of Tesseract, not only what came back."""

    def __init__(self, engine):
        self.engine = engine
        self.reads: list[tuple[tuple[int, int], dict]] = []

    def read(self, image, **kw):
        self.reads.append((image.shape[:2], kw))
        return self.engine.read(image, **kw)

    def orientation(self, image):
        return self.engine.orientation(image)

    def warm(self):
        self.engine.warm()


@pytest.fixture
def recording_engine():
    """RecordingEngine, to wrap the engine a test reads with."""
    return RecordingEngine


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(ocr_cache_dir=tmp_path / "ocr-cache", workers=2)


@pytest.fixture(scope="session")
def prefect_harness():
    """A real Prefect backend (the test harness: temporary SQLite database)."""
    prefect_env.configure()
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
