"""The exported train.py is clean, runs on its own, reproduces the app's run, and scales out
under torchrun with every rank holding the same weights."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from designer.core.examples import example_path
from designer.core.project_io import load_project
from designer.core.training.engine import prepare, train
from designer.core.training.events import EpochEnd
from designer.core.training.script import training_script
from designer.core.weights import load_weights

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def example(name: str, **settings):
    project = load_project(example_path(name))
    project.training = dataclasses.replace(project.training, **settings)
    return project


def write_script(tmp_path, project) -> Path:
    path = tmp_path / "train.py"
    path.write_text(training_script(project), encoding="utf-8")
    return path


def python(*args, cwd, env=None, timeout=180):
    # The script must stand alone: run it outside the repository, without designer importable.
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | (env or {})
    done = subprocess.run(
        [*args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize("name", ["iris_mlp", "digits_cnn", "residual_net", "lstm_sequence"])
def test_script_is_ruff_clean(tmp_path, name):
    path = write_script(tmp_path, load_project(example_path(name)))
    ruff = str(BIN / "ruff")
    config = ["--config", str(ROOT / "pyproject.toml")]
    for cmd in (
        [ruff, "check", *config, str(path)],
        [ruff, "format", "--check", *config, str(path)],
        [ruff, "format", "--check", "--isolated", str(path)],  # ruff's defaults (88 columns)
    ):
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_script_reproduces_the_apps_run_exactly(tmp_path):
    project = example("iris_mlp", epochs=3)
    script = write_script(tmp_path, project)
    out = python(sys.executable, str(script), "--save", "w.safetensors", cwd=tmp_path)
    logged = [
        {k: float(v) for k, v in re.findall(r"(\w+) (\S+)", line)}
        for line in out.splitlines()
        if line.startswith("epoch ")
    ]
    assert [row["epoch"] for row in logged] == [1, 2, 3]
    assert logged[-1]["train_loss"] < logged[0]["train_loss"]  # it trains

    model, _, data = prepare(project)
    app = [e for e in train(model, data, project.training) if isinstance(e, EpochEnd)]
    for row, event in zip(logged, app, strict=True):
        assert row["train_loss"] == pytest.approx(event.train_loss, rel=1e-5)
        assert row["test_loss"] == pytest.approx(event.test_loss, rel=1e-5)
        assert row["test_accuracy"] == pytest.approx(event.test_accuracy, rel=1e-5)
    # Same data, same init, same batches: the very same weights.
    fresh, _, _ = prepare(project)
    load_weights(fresh, tmp_path / "w.safetensors")
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, model.state_dict()[key]), key


def test_torchrun_two_processes_keep_identical_weights(tmp_path):
    project = example("iris_mlp", epochs=1)
    script = write_script(tmp_path, project)
    out = python(
        str(BIN / "torchrun"),
        "--standalone",
        "--nproc-per-node=2",
        str(script),
        "--digest",
        "--no-save",
        cwd=tmp_path,
        env={"OMP_NUM_THREADS": "1"},
    )
    digests = dict(re.findall(r"rank (\d) digest ([0-9a-f]{64})", out))
    assert set(digests) == {"0", "1"}
    # Each rank trained on its own half of every epoch; DDP averaged the gradients.
    assert digests["0"] == digests["1"]
    assert "x2" in out and out.count("epoch 1 ") == 1  # only rank 0 logs

    alone = python(sys.executable, str(script), "--digest", "--no-save", cwd=tmp_path)
    assert re.search(r"rank 0 digest ([0-9a-f]{64})", alone)[1] != digests["0"]
