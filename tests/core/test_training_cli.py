"""`netcanvas train FILE` trains without the app and leaves metrics, summary and weights."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import shutil

import pytest
import torch

from designer.cli import main
from designer.core.examples import example_path
from designer.core.project_io import load_project, save_project
from designer.core.runs.store import runs_root
from designer.core.training.engine import prepare
from designer.core.training.run import train_to_dir
from designer.core.weights import load_weights


def copy_example(name, tmp_path):
    target = tmp_path / f"{name}.netcanvas"
    shutil.copyfile(example_path(name), target)
    return target


def accuracy(model, data) -> float:
    with torch.no_grad():
        pred = model(torch.from_numpy(data.x_test)).argmax(1)
    return (pred == torch.from_numpy(data.y_test)).float().mean().item()


def test_train_writes_metrics_summary_weights_and_the_project(tmp_path, capsys):
    project_file = copy_example("iris_mlp", tmp_path)
    out = tmp_path / "run"
    assert main(["train", str(project_file), "--epochs", "3", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "iris_mlp.netcanvas",
        "metrics.csv",
        "summary.json",
        "weights.safetensors",
    ]
    assert (out / "iris_mlp.netcanvas").read_bytes() == project_file.read_bytes()
    # The run's own folder holds the project once, as it was run (3 epochs, not the file's).
    (run_dir,) = [p.parent for p in runs_root(project_file).rglob("run.json")]
    assert sorted(p.name for p in run_dir.glob("*.netcanvas")) == ["project.netcanvas"]
    assert load_project(run_dir / "project.netcanvas").training.epochs == 3

    with (out / "metrics.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
        assert tuple(rows[0]) == (
            "epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "lr",
            "seconds",
        )  # fmt: skip
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert all(0 <= float(r["test_accuracy"]) <= 1 and float(r["seconds"]) > 0 for r in rows)
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])

    summary = json.loads((out / "summary.json").read_text())
    assert summary["device"] == "cpu" and summary["epochs"] == 3
    assert summary["samples_per_second"] > 0
    assert set(summary["final"]) == {
        "train_loss", "test_loss", "train_accuracy", "test_accuracy", "lr"
    }  # fmt: skip
    assert summary["final"]["test_loss"] == float(rows[-1]["test_loss"])
    assert 1 <= summary["best_epoch"] <= 3

    # The weights are the trained ones: loaded into a fresh model they score the same.
    model, _, data = prepare(load_project(project_file))
    load_weights(model, out / "weights.safetensors")
    assert accuracy(model, data) == pytest.approx(summary["final"]["test_accuracy"])
    assert "Trained iris_mlp: epochs 3" in capsys.readouterr().out


def test_regression_has_no_accuracy_columns(tmp_path):
    project = load_project(example_path("coffee_regression"))
    result = train_to_dir(project, tmp_path, epochs=2, progress=False)
    assert set(result) == {
        "epochs", "train_loss", "test_loss", "lr", "best_epoch", "samples_per_second",
        "diagnoses",
    }  # fmt: skip
    with (tmp_path / "metrics.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == ("epoch", "train_loss", "test_loss", "lr", "seconds")
    assert len(rows) == 2
    assert "test_accuracy" not in json.loads((tmp_path / "summary.json").read_text())["final"]
    # An unsaved project is written out as a project file too.
    assert load_project(tmp_path / "coffee_regression.netcanvas").training == project.training


def test_a_failed_run_is_one_line_and_exit_code_2(tmp_path, capsys):
    project = load_project(example_path("iris_mlp"))
    project.training = dataclasses.replace(project.training, optimizer="sgd", lr=50.0, momentum=0.0)
    path = save_project(project, tmp_path / "hot.netcanvas")
    out = tmp_path / "run"
    assert main(["train", str(path), "--epochs", "3", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert re.fullmatch(
        r"netcanvas: error: loss became NaN at epoch \d+, step \d+: "
        r"learning rate 50 is probably too high; the first non-finite values were the "
        r"activations of '(hidden|relu|logits)' \(replayed: step \d+\)",
        err[-1],
    )
    assert not (out / "weights.safetensors").exists()
    assert load_project(path).training.lr == 50.0  # the project file is untouched


def test_trained_weights_round_trip_through_export(tmp_path):
    project_file = copy_example("iris_mlp", tmp_path)
    out = tmp_path / "run"
    assert main(["train", str(project_file), "--epochs", "2", "--out", str(out)]) == 0
    weights = out / "weights.safetensors"
    pt2 = tmp_path / "iris.pt2"
    args = ["export", str(project_file), "-f", "pt2", "-o", str(pt2), "--weights", str(weights)]
    assert main(args) == 0

    model, _, data = prepare(load_project(project_file))
    load_weights(model, weights)
    program = torch.export.load(pt2)
    x = torch.from_numpy(data.x_test)
    with torch.no_grad():
        assert torch.allclose(program.module()(x), model(x), atol=1e-6)


def test_a_validation_split_is_written_to_metrics_and_summary(tmp_path, capsys):
    project = load_project(example_path("iris_mlp"))
    project.training.data.val_fraction = 0.2
    path = save_project(project, tmp_path / "val.netcanvas")
    out = tmp_path / "run"
    assert main(["train", str(path), "--epochs", "2", "--out", str(out)]) == 0
    with (out / "metrics.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0])[:4] == ("epoch", "train_loss", "test_loss", "val_loss")
    assert all(float(r["val_loss"]) > 0 and 0 <= float(r["val_accuracy"]) <= 1 for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["final"]["val_loss"] == float(rows[-1]["val_loss"])
    assert "val_loss" in summary["best"]
    assert "val_loss" in capsys.readouterr().out  # the CLI's line lists it too
