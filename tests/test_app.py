"""The web UI's handlers, called directly against a real index: answers, search, corpus changes, safety."""

from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr
import pytest
from policyqa_app import build_app
from policyqa_app.__main__ import main
from policyqa_app.corpus_files import MAX_UPLOAD_BYTES, CorpusFileError, add_upload, delete_document, safe_name
from policyqa_app.formatting import answer_html, sources_html
from policyqa_app.handlers import HISTORY_LENGTH, Handlers
from policyqa_app.server import auth_from_env
from policyqa_app.state import AppState

from policyqa import PolicyQAError
from policyqa.answer_types import Answer, Citation
from policyqa.retrieval import Hit
from tests.conftest import BUNDLED_DOC, DOHA_QUESTION

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # gr.Warning outside a running app

EVIL = "<script>alert('pwned')</script>"
EVIL_IMG = '<img src=x onerror="alert(1)">'


@pytest.fixture
def handlers(corpus: Path, bundled_index: Path, tmp_path: Path) -> Handlers:
    index = tmp_path / "index"
    shutil.copytree(bundled_index, index, ignore=shutil.ignore_patterns("lock"))
    return Handlers(AppState(index, corpus))


def upload_file(tmp_path: Path, name: str, text: str = "Some policy text.\n") -> str:
    folder = tmp_path / "uploads"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, "utf-8")
    return str(path)


# --- header, ask, search ---------------------------------------------------------------------------


def test_header_counts_documents_chunks_model_and_build_time(handlers: Handlers) -> None:
    header = handlers.header()
    assert "<b>1</b> document(s)" in header
    assert f"<b>{len(handlers.state.index)}</b> chunk(s)" in header
    assert "all-MiniLM-L6-v2" in header and "UTC" in header


def test_ask_renders_linked_markers_and_highlighted_sources(handlers: Handlers) -> None:
    answer, sources, history, past = handlers.ask(DOHA_QUESTION, [])
    assert "Doha" in answer
    assert '<a class="pqa-cite" href="#cite-1" data-cite="1">[1]</a>' in answer
    assert 'id="cite-1"' in sources and "<mark>" in sources and "Doha" in sources
    assert BUNDLED_DOC in sources and "evidence 0." in sources and "Evidence score" in sources  # and its legend
    assert "pqa-reason" in answer and "Evidence 0." in answer
    assert len(history) == 1 and history[0]["question"] == DOHA_QUESTION
    assert history[0]["outcome"].startswith("answered, ")
    assert DOHA_QUESTION in past


def test_history_keeps_the_last_ten_questions(handlers: Handlers) -> None:
    history = [{"question": f"q{i}", "outcome": "answered"} for i in range(HISTORY_LENGTH)]
    _, _, history, past = handlers.ask("Who organized the conference?", history)
    assert len(history) == HISTORY_LENGTH
    assert history[0]["question"] == "q1" and history[-1]["question"] == "Who organized the conference?"
    assert past.index("Who organized") < past.index("q9")  # newest first


def test_ask_errors_become_messages(handlers: Handlers) -> None:
    answer, sources, history, _ = handlers.ask("   ", [])
    assert "pqa-error" in answer and "empty" in answer
    assert sources == "" and history == []


def test_search_ranks_passages_with_filter_and_limit(handlers: Handlers) -> None:
    html = handlers.search("peace agreement Doha", 3, [])
    assert html.count('class="pqa-hit"') == 3 and "score" in html and BUNDLED_DOC in html
    assert handlers.search("peace agreement", 2.0, [BUNDLED_DOC]).count('class="pqa-hit"') == 2
    unknown = handlers.search("peace", 5, ["nope.txt"])
    assert "pqa-error" in unknown and "nope.txt" in unknown


def test_refusal_shows_nearest_material() -> None:
    hit = Hit("Nearby <b>text</b>", 0.2, "a.txt", "A", 0, 18, 3, "Intro", 7)
    answer = Answer("q?", "", True, [], [hit], 0.1, "The corpus does not answer this question. Closest shown.")
    html, sources = answer_html(answer), sources_html(answer)
    assert "The corpus does not answer this question" in html and "Closest shown." in html
    assert "Nearest material" in sources and "Nearby &lt;b&gt;text&lt;/b&gt;" in sources and "page 3" in sources


def test_marker_in_document_text_is_escaped_and_only_known_markers_link() -> None:
    quote = "Keys <rotate> [7] yearly."
    c = Citation(1, "k.md", "K & co", None, None, 10, 10 + len(quote), quote, "Preamble. " + quote, 0, 35, 0.9)
    html = answer_html(Answer("q", f"{quote} [1]", False, [c], [], 0.9))
    assert "&lt;rotate&gt; [7]" in html and 'href="#cite-1"' in html and "#cite-7" not in html
    assert "<mark>Keys &lt;rotate&gt; [7] yearly.</mark>" in sources_html(Answer("q", "", False, [c], [], 0.9))


# --- no index yet, rebuild -------------------------------------------------------------------------


