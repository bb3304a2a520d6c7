"""The index status: what is indexed, each document's state against the corpus folder, and its JSON form."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from policyqa import Settings, build_index
from policyqa.build.status import corpus_document_ids, read_index_status
from tests.conftest import BUNDLED_DOC


def test_no_index_yet(tmp_path: Path, corpus: Path) -> None:
    status = read_index_status(corpus, tmp_path / "index")
    assert not status.indexed and status.stale.is_stale and status.documents == []
    assert status.as_dict() == {"indexed": False, "stale": {"is_stale": True}}


def test_each_document_has_its_state_and_the_json_form_keeps_its_keys(tmp_path: Path, corpus: Path) -> None:
    (corpus / "keys.md").write_text("# Keys\n\nOffice keys are returned to the front desk on the last day.\n")
    (corpus / "gone.md").write_text("# Gone\n\nThis note about parking permits will be deleted.\n")
    index = tmp_path / "index"
    build_index(corpus, index)
    (corpus / "gone.md").unlink()
    (corpus / "keys.md").write_text("# Keys\n\nOffice keys are returned to facilities on the last day.\n")
    (corpus / "new.txt").write_text("Visitors sign in at the front desk and wear a badge at all times.\n")

    status = read_index_status(corpus, index, second_stage="off")
    states = {row.doc_id: row.state for row in status.documents}
    assert states == {BUNDLED_DOC: "indexed", "keys.md": "changed", "gone.md": "removed", "new.txt": "new"}
    new = next(row for row in status.documents if row.state == "new")
    assert (new.title, new.chunks, new.size, new.indexed_at) == (None, None, None, None)
    keys = next(row for row in status.documents if row.doc_id == "keys.md")
    assert keys.title == "Keys" and keys.chunks and keys.size and keys.indexed_at

    data = status.as_dict()
    assert json.loads(json.dumps(data))["stale"] == data["stale"]  # plain JSON
    assert list(data) == [
        "indexed", "generation", "model", "backend", "precision", "built_at", "chunks", "second_stage", "documents",
        "stale",
    ]
    assert data["stale"] == {
        "is_stale": True, "added": ["new.txt"], "modified": ["keys.md"], "deleted": ["gone.md"],
        "full_rebuild_reason": None, "skipped": [],
    }
    assert {d["doc_id"] for d in data["documents"]} == {BUNDLED_DOC, "keys.md", "gone.md"}
    assert set(data["documents"][0]) == {"doc_id", "path", "title", "sha256", "size", "chunks", "indexed_at", "notes"}
    assert data["second_stage"] == "off" and data["chunks"] == status.chunks > 0


def test_corpus_document_ids_are_the_files_a_build_reads(tmp_path: Path, corpus: Path) -> None:
    (corpus / "sub").mkdir()
    (corpus / "sub" / "a.md").write_text("text")
    (corpus / ".hidden.md").write_text("text")
    (corpus / "notes.xyz").write_text("text")
    assert corpus_document_ids(corpus) == [BUNDLED_DOC, "sub/a.md"]
    assert corpus_document_ids(tmp_path / "missing") == []


def test_staleness_is_against_the_settings_model(tmp_path: Path, corpus: Path, embedder) -> None:
    """A server started with --model passes its Settings: the index built with that model is up to date for it,
    and needs a full rebuild for the default model."""
    model = tmp_path / "model"
    shutil.copytree(embedder.model_dir, model)  # another folder: another model identity
    index = tmp_path / "index"
    build_index(corpus, index, model=model, backend="torch", log=lambda _m: None)
    assert not read_index_status(corpus, index, settings=Settings(model=str(model))).stale.is_stale
    assert "model" in (read_index_status(corpus, index).stale.full_rebuild_reason or "")
