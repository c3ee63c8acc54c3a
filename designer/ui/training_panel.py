"""The training dock: dataset, hyperparameters, Start/Pause/Stop, progress and live plots.

Settings are bound to `document.project.training`; each edit is checked by the field's ParamSpec
and marks the document's settings dirty. A run trains a snapshot of the project in a
TrainingWorker thread; the panel only reacts to its signals.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from designer.core.origins import Origin
from designer.core.training.events import BatchEnd, EpochEnd, Failed, Finished, Started
from designer.ui.augment_form import AugmentForm
from designer.ui.dataset_picker import DatasetPicker
from designer.ui.doctor_panel import DoctorPanel
from designer.ui.layer_rates import LayerRates, trainable_layers
from designer.ui.plots import TrainingPlots
from designer.ui.training_form import SettingsForm, available_devices
from designer.ui.training_worker import TrainingWorker
from designer.ui.widgets import Section


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrainingPanel(QWidget):
    """Dataset, hyperparameters, run controls and live plots for one Document."""

    training_started = Signal()
    training_stopped = Signal()  # finished, failed or stopped
    weights_changed = Signal()  # the held weights (and where each layer's came from) changed
    failed = Signal(str, object)  # message, node id or None

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self._worker: TrainingWorker | None = None
        self._trained: dict | None = None
        # What the held weights were trained for (module path -> layer type), and per layer
        # (module path) where its weights came from: pretrained, trained or fresh.
        self._trained_types: dict[str, str] | None = None
        self.origins: dict[str, Origin] = {}
        self._warm = None  # the CarryReport of the current run's warm start
        self._run_size = None  # the DataSize the last run loaded (memory plan without preview)
        self._total_steps = 0
        self._epochs = 0
        self._t0 = self._paused_at = self._shown_at = 0.0
        self.last_finished: Finished | None = None
        self.last_epoch: EpochEnd | None = None  # of the current or last run (bench_gui)

        self.dataset = DatasetPicker()
        self.dataset.showing = self.isVisible
        self.dataset.budget = self._budget
        self.dataset.edited.connect(self._settings_edited)
        self.dataset.edited.connect(self._data_changed)
        self.dataset.preview_ready.connect(self._data_changed)
        self.augment = AugmentForm()
        self.augment.edited.connect(self._settings_edited)
        self.augment_section = Section("Augmentation", self.augment)
        self.augment_section.setToolTip("Random changes to the training pictures, on the device")
        self.augment_section.hide()  # for image data only
        self.form = SettingsForm()
        self.form.edited.connect(self._settings_edited)
        self.form.edited.connect(lambda _name: self.update_plan())
        self.rates = LayerRates()
        self.rates.edited.connect(self._settings_edited)
        # NOTE: the settings are tabs, so that a 1366×768 screen shows each part without
        # scrolling: the dataset with its preview and augmentation, the hyperparameters, and
        # the learning rate per layer.
        settings = QTabWidget()
        settings.setDocumentMode(True)
        data_page = QWidget()
        data_layout = QVBoxLayout(data_page)
        data_layout.addWidget(self.dataset)
        data_layout.addWidget(self.augment_section)
        data_layout.addStretch(1)
        form_page = QWidget()
        form_layout = QVBoxLayout(form_page)
        form_layout.addWidget(self.form)
        form_layout.addStretch(1)
        rates_page = QWidget()
        rates_layout = QVBoxLayout(rates_page)
        rates_layout.addWidget(self.rates)  # the table takes the page's height
        settings.addTab(data_page, "Dataset")
        settings.addTab(form_page, "Hyperparameters")
        settings.addTab(rates_page, "Learning rate per layer")
        self.settings = settings
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(settings)

        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Train the model on the canvas with these settings")
        self.start_button.clicked.connect(self.start)
        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        self.start_from = QCheckBox("Start from these weights")
        self.start_from.setToolTip(
            "Warm start: layers whose name, type and shapes are unchanged keep the last trained "
            "or loaded weights; the others start fresh"
        )
        self.start_from.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.status = _text_label("Ready")
        self.message = _text_label("")
        self.message.setStyleSheet("color: #d0453a; font-weight: bold;")
        self.message.hide()
        self.plots = TrainingPlots()
        self.doctor = DoctorPanel(document, self.plots)
        self.doctor.tabs.insertTab(0, self.plots, "Curves")
        self.doctor.tabs.setCurrentIndex(0)
        self.doctor.settings_changed.connect(self.reload)

        run = QWidget()
        run_layout = QVBoxLayout(run)
        run_layout.addLayout(buttons)
        run_layout.addWidget(self.start_from)
        # The memory plan: live before Start (the core's estimate), the run's own once it starts.
        self.memory = _text_label("")
        self.memory.setToolTip(
            "Estimated memory: data (and where it lives), weights, gradients, optimizer state "
            "and one batch's activations"
        )
        run_layout.addWidget(self.memory)
        run_layout.addWidget(self.progress)
        run_layout.addWidget(self.status)
        run_layout.addWidget(self.message)
        run_layout.addWidget(
            self.doctor, 1
        )  # banners, Check / Find LR, curves and the doctor's views
        # Starts side by side (the default bottom dock); resizeEvent turns it in a tall dock.
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(run)
        splitter.setStretchFactor(1, 1)
        self._splitter = splitter
        self._settings_scroll = scroll
        self._sized_wide = False  # the settings column is given its width once, when first wide
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        document.project_replaced.connect(self._on_project_replaced)
        document.analysis_changed.connect(lambda _a: self._update_buttons())
        document.analysis_changed.connect(lambda _a: self._graph_changed())
        self.weights_changed.connect(self._suggest_normalisation)
        self.reload()

    # -- public API ------------------------------------------------------------------------
    @property
    def is_training(self) -> bool:
        return self._worker is not None

    def reload(self) -> None:
        """Show the settings of `document.project` (call after a project is opened)."""
        project = self.document.project
        self.form.set_config(project.training)
        self.dataset.set_config(project.training.data, project.path)
        self.augment.set_config(project.training)
        self.augment_section.set_open(bool(project.training.augment))
        self.rates.set_config(project.training)
        self._graph_changed()
        self._data_changed()
        self._suggest_normalisation()
        self._update_buttons()

    def update_plan(self) -> None:
        """Show the memory plan of the current settings (the core's estimate, as `train`'s
        first line gives it); a run shows its own plan while it lasts."""
        if self._worker is not None:
            return
        size = self.dataset.data_size or self._run_size
        if size is None:
            self.memory.setText("Memory: estimated once the dataset is loaded")
            return
        from designer.core.training.memory import device_kind, graph_plan

        config = self.document.project.training
        device = device_kind(config.device, available_devices())
        doc = self.document  # the whole model, whichever block level the canvas shows
        text = graph_plan(doc.model_graph, doc.model_analysis, size, config, device)
        self.memory.setText(_capitalised(text.text()))

    def _budget(self) -> int:
        from designer.core.training.memory import budget_bytes

        return budget_bytes(self.document.project.training)

    def _data_changed(self, name: str = "") -> None:
        if name:  # the data settings changed: the last run's size is not theirs
            self._run_size = None
        self.augment_section.setVisible(self.dataset.is_images)
        self.update_plan()

    def _graph_changed(self) -> None:
        doc = self.document  # the whole model's top-level layers and blocks
        self.rates.set_layers(trainable_layers(doc.model_graph, doc.model_analysis))
        self.update_plan()

    def _suggest_normalisation(self) -> None:
        # The held weights' origins, or those the project saved beside its weights.
        origins = self.origins or self.document.project.weight_origins
        self.augment.suggest_imagenet(any(o.kind == "pretrained" for o in origins.values()))

    def trained_state(self) -> dict | None:
        """CPU state dict of the last trained (or loaded) model, or None."""
        return self._trained

    def load_weights(self, path) -> None:
        """Load safetensors weights for the current graph; NetcanvasError names a mismatch."""
        from designer.core import weights
        from designer.core.compiler import build_model

        model, _source = build_model(self.document.model_graph, self.document.project.name)
        weights.load_weights(model, path)
        self.use_weights({k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, path)

    def use_weights(self, state: dict, path) -> None:
        """Take weights already read and checked to fit the graph (designer.core.weights).
        The project's own weights keep the origins saved with them; any other file's are
        "trained" (in that file)."""
        from designer.core.origins import for_state, trained

        project = self.document.project
        origins = for_state(state, trained(Path(path).name))
        if project.weights_path is not None and Path(path) == project.weights_path:
            saved = project.weight_origins
            origins = {layer: saved.get(layer, o) for layer, o in origins.items()}
        self._hold(state, None, origins)
        self.status.setText(f"Loaded trained weights from {path}")

    def load_pretrained(self, path, prefixes: dict, node_ids: list[str]):
        """Load pretrained weights onto some layers (all when `node_ids` is empty), keeping the
        held weights elsewhere where they fit. Returns the LoadReport (NetcanvasError if none
        matched); the next Start starts from them."""
        from designer.ui.transfer import load_onto

        held = None
        if self._trained is not None:
            held = (self._trained, self._types_of_held(), self.origins)
        (state, types, origins), report = load_onto(self.document, held, path, prefixes, node_ids)
        self._hold(state, types, origins)
        self.start_from.setChecked(True)
        self.status.setText(f"Pretrained weights from {path.name}: {report.summary()}")
        return report

    def origin_of(self, node_id: str) -> str | None:
        """Where the held weights of a layer come from (pretrained, trained, fresh; "partly
        fresh, pretrained" for a block of both), or None."""
        from designer.core.origins import kinds
        from designer.ui.transfer import origin_for

        return kinds(origin_for(self.document, self.origins, node_id)) if self.origins else None

    def origin_text(self, node_id: str) -> str:
        """The same with the file or run: "pretrained (resnet18-f37072fd.pth)" ("" if none)."""
        from designer.core.origins import describe
        from designer.ui.transfer import origin_for

        return describe(origin_for(self.document, self.origins, node_id)) if self.origins else ""

    def _hold(
        self, state: dict | None, types: dict | None, origins: dict[str, Origin], publish=True
    ) -> None:
        self._trained, self._trained_types, self.origins = state, types, origins
        if publish:  # the project saves them beside its weights
            self.document.project.weight_origins = dict(origins)
        self.start_from.setEnabled(state is not None and self._worker is None)
        if state is None:
            self.start_from.setChecked(False)
        self.weights_changed.emit()

    def _types_of_held(self) -> dict[str, str]:
        if self._trained_types is None:  # opened with the project: it fits the graph as is
            from designer.core.compiler import build_model
            from designer.core.pretrained import layer_types

            graph = self.document.model_graph
            _model, source = build_model(graph, self.document.project.name)
            self._trained_types = layer_types(graph, source)
        return self._trained_types

    def start(self) -> bool:
        """Begin training the document's model; False (with a message) if it can't start."""
        if self._worker is not None:
            return False
        errors = self.document.model_analysis.errors
        if errors:
            first, count = errors[0], len(errors)
            text = f"the model has {count} error{'s' * (count > 1)}: {first.message}"
            self._show_failure(text, first.node_id)
            return False
        project = self.document.project
        self.message.hide()
        self.last_finished = self.last_epoch = None
        self.plots.clear()
        self.progress.setRange(0, 0)  # busy until Started tells the size
        self.progress.setFormat("")
        self.status.setText("Preparing data and model…")
        start_from = None
        if self.start_from.isChecked() and self._trained is not None:
            start_from = (self._trained, self._types_of_held())
        base = project.path.parent if project.path else None
        worker = TrainingWorker(project, base, start_from)
        worker.warm_started.connect(self._on_warm_start)
        worker.planned.connect(self._on_planned)
        worker.started.connect(self._on_started)
        worker.batch.connect(self._on_batch)
        worker.epoch.connect(self._on_epoch)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.done.connect(self._on_done)
        self.doctor.attach(worker)
        self._worker = worker
        self._t0 = time.monotonic()
        self._update_buttons()
        worker.start()
        self.training_started.emit()
        return True

    def stop(self) -> None:
        """Ask the run to stop after the current batch; `training_stopped` follows."""
        if self._worker is not None:
            self._worker.stop()
            self.status.setText("Stopping…")
            self._update_buttons()

    def toggle_pause(self) -> None:
        worker = self._worker
        if worker is None:
            return
        if worker.paused:
            worker.resume()
            self._t0 += time.monotonic() - self._paused_at  # the ETA ignores the pause
            self.status.setText("Resumed")
        else:
            worker.pause()
            self._paused_at = time.monotonic()
            self.status.setText("Paused")
        self._update_buttons()

    def stop_and_wait(self, timeout_ms: int = 10000) -> bool:
        """Stop a run and join its threads (window close). True when no thread is left."""
        preview_done = self.dataset.wait(timeout_ms)
        worker = self._worker
        if worker is None:
            return preview_done
        if not worker.stop_and_wait(timeout_ms):
            return False
        self._teardown(worker)
        return preview_done

    def _on_project_replaced(self) -> None:
        # Another project: its own weights (if any) come through load_weights(); the origins
        # saved with them stay in the project until then.
        self._run_size = None
        self._hold(None, None, {}, publish=False)
        self.plots.clear(keep_ghost=False)
        self.message.hide()
        self.status.setText("Ready")
        self.progress.reset()
        self.progress.setFormat("")
        self.reload()

    # -- worker signals (GUI thread) -------------------------------------------------------
    def _current(self) -> bool:
        # Queued events of a run already torn down (stop_and_wait) must not touch a new one.
        return self._worker is not None and self.sender() is self._worker

    def _on_started(self, event: Started) -> None:
        if not self._current():
            return
        self._epochs = event.epochs
        self._total_steps = max(1, event.epochs * max(1, event.steps_per_epoch))
        self._t0 = time.monotonic()
        self._shown_at = 0.0
        self.progress.setRange(0, self._total_steps)
        self.progress.setValue(0)
        self.progress.setFormat(f"epoch 1/{event.epochs}")
        self.status.setText(
            f"Training on {event.device}: {event.num_params:,} parameters, "
            f"{event.train_size:,} training / {event.test_size:,} test samples"
        )

    def _on_planned(self, text: str) -> None:
        if self._current():
            self._run_size = self._worker.data_size
            self.memory.setText(_capitalised(text))

    def _on_warm_start(self, report) -> None:
        if self._current():
            self._warm = report
            self.status.setText(f"Warm start: {report.summary()}")

    def _took_weights(self, worker: TrainingWorker) -> None:
        """After a run: trained layers are "trained" (in that run); frozen ones keep where
        they came from."""
        from designer.core.origins import FRESH_ORIGIN, trained

        state = worker.trained_state
        if state is None:
            return
        warm = self._warm
        kept: set[str] = set(warm.kept) if warm is not None else set()
        run = f"run {worker.run_id}" if worker.run_id else f"the run of {time.strftime('%H:%M')}"
        origins = {}
        for key in state:
            layer = key.rpartition(".")[0]
            frozen = any(layer == f or layer.startswith(f + ".") for f in worker.frozen)
            if not frozen:
                origins[layer] = trained(run)
            elif layer in kept:
                origins[layer] = self.origins.get(layer, FRESH_ORIGIN)
            else:
                origins[layer] = FRESH_ORIGIN
        self._warm = None
        self._hold(state, worker.trained_types, origins)

    def _on_batch(self, event: BatchEnd) -> None:
        if not self._current():
            return
        self.plots.add_batch(event)
        self._show_progress(event.epoch, event.step)

    def _on_epoch(self, event: EpochEnd) -> None:
        if not self._current():
            return
        self.last_epoch = event
        self.plots.add_epoch(event)
        steps = self._total_steps // max(1, self._epochs)
        self._show_progress(min(event.epoch + 1, self._epochs), event.epoch * steps)

    def _on_finished(self, event: Finished) -> None:
        if not self._current():
            return
        self.last_finished = event
        self._took_weights(self._worker)
        self.plots.redraw()
        if not event.stopped_by_user:
            self.progress.setValue(self.progress.maximum())
            self.progress.setFormat(f"epoch {event.epochs_run}/{self._epochs} · done")
        if event.stopped_by_user:
            head = f"Stopped after {event.epochs_run} epoch{'s' * (event.epochs_run != 1)}"
        elif event.stopped_early:
            head = f"Stopped early after {event.epochs_run} epochs (best epoch {event.best_epoch})"
        else:
            head = f"Finished {event.epochs_run} epoch{'s' * (event.epochs_run != 1)}"
        self.status.setText(head + _metrics(event.final))

    def _on_failed(self, event: Failed) -> None:
        if not self._current():
            return
        self._show_failure(event.message, event.node_id)

    def _on_done(self) -> None:
        if self._current():
            self._teardown(self._worker)

    # -- helpers ---------------------------------------------------------------------------
    def _teardown(self, worker: TrainingWorker) -> None:
        worker.wait()
        if self._worker is not worker:
            return
        self._worker = None
        self.plots.redraw()
        if self.progress.maximum() == 0:  # ended before Started: leave the busy look
            self.progress.setRange(0, 1)
            self.progress.setFormat("")
        if self.status.text() in ("Stopping…", "Preparing data and model…", "Paused"):
            self.status.setText("Stopped")
        self.form.refresh_devices()  # torch is loaded now: CUDA can be probed cheaply
        self._update_buttons()
        self.update_plan()
        self.training_stopped.emit()

    def _show_progress(self, epoch: int, step: int) -> None:
        # NOTE: at most 5 repaints a second: each one holds the GIL the training thread needs.
        now = time.monotonic()
        if now - self._shown_at < 0.2 and step < self._total_steps:
            return
        self._shown_at = now
        self.progress.setValue(min(step, self._total_steps))
        text = f"epoch {epoch}/{self._epochs}"
        if step > 0:
            remaining = (time.monotonic() - self._t0) / step * (self._total_steps - step)
            text += f" · ETA {format_duration(remaining)}"
        self.progress.setFormat(text)

    def _show_failure(self, message: str, node_id: str | None) -> None:
        self.message.setText(f"Training failed: {message}")
        self.message.show()
        self.status.setText("Failed")
        self.failed.emit(message, node_id)

    def _settings_edited(self, _name: str = "") -> None:
        self.document.mark_settings_dirty()

    def _update_buttons(self) -> None:
        running = self._worker is not None
        # An invalid graph can't train: Start says why instead of failing when pressed.
        errors = self.document.model_analysis.errors
        self.start_button.setEnabled(not running and not errors)
        self.start_button.setToolTip(
            f"Fix first: {errors[0].message}"
            if errors and not running
            else "Train the model on the canvas with these settings"
        )
        self.stop_button.setEnabled(running and not self._worker.control.stopped)
        self.pause_button.setEnabled(running and not self._worker.control.stopped)
        paused = running and self._worker.paused
        self.pause_button.setText("Resume" if paused else "Pause")
        self.settings.setEnabled(not running)
        self.start_from.setEnabled(not running and self._trained is not None)

    # -- Qt overrides ----------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        # Settings beside the plots in a wide (bottom) dock, above them in a tall (side) one.
        wide = event.size().width() > 1.3 * event.size().height()
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        turned = self._splitter.orientation() != orientation
        if turned:
            self._splitter.setOrientation(orientation)
        if wide and (turned or not self._sized_wide):
            # As wide as the settings ask (no sideways scrolling), at most half the panel.
            bar = self._settings_scroll.verticalScrollBar().sizeHint().width()
            want = self._settings_scroll.widget().sizeHint().width() + bar + 4
            width = event.size().width()
            left = max(380, min(want, width // 2))
            self._splitter.setSizes([left, max(width - left, 200)])
            self._sized_wide = True
        super().resizeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        if not self.is_training:
            self.form.refresh_devices()
        super().showEvent(event)
        self.dataset.refresh_if_stale()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop_and_wait()
        super().closeEvent(event)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _text_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)  # file names and error text, never HTML
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _metrics(final: dict[str, float]) -> str:
    parts = []
    for key, value in final.items():
        if not isinstance(value, float | int) or not math.isfinite(value):
            continue
        shown = f"{value:.1%}" if "acc" in key else f"{value:.4g}"
        parts.append(f"{key.replace('_', ' ')} {shown}")
    return (" · " + " · ".join(parts)) if parts else ""