def test_app_starts_without_an_index_and_rebuild_creates_it(corpus: Path, tmp_path: Path) -> None:
    h = Handlers(AppState(tmp_path / "no-index", corpus))
    assert "No index yet" in h.header() and "Rebuild" in h.header()
    answer, *_ = h.ask(DOHA_QUESTION, [])
    assert "No index yet" in answer
    assert "Rebuild" in h.search("Doha", 5, None)
    assert isinstance(build_app(tmp_path / "no-index", corpus), gr.Blocks)
    report, header, *_ = h.rebuild()
    assert "added 1" in report and "<b>1</b> document(s)" in header
    assert "Doha" in h.ask(DOHA_QUESTION, [])[0]


def test_rebuild_swaps_the_shared_index_in_place(handlers: Handlers, tmp_path: Path) -> None:
    index = handlers.state.index
    note, *_ = handlers.upload([upload_file(tmp_path, "keys.md", "# Keys\n\nThe Zanzibar clause requires audits.\n")])
    assert "Added keys.md" in note
    assert "keys.md" in handlers.corpus_view()[1]  # stale: new file listed
    report, header, choices, table, stale, _ = handlers.rebuild()
    assert "added 1" in report and "<b>2</b> document(s)" in header
    assert handlers.state.index is index and len(index.documents()) == 2
    assert [value for _, value in choices.choices] == [BUNDLED_DOC, "keys.md"]
    assert "keys.md" in table and "up to date" in stale
    assert "keys.md" in handlers.search("Zanzibar clause audits", 1, None)


def test_rebuild_failure_is_reported_not_raised(handlers: Handlers) -> None:
    for path in handlers.state.corpus_dir.iterdir():
        path.unlink()
    report, header, *_ = handlers.rebuild()
    assert "Rebuild failed" in report and "no readable documents" in report
    assert "<b>1</b> document(s)" in header  # the previous index keeps serving


# --- escaping --------------------------------------------------------------------------------------


def test_document_markup_is_escaped_everywhere(handlers: Handlers, tmp_path: Path) -> None:
    text = f"{EVIL}\n\nThe {EVIL_IMG} Quokka protocol mandates weekly backups of {EVIL} archives.\n"
    handlers.upload([upload_file(tmp_path, "evil.txt", text)])
    handlers.rebuild()
    outputs = [
        handlers.search("Quokka protocol weekly backups", 3, None),
        *handlers.ask("What does the Quokka protocol mandate?", [])[:2],
        handlers.corpus_view()[0],
        handlers.ask(EVIL, [])[3],
    ]
    for html in outputs:
        assert "<script" not in html and "<img" not in html, html
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in outputs[0]
    assert "&lt;script&gt;" in outputs[3] and "&lt;script&gt;" in outputs[4]  # title in table, question in history


