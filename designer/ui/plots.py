"""Live training plots: loss per epoch, smoothed batch loss, accuracy.

Which metric goes into which epoch plot is declared once, in EPOCH_PLOTS: plotting a new metric
(a name in EpochEnd.metrics, see recipe.METRICS) is one Series there. A series shows (and
enters its legend) only once its metric arrives; a plot none of whose metrics a run has is
hidden for that run (no accuracy plot for a regression).

Points arrive as often as the engine sends them; they are buffered and drawn by a single-shot
QTimer that redraws one plot with new points per tick, so the three plots together redraw at most
10 times a second however fast the events come.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QBoxLayout,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from designer.core.training.events import BatchEnd, EpochEnd
from designer.ui import plain

REDRAW_MS = 100  # one plot redrawn per tick: 10 plot redraws a second at most
MAX_PAUSE_MS = 1000  # however slow painting is, a plot is at most a second behind
PLOT_ASPECT = 1.2  # the shape of one plot the curves' arrangement aims at (width / height)
EMA_BETA = 0.6  # memory of the smoothed batch loss; reports are already means of a few steps

# NOTE: mid-lightness colours that keep their contrast on both white and near-black backgrounds.
TRAIN_COLOUR = "#2f7fd8"
TEST_COLOUR = "#e8772e"
VAL_COLOUR = "#2a9d5c"
RAW_COLOUR = "#8a8f98"


@dataclass(frozen=True)
class Series:
    """One curve of an epoch plot: the metric it draws, under `label` in the legend."""

    metric: str
    label: str
    colour: str
    symbol: str | None = None


@dataclass(frozen=True)
class EpochPlot:
    """A plot of metrics against the epoch; `key` is its attribute on TrainingPlots."""

    key: str
    title: str
    y_label: str
    series: tuple[Series, ...]
    log_y: bool = True  # offer the log-y toggle


EPOCH_PLOTS: list[EpochPlot] = [
    EpochPlot(
        "loss",
        "Loss per epoch",
        "loss",
        (
            Series("train_loss", "train", TRAIN_COLOUR, "o"),
            Series("val_loss", "validation", VAL_COLOUR, "s"),
            Series("test_loss", "test", TEST_COLOUR, "t"),
        ),
    ),
    EpochPlot(
        "accuracy",
        "Accuracy",
        "accuracy",
        (
            Series("train_accuracy", "train", TRAIN_COLOUR, "o"),
            Series("val_accuracy", "validation", VAL_COLOUR, "s"),
            Series("test_accuracy", "test", TEST_COLOUR, "t"),
        ),
        log_y=False,  # accuracy lives in [0, 1]: a log axis only distorts it
    ),
]


def follow_palette(
    widget: pg.PlotWidget, palette: QPalette, legend: pg.LegendItem | None = None
) -> None:
    """Colour a plot from the application palette (pyqtgraph's own default is black), so every
    plot of the app reads well in the light and the dark theme."""
    widget.setBackground(palette.color(QPalette.ColorRole.Base))
    text = palette.color(QPalette.ColorRole.Text)
    item = widget.getPlotItem()
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))
    item.titleLabel.setText(item.titleLabel.text, color=text.name())
    if legend is not None:
        legend.setLabelTextColor(text)


class _TimedPlotWidget(pg.PlotWidget):
    """A PlotWidget that adds up the time it spends painting, so redraws can be paced."""

    painted = 0.0  # seconds, summed over every paint of this widget

    def paintEvent(self, event) -> None:
        started = time.perf_counter()
        super().paintEvent(event)
        self.painted += time.perf_counter() - started


class SeriesPlot(QWidget):
    """One pyqtgraph plot with named series, a log-y toggle and PNG/CSV export.

    Series hold plain Python lists; `redraw()` copies them into the curves. The previous run's
    curves can be kept as faint dashed "ghosts" for comparison (`clear(keep_ghost=True)`).
    """

    def __init__(self, title: str, x_label: str, y_label: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.x_label = x_label
        self._data: dict[str, tuple[list[float], list[float]]] = {}
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._ghosts: list[pg.PlotDataItem] = []
        self._dirty = False  # points buffered since the last redraw

        self.plot_widget = _TimedPlotWidget()
        self.plot_item: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot_item.setTitle(title)
        self.plot_item.setLabel("bottom", x_label)
        self.plot_item.setLabel("left", y_label)
        for side in ("left", "bottom"):
            # No "(x0.001)" rescaling: losses and accuracies read best as plain numbers.
            self.plot_item.getAxis(side).enableAutoSIPrefix(False)
        self.plot_item.showGrid(x=True, y=True, alpha=0.2)
        self.plot_item.setMenuEnabled(True)
        # NOTE: the legend sits in its own row under the x axis, one line across, so it can never
        # cover a curve (inside the view box it hid the end of a rising accuracy curve).
        self.legend = pg.LegendItem(colCount=4, frame=False, verSpacing=-6)
        self.legend.setParentItem(self.plot_item)
        self.plot_item.layout.setRowFixedHeight(4, 30)  # the legend's row, below the x axis
        self.legend.anchor(itemPos=(0.5, 1), parentPos=(0.5, 1), offset=(0, 0))

        self.log_check = QCheckBox("Log y")
        self.log_check.setToolTip("Logarithmic loss axis: shows slow late progress")
        self.log_check.toggled.connect(self.set_log_y)
        png = QPushButton("PNG…")
        png.setToolTip(f"Save the {title.lower()} plot as an image")
        png.clicked.connect(self._ask_png)
        csv_button = QPushButton("CSV…")
        csv_button.setToolTip(f"Save the {title.lower()} numbers as CSV")
        csv_button.clicked.connect(self._ask_csv)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.log_check)
        bar.addStretch(1)
        bar.addWidget(png)
        bar.addWidget(csv_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.plot_widget, 1)
        self._apply_palette()

    # -- data ------------------------------------------------------------------------------
    def add_series(self, name: str, colour: str, width: float = 2.0, symbol: str | None = None):
        """Declare a series; its curve appears in the legend under `name`."""
        pen = pg.mkPen(colour, width=width)
        kwargs = {"symbol": symbol, "symbolSize": 6, "symbolBrush": colour, "symbolPen": None}
        curve = self.plot_item.plot([], [], pen=pen, **(kwargs if symbol else {}))
        curve.opts["name"] = name
        self._curves[name] = curve
        self._data[name] = ([], [])

    def append(self, name: str, x: float, y: float) -> None:
        """Buffer one point; it is drawn at the next `redraw()`. NaN/inf points are skipped."""
        if y is None or not math.isfinite(y):
            return
        xs, ys = self._data[name]
        xs.append(float(x))
        ys.append(float(y))
        self._dirty = True

    def series(self, name: str) -> tuple[list[float], list[float]]:
        """The buffered points of one series (x values, y values)."""
        xs, ys = self._data[name]
        return list(xs), list(ys)

    def in_legend(self) -> list[str]:
        """The names of the series shown in the legend."""
        return [n for n, c in self._curves.items() if self.legend.getLabel(c) is not None]

    def curve(self, name: str) -> pg.PlotDataItem:
        return self._curves[name]

    def redraw(self) -> None:
        """Draw the buffered points. Does nothing when no point came since the last redraw."""
        # NOTE: a redraw repaints the whole plot (axes, legend, symbols): 5-10 ms of GUI-thread
        # Python each, which the training thread waits for (GIL). The epoch plots change once
        # per epoch, so most ticks only need the batch plot.
        if not self._dirty:
            return
        self._dirty = False
        for name, (xs, ys) in self._data.items():
            curve = self._curves[name]
            curve.setData(xs, ys)
            # In the legend while it has points: no "validation" entry in a run without one.
            if bool(xs) != (self.legend.getLabel(curve) is not None):
                if xs:
                    self.legend.addItem(curve, name)
                else:
                    self.legend.removeItem(curve)

    def clear(self, keep_ghost: bool = False) -> None:
        """Forget all points. With `keep_ghost`, the old curves stay behind, faint and dashed."""
        for ghost in self._ghosts:
            self.plot_item.removeItem(ghost)
        self._ghosts = []
        if keep_ghost:
            for name, (xs, ys) in self._data.items():
                if len(xs) < 2 or name.endswith("(raw)"):
                    continue
                colour = QColor(self._curves[name].opts["pen"].color())
                colour.setAlphaF(0.35)
                pen = pg.mkPen(colour, width=1.5, style=pg.QtCore.Qt.PenStyle.DashLine)
                ghost = pg.PlotDataItem(list(xs), list(ys), pen=pen)
                ghost.setToolTip(f"{name}, previous run")
                ghost.setZValue(-10)
                ghost.setLogMode(False, self.is_log_y())
                self.plot_item.addItem(ghost)
                self._ghosts.append(ghost)
        for name in self._data:
            self._data[name] = ([], [])
        self._dirty = True
        self.redraw()

    def is_dirty(self) -> bool:
        """Points are buffered that the next `redraw()` will draw."""
        return self._dirty

    def ghost_count(self) -> int:
        return len(self._ghosts)

    # -- view ------------------------------------------------------------------------------
    def set_log_y(self, on: bool) -> None:
        """Switch the y axis between linear and logarithmic."""
        if self.log_check.isChecked() != on:
            self.log_check.setChecked(on)  # re-enters through toggled
            return
        self.plot_item.setLogMode(x=False, y=on)

    def is_log_y(self) -> bool:
        return bool(self.plot_item.getAxis("left").logMode)

    def changeEvent(self, event: QEvent) -> None:  # Qt override
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        follow_palette(self.plot_widget, self.palette(), self.legend)

    # -- export ----------------------------------------------------------------------------
    def save_png(self, path: str | Path) -> None:
        """Save the plot (without the toolbar) as an image; OSError if it can't be written."""
        self.redraw()
        if not self.plot_widget.grab().save(str(path), "PNG"):
            raise OSError(f"{path}: could not write the image")

    def save_csv(self, path: str | Path) -> None:
        """Write one row per x value and one column per series (blank where a series has no point)."""
        names = [n for n in self._data if self._data[n][0]] or list(self._data)
        rows: dict[float, dict[str, float]] = {}
        for name in names:
            for x, y in zip(*self._data[name], strict=True):
                rows.setdefault(x, {})[name] = y
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow([self.x_label, *names])
            for x in sorted(rows):
                shown_x = int(x) if float(x).is_integer() else x
                writer.writerow([shown_x, *(_fmt(rows[x].get(n)) for n in names)])

    def _ask_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, f"Save {self.title} plot", _default_name(self.title, "png"), "PNG image (*.png)"
        )
        if path:
            self._report(self.save_png, path)

    def _ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, f"Save {self.title} data", _default_name(self.title, "csv"), "CSV (*.csv)"
        )
        if path:
            self._report(self.save_csv, path)

    def _report(self, save, path: str) -> None:

        try:
            save(path)
        except OSError as err:
            plain.show_error(self, "Could not save", str(err))


