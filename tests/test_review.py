"""Review by an operator, for real: `prefect server start`, the three deployments of prefect.yaml, a worker.

The inbox run sends one dossier to review (INVOICE_MISSING is made a review code for the test) and does
not wait; a second worker runs the review run until it suspends (and exits: a waiting review holds no
worker). Then, through the server's API, a resume with invalid input is refused and the run still waits;
headless Chromium opens the resume form; a valid resume is run by a worker and the CSVs show the change.
"""
import csv
import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from core.settings import REPO_ROOT
from tests.test_deployment import DOSSIERS, PREFECT, _api, _free_port, _inbox, _stop

pytestmark = pytest.mark.flow
REVIEWED = DOSSIERS[1]  # the one without an invoice: INVOICE_MISSING, a review code in this test
CHROMIUM = "/usr/bin/chromium"


def _cli(args: list[str], env: dict, timeout: float = 400) -> str:
    done = subprocess.run([PREFECT, *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"prefect {' '.join(args)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def _rows(root: Path) -> dict[str, dict[str, str]]:
    with (root / "out" / "dossiers.csv").open(encoding="utf-8") as fh:
        return {r["dossier_id"]: r for r in csv.DictReader(fh)}


def _review_runs(api: str) -> list[dict]:
    return _api(api, "/flow_runs/filter", {"flow_runs": {"name": {"like_": "review-"}}})


def _resume(api: str, run_id: str, run_input: dict) -> dict:
    return _api(api, f"/flow_runs/{run_id}/resume", {"run_input": run_input})


@pytest.fixture(scope="module")
def review_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("review")
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(root / "prefect-home"), PREFECT_API_URL=api,
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_SERVER_LOGGING_LEVEL="WARNING",
               INTAKE_REPO=str(REPO_ROOT), INTAKE_INBOX=str(_inbox(root)), INTAKE_OUT=str(root / "out"),
               INTAKE_ARCHIVE=str(root / "archive"), INTAKE_OCR_CACHE_DIR=str(root / "ocr"), INTAKE_WORKERS="2",
               INTAKE_REVIEW_CODES="INVOICE_MISSING|PROCESSING_ERROR", INTAKE_REVIEW_QUEUE_ALERT="1")
    server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=open(root / "server.log", "w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.time() + 150
        while True:
            try:
                urllib.request.urlopen(f"{api}/health", timeout=2).read()
                break
            except OSError:
                assert server.poll() is None and time.time() < deadline, (root / "server.log").read_text()[-2000:]
                time.sleep(0.5)
        _cli(["work-pool", "create", "intake", "--type", "process"], env)
        _cli(["--no-prompt", "deploy", "--all"], env)
        out = _cli(["deployment", "run", "process_inbox/clear-inbox"], env)
        inbox_run = next(line.split()[-1] for line in out.splitlines() if "UUID" in line)
        log = _cli(["worker", "start", "--pool", "intake", "--run-once"], env)  # the inbox run
        log += _cli(["worker", "start", "--pool", "intake", "--run-once"], env)  # the review run, to its suspension
        (root / "worker.log").write_text(log)
        yield {"api": api, "ui": f"http://127.0.0.1:{port}", "root": root, "env": env, "inbox_run": inbox_run,
               "worker_log": log}
    finally:
        _stop(server)


def test_inbox_run_sends_a_dossier_to_review_and_does_not_wait(review_server):
    api, root = review_server["api"], review_server["root"]
    assert _api(api, f"/flow_runs/{review_server['inbox_run']}")["state"]["type"] == "COMPLETED"
    rows = _rows(root)
    row = rows[REVIEWED]
    assert row["decision"] == "request_documents"  # the contract's three values, unchanged
    assert row["needs_review"] == "true" and "INVOICE_MISSING" in row["review_why"]
    assert row["confidence"] and 0.0 <= float(row["confidence"]) <= 1.0 and row["reviewed_by"] == ""
    assert (root / "archive" / "review" / REVIEWED / "manifest.json").is_file()  # not released
    for name in set(DOSSIERS) - {REVIEWED}:
        assert rows[name]["needs_review"] == "false"
        assert (root / "archive" / rows[name]["decision"] / name / "manifest.json").is_file()
    runs = _review_runs(api)
    assert len(runs) == 1 and runs[0]["parameters"]["folder"] == REVIEWED, review_server["worker_log"][-3000:]
    assert runs[0]["state"]["type"] == "PAUSED" and runs[0]["state"]["name"] == "Suspended"
    keyset = runs[0]["state"]["state_details"]["run_input_keyset"]
    schema = _api(api, f"/flow_runs/{runs[0]['id']}/input/{keyset['schema']}")  # the form was saved
    assert set(schema["properties"]) == {"decision", "reasons", "note", "operator"}, review_server["worker_log"][-3000:]
    # the events, and the automation of prefect.yaml on the review queue
    events = _api(api, "/events/filter", {"filter": {"event": {"prefix": ["intake."]}}, "limit": 50})["events"]
    names = {(e["event"], e["resource"]["prefect.resource.id"]) for e in events}
    assert ("intake.dossier.review-requested", f"intake.dossier.{REVIEWED}") in names
    assert {("intake.dossier.decided", f"intake.dossier.{d}") for d in DOSSIERS} <= names
    automations = _api(api, "/automations/filter", {})
    assert any(a["trigger"].get("expect") == ["intake.review.queue-over-limit"] for a in automations)


def test_resume_with_invalid_input_is_refused_and_the_review_still_waits(review_server):
    api = review_server["api"]
    run = _review_runs(api)[0]
    for bad in ({"decision": "maybe", "operator": "Camille"},  # not one of the contract's decisions
                {"decision": "accept", "operator": ""},  # nobody signed
                {"decision": "accept", "reasons": ["NOT_A_CODE"], "operator": "Camille"}):
        answer = _resume(api, run["id"], bad)
        assert answer["status"] == "REJECT" and "Reason: " in answer["details"]["reason"], answer
    assert _api(api, f"/flow_runs/{run['id']}")["state"]["name"] == "Suspended"
    assert _rows(review_server["root"])[REVIEWED]["reviewed_by"] == ""


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_review_form_in_the_ui_shows_the_dossier(review_server, tmp_path):
    from playwright.sync_api import sync_playwright

    run = _review_runs(review_server["api"])[0]
    shots = Path(os.environ.get("INTAKE_UI_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(f"{review_server['ui']}/v2/runs/flow-run/{run['id']}")
            page.wait_for_load_state("networkidle")
            page.get_by_text("Suspended").first.wait_for(timeout=30_000)
            page.screenshot(path=str(shots / "review-run.png"))
            if page.get_by_role("button", name="Resume").count() == 0:  # V2 keeps a run's actions in a menu
                for trigger in page.locator("button[aria-haspopup='menu']").all():
                    trigger.click()
                    if page.get_by_role("menuitem", name="Resume").count():
                        break
                    page.keyboard.press("Escape")
                page.get_by_role("menuitem", name="Resume").click()
            else:
                page.get_by_role("button", name="Resume").first.click()
            dialog = page.get_by_role("dialog")
            dialog.get_by_text(f"Revue — {REVIEWED}").wait_for(timeout=30_000)
            page.wait_for_timeout(1500)
            text = dialog.inner_text()
            assert "Message au client" in text and "INVOICE_MISSING" in text
            sizes = dialog.locator("img").evaluate_all("els => els.map(e => e.naturalWidth)")
            links = dialog.locator("a[href*='/artifacts/key/dossier-']").count()
            (shots / "review-form.json").write_text(json.dumps({"images": sizes, "artifact_links": links}))
            if sizes:  # the README's picture: the form scrolled to the page thumbnail and the crops
                dialog.locator("img").first.scroll_into_view_if_needed()
                page.wait_for_timeout(500)
            page.screenshot(path=str(shots / "review-form.png"))
            # the page thumbnail and the crops are in the form, decoded (measured: the V2 UI renders data: URIs
            # there as in artifacts); the form also links the dossier's artifact page
            assert len(sizes) >= 2 and all(w > 0 for w in sizes) and links == 1, (sizes, links)
        finally:
            browser.close()


def test_resume_with_input_makes_the_operators_decision_the_dossiers(review_server):
    api, root, env = review_server["api"], review_server["root"], review_server["env"]
    run = _review_runs(api)[0]
    answer = _resume(api, run["id"], {"decision": "accept", "reasons": [], "note": "facture reçue par courrier",
                                      "operator": "Camille Roux"})
    assert answer["status"] == "ACCEPT", answer
    log = _cli(["worker", "start", "--pool", "intake", "--run-once"], env)
    state = _api(api, f"/flow_runs/{run['id']}")["state"]
    assert state["type"] == "COMPLETED", log[-3000:]
    row = _rows(root)[REVIEWED]
    assert row["decision"] == "accept" and row["status_fr"] == "A traiter" and row["reasons"] == ""
    assert row["message_fr"] == "" and row["reviewed_by"] == "Camille Roux" and row["reviewed_at"]
    assert (root / "archive" / "accept" / REVIEWED / "manifest.json").is_file()
    assert not (root / "archive" / "review" / REVIEWED).exists()
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from results.models import Dossier, Review

    with Session(create_engine(f"sqlite:///{root / 'out' / 'results.db'}")) as s:  # the review, in the database
        review = s.scalars(select(Review).join(Dossier).where(Dossier.folder == REVIEWED)).all()[-1]
        assert review.decision_before == "request_documents" and review.decision_after == "accept"
        assert review.before["decision"] == "request_documents" and review.after["decision"] == "accept"
        assert review.note == "facture reçue par courrier" and review.reviewed_by == "Camille Roux"
    others = {k: v for k, v in _rows(root).items() if k != REVIEWED}
    assert all(r["reviewed_by"] == "" for r in others.values())
