"""Issue 24 item 12: a file a build skipped (unreadable) keeps its checksum across builds, so `status` does not call
the index stale naming it "added" and the next build does not read it again."""

from __future__ import annotations

from pathlib import Path

from policyqa import build_index
from policyqa.build.doctor import check_index
from policyqa.index.store import open_store


def test_a_skipped_file_stays_known_while_other_files_change(tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "good.md").write_text("# Backups\n\nBackups are kept for seven years in the Oslo vault.\n")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage that is no PDF\n" * 50)
    first = build_index(corpus, index, log=lambda _m: None)
    assert [s.path for s in first.skipped_files] == ["broken.pdf"]
    (corpus / "good.md").write_text("# Backups\n\nBackups are kept for ninety days in the Reykjavik vault.\n")
    second = build_index(corpus, index, log=lambda _m: None)  # writes a generation; the skip is carried over
    assert (second.modified, [s.path for s in second.skipped_files]) == (1, ["broken.pdf"])
    skipped = open_store(index).current_manifest()["skipped"]
    assert skipped["broken.pdf"]["sha256"] is not None
    assert [p.what for p in check_index(index, corpus)] == []  # not stale: nothing "added"
    third = build_index(corpus, index, log=lambda _m: None)
    assert (third.generation, third.added, [s.path for s in third.skipped_files]) == (None, 0, ["broken.pdf"])
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\nstill broken, but changed\n")  # a change is read again
    fourth = build_index(corpus, index, log=lambda _m: None)
    assert fourth.generation is not None and [s.path for s in fourth.skipped_files] == ["broken.pdf"]
