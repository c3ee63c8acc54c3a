"""Transfer learning in the window: freeze (one undo step, a lock on the card, the summary), load
pretrained weights onto one layer, see where each layer's weights came from, warm start."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from PySide6.QtCore import QSettings
from safetensors.torch import save_file

from designer.core.examples import example_path
from designer.core.project_io import load_project
from designer.ui.main_window import Answer, MainWindow

TIMEOUT = 60_000


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("NETCANVAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    win.show_error = lambda title, msg: pytest.fail(f"unexpected error: {title}: {msg}")
    project = load_project(example_path("iris_mlp"))
    project.training = dataclasses.replace(project.training, epochs=2, device="cpu")
    win.set_project(project)

    def let_go(w):
        w.ask_save_changes = lambda: Answer.Discard

    qtbot.addWidget(win, before_close_func=let_go)
    return win


def test_freeze_is_one_undo_step_with_a_lock_and_summary_counts(window):
    doc = window.document
    hidden = doc.graph.by_name("hidden").id
    logits = doc.graph.by_name("logits").id
    doc.select([logits])
    assert window.transfer.freeze_before()  # everything before the head
    assert doc.graph.nodes[hidden].frozen and not doc.graph.nodes[logits].frozen
    assert window.canvas.canvas_scene.nodes[hidden].frozen
    assert "Frozen" in window.canvas.canvas_scene.nodes[hidden].toolTip()
    assert (
        window.undo_action.text() == "Undo Freeze 2 layers"
    )  # hidden and its ReLU (not the Input)
    summary = window.summary
    summary.refresh()
    names = [summary.item(r, 0).text() for r in range(summary.rowCount())]
    assert "🔒 hidden" in names and "Trainable" in names and "Frozen" in names
    doc.select([hidden])
    assert "frozen (not trained)" in window.inspector.info.text().lower()
    window.undo_action.trigger()
    assert not doc.graph.nodes[hidden].frozen
    assert not window.canvas.canvas_scene.nodes[hidden].frozen


def test_pretrained_weights_on_one_layer_then_a_frozen_warm_start(qtbot, window, tmp_path):
    doc = window.document
    panel = window.training_panel
    hidden = doc.graph.by_name("hidden").id
    width = doc.graph.nodes[hidden].params["out_features"]
    donor = {"hidden.weight": torch.randn(width, 4), "hidden.bias": torch.randn(width)}
    donor["logits.weight"] = torch.randn(7, width)  # another head: shape differs, skipped
    save_file(donor, tmp_path / "donor.safetensors")

    doc.select([hidden])
    report = window.transfer.load_weights(tmp_path / "donor.safetensors")
    assert report.matched == ["hidden.weight", "hidden.bias"]
    assert panel.origin_of(hidden) == "pretrained"
    assert panel.origin_of(doc.graph.by_name("logits").id) == "fresh"
    assert "Weights: pretrained" in window.inspector.info.text()
    assert panel.start_from.isChecked()

    window.transfer.set_frozen(True, [hidden])
    with qtbot.waitSignal(panel.training_stopped, timeout=TIMEOUT):
        assert panel.start()
    assert panel.memory.text().startswith("Memory: data ")  # shown as the run starts
    state = panel.trained_state()
    assert torch.equal(state["hidden.weight"], donor["hidden.weight"])  # frozen: untouched
    assert torch.equal(state["hidden.bias"], donor["hidden.bias"])
    assert panel.origin_of(hidden) == "pretrained"
    assert panel.origin_of(doc.graph.by_name("logits").id) == "trained"


def test_right_click_on_a_layer_selects_it_and_offers_freeze_and_load_weights(qtbot, window):
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QMenu

    view = window.canvas
    view.resize(900, 700)
    view.fit_to_view()
    hidden = window.document.graph.by_name("hidden").id
    item = view.canvas_scene.nodes[hidden]
    at = view.mapFromScene(item.sceneBoundingRect().center())
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, view.mapToGlobal(at))
    view.contextMenuEvent(event)
    menus = [m for m in view.findChildren(QMenu) if m.isVisible()]
    assert window.document.selection == [hidden]
    assert [a.text() for a in menus[-1].actions()] == [
        "&Freeze", "&Unfreeze", "Freeze Everything &Before", "Load &Weights…", "",
        "Make &Block…", "Make &Unique", "&Open Block",
    ]  # fmt: skip
    menus[-1].actions()[0].trigger()
    assert window.document.graph.nodes[hidden].frozen
    menus[-1].close()


def test_weight_origins_are_saved_with_the_project_shown_per_layer_and_trained_after_a_run(
    qtbot, window, tmp_path
):
    doc = window.document
    panel = window.training_panel
    hidden = doc.graph.by_name("hidden").id
    logits = doc.graph.by_name("logits").id
    width = doc.graph.nodes[hidden].params["out_features"]
    donor = {"hidden.weight": torch.randn(width, 4), "hidden.bias": torch.randn(width)}
    save_file(donor, tmp_path / "donor.safetensors")
    window.transfer.load_weights(tmp_path / "donor.safetensors", node_ids=[hidden])
    assert window.files.save_to(tmp_path / "tuned.netcanvas")

    window.set_project(load_project(example_path("iris_mlp")))  # something else, then reopen
    assert panel.origin_of(hidden) is None
    assert window.files.open_path(tmp_path / "tuned.netcanvas")
    assert panel.origin_text(hidden) == "pretrained (donor.safetensors)"
    assert panel.origin_text(logits) == "fresh"
    doc.select([hidden])
    assert "Weights: pretrained (donor.safetensors)" in window.inspector.info.text()
    assert torch.equal(panel.trained_state()["hidden.weight"], donor["hidden.weight"])

    doc.project.training = dataclasses.replace(doc.project.training, epochs=1, device="cpu")
    panel.start_from.setChecked(True)
    with qtbot.waitSignal(panel.training_stopped, timeout=TIMEOUT):
        assert panel.start()
    assert panel.origin_of(hidden) == panel.origin_of(logits) == "trained"
    run = panel.origin_text(logits)
    assert run.startswith("trained (run ") and run.endswith(")")
    assert (tmp_path / "runs" / "tuned" / run[len("trained (run ") : -1]).is_dir()  # that run
    doc.select([logits])
    assert f"Weights: {run}" in window.inspector.info.text()
    assert window.files.save_to(tmp_path / "tuned.netcanvas")
    again = load_project(tmp_path / "tuned.netcanvas").weight_origins
    assert again["hidden"].kind == again["logits"].kind == "trained"
