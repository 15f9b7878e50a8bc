"""The operator's path for real: `prefect server start`, a process work pool, `prefect deploy` of the
top-level prefect.yaml, a triggered run picked up by `prefect worker start`; then its outputs."""
import atexit
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from core.settings import REPO_ROOT
from tests.conftest import FORM_PDF
from tests.render import INVOICE_LINES, text_pdf

pytestmark = pytest.mark.flow

PREFECT = str(REPO_ROOT / ".venv" / "bin" / "prefect")
CLIENT = ["Client : Mme Jeanne Martin-Quesnel", "8 allée des Pins Parasols 31000 Toulouse"]  # personal data
DOSSIERS = ("D-2017-000101", "D-2017-000102", "D-2017-000103")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _inbox(root: Path) -> Path:
    inbox = root / "inbox"
    invoice = text_pdf(INVOICE_LINES[:3] + CLIENT + INVOICE_LINES[3:], root / "facture.pdf")
    for i, name in enumerate(DOSSIERS):
        d = inbox / name
        d.mkdir(parents=True)
        docs = [{"file": "feuille de soins.pdf", "slot": "care_sheet"}]
        shutil.copy(FORM_PDF, d / "feuille de soins.pdf")
        if i != 1:  # the second one forgot its invoice
            shutil.copy(invoice, d / "facture.pdf")
            docs.append({"file": "facture.pdf", "slot": "invoice"})
        (d / "manifest.json").write_text(json.dumps({"dossier_id": name, "documents": docs}))
    (inbox / "D-UPLOADING").mkdir()
    shutil.copy(invoice, inbox / "D-UPLOADING" / "facture.pdf")
    return inbox


def _cli(args: list[str], env: dict, timeout: float = 180) -> str:
    done = subprocess.run([PREFECT, *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"prefect {' '.join(args)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


_SHARED: dict = {}  # one server per test process, whichever module asks first (test_ui.py reuses it)


def _stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def _deploy_and_run(root: Path) -> dict:
    """A real server on a free loopback port, the deployment of prefect.yaml, one run done by a worker."""
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(root / "prefect-home"), PREFECT_API_URL=api,
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_SERVER_LOGGING_LEVEL="WARNING",
               INTAKE_REPO=str(REPO_ROOT), INTAKE_INBOX=str(_inbox(root)), INTAKE_OUT=str(root / "out"),
               INTAKE_ARCHIVE=str(root / "archive"), INTAKE_OCR_CACHE_DIR=str(root / "ocr"), INTAKE_WORKERS="2")
    server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=open(root / "server.log", "w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    atexit.register(_stop, server)
    deadline = time.time() + 150
    while True:
        try:
            urllib.request.urlopen(f"{api}/health", timeout=2).read()
            break
        except OSError:
            assert server.poll() is None and time.time() < deadline, (root / "server.log").read_text()[-2000:]
            time.sleep(0.5)
    _cli(["work-pool", "create", "intake", "--type", "process"], env)
    _cli(["--no-prompt", "deploy", "--name", "clear-inbox"], env)
    out = _cli(["deployment", "run", "process_inbox/clear-inbox"], env)
    run_id = next(line.split()[-1] for line in out.splitlines() if "UUID" in line)
    worker = _cli(["worker", "start", "--pool", "intake", "--run-once"], env, timeout=400)
    return {"api": api, "ui": f"http://127.0.0.1:{port}", "run_id": run_id, "root": root, "env": env,
            "worker_log": worker}


@pytest.fixture(scope="session")
def deployed_run(tmp_path_factory):
    if "run" not in _SHARED:
        _SHARED["run"] = _deploy_and_run(tmp_path_factory.mktemp("deployment"))
    return _SHARED["run"]


def _api(base: str, path: str, body: dict | None = None):
    req = urllib.request.Request(f"{base}{path}", data=json.dumps(body or {}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST" if body is not None else "GET")
    return json.loads(urllib.request.urlopen(req, timeout=20).read())


def test_deployment_run_by_a_worker_clears_the_inbox(deployed_run):
    api, run_id, root = deployed_run["api"], deployed_run["run_id"], deployed_run["root"]
    run = _api(api, f"/flow_runs/{run_id}")
    assert run["state"]["type"] == "COMPLETED", deployed_run["worker_log"][-3000:]
    deployment = _api(api, f"/deployments/{run['deployment_id']}")
    assert deployment["parameters"]["archive"] == str(root / "archive")  # from prefect.yaml at deploy time
    assert deployment["schedules"] and deployment["schedules"][0]["schedule"]["interval"] == 600

    with (root / "out" / "dossiers.csv").open(encoding="utf-8") as fh:
        rows = {r["dossier_id"]: r for r in csv.DictReader(fh)}
    assert set(rows) == set(DOSSIERS)
    assert "INVOICE_MISSING" in rows["D-2017-000102"]["reasons"]
    for name, row in rows.items():
        assert (root / "archive" / row["decision"] / name / "manifest.json").is_file()
    assert sorted(p.name for p in (root / "inbox").iterdir() if not p.name.startswith(".")) == ["D-UPLOADING"]

    tasks = _api(api, "/task_runs/filter", {"flow_runs": {"id": {"any_": [run_id]}}})
    assert {t["name"] for t in tasks if t["name"].startswith("D-")} == set(DOSSIERS)
    artifacts = _api(api, "/artifacts/filter", {"flow_runs": {"id": {"any_": [run_id]}}})
    keys = {a["key"] for a in artifacts}
    assert {"inbox-dossiers", "inbox-progress", "csv-dossiers", "csv-documents"} <= keys
    assert any(a["key"] == "csv-dossiers" and "dossiers.csv" in a["data"] for a in artifacts)
    progress = [a for a in artifacts if a["type"] == "progress"]
    assert progress and progress[0]["data"] == 100.0
    table = next(a for a in artifacts if a["type"] == "table")
    data = json.loads(table["data"]) if isinstance(table["data"], str) else table["data"]
    assert {r["dossier_id"]: r["decision"] for r in data} == {k: v["decision"] for k, v in rows.items()}
    pages = [a for a in artifacts if a["type"] == "markdown" and a["key"].startswith("dossier-")]
    assert len(pages) == 3 and all("data:image/jpeg;base64," in a["data"] for a in pages)

    logs = _api(api, "/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 200})
    text = "\n".join(entry["message"] for entry in logs)
    assert all(d in text for d in DOSSIERS)
    for personal in ("Martin-Quesnel", "Jeanne", "Pins Parasols", "Toulouse"):
        assert personal not in text
