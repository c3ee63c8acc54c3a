"""The embeddable pipeline gives exported scripts the app's exact arrays; preview contents."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from designer.core.data import DataError, load_dataset, pipeline_source, preview
from designer.core.data.pipeline import load_arrays
from designer.core.training.config import DataConfig

SPLITS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")

# Runs the pipeline text the way an exported train.py does: alone, with designer unimportable.
SCRIPT = """
import json, sys
import numpy as np
sys.modules["designer"] = None  # any import from designer now fails
source, configs, out = sys.stdin.read(), json.loads(sys.argv[1]), sys.argv[2]
namespace = {"__name__": "train"}
exec(compile(source, "pipeline", "exec"), namespace)
arrays = {}
for i, cfg in enumerate(configs):
    data = namespace["load_arrays"](**cfg)
    for key, value in data.items():
        if isinstance(value, np.ndarray):
            arrays[f"{i}_{key}"] = value
np.savez(out, **arrays)
"""


def write_csv(folder: Path) -> Path:
    rng = np.random.default_rng(3)
    lines = ["size,shape,weight,kind"]
    for i in range(60):
        lines.append(
            f"{rng.normal(3, 1):.3f},{'round square flat'.split()[i % 3]},"
            f"{rng.normal(10, 2):.3f},{'abc'[i % 3]}"
        )
    path = folder / "shapes.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_embedded_pipeline_gives_bit_identical_arrays(tmp_path):
    write_csv(tmp_path)
    configs = [
        DataConfig(name="iris", val_fraction=0.1, split_seed=4),
        DataConfig(name="spirals", options={"n": 300, "noise": 0.2}),
        DataConfig(source="csv", path="shapes.csv", target="kind", val_fraction=0.2),
    ]
    calls = [
        {
            "source": c.source,
            "name": c.name,
            "path": c.path,
            "target": c.target,
            "options": c.options,
            "test_fraction": c.test_fraction,
            "val_fraction": c.val_fraction,
            "split_seed": c.split_seed,
            "base_dir": str(tmp_path),
        }
        for c in configs
    ]
    out = tmp_path / "script.npz"
    subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(calls), str(out)],
        input=pipeline_source(),
        text=True,
        check=True,
        capture_output=True,
    )
    with np.load(out) as script:
        for i, cfg in enumerate(configs):
            ds = load_dataset(cfg, base_dir=tmp_path)
            for key in SPLITS:
                mine = getattr(ds, key)
                if mine is None:
                    assert f"{i}_{key}" not in script.files
                    continue
                theirs = script[f"{i}_{key}"]
                assert theirs.dtype == mine.dtype and theirs.shape == mine.shape
                assert theirs.tobytes() == mine.tobytes(), (cfg.name, key)


def test_pipeline_source_imports_only_stdlib_numpy_and_pillow():
    tree = ast.parse(pipeline_source())
    modules = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    modules |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    roots = {name.split(".")[0] for name in modules}
    assert "load_arrays" in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert roots - set(sys.stdlib_module_names) == {"numpy", "PIL"}
    assert not {"__future__", "pickle"} & roots


def test_pipeline_raises_plain_errors_and_load_dataset_wraps_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_arrays("csv", path="missing.csv", base_dir=tmp_path)
    with pytest.raises(DataError, match=str(tmp_path / "missing.csv")):
        load_dataset(DataConfig(source="csv", path="missing.csv"), base_dir=tmp_path)


def test_preview_of_a_table(tmp_path):
    write_csv(tmp_path)
    ds = load_dataset(
        DataConfig(source="csv", path="shapes.csv", target="kind", val_fraction=0.1),
        base_dir=tmp_path,
    )
    view = preview(ds, n=5)
    assert view.columns == ("size", "shape=flat", "shape=round", "shape=square", "weight", "target")
    assert len(view.rows) == 5 and all(len(row) == 6 for row in view.rows)
    assert view.rows[0][:5] == tuple(float(v) for v in ds.x_train[0])
    assert [row[-1] for row in view.rows] == [ds.class_names[c] for c in ds.y_train[:5]]
    assert view.shapes == {"train": (42, 5), "val": (6, 5), "test": (12, 5)}
    assert view.class_counts["test"] == {"a": 4, "b": 4, "c": 4}
    assert sum(view.class_counts["train"].values()) == 42
    assert view.samples == () and view.summary.startswith("shapes.csv · classification · 3 classes")


def test_preview_of_sequences_and_regression():
    waves = preview(load_dataset(DataConfig(name="waves")), n=3)
    assert waves.columns == () and len(waves.samples) == 3 and waves.samples[0].shape == (32, 1)
    assert set(waves.labels) <= {"slow", "medium", "fast"}
    coffee_ds = load_dataset(DataConfig(name="coffee"))
    coffee = preview(coffee_ds, n=4)
    assert coffee.class_counts == {} and coffee.columns == ("hour", "target")
    assert coffee.labels[0] == f"{float(coffee_ds.y_train[0, 0]):.4g}"
