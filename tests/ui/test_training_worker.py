"""TrainingWorker: real training in a QThread, events re-emitted as signals, stop/pause, joins."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import dataclasses
import threading

import pytest
from PySide6.QtCore import QObject, Signal

from designer.core.examples import build_example
from designer.core.training.config import DataConfig
from designer.core.training.events import BatchEnd, Control, EpochEnd, Failed, Finished, Started
from designer.ui.training_worker import TrainingWorker

TIMEOUT = 60_000  # ms; generous for a loaded 2-core machine, never reached when things work


def iris(**training):
    project = build_example("iris_mlp")
    project.training = dataclasses.replace(project.training, **training)
    return project


def long_epochs():
    """Moons with batch size 1: each epoch takes seconds, so BatchEnd events come mid-epoch."""
    project = iris(
        epochs=1000,
        batch_size=1,
        data=DataConfig("builtin", "moons", options={"n": 20000}),
    )
    project.graph.set_param("n1", "shape", (2,))
    project.graph.set_param("n4", "out_features", 2)
    return project


class Recorder(QObject):
    """Collects every signal of a worker in arrival order, on the GUI thread, and re-emits them
    there (so tests never wait on a signal emitted from the training thread)."""

    received = Signal(object)
    ended = Signal()

    def __init__(self, worker: TrainingWorker):
        super().__init__()
        self.events = []
        self.done = False
        self.threads = set()
        for name in ("started", "batch", "epoch", "finished", "failed"):
            getattr(worker, name).connect(self._on_event)
        worker.done.connect(self._on_done)

    def _on_event(self, event):
        self.threads.add(threading.current_thread())
        self.events.append(event)
        self.received.emit(event)

    def _on_done(self):
        self.done = True
        self.ended.emit()

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def run(qtbot):
    """Start workers and make sure every one is joined at the end, whatever the test did."""
    workers = []

    def start(project, control=None):
        worker = TrainingWorker(project)
        if control is not None:
            worker.control = control
        recorder = Recorder(worker)
        workers.append(worker)
        worker.start()
        return worker, recorder

    yield start
    for worker in workers:
        assert worker.stop_and_wait(TIMEOUT)


def finish(qtbot, rec):
    qtbot.waitUntil(lambda: rec.done, timeout=TIMEOUT)


def first_batch(qtbot, rec):
    qtbot.waitUntil(lambda: bool(rec.of(BatchEnd)), timeout=TIMEOUT)


def test_two_epochs_emit_started_epochs_and_finished_with_trained_weights(qtbot, run):
    worker, rec = run(iris(epochs=2))
    finish(qtbot, rec)
    assert worker.wait(TIMEOUT) and not worker.is_running()
    assert rec.threads == {threading.main_thread()}  # signals arrive on the GUI thread
    assert isinstance(rec.events[0], Started) and rec.events[0].epochs == 2
    assert [e.epoch for e in rec.of(EpochEnd)] == [1, 2]
    (finished,) = rec.of(Finished)
    assert rec.events[-1] is finished
    assert finished.epochs_run == 2 and not finished.stopped_by_user
    assert not rec.of(Failed)
    state = worker.trained_state
    assert {"hidden.weight", "logits.weight"} <= set(state)
    assert all(t.device.type == "cpu" for t in state.values())


def test_stop_after_the_first_batch_ends_the_run_mid_epoch_and_joins(qtbot, run):
    worker, rec = run(long_epochs())
    first_batch(qtbot, rec)
    worker.stop()
    finish(qtbot, rec)
    (finished,) = rec.of(Finished)
    assert finished.stopped_by_user
    assert finished.epochs_run == 0  # stopped inside epoch 1
    assert not rec.of(EpochEnd)
    assert worker.wait(TIMEOUT) and not worker.is_running()
    assert worker.trained_state is not None  # a stopped run still hands back its weights


class WatchedControl(Control):
    """A Control that tells the test when the engine is really blocked in pause."""

    def __init__(self):
        super().__init__()
        self.blocked = threading.Event()

    def wait_while_paused(self, timeout=None):
        self.blocked.set()
        return super().wait_while_paused(timeout)


def test_pause_blocks_the_engine_and_resume_continues(qtbot, run):
    control = WatchedControl()
    worker, rec = run(long_epochs(), control)
    first_batch(qtbot, rec)
    worker.pause()
    assert worker.paused
    qtbot.waitUntil(control.blocked.is_set, timeout=TIMEOUT)
    with qtbot.assertNotEmitted(rec.received, wait=300):
        pass
    assert worker.is_running() and not rec.of(Finished)
    steps_when_paused = rec.of(BatchEnd)[-1].step
    worker.resume()
    assert not worker.paused
    qtbot.waitUntil(lambda: rec.of(BatchEnd)[-1].step > steps_when_paused, timeout=TIMEOUT)
    worker.stop()
    finish(qtbot, rec)
    assert rec.of(Finished)[0].stopped_by_user


def test_stop_while_paused_wakes_the_run_and_joins(qtbot, run):
    control = WatchedControl()
    worker, rec = run(long_epochs(), control)
    first_batch(qtbot, rec)
    worker.pause()
    qtbot.waitUntil(control.blocked.is_set, timeout=TIMEOUT)
    assert worker.stop_and_wait(TIMEOUT)
    assert not worker.is_running()


def test_nan_loss_is_a_failed_event_not_an_exception(qtbot, run):
    project = build_example("coffee_regression")
    project.training = dataclasses.replace(project.training, optimizer="sgd", lr=10.0, epochs=3)
    worker, rec = run(project)
    finish(qtbot, rec)
    (failed,) = rec.of(Failed)
    assert failed.kind == "nan"
    assert "learning rate" in failed.message
    assert not rec.of(Finished)
    assert worker.trained_state is None


def test_a_missing_data_file_fails_with_a_message_naming_it(qtbot, run, tmp_path):
    missing = tmp_path / "nowhere.csv"
    worker, rec = run(iris(data=DataConfig("csv", path=str(missing), target="y")))
    finish(qtbot, rec)
    (failed,) = rec.of(Failed)
    assert "nowhere.csv" in failed.message
    assert "Traceback" not in failed.message
    assert not rec.of(Started)


def test_an_unexpected_exception_becomes_one_failed_line(qtbot, run, monkeypatch):
    from designer.core.training import engine

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line of detail")
        yield  # pragma: no cover - makes this a generator

    monkeypatch.setattr(engine, "train", broken)
    worker, rec = run(iris(epochs=1))
    finish(qtbot, rec)
    (failed,) = rec.of(Failed)
    assert failed.kind == "runtime"
    assert failed.message == "RuntimeError: boom"
    assert worker.wait(TIMEOUT)


def test_the_worker_trains_a_snapshot_so_later_edits_cannot_reach_it(qtbot, run):
    project = iris(epochs=1)
    worker, rec = run(project)
    project.graph.set_param("n2", "out_features", 5)  # an edit after Start
    project.training.epochs = 7
    finish(qtbot, rec)
    assert rec.of(Started)[0].epochs == 1
    assert tuple(worker.trained_state["hidden.weight"].shape) == (16, 4)


def test_a_worker_runs_once(qtbot, run):
    worker, _rec = run(iris(epochs=1))
    with pytest.raises(RuntimeError):
        worker.start()
    assert worker.stop_and_wait(TIMEOUT)
