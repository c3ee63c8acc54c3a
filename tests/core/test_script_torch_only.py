"""README's promise: an exported train.py needs only torch and numpy. Each example's script runs
in a virtual environment that holds torch (with what torch itself requires) and numpy, and
nothing else: no scikit-learn, no safetensors, no Netcanvas.

NOTE: the environment is made without a network or an index: `python -m venv --without-pip`, then
the installed distributions of torch, numpy and torch's own requirements are linked into its
site-packages. That is exactly what `pip install torch numpy` would leave there, and it takes a
second. It is cached beside pytest's temp folders, keyed by the Python, torch and numpy versions.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from designer.core.examples import EXAMPLES
from designer.core.export import export_training_script
from designer.core.project import Project

KEEP = ("torch", "numpy")


def _requirements(name: str, seen: set[str]) -> None:
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        return
    seen.add(key)
    for req in metadata.requires(name) or []:
        if "extra ==" in req or "extra==" in req:
            continue
        if ";" in req:
            from packaging.markers import Marker

            if not Marker(req.split(";", 1)[1]).evaluate():
                continue
        _requirements(re.split(r"[\s<>=!~;\[(]", req, maxsplit=1)[0], seen)


def _link_distribution(name: str, site: Path) -> None:
    dist = metadata.distribution(name)
    tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
    base = Path(dist.locate_file(""))
    for top in tops:
        src, dst = base / top, site / top
        if src.exists() and not dst.exists() and not top.endswith(".pth"):
            dst.symlink_to(src)


@pytest.fixture(scope="session")
def torch_only_python(tmp_path_factory) -> Path:
    versions = "-".join(
        [f"py{sys.version_info[0]}{sys.version_info[1]}", *(metadata.version(n) for n in KEEP)]
    )
    root = tmp_path_factory.getbasetemp().parent / f"netcanvas-torch-only-{versions}"
    python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if python.exists():
        return python
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--clear", str(root)], check=True
    )
    purelib = sysconfig.get_path("purelib", vars={"base": str(root), "platbase": str(root)})
    site = Path(purelib)
    needed: set[str] = set()
    for name in KEEP:
        _requirements(name, needed)
    for name in sorted(needed):
        _link_distribution(name, site)
    return python


def test_the_environment_holds_torch_and_numpy_only(torch_only_python):
    probe = (
        "import importlib.util as u, torch, numpy;"
        "print([m for m in ('sklearn', 'safetensors', 'designer', 'PySide6', 'scipy')"
        " if u.find_spec(m)])"
    )
    out = subprocess.run(
        [str(torch_only_python), "-c", probe], capture_output=True, text=True, check=True,
        cwd="/", env={"PATH": os.environ.get("PATH", "")},
    )  # fmt: skip
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_every_example_script_runs_with_only_torch_and_numpy(example, torch_only_python, tmp_path):
    project: Project = example.build()
    script = export_training_script(project, tmp_path / "train.py").path
    env = {"PATH": os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [str(torch_only_python), str(script), "--epochs", "1", "--no-save"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "loss" in result.stdout.lower(), result.stdout


# ruff's defaults plus the rules its newest release flagged in exported scripts.
NEWER_RULES = "E4,E7,E9,F,BLE001,SIM905,RUF015,RUF100,TRY004,RUF046"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_exported_scripts_are_clean_under_ruffs_newer_rules(example, tmp_path):
    script = export_training_script(example.build(), tmp_path / "train.py").path
    ruff = Path(sys.executable).with_name("ruff")
    done = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", NEWER_RULES, str(script)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "name", ["path", "DistributedDataParallel", "np", "Loop", "main", "load_arrays", "Path"]
)
def test_no_project_name_shadows_a_name_of_the_script(name, tmp_path):
    import ast

    project = EXAMPLES[0].build()
    project.name = name
    script = export_training_script(project, tmp_path / "train.py").path
    bound: dict[str, int] = {}
    for node in ast.parse(script.read_text("utf-8")).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            names = [node.name]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [(a.asname or a.name).split(".")[0] for a in node.names]
        else:
            continue
        for n in names:
            bound[n] = bound.get(n, 0) + 1
    assert [n for n, count in bound.items() if count > 1] == []


def test_a_project_named_path_trains_from_its_script(torch_only_python, tmp_path):
    project = EXAMPLES[0].build()  # iris
    project.name = "path"  # before: `class Path` shadowed pathlib.Path (TypeError at start)
    script = export_training_script(project, tmp_path / "train.py").path
    result = subprocess.run(
        [str(torch_only_python), str(script), "--epochs", "1", "--no-save"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
