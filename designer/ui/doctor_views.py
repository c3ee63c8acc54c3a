"""The doctor's plots: gradient flow (gradient norm by depth), the learning-rate range test,
the decision boundary of 2-D data, and card colouring by a layer statistic."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from designer.core.training.doctor.stats import STATISTICS, HealthReport
from designer.ui.plots import follow_palette

BOUNDARY_COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
                    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]  # fmt: skip


def _plot(title: str, x: str, y: str) -> pg.PlotWidget:
    widget = pg.PlotWidget()
    item = widget.getPlotItem()
    item.setTitle(title)
    item.setLabel("bottom", x)
    item.setLabel("left", y)
    item.showGrid(x=True, y=True, alpha=0.2)
    for side in ("left", "bottom"):
        item.getAxis(side).enableAutoSIPrefix(False)
    follow_palette(widget, widget.palette())
    return widget


class GradientFlowPlot(QWidget):
    """Gradient norm of each weighted layer by depth, on a log axis: a vanishing gradient is a
    slope of several decades towards the input."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = _plot("Gradient flow", "layer (input → output)", "gradient norm (log)")
        self.plot.getPlotItem().setLogMode(y=True)
        self.curve = self.plot.plot(
            [], [], pen=pg.mkPen("#3b7dd8", width=2), symbol="o", symbolSize=7
        )
        self.names: list[str] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    def show_report(self, report: HealthReport) -> None:
        layers = [h for h in report.layers if h.grad_norm is not None and h.grad_norm > 0]
        self.names = [h.layer for h in layers]
        self.curve.setData(list(range(len(layers))), [h.grad_norm for h in layers])
        axis = self.plot.getPlotItem().getAxis("bottom")
        axis.setTicks([[(i, n) for i, n in enumerate(self.names)]])

    def values(self) -> tuple[list[float], list[float]]:
        xs, ys = self.curve.getData()
        return ([] if xs is None else list(xs)), ([] if ys is None else list(ys))


class RangePlot(QWidget):
    """Loss against learning rate (log x) from the range test, the suggestion marked."""

    use = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = _plot("Learning-rate range test", "learning rate (log)", "smoothed loss")
        self.plot.getPlotItem().setLogMode(x=True)
        self.curve = self.plot.plot([], [], pen=pg.mkPen("#d8753b", width=2))
        self.marker = pg.InfiniteLine(
            angle=90, pen=pg.mkPen("#2a9d3a", width=2, style=Qt.PenStyle.DashLine)
        )
        self.marker.hide()
        self.plot.addItem(self.marker)
        self.suggestion: float | None = None
        self.use_button = QPushButton("Use suggested rate")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(lambda: self.suggestion and self.use.emit(self.suggestion))
        self.note = QLabel("Press Find LR to sweep the learning rate on a copy of the model.")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(self.note, 1)
        bar.addWidget(self.use_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 1)

    def show_result(self, result) -> None:
        self.curve.setData(result.lrs, result.losses)
        self.suggestion = result.suggestion if math.isfinite(result.suggestion) else None
        if self.suggestion:
            self.marker.setValue(math.log10(self.suggestion))
            self.marker.show()
            self.use_button.setText(f"Use {self.suggestion:g}")
            self.use_button.setEnabled(True)
            self.note.setText(
                f"Suggested learning rate {self.suggestion:g}: a decade below {result.min_loss_lr:.3g}, "
                f"where the loss was lowest ({len(result.lrs)} steps, {result.seconds:.1f} s)."
            )


