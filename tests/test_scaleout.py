"""Two flow runs at once on one inbox (as two workers would): every dossier is processed by exactly
one of them, archived once and written once. The full scale-out (PostgreSQL, two Prefect workers)
is scripts/scaleout.sh; this is its fast, real core: two processes racing for the same folders."""
import csv
import os
import re

import pytest

from tests.render import INVOICE_LINES, intake_run, text_pdf, write_dossier

pytestmark = pytest.mark.flow


def test_two_concurrent_runs_share_the_inbox_without_overlap(tmp_path, prefect_harness):
    from prefect.settings import PREFECT_API_URL

    inbox, out, archive = tmp_path / "inbox", tmp_path / "out", tmp_path / "archive"
    invoice = text_pdf(INVOICE_LINES, tmp_path / "facture.pdf")
    names = [f"D-{i:02d}" for i in range(12)]
    for n in names:
        write_dossier(inbox, n, invoice)
    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value(), INTAKE_OCR_CACHE_DIR=str(tmp_path / "ocr"))
    runs = [intake_run(inbox, out, archive, env, 1, text=True) for _ in range(2)]
    logs = [r.communicate(timeout=400)[0] for r in runs]
    assert [r.returncode for r in runs] == [0, 0], "\n".join(log[-2000:] for log in logs)

    done = [re.findall(r"Task run '(D-\d+)' - Finished in state Completed", log) for log in logs]
    assert not set(done[0]) & set(done[1])  # never the same dossier twice
    assert sorted(done[0] + done[1]) == names
    assert done[0] and done[1], "one run took everything: the race was not exercised"
    with (out / "dossiers.csv").open(encoding="utf-8") as fh:
        assert sorted(r["dossier_id"] for r in csv.DictReader(fh)) == names
    assert sorted(p.name for p in archive.glob("*/*")) == names
