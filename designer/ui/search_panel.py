"""The Search panel: a hyperparameter search on Optuna, shown live (best so far, LR vs score)
and applied in one click. What to search: the settings in the form, plus layer parameters
marked searchable from the Inspector (right-click a parameter's name)."""

from __future__ import annotations

import math

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from designer.core.errors import NetcanvasError, first_line
from designer.core.runs.search import PRUNERS, SAMPLERS, SearchSettings, TrialResult
from designer.core.runs.space import (
    Dimension,
    SearchSpace,
    load_space,
    node_target,
    save_space,
    space_path,
)
from designer.core.runs.store import runs_root
from designer.core.training.events import Control
from designer.ui.runs_panel import named


class SearchWorker(QObject):
    """One search on a QThread; each finished trial arrives as `trial`, then `finished` (or
    `failed`) and `done` last."""

    trial = Signal(object)  # TrialResult
    finished = Signal(object)  # SearchResult
    failed = Signal(str)
    done = Signal()

    def __init__(self, project, space, settings: SearchSettings) -> None:
        super().__init__()
        from designer.ui.training_worker import snapshot

        self.project, self.space, self.settings = snapshot(project), space, settings
        self.project.path = project.path
        self.control = Control()
        self._thread: QThread | None = None

    def start(self) -> None:
        self._thread = QThread()
        self._thread.setObjectName("netcanvas-search")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._run)
        self._thread.start()

    def stop(self) -> None:
        self.control.stop()

    def wait(self, timeout_ms: int = 30000) -> bool:
        return self._thread is None or self._thread.wait(timeout_ms)

    def _run(self) -> None:
        try:
            import optuna

            from designer.core.runs.search import run_search

            optuna.logging.set_verbosity(optuna.logging.WARNING)
            root = runs_root(self.project.path, self.project.name)
            result = run_search(
                self.project,
                self.space,
                self.settings,
                root,
                on_trial=self.trial.emit,
                control=self.control,
            )
            self.finished.emit(result)
        except Exception as err:  # noqa: BLE001 - nothing may escape a worker thread
            self.failed.emit(first_line(err, with_type=not isinstance(err, NetcanvasError)))
        finally:
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            self.done.emit()
            QThread.currentThread().quit()


