"""A real Prefect server stopped mid-run: nothing is lost. The `intake run` reporting to it ends (with a
non-zero code) instead of hanging, and the operator's next run, on the embedded server, decides every
dossier exactly once: one row each, each filed once, no claim left behind, none illegible for the outage."""
import csv
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from core.settings import REPO_ROOT
from inbox import claim as claims
from tests.render import INVOICE_LINES, intake_run, text_pdf, write_dossier

pytestmark = pytest.mark.flow

PREFECT = str(REPO_ROOT / ".venv" / "bin" / "prefect")
NAMES = [f"D-SRV-{i}" for i in range(6)]
FIRST_RUN_BOUND_S = 120  # the run whose server vanished must end by itself within this


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _inbox(root: Path) -> Path:
    """Six complete dossiers, each with its own invoice (number, date, place on the page: no duplicates)."""
    inbox = root / "inbox"
    for i, name in enumerate(NAMES):
        lines = [line.replace("F-2017-0412", f"F-2017-04{20 + i}").replace("13/11/2017", f"{10 + i}/11/2017")
                 for line in INVOICE_LINES]
        write_dossier(inbox, name, text_pdf([""] * (7 * i) + lines, root / f"facture-{i}.pdf"))
    return inbox


def _env(root: Path, **extra: str) -> dict:
    """The launcher's environment (tests/render.py), without the test session's own Prefect settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_SERVER_LOGGING_LEVEL="WARNING",
               INTAKE_OCR_CACHE_DIR=str(root / "ocr"), **extra)
    return env


def _start_server(root: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-services"],
                              env=_env(root, PREFECT_HOME=str(root / "server-home")),
                              stdout=open(root / "server.log", "w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    deadline = time.time() + 150
    while True:
        try:
            urllib.request.urlopen(f"{api}/health", timeout=2).read()
            return server, api
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                _kill(server)
                pytest.fail("prefect server did not start:\n" + (root / "server.log").read_text()[-2000:])
            time.sleep(0.5)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the process and everything it started
    except ProcessLookupError:
        pass
    proc.wait(30)


def test_a_prefect_server_lost_mid_run_loses_no_dossier(tmp_path):
    inbox, out, archive = _inbox(tmp_path), tmp_path / "out", tmp_path / "archive"
    results = out / "results"
    server, api = _start_server(tmp_path)
    run = None
    try:
        # 1. The run reports to the real server (its own client PREFECT_HOME).
        run = intake_run(inbox, out, archive, _env(tmp_path, PREFECT_HOME=str(tmp_path / "client-home"),
                                                   PREFECT_API_URL=api), 1, start_new_session=True)
        deadline = time.time() + 150
        done: list[Path] = []
        while time.time() < deadline and run.poll() is None:
            done = sorted(results.glob("*.json")) if results.is_dir() else []
            if done:
                break
            time.sleep(0.05)
        assert run.poll() is None and done, run.stdout.read().decode()[-3000:]
        # 2. The server goes away for good, mid-run: its whole process group, SIGKILL.
        _kill(server)
        decided_before = {p.stem: json.loads(p.read_text())["dossier"]["decision"] for p in done}
        assert len(decided_before) < len(NAMES)  # really stopped half-way
        # 3. The run must end by itself, whatever its code (asserted last: the recovery is checked either way).
        hung = False
        try:
            log1 = run.communicate(timeout=FIRST_RUN_BOUND_S)[0].decode()
        except subprocess.TimeoutExpired:
            hung = True
            _kill(run)  # what the operator ends up doing
            log1 = run.communicate()[0].decode()
        first_code = run.returncode
    finally:
        _kill(server)
        if run is not None and run.poll() is None:
            _kill(run)
    print(f"\nfirst run: {'HUNG, killed' if hung else 'ended'} with {first_code}; decided before the kill: "
          f"{decided_before}\n{log1[-1500:]}")
    if not hung:
        assert first_code > 0, log1[-3000:]  # a code of ours (intake.cli.ExitCode), not a clean finish
    left = claims.claimable(inbox)
    held = [p.name for p in (inbox / claims.WORK_DIR / claims.PROCESSING).glob("*/*")]
    filed = sorted(p.name for p in archive.glob("*/*")) if archive.is_dir() else []
    print(f"after the first run: inbox {left}, claimed {held}, archived {filed}")

    # 4. The operator runs again, embedded server (no PREFECT_API_URL), same inbox, output and archive.
    again = intake_run(inbox, out, archive, _env(tmp_path, PREFECT_HOME=str(tmp_path / "client-home")), 1,
                       start_new_session=True)
    try:
        log2 = again.communicate(timeout=300)[0].decode()
    finally:
        if again.poll() is None:
            _kill(again)
    print(f"second run: exit {again.returncode}\n{log2[-1500:]}")
    assert again.returncode == 0, log2[-3000:]

    rows = _rows(out / "dossiers.csv")
    assert sorted(r["folder"] for r in rows) == NAMES  # each exactly once
    decision = {r["folder"]: r["decision"] for r in rows}
    assert not [r for r in rows if r["decision"] == "illegible" or "PROCESSING_ERROR" in r["reasons"]], rows
    # The dossiers are alike (complete, the blank care sheet): all decided as the ones decided before the outage.
    control = set(decided_before.values())
    assert len(control) == 1 and set(decision.values()) == control, (decided_before, decision)
    for name in NAMES:
        assert [p.parent.name for p in archive.glob(f"*/{name}*")] == [decision[name]], name
    assert sorted(p.name for p in archive.glob("*/*")) == NAMES
    assert [p.name for p in inbox.iterdir()] == []  # no dossier, no .intake/processing claim left
    assert not hung, (f"intake run still running {FIRST_RUN_BOUND_S} s after its Prefect server died "
                      f"(exit {first_code} once killed):\n{log1[-2000:]}")
