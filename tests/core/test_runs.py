"""The run history: every `netcanvas train` is a run folder; runs restore, diff and export."""

from __future__ import annotations

import csv
import dataclasses
import json
import struct

import torch

from designer.cli import main
from designer.core.project_io import load_project, save_project
from designer.core.runs.diff import diff_projects
from designer.core.runs.export import export_csv
from designer.core.runs.store import find_run, list_runs, runs_root
from designer.core.runs.tensorboard import write_scalars
from designer.core.training.engine import prepare
from designer.core.weights import load_weights, read_weights
from tests.core.helpers import add_dropout, iris_file


def test_two_cli_trainings_leave_two_complete_run_folders(tmp_path, capsys):
    path = iris_file(tmp_path)
    out = tmp_path / "out"
    assert main(["train", str(path)]) == 0
    assert main(["train", str(path), "--epochs", "3", "--out", str(out)]) == 0
    runs = list_runs(runs_root(path))
    assert len(runs) == 2 and runs[0].id != runs[1].id
    assert [r.info["epochs"] for r in runs] == [2, 3]
    for run in runs:
        assert run.status == "finished" and run.info["source"] == "cli"
        assert run.info["device"] == "cpu" and run.info["wall_seconds"] > 0
        assert {"netcanvas", "torch", "python"} <= set(run.info["versions"])
        assert 0 <= run.metric("test_accuracy") <= 1 and run.info["best_epoch"] >= 1
        assert len(run.curves()["train_loss"]) == run.info["epochs"]
        assert run.weights_path is not None
    # --out keeps working: the same files as the recorded run
    assert (out / "weights.safetensors").read_bytes() == runs[1].weights_path.read_bytes()
    assert runs[1].settings["epochs"] == 3 and runs[1].project().training.epochs == 3
    assert f"Recorded run {runs[1].id}" in capsys.readouterr().out


def test_a_restored_run_gives_back_its_graph_settings_and_weights_exactly(tmp_path, capsys):
    path = iris_file(tmp_path)
    assert main(["train", str(path)]) == 0
    original = load_project(path)
    (run,) = list_runs(runs_root(path))
    restored = run.project()
    assert restored.graph.same_as(original.graph)
    assert restored.training == original.training
    model, _source, _data = prepare(restored)
    load_weights(model, run.weights_path)
    saved = read_weights(run.weights_path)
    state = model.state_dict()
    assert set(state) == set(saved)
    assert all(torch.equal(state[k], saved[k]) for k in saved)
    # …and those weights are the trained ones: they reproduce the recorded test accuracy
    data = prepare(restored)[2]
    with torch.no_grad():
        pred = model(torch.from_numpy(data.x_test)).argmax(1)
    accuracy = (pred == torch.from_numpy(data.y_test)).float().mean().item()
    assert abs(accuracy - run.metric("test_accuracy")) < 1e-6


