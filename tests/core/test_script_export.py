"""The exported train.py is clean, runs on its own, reproduces the app's run, and scales out
under torchrun with every rank holding the same weights."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch

from designer.core.examples import example_path, list_examples
from designer.core.project_io import load_project
from designer.core.training.engine import prepare, train
from designer.core.training.events import EpochEnd
from designer.core.training.script import training_script
from designer.core.weights import load_weights
from tests.core.helpers import example as example_with_data

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def example(name: str, **settings):
    return example_with_data(name, {}, **settings)


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
        # The log line shows every metric the app gets, to the 6 digits it prints.
        assert set(row) == {"epoch", "seconds", *event.metrics}
        for name, value in event.metrics.items():
            assert row[name] == pytest.approx(value, rel=1e-5), name
    # Same data, same init, same batches: the very same weights.
    fresh, _, _ = prepare(project)
    load_weights(fresh, tmp_path / "w.safetensors")
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, model.state_dict()[key]), key


def script_module(project) -> types.ModuleType:
    """The exported train.py, executed as a module in this process (its own data loading)."""
    module = types.ModuleType(f"train_{project.name}")
    exec(compile(training_script(project), "train.py", "exec"), module.__dict__)  # noqa: S102
    return module


@pytest.fixture
def threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)  # a script's fit() sets it for its process


SIDE_BY_SIDE = [
    *[pytest.param(name, {}, {"epochs": 2}, id=name) for name, _, _ in list_examples()],
    pytest.param(
        "iris_mlp",
        {"val_fraction": 0.25},
        {"epochs": 40, "lr": 0.05, "scheduler": "plateau", "early_stopping": 6},
        id="iris_mlp-val-plateau-early-stop",
    ),
    pytest.param("spiral_mlp", {}, {"epochs": 3, "scheduler": "onecycle"}, id="spiral-onecycle"),
]


@pytest.mark.parametrize("name,data,settings", SIDE_BY_SIDE)
def test_engine_and_script_give_identical_metrics_per_epoch(name, data, settings, threads):
    project = example_with_data(name, data, **settings)
    model, _, dataset = prepare(project)
    events = list(train(model, dataset, project.training))
    finished = events[-1]
    app = [e.metrics for e in events if isinstance(e, EpochEnd)]

    lines: list[str] = []
    script = script_module(project)
    trained, history = script.fit(
        project.training.epochs, torch.device("cpu"), data_dir=example_path(name).parent,
        log=lines.append,
    )  # fmt: skip
    assert history == app  # every metric of every epoch, bit for bit
    assert len(history) == finished.epochs_run
    assert [line.split("  ")[0] for line in lines if line.startswith("epoch")] == [
        f"epoch {n}" for n in range(1, len(app) + 1)
    ]
    if settings.get("early_stopping"):
        assert finished.stopped_early and len(app) < settings["epochs"]
        assert "val_loss" in app[0] and any("early stopping" in line for line in lines)
        lrs = [m["lr"] for m in app]
        assert lrs[-1] < lrs[0]  # the plateau scheduler stepped on the validation loss
    for key, value in trained.state_dict().items():  # the same (best) weights
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
