"""Runs the core training generator in a QThread and re-emits its events as Qt signals.

The worker prepares (compiles the graph, loads the data) and trains inside its thread, so the
window stays responsive and torch is imported off the GUI thread. Stop and pause go through the
core `Control`, which is thread-safe; the thread is always joined (`stop_and_wait`).
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from designer.core.errors import first_line
from designer.core.project import Project
from designer.core.training.events import (
    BatchEnd,
    Control,
    EpochEnd,
    Failed,
    Finished,
    Started,
)
from designer.core.training.memory import DataSize


def snapshot(project: Project) -> Project:
    """A private copy for the training thread: later edits can't reach a running run."""
    return dataclasses.replace(
        project, graph=project.graph.copy(), training=copy.deepcopy(project.training)
    )


class TrainingWorker(QObject):
    """One training run. Call `start()` once; every event arrives as a signal carrying the
    core event dataclass; `done` is emitted last, whatever happened, after the trained weights
    (if any) are in `trained_state`."""

    started = Signal(object)  # Started
    batch = Signal(object)  # BatchEnd
    epoch = Signal(object)  # EpochEnd
    finished = Signal(object)  # Finished
    failed = Signal(object)  # Failed
    warm_started = Signal(object)  # CarryReport: which layers kept the start weights
    planned = Signal(str)  # the memory plan: data, weights, gradients, optimizer, where
    health = Signal(object)  # HealthSampled (the training doctor)
    diagnosed = Signal(object)  # Diagnosed
    boundary = Signal(object)  # BoundaryUpdated (2-D data)
    done = Signal()

    def __init__(self, project: Project, base_dir: Path | None = None, start_from=None) -> None:
        """`start_from`: (state dict, layer types) to warm-start from, or None (fresh)."""
        super().__init__()
        self._project = snapshot(project)
        self._base_dir = base_dir
        self._start_from = start_from
        self.trained_types: dict[str, str] = {}  # module path -> layer type of trained_state
        self.frozen: tuple[str, ...] = ()  # module paths the run did not train
        self.run_id: str | None = None  # its folder in the run history, once recorded
        # The loaded data's DataSize (memory plan), once prepared.
        self.data_size: DataSize | None = None
        self.control = Control()
        self.trained_state: dict | None = None
        self.lr_suggestion: float | None = None  # from a range test, for the doctor's advice
        self.layers: dict[str, str] = {}  # model attribute -> node id, once prepared
        self._thread: QThread | None = None

    # -- main-thread API -------------------------------------------------------------------
    def start(self) -> None:
        """Move to a fresh QThread and begin preparing + training there."""
        if self._thread is not None:
            raise RuntimeError("a TrainingWorker runs once")
        self._thread = QThread()
        self._thread.setObjectName("netcanvas-training")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._run)
        self._thread.start()

    def stop(self) -> None:
        self.control.stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    @property
    def paused(self) -> bool:
        return self.control.paused

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Join the thread; True when it has ended (or never started)."""
        if self._thread is None:
            return True
        return self._thread.wait(max(0, int(timeout_ms)))

    def stop_and_wait(self, timeout_ms: int = 10000) -> bool:
        """Ask the run to stop and join its thread. True when the thread has ended."""
        self.control.stop()
        return self.wait(timeout_ms)

    # -- training thread -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._train()
        except Exception as err:  # noqa: BLE001 - nothing may escape a worker thread
            self.failed.emit(Failed("runtime", first_line(err, with_type=True)))
        finally:
            # Back to the GUI thread, so the owner can delete this object after the join.
            self.moveToThread(QCoreApplication.instance().thread())
            self.done.emit()
            # NOTE: quit from inside the thread, not via a queued signal: stop_and_wait() blocks
            # the GUI thread, so a quit queued to it would never run and the join would time out.
            QThread.currentThread().quit()

    def _train(self) -> None:
        # Imports torch: keep it off the GUI thread.
        from designer.core.training import engine
        from designer.core.training.doctor import watch
        from designer.core.training.failures import explain
        from designer.core.training.prepare import node_of

        if self.control.stopped:
            return
        config = self._project.training
        try:
            model, source, dataset = engine.prepare(self._project, self._base_dir)
        except Exception as exc:  # noqa: BLE001 - explained as one Failed, like the engine does
            self.failed.emit(explain(exc, config))
            return
        from designer.core.pretrained import carry_over, layer_types

        if self._start_from is not None:
            state, types = self._start_from
            new_types = layer_types(self._project.graph, source)
            self.warm_started.emit(carry_over(model, state, types, new_types))
        from designer.core.training.memory import data_size
        from designer.core.training.run import memory_line

        # The data's size without "streamed": the app re-weighs it against later budgets.
        size = data_size(dataset, images=config.data.source == "images")
        self.data_size = dataclasses.replace(size, streamed=False)
        self.planned.emit(memory_line(model, dataset, config, self._project.graph))
        self.trained_types = layer_types(self._project.graph, source)
        self.frozen = source.frozen
        signals = {
            Started: self.started,
            BatchEnd: self.batch,
            EpochEnd: self.epoch,
            Failed: self.failed,
            watch.HealthSampled: self.health,
            watch.Diagnosed: self.diagnosed,
            watch.BoundaryUpdated: self.boundary,
        }
        self.layers = node_of(source)
        ctx = watch.context_for(
            model, dataset, config, self._project.graph, self.layers, self.lr_suggestion
        )
        events = engine.train(model, dataset, config, self.control, node_of(source))
        doctored = watch.doctored(events, model, dataset, config, ctx, boundary_seconds=0.5)
        for event in doctored:
            if isinstance(event, Finished):
                self.trained_state = {
                    k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()
                }
                self.finished.emit(event)
            else:
                signals[type(event)].emit(event)
