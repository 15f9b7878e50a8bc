import os

import pytest

from core.files import atomic_write


def test_an_atomic_write_replaces_the_file_whole_with_the_usual_permissions(tmp_path):
    target = tmp_path / "dossiers.csv"
    target.write_text("old")
    atomic_write(target, "dossier_id;décision\n", newline="")
    assert target.read_text(encoding="utf-8") == "dossier_id;décision\n"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() makes it: analysts can read it
    assert [p.name for p in tmp_path.iterdir()] == ["dossiers.csv"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        atomic_write(target, 12345)  # type: ignore[arg-type]
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["r.json"]
