"""The web UI's handlers, called directly against a real index: answers, search, corpus changes, safety."""

from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr
import pytest
from policyqa_app import build_app
from policyqa_app.__main__ import main
from policyqa_app.corpus_files import MAX_UPLOAD_BYTES, CorpusFileError, add_upload, delete_document, safe_name
from policyqa_app.formatting import answer_html
from policyqa_app.handlers import HISTORY_LENGTH, Handlers
from policyqa_app.server import auth_from_env
from policyqa_app.sources_html import sources_html, sources_label
from policyqa_app.state import AppState

from policyqa import PolicyQAError, Settings, build_index
from policyqa.answer.types import Answer, Citation
from policyqa.build.watch import WatchSettings
from policyqa.search.retrieval import Hit
from tests.conftest import BUNDLED_DOC, DOHA_QUESTION

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # gr.Warning outside a running app

EVIL = "<script>alert('pwned')</script>"
EVIL_IMG = '<img src=x onerror="alert(1)">'


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
    model = handlers.state.index.manifest["model"]
    assert f"({model['backend']}, {model['precision']})" in header  # the precision vectors were computed in


def test_ask_renders_linked_markers_and_highlighted_sources(handlers: Handlers) -> None:
    chat, turns, box, entry = handlers.ask(DOHA_QUESTION)
    assert "Doha" in turns[0].answer_html and box == ""
    assert '<a class="pqa-cite" href="#cite-0-1" data-cite="0-1">[1]</a>' in chat
    assert "pqa-reason" in turns[0].answer_html and "P 0." in turns[0].answer_html
    sources = turns[0].sources_html
    assert 'id="cite-0-1"' in sources and '<mark class="pqa-quote"' in sources and "Doha" in sources
    assert BUNDLED_DOC in sources and " · P 0." in sources and "P: the probability" in sources  # and its legend
    assert "<strong class='pqa-span'>Doha</strong>" in turns[0].answer_html  # the answer words in bold
    assert "chars " in sources and "View in document" in sources
    assert "Issues of strengthening cooperation between Russia and Central Asian countries" in sources  # title
    assert entry == {"question": DOHA_QUESTION, "outcome": "answered, 1 source(s)"}


def test_follow_up_is_expanded_with_the_previous_subject(handlers: Handlers) -> None:
    _, turns, _, _ = handlers.ask("When was the International Conference on Afghanistan held in Tashkent?")
    chat, turns, _, _ = handlers.ask("And who initiated it?", 5, "hybrid", None, turns)
    assert len(turns) == 2 and "Tashkent" in turns[1].asked.query and "Searched for" in chat
    assert "Mirziyoyev" in turns[1].answer_html and 'id="cite-1-1"' in chat  # each turn's sources have their own ids
    _, turns, _, _ = handlers.ask("Who organized the conference?", 3, "bm25", [BUNDLED_DOC], turns)
    assert turns[2].asked.query == "Who organized the conference?"  # a full question stands alone
    *_, entry = handlers.ask("And who initiated it?", 5, "hybrid", None, turns[:1])
    assert entry and entry["question"].startswith("And who initiated it? (") and "Tashkent" in entry["question"]
    assert "pqa-error" in handlers.ask("Doha", 5, "nonsense")[0]


def test_history_keeps_the_last_questions(handlers: Handlers) -> None:
    history = [{"question": f"q{i}", "outcome": "answered"} for i in range(HISTORY_LENGTH)]
    *_, entry = handlers.ask("Who organized the conference?")
    history, past = handlers.remember(entry, history)
    assert len(history) == HISTORY_LENGTH
    assert history[0]["question"] == "q1" and history[-1]["question"] == "Who organized the conference?"
    assert past.index("Who organized") < past.index("q9")  # newest first
    assert "class='pqa-past' data-question='Who organized the conference?'" in past  # clickable
    assert handlers.remember(None, history)[0] == history


def test_ask_errors_become_messages(handlers: Handlers) -> None:
    chat, turns, box, entry = handlers.ask("   ")
    assert "pqa-error" in chat and "empty" in chat
    assert turns == [] and box == "   " and entry is None


