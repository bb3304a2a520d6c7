"""The docs hold no path of one machine, and the benchmark commands they give can be run from the repository root."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO

# Third-party documents reproduced as they are (test data for the readers), not our docs.
NOT_OURS = (REPO / "eval" / "realdocs" / "corpus",)
DOC_FOLDERS = ("docs", "index", "eval", "tests", "src", "app", "benchmarks", "scripts")
# Docs whose commands must run today; docs/benchmarks-history.md keeps old rounds as they were written.
REFERENCE_DOCS = ("README.md", "BENCHMARKS.md", "docs/architecture.md", "docs/scale-out.md")

MACHINE_PATH = re.compile(
    r"(?<![\w.~/-])/(?:tmp|work|home|root|Users)(?:/|\b)"  # an absolute path that exists on one machine only
    r"|\bflock\s+(?:-\S+\s+)*[\w.~/$-]*(?:/|\.lock\b)"  # a lock file handed to flock
    r"|[\w-]+\.lock\b"  # a lock file by name (bench.lock, index.lock)
    r"|\b[A-Za-z]:\\(?:Users|Temp)\\"
)
SCRIPT = re.compile(r"benchmarks/([\w-]+\.py)")
FLAG = re.compile(r"(?<!\S)(--[\w-]+)")
LINK = re.compile(r"\]\(([^)\s#]+)?(?:#([^)\s]+))?\)")


def doc_files() -> list[Path]:
    found = sorted(REPO.glob("*.md"))
    for folder in DOC_FOLDERS:
        found += sorted(p for p in (REPO / folder).rglob("*.md") if not any(d in p.parents for d in NOT_OURS))
    return found


def machine_paths(text: str) -> list[str]:
    return [
        f"line {number}: {match.group(0)!r}"
        for number, line in enumerate(text.splitlines(), 1)
        for match in MACHINE_PATH.finditer(line)
    ]


@pytest.mark.parametrize(
    "line",
    [
        "flock /work/s4/bench.lock .venv/bin/python benchmarks/perf_query.py DEV",
        "flock -w 60 $LOCK/bench.lock make",
        "`--cache /tmp/emb.npz`",
        "/home/alice/policyqa/.venv/bin/python -m policyqa",
        "cd /root/.cache/policyqa",
        "(see /Users/bob/src/policyqa)",
        "wait while .git/index.lock exists",
        r"C:\Users\carol\policyqa",
    ],
)
def test_a_machine_path_is_found(line: str) -> None:
    assert machine_paths(line), line


@pytest.mark.parametrize(
    "line",
    [
        "`~/.cache/policyqa` (or `$POLICYQA_CACHE`)",
        "there is no `flock` across hosts, so a build holds a lease record",
        "see https://example.org/home/index.html",
        "DEV=../shared/eval/policyqa/dev.json",
        "a temporary folder (tempfile.mkdtemp), /tmpfs is not used",
    ],
)
def test_a_portable_line_passes(line: str) -> None:
    assert not machine_paths(line), line


def test_the_docs_hold_no_machine_specific_path() -> None:
    docs = doc_files()
    assert REPO / "BENCHMARKS.md" in docs and REPO / "docs" / "benchmarks-history.md" in docs
    found = [f"{p.relative_to(REPO)} {hit}" for p in docs for hit in machine_paths(p.read_text(encoding="utf-8"))]
    assert not found, "machine-specific paths in the docs:\n" + "\n".join(found)


def commands(text: str) -> list[str]:
    """Command lines: each line of a fenced block (continuations joined, comments cut) and each inline code span."""
    found: list[str] = []
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    for block in fenced:
        for line in block.replace("\\\n", " ").splitlines():
            found.append(line.split(" # ")[0])
    outside = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    found += re.findall(r"`([^`\n]+)`", outside.replace("\n", " "))
    return found


@pytest.mark.parametrize("doc", REFERENCE_DOCS)
def test_benchmark_commands_name_scripts_and_flags_that_exist(doc: str) -> None:
    path = REPO / doc
    if not path.exists():
        pytest.skip(f"{doc} is not written yet")
    problems = []
    for command in commands(path.read_text(encoding="utf-8")):
        for match in SCRIPT.finditer(command):
            script = REPO / "benchmarks" / match.group(1)
            if not script.is_file():
                problems.append(f"benchmarks/{match.group(1)} does not exist: {command}")
                continue
            rest = SCRIPT.split(command[match.end() :])[0]
            source = script.read_text(encoding="utf-8")
            problems += [
                f"{script.name} has no {flag}: {command}"
                for flag in FLAG.findall(rest)
                if f'"{flag}"' not in source and flag != "--help"
            ]
    assert not problems, "\n".join(problems)


def test_every_benchmark_script_benchmarks_md_names_exists() -> None:
    named = set(SCRIPT.findall((REPO / "BENCHMARKS.md").read_text(encoding="utf-8")))
    assert named, "BENCHMARKS.md names no benchmark script"
    missing = sorted(name for name in named if not (REPO / "benchmarks" / name).is_file())
    assert not missing, f"BENCHMARKS.md names scripts that do not exist: {missing}"


def heading_anchors(text: str) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings (punctuation dropped, spaces to '-', repeats numbered)."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    for title in re.findall(r"^#{1,6} (.+)$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(f"{slug}-{count}" if count else slug)
    return anchors


@pytest.mark.parametrize("doc", REFERENCE_DOCS)
def test_links_between_docs_reach_a_file_and_heading(doc: str) -> None:
    path = REPO / doc
    if not path.exists():
        pytest.skip(f"{doc} is not written yet")
    broken = []
    for target, anchor in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target or ""):
            continue  # a web address
        linked = (path.parent / target) if target else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked.read_text(encoding="utf-8")):
            broken.append(f"{target}#{anchor}: no such heading")
    assert not broken, f"{doc}: " + "; ".join(broken)


@pytest.mark.parametrize("doc", ["README.md", "docs/architecture.md", "docs/scale-out.md"])
def test_sections_of_benchmarks_md_named_in_a_doc_exist(doc: str) -> None:
    path = REPO / doc
    if not path.exists():
        pytest.skip(f"{doc} is not written yet")
    text = " ".join(path.read_text(encoding="utf-8").split())
    named = re.findall(r'BENCHMARKS\.md, "([^"]+)"', text)
    headings = re.findall(r"^#{2,6} (.+)$", (REPO / "BENCHMARKS.md").read_text(encoding="utf-8"), flags=re.M)
    missing = [name for name in named if not any(h.startswith(name) for h in headings)]
    assert not missing, f"{doc} names sections BENCHMARKS.md does not have: {missing}"


def _section_names(text: str, doc: str) -> list[str]:
    """The section titles quoted after `doc, "…"` in `text`, comment markers and line breaks folded away."""
    folded = " ".join(re.sub(r"^\s*(?:#|//|\*)\s?", "", line) for line in text.splitlines()).split()
    return re.findall(re.escape(doc) + r',? "([^"]+)"', " ".join(folded))


def _headings(doc: Path) -> list[str]:
    return re.findall(r"^#{2,6} (.+)$", doc.read_text(encoding="utf-8"), flags=re.M)


def test_section_names_in_the_code_exist() -> None:
    """Comments and docstrings that point a reader at a section name one that exists today."""
    targets = {"BENCHMARKS.md": REPO / "BENCHMARKS.md", "benchmarks-history.md": REPO / "docs/benchmarks-history.md"}
    missing = []
    for folder in ("src", "app", "tests", "benchmarks"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if path == Path(__file__):
                continue  # its own examples
            text = path.read_text(encoding="utf-8")
            for doc, target in targets.items():
                headings = _headings(target)
                for name in _section_names(text, doc):
                    if not any(h.startswith(name) for h in headings):
                        missing.append(f"{path.relative_to(REPO)}: {doc}, \"{name}\"")
    assert not missing, "sections that do not exist: " + "; ".join(missing)


def test_a_section_name_split_over_comment_lines_is_read_whole() -> None:
    text = '# as measured (BENCHMARKS.md, "Retrieval\n#     quality"), and (docs/benchmarks-history.md, "Gone")'
    assert _section_names(text, "BENCHMARKS.md") == ["Retrieval quality"]
    assert _section_names(text, "benchmarks-history.md") == ["Gone"]
