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
    one = settings.model_copy(update={"workers": 1, "ocr_cache_dir": None})
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
