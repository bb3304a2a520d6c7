"""One `Settings` value built at the entry points: what `from_env` reads, that flags win, that secrets stay out of
reprs, and that nothing below the entry points reads the environment (an AST scan, itself tested on made-up code)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from policyqa import LLMSettings, Settings
from policyqa.errors import PolicyQAError
from policyqa.index.credentials import StoreCredentials
from policyqa.ingest.chunking import ChunkSettings
from policyqa.settings import (
    BACKEND_ENV,
    CACHE_ENV,
    LLM_KEY_ENV,
    LLM_MODEL_ENV,
    LLM_TIMEOUT_ENV,
    LLM_URL_ENV,
    MODEL_ENV,
    PRECISION_ENV,
    RERANK_ENV,
    STORE_ENV,
)
from tests.conftest import REPO

# Where a program starts: the only modules that may read the environment.
ENTRY_POINTS = {"policyqa.cli", "policyqa_app.__main__", "policyqa_app.server"}
SETTING_PREFIXES = ("POLICYQA_", "MILVUS_")

FULL_ENVIRONMENT = {
    STORE_ENV: "milvus:///data/index.db",
    MODEL_ENV: "/models/mine",
    BACKEND_ENV: "torch",
    PRECISION_ENV: "f32",
    RERANK_ENV: "auto",
    CACHE_ENV: "/var/cache/pq",
    "MILVUS_TOKEN": "ann:s3cret",
    LLM_URL_ENV: "http://127.0.0.1:9/v1",
    LLM_MODEL_ENV: "gemma",
    LLM_TIMEOUT_ENV: "7",
    LLM_KEY_ENV: "k-123",
    "UNRELATED": "ignored",
}


def test_an_empty_environment_gives_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()
    assert Settings.from_env({MODEL_ENV: "", BACKEND_ENV: "", STORE_ENV: ""}) == Settings()  # empty is unset
    defaults = Settings()
    assert (defaults.store, defaults.model, defaults.backend, defaults.precision, defaults.rerank) == (
        "index",
        None,
        None,
        None,
        "off",
    )
    assert defaults.llm is None and defaults.chunking == ChunkSettings() and defaults.sentence_vectors == "late"
    assert defaults.cache_dir == Path.home() / ".cache" / "policyqa"


def test_each_variable_sets_its_setting() -> None:
    settings = Settings.from_env(FULL_ENVIRONMENT)
    assert (settings.store, settings.model, settings.backend, settings.precision, settings.rerank) == (
        "milvus:///data/index.db",
        "/models/mine",
        "torch",
        "f32",
        "auto",
    )
    assert settings.cache_dir == Path("/var/cache/pq")
    assert settings.milvus.client_arguments() == {"token": "ann:s3cret"}
    assert settings.llm == LLMSettings("http://127.0.0.1:9/v1", "gemma", 7.0, api_key="k-123")
    user = Settings.from_env({"MILVUS_USER": "ann", "MILVUS_PASSWORD": "pw"}).milvus
    assert user.client_arguments() == {"user": "ann", "password": "pw"}
    assert Settings.from_env({"MILVUS_USER": "ann"}).milvus.client_arguments() == {}  # a user alone logs nobody in


def test_flags_beat_the_environment() -> None:
    settings = Settings.from_env(
        FULL_ENVIRONMENT,
        store=Path("elsewhere"),
        model="mpnet",
        backend="openvino",
        precision="bf16",
        rerank="off",
        llm_url="http://10.0.0.1:8080/v1",
        llm_model="other",
        llm_timeout=3.5,
    )
    assert (settings.store, settings.model, settings.backend, settings.precision, settings.rerank) == (
        "elsewhere",
        "mpnet",
        "openvino",
        "bf16",
        "off",
    )
    assert settings.llm == LLMSettings("http://10.0.0.1:8080/v1", "other", 3.5, api_key="k-123")  # key: env only
    left_out = Settings.from_env(FULL_ENVIRONMENT, model=None, backend=None)  # a flag not given keeps the variable
    assert (left_out.model, left_out.backend) == ("/models/mine", "torch")


def test_with_arguments_replaces_only_what_is_given() -> None:
    base = Settings.from_env(FULL_ENVIRONMENT)
    changed = base.with_arguments(model=Path("/models/other"), backend=None, chunking=ChunkSettings(chunk_tokens=32))
    assert changed.model == "/models/other" and changed.backend == "torch" and changed.chunking.chunk_tokens == 32
    assert changed.cache_dir == base.cache_dir and base.model == "/models/mine"  # a copy: the original stays


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({BACKEND_ENV: "jax"}, r"\$POLICYQA_BACKEND: unknown embedding backend 'jax'; choose one of torch, openvino"),
        ({PRECISION_ENV: "fp8"}, r"\$POLICYQA_PRECISION: unknown precision 'fp8'; choose one of auto, f32, bf16"),
        ({RERANK_ENV: "always"}, r"\$POLICYQA_RERANK: unknown rerank setting 'always'; choose one of auto, on, off"),
        ({LLM_URL_ENV: "http://x/v1", LLM_TIMEOUT_ENV: "soon"}, "POLICYQA_LLM_TIMEOUT must be a number of seconds"),
        ({LLM_URL_ENV: "ftp://x"}, "must start with http:// or https://"),
    ],
)
def test_a_bad_variable_is_a_clear_error(environment: dict[str, str], message: str) -> None:
    with pytest.raises(PolicyQAError, match=message):
        Settings.from_env(environment)


def test_a_bad_value_in_code_is_a_clear_error() -> None:
    with pytest.raises(PolicyQAError, match="unknown embedding backend 'jax'; choose one of torch, openvino"):
        Settings(backend="jax")  # type: ignore[arg-type]
    with pytest.raises(PolicyQAError, match="unknown sentence vectors setting 'both'"):
        Settings(sentence_vectors="both")  # type: ignore[arg-type]


def test_secrets_never_show_in_a_repr() -> None:
    settings = Settings.from_env({**FULL_ENVIRONMENT, "MILVUS_USER": "ann", "MILVUS_PASSWORD": "pw-456"})
    shown = repr(settings)
    assert "s3cret" not in shown and "pw-456" not in shown and "k-123" not in shown
    assert "StoreCredentials(token=***, user=***, password=***)" in shown and "gemma" in shown
    assert repr(StoreCredentials()) == "StoreCredentials()"


def test_json_round_trip_for_a_child_process(tmp_path: Path) -> None:
    settings = Settings.from_env(FULL_ENVIRONMENT).with_arguments(
        chunking=ChunkSettings(chunk_tokens=48, overlap_tokens=8, passage_chars=0), sentence_vectors="separate"
    )
    assert Settings.from_json(settings.to_json()) == settings
    assert Settings.from_json(Settings().to_json()) == Settings()
    assert json.loads(settings.to_json())["milvus"]["token"] == "ann:s3cret"  # the child needs the login itself


# --- nothing below the entry points reads the environment --------------------------------------------------------


def environment_reads(source: str) -> list[str]:
    """Where `source` reads the environment, as "line: code". Not counted: handing a copy of it to a child process
    (`dict(os.environ, …)`) and setting a third-party library's default (`os.environ.setdefault("HF_HUB_OFFLINE",
    …)`); a default for one of policyqa's own variables is a read in disguise and counts."""
    tree = ast.parse(source)
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            named = [a.name for a in node.names if a.name in ("environ", "environb", "getenv", "getenvb")]
            found += [f"{node.lineno}: from os import {name}" for name in named]
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"):
            continue
        reads = node.attr in ("getenv", "getenvb", "environb") or (
            node.attr == "environ" and not _passed_on(node, parents)
        )
        if reads:
            found.append(f"{node.lineno}: {ast.unparse(parents[id(node)])}")
    return found


def _passed_on(environ: ast.Attribute, parents: dict[int, ast.AST]) -> bool:
    parent = parents[id(environ)]
    if isinstance(parent, ast.Call) and ast.unparse(parent.func) == "dict" and parent.args[:1] == [environ]:
        return True  # a copy for a child process
    call = parents.get(id(parent))
    if isinstance(parent, ast.Attribute) and parent.attr == "setdefault" and isinstance(call, ast.Call):
        key = call.args[0] if call.args else None
        return isinstance(key, ast.Constant) and not str(key.value).startswith(SETTING_PREFIXES)
    return False


def modules_below_the_entry_points() -> dict[str, Path]:
    roots = {"policyqa": REPO / "src" / "policyqa", "policyqa_app": REPO / "app"}
    modules = {}
    for package, root in roots.items():
        for path in sorted(root.rglob("*.py")):
            parts = (package, *path.relative_to(root).with_suffix("").parts)
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            if name not in ENTRY_POINTS:
                modules[name] = path
    return modules


def test_nothing_below_the_entry_points_reads_the_environment() -> None:
    modules = modules_below_the_entry_points()
    assert "policyqa.embed.embedder" in modules and "policyqa.api" in modules and "policyqa_app.state" in modules
    found = {name: reads for name, path in modules.items() if (reads := environment_reads(path.read_text("utf-8")))}
    assert not found, f"read the environment below the entry points (build a Settings there instead): {found}"


def test_the_scan_finds_every_way_of_reading_the_environment() -> None:
    """The scan on made-up code: each read is found, the two allowed uses are not."""
    made_up = "\n".join(
        [
            "import os",  # 1
            "from os import environ, getenv",  # 2: two reads
            'model = os.environ.get("POLICYQA_MODEL")',  # 3
            'backend = os.environ["POLICYQA_BACKEND"]',  # 4
            'key = os.getenv("POLICYQA_LLM_API_KEY")',  # 5
            'os.environ.setdefault("POLICYQA_RERANK", "auto")',  # 6: a read in disguise
            'os.environ.setdefault("HF_HUB_OFFLINE", "1")',  # 7: a third-party default, allowed
            'child = dict(os.environ, OMP_THREAD_LIMIT="1")',  # 8: passed on to a child, allowed
            "everything = {**os.environ}",  # 9
        ]
    )
    lines = sorted(int(found.split(":")[0]) for found in environment_reads(made_up))
    assert lines == [2, 2, 3, 4, 5, 6, 9]
