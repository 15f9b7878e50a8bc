from extractors.pages.ocr import ocr_image
from tests.render import INVOICE_LINES, text_page


def test_real_tesseract_reads_words_with_boxes_and_confidence(settings):
    image = text_page(INVOICE_LINES)
    text = ocr_image(image, settings)
    assert "FACTURE" in text.text and "TTC" in text.text
    assert text.mean_conf > 70
    word = next(w for w in text.words if w.text == "FACTURE")
    assert 0.1 * image.shape[1] - 10 < word.left < 0.2 * image.shape[1]


def test_region_boxes_are_in_page_pixels_and_results_are_cached(settings):
    image = text_page(INVOICE_LINES)
    h, w = image.shape[:2]
    region = (0, h // 4, w, h // 2)
    text = ocr_image(image, settings, region=region)
    assert "TTC" in text.text and "Clinique" not in text.text
    assert all(w.top >= h // 4 for w in text.words)
    cached = list(settings.ocr_cache_dir.rglob("*.json"))
    assert len(cached) == 1
    again = ocr_image(image, settings, region=region)
    assert again.words == text.words


def test_never_more_tesseract_processes_than_workers_however_many_threads_ask(settings, monkeypatch):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from extractors.pages.ocr import Tesseract

    real = Tesseract._run
    running, peak, lock = [0], [0], threading.Lock()

    def counting(*args, **kwargs):  # the real Tesseract, only counted
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(Tesseract, "_run", counting)
    one = settings.model_copy(update={"workers": 1, "ocr_cache_dir": None, "ocr_engine": "tesseract"})
    pages = [text_page([f"Page {i}", *INVOICE_LINES]) for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        texts = list(pool.map(lambda im: ocr_image(im, one), pages))
    assert all("FACTURE" in t.text for t in texts)
    assert peak[0] == 1


def test_the_engine_reads_what_pytesseract_reads_and_sets_no_environment_of_ours(settings):
    """Same command, same parser: the words, boxes and confidences of pytesseract's image_to_data.
    OMP_THREAD_LIMIT goes to each tesseract process only, never into our own environment."""
    import os
    import subprocess
    import sys

    import pytesseract

    from extractors.pages.ocr import Tesseract, _parse

    image = text_page(INVOICE_LINES)
    engine = Tesseract.from_settings(settings.model_copy(update={"ocr_cache_dir": None}))
    ours = engine.read(image)
    theirs = _parse(pytesseract.image_to_data(image, lang=settings.ocr_languages,
                                              config=f"--psm {settings.ocr_psm} --oem 1",
                                              output_type=pytesseract.Output.DICT))
    assert ours.words == theirs and len(ours.words) > 10
    assert engine.env()["OMP_THREAD_LIMIT"] == "1"
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    probe = "import os, extractors.pages.ocr, pipeline.dossier; assert 'OMP_THREAD_LIMIT' not in os.environ"
    assert subprocess.run([sys.executable, "-c", probe], env=env).returncode == 0


def test_a_missing_tesseract_or_its_french_is_the_machines_failure_not_the_pages(settings, tmp_path):
    """No page is 'illisible' because the engine is gone: InfrastructureError, which stops the run."""
    from dataclasses import replace

    import pytest

    from extractors.pages.ocr import Tesseract
    from core.errors import InfrastructureError

    engine = replace(Tesseract.from_settings(settings.model_copy(update={"ocr_cache_dir": None})),
                     command="/nonexistent/tesseract", retries=0)
    for call in (engine.read, engine.orientation):
        with pytest.raises(InfrastructureError):
            call(text_page(INVOICE_LINES))
    no_data = replace(engine, command="tesseract", languages="zzz")  # a language with no .traineddata
    with pytest.raises(InfrastructureError, match="language data"):
        no_data.read(text_page(INVOICE_LINES))


def test_a_tesseract_killed_mid_page_is_the_machines_failure(settings, tmp_path):
    """A tesseract killed on every try (the OOM killer, an operator) stops the run, it is no page's fault."""
    from dataclasses import replace

    import pytest

    from extractors.pages.ocr import Tesseract
    from core.errors import InfrastructureError

    killer = tmp_path / "tesseract"
    killer.write_text("#!/bin/sh\nkill -9 $$\n")
    killer.chmod(0o755)
    engine = replace(Tesseract.from_settings(settings.model_copy(update={"ocr_cache_dir": None})),
                     command=str(killer), retries=1)
    with pytest.raises(InfrastructureError, match="signal 9"):
        engine.read(text_page(INVOICE_LINES))


# --- libtesseract in our process (tesserocr) next to the command ---------------------------------

def _real_invoice_page(tmp_path):
    import subprocess

    import cv2

    from tests.conftest import REAL_DIR

    pdf = REAL_DIR / "fnfe_Facture_FR_BASICWL.pdf"
    subprocess.run(["pdftoppm", "-r", "200", "-gray", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
                   check=True)
    return cv2.imread(str(next(tmp_path.glob("p-*.png"))))


def _key(w):
    return w.text, w.left, w.top, w.width, w.height, w.line


def _engines(settings):
    from extractors.pages.ocr import Tesseract, TesserOcr

    plain = settings.model_copy(update={"ocr_cache_dir": None})
    return Tesseract.from_settings(plain), TesserOcr.from_settings(plain)


def test_tesserocr_reads_the_same_words_boxes_and_confidences_as_the_command(settings, tmp_path):
    """Same libtesseract, same grey buffer, same TSV: every word, box, line and confidence equal, on a
    rendered page, a scan, phone photos and a real invoice, in sparse-text and page mode."""
    import cv2

    from core.settings import REPO_ROOT

    command, api = _engines(settings)
    data = REPO_ROOT / "tests" / "data"
    pages = [text_page(INVOICE_LINES), _real_invoice_page(tmp_path),
             *(cv2.imread(str(data / n)) for n in ("ruled_scan.jpg", "small_print_siret_scan.jpg",
                                                   "invoice_photo_unwarped_on_table.jpg"))]
    for page in pages:
        for psm in (11, 3):
            ours, theirs = api.read(page, psm=psm), command.read(page, psm=psm)
            assert len(theirs.words) > 10
            assert [_key(w) for w in ours.words] == [_key(w) for w in theirs.words]
            assert all(abs(a.conf - b.conf) <= 0.5 for a, b in zip(ours.words, theirs.words))
    h, w = pages[0].shape[:2]
    region = (0, h // 4, w, h // 2)  # regions are cropped and shifted back alike
    assert api.read(pages[0], region=region).words == command.read(pages[0], region=region).words


def test_tesserocr_finds_the_same_orientation_as_the_command(settings):
    import cv2

    command, api = _engines(settings)
    page = text_page(INVOICE_LINES)
    for turn in (cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_180):
        turned = cv2.rotate(page, turn)
        assert api.orientation(turned) == command.orientation(turned)
    assert command.orientation(cv2.rotate(page, cv2.ROTATE_90_CLOCKWISE))[0] == 270


def test_a_lent_engine_reads_the_next_page_as_a_fresh_one_would(settings, tmp_path):
    """Engines are kept between pages: what one page left behind must not change the next reading."""
    _, api = _engines(settings)
    a, b = text_page(INVOICE_LINES), _real_invoice_page(tmp_path)
    first = api.read(a).words
    api.read(b, psm=3)
    assert api.read(a).words == first


def test_no_more_tesserocr_engines_than_slots_however_many_threads_ask(settings):
    from concurrent.futures import ThreadPoolExecutor

    from extractors.pages import tess_api
    from extractors.pages.ocr import TesserOcr

    langs = "eng+fra"  # a pool of its own, so the count is this test's
    one = TesserOcr.from_settings(settings.model_copy(update={"workers": 1, "ocr_cache_dir": None,
                                                             "ocr_languages": langs}))
    pages = [text_page([f"Page {i}", *INVOICE_LINES]) for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        texts = list(pool.map(one.read, pages))
    assert all("FACTURE" in t.text for t in texts)
    assert len(tess_api._pool(langs).idle) == 1


def test_tesserocr_runs_openmp_single_threaded_and_leaves_our_environment_alone():
    """libgomp reads OMP_THREAD_LIMIT when it loads: 1 inside libtesseract, not left in os.environ."""
    import os
    import subprocess
    import sys

    probe = ("import ctypes, os; from extractors.pages import tess_api; tess_api.library(); "
             "assert 'OMP_THREAD_LIMIT' not in os.environ; "
             "print(ctypes.CDLL('libgomp.so.1').omp_get_thread_limit())")
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    done = subprocess.run([sys.executable, "-c", probe], check=False, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


def test_tesserocr_failures_are_the_commands_failures(settings):
    """Missing language data stops the run; a page past the deadline is this page's OcrError."""
    from dataclasses import replace

    import pytest

    from core.errors import InfrastructureError, OcrError

    _, api = _engines(settings)
    with pytest.raises(InfrastructureError, match="language data"):
        replace(api, languages="zzz").read(text_page(INVOICE_LINES))
    with pytest.raises(OcrError, match="timed out"):
        replace(api, timeout_s=0.001, retries=0).read(text_page(INVOICE_LINES * 6))


def test_the_command_reads_when_libtesseract_cannot_load_its_data(settings, tmp_path, caplog):
    """A real broken in-process engine (its tessdata folder holds no model): the command reads instead, the
    same words, and the log says so once per cause, not once per image."""
    import logging
    from dataclasses import replace

    import cv2

    command, api = _engines(settings)
    empty = tmp_path / "no-tessdata"
    empty.mkdir()
    broken = replace(api, tessdata=str(empty))
    page = text_page(INVOICE_LINES)
    turned = cv2.rotate(page, cv2.ROTATE_90_CLOCKWISE)
    with caplog.at_level(logging.WARNING, logger="extractors.pages.ocr"):
        first, second, upright = broken.read(page), broken.read(page, psm=3), broken.orientation(turned)
    assert [_key(w) for w in first.words] == [_key(w) for w in command.read(page).words]
    assert len(second.words) > 10 and upright == command.orientation(turned)
    said = [r.getMessage() for r in caplog.records if "tesserocr could not read" in r.getMessage()]
    assert len(said) == 2, said  # once for fra+eng, once for osd
    assert all("from now on" in m for m in said)


def test_the_in_process_engine_is_the_default(settings):
    from core.settings import Settings
    from extractors.pages.ocr import TesserOcr, engine_for

    assert Settings().ocr_engine == "tesserocr"
    assert isinstance(engine_for(settings), TesserOcr)


def _read_in_child(page, settings):
    from extractors.pages import tess_api
    from extractors.pages.ocr import TesserOcr

    words = TesserOcr.from_settings(settings).read(page).words
    return words, tess_api._pool(settings.ocr_languages).made


def test_engines_warmed_before_a_fork_read_in_the_child_without_loading_again(settings):
    """Each dossier is read in a forked child (inbox.deadline): it finds the parent's engines loaded."""
    from inbox.deadline import call_with_limit
    from extractors.pages import tess_api
    from extractors.pages.ocr import TesserOcr

    plain = settings.model_copy(update={"ocr_cache_dir": None, "workers": 2})
    TesserOcr.from_settings(plain).warm()
    made = tess_api._pool(plain.ocr_languages).made
    assert made >= 2 and tess_api._pool("osd", osd=True).made >= 1
    page = text_page(INVOICE_LINES)
    words, made_in_child = call_with_limit(_read_in_child, 60, page, plain)
    assert made_in_child == made  # no engine loaded in the child
    assert words == TesserOcr.from_settings(plain).read(page).words


def test_a_child_forked_while_another_thread_holds_a_tesseract_slot_still_reads(settings):
    """A worker thread warming its engines holds a slot (`tesseract_slots`) for a moment; a dossier forked
    by another thread in that moment must not start with that slot taken: no thread of the child would ever
    give it back, and its first OCR would wait until the dossier's time limit (seen once in CI: 600 s,
    then PROCESSING_ERROR)."""
    import threading

    from extractors.pages.ocr import TesserOcr, tesseract_slots
    from inbox.deadline import TimedOut, call_with_limit

    one = settings.model_copy(update={"ocr_cache_dir": None, "workers": 1})
    TesserOcr.from_settings(one).warm()
    page = text_page(INVOICE_LINES)
    held, release = threading.Event(), threading.Event()

    def warming():  # what warm_engines does in another worker thread while this one forks
        with tesseract_slots(1):
            held.set()
            release.wait(60)

    other = threading.Thread(target=warming)
    other.start()
    held.wait(10)
    try:
        words, _ = call_with_limit(_read_in_child, 30, page, one)
    except TimedOut:
        words = None
    finally:
        release.set()
        other.join()
    assert words == TesserOcr.from_settings(one).read(page).words
