"""Hostile and odd corpus files: every one is skipped with a reason or indexed correctly, none stops the build,
none is lost, and the good documents beside them are indexed."""

from __future__ import annotations

import io
import os
import threading
import zipfile
from pathlib import Path

import pytest

import policyqa.ingest.documents
from policyqa import build_index, open_index
from policyqa.build.sync import BuildReport
from policyqa.ingest.documents import scan_corpus
from tests.conftest import BUNDLED_DOC
from tests.faults.helpers import assert_sound
from tests.filemakers import make_docx, make_pdf

SIZE_LIMIT = 100_000  # stands in for the 50 MB limit: MAX_FILE_BYTES is patched, no huge file is written
NESTED = "/".join(f"level{n:02d}" for n in range(40)) + "/deep policy.md"

ODD_NAMES = {  # file name -> a sentence only that file contains
    "with spaces in name.txt": "The Quito rule limits printing to two pages.",
    "ünïcödé – política.md": "La regla de Cusco exige dos firmas.",
    'quote\'s "double".txt': "The Tbilisi note bans sticky notes on screens.",
    "-leading-dash.txt": "The Hobart policy starts every meeting on time.",
    "semi;colon&amp$dollar.txt": "The Accra memo keeps visitor logs for one year.",
    "emoji 📄 file.md": "The Tromso guideline dims lights after nine.",
    "percent%20hash#.txt": "The Lima standard labels every cable.",
    "UPPER CASE.TXT": "The Perth circular closes the canteen on Sundays.",
    "back\\slash.txt": "The Dakar order archives invoices monthly.",
    "x" * 240 + ".txt": "The Bergen instruction names a fire warden per floor.",
    "new\nline.txt": "The Osaka directive locks bicycles in the basement.",
}


def quiet(message: str) -> None:
    pass


def _pdf(pages: list[str]) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return make_pdf(Path(folder) / "x.pdf", pages).read_bytes()


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf(["Secret salaries are listed here."]))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zero_page_pdf() -> bytes:
    from pypdf import PdfWriter

    out = io.BytesIO()
    PdfWriter().write(out)
    return out.getvalue()


def junk_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("junk.bin", os.urandom(2000))
        archive.writestr("word/document.xml", b"<w:document><<< not xml")
    return out.getvalue()


# name -> (bytes, words expected in the skip reason)
BAD_FILES: dict[str, tuple[bytes, str]] = {
    "program.txt": (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 64, "binary"),
    "picture.md": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 64, "binary"),
    "empty.txt": (b"", "no text"),
    "corrupt.pdf": (b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n", "PDF"),
    "empty.pdf": (b"", "PDF"),
    "encrypted.pdf": (encrypted_pdf(), "encrypted"),
    "zero-pages.pdf": (zero_page_pdf(), "no pages"),
    "scanned-image.pdf": (_pdf([""]), "no text"),
    "junk.docx": (junk_zip(), ".docx"),
    "not-a-zip.docx": (b"PK\x03\x04 this is not really a zip archive" * 10, ".docx"),
    "huge.txt": (b"A very long policy line. " * (SIZE_LIMIT // 20), "too large"),
    "tool.exe": (b"MZ\x90\x00", "unsupported file type"),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object, set[str]]:
    """A corpus of bad files, odd names, deep folders and symlinks beside good documents, built once."""
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / BUNDLED_DOC).write_bytes((Path(__file__).parents[2] / "corpus" / BUNDLED_DOC).read_bytes())
    expected_skips: dict[str, str] = {}
    for name, (data, reason) in BAD_FILES.items():
        (corpus / name).write_bytes(data)
        expected_skips[name] = reason
    for name, text in ODD_NAMES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / NESTED).parent.mkdir(parents=True)
    (corpus / NESTED).write_text("# Deep\n\nThe Ushuaia procedure is filed forty folders down.", encoding="utf-8")
    make_docx(corpus / "good.docx", [("Heading 1", "Parking"), ("Normal", "The Windhoek lot opens at seven.")])
    (corpus / "good.pdf").write_bytes(_pdf(["Page one: the Suva office.", "Page two: the Apia annex is closed."]))

    outside = root / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.txt").write_text("The Atlantis password is swordfish.", encoding="utf-8")
    (outside / "folder" / "more.txt").write_text("The Lemuria vault code is 1234.", encoding="utf-8")
    (corpus / "escape.txt").symlink_to(outside / "secret.txt")
    (corpus / "escape-folder").symlink_to(outside / "folder", target_is_directory=True)
    (corpus / "etc-passwd.txt").symlink_to("/etc/passwd")
    (corpus / "dangling.txt").symlink_to(corpus / "nowhere.txt")
    (corpus / "loop-a.txt").symlink_to(corpus / "loop-b.txt")
    (corpus / "loop-b.txt").symlink_to(corpus / "loop-a.txt")
    (corpus / "self-loop").symlink_to(corpus, target_is_directory=True)  # a folder that contains itself
    (corpus / "alias.txt").symlink_to(corpus / "with spaces in name.txt")  # inside the corpus: followed
    os.mkfifo(corpus / "named-pipe.txt")  # reading it would block forever
    with open(os.fsencode(corpus) + b"/latin1-caf\xe9.txt", "wb") as out:  # a name that is not UTF-8
        out.write(b"The Cafe rule: coffee is free on Fridays.")
    expected_skips.update(
        {
            "escape.txt": "outside the corpus",
            "escape-folder": "outside the corpus",
            "etc-passwd.txt": "outside the corpus",
            "dangling.txt": "symlink",
            "loop-a.txt": "symlink",
            "loop-b.txt": "symlink",
            "named-pipe.txt": "not a regular file",
            "latin1-caf\ufffd.txt": "not valid UTF-8",
        }
    )
    return corpus, root / "index", expected_skips, set(ODD_NAMES) | {NESTED, "good.docx", "good.pdf", "alias.txt"}


