"""The doctor in the Training panel: banners with one-click fixes (one undo step), marked plot
regions, Check, Find LR, gradient flow, card colouring, boundary and evaluation views."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from designer.core.examples import build_example
from designer.ui.canvas.scene import CanvasScene
from tests.core.helpers import deep_sigmoid

TIMEOUT = 90_000


def project(example="iris_mlp", **training):
    p = build_example(example)
    p.training = dataclasses.replace(p.training, device="cpu", **training)
    return p


@pytest.fixture
def make_panel(shown_panel):
    return shown_panel


def run(qtbot, panel):
    with qtbot.waitSignal(panel.training_stopped, timeout=TIMEOUT):
        assert panel.start()


def test_lr_too_high_banner_marks_the_curve_and_its_fix_is_one_undo_step(qtbot, make_panel):
    panel = make_panel(project(lr=2.0, epochs=6))
    run(qtbot, panel)
    doctor = panel.doctor
    (banner,) = [b for b in doctor.banners if b.diagnosis.key == "lr_too_high"]
    assert banner.title.text() == "⚠ Learning rate too high"
    assert banner.text.text().startswith("learning rate too high: the training loss reached")
    assert panel.plots.loss.is_log_y()  # a spike of 13 over losses near 0.01: log axis by default
    lo, hi = doctor.regions()[0]
    assert lo <= banner.diagnosis.epoch <= hi  # the symptom's epochs are shaded on the plot
    assert banner.fix_button.text() == "Lower the learning rate to 0.01"
    undo = panel.document.undo_stack
    before = undo.count()
    banner.fix_button.click()
    assert (
        doctor.status.text()
        == "Applied: Lower the learning rate to 0.01 (Edit ▸ Undo takes it back)"
    )
    assert panel.document.project.training.lr == 0.01
    assert panel.form.value("lr") == 0.01  # the form shows it
    assert undo.count() == before + 1 and panel.document.is_modified()
    panel.document.undo()
    assert panel.document.project.training.lr == 2.0 and panel.form.value("lr") == 2.0
    panel.document.redo()
    assert panel.document.project.training.lr == 0.01


def test_vanishing_gradients_pinned_to_the_node_with_gradient_flow_and_card_colours(
    qtbot, make_panel
):
    proj = deep_sigmoid(epochs=2)
    panel = make_panel(proj)
    scene = CanvasScene(panel.document)
    panel.doctor.set_scene(scene)
    selected = []
    panel.doctor.select_node.connect(selected.append)
    run(qtbot, panel)
    doctor = panel.doctor
    (banner,) = [b for b in doctor.banners if b.diagnosis.key == "vanishing_gradients"]
    first = panel.document.graph.by_name("linear1").id
    assert banner.diagnosis.node_id == first and first in selected
    # Gradient flow: nine weighted layers, the first far weaker than the last.
    xs, ys = doctor.gradient_flow.values()
    assert len(xs) == 9 and ys[0] < 1e-3 * ys[-1]
    # Card colours are off by default, then follow the chosen statistic, with a legend.
    assert all(item.overlay_text == "" for item in scene.nodes.values())
    doctor.colouring.set_statistic("grad_norm")
    assert scene.nodes[first].overlay_text != "" and scene.nodes[first].overlay_color is not None
    assert doctor.colouring.legend.text().endswith("(gradient norm)")
    doctor.colouring.set_statistic("")
    assert all(item.overlay_text == "" for item in scene.nodes.values())
    # The fix swaps every sigmoid for ReLU with He init, as one undo step.
    before = panel.document.graph.copy()
    banner.fix_button.click()
    kinds = [n.type_id for n in panel.document.graph.nodes.values()]
    assert "sigmoid" not in kinds and kinds.count("relu") == 8
    panel.document.undo()
    assert panel.document.graph.same_as(before)


def test_check_and_find_lr_buttons(qtbot, make_panel):
    panel = make_panel(project(lr=1e-7))
    doctor = panel.doctor
    with qtbot.waitSignal(doctor.check_button.clicked):
        doctor.check_button.click()
    qtbot.waitUntil(lambda: doctor.status.text().startswith("Check "), timeout=TIMEOUT)
    doctor.wait()
    assert "Check failed: it could not memorise 16 training samples" in doctor.status.text()
    assert "learning rate 1e-07 is too low" in doctor.status.text()
    qtbot.waitUntil(doctor.lr_button.isEnabled, timeout=TIMEOUT)  # buttons return after a task
    doctor.lr_button.click()
    qtbot.waitUntil(lambda: doctor.range_plot.use_button.isEnabled(), timeout=TIMEOUT)
    doctor.wait()
    suggestion = doctor.range_plot.suggestion
    assert 1e-5 < suggestion < 1 and doctor.range_plot.use_button.text() == f"Use {suggestion:g}"
    doctor.range_plot.use_button.click()
    assert panel.document.project.training.lr == suggestion


def test_boundary_view_follows_a_2d_run(qtbot, make_panel):
    proj = build_example("spiral_mlp")
    proj.training = dataclasses.replace(proj.training, epochs=3, device="cpu")
    panel = make_panel(proj)
    run(qtbot, panel)
    view = panel.doctor.boundary_view
    qtbot.waitUntil(lambda: view.boundary is not None, timeout=TIMEOUT)
    assert view.boundary.classes.shape == (60, 60)
    assert view.note.text().endswith("of the training points lie in a region of their own class.")


def test_evaluation_panel_after_a_digits_run(qtbot, make_panel, tmp_path):
    panel = make_panel(project("digits_cnn", epochs=1))
    run(qtbot, panel)
    doctor = panel.doctor
    assert doctor.evaluate_button.isEnabled()
    doctor.evaluate_button.click()
    view = doctor.evaluation_view
    qtbot.waitUntil(lambda: view.evaluation is not None, timeout=TIMEOUT)
    doctor.wait()
    table = view.confusion
    assert table.rowCount() == table.columnCount() == 10
    total = sum(int(table.item(i, j).text()) for i in range(10) for j in range(10))
    assert total == 359
    view.normalized.setChecked(True)
    row = [float(table.item(0, j).text()) for j in range(10)]
    assert np.isclose(sum(row), 1, atol=0.02)
    assert view.wrong.rowCount() == len(view.evaluation.wrong) > 0
    assert not view.wrong_images.pixmap().isNull()  # 8×8 digits shown as images
    names = {p.name for p in view.export(tmp_path)}
    assert {"confusion_matrix.csv", "confusion_matrix.png", "per_class.csv"} <= names


def test_the_doctor_plots_follow_the_app_palette(qtbot):
    """pyqtgraph draws black by default; in the light theme the doctor's plots are light like
    the curves beside them."""
    from PySide6.QtGui import QPalette

    from designer.ui.doctor_views import GradientFlowPlot

    view = GradientFlowPlot()
    qtbot.addWidget(view)
    base = view.plot.palette().color(QPalette.ColorRole.Base)
    assert view.plot.backgroundBrush().color() == base
