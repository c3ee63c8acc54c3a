"""Live plots: buffered points drawn by a ≤ 20 Hz timer, log-y, PNG/CSV export, ghosts, themes."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import math

import pytest
from PySide6.QtGui import QImage, QPalette

from designer.core.training.events import BatchEnd, EpochEnd
from designer.ui.plots import EpochPlot, Series, TrainingPlots
from designer.ui.theme import dark_palette


def epoch(n, train, test=None, train_acc=None, test_acc=None, **more):
    given = {"train_loss": train, "test_loss": test, "train_accuracy": train_acc}
    given |= {"test_accuracy": test_acc, **more}
    metrics = {k: v for k, v in given.items() if v is not None} | {"lr": 0.01}
    return EpochEnd(n, metrics, 1000.0, float(n), 1.0)


@pytest.fixture
def plots(qtbot):
    widget = TrainingPlots()
    qtbot.addWidget(widget)
    widget.resize(500, 700)
    widget.show()
    return widget


def drawn(plot, name):
    xs, ys = plot.curve(name).getData()
    return ([] if xs is None else list(xs)), ([] if ys is None else list(ys))


def test_redraw_is_throttled_by_a_timer_of_at_least_50_ms(plots, qtbot):
    assert plots.timer.interval() >= 50
    assert plots.timer.isSingleShot()
    for n in range(1, 31):
        plots.add_epoch(epoch(n, 1.0 / n, 1.5 / n, 0.5, 0.4))
    # Buffered, not drawn yet: thirty events wait for one timer tick.
    assert drawn(plots.loss, "train") == ([], [])
    assert plots.timer.isActive()
    qtbot.waitUntil(lambda: len(drawn(plots.loss, "train")[0]) == 30, timeout=2000)
    xs, ys = drawn(plots.loss, "train")
    assert xs == list(range(1, 31))
    assert ys == pytest.approx([1.0 / n for n in range(1, 31)])
    assert drawn(plots.loss, "test")[1][0] == pytest.approx(1.5)
    # One plot per tick: the accuracy plot follows on a later tick.
    qtbot.waitUntil(lambda: len(drawn(plots.accuracy, "test")[0]) == 30, timeout=2000)
    assert drawn(plots.accuracy, "test")[1] == pytest.approx([0.4] * 30)


def test_batch_loss_is_smoothed_with_an_ema_beside_the_raw_points(plots, qtbot):
    losses = [2.0, 0.0, 0.0, 0.0]
    for step, loss in enumerate(losses, start=1):
        plots.add_batch(BatchEnd(1, step, loss))
    qtbot.waitUntil(lambda: len(drawn(plots.batch, "smoothed")[0]) == 4, timeout=2000)
    raw = drawn(plots.batch, "batch (raw)")[1]
    smooth = drawn(plots.batch, "smoothed")[1]
    assert raw == losses
    assert smooth[0] == pytest.approx(2.0)  # debiased: starts at the first loss
    assert smooth == sorted(smooth, reverse=True)  # decays towards the new level…
    assert all(s > 0.0 for s in smooth)  # …without jumping to it


def test_a_constant_batch_loss_stays_constant_when_smoothed(plots, qtbot):
    for step in range(1, 6):
        plots.add_batch(BatchEnd(1, step, 0.5))
    qtbot.waitUntil(lambda: len(drawn(plots.batch, "smoothed")[0]) == 5, timeout=2000)
    assert drawn(plots.batch, "smoothed")[1] == pytest.approx([0.5] * 5)
    plots.clear()
    plots.add_batch(BatchEnd(1, 1, 3.0))  # a new run does not inherit the old average
    assert plots.batch.series("smoothed")[1] == pytest.approx([3.0])


def test_nan_points_are_skipped_and_regression_hides_accuracy(plots, qtbot):
    plots.add_epoch(epoch(1, 0.5, math.nan))  # a NaN point is not drawn
    plots.add_epoch(epoch(2, 0.4))  # a regression without a test set: no accuracy at all
    qtbot.waitUntil(lambda: len(drawn(plots.loss, "train")[0]) == 2, timeout=2000)
    assert plots.loss.series("test") == ([], [])
    assert plots.loss.in_legend() == ["train"]
    assert not plots.accuracy.isVisible() and plots.loss.isVisible()
    plots.clear()  # a new run may be a classification again
    assert plots.accuracy.isVisible()
    plots.add_epoch(epoch(1, 0.5, 0.6, 0.7, 0.8))
    assert plots.accuracy.isVisible()


def test_the_validation_loss_is_drawn_when_the_run_has_one(plots, qtbot):
    plots.add_epoch(epoch(1, 0.9, 1.0, 0.5, 0.25, val_loss=0.95, val_accuracy=0.3))
    plots.add_epoch(epoch(2, 0.6, 0.8, 0.75, 0.5, val_loss=0.7, val_accuracy=0.45))
    plots.redraw()
    assert drawn(plots.loss, "validation") == ([1.0, 2.0], [0.95, 0.7])
    assert drawn(plots.accuracy, "validation")[1] == [0.3, 0.45]
    assert plots.loss.in_legend() == ["train", "validation", "test"]
    colours = {plots.loss.curve(n).opts["pen"].color().name() for n in plots.loss.in_legend()}
    assert len(colours) == 3


def test_log_y_toggle_switches_the_axis_mode(plots):
    plot = plots.loss
    assert not plot.is_log_y()
    plot.log_check.click()
    assert plot.is_log_y()
    assert plot.plot_item.getAxis("left").logMode
    plot.set_log_y(False)
    assert not plot.is_log_y()
    assert not plot.log_check.isChecked()


def test_csv_export_writes_every_series_by_epoch(plots, tmp_path):
    plots.add_epoch(epoch(1, 0.9, 1.0, 0.5, 0.25))
    plots.add_epoch(epoch(2, 0.6, 0.8, 0.75, 0.5))
    plots.loss.save_csv(tmp_path / "loss.csv")
    plots.accuracy.save_csv(tmp_path / "acc.csv")
    with open(tmp_path / "loss.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["epoch", "train", "test"], ["1", "0.9", "1.0"], ["2", "0.6", "0.8"]]
    # (the validation series has no points in this run, so it has no column either)
    with open(tmp_path / "acc.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["epoch", "train", "test"]
    assert [float(v) for v in rows[2][1:]] == [0.75, 0.5]


def test_png_export_writes_an_image_of_the_plot(plots, tmp_path):
    plots.add_epoch(epoch(1, 0.9, 1.0))
    plots.add_epoch(epoch(2, 0.6, 0.8))
    out = tmp_path / "loss.png"
    plots.loss.save_png(out)
    image = QImage(str(out))
    assert not image.isNull()
    assert image.width() > 100 and image.height() > 50


def test_png_export_to_a_missing_folder_raises_oserror(plots, tmp_path):
    with pytest.raises(OSError):
        plots.loss.save_png(tmp_path / "missing" / "loss.png")


def test_clear_starts_a_new_run_and_keeps_the_old_one_as_a_faint_ghost(plots, qtbot):
    for n in (1, 2, 3):
        plots.add_epoch(epoch(n, 1.0 / n, 1.2 / n))
    plots.redraw()
    plots.clear()
    assert plots.loss.series("train") == ([], [])
    assert drawn(plots.loss, "train") == ([], [])
    assert plots.loss.ghost_count() == 2  # train and test of the previous run
    ghost = plots.loss._ghosts[0]
    assert ghost.opts["pen"].color().alphaF() < 0.5
    plots.clear(keep_ghost=False)
    assert plots.loss.ghost_count() == 0


def test_axes_are_labelled_and_series_are_in_the_legend(plots):
    item = plots.loss.plot_item
    assert item.getAxis("bottom").labelText == "epoch"
    assert item.getAxis("left").labelText == "loss"
    assert [label.text for _sample, label in plots.loss.legend.items] == []  # no points yet
    plots.add_epoch(epoch(1, 0.9, 1.0))
    plots.redraw()
    names = [label.text for _sample, label in plots.loss.legend.items]
    assert names == ["train", "test"]
    train = plots.loss.curve("train").opts["pen"].color()
    test = plots.loss.curve("test").opts["pen"].color()
    assert train != test


def test_plots_follow_a_dark_palette(plots):
    light_bg = plots.loss.plot_widget.backgroundBrush().color()
    plots.setPalette(dark_palette())
    dark_bg = plots.loss.plot_widget.backgroundBrush().color()
    assert dark_bg.lightness() < 80
    assert dark_bg != light_bg
    text = plots.loss.plot_item.getAxis("left").textPen().color()
    assert text == dark_palette().color(QPalette.ColorRole.Text)


# A metric a newcomer adds: one computation in the recipe (here as source text, so that the
# exported script can get it too) and one plot declaration. Nothing else is edited.
NEW_METRIC = '''
def weight_norm(run):
    """The L2 norm of all the model's parameters."""
    return sum(float(p.detach().pow(2).sum()) for p in run.model.parameters()) ** 0.5


