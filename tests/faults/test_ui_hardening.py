"""The web UI under a hostile client: upload floods, document text posing as citation markers, uploaded files left
downloadable, an open bind, password guessing, overlapping folders, huge questions, a stale API view (issue 13,
items 3, 6, 9 and 11)."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("gradio")

from policyqa_app.chat import HISTORY_QUESTION_CHARS  # noqa: E402
from policyqa_app.corpus_files import MAX_BYTES_PER_UPLOAD, MAX_FILES_PER_UPLOAD  # noqa: E402
from policyqa_app.formatting import answer_html  # noqa: E402
from policyqa_app.handlers import Handlers  # noqa: E402
from policyqa_app.login_throttle import MAX_FAILURES  # noqa: E402
from policyqa_app.state import AppState  # noqa: E402

from policyqa import build_index  # noqa: E402
from policyqa.answer.types import Answer, Citation  # noqa: E402
from tests.e2e.conftest import free_port, running_app, wait_until_up  # noqa: E402
from tests.faults.helpers import build_small_index, private_copy  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # gr.Warning outside a running app

DOCS = {
    "fees.md": "# Fees\n\nThe late fee is 85 euros [2]. It is waived once a year.\n",
    "keys.txt": "Office keys are returned to the Tallinn front desk on the last working day.\n",
}


def quiet(message: str) -> None:
    pass


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_index(tmp_path_factory.mktemp("ui-hardening"), DOCS)


@pytest.fixture
def handlers(built: Path, tmp_path: Path) -> Handlers:
    corpus, index = private_copy(built, tmp_path)
    return Handlers(AppState(index, corpus))


def corpus_files(handlers: Handlers) -> list[str]:
    return sorted(p.name for p in handlers.state.corpus_dir.iterdir())


# --- item 3 ---------------------------------------------------------------------------------------------------


def test_one_upload_request_listing_a_file_a_thousand_times_adds_it_once(handlers: Handlers, tmp_path: Path) -> None:
    upload = tmp_path / "uploads" / "policy.txt"
    upload.parent.mkdir()
    upload.write_text("The Quito rule limits printing to two pages.\n" * 2000)
    before = corpus_files(handlers)
    note, *_ = handlers.upload([str(upload)] * 1_005)
    assert corpus_files(handlers) == sorted([*before, "policy.txt"])
    assert f"at most {MAX_FILES_PER_UPLOAD}" in note and "already in the corpus" in note
    again, *_ = handlers.upload([str(upload)])  # a later request with the same bytes
    assert "already in the corpus as policy.txt" in again and corpus_files(handlers) == sorted([*before, "policy.txt"])


def test_one_upload_request_is_capped_in_total_bytes(handlers: Handlers, tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    each = 19 * 1024 * 1024
    paths = []
    for n in range(MAX_BYTES_PER_UPLOAD // each + 2):
        path = folder / f"part{n}.txt"
        path.write_bytes(os.urandom(each))
        paths.append(str(path))
    note, *_ = handlers.upload(paths)
    added = [name for name in corpus_files(handlers) if name.startswith("part")]
    assert len(added) == MAX_BYTES_PER_UPLOAD // each and "in total" in note
    assert sum((handlers.state.corpus_dir / name).stat().st_size for name in added) <= MAX_BYTES_PER_UPLOAD


# --- item 6 ---------------------------------------------------------------------------------------------------


def test_a_footnote_marker_in_quoted_text_is_not_a_citation_link() -> None:
    first = "The late fee is 85 euros [2]."
    second = "Office keys are returned on the last working day."
    cite1 = Citation(1, "fees.md", "Fees", None, None, 8, 8 + len(first), first, first, 8, 40, 0.9)
    cite2 = Citation(2, "keys.txt", "Keys", None, None, 0, len(second), second, second, 0, 50, 0.8)
    html = answer_html(Answer("q", f"{first} [1] {second} [2]", False, [cite1, cite2], [], 0.9))
    assert html.count('class="pqa-cite"') == 2 and html.count('data-cite="0-2"') == 1
    assert "85 euros [2]. <a" in html  # the document's own marker stays text, right before citation 1's link
    assert html.index('data-cite="0-1"') < html.index('data-cite="0-2"')


def test_an_asked_answer_quoting_a_marker_links_only_its_citations(handlers: Handlers) -> None:
    _, turns, *_ = handlers.ask("How much is the late fee in euros?")
    answer, sources = turns[-1].answer_html, turns[-1].sources_html
    assert "85 euros [2]" in re.sub(r"<[^>]+>", "", answer)  # the answer words may be in bold
    linked = answer.count('class="pqa-cite"')
    assert linked == sources.count('class="pqa-source"') == 1 and 'data-cite="0-2"' not in answer


# --- item 9 ---------------------------------------------------------------------------------------------------


def test_uploaded_files_leave_gradios_cache_once_handled(
    handlers: Handlers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "gradio-cache"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    files = []
    for n, name in enumerate(["new-policy.md", "tool.exe", "empty.txt"]):
        path = cache / f"{n:040x}" / name  # how Gradio stores an upload: a folder per file hash
        path.parent.mkdir(parents=True)
        path.write_text("" if name == "empty.txt" else "The Lima standard labels every cable.\n")
        files.append(str(path))
    note, *_ = handlers.upload(files)
    assert "Added new-policy.md" in note and "unsupported" in note and "empty" in note
    assert not any(Path(f).exists() for f in files), "an uploaded file is still in Gradio's cache (downloadable)"
    assert (handlers.state.corpus_dir / "new-policy.md").is_file()


def start_app(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    """`python -m policyqa_app ARGS`, expected to refuse and exit: still serving after `timeout` is a failure."""
    env = {k: v for k, v in os.environ.items() if k != "POLICYQA_AUTH"}
    command = [sys.executable, "-m", "policyqa_app", "--port", str(free_port()), *args]
    try:
        return subprocess.run(
            command, capture_output=True, text=True, env={**env, "HF_HUB_OFFLINE": "1"}, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the UI started and served with {args}")


def test_an_open_bind_without_login_is_refused(built: Path) -> None:
    done = start_app("--host", "0.0.0.0", "--index", str(built / "index"), "--corpus", str(built / "corpus"))
    assert done.returncode == 2 and "POLICYQA_AUTH" in done.stderr and "Traceback" not in done.stderr


def test_overlapping_corpus_and_index_are_refused_by_the_server(built: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(built / "corpus", data)
    shutil.copytree(built / "index", data / "index", ignore=shutil.ignore_patterns("lock"))
    done = start_app("--index", str(data / "index"), "--corpus", str(data))
    assert done.returncode == 2 and "overlap" in done.stderr and "Traceback" not in done.stderr


def login(url: str, password: str) -> int:
    body = urllib.parse.urlencode({"username": "admin", "password": password}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url + "login", data=body), timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_password_guessing_is_locked_out(built: Path, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "POLICYQA_AUTH": "admin:s3cret"}
    command = [sys.executable, "-m", "policyqa_app", "--index", str(built / "index"), "--corpus", str(built / "corpus")]
    with log.open("wb") as out:
        proc = subprocess.Popen([*command, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, proc, log)
        started = time.monotonic()
        codes = [login(url, f"guess{n}") for n in range(MAX_FAILURES + 5)]
        assert codes[:MAX_FAILURES] == [400] * MAX_FAILURES and set(codes[MAX_FAILURES:]) == {429}, codes
        assert login(url, "s3cret") == 429, "the right password must wait out the lockout too"
        assert time.monotonic() - started >= MAX_FAILURES * 0.9  # each failure was slowed down
        assert rest_login(url, "s3cret") == 429, "the REST API shares the lockout"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def rest_login(url: str, password: str) -> int:
    token = base64.b64encode(f"admin:{password}".encode()).decode()
    request = urllib.request.Request(url + "api/v1/status", headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_password_guessing_over_the_rest_api_is_locked_out(built: Path, tmp_path: Path) -> None:
    env = {"POLICYQA_AUTH": "admin:s3cret"}
    with running_app(built / "corpus", built / "index", tmp_path / "server.log", env) as server:
        assert rest_login(server.url, "s3cret") == 200
        codes = [rest_login(server.url, f"guess{n}") for n in range(MAX_FAILURES + 3)]
        assert codes[:MAX_FAILURES] == [401] * MAX_FAILURES and set(codes[MAX_FAILURES:]) == {429}, codes
        assert rest_login(server.url, "s3cret") == 429


# --- item 11 --------------------------------------------------------------------------------------------------


def test_history_keeps_the_start_of_a_huge_question(handlers: Handlers) -> None:
    question = "Who returns the office keys? " + "x" * 1_600_000
    chat, turns, _, entry = handlers.ask(question)
    history, past = handlers.remember(entry, [])
    assert len(history[-1]["question"]) <= HISTORY_QUESTION_CHARS + 1 and len(past) < 5_000
    assert len(turns[-1].question) <= HISTORY_QUESTION_CHARS + 1 and len(chat) < 50_000  # the chat holds the start


def test_api_requests_follow_a_build_made_outside_the_ui(handlers: Handlers) -> None:
    state = handlers.state
    (state.corpus_dir / "vault.md").write_text("# Vault\n\nThe Reykjavik vault keeps backups for ninety days.\n")
    build_index(state.corpus_dir, store=state.store, log=quiet)  # as `policyqa build` would, from another process
    html = handlers.search("How long does the Reykjavik vault keep backups?", 1, [])
    assert "vault.md" in html, html
