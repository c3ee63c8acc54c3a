"""Pre-flight check, learning-rate range test, evaluation and decision boundary, through the
CLI where they have a command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from designer.cli import main
from designer.core.examples import list_examples
from designer.core.project_io import save_project
from designer.core.training import evaluation
from designer.core.training.boundary import decision_boundary, is_planar
from designer.core.training.engine import prepare, train
from designer.core.training.events import Finished
from tests.core.helpers import example

EXAMPLES = [name for name, *_ in list_examples()]


def saved(tmp_path, project, name="p"):
    path = tmp_path / f"{name}.netcanvas"
    save_project(project, path)
    return path


@pytest.mark.parametrize("name", EXAMPLES)
def test_check_passes_on_every_example(tmp_path, capsys, name):
    assert main(["check", str(saved(tmp_path, example(name, device="cpu")))]) == 0
    assert "passed: it memorised 16 training samples" in capsys.readouterr().out


def test_check_fails_naming_a_wrong_output_width(tmp_path, capsys):
    project = example("iris_mlp")
    project.graph.set_param(project.graph.by_name("logits").id, "out_features", 5)
    assert main(["check", str(saved(tmp_path, project))]) == 1
    out = capsys.readouterr().out
    assert (
        "the model does not fit the data: the Output gives 5 values per sample but iris has "
        "3 classes: set the last Linear's out_features to 3"
    ) in out


def test_check_fails_naming_a_learning_rate_far_too_low(tmp_path, capsys):
    assert main(["check", str(saved(tmp_path, example("iris_mlp", lr=1e-7))), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["cause"] == "lr_too_low" and not result["passed"]
    assert (
        "learning rate 1e-07 is too low: each step moves the weights by only" in result["message"]
    )


@pytest.mark.parametrize(
    ("name", "epochs", "bar"), [("iris_mlp", 30, 0.93), ("digits_cnn", 3, 0.9)]
)
def test_lr_find_suggests_a_rate_that_trains_well(tmp_path, capsys, name, epochs, bar):
    path = saved(tmp_path, example(name, device="cpu"))
    assert main(["lr-find", str(path), "--json", "--out", str(tmp_path / "sweep.csv")]) == 0
    result = json.loads(capsys.readouterr().out)
    lr = result["suggestion"]
    assert 1e-5 < lr < 1 and result["flag"] == f"--set lr={lr:g}"
    assert (tmp_path / "sweep.csv").read_text().startswith("lr,loss\n")
    out = tmp_path / "run"
    args = ["train", str(path), "--epochs", str(epochs), "--set", f"lr={lr:g}", "--out", str(out)]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["final"]["test_accuracy"] >= bar
    assert "lr_too_high" not in {d["key"] for d in summary["diagnoses"]}


def test_train_prints_and_records_the_diagnosis_with_the_flag_that_fixes_it(tmp_path, capsys):
    path = saved(tmp_path, example("iris_mlp", device="cpu"))
    out = tmp_path / "run"
    assert main(["train", str(path), "--epochs", "5", "--set", "lr=2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "doctor: learning rate too high (epoch 1): try --set lr=0.01" in printed
    summary = json.loads((out / "summary.json").read_text())
    high = next(d for d in summary["diagnoses"] if d["key"] == "lr_too_high")
    assert high["suggested_flag"] == "--set lr=0.01" and high["remedies"][0]["settings"] == {
        "lr": 0.01
    }


def test_train_refuses_an_unknown_setting(tmp_path, capsys):
    path = saved(tmp_path, example("iris_mlp"))
    assert main(["train", str(path), "--set", "speed=11"]) == 2
    assert (
        "--set speed=11: expected KEY=VALUE with KEY one of optimizer, lr"
        in capsys.readouterr().err
    )


def test_digits_confusion_matrix_sums_to_the_test_size_and_matches_sklearn(tmp_path, capsys):
    project = example("digits_cnn", device="cpu", epochs=2)
    path = saved(tmp_path, project)
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 0
    weights = tmp_path / "run" / "weights.safetensors"
    assert main(["evaluate", str(path), "--weights", str(weights)]) == 0
    folder = tmp_path / "run" / "evaluation"
    for name in ("confusion_matrix.csv", "confusion_matrix_normalized.csv", "per_class.csv",
                 "most_confident_wrong.csv", "confusion_matrix.png", "most_confident_wrong.png"):  # fmt: skip
        assert (folder / name).stat().st_size > 0, name
    # The same predictions, scored by sklearn directly.
    from designer.core.weights import load_weights

    model, _, data = prepare(project)
    load_weights(model, weights)
    ev = evaluation.evaluate(model, data, project.training.to_dict())
    rows = (folder / "confusion_matrix.csv").read_text().splitlines()[1:]
    written = np.array([[int(v) for v in r.split(",")[1:]] for r in rows])
    assert written.sum() == len(data.y_test) == 359
    pred = ev.y_pred
    assert (written == confusion_matrix(data.y_test, pred, labels=range(10))).all()
    p, r, f, s = precision_recall_fscore_support(
        data.y_test, pred, labels=range(10), zero_division=0
    )
    assert np.allclose([c["f1"] for c in ev.per_class], f) and [
        c["support"] for c in ev.per_class
    ] == list(s)
    assert np.allclose(ev.normalized.sum(1), 1)
    confidences = [w["confidence"] for w in ev.wrong]
    assert confidences == sorted(confidences, reverse=True) and all(
        w["true"] != w["predicted"] for w in ev.wrong
    )
    assert "Evaluated digits_cnn on 359 test samples: accuracy" in capsys.readouterr().out


def test_regression_evaluation_has_predicted_vs_true_and_residuals(tmp_path):
    project = example("coffee_regression", device="cpu", epochs=5)
    model, _, data = prepare(project)
    list(train(model, data, project.training))
    ev = evaluation.evaluate(model, data, project.training.to_dict())
    assert ev.task == "regression" and ev.y_pred.shape == ev.y_true.shape
    assert np.allclose(ev.residuals, ev.y_pred - ev.y_true)
    written = evaluation.write(ev, tmp_path, data)
    assert {p.name for p in written} == {"predictions.csv", "predicted_vs_true.png"}


def test_spirals_decision_boundary_separates_the_classes():
    project = example("spiral_mlp", device="cpu", epochs=150)
    model, _, data = prepare(project)
    assert is_planar(data)
    finished = [e for e in train(model, data, project.training) if isinstance(e, Finished)]
    assert finished
    boundary = decision_boundary(model, data.x_train, project.training.loss)
    assert boundary.classes.shape == (80, 80)
    assert boundary.agreement(data.x_train, data.y_train) >= 0.95
