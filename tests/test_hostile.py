"""The hostile inbox, CI-sized: ~25 entries, one or two of each attack family, through the real CLI.

Built, run and judged by bench/hostile_inbox.py (its `run` at n=100 is the full version).
"""
import importlib.util
import sys

import pytest

from core.settings import REPO_ROOT

pytestmark = pytest.mark.flow


def _hostile():
    spec = importlib.util.spec_from_file_location("hostile_inbox", REPO_ROOT / "bench" / "hostile_inbox.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["hostile_inbox"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def hostile_dir(tmp_path):
    root = tmp_path / "hostile"
    yield root
    _hostile().clean(root)  # unmounts the canaries' tmpfs before pytest deletes tmp_path


def test_build_covers_every_family_and_keeps_expectations_beside_the_inbox(hostile_dir):
    h = _hostile()
    expect = h.build(hostile_dir, n=25, seed=3)
    assert {e["family"] for e in expect["entries"]} == set(h.FAMILIES)
    assert not (hostile_dir / "inbox" / "expect.json").exists()
    assert {e["kind"] for e in expect["entries"]} >= {"ready", "uploading"}
    assert expect["canaries"] and expect["secrets"]


def test_hostile_inbox_passes_every_property(hostile_dir):
    h = _hostile()
    h.build(hostile_dir, n=25, seed=3)
    rec = h.run_intake(hostile_dir, workers=2, timeout_s=900)
    verdict = h.check(hostile_dir)
    print(h.summary(rec))
    print(verdict.table())
    assert verdict.passed, "\n" + verdict.table()