METRICS.append(("weight_norm", weight_norm))
'''


@pytest.fixture
def new_metric(monkeypatch):
    from designer.core.training import recipe
    from designer.ui import plots as plots_module

    monkeypatch.setattr(recipe, "METRICS", list(recipe.METRICS))
    exec(NEW_METRIC, {"METRICS": recipe.METRICS})  # noqa: S102
    declared = EpochPlot("weights", "Weight norm", "norm", (Series("weight_norm", "w", "#a37"),))
    monkeypatch.setattr(plots_module, "EPOCH_PLOTS", [*plots_module.EPOCH_PLOTS, declared])


def test_a_new_metric_reaches_the_plot_the_run_files_and_the_script_log(
    new_metric, qtbot, tmp_path
):
    import json
    import types

    import torch

    from designer.core.training.engine import train_project
    from designer.core.training.run import train_to_dir
    from designer.core.training.script import training_script
    from tests.core.helpers import example

    project = example("iris_mlp", epochs=2)
    events = [e for e in train_project(project) if isinstance(e, EpochEnd)]
    norms = [e.metrics["weight_norm"] for e in events]
    assert len(norms) == 2 and norms[0] != norms[1]

    widget = TrainingPlots()
    qtbot.addWidget(widget)
    for event in events:
        widget.add_epoch(event)
    widget.redraw()
    assert drawn(widget.plot("weights"), "w") == ([1.0, 2.0], norms)
    assert widget.plot("weights") in widget.plots

    train_to_dir(project, tmp_path, progress=False)
    with open(tmp_path / "metrics.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["weight_norm"]) for r in rows] == pytest.approx(norms, rel=1e-6)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["final"]["weight_norm"] == pytest.approx(norms[-1], rel=1e-6)
    assert summary["best"]["weight_norm"] > 0

    script = types.ModuleType("train")
    exec(compile(training_script(project), "train.py", "exec"), script.__dict__)  # noqa: S102
    exec(NEW_METRIC, script.__dict__)  # the same line, in the recipe the script embeds  # noqa: S102
    lines: list[str] = []
    threads = torch.get_num_threads()
    try:
        script.fit(2, torch.device("cpu"), log=lines.append)
    finally:
        torch.set_num_threads(threads)
    logged = [float(line.split("weight_norm ")[1].split()[0]) for line in lines]
    assert logged == pytest.approx(norms, rel=1e-5)


def test_the_legend_never_covers_a_curve(plots, qtbot):
    """The legend lives outside the plotting area, so a rising accuracy curve ends in plain view."""
    for n in range(1, 11):
        plots.add_epoch(epoch(n, 1.0 / n, 1.2 / n, n / 10, n / 11))
    plots.redraw()
    accuracy = plots.accuracy
    assert accuracy.in_legend() == ["train", "test"]
    qtbot.waitUntil(lambda: accuracy.legend.sceneBoundingRect().width() > 0, timeout=2000)
    view = accuracy.plot_item.getViewBox().sceneBoundingRect()
    assert not accuracy.legend.sceneBoundingRect().intersects(view)
