"""The training engine: a generator of events (see events.py), fast by design.

The epoch loop itself (steps, evaluation, metrics, scheduler, best epoch, early stopping) is
recipe.Loop, the very code exported scripts embed; the engine only adds what the app needs
around it: pause and stop between steps, throttled BatchEnd reports, events, and failures
mapped to one `Failed`.

NOTE on speed: the data lives on the device as tensors; each epoch shuffles with one gather
and slices batches as views (no DataLoader, no per-sample collation); step losses stay on the
device and are read back only at report points (a few times a second) and at epoch end,
which is also where NaN is detected. Evaluation runs under inference_mode in large batches.

NOTE on failures: nothing escapes as an exception; a failure is yielded as `Failed` and the
model is put back to the weights it had when `train` started (on the CPU).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from designer.core.data.dataset import DataError, Dataset
from designer.core.errors import NetcanvasError
from designer.core.training import recipe
from designer.core.training.config import TrainingConfig
from designer.core.training.events import (
    BatchEnd,
    Control,
    EpochEnd,
    Finished,
    Started,
    TrainEvent,
)
from designer.core.training.failures import explain, free_device_memory
from designer.core.training.prepare import node_of, prepare

__all__ = ["prepare", "train", "train_project", "notes"]

REPORT_SECONDS = 0.1  # BatchEnd at most ~10 times a second


def train(
    model: torch.nn.Module,
    data: Dataset,
    config: TrainingConfig,
    control: Control | None = None,
    node_of: dict[str, str] | None = None,
    *,
    restore_best: bool | None = None,
    observers: Sequence[object] = (),
) -> Iterator[TrainEvent]:
    """Train `model` on `data`, yielding Started, BatchEnd…, EpochEnd…, then Finished or Failed.

    `node_of` maps model attribute -> node id, to name the node in runtime errors.
    `restore_best` (default: on when early stopping is) leaves the best epoch's weights in the
    model instead of the last ones. `observers` watch the steps and epochs (recipe.Loop
    says how). `config` is never modified.
    """
    control = control or Control()
    settings = config.to_dict()
    start_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    device = "cpu"
    threads = torch.get_num_threads()
    try:
        try:
            device = str(recipe.pick_device(config.device))
        except ValueError as err:
            raise NetcanvasError(str(err)) from None
        keep_best = config.early_stopping > 0 if restore_best is None else restore_best
        run = _run(model, data, settings, control, torch.device(device), keep_best, observers)
        yield from run
    except Exception as exc:  # noqa: BLE001 - every failure becomes one Failed event
        failed = explain(exc, config, model, node_of, device)
        del exc
        model.to("cpu")
        model.load_state_dict(start_state)
        free_device_memory(device)
        yield failed
    finally:
        torch.set_num_threads(threads)
        for name in ("x_train", "x_test", "x_val"):  # streamed images: stop their workers
            close = getattr(getattr(data, name, None), "close", None)
            if callable(close):
                close()


def train_project(
    project, base_dir: Path | None = None, control: Control | None = None, **overrides
) -> Iterator[TrainEvent]:
    """prepare() then train(), with preparation errors also yielded as Failed.

    `overrides` replace training settings for this run only (epochs=3, device="cpu").
    """
    config = dataclasses.replace(project.training, **overrides)
    try:
        model, source, data = prepare(dataclasses.replace(project, training=config), base_dir)
    except Exception as exc:  # noqa: BLE001
        yield explain(exc, config)
        return
    yield from train(model, data, config, control, node_of(source))


def notes(config: TrainingConfig, device: str) -> list[str]:
    """Settings that will be ignored on `device`, said plainly (the CLI prints them)."""
    out = []
    if config.amp != "off" and not device.startswith("cuda"):
        out.append(f"mixed precision ({config.amp}) runs on CUDA only; training in float32")
    return out


def _run(model, data, settings, control, device, keep_best, observers):
    """The recipe's Loop, with pause/stop checked and BatchEnd reported between steps."""
    for name in ("x_train", "x_test", "x_val"):
        arr = getattr(data, name)
        if isinstance(arr, np.ndarray) and arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise DataError(f"{data.name}: {name} holds NaN or infinite values")
    width = recipe.place_model(model, data.x_train, settings, device)

    def split(x, y):
        return recipe.split_tensors(x, y, settings["loss"], width, device)

    has_val = data.x_val is not None and len(data.x_val) > 0
    val = split(data.x_val, data.y_val) if has_val else None
    train_split, test = split(data.x_train, data.y_train), split(data.x_test, data.y_test)
    loop = recipe.Loop(
        model, settings, train_split, test, val, keep_best=keep_best, observers=observers
    )
    yield Started(
        str(device), sum(p.numel() for p in model.parameters()), settings["epochs"],
        loop.steps, len(train_split[0]), len(test[0]),
    )  # fmt: skip

    epochs, stopped_by_user, reported = settings["epochs"], False, 0
    # NOTE: the report clock runs across epochs, so epochs shorter than REPORT_SECONDS (iris:
    # ~5 ms) still give a few BatchEnd a second, from the epoch-end flush below.
    last_report = time.perf_counter()
    steps = loop.run(epochs)
    for item in steps:
        if type(item) is int:  # a step is done
            if item == 1:
                reported = 0
            if control.paused:
                paused_at = time.perf_counter()
                control.wait_while_paused()
                loop.began += time.perf_counter() - paused_at  # pauses are not training time
            if control.stopped:
                stopped_by_user = True
                break
            if time.perf_counter() - last_report >= REPORT_SECONDS:
                yield BatchEnd(loop.epoch, loop.global_step, _mean(loop.losses(reported, item)))
                reported, last_report = item, time.perf_counter()
            continue
        due = time.perf_counter() - last_report >= REPORT_SECONDS
        if reported < loop.done and (due or loop.epoch in (1, epochs)):  # a curve has ends
            yield BatchEnd(loop.epoch, loop.global_step, _mean(loop.losses(reported, loop.done)))
            last_report = time.perf_counter()
        reported = loop.done
        speed = loop.used / loop.train_seconds if loop.train_seconds > 0 else 0.0
        yield EpochEnd(loop.epoch, item, speed, loop.elapsed, loop.seconds)
    steps.close()

    final = loop.history[-1] if loop.history else {}
    if stopped_by_user:  # mid-epoch: describe the weights as they are now
        final = loop.measure()
    if keep_best and loop.restore_best():
        final = dict(loop.best)
    model.to("cpu")
    yield Finished(
        len(loop.history), final, loop.best, loop.best_epoch, loop.stopped_early, stopped_by_user
    )


def _mean(losses: torch.Tensor) -> float:
    return float(losses.mean())
