"""The training doctor in the app: a banner per diagnosis with its one-click fix (one undo
step), the marked plot region of the symptom, Check (overfit a few samples) and Find LR (range
test) buttons, gradient flow, decision boundary, evaluation, and card colouring by a layer
statistic."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from designer.core.training.doctor.diagnosis import Diagnosis, Remedy
from designer.ui.doctor_commands import apply_remedy
from designer.ui.doctor_views import BoundaryView, GradientFlowPlot, NodeColouring, RangePlot
from designer.ui.doctor_worker import TaskWorker
from designer.ui.evaluation_view import EvaluationView

REGION_COLOUR = QColor(216, 69, 58, 45)
LOG_SPREAD = 100.0  # losses spanning more than this factor get a log axis


def _label(text: str, bold: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if bold:
        label.setStyleSheet("font-weight: bold;")
    return label


class DiagnosisBanner(QFrame):
    """One diagnosis in plain words, with its first actionable remedy as a button."""

    apply = Signal(object)  # Remedy

    def __init__(self, diagnosis: Diagnosis, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.diagnosis = diagnosis
        self.setObjectName("diagnosisBanner")
        self.setStyleSheet(
            "#diagnosisBanner { background: #fff4e5; border: 1px solid #e0a040; border-radius: 4px; }"
            " #diagnosisBanner QLabel { color: #3a2a10; }"
        )
        self.title = _label(f"⚠ {diagnosis.title[0].upper()}{diagnosis.title[1:]}", bold=True)
        self.text = _label(diagnosis.message)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        actionable = [r for r in diagnosis.remedies if r.actionable]
        self.fix_button: QPushButton | None = None
        row = QHBoxLayout()
        row.addWidget(self.title, 1)
        if actionable:
            self.fix_button = QPushButton(actionable[0].title)
            self.fix_button.setToolTip("Apply this fix (one undo step)")
            self.fix_button.clicked.connect(lambda: self.apply.emit(actionable[0]))
            row.addWidget(self.fix_button)
        if len(actionable) > 1:
            more = QToolButton()
            more.setText("More fixes")
            more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            menu = QMenu(more)
            for remedy in actionable[1:]:
                action = menu.addAction(remedy.title)
                action.setData(remedy)
            menu.triggered.connect(self._chosen)
            more.setMenu(menu)
            row.addWidget(more)
        advice = [r.title for r in diagnosis.remedies if not r.actionable]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(row)
        layout.addWidget(self.text)
        if advice:
            layout.addWidget(_label("Also: " + "; ".join(advice) + "."))

    def _chosen(self, action) -> None:
        self.apply.emit(action.data())


class DoctorPanel(QWidget):
    """Lives in the Training panel; `attach(worker)` before a run starts."""

    settings_changed = Signal()  # a remedy (or its undo) changed the training settings
    select_node = Signal(str)

    def __init__(self, document, plots=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.plots = plots
        self.scene = None
        self.diagnoses: list[Diagnosis] = []
        self.banners: list[DiagnosisBanner] = []
        self.lr_suggestion: float | None = None
        self.trained_state = None
        self._regions: list = []
        self._tasks: list[TaskWorker] = []
        self._worker = None

        self.banner_box = QVBoxLayout()
        self.banner_box.setContentsMargins(0, 0, 0, 0)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Can the model memorise 16 training samples? (seconds)")
        self.check_button.clicked.connect(self.run_check)
        self.lr_button = QPushButton("Find LR")
        self.lr_button.setToolTip("Learning-rate range test on a copy of the model")
        self.lr_button.clicked.connect(self.run_lr_find)
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Confusion matrix and worst mistakes of the trained model")
        self.evaluate_button.clicked.connect(self.run_evaluate)
        self.evaluate_button.setEnabled(False)
        self.status = _label("")
        self.colouring = NodeColouring()
        buttons = QHBoxLayout()
        for b in (self.check_button, self.lr_button, self.evaluate_button):
            buttons.addWidget(b)
        buttons.addWidget(self.colouring, 1)

        self.gradient_flow = GradientFlowPlot()
        self.range_plot = RangePlot()
        self.range_plot.use.connect(
            lambda lr: self.apply(Remedy(f"Use learning rate {lr:g}", {"lr": lr}))
        )
        self.boundary_view = BoundaryView()
        self.evaluation_view = EvaluationView()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.gradient_flow, "Gradient flow")
        self.tabs.addTab(self.range_plot, "LR range")
        self.tabs.addTab(self.boundary_view, "Boundary")
        self.tabs.addTab(self.evaluation_view, "Evaluation")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.banner_box)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)

    # -- wiring ---------------------------------------------------------------------------------
    def set_scene(self, scene) -> None:
        """The canvas scene whose cards the colouring paints."""
        self.scene = scene
        self.colouring.scene = scene

    def attach(self, worker) -> None:
        """A run begins: clear the last run's diagnoses and listen to this one."""
        # NOTE: bound methods of this widget, never lambdas: a lambda has no thread, so Qt
        # would call it in the training thread; these are queued to the GUI thread.
        self.clear()
        self._worker = worker
        worker.lr_suggestion = self.lr_suggestion
        queued = Qt.ConnectionType.QueuedConnection
        worker.diagnosed.connect(self._on_diagnosed, queued)
        worker.health.connect(self._on_health, queued)
        worker.boundary.connect(self._on_boundary, queued)
        worker.finished.connect(self._on_finished, queued)
        worker.epoch.connect(self._on_epoch, queued)

    def _on_diagnosed(self, event) -> None:
        self.add_diagnosis(event.diagnosis)

    def _on_health(self, event) -> None:
        self.add_health(event.report, self._worker.layers if self._worker else {})

    def _on_boundary(self, event) -> None:
        self.boundary_view.show_boundary(event.boundary, event.points, event.labels)

    def _on_epoch(self, _event) -> None:
        """A sensible loss axis: log-y once the losses span more than two decades (a spike
        of 13 over a curve that settles at 0.01), else from 0, so a flat curve looks flat
        instead of filling the plot with noise (Iris at 1e-6: 1.205–1.235)."""
        if self.plots is None:
            return
        plot = self.plots.loss
        values = [v for name in ("train", "test") for v in plot.series(name)[1] if v > 0]
        if len(values) < 2:
            return
        spread = max(values) / min(values)
        if spread > LOG_SPREAD and not plot.is_log_y():
            plot.set_log_y(True)
        elif not plot.is_log_y():
            plot.plot_item.setYRange(0.0, max(values) * 1.1, padding=0)

    def _on_finished(self, _event) -> None:
        if self._worker is not None:
            self._trained(self._worker)

    def clear(self) -> None:
        for banner in self.banners:
            banner.setParent(None)
            banner.deleteLater()
        self.banners, self.diagnoses = [], []
        if self.plots is not None:
            for plot, region in self._regions:
                plot.plot_item.removeItem(region)
        self._regions = []
        self.status.setText("")

    def _trained(self, worker) -> None:
        self.trained_state = worker.trained_state
        self.evaluate_button.setEnabled(self.trained_state is not None)

    # -- diagnoses ------------------------------------------------------------------------------
    def add_diagnosis(self, diagnosis: Diagnosis) -> None:
        self.diagnoses.append(diagnosis)
        banner = DiagnosisBanner(diagnosis)
        banner.apply.connect(self.apply)
        self.banners.append(banner)
        self.banner_box.addWidget(banner)
        if diagnosis.node_id is None:
            self._mark(diagnosis)
        else:
            self.select_node.emit(diagnosis.node_id)

    def _mark(self, diagnosis: Diagnosis) -> None:
        """Shade the epochs that show the symptom on the loss (and accuracy) plot."""
        if self.plots is None:
            return
        lo, hi = diagnosis.first_epoch - 0.5, diagnosis.epoch + 0.5
        for plot in (self.plots.loss, self.plots.accuracy):
            region = pg.LinearRegionItem((lo, hi), movable=False, brush=pg.mkBrush(REGION_COLOUR))
            region.setZValue(-20)
            region.setToolTip(diagnosis.title)
            plot.plot_item.addItem(region)
            self._regions.append((plot, region))

    def regions(self) -> list[tuple[float, float]]:
        return [tuple(region.getRegion()) for _plot, region in self._regions]

    def apply(self, remedy: Remedy) -> str | None:
        """Apply `remedy` to the document as one undo step; the refusal reason or None."""
        refused = apply_remedy(self.document, remedy, self.settings_changed.emit)
        self.status.setText(refused or f"Applied: {remedy.title} (Edit ▸ Undo takes it back)")
        return refused

    def add_health(self, report, layers: dict[str, str]) -> None:
        self.gradient_flow.show_report(report)
        self.colouring.set_report(report, layers)

    # -- tasks ----------------------------------------------------------------------------------
    def _run_task(self, task, done, what: str) -> TaskWorker:
        worker = TaskWorker(task)
        self._pending = (done, what)
        queued = Qt.ConnectionType.QueuedConnection
        worker.done.connect(self._task_done, queued)
        worker.failed.connect(self._task_failed, queued)
        worker.ended.connect(self._task_ended, queued)
        self._tasks.append(worker)
        self._buttons(False)
        self.status.setText(f"{what}…")
        worker.start()
        return worker

    def _task_done(self, result) -> None:
        self._pending[0](result)

    def _task_failed(self, message: str) -> None:
        self.status.setText(f"{self._pending[1]} failed: {message}")

    def _task_ended(self) -> None:
        for worker in list(self._tasks):
            if not worker.is_running() or worker.wait(5000):
                self._tasks.remove(worker)
        self._buttons(not self._tasks)

    def _buttons(self, on: bool) -> None:
        for b in (self.check_button, self.lr_button):
            b.setEnabled(on)
        self.evaluate_button.setEnabled(on and self.trained_state is not None)

    def wait(self, timeout_ms: int = 60000) -> bool:
        return all(t.wait(timeout_ms) for t in list(self._tasks))

    def _project(self):
        from designer.ui.training_worker import snapshot

        project = snapshot(self.document.project)
        return project, (project.path.parent if project.path else None)

    def run_check(self) -> TaskWorker:
        from designer.core.training.doctor.preflight import check_project

        project, base = self._project()
        return self._run_task(lambda: check_project(project, base), self._checked, "Checking")

    def _checked(self, result) -> None:
        self.status.setText(f"Check {result.message}")
        if not result.passed and result.diagnosis is not None:
            self.add_diagnosis(result.diagnosis)

    def run_lr_find(self) -> TaskWorker:
        from designer.core.training.doctor.lr_range import range_test_project

        project, base = self._project()
        return self._run_task(
            lambda: range_test_project(project, base), self._found_lr, "Sweeping the learning rate"
        )

    def _found_lr(self, result) -> None:
        self.lr_suggestion = result.suggestion
        self.range_plot.show_result(result)
        self.tabs.setCurrentWidget(self.range_plot)
        self.status.setText(
            f"Suggested learning rate {result.suggestion:g} (Use it in the LR range tab)"
        )

    def run_evaluate(self) -> TaskWorker | None:
        if self.trained_state is None:
            return None
        from designer.core.training import evaluation
        from designer.core.training.prepare import prepare

        project, base = self._project()
        state = dict(self.trained_state)

        def task():
            model, _source, data = prepare(project, base)
            model.load_state_dict(state)
            return evaluation.evaluate(model, data, project.training.to_dict()), data

        def shown(result) -> None:
            ev, data = result
            self.evaluation_view.show_evaluation(ev, data)
            self.tabs.setCurrentWidget(self.evaluation_view)
            self.status.setText("")

        return self._run_task(task, shown, "Evaluating")


__all__ = ["DiagnosisBanner", "DoctorPanel"]