def scan_with_deadline(corpus: Path, seconds: float = 30.0) -> tuple[list, list]:
    """scan_corpus in a thread: a test must fail, not hang, if a file blocks on read."""
    result: list = []

    def scan() -> None:
        try:
            result.append(scan_corpus(corpus))
        except BaseException as exc:  # re-raised below, in the test's thread
            result.append(exc)

    thread = threading.Thread(target=scan, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        for pipe in corpus.rglob("*pipe*"):  # unblock the reader so the thread can end
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"scanning the corpus blocked for {seconds:.0f} s (a named pipe was read)")
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def test_scan_does_not_block_on_a_named_pipe(hostile: tuple) -> None:
    corpus, *_ = hostile
    files, skipped = scan_with_deadline(corpus)
    assert "named-pipe.txt" not in {f.id for f in files}


@pytest.fixture(scope="module")
def built(hostile: tuple) -> BuildReport:
    corpus, index, _, _ = hostile
    scan_with_deadline(corpus)  # fail rather than hang the build below
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(policyqa.ingest.documents, "MAX_FILE_BYTES", SIZE_LIMIT)
        return build_index(corpus, index, log=quiet)


def test_every_bad_file_is_skipped_with_a_reason_and_the_rest_indexed(hostile: tuple, built: BuildReport) -> None:
    corpus, index, expected_skips, good = hostile
    report = built
    reasons = {s.path: s.reason for s in report.skipped_files}
    for name, words in expected_skips.items():
        assert name in reasons, f"{name!r} neither indexed nor reported as skipped"
        assert words.lower() in reasons[name].lower(), (name, reasons[name])
    assert set(reasons) == set(expected_skips), set(reasons) ^ set(expected_skips)
    idx = open_index(index)
    indexed = {d.doc_id for d in idx.documents()}
    assert indexed == good | {BUNDLED_DOC}, indexed ^ (good | {BUNDLED_DOC})
    assert report.added == len(indexed) and report.skipped == len(expected_skips)
    text = "\n".join(c.text for c in idx.chunks())
    for secret in ("swordfish", "Lemuria", "root:x:0"):
        assert secret not in text, f"a symlink out of the corpus was followed ({secret})"
    assert_sound(index, corpus)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(policyqa.ingest.documents, "MAX_FILE_BYTES", SIZE_LIMIT)
        assert build_index(corpus, index, log=quiet).generation is None, "skipped files must not make it stale"


def test_odd_names_deep_folders_and_formats_are_indexed_exactly(hostile: tuple, built: BuildReport) -> None:
    _, index, _, _ = hostile
    idx = open_index(index)
    for name, sentence in {**ODD_NAMES, "alias.txt": ODD_NAMES["with spaces in name.txt"]}.items():
        assert idx.document_text(name) == sentence, name
        hits = idx.search(sentence, k=1, doc_ids=[name])
        assert [h.doc_id for h in hits] == [name] and hits[0].text == sentence
    deep = idx.search("Which procedure is filed forty folders down?", k=1)[0]
    assert deep.doc_id == NESTED and deep.heading == "Deep"
    docx = idx.search("When does the Windhoek lot open?", k=1)[0]
    assert docx.doc_id == "good.docx" and docx.heading == "Parking"
    pdf = idx.search("Which annex is closed?", k=1, doc_ids=["good.pdf"])[0]
    assert pdf.page in (1, 2) and "Apia" in idx.document_text("good.pdf")
