"""The floors of pyproject.toml's [tool.importlinter] hold, and a forbidden import breaks them."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from core.settings import REPO_ROOT

LINT = str(REPO_ROOT / ".venv" / "bin" / "lint-imports")
PACKAGES = ("core", "extractors", "validators", "pipeline", "inbox", "results", "flows", "intake", "evaluation")


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT, "--no-cache", "--config", str(root / "pyproject.toml")], cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=120)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name in PACKAGES:
        shutil.copytree(REPO_ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.png", "*.pdf"))
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_floors_hold(tmp_path):
    done = _lint(_copy(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_rule_that_imports_a_reader_breaks_the_floors(tmp_path):
    root = _copy(tmp_path)
    rules = root / "validators" / "rules.py"
    rules.write_text(rules.read_text() + "\nfrom extractors.pages import load  # noqa: E402,F401\n")
    done = _lint(root)
    assert done.returncode != 0 and "BROKEN" in done.stdout


def test_a_reader_that_imports_prefect_breaks_the_floors(tmp_path):
    root = _copy(tmp_path)
    invoice = root / "extractors" / "invoice" / "fields.py"
    invoice.write_text(invoice.read_text() + "\nimport prefect  # noqa: E402,F401\n")
    done = _lint(root)
    assert done.returncode != 0 and "BROKEN" in done.stdout
