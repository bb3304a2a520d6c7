"""No pickle anywhere: loading an index or a model must never run code stored in a file.

The shipped trees (src/, app/) are parsed, not grepped blindly: imports of pickle-family modules, calls that
unpickle (torch.load, pickle.loads, pandas.read_pickle, joblib.load …), any `allow_pickle=True`, and numpy or
bm25s load/save calls that do not say `allow_pickle=False` are all reported. A self-test proves each rule fires.
"""

from __future__ import annotations

import ast
import re

from policyqa.embed.embedder import bundled_model_dir
from tests.conftest import REPO

TREES = [REPO / "src", REPO / "app"]
PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "joblib", "dill", "cloudpickle", "shelve", "marshal"}
UNPICKLING_CALLS = re.compile(r"^(torch\.load|torch\.serialization\.load|pd\.read_pickle|pandas\.read_pickle)$")
MUST_SAY_NO_PICKLE = re.compile(r"^(np|numpy)\.(load|save|savez|savez_compressed)$|BM25\.load$|retriever\.save$")


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return dotted(node.func) + "()"
    return "?"


def pickle_uses(source: str, filename: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where} imports {a.name}" for a in node.names if a.name.split(".")[0] in PICKLE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PICKLE_MODULES:
            found.append(f"{where} imports from {node.module}")
        elif isinstance(node, ast.Call):
            name = dotted(node.func)
            keywords = {k.arg: k.value for k in node.keywords}
            flag = keywords.get("allow_pickle")
            says_no = isinstance(flag, ast.Constant) and flag.value is False
            if UNPICKLING_CALLS.match(name) or name.split(".")[0] in PICKLE_MODULES:
                found.append(f"{where} calls {name}")
            elif "allow_pickle" in keywords and not says_no:
                found.append(f"{where} calls {name} with allow_pickle not False")
            elif MUST_SAY_NO_PICKLE.search(name) and not says_no:
                found.append(f"{where} calls {name} without allow_pickle=False")
    return found


def test_no_pickle_in_shipped_code() -> None:
    files = [path for tree in TREES for path in sorted(tree.rglob("*.py"))]
    assert len(files) >= 10 and any(p.name == "sparse.py" for p in files), "the trees were not found"
    found = [use for path in files for use in pickle_uses(path.read_text(encoding="utf-8"), str(path))]
    assert found == []


def test_bundled_model_has_safetensors_weights_only() -> None:
    files = [p.name for p in bundled_model_dir().rglob("*") if p.is_file()]
    assert "model.safetensors" in files
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib"))]


def test_the_checker_catches_each_kind_of_pickle_use() -> None:
    bad = {
        "import pickle": "imports pickle",
        "import joblib as jl": "imports joblib",
        "from dill import loads": "imports from dill",
        "torch.load(path)": "calls torch.load",
        "pickle.loads(data)": "calls pickle.loads",
        "pd.read_pickle(path)": "calls pd.read_pickle",
        "np.load(path)": "without allow_pickle=False",
        "np.load(path, allow_pickle=True)": "allow_pickle not False",
        "numpy.load(path, allow_pickle=flag)": "allow_pickle not False",
        "bm25s.BM25.load(folder, mmap=True)": "without allow_pickle=False",
        "anything(x, allow_pickle=True)": "allow_pickle not False",
    }
    for source, message in bad.items():
        found = pickle_uses(source, "sample.py")
        assert len(found) == 1 and message in found[0], (source, found)
    good = "np.load(p, allow_pickle=False)\nbm25s.BM25.load(f, mmap=True, allow_pickle=False)\nimport json"
    assert pickle_uses(good, "sample.py") == []