class BoundaryView(QWidget):
    """The classifier's regions over a grid, under the training points (2-D data only)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = _plot("Decision boundary", "feature 1", "feature 2")
        self.plot.getPlotItem().setAspectLocked(True)
        self.image = pg.ImageItem()
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.scatter = pg.ScatterPlotItem(size=5, pen=pg.mkPen("k", width=0.5))
        self.plot.addItem(self.scatter)
        self.boundary = None
        self.note = QLabel(
            "Train a classifier on 2-D data (moons, circles, spirals, XOR, blobs) to see its regions."
        )
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.plot, 1)

    def show_boundary(self, boundary, points: np.ndarray, labels: np.ndarray) -> None:
        self.boundary = boundary
        colours = np.array([BOUNDARY_COLOURS[c % len(BOUNDARY_COLOURS)] for c in range(10)], float)
        rgb = colours[boundary.classes % len(colours)]
        fade = (0.35 + 0.45 * (boundary.confidence[..., None] - 0.5) * 2).clip(0.25, 0.8)
        rgba = np.concatenate(
            [rgb * fade + 255 * (1 - fade), np.full(rgb.shape[:2] + (1,), 255.0)], -1
        )
        self.image.setImage(rgba.transpose(1, 0, 2).astype(np.uint8), levels=(0, 255))
        xs, ys = boundary.xs, boundary.ys
        dx, dy = xs[1] - xs[0], ys[1] - ys[0]
        self.image.setRect(
            float(xs[0] - dx / 2), float(ys[0] - dy / 2), float(dx * len(xs)), float(dy * len(ys))
        )
        brushes = [pg.mkBrush(*BOUNDARY_COLOURS[int(c) % len(BOUNDARY_COLOURS)]) for c in labels]
        self.scatter.setData(points[:, 0], points[:, 1], brush=brushes)
        agree = boundary.agreement(points, labels)
        self.note.setText(f"{agree:.0%} of the training points lie in a region of their own class.")


def _ramp(t: float) -> QColor:
    """0 -> blue (low), 0.5 -> yellow, 1 -> red (high)."""
    t = min(1.0, max(0.0, t))
    if t < 0.5:
        u = t / 0.5
        return QColor(int(60 + u * 190), int(110 + u * 110), int(220 - u * 170))
    u = (t - 0.5) / 0.5
    return QColor(250, int(220 - u * 160), int(50 - u * 10))


LOG_STATS = ("grad_norm", "update_ratio")


class NodeColouring(QWidget):
    """'Colour cards by' a layer statistic, with its legend; off by default."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = None
        self.report: HealthReport | None = None
        self.layers: dict[str, str] = {}  # layer attribute -> node id
        self.choice = QComboBox()
        self.choice.addItem("Colour cards: off", "")
        for key, title in STATISTICS.items():
            self.choice.addItem(f"Colour cards by {title}", key)
        self.choice.currentIndexChanged.connect(self.refresh)
        self.legend = QLabel("")
        self.legend.setTextFormat(Qt.TextFormat.PlainText)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.choice)
        layout.addWidget(self.legend, 1)

    @property
    def statistic(self) -> str:
        return str(self.choice.currentData() or "")

    def set_statistic(self, key: str) -> None:
        self.choice.setCurrentIndex(max(0, self.choice.findData(key)))

    def set_report(self, report: HealthReport, layers: dict[str, str]) -> None:
        self.report, self.layers = report, layers
        self.refresh()

    def colours(self) -> dict[str, tuple[str, QColor]]:
        """node id -> (text, colour) for the chosen statistic."""
        stat = self.statistic
        if not stat or self.report is None:
            return {}
        values: dict[str, float] = {}
        for h in self.report.layers:
            v = h.get(stat)
            if v is not None and math.isfinite(v):
                values[h.layer] = float(v)
        if not values:
            return {}
        log = stat in LOG_STATS
        scaled = {k: math.log10(max(v, 1e-30)) if log else v for k, v in values.items()}
        lo, hi = min(scaled.values()), max(scaled.values())
        if not log and stat.endswith("fraction"):
            lo, hi = 0.0, 1.0
        out = {}
        for layer, v in scaled.items():
            node = self.layers.get(layer)
            if node is None:
                continue
            t = 0.5 if hi == lo else (v - lo) / (hi - lo)
            out[node] = (f"{values[layer]:.2g}", _ramp(t))
        self._legend(stat, lo, hi, log)
        return out

    def _legend(self, stat: str, lo: float, hi: float, log: bool) -> None:
        shown = (lambda v: f"{10**v:.1g}") if log else (lambda v: f"{v:.2g}")
        self.legend.setText(
            f"blue {shown(lo)}  →  yellow  →  red {shown(hi)}  ({STATISTICS[stat]})"
        )

    def refresh(self) -> None:
        if self.scene is None:
            return
        # Statistics are the whole model's layers: none on a block opened in place.
        colours = self.colours() if not self.scene.document.path else {}
        if not colours:
            self.legend.setText("")
        for node_id, item in self.scene.nodes.items():
            text, colour = colours.get(node_id, ("", None))
            item.set_overlay(
                text, colour, f"{STATISTICS.get(self.statistic, '')}: {text}" if text else ""
            )