def _fmt(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _default_name(title: str, ext: str) -> str:
    return title.lower().replace(" ", "_") + "." + ext


class TrainingPlots(QWidget):
    """The three live plots of a run. Feed it events; it redraws on its own timer."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.epoch_plots: dict[str, tuple[EpochPlot, SeriesPlot]] = {}
        for spec in EPOCH_PLOTS:
            plot = SeriesPlot(spec.title, "epoch", spec.y_label)
            for series in spec.series:
                plot.add_series(series.label, series.colour, symbol=series.symbol)
            plot.log_check.setVisible(spec.log_y)
            self.epoch_plots[spec.key] = (spec, plot)
        self.batch = SeriesPlot("Batch loss", "step", "loss")
        self.batch.add_series("batch (raw)", RAW_COLOUR, width=1.0)
        self.batch.add_series("smoothed", TRAIN_COLOUR)
        epoch_plots = [plot for _spec, plot in self.epoch_plots.values()]
        self.plots = (*epoch_plots[:1], self.batch, *epoch_plots[1:])
        self._ema = 0.0
        self._ema_count = 0

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._tick)
        self._next = 0  # the plot the next tick looks at first (round robin)
        self._painted = 0.0  # plot painting time seen by the last tick

        self._layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        for plot in self.plots:
            self._layout.addWidget(plot, 1)

    def resizeEvent(self, event) -> None:
        # Side by side in a wide dock (bottom), stacked in a tall one (side): whichever gives
        # each of the three plots a shape nearer PLOT_ASPECT (width / height). At 1400×900 the
        # curves area is about 690×470: stacked, each plot was a 150-pixel-high strip.
        size = event.size()
        wide = size.width() > PLOT_ASPECT * size.height()
        direction = QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        if self._layout.direction() != direction:
            self._layout.setDirection(direction)
        super().resizeEvent(event)

    def plot(self, key: str) -> SeriesPlot:
        """The epoch plot declared under `key` in EPOCH_PLOTS ("loss", "accuracy", …)."""
        return self.epoch_plots[key][1]

    @property
    def loss(self) -> SeriesPlot:
        return self.plot("loss")

    @property
    def accuracy(self) -> SeriesPlot:
        return self.plot("accuracy")

    def add_epoch(self, event: EpochEnd) -> None:
        """Buffer each declared metric of the epoch; the first epoch of a run hides the plots
        none of whose metrics the run has."""
        for spec, plot in self.epoch_plots.values():
            present = [s for s in spec.series if s.metric in event.metrics]
            if event.epoch == 1:
                plot.setVisible(bool(present))
            for series in present:
                plot.append(series.label, event.epoch, event.metrics[series.metric])
        self._schedule()

    def add_batch(self, event: BatchEnd) -> None:
        if not math.isfinite(event.loss):
            return
        # NOTE: a debiased EMA (as TensorBoard smooths): without the correction the curve
        # starts at the first loss and lags far behind the early, fast descent.
        self._ema = EMA_BETA * self._ema + (1 - EMA_BETA) * event.loss
        self._ema_count += 1
        smoothed = self._ema / (1 - EMA_BETA**self._ema_count)
        self.batch.append("batch (raw)", event.step, event.loss)
        self.batch.append("smoothed", event.step, smoothed)
        self._schedule()

    def clear(self, keep_ghost: bool = True) -> None:
        """Start a new run; the previous one stays behind faintly (learning-rate comparisons)."""
        self.timer.stop()
        self._ema, self._ema_count = 0.0, 0
        for plot in self.plots:
            plot.clear(keep_ghost=keep_ghost)
            plot.setVisible(True)

    def redraw(self) -> None:
        """Draw every buffered point now (the end of a run, an export)."""
        for plot in self.plots:
            plot.redraw()

    def _tick(self) -> None:
        # NOTE: one plot per tick. Redrawing all three at once stalled the window for ~60 ms on
        # 2 cores and, through the GIL, slowed the training thread (bench/bench_gui.py).
        # The pause before the next redraw is 29× the painting done since the last tick, so the
        # plots take about 3% of the GUI thread (and of the GIL the training thread needs),
        # whatever the machine or the dock size.
        painted = sum(plot.plot_widget.painted for plot in self.plots)
        cost_ms = (painted - self._painted) * 1000
        self._painted = painted
        self.timer.setInterval(max(REDRAW_MS, min(int(cost_ms * 29), MAX_PAUSE_MS)))
        n = len(self.plots)
        for k in range(n):
            plot = self.plots[(self._next + k) % n]
            if plot.is_dirty():
                self._next = (self._next + k + 1) % n
                plot.redraw()
                break
        if any(plot.is_dirty() for plot in self.plots):
            self.timer.start()

    def _schedule(self) -> None:
        # NOTE: a single-shot timer started on the first buffered point coalesces every event in
        # the next 50 ms into one redraw, and costs nothing while no run is going.
        if not self.timer.isActive():
            self.timer.start()
