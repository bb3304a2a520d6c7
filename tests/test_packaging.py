"""A built wheel (what `pip install .` installs) holds the library, its integrations and the web UI package."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO


def test_wheel_contains_the_ui_and_runs_from_a_plain_install(tmp_path: Path) -> None:
    source, out = tmp_path / "source", tmp_path / "dist"  # a copy, so the build leaves nothing in the work tree
    source.mkdir()
    shutil.copy(REPO / "pyproject.toml", source)
    shutil.copy(REPO / "README.md", source)
    for folder in ("src", "app"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    build = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-w", str(out)]
    subprocess.run([*build, "-q"], check=True, capture_output=True, timeout=600, cwd=tmp_path)
    (wheel,) = out.glob("policyqa-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = [f"policyqa/{p.relative_to(REPO / 'src/policyqa')}" for p in (REPO / "src/policyqa").rglob("*.py")]
    sources += [f"policyqa_app/{p.relative_to(REPO / 'app')}" for p in (REPO / "app").rglob("*.py")]
    sources += [f"policyqa_app/static/{p.name}" for p in (REPO / "app/static").iterdir()]  # stylesheet, scripts
    assert "policyqa_app/static/policyqa.css" in sources and "policyqa_app/static/chat.js" in sources
    assert "policyqa/index/faiss_sqlite/store.py" in sources and "policyqa_app/ui.py" in sources
    missing = sorted(set(sources) - names)  # every module of every sub-package, the UI's included
    assert not missing, missing
    assert not any(n.startswith(("tests/", "app/", "src/")) for n in names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "policyqa = policyqa.cli:main" in entry_points

    target = tmp_path / "installed"  # a non-editable install of the wheel; dependencies come from this venv
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=600)
    code = (
        "import policyqa, policyqa_app, policyqa_app.rest, policyqa.integrations;"
        "import policyqa.build.sync, policyqa.build.ray_ingest, policyqa.build.reuse, policyqa.build.status;"
        "import policyqa.build.doctor, policyqa.build.content_checks, policyqa.build.watch;"
        "import policyqa.build.background_build, policyqa.index.folders, policyqa.index.faiss_sqlite.store;"
        "import policyqa.index.milvus.store, policyqa.ingest.titles;"
        "print(policyqa.__file__); print(policyqa_app.__file__)"
    )
    env = {"PYTHONPATH": str(target), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    assert all(line.startswith(str(target)) for line in run.stdout.split()), run.stdout
    help_text = subprocess.run(
        [sys.executable, "-m", "policyqa.cli", "serve", "--help"], capture_output=True, text=True, env=env, timeout=300
    )
    assert "--llm-url" in help_text.stdout, help_text.stderr
