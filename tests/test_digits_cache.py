"""The digit classifier is trained once and kept on disk: a later process loads the same model."""
from __future__ import annotations

import numpy as np
import pytest

from extractors.care_sheet import digits


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    digits.model.cache_clear()
    yield tmp_path
    digits.model.cache_clear()


def test_the_trained_model_is_kept_and_loaded_unchanged(fresh) -> None:
    if not digits._font_files():
        pytest.skip("training fonts not installed")
    trained = digits.model()
    kept = list((fresh / "claims-intake").glob("digits-*.npz"))
    assert len(kept) == 1 and not list((fresh / "claims-intake").glob("*.tmp.npz"))
    digits.model.cache_clear()
    loaded = digits.model()
    assert np.array_equal(loaded[0], trained[0]) and np.array_equal(loaded[1], trained[1])


def test_a_truncated_cache_is_trained_around_and_replaced(fresh) -> None:
    fonts = digits._font_files()
    if not fonts:
        pytest.skip("training fonts not installed")
    path = digits._cache_file(fonts)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 half a file")
    feats, labels = digits.model()
    assert len(labels) > 1000 and feats.shape[0] == len(labels)
    digits.model.cache_clear()
    assert np.array_equal(digits.model()[1], labels)  # the file was written anew, whole
