"""The text layer's child: forked from a server that has pdfplumber loaded, under a deadline."""
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from core.settings import REPO_ROOT
from tests.conftest import REAL_DIR


def test_children_read_what_pdfplumber_reads_here_from_many_threads():
    from extractors.pages.pdf_text import _parse, raw_words

    pdfs = sorted(REAL_DIR.glob("*.pdf"))[:4]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda p: raw_words(p, 3, 30), pdfs))
    for pdf, pages in zip(pdfs, got):
        assert pages == [(p["width"], p["height"], p["words"]) for p in _parse(str(pdf), 3)]
        assert len(pages[0][2]) > 20


def test_a_main_script_without_a_guard_is_not_run_again_by_the_child(tmp_path):
    """multiprocessing's own fork-server children import `__main__` again: an unguarded script would
    start over in every child (and fail there). Ours never import it."""
    script = tmp_path / "unguarded.py"
    pdf = min(REAL_DIR.glob("*.pdf"))
    script.write_text("import sys\nfrom extractors.pages.pdf_text import raw_words\n"
                      "print('MAIN RAN')\n"
                      f"pages = raw_words({str(pdf)!r}, 1, 30)\n"
                      "assert pages and pages[0][2], pages\n")
    done = subprocess.run([sys.executable, str(script)], check=False, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("MAIN RAN") == 1


def test_a_broken_pdf_gives_no_text_layer_and_raises_nothing(tmp_path):
    from extractors.pages.pdf_text import raw_words

    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7\n garbage")
    assert raw_words(bad, 1, 30) is None


def _words_in_child(pdf):
    from extractors.pages import pdf_text

    return pdf_text.raw_words(pdf, 1, 30)


def test_a_dossier_child_reads_the_text_layer_through_the_server_its_parent_started():
    """The flow starts the server once (pipeline.dossier.warm_up) and forks a child per dossier. Such a child
    lost every text layer (multiprocessing's liveness check, a `waitpid` on a process that is not the
    child's, failed: the pages were OCRed instead); it must use the inherited server, and start its own
    once that one is dead."""
    import os
    import signal
    import time
    from multiprocessing import forkserver

    from extractors.pages import pdf_text
    from inbox.deadline import call_with_limit

    pdf = min(REAL_DIR.glob("*.pdf"))
    here = pdf_text.raw_words(pdf, 1, 30)
    pdf_text.start_server()
    server = forkserver._forkserver._forkserver_pid
    assert call_with_limit(_words_in_child, 60, pdf) == here
    assert forkserver._forkserver._forkserver_pid == server  # the same server, none started by the child

    os.kill(server, signal.SIGKILL)
    time.sleep(0.2)
    assert call_with_limit(_words_in_child, 60, pdf) == here  # the child started its own
    pdf_text.start_server()  # and the parent another, for the next children
    assert forkserver._forkserver._forkserver_pid != server
    assert call_with_limit(_words_in_child, 60, pdf) == here
