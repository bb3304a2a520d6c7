"""The package shows the pipeline: imports run down the stages (function-level imports counted), no module imports
itself back through any chain, and nothing above the store seam touches a store's engine.

Stages, lowest first: errors → ingest → embed → index (the store seam and its stores) → settings (the one value a
run is configured with) → build (build and keep an index) → search → answer → api (the facade, and
`policyqa/__init__.py`) → the interfaces (cli, mcp_server, mcp_models, integrations, and app/ installed as
policyqa_app). A module may import its own stage and the ones below.

Counted: every `import` and `from … import` anywhere in a module (top level, inside functions and classes), except
those under `if TYPE_CHECKING:`, which never run. Not counted: a package's `__init__` that Python runs before one of
its submodules (every module would otherwise depend on `policyqa/__init__.py` and so on the facade).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "src" / "policyqa"
APP = REPO / "app"
ENGINES = ("faiss", "sqlite3", "bm25s", "pymilvus", "policyqa.index.faiss_sqlite", "policyqa.index.milvus")
ABOVE_THE_SEAM = ["build", "search", "answer", "api.py"]
STAGES = ["errors", "ingest", "embed", "index", "settings", "build", "search", "answer", "api", "interfaces"]
INTERFACES = {"cli", "mcp_server", "mcp_models", "integrations"}
# The one door between the web app and the library: the public names of `policyqa` and its errors. The app may also
# use the interfaces beside it (they are not below the facade): it mounts the MCP server and shares the CLI's flags.
APP_MAY_IMPORT = {"policyqa", "policyqa.errors", *(f"policyqa.{name}" for name in INTERFACES)}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the module imported (the longest known module the statement names)
    line: int


def module_name(path: Path, root: Path, package: str) -> str:
    parts = (package, *path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def collect_modules(roots: dict[str, Path]) -> dict[str, Path]:
    """Every module of each package: {"policyqa.index.store": path, …}."""
    return {module_name(p, root, package): p for package, root in roots.items() for p in sorted(root.rglob("*.py"))}


def type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of the nodes under `if TYPE_CHECKING:` (imports for annotations only; they never run)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            skipped |= {id(inner) for statement in node.body for inner in ast.walk(statement)}
    return skipped


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """The imports of one module that name modules in `modules`, wherever they stand in the file."""

    def known(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    tree = ast.parse(path.read_text("utf-8"))
    skipped = type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        targets: list[str | None] = []
        if isinstance(node, ast.Import):
            targets = [known(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            # `from policyqa import errors` imports the module policyqa.errors; `from policyqa import X` the package
            named = [f"{base}.{alias.name}" for alias in node.names]
            targets = [dotted if dotted in modules else known(base) for dotted in named]
        found += [Import(name, t, node.lineno) for t in targets if t is not None and t != name]
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, list[Import]]:
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, list[Import]]) -> list[list[str]]:
    """One cycle per group of modules that import each other (strongly connected components of two or more)."""
    edges = {name: sorted({i.target for i in found if i.target in graph}) for name, found in graph.items()}
    order, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(name: str) -> None:
        order[name] = low[name] = len(order)
        stack.append(name)
        on_stack.add(name)
        for target in edges[name]:
            if target not in order:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in on_stack:
                low[name] = min(low[name], order[target])
        if low[name] == order[name]:
            group = set()
            while (member := stack.pop()) != name:
                group.add(member)
                on_stack.discard(member)
            on_stack.discard(name)
            if group:
                groups.append(group | {name})

    for name in sorted(edges):
        if name not in order:
            visit(name)
    return [cycle_through(sorted(group)[0], group, edges) for group in groups]


def cycle_through(start: str, group: set[str], edges: dict[str, list[str]]) -> list[str]:
    """A shortest path from `start` back to itself inside its group (breadth first), as module names."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        name = queue.pop(0)
        for target in edges[name]:
            if target == start:
                return [*paths[name], start]
            if target in group and target not in paths:
                paths[target] = [*paths[name], target]
                queue.append(target)
    raise AssertionError(f"no cycle through {start}")


def stage_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "policyqa_app":
        return "interfaces"
    if len(parts) == 1:
        return "api"  # policyqa/__init__.py: the facade's names
    top = parts[1]
    return "interfaces" if top in INTERFACES else top


def upward_imports(graph: dict[str, list[Import]]) -> list[str]:
    found = []
    for name, imports in sorted(graph.items()):
        for i in imports:
            if STAGES.index(stage_of(i.target)) > STAGES.index(stage_of(name)):
                found.append(f"{name}:{i.line} imports {i.target} ({stage_of(name)} → {stage_of(i.target)})")
    return found


def app_imports_below_the_facade(graph: dict[str, list[Import]]) -> list[str]:
    """Imports of the web app (policyqa_app) that name a library module other than those in APP_MAY_IMPORT."""
    return [
        f"{name}:{i.line} imports {i.target}"
        for name, imports in sorted(graph.items())
        if name.split(".")[0] == "policyqa_app"
        for i in imports
        if i.target.split(".")[0] == "policyqa" and i.target not in APP_MAY_IMPORT
    ]