def test_diff_names_an_added_layer_and_a_changed_learning_rate(tmp_path, capsys):
    path = iris_file(tmp_path, epochs=1)
    assert main(["train", str(path)]) == 0
    project = load_project(path)
    g = project.graph
    add_dropout(g)
    g.set_param(g.by_name("hidden").id, "out_features", 32)
    project.training = dataclasses.replace(project.training, lr=0.05)
    save_project(project, path)
    assert main(["train", str(path)]) == 0
    a, b = list_runs(runs_root(path))

    diff = diff_projects(a.project(), b.project())
    assert [(r.key, r.a, r.b) for r in diff.changed_settings] == [("lr", 0.01, 0.05)]
    kinds = {(c.kind, c.name) for c in diff.layers}
    assert kinds == {("added", "drop"), ("changed", "hidden")}
    hidden = next(c for c in diff.layers if c.name == "hidden")
    assert hidden.params == {"out_features": (16, 32)}

    capsys.readouterr()
    assert main(["diff", a.id, b.id[-6:], "--project", str(path)]) == 0
    text = capsys.readouterr().out
    lr_line = next(line for line in text.splitlines() if " lr " in f" {line} ")
    assert lr_line.startswith("*") and "0.01" in lr_line and "0.05" in lr_line
    assert "+ added drop (dropout)" in text
    assert "~ changed hidden (linear): out_features 16 -> 32" in text

    assert main(["runs", str(path), "--sort", "test_loss"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 3 and a.id in "".join(listing) and b.id in "".join(listing)
    losses = sorted([a, b], key=lambda r: r.metric("test_loss"))
    assert listing[1].startswith(losses[0].id)


def test_runs_export_to_csv_and_tensorboard(tmp_path, capsys):
    path = iris_file(tmp_path, epochs=3)
    assert main(["train", str(path), "--tensorboard", str(tmp_path / "tb")]) == 0
    (run,) = list_runs(runs_root(path))

    rows = list(csv.DictReader(export_csv([run], tmp_path / "runs.csv").open()))
    assert rows[0]["run"] == run.id and float(rows[0]["final.test_accuracy"]) == run.metric(
        "test_accuracy"
    )
    assert rows[0]["settings.lr"] == "0.01"
    epochs = list(csv.DictReader(export_csv([run], tmp_path / "e.csv", per_epoch=True).open()))
    assert [int(float(r["epoch"])) for r in epochs] == [1, 2, 3]
    assert main(["runs", str(path), "--csv", str(tmp_path / "cli.csv")]) == 0
    assert (tmp_path / "cli.csv").read_text() == (tmp_path / "runs.csv").read_text()

    logdir = write_scalars(run, tmp_path / "tb2")
    scalars = read_events(logdir)
    assert [step for step, _ in scalars["train_loss"]] == [1, 2, 3]
    assert [v for _, v in scalars["test_loss"]] == [
        float(struct.unpack("f", struct.pack("f", x))[0]) for x in run.curves()["test_loss"]
    ]
    assert read_events(tmp_path / "tb" / "iris_mlp" / run.id)["test_accuracy"]


def read_events(folder) -> dict[str, list[tuple[int, float]]]:
    """Scalars from TensorBoard event files (TFRecord framing + Event protobufs)."""
    from tensorboardX.proto import event_pb2

    out: dict[str, list] = {}
    for file in sorted(folder.rglob("events.out.tfevents.*")):
        raw = file.read_bytes()
        i = 0
        while i < len(raw):
            (length,) = struct.unpack("<Q", raw[i : i + 8])
            event = event_pb2.Event.FromString(raw[i + 12 : i + 12 + length])
            i += 12 + length + 4
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    out.setdefault(value.tag, []).append((event.step, value.simple_value))
    return out


def test_find_run_by_folder_or_unique_id(tmp_path, capsys):
    path = iris_file(tmp_path, epochs=1)
    assert main(["train", str(path)]) == 0
    (run,) = list_runs(runs_root(path))
    assert find_run(str(run.path)).id == run.id
    assert find_run(run.id[-6:], runs_root(path)).id == run.id
    assert main(["diff", "nope", run.id, "--project", str(path)]) == 2
    assert "nope: no such run" in capsys.readouterr().err
    info = json.loads((run.path / "run.json").read_text())
    assert info["project"] == "iris_mlp" and info["settings"]["epochs"] == 1


def test_a_recorded_run_carries_the_doctors_diagnoses(tmp_path):
    from designer.core.runs.record import RunRecorder
    from designer.core.training.engine import train
    from designer.core.training.prepare import node_of

    project = load_project(iris_file(tmp_path, epochs=8))
    project.training = dataclasses.replace(project.training, lr=1e-5)  # far too low
    model, source, data = prepare(project)
    recorder = RunRecorder(project, tmp_path / "runs", source="app")
    for event in train(model, data, project.training, node_of=node_of(source)):
        recorder.observe(event)
    run = recorder.finish(model)
    assert run.status == "finished" and run.info["epochs"] == 8
    keys = [d["key"] for d in run.info["diagnoses"]]
    assert "lr_too_low" in keys
    assert list_runs(tmp_path / "runs")[0].info["diagnoses"] == run.info["diagnoses"]
