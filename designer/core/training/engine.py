"""The training engine: a generator of events (see events.py), fast by design.

NOTE on speed: the data lives on the device as tensors; each epoch shuffles with one gather
and slices batches as views (no DataLoader, no per-sample collation); step losses are written
into a device buffer and read back only at report points (a few times a second) and at epoch
end, which is also where NaN is detected. Evaluation runs under inference_mode in large
batches. All of this lives in recipe.py, which exported scripts embed, so they run the same.

NOTE on failures: nothing escapes as an exception; a failure is yielded as `Failed` and the
model is put back to the weights it had when `train` started (on the CPU).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
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
from designer.core.training.failures import LossNotFinite, explain, free_device_memory
from designer.core.training.prepare import is_labels, node_of, prepare

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
) -> Iterator[TrainEvent]:
    """Train `model` on `data`, yielding Started, BatchEnd…, EpochEnd…, then Finished or Failed.

    `node_of` maps model attribute -> node id, to name the node in runtime errors.
    `restore_best` (default: on when early stopping is) leaves the best epoch's weights in the
    model instead of the last ones. `config` is never modified.
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
        yield from _run(model, data, settings, control, torch.device(device), keep_best)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one Failed event
        failed = explain(exc, config, model, node_of, device)
        del exc
        model.to("cpu")
        model.load_state_dict(start_state)
        free_device_memory(device)
        yield failed
    finally:
        torch.set_num_threads(threads)


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


def _tensor(x: np.ndarray | None, device: torch.device) -> torch.Tensor | None:
    if x is None:
        return None
    t = torch.from_numpy(np.ascontiguousarray(x))
    if t.dtype == torch.float64:
        t = t.float()
    return t.to(device)


def _split(x, y, settings, width, device):
    """(x, targets, labels or None) on the device for one split."""
    xt, yt = _tensor(x, device), _tensor(y, device)
    labels = yt.long() if is_labels(y) else None
    return xt, recipe.make_targets(yt, settings["loss"], width), labels


