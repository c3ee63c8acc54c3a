"""TrainingPanel with a real Document and real (small) training runs."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import dataclasses
import subprocess
import sys

import pytest

from designer.core.errors import NetcanvasError
from designer.core.examples import build_example
from designer.core.graph import Edge
from designer.core.training.config import DataConfig
from designer.ui.document import Document
from designer.ui.training_panel import TrainingPanel

TIMEOUT = 60_000  # ms; only reached when something is broken


def project(example="iris_mlp", **training):
    p = build_example(example)
    p.training = dataclasses.replace(p.training, **training)
    return p


def long_run():
    """Moons with batch size 1: epochs last seconds, so batches are reported mid-epoch."""
    p = project(
        epochs=1000, batch_size=1, data=DataConfig("builtin", "moons", options={"n": 20000})
    )
    p.graph.set_param("n1", "shape", (2,))
    p.graph.set_param("n4", "out_features", 2)
    return p


@pytest.fixture
def make_panel(qtbot):
    def make(proj=None, show=False):
        panel = TrainingPanel(Document(proj or project(epochs=2)))
        qtbot.addWidget(panel)
        if show:
            panel.resize(520, 900)
            panel.show()
        return panel

    return make


def drawn(plot, name):
    xs, _ys = plot.curve(name).getData()
    return 0 if xs is None else len(xs)


def first_batch(qtbot, panel):
    qtbot.waitUntil(lambda: len(panel.plots.batch.series("smoothed")[0]) > 0, timeout=TIMEOUT)


def test_two_epochs_fill_the_plots_and_keep_the_trained_weights(qtbot, make_panel):
    panel = make_panel()
    assert panel.trained_state() is None
    with qtbot.waitSignal(panel.training_started):
        panel.start_button.click()
    assert panel.is_training
    assert not panel.settings.isEnabled() and not panel.start_button.isEnabled()
    with qtbot.waitSignal(panel.training_stopped, timeout=TIMEOUT):
        pass
    assert not panel.is_training
    qtbot.waitUntil(lambda: drawn(panel.plots.loss, "train") == 2, timeout=2000)
    assert drawn(panel.plots.loss, "test") == 2
    assert drawn(panel.plots.accuracy, "test") == 2
    assert panel.status.text().startswith("Finished 2 epochs")
    assert panel.progress.format() == "epoch 2/2 · done"
    assert panel.progress.value() == panel.progress.maximum()
    assert panel.settings.isEnabled() and panel.start_button.isEnabled()
    state = panel.trained_state()
    assert set(state) == {"hidden.weight", "hidden.bias", "logits.weight", "logits.bias"}
    assert not panel.message.isVisible()


def test_the_validation_share_gives_a_validation_curve_and_its_loss(qtbot, make_panel):
    panel = make_panel(show=True)
    panel.dataset.val_fraction.setValue(0.25)  # the picker's "Validation share"
    assert panel.document.project.training.data.val_fraction == 0.25
    with qtbot.waitSignal(panel.training_stopped, timeout=TIMEOUT):
        panel.start_button.click()
    qtbot.waitUntil(lambda: drawn(panel.plots.loss, "validation") == 2, timeout=2000)
    assert "validation" in panel.plots.loss.in_legend()
    assert "val_loss" in panel.last_epoch.metrics
    assert " · val loss " in panel.status.text()
    # Without a validation share, the curve and its legend entry stay away.
    panel.dataset.val_fraction.setValue(0.0)
    with qtbot.waitSignal(panel.training_stopped, timeout=TIMEOUT):
        panel.start_button.click()
    qtbot.waitUntil(lambda: drawn(panel.plots.loss, "train") == 2, timeout=2000)
    assert "validation" not in panel.plots.loss.in_legend()
    assert "val loss" not in panel.status.text()


def test_pause_resume_and_stop_mid_epoch(qtbot, make_panel):
    panel = make_panel(long_run(), show=True)
    with qtbot.waitSignal(panel.training_started):
        panel.start()
    first_batch(qtbot, panel)
    assert "epoch 1/1000 · ETA" in panel.progress.format()
    panel.pause_button.click()
    assert panel.pause_button.text() == "Resume"
    assert panel.status.text() == "Paused"
    assert panel._worker.paused
    panel.pause_button.click()
    assert panel.pause_button.text() == "Pause"
    assert not panel._worker.paused
    worker = panel._worker
    with qtbot.waitSignal(panel.training_stopped, timeout=TIMEOUT):
        panel.stop_button.click()
        assert not panel.stop_button.isEnabled()
    assert panel.last_finished.stopped_by_user
    assert panel.status.text().startswith("Stopped after 0 epochs")
    assert not worker.is_running()
    assert panel.trained_state() is not None


def test_a_nan_loss_shows_the_message_and_emits_failed(qtbot, make_panel):
    panel = make_panel(project("coffee_regression", optimizer="sgd", lr=10.0, epochs=3), show=True)
    failures = []
    panel.failed.connect(lambda *args: failures.append(args))
    with qtbot.waitSignal(panel.training_stopped, timeout=TIMEOUT):
        panel.start()
    ((message, node_id),) = failures
    assert "learning rate 10 is probably too high" in message
    # The doctor names the first layer that went non-finite, and pins the failure to it.
    layer = message.split("the first non-finite values were the ")[1].split("'")[1]
    assert node_id == panel.document.graph.by_name(layer).id
    assert panel.message.isVisible()
    assert panel.message.text() == f"Training failed: {message}"
    assert panel.trained_state() is None
    assert panel.start_button.isEnabled()


def test_closing_the_panel_while_training_joins_the_thread(qtbot, make_panel):
    panel = make_panel(long_run(), show=True)
    stopped = []
    panel.training_stopped.connect(lambda: stopped.append(True))
    panel.start()
    worker = panel._worker
    first_batch(qtbot, panel)
    panel.close()
    assert stopped == [True]
    assert not panel.is_training
    assert not worker.is_running()


def test_a_graph_with_errors_does_not_start_and_names_the_node(qtbot, make_panel):
    proj = project(epochs=1)
    proj.graph.disconnect(Edge("n3", "n4"))  # the output is cut off from the input
    panel = make_panel(proj)
    started = []
    panel.training_started.connect(lambda: started.append(True))
    with qtbot.waitSignal(panel.failed) as blocker:
        assert panel.start() is False
    message, node_id = blocker.args
    assert "error" in message
    assert node_id in proj.graph.nodes
    assert not started and not panel.is_training


def test_device_list_offers_cuda_only_when_torch_sees_it(make_panel):
    import torch

    panel = make_panel()
    panel.form.refresh_devices()
    combo = panel.form.editors["device"]
    items = [combo.itemData(i) for i in range(combo.count())]
    assert items[:2] == ["auto", "cpu"]
    assert ("cuda" in items) == torch.cuda.is_available()
    if not torch.cuda.is_available():  # this machine
        assert "cuda" not in items
        assert not panel.form.editors["amp"].isEnabled()


def test_learning_rate_takes_any_positive_number_and_says_why_next_to_the_field(qtbot, make_panel):
    panel = make_panel()
    doc = panel.document
    form = panel.form
    lr = form.editors["lr"]
    for typed, value in (("1e-3", 1e-3), ("1e-6", 1e-6), ("2.0", 2.0)):
        lr.clear()
        qtbot.keyClicks(lr, typed)
        qtbot.keyClick(lr, "\r")
        assert doc.project.training.lr == pytest.approx(value)
        assert form.reasons["lr"].isHidden()
    assert doc.is_modified()
    lr.clear()
    qtbot.keyClicks(lr, "50")  # beyond the usual range: taken, with a warning beside it
    qtbot.keyClick(lr, "\r")
    assert doc.project.training.lr == pytest.approx(50.0)
    assert "diverge" in form.reasons["lr"].text() and not form.reasons["lr"].isHidden()
    lr.clear()
    qtbot.keyClicks(lr, "0")  # refused, the reason next to the field, the old value kept
    qtbot.keyClick(lr, "\r")
    assert doc.project.training.lr == pytest.approx(50.0)
    assert "greater than 0" in form.reasons["lr"].text()
    assert lr.text() == "50"
    form.lr_slider.setValue(form.lr_slider.minimum())  # the log slider reaches 1e-7
    assert doc.project.training.lr == pytest.approx(1e-7)
    assert form.editors["optimizer"].currentText() == "Adam"  # a label; the id stays in the file
    assert doc.project.training.optimizer == "adam"


def test_form_edits_write_the_project_settings(make_panel):
    panel = make_panel()
    config = panel.document.project.training
    optimizer = panel.form.editors["optimizer"]
    assert not panel.form.editors["momentum"].isEnabled()  # adam has no momentum setting
    optimizer.setCurrentIndex(optimizer.findData("sgd"))
    optimizer.activated.emit(optimizer.currentIndex())
    assert config.optimizer == "sgd"
    assert panel.form.editors["momentum"].isEnabled()
    panel.form.editors["epochs"].setValue(7)
    panel.form.editors["early_stopping"].setValue(3)
    assert (config.epochs, config.early_stopping) == (7, 3)
    assert panel.document.is_modified()


def test_choosing_a_builtin_dataset_updates_the_config_and_the_preview(qtbot, make_panel):
    panel = make_panel(show=True)
    picker = panel.dataset
    qtbot.waitUntil(lambda: picker.preview_data is not None, timeout=TIMEOUT)
    assert "setosa" in picker.counts.text()
    assert picker.table.rowCount() > 0
    with qtbot.waitSignal(picker.preview_ready, timeout=TIMEOUT):
        picker.builtin.setCurrentIndex(picker.builtin.findData("digits"))
        picker.builtin.activated.emit(picker.builtin.currentIndex())
    assert panel.document.project.training.data.name == "digits"
    assert panel.document.is_modified()
    assert picker.preview_data.name == "digits"
    assert picker.counts.text().startswith("train (")
    assert picker.thumbs.count() > 1  # 8×8 digit thumbnails


def test_a_csv_file_is_stored_relative_and_offers_its_columns(qtbot, make_panel, tmp_path):
    rows = ["a,b,label"] + [f"{i},{i % 3},{'yes' if i % 2 else 'no'}" for i in range(40)]
    (tmp_path / "data.csv").write_text("\n".join(rows) + "\n")
    proj = project(epochs=1)
    proj.path = tmp_path / "model.netcanvas"
    panel = make_panel(proj, show=True)
    picker = panel.dataset
    picker.source.setCurrentIndex(picker.source.findData("csv"))
    picker.config.source = "csv"  # what _source_chosen does before asking for a file
    with qtbot.waitSignal(picker.preview_ready, timeout=TIMEOUT):
        picker._set_path(str(tmp_path / "data.csv"))
    data = proj.training.data
    assert data.path == "data.csv"
    assert data.target == "label"
    assert [picker.target.itemText(i) for i in range(picker.target.count())] == ["a", "b", "label"]
    assert picker.preview_error is None, picker.preview_error
    assert "no" in picker.counts.text() and "yes" in picker.counts.text()


def test_load_weights_round_trip_and_a_mismatch_names_the_tensor(tmp_path, make_panel):
    import torch

    from designer.core import weights
    from designer.core.compiler import build_model

    proj = project()
    model, _source = build_model(proj.graph, proj.name)
    path = weights.save_weights(model, tmp_path / "model.safetensors")
    panel = make_panel(proj)
    panel.load_weights(path)
    state = panel.trained_state()
    assert torch.equal(state["hidden.weight"], model.state_dict()["hidden.weight"])
    other = project()
    other.graph.set_param("n2", "out_features", 5)
    wrong = make_panel(other)
    with pytest.raises(NetcanvasError, match="hidden.weight"):
        wrong.load_weights(path)
    assert wrong.trained_state() is None


def test_opening_another_project_shows_its_settings_and_forgets_weights(make_panel):
    panel = make_panel()
    panel._trained = {"x": None}
    other = project(epochs=9)
    panel.document.set_project(other)
    assert panel.form.editors["epochs"].value() == 9
    assert panel.trained_state() is None


def test_the_panel_paints_before_torch_is_imported():
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from designer.core.examples import build_example\n"
        "from designer.ui.document import Document\n"
        "from designer.ui.training_panel import TrainingPanel\n"
        "from designer.ui.export_dialog import ExportDialog\n"
        "panel = TrainingPanel(Document(build_example('iris_mlp')))\n"
        "panel.show(); app.processEvents(); panel.grab()\n"
        "assert panel.stop_and_wait()\n"
        "print('torch' in sys.modules)\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
