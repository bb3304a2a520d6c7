"""Eight users asking at once through the HTTP API of a running server: every question answered, no errors."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait

from tests.conftest import DOHA_QUESTION
from tests.e2e.conftest import Server

USERS = 8
QUESTIONS = [DOHA_QUESTION, "When was the online conference held?", "Who organized the conference?"]
DEADLINE_S = 300.0


def one_user(url: str, user: int) -> list[tuple[str, str, str]]:
    from gradio_client import Client

    client = Client(url, verbose=False)  # each client is its own session (its own conversation)
    results = []
    for i in range(len(QUESTIONS)):
        question = QUESTIONS[(user + i) % len(QUESTIONS)]
        chat, box = client.predict(question, api_name="/ask")
        assert chat.count("class='pqa-turn") == i + 1, chat  # sessions do not share conversations
        last = chat.rsplit("class='pqa-turn", 1)[1]
        results.append((question, last, last))
        assert box == ""
    return results


def test_eight_concurrent_users_all_answered(server: Server) -> None:
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=USERS)
    try:
        futures = [pool.submit(one_user, server.url, user) for user in range(USERS)]
        done, pending = wait(futures, timeout=DEADLINE_S)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # a stuck user must not hang the test run
    assert not pending, f"{len(pending)} user(s) still waiting after {DEADLINE_S:.0f} s"
    answers = [item for future in done for item in future.result()]  # re-raises any user's error
    assert len(answers) == USERS * len(QUESTIONS)
    for question, answer, sources in answers:
        assert "pqa-msg pqa-error" not in answer, (question, answer)
        assert 'class="pqa-cite"' in answer, (question, answer)  # answered, with a citation link
        assert 'id="cite-' in sources and "pqa-quote" in sources
        if question == DOHA_QUESTION:
            assert "Doha" in answer
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    print(f"{len(answers)} answers in {time.monotonic() - started:.1f} s")
