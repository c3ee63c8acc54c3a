"""The Runs and Search docks: app runs are recorded, listed, sorted, overlaid, restored in one
undo step, diffed on the canvas; a search runs live and its best trial applies in one step."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from PySide6.QtCore import QSettings

from designer.cli import main
from designer.core.project_io import load_project, save_project
from designer.core.runs.store import list_runs, runs_root
from designer.core.weights import read_weights
from designer.ui.main_window import MainWindow
from designer.ui.project_files import Answer
from tests.core.helpers import add_dropout, iris_file


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("NETCANVAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)

    def make(path) -> MainWindow:
        window = MainWindow(settings=settings)
        window.show_error = lambda title, msg: pytest.fail(f"unexpected error: {title}: {msg}")
        qtbot.addWidget(window, before_close_func=_let_go)
        assert window.open_path(path)
        return window

    return make


def _let_go(window) -> None:
    window.ask_save_changes = lambda: Answer.Discard


def two_runs(tmp_path, capsys):
    """Run A: the Iris MLP at lr 0.01. Run B: a Dropout added and lr 0.05."""
    path = iris_file(tmp_path, epochs=2)
    assert main(["train", str(path)]) == 0
    project = load_project(path)
    drop = add_dropout(project.graph)
    project.training = dataclasses.replace(project.training, lr=0.05)
    save_project(project, path)
    assert main(["train", str(path), "--epochs", "3"]) == 0
    capsys.readouterr()
    return path, drop


def test_runs_are_listed_sorted_overlaid_restored_in_one_step_and_diffed(
    make_window, tmp_path, capsys
):
    path, drop_id = two_runs(tmp_path, capsys)
    a, b = list_runs(runs_root(path))
    window = make_window(path)
    panel = window.experiments.runs
    assert sorted(panel.row_ids()) == sorted([a.id, b.id])

    panel.sort_by("test_loss")
    expected = sorted([a, b], key=lambda r: r.metric("test_loss"))
    assert panel.row_ids() == [r.id for r in expected]
    panel.sort_by("test_loss", descending=True)
    assert panel.row_ids() == [r.id for r in reversed(expected)]

    panel.curve_choice.setCurrentText("train_loss")
    panel.set_checked([a.id, b.id])
    assert panel.plotted == {a.id: a.curves()["train_loss"], b.id: b.curves()["train_loss"]}
    assert len(panel.plotted[b.id]) == 3

    # Restore A over the current design (B's): graph, settings and weights, one undo step.
    doc = window.document
    before = doc.graph.copy()
    steps = doc.undo_stack.count()
    assert panel.restore(a.id) is None
    assert doc.undo_stack.count() == steps + 1
    assert doc.graph.same_as(a.project().graph) and not doc.graph.same_as(before)
    assert doc.project.training.lr == 0.01
    saved = read_weights(a.weights_path)
    state = window.training_panel.trained_state()
    assert set(state) == set(saved) and all(torch.equal(state[k], saved[k]) for k in saved)
    doc.undo()
    assert doc.graph.same_as(before) and doc.project.training.lr == 0.05
    doc.redo()
    assert doc.graph.same_as(a.project().graph)

    # Diff A -> B, shown on B's design: the added Dropout is coloured, lr marked as changed.
    assert panel.restore(b.id) is None
    diff = panel.diff(a.id, b.id)
    assert [(r.key, r.a, r.b) for r in diff.changed_settings] == [
        ("lr", 0.01, 0.05),
        ("epochs", 2, 3),
    ]
    rows = {
        panel.diff_table.item(i, 0).text(): panel.diff_table.item(i, 2).text()
        for i in range(panel.diff_table.rowCount())
    }
    assert rows["* lr"] == "0.05" and "  seed" in rows
    assert "* layer drop (dropout)" in rows
    items = window.canvas.canvas_scene.nodes
    assert items[drop_id].overlay_text == "added"
    assert all(item.overlay_color is None for k, item in items.items() if k != drop_id)
    panel.clear_overlays()
    assert items[drop_id].overlay_color is None


def test_a_training_run_in_the_app_is_recorded(make_window, tmp_path, qtbot):
    path = iris_file(tmp_path, epochs=2)
    window = make_window(path)
    training = window.training_panel
    with qtbot.waitSignal(window.experiments.recording.recorded, timeout=60_000) as recorded:
        assert training.start()
    run = recorded.args[0]
    assert run.status == "finished" and run.info["source"] == "app"
    assert run.info["epochs"] == 2 and len(run.curves()["test_loss"]) == 2
    saved = read_weights(run.weights_path)
    qtbot.waitUntil(lambda: training.trained_state() is not None)
    state = training.trained_state()
    assert all(torch.equal(state[k], saved[k]) for k in saved)
    assert run.project().graph.same_as(window.document.graph)
    assert window.experiments.runs.row_ids() == [run.id]


def test_a_search_shows_trials_live_and_applies_the_best_in_one_step(make_window, tmp_path, qtbot):
    path = iris_file(tmp_path, epochs=2)
    window = make_window(path)
    search = window.experiments.search
    hidden = window.document.graph.by_name("hidden").id
    assert search.toggle_searchable(hidden, "out_features")  # marked from the Inspector
    search.trials_box.setValue(4)
    search.lr_low.setText("1e-3")
    search.lr_high.setText("0.3")
    with qtbot.waitSignal(search.search_finished, timeout=120_000):
        assert search.start()
    assert [t.number for t in search.trials] == [0, 1, 2, 3]
    assert len(search.best_so_far) == 4 and search.best is not None
    assert len(search.scatter.data) == sum(t.state == "complete" for t in search.trials)
    assert len(window.experiments.runs.row_ids()) == 4
    best = search.best
    doc = window.document
    steps = doc.undo_stack.count()
    assert search.apply_best() is None
    assert doc.undo_stack.count() == steps + 1
    assert doc.project.training.lr == best.params["lr"]
    assert doc.graph.nodes[hidden].params["out_features"] == best.params["hidden.out_features"]
    doc.undo()
    assert doc.project.training.lr == 0.01 and doc.graph.nodes[hidden].params["out_features"] == 16


def test_the_experiments_perspective_shows_runs_and_search(make_window, tmp_path, qtbot):
    window = make_window(iris_file(tmp_path))
    window.show()
    window.perspectives.actions["experiments"].trigger()  # Ctrl+3
    qtbot.waitUntil(lambda: window.docks["runs"].isVisible())
    assert window.docks["runs"].widget() is window.experiments.runs  # built when first shown
    assert window.docks["search"].toggleViewAction().isChecked()
    assert not window.docks["training"].toggleViewAction().isChecked()
