"""The analysts' report: built from ~60 saved results (store-shaped rows), opened in headless Chromium
with the network blocked; each section there, each chart decoded, a table sorted by a click."""
import io
import json
import random
import sys
from datetime import date
from pathlib import Path

import pytest

from results import progress as progress_mod
from results.report import report_main, write_report
from results.store import DOCUMENT_COLUMNS, DOSSIER_COLUMNS, RESULTS_DIR

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
DAYS = ["2026-11-28", "2026-11-29", "2026-11-30"]
DECISIONS = [("accept", ""), ("request_documents", "INVOICE_MISSING"),
             ("request_documents", "VET_STAMP_MISSING|CARE_SHEET_UNDATED"), ("illegible", "INVOICE_ILLEGIBLE")]
KINDS = ["veterinary", "pharmacy", "laboratory", "other", ""]
EVIL = "=<img src=x> illisible è"
SECTIONS = ["decisions", "revue", "illisibles", "scores", "emetteurs", "feuille-facture", "temps"]


def _row(columns: list[str], **values: str) -> dict[str, str]:
    row = {c: "" for c in columns}
    row.update(values)
    return row


def _dossier(i: int, rng: random.Random, extra: bool) -> dict:
    decision, reasons = DECISIONS[i % len(DECISIONS)]
    did = f"D-TEST-{i:03d}"
    dossier = _row(DOSSIER_COLUMNS, dossier_id=did, decision=decision, reasons=reasons,
                   processed_at=f"{DAYS[i % 3]}T{8 + i % 10:02d}:15:00+00:00", folder=did,
                   message_fr="Vétérinaire contacté, pièce reçue après relance")
    if i == 7:
        dossier["processed_at"] = ""  # unknown day
    sheet = _row(DOCUMENT_COLUMNS, dossier_id=did, file=f"Feuille é è {i}.pdf", pages="1", doc_type="care_sheet",
                 readability=f"{rng.uniform(0.5, 1):.3f}", legible="true", vet_stamp=rng.choice(["true", "false", ""]),
                 owner_signature="true", capture="pdf_image")
    amount = "1234.50" if i == 0 else ("" if i % 9 == 4 else f"{rng.uniform(20, 600):.2f}")
    invoice = _row(DOCUMENT_COLUMNS, dossier_id=did, file="=HYPERLINK(\"x\").png" if i == 1 else f"Numérisation {i}.png",
                   pages="1-2", doc_type="invoice", readability=f"{rng.uniform(0.3, 1):.3f}",
                   ocr_confidence="" if i % 5 == 0 else f"{rng.uniform(40, 96):.1f}", legible="true",
                   invoice_date=f"2026-11-{1 + i % 27:02d}", invoice_total_ttc=amount,
                   vet_siret="" if i % 6 == 0 else f"{10000000000000 + (i % 11) * 7919:014d}",
                   invoice_kind=KINDS[i % len(KINDS)], invoice_number=f"F-{i}")
    if decision == "illegible":
        invoice.update(legible="false", readability="0.2", readability_defects="blur|dark")
    if extra:
        sheet["care_sheet_total_ttc"] = amount if i % 4 else "10.00"
        invoice["siret_confidence"] = f"{rng.uniform(50, 100):.1f}"
        dossier.update(processing_s=f"{rng.uniform(2, 40):.1f}", needs_review="true" if i % 3 == 0 else "false",
                       review_why="montant douteux" if i % 3 == 0 else "",
                       reviewed_by="Hélène" if i % 6 == 0 else "", reviewed_at="2026-12-01T10:00:00+01:00" if i % 6 == 0 else "")
    documents = [sheet, invoice]
    if i == 2:  # a file no reader opened
        documents.append(_row(DOCUMENT_COLUMNS, dossier_id=did, file="vide.pdf", doc_type="other", legible="false",
                              error="fichier vide"))
    if i == 3:  # a cause that is markup and a formula: shown as text, never run
        documents.append(_row(DOCUMENT_COLUMNS, dossier_id=did, file="x.bin", doc_type="other", legible="false",
                              error=EVIL))
    return {"dossier": dossier, "documents": documents}


