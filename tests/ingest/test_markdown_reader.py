"""Markdown and plain text: front matter becomes metadata (not text), HTML comments are dropped, headings are found
outside code at exact offsets (issue 22 item 5); a stray byte does not turn a UTF-8 file into mojibake (issue 24
item 18)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from policyqa.ingest.documents import CorpusFile, read_document
from policyqa.ingest.readers.text import read_plain_text

REPO = Path(__file__).resolve().parents[2]
REALDOCS = REPO / "eval" / "realdocs" / "corpus"


def read_file(path: Path, data: bytes | None = None):
    data = path.read_bytes() if data is None else data
    return read_document(CorpusFile(path.name, path, data, hashlib.sha256(data).hexdigest()))


def test_real_privacy_statement_front_matter_is_metadata_and_comment_is_gone() -> None:
    path = REALDOCS / "github_general_privacy_statement.md"
    parsed = read_plain_text(path.read_bytes(), markdown=True)
    assert parsed.title == "GitHub General Privacy Statement"
    assert parsed.metadata["title"] == "GitHub General Privacy Statement"
    assert parsed.metadata["redirect_from"].startswith("/privacy, /privacy-policy")
    assert "redirect_from" not in parsed.text and "versions:" not in parsed.text
    assert "<!--" not in parsed.text and "markdownlint" not in parsed.text
    assert parsed.headings[0][1] == "GitHub Privacy Statement" and parsed.levels[0] == 2
    for start, title in parsed.headings:
        assert parsed.text[start:].lstrip("#").lstrip().startswith(title)
    document = read_file(path)
    assert document.title == "GitHub General Privacy Statement"
    assert document.text.startswith("## GitHub Privacy Statement\n\nEffective date: February 1, 2024")


def test_real_policy_description_is_metadata_not_an_answerable_passage() -> None:
    parsed = read_plain_text((REALDOCS / "37signals_privacy_policy.md").read_bytes(), markdown=True)
    assert parsed.metadata["description"].startswith("The privacy of your data")
    assert "description:" not in parsed.text
    assert parsed.text.lstrip().startswith("# Privacy policy")


def test_bold_law_section_headings_read_without_markup() -> None:
    parsed = read_plain_text((REALDOCS / "fedramp_authorization_act_44usc3608-3609.md").read_bytes(), markdown=True)
    titles = [title for _, title in parsed.headings]
    assert "Sec. 3608. Federal Risk and Authorization Management Program" in titles
    assert "(c) Evaluation of Automation Procedures" in titles  # "**\\(c) …**" in the file


def test_comments_inside_code_stay_and_headings_in_code_are_not_headings() -> None:
    source = (
        "---\ntitle: 'Retention: policy'\ndate: 2024-05-01\ntags: [records, retention]\n---\n"
        "Retention\n=========\n\nIntro <!-- reviewer note --> text.\n\n"
        "```\n# not a heading\n<!-- kept in code -->\n```\n\n<!--\nmulti-line\n-->\n## Periods ##\n"
    )
    parsed = read_plain_text(source.encode(), markdown=True)
    assert parsed.metadata == {"title": "Retention: policy", "date": "2024-05-01", "tags": "records, retention"}
    assert parsed.title == "Retention: policy"
    assert parsed.text == (
        "Retention\n=========\n\nIntro  text.\n\n```\n# not a heading\n<!-- kept in code -->\n```\n\n## Periods ##\n"
    )
    assert parsed.headings == [(0, "Retention"), (parsed.text.index("## Periods"), "Periods")]
    assert parsed.levels == [1, 2]


def test_unclosed_comment_is_left_as_text() -> None:
    parsed = read_plain_text(b"Keep this <!-- no end\n\nand this.", markdown=True)
    assert parsed.text == "Keep this <!-- no end\n\nand this."


def test_hostile_markdown_lines_read_in_linear_time() -> None:
    started = time.perf_counter()
    read_plain_text(b"# " + b" " * 300_000 + b"x\n" + b"<!--" * 300_000 + b"\n" + b"```\n" * 100_000, markdown=True)
    assert time.perf_counter() - started < 5


# --- issue 24 item 18: one stray byte in a UTF-8 file ---


def test_one_stray_byte_does_not_turn_a_utf8_file_into_mojibake(tmp_path: Path) -> None:
    body = "# Zürich Datenschutzrichtlinie\n\nDaten werden in Zürich gespeichert – nicht in Genève.\n" * 20
    data = body.encode("utf-8") + b"It\x92s the end.\n"  # a Windows quote pasted into a UTF-8 file
    document = read_file(tmp_path / "policy.md", data)
    assert document.title == "Zürich Datenschutzrichtlinie"
    assert "Ã" not in document.text and "Zürich gespeichert – nicht in Genève" in document.text
    assert document.text.rstrip().endswith("It’s the end.")


def test_a_windows_1252_file_is_still_read_as_windows_1252() -> None:
    text = "Café policy – “quoted” terms apply. Zürich.\n" * 10
    assert read_plain_text(text.encode("cp1252"), markdown=False).text == text


def test_an_ascii_file_with_one_windows_byte_reads_that_byte_as_windows_1252() -> None:
    assert read_plain_text(b"The agency\x92s policy.", markdown=False).text == "The agency’s policy."
