"""Prefect runs embedded by default: an ephemeral server on SQLite under a
project-local PREFECT_HOME, analytics off, a generous start-up timeout.

Call `configure()` before the first `import prefect`. Anything already set in
the environment (a real server's PREFECT_API_URL, say) is left alone.
"""
from __future__ import annotations

import os

from core.settings import REPO_ROOT

DEFAULTS = {
    "PREFECT_HOME": str(REPO_ROOT / ".prefect"),
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_EXTRA_LOGGERS": "core,extractors,validators,pipeline,inbox,results,intake",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "0.5",
}


def configure() -> None:
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
