import json
from pathlib import Path

from core.inbox import ready_dossiers
from pipeline.manifest import read_manifest


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


def test_hostile_manifests_are_problems_never_exceptions(tmp_path):
    """Deep nesting, a huge file, values of odd types, lone surrogates: each a listed problem."""
    deep = b'{"dossier_id": "D", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    cases = {
        "deep": deep,
        "huge": b'{"dossier_id": "D", "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        "bigint": b'{"dossier_id": ' + b"9" * 5000 + b', "documents": []}',
        "types": b'{"dossier_id": "D", "documents": [{"file": ["a.pdf"], "slot": {"x": 1}}, 3, null]}',
        "surrogate": b'{"dossier_id": "D-\\ud800", "documents": [{"file": "a\\udc80.pdf", "slot": "invoice"}]}',
    }
    for name, raw in cases.items():
        man = read_manifest(_dossier(tmp_path, name, raw))
        assert man.problems or name == "surrogate", name  # a name no file has: the loader says it is absent
        "|".join([man.dossier_id, *man.problems, *(d.file for d in man.documents)]).encode("utf-8")  # writable


def test_links_fifos_and_folders_inside_a_dossier_are_refused_never_followed(tmp_path):
    import os

    d = _dossier(tmp_path, "A", None, files=("a.pdf",))
    (d / "inside.pdf").symlink_to(d / "a.pdf")
    (d / "loop.pdf").symlink_to(d / "loop.pdf")
    os.mkfifo(d / "pipe.pdf")
    (d / "sub.pdf").mkdir()
    m = {"dossier_id": "D", "documents": [{"file": f, "slot": "other"}
                                          for f in ("a.pdf", "inside.pdf", "loop.pdf", "pipe.pdf", "sub.pdf")]}
    (d / "manifest.json").write_text(json.dumps(m))
    man = read_manifest(d)
    assert [e.file for e in man.documents] == ["a.pdf"]
    assert len(man.problems) == 4
    (d / "manifest.json").write_text("{broken")  # the folder's own files: regular files only
    assert [e.file for e in read_manifest(d).documents] == ["a.pdf"]


def test_a_name_written_nfd_on_disk_is_found_from_its_nfc_spelling(tmp_path):
    import unicodedata

    nfd = unicodedata.normalize("NFD", "facture_vétérinaire.pdf")
    nfc = unicodedata.normalize("NFC", "facture_vétérinaire.pdf")
    assert nfd != nfc
    d = _dossier(tmp_path, "A", None, files=(nfd,))
    (d / "manifest.json").write_text(json.dumps({"dossier_id": "D", "documents": [{"file": nfc, "slot": "invoice"}]}))
    man = read_manifest(d)
    assert not man.problems and man.documents[0].path.name == nfd and man.documents[0].path.is_file()


def test_a_manifest_that_is_a_link_is_refused_and_what_it_points_to_is_never_read(tmp_path):
    import os

    secret = tmp_path / "secret.json"
    secret.write_text('{"dossier_id": "STOLEN", "documents": []}')
    before = os.stat(secret).st_atime_ns
    d = _dossier(tmp_path, "A", None)
    (d / "manifest.json").symlink_to(secret)
    man = read_manifest(d)
    assert man.dossier_id == "A" and any("lien" in p for p in man.problems)
    assert os.stat(secret).st_atime_ns == before


def test_a_link_in_the_inbox_is_no_dossier(tmp_path):
    outside = _dossier(tmp_path / "elsewhere", "EVIL", b'{"dossier_id": "EVIL", "documents": []}')
    inbox = tmp_path / "inbox"
    _dossier(inbox, "A", b"{}")
    (inbox / "EVIL").symlink_to(outside)
    assert [p.name for p in ready_dossiers(inbox)] == ["A"]
