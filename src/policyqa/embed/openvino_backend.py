"""The OpenVINO backend (the default): the transformer exported once to OpenVINO IR (fp32), run without torch.

Precision is a recorded choice, not the CPU's: OpenVINO's CPU plugin computes in bf16 by itself on CPUs with native
bf16 (AVX512-BF16, AMX), so every compile sets INFERENCE_PRECISION_HINT explicitly ("f32" or "bf16", see
`resolve_precision`), and the index manifest records which one built it.

The `openvino` package alone is a dependency; `sentence-transformers[openvino]` is not used because it pulls
torchvision, which breaks torch here. The export needs torch once; it is cached under the cache folder's openvino/
(Settings.cache_dir: $POLICYQA_CACHE, else ~/.cache/policyqa), keyed by the model files and the OpenVINO version,
and written to a temporary folder that is renamed into place, so a crash mid-export leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import shutil
import tempfile
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from policyqa.embed.model_cache import create_once, default_cache_dir
from policyqa.embed.pooled import MeanPooledEncoder
from policyqa.errors import ModelNotFoundError, PolicyQAError

Precision = Literal["auto", "f32", "bf16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)

INSTALL_HINT = "pip install 'openvino>=2025.1' (a dependency of policyqa; the README set-up installs it)"


def available() -> bool:
    return importlib.util.find_spec("openvino") is not None


def require() -> Any:
    if not available():
        raise ModelNotFoundError(
            f"the OpenVINO backend needs the 'openvino' package; install it with {INSTALL_HINT}, "
            "or use --backend torch (an index built with openvino is then rebuilt)"
        )
    import openvino

    return openvino


@cache
def _core() -> Any:
    return require().Core()


def native_bf16() -> bool:
    """Whether OpenVINO's CPU plugin runs bf16 natively here (it lists BF16 among the CPU's capabilities)."""
    return "BF16" in _core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def check_precision(precision: str) -> Precision:
    if precision not in PRECISIONS:
        raise PolicyQAError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    return precision  # type: ignore[return-value]


def resolve_precision(requested: str) -> str:
    """The precision to compute in: "auto" → bf16 where the CPU runs it natively, else f32. An explicit bf16 on a
    CPU without it is refused: OpenVINO would silently compute in f32 and the manifest would record something that
    did not happen."""
    requested = check_precision(requested)
    if requested == "auto":
        return "bf16" if native_bf16() else "f32"
    if requested == "bf16" and not native_bf16():
        raise PolicyQAError("this CPU has no native bf16 (AVX512-BF16 or AMX); use --precision f32 or auto")
    return requested


def exported_model(model_dir: Path, load_transformer: Callable[[], Any], cache_dir: Path | None = None) -> Path:
    """The IR file of `model_dir`'s transformer, exporting it on first use into `cache_dir` (Settings.cache_dir; None:
    the default). `load_transformer` returns the torch module (sentence-transformers' auto_model); it is only called
    when no export is cached."""
    openvino = require()
    weights = model_dir / "model.safetensors"
    stat = weights.stat() if weights.is_file() else (model_dir / "config.json").stat()
    key = hashlib.sha256(f"{model_dir}|{stat.st_size}|{stat.st_mtime_ns}|{openvino.__version__}".encode()).hexdigest()
    folder = (cache_dir or default_cache_dir()) / "openvino" / key[:24]
    target = create_once(folder, "model.xml", lambda path: _export(openvino, load_transformer(), path))
    return target / "model.xml"


def _export(openvino: Any, transformer: Any, target: Path) -> None:
    import torch
    from transformers.utils import logging as transformers_logging

    example = torch.ones(2, 8, dtype=torch.long)
    transformer.eval()
    # Tracing makes the tracer warn about Python branches on shapes in transformers' masking code and transformers
    # log config notes; the exported graph is checked against torch on padded batches
    # (tests/test_openvino_encoder.py), so to a user this is noise.
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inputs = {"input_ids": example, "attention_mask": example, "token_type_ids": example * 0}
            accepted = inspect.signature(transformer.forward).parameters  # MPNet and others take no token types
            inputs = {name: value for name, value in inputs.items() if name in accepted}
            converted = openvino.convert_model(transformer, example_input=inputs)
    finally:
        transformers_logging.set_verbosity(verbosity)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{target.name}.tmp"))
    try:
        # fp32 weights: fp16 compression (the save default) moves vectors by ~2e-4.
        openvino.save_model(converted, str(tmp / "model.xml"), compress_to_fp16=False)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class OpenVinoEncoder(MeanPooledEncoder):
    """Mean-pooled sentence embeddings from the exported transformer on OpenVINO's CPU plugin."""

    def __init__(
        self,
        model_dir: Path,
        xml: Path,
        max_seq_length: int,
        dimension: int,
        precision: Literal["f32", "bf16"],
        batch_size: int = 32,
    ):
        super().__init__(model_dir, max_seq_length, dimension, batch_size=batch_size)
        self.precision = precision
        self.compiled = _core().compile_model(str(xml), "CPU", {"INFERENCE_PRECISION_HINT": precision})
        self.input_names = {name for port in self.compiled.inputs for name in port.get_names()}

    def hidden_states(self, ids: np.ndarray, type_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": type_ids}
        request = self.compiled.create_infer_request()  # one per call: the compiled model is shared by threads
        request.infer({name: value for name, value in feed.items() if name in self.input_names})
        return request.get_output_tensor(0).data.copy()