def test_search_ranks_passages_with_filter_and_limit(handlers: Handlers) -> None:
    html = handlers.search("peace agreement Doha", 3, [])
    assert html.count('class="pqa-hit"') == 3 and " · P 0." in html and BUNDLED_DOC in html
    assert handlers.search("peace agreement", 2.0, [BUNDLED_DOC]).count('class="pqa-hit"') == 2
    unknown = handlers.search("peace", 5, ["nope.txt"])
    assert "pqa-error" in unknown and "nope.txt" in unknown


def test_refusal_shows_nearest_material() -> None:
    hit = Hit("Nearby <b>text</b>", 0.2, "a.txt", "A", 0, 18, 3, "Intro", 7)
    answer = Answer("q?", "", True, [], [hit], 0.1, state="refused", reason="Nothing close.", note="Closest shown.")
    html, sources = answer_html(answer), sources_html(answer)
    assert "The corpus does not answer this question" in html and "Closest shown." in html
    assert html.count("Nothing close.") == 1  # the reason, once: not parsed out of `message`
    assert "Nearest material" in sources_label(answer)[0] and sources_label(answer)[1] is False  # collapsed
    assert "Nearby &lt;b&gt;text&lt;/b&gt;" in sources and "page 3" in sources and "Intro" in sources


def test_marker_in_document_text_is_escaped_and_only_known_markers_link() -> None:
    quote = "Keys <rotate> [7] yearly."
    c = Citation(1, "k.md", "K & co", None, None, 10, 10 + len(quote), quote, "Preamble. " + quote, 0, 35, 0.9)
    html = answer_html(Answer("q", f"{quote} [1]", False, [c], [], 0.9))
    assert "&lt;rotate&gt; [7]" in html and 'href="#cite-0-1"' in html and "#cite-7" not in html
    sources = sources_html(Answer("q", "", False, [c], [], 0.9))
    assert '<mark class="pqa-quote" data-start="10" data-end="35">Keys &lt;rotate&gt; [7] yearly.</mark>' in sources


# --- no index yet, rebuild -------------------------------------------------------------------------


def test_app_starts_without_an_index_and_rebuild_creates_it(corpus: Path, tmp_path: Path) -> None:
    h = Handlers(AppState(tmp_path / "no-index", corpus))
    assert "No index yet" in h.header() and "Rebuild" in h.header()
    answer, *_ = h.ask(DOHA_QUESTION)
    assert "No index yet" in answer
    assert "Rebuild" in h.search("Doha", 5, None)
    assert isinstance(build_app(tmp_path / "no-index", corpus), gr.Blocks)
    report, header, *_ = h.rebuild()
    assert "added 1" in report and "<b>1</b> document(s)" in header
    assert "Doha" in h.ask(DOHA_QUESTION)[0]


def test_rebuild_swaps_the_shared_index_in_place(handlers: Handlers, tmp_path: Path) -> None:
    index = handlers.state.index
    note, *_ = handlers.upload([upload_file(tmp_path, "keys.md", "# Keys\n\nThe Zanzibar clause requires audits.\n")])
    assert "Added keys.md" in note
    assert "keys.md" in handlers.corpus_view()[1]  # stale: new file listed
    report, header, choices, ask_choices, table, stale, _, note = handlers.rebuild()
    assert note == "" and ask_choices.choices == choices.choices  # the "Added …" note does not outlive the rebuild
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
        handlers.ask("What does the Quokka protocol mandate?")[0],
        handlers.corpus_view()[0],
        handlers.remember({"question": EVIL, "outcome": "x"}, [])[1],
    ]
    for html in outputs:
        assert "<script" not in html and "<img" not in html, html
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in outputs[0]
    assert "&lt;script&gt;" in outputs[2] and "&lt;script&gt;" in outputs[3]  # title in table, question in history


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
    assert "Doha" in handlers.ask(DOHA_QUESTION)[0]  # still answered from the loaded index until a rebuild


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
    monkeypatch.delenv("POLICYQA_LLM_URL", raising=False)
    monkeypatch.setattr("policyqa_app.__main__.serve", lambda *a, **k: calls.append((a, k)))
    assert main(["--index", "i", "--corpus", "c", "--port", "7999"]) == 0
    expected = {"host": "127.0.0.1", "port": 7999, "share": False, "watch": WatchSettings()}
    settings = calls[-1][1].pop("settings")  # built once here, from the flags and the environment
    assert calls[-1] == (("i", "c"), expected)  # the corpus is watched unless --no-watch
    assert settings.store == "i" and settings.llm is None
    assert main(["--index", "i", "--corpus", "c", "--port", "7999", "--no-watch"]) == 0
    assert calls[-1][1]["watch"] is None
    main(["--host", "0.0.0.0", "--share", "--llm-url", "http://127.0.0.1:8080/v1", "--llm-model", "m"])
    (args, kwargs), llm = calls[-1], calls[-1][1]["settings"].llm  # the LLM travels in the settings, once
    assert args == ("index", "corpus") and (kwargs["host"], kwargs["port"], kwargs["share"]) == ("0.0.0.0", 7860, True)
    assert (llm.url, llm.model) == ("http://127.0.0.1:8080/v1", "m") and "llm" not in kwargs


