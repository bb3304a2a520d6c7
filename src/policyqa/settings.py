"""Every setting of a run in one value, built once where a program starts and passed down.

`Settings.from_env(os.environ, **flags)` is the only place that knows the names of the variables behind them; the
entry points (the `policyqa` command, `python -m policyqa_app`, `policyqa mcp`) call it, and everything below them
takes the value it returns (or `Settings()`, the defaults). Nothing under `policyqa` reads the environment itself
(tests/test_settings.py checks it), so a call shows what will run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, get_args

from policyqa.embed.embedder import BACKENDS, Backend, Embedder
from policyqa.embed.late_chunking import DEFAULT_SENTENCE_VECTORS, SENTENCE_VECTORS, SentenceVectors
from policyqa.embed.model_cache import default_cache_dir
from policyqa.embed.openvino_backend import PRECISIONS, Precision
from policyqa.errors import PolicyQAError
from policyqa.index.credentials import StoreCredentials
from policyqa.ingest.chunking import ChunkSettings

RerankSetting = Literal["auto", "on", "off"]
RERANK_SETTINGS: tuple[str, ...] = get_args(RerankSetting)
DEFAULT_RERANK: RerankSetting = "off"  # see BENCHMARKS.md, "Second stage"
DEFAULT_STORE = "index"
DEFAULT_LLM_TIMEOUT = 60.0

# The environment variables, by what they set. Secrets (the Milvus login, the LLM key) come from here only.
STORE_ENV = "POLICYQA_STORE"
MODEL_ENV = "POLICYQA_MODEL"
BACKEND_ENV = "POLICYQA_BACKEND"
PRECISION_ENV = "POLICYQA_PRECISION"
RERANK_ENV = "POLICYQA_RERANK"
CACHE_ENV = "POLICYQA_CACHE"
MILVUS_TOKEN_ENV, MILVUS_USER_ENV, MILVUS_PASSWORD_ENV = "MILVUS_TOKEN", "MILVUS_USER", "MILVUS_PASSWORD"
LLM_URL_ENV = "POLICYQA_LLM_URL"
LLM_MODEL_ENV = "POLICYQA_LLM_MODEL"
LLM_KEY_ENV = "POLICYQA_LLM_API_KEY"
LLM_TIMEOUT_ENV = "POLICYQA_LLM_TIMEOUT"


@dataclass(frozen=True)
class LLMSettings:
    """An OpenAI-compatible chat endpoint for generated answers (policyqa.answer.generate)."""

    url: str  # the API base, e.g. http://127.0.0.1:8080/v1 (…/chat/completions is added)
    model: str = "default"
    timeout: float = DEFAULT_LLM_TIMEOUT  # seconds for the whole reply
    max_tokens: int = 200
    api_key: str | None = None  # from POLICYQA_LLM_API_KEY only, never from the command line

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise PolicyQAError(f"the language model URL must start with http:// or https://, got '{self.url}'")
        if not self.timeout > 0:
            raise PolicyQAError(f"the language model timeout must be more than 0 seconds, got {self.timeout}")

    @property
    def endpoint(self) -> str:
        base = self.url.rstrip("/")
        return base if base.endswith("/chat/completions") else base + "/chat/completions"

    def __repr__(self) -> str:  # never print the key
        return f"LLMSettings(url={self.url!r}, model={self.model!r}, timeout={self.timeout})"


@dataclass(frozen=True)
class Settings:
    """What a build, a search or a server runs with.

    `store`: an index folder, `milvus:///path/file.db` or `http(s)://host:19530` (its login in `milvus`).
    `model`: a sentence-transformers folder, "mpnet", or None for the bundled all-MiniLM-L6-v2. `backend` and
    `precision`: None follows what the index was built with (else openvino, auto); another choice than the index's
    makes a build re-embed everything. `rerank`: the second stage by default ("auto": when installed).
    `chunking` and `sentence_vectors`: how a build splits documents and embeds sentences (no flag or variable sets
    them; the Python API does). `llm`: generated answers, off when None. `cache_dir`: derived model files (the
    unpacked mpnet, OpenVINO exports)."""

    store: str = DEFAULT_STORE
    model: str | None = None
    backend: Backend | None = None
    precision: Precision | None = None
    rerank: RerankSetting = DEFAULT_RERANK
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    sentence_vectors: SentenceVectors = DEFAULT_SENTENCE_VECTORS
    milvus: StoreCredentials = field(default_factory=StoreCredentials)
    llm: LLMSettings | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)

    def __post_init__(self) -> None:
        _one_of("embedding backend", self.backend, BACKENDS, optional=True)
        _one_of("precision", self.precision, PRECISIONS, optional=True)
        _one_of("rerank setting", self.rerank, RERANK_SETTINGS)
        _one_of("sentence vectors setting", self.sentence_vectors, SENTENCE_VECTORS)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str],
        *,
        store: str | Path | None = None,
        model: str | Path | None = None,
        backend: str | None = None,
        precision: str | None = None,
        rerank: str | None = None,
        llm_url: str | None = None,
        llm_model: str | None = None,
        llm_timeout: float | None = None,
    ) -> Settings:
        """The settings named by `environ` (an empty value counts as unset), each flag given (not None) winning
        over its variable. A value no setting takes is a PolicyQAError naming the variable or flag."""
        read = {name: value for name, value in environ.items() if value}
        chosen: dict[str, Any] = {
            "store": str(store) if store else read.get(STORE_ENV, DEFAULT_STORE),
            "model": str(model) if model else read.get(MODEL_ENV),
            "backend": backend or _checked(read, BACKEND_ENV, "embedding backend", BACKENDS),
            "precision": precision or _checked(read, PRECISION_ENV, "precision", PRECISIONS),
            "rerank": rerank or _checked(read, RERANK_ENV, "rerank setting", RERANK_SETTINGS) or DEFAULT_RERANK,
            "milvus": StoreCredentials(
                read.get(MILVUS_TOKEN_ENV), read.get(MILVUS_USER_ENV), read.get(MILVUS_PASSWORD_ENV)
            ),
            "llm": _llm(read, llm_url, llm_model, llm_timeout),
        }
        if CACHE_ENV in read:
            chosen["cache_dir"] = Path(read[CACHE_ENV]).expanduser()
        return cls(**chosen)

    def with_arguments(self, **given: Any) -> Settings:
        """A copy with each argument given (not None) in place of the setting of its name: what a function's own
        keyword arguments (`open_index(model=…)`) or a command's flags do to the settings it was handed."""
        chosen: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
        for name in ("store", "model"):  # a folder given as a Path is kept as its text
            if isinstance(chosen.get(name), Path):
                chosen[name] = str(chosen[name])
        return replace(self, **chosen)

    def embedder(self, manifest: dict[str, Any] | None, *, queries_only: bool = False) -> Embedder:
        """The embedder these settings name, for an index whose manifest is `manifest` (None: no index yet): its
        backend and precision where these leave them open (None)."""
        return Embedder.for_index(
            manifest,
            self.model,
            backend=self.backend,
            precision=self.precision,
            queries_only=queries_only,
            cache_dir=self.cache_dir,
        )

    def to_json(self) -> str:
        """Everything, secrets included: for a child process's stdin (never its command line or a file)."""
        data = asdict(self)
        data["cache_dir"] = str(self.cache_dir)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        llm = data.pop("llm")
        return cls(
            **{
                **data,
                "chunking": ChunkSettings(**data["chunking"]),
                "milvus": StoreCredentials(**data["milvus"]),
                "llm": LLMSettings(**llm) if llm else None,
                "cache_dir": Path(data["cache_dir"]),
            }
        )


