"""What the training engine yields (plain frozen dataclasses) and how it is steered (Control).

`engine.train(...)` is a generator of these events; front ends (the Qt worker, the CLI) turn them
into signals or progress bars. Epochs are 1-based; `step` is the global optimiser step.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Started:
    device: str
    num_params: int
    epochs: int
    steps_per_epoch: int
    train_size: int
    test_size: int


@dataclass(frozen=True)
class BatchEnd:
    """Mean training loss over the steps since the previous BatchEnd (a few per second at most)."""

    epoch: int
    step: int
    loss: float


@dataclass(frozen=True)
class EpochEnd:
    """One epoch's `metrics` by name, in recipe.METRICS order ("train_loss", "test_loss",
    "val_loss", "train_accuracy", …, "lr"): only those that apply to the run (no accuracy for
    a regression, no "val_loss" without a validation split). `samples_per_second` is the
    training speed, `seconds` this epoch's wall time, `elapsed` the run's so far (pauses
    excluded)."""

    epoch: int
    metrics: dict[str, float]
    samples_per_second: float
    elapsed: float
    seconds: float = 0.0


@dataclass(frozen=True)
class Finished:
    """After it, the model passed to `train` holds the trained weights, on the CPU. `final`
    and `best` are metrics as in EpochEnd (`final`: of the weights the model now holds)."""

    epochs_run: int
    final: dict[str, float]
    best: dict[str, float]
    best_epoch: int
    stopped_early: bool
    stopped_by_user: bool


@dataclass(frozen=True)
class Failed:
    """`kind` is "nan", "oom", "shape", "data" or "runtime"; `node_id` names the failing node."""

    kind: str
    message: str
    node_id: str | None = None


TrainEvent = Started | BatchEnd | EpochEnd | Finished | Failed


class Control:
    """Thread-safe stop/pause flags. The engine checks them between batches."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # a paused run must wake up to see the stop

    def pause(self) -> None:
        if not self._stop.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block (without spinning) until resumed or stopped. False if `timeout` ran out first."""
        return self._running.wait(timeout)
