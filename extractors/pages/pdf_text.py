"""The words of a PDF's text layer, parsed by pdfplumber in a child process with a deadline.

pdfminer (under pdfplumber) has no deadline of its own: 226 kB of compressed text operators keep it
busy for minutes (measured: > 60 s for 3 million `Tj`; a real clinic invoice takes < 1 s). No check
before parsing can tell such a file from a real one (it is small, one page, and poppler opens it in
milliseconds), so the parse always runs in a child process that is killed at the deadline; starting
it costs ~0.25 s per PDF file (Python + pdfplumber's import), against seconds of OCR per scanned page.

`python -m extractors.pages.pdf_text FILE N` prints, as JSON, per page of the first N: its size in
points and its words (text, x0, x1, top, bottom).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from core.settings import REPO_ROOT

RawPage = tuple[float, float, list[dict]]  # width pt, height pt, words


def raw_words(path: Path, n: int, timeout_s: float) -> list[RawPage] | None:
    """The first `n` pages' raw words, or None when the parse failed or ran past `timeout_s` (the text
    layer is then not used: the pages are read by their pixels). Raises nothing else."""
    env = {"PYTHONPATH": str(REPO_ROOT), "PATH": "", "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run([sys.executable, "-m", "extractors.pages.pdf_text", str(path), str(n)],
                              capture_output=True, timeout=timeout_s, env=env, cwd=str(REPO_ROOT), check=False)
    except subprocess.TimeoutExpired:  # run() kills the child
        return None
    if done.returncode != 0:
        return None
    return [(p["width"], p["height"], p["words"]) for p in json.loads(done.stdout)]


def _main(path: str, n: int) -> None:
    import pdfplumber

    out = []
    with pdfplumber.open(path, password="") as pdf:
        for page in pdf.pages[:n]:
            words = page.extract_words(keep_blank_chars=False, use_text_flow=False, extra_attrs=["size"])
            out.append({"width": float(page.width), "height": float(page.height),
                        "words": [{k: (w[k] if k == "text" else float(w[k]))
                                   for k in ("text", "x0", "x1", "top", "bottom")} for w in words]})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    _main(sys.argv[1], int(sys.argv[2]))