class SearchPanel(QWidget):
    search_finished = Signal()

    def __init__(self, window, runs_panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_, self.runs_panel = window, runs_panel
        self.document = window.document
        self.trials: list[TrialResult] = []
        self.best: TrialResult | None = None
        self.worker: SearchWorker | None = None
        self.node_dims: dict[str, Dimension] = {}
        form = QFormLayout()
        self.lr_on, self.lr_low, self.lr_high = _range_row(form, "Learning rate (log)", 1e-4, 1.0)
        self.wd_on, self.wd_low, self.wd_high = _range_row(form, "Weight decay (log)", 1e-6, 1e-2)
        self.wd_on.setChecked(False)
        self.bs_on, self.bs = _list_row(form, "Batch sizes", "16,32,64")
        self.opt_on, self.opts = _list_row(form, "Optimizers", "adam,sgd")
        self.layers = named(QListWidget(), "search_layers")
        self.layers.setToolTip("Right-click a parameter in the Inspector to search it")
        self.layers.setMaximumHeight(70)
        form.addRow("Layer parameters", self.layers)
        self.trials_box = _spin(form, "Trials", 20, 1, 100000)
        self.timeout_box = _spin(form, "Time budget (min, 0 = none)", 0, 0, 100000)
        self.epochs_box = _spin(form, "Epochs per trial (0 = project's)", 0, 0, 100000)
        self.sampler = named(QComboBox(), "search_sampler")
        self.sampler.addItems(SAMPLERS)
        form.addRow("Sampler", self.sampler)
        self.pruner = named(QComboBox(), "search_pruner")
        self.pruner.addItems(PRUNERS)
        form.addRow("Pruner", self.pruner)
        self.storage = named(QLineEdit(), "search_storage")
        self.storage.setPlaceholderText("default: SQLite beside the project")
        form.addRow("Storage", self.storage)
        self.study = named(QLineEdit(), "search_study")
        self.study.setPlaceholderText("default: the project's name")
        form.addRow("Study", self.study)
        self.start_button = named(QPushButton("Start search"), "search_start")
        self.stop_button = disabled(named(QPushButton("Stop"), "search_stop"))
        self.apply_button = disabled(named(QPushButton("Apply best"), "search_apply"))
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.apply_button.clicked.connect(self.apply_best)
        row = QHBoxLayout()
        for b in (self.start_button, self.stop_button, self.apply_button):
            row.addWidget(b)
        self.status = QLabel("", textFormat=Qt.TextFormat.PlainText, wordWrap=True)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addLayout(form)
        lv.addLayout(row)
        lv.addWidget(self.status)
        lv.addStretch(1)
        import pyqtgraph as pg

        from designer.ui.plots import follow_palette

        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "learning rate")
        self.plot.setLabel("left", "score")
        self.plot.setLogMode(x=True, y=False)
        follow_palette(self.plot, self.plot.palette())
        self.scatter = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(60, 120, 220, 200))
        self.pruned_scatter = pg.ScatterPlotItem(size=6, brush=pg.mkBrush(160, 160, 160, 160))
        self.plot.addItem(self.scatter)
        self.plot.addItem(self.pruned_scatter)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.document.project_replaced.connect(self._load_space)
        inspector = getattr(window, "inspector", None)
        if inspector is not None and hasattr(inspector, "param_menu"):
            inspector.param_menu.connect(self._param_menu)
        self._load_space()

    # -- the space ----------------------------------------------------------------------------
    def _load_space(self) -> None:
        self.node_dims = {}
        path = self.document.project.path
        if path is not None and space_path(path).is_file():
            try:
                space = load_space(space_path(path))
            except NetcanvasError as e:
                self.status.setText(str(e))
                space = SearchSpace()
            for d in space.dimensions:
                if d.node_id is not None:
                    self.node_dims[d.target] = d
        self._show_layers()

    def _show_layers(self) -> None:
        self.layers.clear()
        project = self.document.project
        for d in self.node_dims.values():
            what = f"{d.low}..{d.high}" if d.choices is None else ",".join(map(str, d.choices))
            self.layers.addItem(f"{d.label(project)}: {what}")

    def is_searchable(self, node_id: str, param: str) -> bool:
        return node_target(node_id, param) in self.node_dims

    def toggle_searchable(self, node_id: str, param: str) -> bool:
        """Mark (or unmark) a layer parameter as searched; returns whether it now is. Widths
        search a quarter to four times the current value; rates (dropout p) 0..0.8."""
        target = node_target(node_id, param)
        if target in self.node_dims:
            del self.node_dims[target]
        else:
            node = self.document.graph.nodes[node_id]
            value = node.params[param]
            spec = node.spec.param(param)
            if spec.kind is int and isinstance(value, int):
                low, high = max(1, value // 4), max(2, value * 4)
                self.node_dims[target] = Dimension(target, low, high, log=True)
            else:
                self.node_dims[target] = Dimension(target, 0.0, 0.8)
        self._save_space()
        self._show_layers()
        return target in self.node_dims

    def _param_menu(self, node_id: str, param: str, pos) -> None:
        node = self.document.graph.nodes.get(node_id)
        if node is None or node.spec.param(param).kind not in (int, float):
            return
        menu = QMenu(self)
        action = menu.addAction(f"Search {param} in hyperparameter searches")
        action.setCheckable(True)
        action.setChecked(self.is_searchable(node_id, param))
        action.triggered.connect(lambda _c: self.toggle_searchable(node_id, param))
        menu.popup(pos)

    def space(self) -> SearchSpace:
        dims = []
        if self.lr_on.isChecked():
            dims.append(Dimension("lr", _num(self.lr_low), _num(self.lr_high), log=True))
        if self.wd_on.isChecked():
            dims.append(Dimension("weight_decay", _num(self.wd_low), _num(self.wd_high), log=True))
        if self.bs_on.isChecked():
            sizes = tuple(int(v) for v in self.bs.text().split(",") if v.strip().isdigit())
            dims.append(Dimension("batch_size", choices=sizes))
        if self.opt_on.isChecked():
            names = tuple(v.strip() for v in self.opts.text().split(",") if v.strip())
            dims.append(Dimension("optimizer", choices=names))
        return SearchSpace(dims + list(self.node_dims.values()))

    def _save_space(self) -> None:
        path = self.document.project.path
        if path is not None:
            save_space(self.space(), space_path(path))

    # -- running ------------------------------------------------------------------------------
    def settings(self) -> SearchSettings:
        return SearchSettings(
            trials=self.trials_box.value(),
            timeout=self.timeout_box.value() * 60 or None,
            sampler=self.sampler.currentText(),
            pruner=self.pruner.currentText(),
            epochs=self.epochs_box.value() or None,
            storage=self.storage.text().strip() or None,
            study=self.study.text().strip() or None,
        )

    def start(self) -> bool:
        if self.worker is not None:
            return False
        project, space = self.document.project, self.space()
        try:
            space.check(project)
            if project.path is None and not self.storage.text().strip():
                raise NetcanvasError("save the project first: its study is stored beside it")
        except NetcanvasError as e:
            self.status.setText(str(e))
            return False
        self._save_space()
        self.trials, self.best = [], None
        self._redraw()
        worker = SearchWorker(project, space, self.settings())
        worker.trial.connect(self._on_trial)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(lambda text: self.status.setText(f"Search failed: {text}"))
        worker.done.connect(self._on_done)
        self.worker = worker
        self.status.setText("Searching…")
        self._buttons()
        worker.start()
        return True

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.status.setText("Stopping after this trial…")

    def stop_and_wait(self, timeout_ms: int = 30000) -> bool:
        if self.worker is None:
            return True
        self.worker.stop()
        return self.worker.wait(timeout_ms)

    def _on_trial(self, trial: TrialResult) -> None:
        self.trials.append(trial)
        maximize = self.worker is not None and "accuracy" in (
            self.worker.settings.metric or _default_metric(self.worker.project)
        )
        done = [t for t in self.trials if t.state == "complete" and t.value is not None]
        if done:
            self.best = (max if maximize else min)(done, key=lambda t: t.value or 0.0)
        best = "—" if self.best is None else f"{self.best.value:.4g} (trial {self.best.number})"
        self.status.setText(f"{len(self.trials)} trials · best so far {best}")
        self._redraw(maximize)
        self._buttons()
        self.runs_panel.refresh()

    def _redraw(self, maximize: bool = True) -> None:
        done = [t for t in self.trials if t.value is not None and "lr" in t.params]
        points = [(_log(t.params["lr"]), t.value) for t in done if t.state == "complete"]
        pruned = [(_log(t.params["lr"]), t.value) for t in done if t.state == "pruned"]
        self.scatter.setData([p[0] for p in points], [p[1] for p in points])
        self.pruned_scatter.setData([p[0] for p in pruned], [p[1] for p in pruned])
        best, self.best_so_far = None, []
        for t in self.trials:  # the best score after each trial
            value = t.value if t.state == "complete" else None
            if value is not None and (best is None or (value > best if maximize else value < best)):
                best = value
            self.best_so_far.append(best)

    def _on_finished(self, result) -> None:
        if result.best is not None:
            self.best = result.best
        self.status.setText(
            f"Done: {len(result.trials)} trials in study {result.study}"
            + ("" if self.best is None else f" · best {self.best.value:.4g}")
        )

    def _on_done(self) -> None:
        worker = self.worker
        if worker is not None:
            worker.wait()
        self.worker = None
        self._buttons()
        self.search_finished.emit()

    def _buttons(self) -> None:
        running = self.worker is not None
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.apply_button.setEnabled(self.best is not None and not running)

    def apply_best(self) -> str | None:
        """Put the best trial's settings (and its weights) into the design: one undo step."""
        from designer.core.runs.space import apply
        from designer.core.runs.store import load_run
        from designer.ui.runs_panel import push_design

        if self.best is None:
            return "no finished trial yet"
        project = apply(self.document.project, self.best.targets)
        root = runs_root(self.document.project.path, self.document.project.name)
        folder = root / self.best.run if self.best.run else None
        run = load_run(folder) if folder is not None and folder.is_dir() else None
        return push_design(self.window_, project, run, f"Apply best trial {self.best.number}")


def _default_metric(project) -> str:
    from designer.core.runs.search import default_metric

    return default_metric(project)


def _range_row(form, title: str, low: float, high: float):
    on = checked(QCheckBox(title), True)
    lo, hi = QLineEdit(f"{low:g}"), QLineEdit(f"{high:g}")
    row = QHBoxLayout()
    row.addWidget(lo)
    row.addWidget(QLabel("to"))
    row.addWidget(hi)
    form.addRow(on, row)
    return on, lo, hi


def _list_row(form, title: str, text: str):
    on = checked(QCheckBox(title), False)
    edit = QLineEdit(text)
    form.addRow(on, edit)
    return on, edit


def _spin(form, title: str, value: int, low: int, high: int) -> QSpinBox:
    box = QSpinBox(minimum=low, maximum=high, value=value)
    form.addRow(title, box)
    return box


def _log(value: object) -> float:
    return math.log10(value) if isinstance(value, int | float) and value > 0 else math.nan


def checked(box: QCheckBox, on: bool) -> QCheckBox:
    box.setChecked(on)
    return box


def disabled(button: QPushButton) -> QPushButton:
    button.setEnabled(False)
    return button


def _num(edit: QLineEdit) -> float:
    try:
        return float(edit.text())
    except ValueError:
        return math.nan