def _run(model, data, settings, control, device, keep_best):
    epochs, batch_size = settings["epochs"], settings["batch_size"]
    torch.manual_seed(settings["seed"])
    generator = torch.Generator().manual_seed(settings["seed"])
    model.to(device)
    if device.type == "cuda" and any(
        isinstance(m, torch.nn.modules.conv._ConvNd) for m in model.modules()
    ):
        torch.backends.cudnn.benchmark = True
    for name in ("x_train", "x_test", "x_val"):
        arr = getattr(data, name)
        if arr is not None and arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise DataError(f"{data.name}: {name} holds NaN or infinite values")

    width, step_macs = recipe.probe(model, _tensor(data.x_train[:2], device), batch_size)
    if device.type == "cpu":
        torch.set_num_threads(recipe.cpu_threads(step_macs))
    x, t, y = _split(data.x_train, data.y_train, settings, width, device)
    x_test, t_test, y_test = _split(data.x_test, data.y_test, settings, width, device)
    has_val = data.x_val is not None and len(data.x_val) > 0
    val = _split(data.x_val, data.y_val, settings, width, device) if has_val else None

    steps = recipe.num_steps(len(x), batch_size)
    loss_fn = recipe.make_loss(settings["loss"])
    optimizer = recipe.make_optimizer(model, settings)
    scheduler, when = recipe.make_scheduler(optimizer, settings, steps)
    amp = recipe.amp_dtype(settings, device)
    scaler = torch.amp.GradScaler("cuda") if amp == torch.float16 else None
    yield Started(
        str(device), sum(p.numel() for p in model.parameters()), epochs, steps, len(x), len(x_test)
    )

    step_losses = torch.zeros(steps, device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)
    global_step, epochs_run, elapsed = 0, 0, 0.0
    best_score, best_epoch, best, best_state = math.inf, 0, {}, None
    final: dict[str, float] = {}
    stopped_early = stopped_by_user = False
    # NOTE: the report clock runs across epochs, so epochs shorter than REPORT_SECONDS (iris:
    # ~5 ms) still give a few BatchEnd a second, from the epoch-end flush below.
    last_report = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = recipe.epoch_order(len(x), generator)
        step_losses.zero_()
        correct.zero_()
        began = time.perf_counter()
        reported = done = 0
        batches = recipe.train_epoch(
            model, optimizer, loss_fn, x, t, y, order, step_losses, correct, settings,
            scheduler if when == "step" else None, amp, scaler,
        )  # fmt: skip
        for i in batches:
            done, global_step = i + 1, global_step + 1
            if control.paused:
                paused_at = time.perf_counter()
                control.wait_while_paused()
                began += time.perf_counter() - paused_at
            if control.stopped:
                stopped_by_user = True
                break
            now = time.perf_counter()
            if now - last_report >= REPORT_SECONDS:
                chunk = _finite_or_raise(step_losses[reported:done], epoch, reported)
                yield BatchEnd(epoch, global_step, float(chunk.mean()))
                reported, last_report = done, time.perf_counter()
        batches.close()
        if stopped_by_user:
            break
        due = time.perf_counter() - last_report >= REPORT_SECONDS
        if reported < done and (due or epoch in (1, epochs)):  # a curve has both ends
            chunk = _finite_or_raise(step_losses[reported:done], epoch, reported)
            yield BatchEnd(epoch, global_step, float(chunk.mean()))
            last_report = time.perf_counter()
        seconds = time.perf_counter() - began
        train_loss = float(_finite_or_raise(step_losses[:done], epoch, 0).mean())
        used = min(len(x), done * batch_size)
        train_acc = correct.item() / used if y is not None else None
        test_loss, test_acc = recipe.evaluate(model, loss_fn, x_test, t_test, y_test, settings, amp)
        if not math.isfinite(test_loss) and len(x_test):
            raise LossNotFinite(epoch, done, test_loss, "test")
        score = test_loss if len(x_test) else train_loss
        metrics = {"train_loss": train_loss, "test_loss": test_loss}
        if val is not None:
            score = recipe.evaluate(model, loss_fn, *val, settings, amp)[0]
            metrics["val_loss"] = score
        if y is not None:
            metrics |= {"train_accuracy": train_acc, "test_accuracy": test_acc}
        lr = optimizer.param_groups[0]["lr"]
        if when == "epoch" and scheduler is not None:
            scheduler.step()
        elif when == "metric":
            scheduler.step(score)
        elapsed += time.perf_counter() - began
        epochs_run, final = epoch, metrics
        yield EpochEnd(
            epoch, train_loss, test_loss, train_acc, test_acc, lr, used / seconds, elapsed
        )
        if score < best_score:
            best_score, best_epoch, best = score, epoch, dict(metrics)
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif settings["early_stopping"] and epoch - best_epoch >= settings["early_stopping"]:
            stopped_early = True
            break

    if stopped_by_user:  # mid-epoch: describe the weights as they are now
        final = {"train_loss": float(_finite_or_raise(step_losses[:done], epoch, 0).mean())}
        test_loss, test_acc = recipe.evaluate(model, loss_fn, x_test, t_test, y_test, settings, amp)
        final |= {"test_loss": test_loss} | ({"test_accuracy": test_acc} if y is not None else {})
    if keep_best and best_state is not None and best_epoch != epochs_run:
        model.load_state_dict(best_state)
        final = dict(best)
    model.to("cpu")
    yield Finished(epochs_run, final, best, best_epoch, stopped_early, stopped_by_user)


def _finite_or_raise(losses: torch.Tensor, epoch: int, offset: int) -> torch.Tensor:
    """The losses, read back once; LossNotFinite naming the first bad step."""
    values = losses.detach().cpu()
    bad = ~torch.isfinite(values)
    if bool(bad.any()):
        first = int(bad.nonzero()[0, 0])
        raise LossNotFinite(epoch, offset + first + 1, float(values[first]))
    return values
