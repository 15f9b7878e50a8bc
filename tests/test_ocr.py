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

    import pytesseract

    real = pytesseract.image_to_data
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

    monkeypatch.setattr(pytesseract, "image_to_data", counting)
    one = settings.model_copy(update={"workers": 1, "ocr_cache_dir": None})
    pages = [text_page([f"Page {i}", *INVOICE_LINES]) for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        texts = list(pool.map(lambda im: ocr_image(im, one), pages))
    assert all("FACTURE" in t.text for t in texts)
    assert peak[0] == 1
