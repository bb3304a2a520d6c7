"""The library's exception tree is drawn in one file, `policyqa/errors.py`, and every error there is a PolicyQAError
(which the CLI, REST, MCP and UI show as a plain message, never a traceback)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import policyqa.errors as errors
from tests.conftest import REPO

PACKAGE = REPO / "src" / "policyqa"


def exception_classes_outside(root: Path, home: Path) -> list[str]:
    """Classes whose base is named like an exception (…Error, …Exception), defined anywhere under `root` but `home`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path == home:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                ast.unparse(b).split(".")[-1].endswith(("Error", "Exception")) for b in node.bases
            ):
                found.append(f"{path.relative_to(root)}:{node.lineno} class {node.name}")
    return found


def test_no_module_but_errors_py_defines_an_exception() -> None:
    found = exception_classes_outside(PACKAGE, PACKAGE / "errors.py")
    assert not found, "define the exception in policyqa/errors.py and import it from there:\n" + "\n".join(found)


def test_the_check_finds_an_exception_defined_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "errors.py").write_text("class AError(Exception):\n    pass\n")
    (tmp_path / "sub").mkdir()
    elsewhere = "import policyqa.errors as e\n\nclass BError(e.PolicyQAError):\n    pass\n"
    (tmp_path / "sub" / "mod.py").write_text(elsewhere)
    assert exception_classes_outside(tmp_path, tmp_path / "errors.py") == ["sub/mod.py:3 class BError"]


def test_every_error_is_a_policyqa_error_with_a_docstring() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__]
    assert len(classes) >= 15
    for cls in classes:
        assert issubclass(cls, errors.PolicyQAError), cls
        assert cls.__doc__ and cls.__doc__.strip(), f"{cls.__name__} says nothing about when it is raised"


def test_errors_raised_elsewhere_are_the_ones_drawn_here() -> None:
    from policyqa.answer.generate import LLMError
    from policyqa.build.background_build import BuildFailedError
    from policyqa.index.faiss_sqlite.writer import IndexWriteError

    assert (LLMError, BuildFailedError, IndexWriteError) == (
        errors.LLMError,
        errors.BuildFailedError,
        errors.IndexWriteError,
    )
