"""The Prefect UI/API behind basic auth, as docs/operations.md tells an operator to set it up.

A real `prefect server start` with PREFECT_SERVER_API_AUTH_STRING: the API refuses a request
without the credentials (401) or with wrong ones, answers with them, and Prefect's own client
gets in with PREFECT_API_AUTH_STRING (what workers and `intake run` against a server set).
"""
from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

AUTH = "intake-ops:s3cret-Passphrase"
START_TIMEOUT_S = 60
CLIENT_CHECK = """
import asyncio
from prefect.client.orchestration import get_client

async def main():
    async with get_client() as client:
        print("flows:", len(await client.read_flows()))

asyncio.run(main())
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, auth: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if auth is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def server(tmp_path: Path):
    """A Prefect server with basic auth on a free localhost port, its own PREFECT_HOME; its API URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_API_AUTH_STRING=AUTH,
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_SERVER_LOGGING_LEVEL="WARNING")
    prefect = Path(sys.executable).with_name("prefect")
    proc = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port),
                             "--no-services", "--no-ui"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:  # /api/health answers without credentials (Prefect exempts health probes)
            try:
                if _get(f"{api}/health")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("prefect server did not start: " + proc.stdout.read().decode()[-2000:])
            time.sleep(0.5)
        yield api
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the process group it started
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.flow
def test_server_basic_auth(server: str, tmp_path: Path) -> None:
    assert _get(f"{server}/admin/version")[0] == 401  # no credentials
    assert _get(f"{server}/admin/version", "intake-ops:wrong")[0] == 401
    status, body = _get(f"{server}/admin/version", AUTH)
    assert status == 200 and json.loads(body).startswith("3.")

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_API_URL=server, PREFECT_HOME=str(tmp_path / "client-home"))
    client = [sys.executable, "-c", CLIENT_CHECK]
    refused = subprocess.run(client, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "401" in refused.stderr
    allowed = subprocess.run(client, env={**env, "PREFECT_API_AUTH_STRING": AUTH}, capture_output=True, text=True,
                             timeout=60)
    assert allowed.returncode == 0 and "flows: 0" in allowed.stdout, allowed.stderr