def test_share_without_login_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from policyqa_app.server import serve

    monkeypatch.delenv("POLICYQA_AUTH", raising=False)
    with pytest.raises(PolicyQAError, match="POLICYQA_AUTH"):
        serve(tmp_path / "index", tmp_path / "corpus", share=True)


# --- display text, the document view -----------------------------------------------------------------


def test_display_joins_hard_breaks_and_renders_markdown_safely() -> None:
    from policyqa_app.formatting import display_text, highlighted_text

    text = "# Outlook\n\nThe **Kestrel**\ncorridor   opens in *October*.\n- one\n- [two](javascript:alert(1)) <b>x</b>"
    html = display_text(text, markdown=True)
    assert '<strong class="pqa-h">Outlook</strong>' in html and "<strong>Kestrel</strong> corridor opens" in html
    assert "<em>October</em>" in html and "• one\n• two &lt;b&gt;x&lt;/b&gt;" in html and "javascript" not in html
    assert display_text("a\nb\n\nc") == "a b\n\nc" and display_text("**x**") == "**x**"  # plain text stays plain
    start = text.index("The **Kestrel**")
    end = text.index(".", start) + 1
    marked = highlighted_text(text, start, end, markdown=True, offset=100)
    assert f'data-start="{start + 100}" data-end="{end + 100}">The <strong>Kestrel</strong> corridor opens' in marked


def test_view_document_shows_the_whole_text_or_the_cited_pdf_page(handlers: Handlers, tmp_path: Path) -> None:
    from tests.filemakers import make_pdf

    make_pdf(handlers.state.corpus_dir / "vendor.pdf", ["Cover page", "The Zanzibar clause requires audits.", "End"])
    handlers.rebuild()
    text = handlers.state.index.document_text(BUNDLED_DOC)
    start = text.index("Doha")
    event = gr.EventData(None, {"doc": BUNDLED_DOC, "start": start, "end": start + 4})
    html, image, panel = handlers.view_document(event)
    assert f'data-start="{start}" data-end="{start + 4}">Doha</mark>' in html and "Tashkent" in html
    assert image["visible"] is False and panel["visible"] is True
    pdf_text = handlers.state.index.document_text("vendor.pdf")
    start = pdf_text.index("Zanzibar")
    html, image, _ = handlers.view_document(gr.EventData(None, {"doc": "vendor.pdf", "start": start, "end": start + 8}))
    assert "page 2 of 3" in html and "Cover page" not in html.split("pqa-doctext")[1] and ">Zanzibar</mark>" in html
    assert image["visible"] is True and image["value"].height > image["value"].width > 500
    (handlers.state.corpus_dir / "vendor.pdf").unlink()  # gone since the build: the text is still shown
    html, image, _ = handlers.view_document(gr.EventData(None, {"doc": "vendor.pdf", "start": start, "end": start + 8}))
    assert "cannot be shown" in html and ">Zanzibar</mark>" in html and image["visible"] is False
    assert (
        "no longer in the index"
        in handlers.view_document(gr.EventData(None, {"doc": "x.txt", "start": 0, "end": 1}))[0]
    )
    assert "No source chosen" in handlers.view_document(gr.EventData(None, {}))[0]