# --- upload sanitising -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.md", "report.md"),
        ("sub/dir/Report.PDF", "Report.pdf"),
        ("my report<1>?.txt", "my report_1.txt"),
        (".hidden.txt", "hidden.txt"),
        ("ünïcode 名前.docx", "ünïcode 名前.docx"),
        ("evil\u202egpj.exe.txt", "evil_gpj.exe.txt"),
        ("tab\tnew\nline.md", "tab_new_line.md"),
        ("...txt", "document.txt"),
    ],
)
def test_safe_name(name: str, expected: str) -> None:
    assert safe_name(name) == expected


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../../x.txt", "'..'"),
        ("a/../../x.txt", "'..'"),
        ("..\\..\\x.txt", "'..'"),
        ("/etc/passwd", "absolute"),
        ("/tmp/x.txt", "absolute"),
        ("C:\\Windows\\x.txt", "absolute"),
        ("\\\\server\\share\\x.txt", "absolute"),
        ("virus.exe", "unsupported file type '.exe'"),
        ("noext", "unsupported file type '(none)'"),
        ("", "no name"),
    ],
)
def test_unsafe_names_are_refused(name: str, reason: str) -> None:
    with pytest.raises(CorpusFileError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        safe_name(name)


def test_upload_refuses_traversal_and_writes_nothing_outside(tmp_path: Path) -> None:
    corpus = tmp_path / "deep" / "corpus"
    corpus.mkdir(parents=True)
    src = upload_file(tmp_path, "x.txt")
    for name in ("../../x.txt", "/etc/passwd", str(tmp_path / "deep" / "x.txt")):
        with pytest.raises(CorpusFileError):
            add_upload(src, name, corpus)
    assert not (tmp_path / "deep" / "x.txt").exists() and list(corpus.iterdir()) == []


def test_upload_refuses_oversized_and_empty_files(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(MAX_UPLOAD_BYTES + 1)
    with pytest.raises(CorpusFileError, match="over the 20 MB limit"):
        add_upload(big, "big.txt", tmp_path / "corpus")
    (tmp_path / "empty.md").write_bytes(b"")
    with pytest.raises(CorpusFileError, match="empty"):
        add_upload(tmp_path / "empty.md", "empty.md", tmp_path / "corpus")


def test_upload_never_overwrites(corpus: Path, tmp_path: Path) -> None:
    original = (corpus / BUNDLED_DOC).read_bytes()
    saved, note = add_upload(upload_file(tmp_path, "new.txt", "replacement"), BUNDLED_DOC, corpus)
    assert saved == BUNDLED_DOC.replace(".txt", "-2.txt") and "already exists" in note
    assert (corpus / BUNDLED_DOC).read_bytes() == original and (corpus / saved).read_text() == "replacement"
    assert add_upload(upload_file(tmp_path, "new.txt"), BUNDLED_DOC, corpus)[0].endswith("-3.txt")


def test_upload_handler_reports_each_file(handlers: Handlers, tmp_path: Path) -> None:
    files = [upload_file(tmp_path, "tool.exe"), upload_file(tmp_path, "ok.md")]
    note, cleared, table, stale, choices = handlers.upload(files)
    assert "unsupported file type" in note and "Added ok.md" in note and cleared is None
    assert "out of date" in stale and "ok.md" in table and "ok.md" in [v for _, v in choices.choices]
    assert not (handlers.state.corpus_dir / "tool.exe").exists()
    assert "Choose" in handlers.upload(None)[0]


# --- delete confinement ----------------------------------------------------------------------------


def test_delete_is_confined_to_the_corpus(corpus: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (corpus / "link.txt").symlink_to(outside)
    for doc_id in ("../outside.txt", str(outside), "sub/../../outside.txt", "link.txt", "..\\outside.txt", ""):
        with pytest.raises(CorpusFileError):
            delete_document(doc_id, corpus)
    assert outside.read_text() == "keep me"
    with pytest.raises(CorpusFileError, match="not a file"):
        delete_document("missing.txt", corpus)
    (corpus / "sub").mkdir()
    (corpus / "sub" / "a.md").write_text("x")
    delete_document("sub/a.md", corpus)
    assert not (corpus / "sub" / "a.md").exists()


def test_delete_handler(handlers: Handlers) -> None:
    note, *_ = handlers.delete("../../etc/passwd")
    assert "pqa-error" in note and "refused" in note
    note, table, stale, choices = handlers.delete(BUNDLED_DOC)
    assert "Deleted" in note and not (handlers.state.corpus_dir / BUNDLED_DOC).exists()
    assert "out of date" in stale and "file removed" in table
    assert "Doha" in handlers.ask(DOHA_QUESTION, [])[0]  # still answered from the loaded index until a rebuild


# --- server settings -------------------------------------------------------------------------------


def test_auth_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert auth_from_env("alice:s3:cret") == ("alice", "s3:cret")
    assert auth_from_env("") is None
    for bad in ("alice", ":pw", "alice:"):
        with pytest.raises(Exception, match="user:password"):
            auth_from_env(bad)
    monkeypatch.setenv("POLICYQA_AUTH", "bob:pw")
    assert auth_from_env() == ("bob", "pw")
    monkeypatch.delenv("POLICYQA_AUTH")
    assert auth_from_env() is None


def test_main_passes_flags_and_binds_localhost_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr("policyqa_app.__main__.serve", lambda *a, **k: calls.append((a, k)))
    assert main(["--index", "i", "--corpus", "c", "--port", "7999"]) == 0
    assert calls[-1] == (("i", "c"), {"host": "127.0.0.1", "port": 7999, "share": False})
    main(["--host", "0.0.0.0", "--share"])
    assert calls[-1] == (("index", "corpus"), {"host": "0.0.0.0", "port": 7860, "share": True})


def test_share_without_login_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from policyqa_app.server import serve

    monkeypatch.delenv("POLICYQA_AUTH", raising=False)
    with pytest.raises(PolicyQAError, match="POLICYQA_AUTH"):
        serve(tmp_path / "index", tmp_path / "corpus", share=True)


def test_partial_and_refused_states_show_their_reason() -> None:
    quote = "The office opens at 9."
    c = Citation(1, "o.md", "O", None, None, 0, len(quote), quote, quote, 0, len(quote), 0.61)
    reason = "Answers 'when does it open'. Not answered: 'how much does it cost' (No passage mentions 'cost')."
    partial = Answer("q", f"{quote} [1]", False, [c], [], 0.61, state="partial", reason=reason)
    html = answer_html(partial)
    assert "Partly answered" in html and "Not answered: &#x27;how much does it cost&#x27;" in html
    assert "evidence 0.61" in sources_html(partial, 0.42) and "below 0.42" in sources_html(partial, 0.42)
    hit = Hit("Nearby text", 0.37, "a.txt", "A", 0, 11, None, None, 7)
    why = "No passage mentions 'Putin'."
    refused = Answer(
        "q", "", True, [], [hit], 0.37, f"The corpus does not answer this question. {why}", state="refused", reason=why
    )
    html = answer_html(refused)
    assert html.count("No passage mentions &#x27;Putin&#x27;.") == 1 and "pqa-refusal" in html
    assert "evidence 0.370" in sources_html(refused, 0.42)
