import json
from pathlib import Path

from intake.core.inbox import ready_dossiers
from intake.pipeline.manifest import read_manifest


def _dossier(root: Path, name: str, manifest: bytes | None, files=("a.pdf",)) -> Path:
    d = root / name
    d.mkdir(parents=True)
    for f in files:
        (d / f).write_bytes(b"%PDF-1.4\n%%EOF")
    if manifest is not None:
        (d / "manifest.json").write_bytes(manifest)
    return d


def test_only_folders_with_a_manifest_are_ready(tmp_path):
    _dossier(tmp_path, "A", b"{}")
    _dossier(tmp_path, "B", None)
    assert [p.name for p in ready_dossiers(tmp_path)] == ["A"]


def test_valid_manifest(tmp_path):
    m = {"dossier_id": "D-1", "contract_number": "SV-1", "animal_name": "MOZART",
         "documents": [{"file": "a.pdf", "slot": "invoice"}]}
    man = read_manifest(_dossier(tmp_path, "A", json.dumps(m).encode()))
    assert man.dossier_id == "D-1" and not man.problems
    assert man.documents[0].slot == "invoice" and man.documents[0].path.name == "a.pdf"


def test_bad_json_and_non_utf8_fall_back_to_folder_files(tmp_path):
    for name, raw in (("J", b"{not json"), ("U", '{"dossier_id": "é"}'.encode("latin-1"))):
        man = read_manifest(_dossier(tmp_path, name, raw))
        assert man.problems and man.dossier_id == name
        assert [d.file for d in man.documents] == ["a.pdf"]


def test_paths_outside_the_folder_are_refused(tmp_path):
    (tmp_path / "secret.pdf").write_bytes(b"x")
    m = {"dossier_id": "D", "documents": [{"file": "../secret.pdf", "slot": "invoice"},
                                           {"file": str(tmp_path / "secret.pdf"), "slot": "other"},
                                           {"file": "a.pdf", "slot": "care_sheet"}]}
    d = _dossier(tmp_path, "A", json.dumps(m).encode())
    (d / "link.pdf").symlink_to(tmp_path / "secret.pdf")
    m["documents"].append({"file": "link.pdf", "slot": "other"})
    (d / "manifest.json").write_text(json.dumps(m))
    man = read_manifest(d)
    assert [e.file for e in man.documents] == ["a.pdf"]
    assert sum("hors du dossier" in p for p in man.problems) == 3


def test_missing_fields_are_problems_not_crashes(tmp_path):
    man = read_manifest(_dossier(tmp_path, "A", b'{"documents": [{"file": "a.pdf", "slot": "weird"}]}'))
    assert man.dossier_id == "A"
    assert any("dossier_id" in p for p in man.problems) and any("emplacement" in p for p in man.problems)
    assert man.documents[0].slot == "other"


def test_an_empty_document_list_with_nothing_uploaded_is_a_valid_request_without_documents(tmp_path):
    m = json.dumps({"dossier_id": "D-E", "documents": []}).encode()
    empty = read_manifest(_dossier(tmp_path, "E", m, files=()))
    assert empty.documents == () and not empty.problems
    unlisted = read_manifest(_dossier(tmp_path, "U", m, files=("facture.pdf",)))  # files the list forgot
    assert unlisted.problems and [d.file for d in unlisted.documents] == ["facture.pdf"]