def _one_of(what: str, value: str | None, allowed: tuple[str, ...], optional: bool = False, source: str = "") -> None:
    """`source`: where the value came from, named first in the error ("$POLICYQA_BACKEND: ")."""
    if (value is None and optional) or value in allowed:
        return
    raise PolicyQAError(f"{source}unknown {what} {value!r}; choose one of {', '.join(allowed)}")


def _checked(read: Mapping[str, str], name: str, what: str, allowed: tuple[str, ...]) -> Any:
    value = read.get(name)
    _one_of(what, value, allowed, optional=True, source=f"${name}: ")
    return value


def _llm(
    read: Mapping[str, str], url: str | None, model: str | None, timeout: float | None
) -> LLMSettings | None:
    """Flags win over POLICYQA_LLM_URL / _MODEL / _TIMEOUT; the key only from POLICYQA_LLM_API_KEY. None (generated
    answers off) when no URL is configured."""
    url = url or read.get(LLM_URL_ENV)
    if not url:
        return None
    raw_timeout: Any = timeout if timeout is not None else read.get(LLM_TIMEOUT_ENV, DEFAULT_LLM_TIMEOUT)
    try:
        seconds = float(raw_timeout)
    except ValueError:
        raise PolicyQAError(f"{LLM_TIMEOUT_ENV} must be a number of seconds, got '{raw_timeout}'") from None
    return LLMSettings(url, model or read.get(LLM_MODEL_ENV) or "default", seconds, api_key=read.get(LLM_KEY_ENV))