def test_a_bad_file_is_reported_once_in_the_build_report(handlers: Handlers) -> None:
    (handlers.state.corpus_dir / "fake.pdf").write_bytes(b"%PDF-1.4 this is not a PDF")
    report, *_ = handlers.rebuild()
    assert report.count("fake.pdf") == 1, report


# --- corpus notes, first run and errors --------------------------------------------------------------


def test_upload_says_when_a_name_was_changed(handlers: Handlers, tmp_path: Path) -> None:
    note, *_ = handlers.upload([upload_file(tmp_path, "my report<1>?.md", "# R\n\nText.\n")])
    assert "Added my report_1.md (renamed from &#x27;my report&lt;1&gt;?.md&#x27;" in note
    note, *_ = handlers.upload([upload_file(tmp_path, "plain.md", "# P\n\nText.\n")])
    assert "Added plain.md." in note and "renamed" not in note


def test_rebuild_after_upload_only_when_asked(handlers: Handlers, tmp_path: Path) -> None:
    assert handlers.rebuild_after_upload(False) == gr.skip()
    added, *_ = handlers.upload([upload_file(tmp_path, "new.md", "# New\n\nThe Quokka protocol mandates backups.\n")])
    report, header, *_, note = handlers.rebuild_after_upload(True, added)
    assert "added 1" in report and "<b>2</b> document(s)" in header
    assert "Added new.md. Indexed." in note and "Click" not in note


def test_a_failed_rebuild_after_upload_keeps_the_hint(handlers: Handlers, tmp_path: Path) -> None:
    added, *_ = handlers.upload([upload_file(tmp_path, "new.md", "# New\n\nThe Quokka protocol mandates backups.\n")])
    for path in handlers.state.corpus_dir.iterdir():
        path.unlink()
    report, *_, note = handlers.rebuild_after_upload(True, added)
    assert "Rebuild failed" in report and "Click “Rebuild index” to index it." in note and "Indexed." not in note


def test_the_corpus_view_judges_staleness_with_the_servers_settings(corpus: Path, tmp_path: Path, embedder) -> None:
    """A server started with --model: the index built with that model is up to date, not due a full rebuild."""
    model = tmp_path / "model"
    shutil.copytree(embedder.model_dir, model)  # another folder: another model identity
    build_index(corpus, tmp_path / "index", model=model, backend="torch", log=lambda _m: None)
    state = AppState(tmp_path / "index", corpus, settings=Settings(model=str(model), backend="torch"))
    table, stale, _ = Handlers(state).corpus_view()
    assert "up to date" in stale and "full rebuild" not in stale and BUNDLED_DOC in table


def test_a_busy_port_says_which_flag_to_use() -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "policyqa_app", "--index", "nowhere", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"port {port} is in use; run ./scripts/run.sh --port {port + 1}" in done.stderr


def test_partial_and_refused_states_show_their_reason() -> None:
    quote = "The office opens at 9."
    c = Citation(1, "o.md", "O", None, None, 0, len(quote), quote, quote, 0, len(quote), 0.61)
    reason = "Answers 'when does it open'. Not answered: 'how much does it cost' (No passage mentions 'cost')."
    partial = Answer("q", f"{quote} [1]", False, [c], [], 0.61, state="partial", reason=reason)
    html = answer_html(partial)
    assert "Partly answered" in html and "Not answered: &#x27;how much does it cost&#x27;" in html
    sources = sources_html(partial, threshold=0.42)
    assert "P 0.61" in sources and "needs 0.42" in sources
    hit = Hit("Nearby text", 0.37, "a.txt", "A", 0, 11, None, None, 7)
    why = "No passage mentions 'Putin'."
    refused = Answer(
        "q", "", True, [], [hit], 0.37, f"The corpus does not answer this question. {why}", state="refused", reason=why
    )
    html = answer_html(refused)
    assert html.count("No passage mentions &#x27;Putin&#x27;.") == 1 and "pqa-refusal" in html
    assert "P 0.37" in sources_html(refused, threshold=0.42)
