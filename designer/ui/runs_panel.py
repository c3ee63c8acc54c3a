"""The Runs panel: every recorded run of the project, sortable by any metric, curves overlaid,
a run's design and weights restored in one undo step, two runs diffed (settings side by side,
changed layers coloured on the canvas). Also records the app's own training runs.

`install(window)` adds the Runs and Search docks; the main window calls it once.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.core.runs.diff import RunDiff, diff_projects
from designer.core.runs.store import Run, list_runs, runs_root
from designer.ui.commands import Command

if TYPE_CHECKING:
    from designer.ui.search_panel import SearchPanel

ADDED, CHANGED = QColor("#2e9d4f"), QColor("#d08a10")
FIXED_COLUMNS = ("run", "status", "source", "epochs", "lr")
TENSORBOARD_KEY = "experiments/tensorboard_dir"


class RestoreDesign(Command):
    """Replace the whole design (graph and training settings) and the trained weights, as one
    undo step; undo puts back the design and weights there were before."""

    def __init__(self, document, project, state: dict | None, weights, text: str) -> None:
        super().__init__(document.model_graph, text)
        self.document, self.weights = document, weights
        self.new = (project.graph.copy(), copy.deepcopy(project.training), state)
        old_state = weights.get() if weights else None
        old = document.model_graph.copy()
        self.old = (old, copy.deepcopy(document.project.training), old_state)

    def redo(self) -> None:
        self._apply(*self.new)

    def undo(self) -> None:
        self._apply(*self.old)

    def _apply(self, graph, training, state) -> None:
        g = self.graph
        g.clear()
        for name, block in graph.blocks.items():
            g.add_block(name, block.copy())
        g.extend(graph.nodes.values(), graph.edges)
        self.document.project.training = copy.deepcopy(training)
        if self.weights:
            self.weights.set(state)


class RunRecording(QObject):
    """Records each training run of the app's Training panel into the run history."""

    recorded = Signal(object)  # Run

    def __init__(self, document, settings: QSettings | None = None, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.settings = settings or QSettings()

    def attach(self, panel) -> None:
        panel.training_started.connect(lambda: self._begin(panel))

    def _begin(self, panel) -> None:
        from designer.core.runs.record import RunRecorder

        # NOTE: the panel makes one TrainingWorker per run; its signals carry the core events.
        worker = panel._worker
        if worker is None:
            return
        project = self.document.project
        recorder = RunRecorder(project, runs_root(project.path, project.name), source="app")
        worker.run_id = recorder.dir.name  # the trained weights name their run
        for signal in (worker.started, worker.epoch, worker.finished, worker.failed):
            signal.connect(recorder.observe)
        worker.done.connect(lambda: self._finish(recorder, worker))

    def _finish(self, recorder, worker) -> None:
        state = worker.trained_state
        run = recorder.finish(_StateModel(state) if state is not None else None)
        logdir = self.settings.value(TENSORBOARD_KEY, "")
        if logdir:
            from designer.core.runs.tensorboard import write_scalars

            write_scalars(run, str(logdir))
        self.recorded.emit(run)


class _StateModel:
    """What save_weights needs of a model: its state dict."""

    def __init__(self, state: dict) -> None:
        self._state = state

    def state_dict(self) -> dict:
        return self._state


class _Num(QTableWidgetItem):
    """A cell that sorts by number (blank cells last)."""

    def __init__(self, value: float | None) -> None:
        super().__init__("—" if value is None else f"{value:.4g}")
        self.value = math.inf if value is None else value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return self.value < getattr(other, "value", math.inf)


class RunsPanel(QWidget):
    """Lists runs; overlays curves; restores and diffs. Dialogs are injectable for tests."""

    restored = Signal(str)  # run id

    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_ = window
        self.document = window.document
        self.runs: list[Run] = []
        self.last_diff: RunDiff | None = None
        self.ask_csv_path = lambda: QFileDialog.getSaveFileName(
            self, "Export runs", "runs.csv", "CSV (*.csv)"
        )[0]
        self.table = named(QTableWidget(0, 0), "runs_table")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemChanged.connect(lambda _i: self.redraw())
        self.curve_choice = named(QComboBox(), "runs_metric")
        self.curve_choice.currentTextChanged.connect(lambda _t: self.redraw())
        buttons = QHBoxLayout()
        self.buttons = {}
        for key, text, slot in (
            ("refresh", "Refresh", self.refresh),
            ("restore", "Restore", self._restore_selected),
            ("diff", "Diff", self._diff_selected),
            ("clear", "Clear colours", self.clear_overlays),
            ("csv", "Export CSV…", self._export),
        ):
            b = named(QPushButton(text), f"runs_{key}")
            b.clicked.connect(slot)
            buttons.addWidget(b)
            self.buttons[key] = b
        self.tensorboard = named(QLineEdit(), "runs_tensorboard")
        self.tensorboard.setPlaceholderText("TensorBoard folder for the app's runs (optional)")
        self.tensorboard.setText(str(window.settings.value(TENSORBOARD_KEY, "")))
        self.tensorboard.editingFinished.connect(
            lambda: window.settings.setValue(TENSORBOARD_KEY, self.tensorboard.text().strip())
        )
        buttons.addWidget(self.tensorboard, 1)
        self.diff_table = named(QTableWidget(0, 3), "runs_diff")
        self.diff_table.setHorizontalHeaderLabels(["setting / layer", "A", "B"])
        self.diff_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.diff_table.horizontalHeader().setStretchLastSection(True)
        self.diff_title = QLabel(textFormat=Qt.TextFormat.PlainText)
        import pyqtgraph as pg

        from designer.ui.plots import follow_palette

        self.plot = pg.PlotWidget()
        legend = self.plot.addLegend(offset=(-10, 10))
        self.plot.setLabel("bottom", "epoch")
        follow_palette(self.plot, self.plot.palette(), legend)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.table, 1)
        lv.addLayout(buttons)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(QLabel("Curve:"))
        head.addWidget(self.curve_choice, 1)
        rv.addLayout(head)
        rv.addWidget(self.plot, 2)
        rv.addWidget(self.diff_title)
        rv.addWidget(self.diff_table, 1)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.document.project_replaced.connect(self.refresh)
        self.refresh()

    # -- listing ----------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        project = self.document.project
        return runs_root(project.path, project.name)

    def refresh(self) -> None:
        checked = set(self.checked_ids())
        self.runs = list_runs(self.root)
        metrics: list[str] = []
        for run in self.runs:
            metrics += [m for m in run.metric_names() if m not in metrics]
        columns = [*FIXED_COLUMNS, *metrics, "wall_seconds"]
        self.table.blockSignals(True)
        self.table.setSortingEnabled(False)
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setRowCount(len(self.runs))
        for row, run in enumerate(self.runs):
            trial = run.info.get("trial")
            source = f"trial {trial.get('number')}" if trial else run.info.get("source", "")
            first = QTableWidgetItem(run.id)
            first.setData(Qt.ItemDataRole.UserRole, run.id)
            first.setFlags(first.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            first.setCheckState(
                Qt.CheckState.Checked if run.id in checked else Qt.CheckState.Unchecked
            )
            cells = [first, QTableWidgetItem(run.status), QTableWidgetItem(str(source))]
            cells += [_Num(run.metric("epochs")), _Num(_float(run.settings.get("lr")))]
            cells += [_Num(run.metric(m)) for m in metrics] + [_Num(run.metric("wall_seconds"))]
            for col, item in enumerate(cells):
                self.table.setItem(row, col, item)
        self.table.setSortingEnabled(True)
        self.table.blockSignals(False)
        curves = sorted({k for r in self.runs for k in r.curves() if k not in ("epoch",)})
        current = self.curve_choice.currentText() or "test_loss"
        self.curve_choice.blockSignals(True)
        self.curve_choice.clear()
        self.curve_choice.addItems(curves)
        self.curve_choice.setCurrentIndex(max(0, self.curve_choice.findText(current)))
        self.curve_choice.blockSignals(False)
        self.redraw()

    def sort_by(self, metric: str, descending: bool = False) -> None:
        for col in range(self.table.columnCount()):
            if self.table.horizontalHeaderItem(col).text() == metric:
                order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
                self.table.sortItems(col, order)
                return
        raise KeyError(metric)

    def row_ids(self) -> list[str]:
        """Run ids in the order the table shows them."""
        return [
            self.table.item(r, 0).data(Qt.ItemDataRole.UserRole)
            for r in range(self.table.rowCount())
        ]

    def checked_ids(self) -> list[str]:
        return [
            self.table.item(r, 0).data(Qt.ItemDataRole.UserRole)
            for r in range(self.table.rowCount())
            if self.table.item(r, 0).checkState() == Qt.CheckState.Checked
        ]

    def set_checked(self, ids) -> None:
        ids = set(ids)
        self.table.blockSignals(True)
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            on = item.data(Qt.ItemDataRole.UserRole) in ids
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.table.blockSignals(False)
        self.redraw()

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        return [self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in rows]

    def run(self, run_id: str) -> Run:
        return next(r for r in self.runs if r.id == run_id)

    # -- curves -----------------------------------------------------------------------------
    def redraw(self) -> None:
        import pyqtgraph as pg

        self.plot.clear()
        name = self.curve_choice.currentText()
        self.plotted: dict[str, list[float]] = {}
        for i, run_id in enumerate(self.checked_ids()):
            curves = self.run(run_id).curves()
            if name not in curves:
                continue
            ys = curves[name]
            xs = curves.get("epoch", list(range(1, len(ys) + 1)))
            self.plotted[run_id] = ys
            self.plot.plot(xs, ys, pen=pg.mkPen(pg.intColor(i, hues=9), width=2), name=run_id)
        self.plot.setLabel("left", name)

    # -- restore ----------------------------------------------------------------------------
    def restore(self, run_id: str) -> str | None:
        """Put the run's design (graph and settings) and its weights into the canvas as one
        undo step. Returns the refusal (read-only while training) or None."""
        run = self.run(run_id)
        refusal = push_design(self.window_, run.project(), run, f"Restore run {run.id}")
        if refusal is None:
            self.restored.emit(run.id)
        return refusal

    def _restore_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.restore(ids[0])

    # -- diff -------------------------------------------------------------------------------
    def diff(self, a_id: str, b_id: str) -> RunDiff:
        """Show the diff from run A to run B; colour B's added/changed layers on the canvas
        where the canvas holds them (after restoring B, all of them)."""
        a, b = self.run(a_id), self.run(b_id)
        diff = diff_projects(a.project(), b.project())
        self.last_diff = diff
        self.diff_title.setText(f"A: {a.id}   B: {b.id}")
        rows = [(r.key, _text(r.a), _text(r.b), r.changed) for r in diff.settings]
        for c in diff.layers:
            params = ", ".join(f"{k} {_text(x)} → {_text(y)}" for k, (x, y) in c.params.items())
            a_text = "—" if c.kind == "added" else c.name
            b_text = "—" if c.kind == "removed" else f"{c.name} ({c.kind}) {params}".strip()
            rows.append((f"layer {c.name} ({c.type_id})", a_text, b_text, True))
        self.diff_table.setRowCount(len(rows))
        bold = QFont()
        bold.setBold(True)
        for i, (key, va, vb, changed) in enumerate(rows):
            for j, text in enumerate((("* " if changed else "  ") + key, va, vb)):
                item = QTableWidgetItem(text)
                if changed:
                    item.setFont(bold)
                    item.setForeground(QBrush(CHANGED))
                self.diff_table.setItem(i, j, item)
        self.colour_canvas(diff)
        return diff

    def colour_canvas(self, diff: RunDiff) -> None:
        self.clear_overlays()
        items = self.window_.canvas.canvas_scene.nodes
        for c in diff.layers:
            item = items.get(c.node_id)
            if item is None or c.kind == "removed":
                continue
            params = ", ".join(f"{k} {_text(x)} → {_text(y)}" for k, (x, y) in c.params.items())
            colour = ADDED if c.kind == "added" else CHANGED
            item.set_overlay(c.kind, colour, f"{c.kind} in B" + (f": {params}" if params else ""))

    def clear_overlays(self) -> None:
        for item in self.window_.canvas.canvas_scene.nodes.values():
            item.set_overlay()

    def _diff_selected(self) -> None:
        ids = self.selected_ids() or self.checked_ids()
        if len(ids) == 2:
            self.diff(*ids)

    def _export(self) -> None:
        from designer.core.runs.export import export_csv

        path = self.ask_csv_path()
        if path:
            export_csv(self.runs, path)


class TrainedWeights:
    """The Training panel's trained weights (the CPU state dict of its last model)."""

    def __init__(self, panel) -> None:
        self.panel = panel

    def get(self) -> dict | None:
        return self.panel.trained_state()

    def set(self, state: dict | None) -> None:
        self.panel._trained = state  # NOTE: what load_weights() sets, without a file


def push_design(window, project, run: Run | None, text: str) -> str | None:
    """Replace the window's design by `project` and its weights by `run`'s (when it has
    some) as one undo step. Returns the refusal (read-only while training) or None."""
    from designer.core.weights import read_weights

    state = read_weights(run.weights_path) if run is not None and run.weights_path else None
    panel = window.training_panel
    weights = TrainedWeights(panel) if panel is not None else None
    command = RestoreDesign(window.document, project, state, weights, text)
    refusal = window.document._push(command)  # NOTE: the document's one way onto its stack
    if refusal is None and panel is not None:
        panel.reload()
    return refusal


def named(widget, name: str):
    """`widget` with an object name (for tests and style sheets)."""
    widget.setObjectName(name)
    return widget


def _float(value) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _text(value) -> str:
    if value is None:
        return "—"
    return f"{value:g}" if isinstance(value, float) else str(value)


class Experiments(QObject):
    """The Runs and Search docks of a window (built when first shown: they import pyqtgraph)
    and the recording of its training runs."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window_ = window
        self.recording = RunRecording(window.document, window.settings, self)
        self._runs: RunsPanel | None = None
        self._search: SearchPanel | None = None
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.docks = {
            "runs": window._dock("Runs", "runs", QWidget(), bottom),
            "search": window._dock("Search", "search", QWidget(), bottom),
        }
        window.docks.update(self.docks)
        window.tabifyDockWidget(window.docks["training"], self.docks["runs"])
        window.tabifyDockWidget(self.docks["runs"], self.docks["search"])
        for dock in self.docks.values():
            dock.visibilityChanged.connect(lambda shown: shown and self.runs)
        self.recording.recorded.connect(lambda _run: self._runs and self._runs.refresh())
        window.installEventFilter(self)

    def attach(self, training_panel) -> None:
        self.recording.attach(training_panel)

    @property
    def runs(self) -> RunsPanel:
        if self._runs is None:
            from designer.ui.search_panel import SearchPanel

            self._runs = RunsPanel(self.window_)
            self._search = SearchPanel(self.window_, self._runs)
            self.docks["runs"].setWidget(self._runs)
            self.docks["search"].setWidget(self._search)
        return self._runs

    @property
    def search(self):
        self.runs  # noqa: B018 - builds both panels
        return self._search

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt override)
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.Close and self._search is not None:
            self._search.stop_and_wait()
        return False


def install(window) -> Experiments:
    """Add the Runs and Search docks to `window` (bottom, beside Training)."""
    return Experiments(window)
