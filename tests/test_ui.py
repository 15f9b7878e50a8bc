"""Look at it as an operator would: headless Chromium (Debian's) opens the Prefect UI on the finished
deployment run and must show each dossier id with its decision, and the dossier's images rendered.

Screenshots go to the test's temp folder, or to $INTAKE_UI_SCREENSHOTS when set
(`INTAKE_UI_SCREENSHOTS=docs/shots pytest tests/test_ui.py` to look at them).
"""
import json
import os
import urllib.request
from pathlib import Path

import pytest

from tests.test_deployment import DOSSIERS, deployed_run  # noqa: F401  (the shared server fixture)

pytestmark = pytest.mark.flow
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _artifacts(api: str, run_id: str) -> dict[str, dict]:
    body = json.dumps({"flow_runs": {"id": {"any_": [run_id]}}}).encode()
    req = urllib.request.Request(f"{api}/artifacts/filter", data=body, headers={"Content-Type": "application/json"})
    return {a["key"]: a for a in json.loads(urllib.request.urlopen(req, timeout=20).read())}


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_prefect_ui_shows_each_dossier_and_its_decision(deployed_run, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    ui, run_id = deployed_run["ui"], deployed_run["run_id"]
    artifacts = _artifacts(deployed_run["api"], run_id)
    table = json.loads(artifacts["inbox-dossiers"]["data"])
    decisions = {row["dossier_id"]: row["decision"] for row in table}
    assert set(decisions) == set(DOSSIERS)
    shots = Path(os.environ.get("INTAKE_UI_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 1300, "height": 1000})
        try:
            page = browser.new_page()

            def visit(path: str, shot: str) -> str:
                page.goto(f"{ui}{path}")
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(1000)
                page.screenshot(path=str(shots / shot), full_page=True)
                return page.inner_text("body")

            # The default UI (V2) on the run: its logs name each dossier with its decision.
            text = visit(f"/v2/runs/flow-run/{run_id}", "run.png")
            for dossier_id, decision in decisions.items():
                assert f"dossier {dossier_id}: {decision}" in text

            # The run's table: one row per dossier, with its decision and portal status.
            page.goto(f"{ui}/v2/artifacts/artifact/{artifacts['inbox-dossiers']['id']}")
            page.wait_for_selector("table")
            page.screenshot(path=str(shots / "table.png"), full_page=True)
            for dossier_id, decision in decisions.items():
                row = page.locator("tr", has_text=dossier_id)
                assert decision in row.inner_text()

            # One dossier's page, in both UIs: decision, French status, and its images rendered.
            key = "dossier-" + DOSSIERS[0].lower()
            for base, shot in (("/v2", "dossier.png"), ("", "dossier-v1.png")):
                text = visit(f"{base}/artifacts/artifact/{artifacts[key]['id']}", shot)
                assert DOSSIERS[0] in text and decisions[DOSSIERS[0]] in text
                assert "En attente de documents supplémentaires" in text
                sizes = page.eval_on_selector_all("img[src^='data:image/jpeg']", "els => els.map(e => e.naturalWidth)")
                assert len(sizes) >= 2 and all(w > 0 for w in sizes)  # the page and its zones, decoded
        finally:
            browser.close()
    assert all((shots / s).stat().st_size > 10_000 for s in ("run.png", "table.png", "dossier.png"))