def make_run(out: Path, n: int = 60, extra: bool = False) -> Path:
    """An output folder holding `n` saved results shaped like results.store's."""
    rng = random.Random(4)
    (out / RESULTS_DIR).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        payload = _dossier(i, rng, extra)
        path = out / RESULTS_DIR / f"{payload['dossier']['folder']}.json"
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return out


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_report_opens_offline_with_every_section_chart_and_a_sortable_table(tmp_path):
    from playwright.sync_api import sync_playwright

    page_path = write_report(make_run(tmp_path / "out"))
    assert page_path == tmp_path / "out" / "report.html"
    blocked = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()

            def route(r):
                if r.request.url.startswith(("data:", "file:")):
                    return r.continue_()
                blocked.append(r.request.url)
                return r.abort()

            page.route("**/*", route)
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            for anchor in SECTIONS:
                assert page.locator(f"section#{anchor} h2").count() == 1, anchor
            text = page.inner_text("body")
            assert "Aucune revue enregistrée" in text and "pas encore lu" in text and "pas encore mesuré" in text
            assert EVIL in text  # escaped: shown as written, no <img> made of it (all images decode below)
            assert "60" in page.inner_text("section#decisions .kpi >> nth=0")
            widths = page.eval_on_selector_all("img", "els => els.map(e => e.complete && e.naturalWidth)")
            assert len(widths) >= 6 and all(w > 0 for w in widths), widths

            # Sort the reasons table by code (text), then the issuers by total (numbers shown as "1 234,50 €").
            reasons = page.locator("section#decisions table", has_text="Libellé")
            codes = lambda: reasons.locator("tbody td:nth-child(1)").all_inner_texts()  # noqa: E731
            before = codes()
            reasons.locator("th:nth-child(1)").click()
            assert codes() == sorted(before) != before
            reasons.locator("th:nth-child(1)").click()
            assert codes() == sorted(before, reverse=True)
            issuers = page.locator("section#emetteurs table", has_text="SIRET")
            totals = lambda: [float(v) for v in issuers.locator("tbody td:nth-child(4)").evaluate_all(  # noqa: E731
                "tds => tds.map(td => td.dataset.v)")]
            before = totals()
            issuers.locator("th:nth-child(4)").click()
            assert totals() == sorted(before) != before and "1\u202f" in issuers.inner_text()
        finally:
            browser.close()
    assert blocked == []  # nothing tried to leave the page


def test_optional_columns_fill_review_care_sheet_and_timing_sections(tmp_path):
    html = write_report(make_run(tmp_path / "out", extra=True)).read_text(encoding="utf-8")
    assert "Aucune revue enregistrée" not in html and "pas encore" not in html
    assert "Hélène" in html and "montant douteux" in html  # reviewer and why
    assert "totaux égaux" in html and "Les plus lents" in html and "siret_confidence" in html


def test_since_keeps_later_dossiers_and_names_the_day(tmp_path):
    out = make_run(tmp_path / "out")
    html = write_report(out, tmp_path / "r.html", since=date(2026, 11, 30)).read_text(encoding="utf-8")
    assert "depuis le 2026-11-30" in html
    assert "<b>20</b>dossiers" in html  # 60 over 3 days, the unknown day (i=7, day 29) left out anyway
    assert "2026-11-28" not in html and "(date inconnue)" not in html


@pytest.mark.parametrize("case", ["missing", "empty", "corrupt", "since"])
def test_nothing_to_report_is_a_page_saying_so(tmp_path, case):
    out = tmp_path / "out"
    if case != "missing":
        (out / RESULTS_DIR).mkdir(parents=True)
    if case == "corrupt":
        (out / RESULTS_DIR / "bad.json").write_text("{not json", encoding="utf-8")
    if case == "since":
        make_run(out, n=3)
    html = write_report(out, tmp_path / "r.html", since=date(2030, 1, 1) if case == "since" else None)
    text = html.read_text(encoding="utf-8")
    expected = {"missing": "existe pas", "empty": "est vide", "corrupt": "bad.json",
                "since": "Aucun dossier traité depuis le 2030-01-01"}[case]
    assert expected in text and "<img" not in text


def test_report_main_parses_out_since_and_html(tmp_path, capsys):
    out = make_run(tmp_path / "out", n=6)
    assert report_main([str(out), "--since", "2026-11-29", "--html", str(tmp_path / "x" / "r.html")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "x" / "r.html")
    assert "depuis le 2026-11-29" in (tmp_path / "x" / "r.html").read_text(encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        report_main([str(out), "--since", "hier"])
    assert exc.value.code == 2


class _FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_silent_unless_a_person_watches(monkeypatch, capsys):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("PREFECT__FLOW_RUN_ID", raising=False)
    assert list(progress_mod.progress(range(5), 5, "x")) == [0, 1, 2, 3, 4]
    assert capsys.readouterr().err == ""  # pytest's captured stderr is not a TTY
    monkeypatch.setattr(sys, "stderr", _FakeTty())
    assert progress_mod.interactive()
    for name in progress_mod.QUIET_ENV:  # CI, or a Prefect flow run's process
        monkeypatch.setenv(name, "1")
        assert not progress_mod.interactive()
        assert list(progress_mod.progress(iter("ab"), 2, "x")) == ["a", "b"] and sys.stderr.getvalue() == ""
        monkeypatch.delenv(name)


def test_the_run_bar_is_silent_without_a_person_at_a_terminal(capsys, monkeypatch):
    from results.progress import Bar

    monkeypatch.delenv("CI", raising=False)
    with Bar(5, "Dossiers") as bar:  # pytest's stderr is no terminal
        for _ in range(5):
            bar.advance()
    assert capsys.readouterr().err == ""