@pytest.fixture(scope="module")
def graph() -> dict[str, list[Import]]:
    return import_graph(collect_modules({"policyqa": PACKAGE, "policyqa_app": APP}))


def test_every_module_belongs_to_a_stage(graph: dict[str, list[Import]]) -> None:
    unknown = sorted(name for name in graph if stage_of(name) not in STAGES)
    assert not unknown, f"modules outside every stage (add their package to STAGES or INTERFACES): {unknown}"


def test_no_import_cycle_between_modules(graph: dict[str, list[Import]]) -> None:
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" → ".join(cycle) for cycle in found)


def test_imports_run_down_the_stages(graph: dict[str, list[Import]]) -> None:
    found = upward_imports(graph)
    assert not found, "imports running up the stages:\n" + "\n".join(found)


def test_nothing_above_the_store_seam_imports_a_store_engine() -> None:
    offenders = []
    for entry in ABOVE_THE_SEAM:
        target = PACKAGE / entry
        for path in [target] if target.is_file() else sorted(target.rglob("*.py")):
            tree = ast.parse(path.read_text("utf-8"))
            named = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            named |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and not n.level}
            bad = sorted(m for m in named if m.startswith(ENGINES))
            if bad:
                offenders.append(f"{path.relative_to(PACKAGE)}: {', '.join(bad)}")
    assert not offenders, offenders


def test_the_app_uses_only_the_facade(graph: dict[str, list[Import]]) -> None:
    found = app_imports_below_the_facade(graph)
    assert not found, "the web app imports below the facade (add the name to policyqa/__init__.py):\n" + "\n".join(
        found
    )


def test_the_cli_and_the_mcp_server_use_only_the_facade(graph: dict[str, list[Import]]) -> None:
    """As the web app: `policyqa`, its errors and the interfaces beside them (the CLI starts the MCP server)."""
    interfaces = [n for n in graph if n == "policyqa.mcp_server" or n.split(".")[:2] == ["policyqa", "cli"]]
    assert {"policyqa.cli", "policyqa.cli.commands", "policyqa.cli.parser"} <= set(interfaces)
    found = [
        f"{name}:{i.line} imports {i.target}"
        for name in interfaces
        for i in graph[name]
        if i.target.split(".")[0] == "policyqa"
        and i.target not in APP_MAY_IMPORT
        and i.target.split(".")[:2] != name.split(".")[:2]  # the modules of its own package (cli: parser, commands)
    ]
    assert not found, "imports below the facade (add the name to policyqa/__init__.py):\n" + "\n".join(found)


def test_the_app_check_counts_imports_inside_functions(tmp_path: Path) -> None:
    """The check above on a made-up library and app: it can fail, imports inside functions included."""
    root, app = tmp_path / "policyqa", tmp_path / "app"
    files = {
        root / "__init__.py": "from policyqa.search.retrieval import Hit\n",
        root / "errors.py": "",
        root / "search" / "__init__.py": "",
        root / "search" / "retrieval.py": "Hit = object\n",
        app / "__init__.py": "",
        app / "ui.py": (
            "from typing import TYPE_CHECKING\nfrom policyqa import Hit\nfrom policyqa.errors import QueryError\n"
            "if TYPE_CHECKING:\n    from policyqa.search import retrieval\n"
            "def search():\n    from policyqa.search.retrieval import Hit\n"
        ),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    made_up = import_graph(collect_modules({"policyqa": root, "policyqa_app": app}))
    assert app_imports_below_the_facade(made_up) == ["policyqa_app.ui:7 imports policyqa.search.retrieval"]


def test_the_checks_find_a_lazy_cycle_and_an_upward_import(tmp_path: Path) -> None:
    """The checks above on a small made-up package: they can fail, function-level imports included."""
    root = tmp_path / "policyqa"
    files = {
        "__init__.py": "from policyqa.api import open_index\n",
        "api.py": "def open_index():\n    return None\n",
        "index/__init__.py": "",
        "index/store.py": "def open_store():\n    from policyqa.index.other import Other\n",
        "index/other.py": "from policyqa.index.store import open_store\n",
        "search/__init__.py": "",
        "search/rerank.py": "",
        "build/__init__.py": "",
        "build/status.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from policyqa.answer import x\n"
            "def second_stage():\n    from policyqa.search import rerank\n"
        ),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    made_up = import_graph(collect_modules({"policyqa": root}))
    assert cycles(made_up) == [["policyqa.index.other", "policyqa.index.store", "policyqa.index.other"]]
    assert upward_imports(made_up) == [
        "policyqa.build.status:5 imports policyqa.search.rerank (build → search)"  # the TYPE_CHECKING one is not
    ]
