"""The training recipe shared by the app and exported scripts: device, optimiser, schedule,
loss, targets, the epoch loop and evaluation.

`settings` is TrainingConfig.to_dict() (plain values), so a script can hold it as a literal.
The epoch loop keeps data on the device, shuffles with one gather per epoch, slices batches as
views and records each step's loss into a device buffer: nothing is read back per step.

NOTE: exported training scripts embed this module's source verbatim (see script.py), so it
needs only torch and keeps lines within 88 columns.
"""

import contextlib
import math

import torch
from torch import nn


def pick_device(name: str = "auto") -> torch.device:
    """Device by name; "auto" picks CUDA, then Apple MPS, then the CPU. ValueError if the
    named device is missing."""
    has_mps = torch.backends.mps.is_available()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if has_mps else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device 'cuda' was asked for but PyTorch sees no CUDA GPU here: "
            "choose device 'auto' or 'cpu'"
        )
    if name == "mps" and not has_mps:
        raise ValueError(
            "device 'mps' was asked for but this machine has no Apple GPU: "
            "choose device 'auto' or 'cpu'"
        )
    return torch.device(name)


def amp_dtype(settings: dict, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None when mixed precision is off (it runs on CUDA only)."""
    if device.type != "cuda" or settings["amp"] == "off":
        return None
    return torch.bfloat16 if settings["amp"] == "bf16" else torch.float16


def autocast(device_type: str, amp: torch.dtype | None):
    """Mixed precision when `amp` is a dtype; otherwise a context that does nothing."""
    if amp is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type, dtype=amp)


def make_optimizer(model: nn.Module, settings: dict) -> torch.optim.Optimizer:
    name, lr, wd = settings["optimizer"], settings["lr"], settings["weight_decay"]
    params = model.parameters()
    if name == "sgd":
        momentum = settings["momentum"]
        nesterov = settings["nesterov"] and momentum > 0
        return torch.optim.SGD(
            params,
            lr=lr,
            momentum=momentum,
            nesterov=nesterov,
            weight_decay=wd,
        )
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    if name == "rmsprop":
        momentum = settings["momentum"]
        return torch.optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=wd)
    raise ValueError(f"unknown optimizer {name!r}")


def make_scheduler(optimizer, settings: dict, steps_per_epoch: int):
    """(scheduler or None, "step" | "epoch" | "metric": when to call scheduler.step)."""
    name, epochs = settings["scheduler"], settings["epochs"]
    sched = torch.optim.lr_scheduler
    if name == "step":
        every = max(1, epochs // 3)
        return sched.StepLR(optimizer, every, gamma=0.1), "epoch"
    if name == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=epochs), "epoch"
    if name == "onecycle":
        total = max(1, epochs * steps_per_epoch)
        return sched.OneCycleLR(optimizer, settings["lr"], total_steps=total), "step"
    if name == "plateau":
        return sched.ReduceLROnPlateau(optimizer, factor=0.5, patience=3), "metric"
    return None, "epoch"


def make_loss(name: str) -> nn.Module:
    losses = {
        "cross_entropy": nn.CrossEntropyLoss,
        "bce_with_logits": nn.BCEWithLogitsLoss,
        "mse": nn.MSELoss,
        "l1": nn.L1Loss,
        "huber": nn.HuberLoss,
    }
    return losses[name]()


def make_targets(y: torch.Tensor, loss: str, width: int) -> torch.Tensor:
    """What the loss compares the output with. Class labels (integer `y`) stay indices for
    cross entropy and become one-hot (or 0/1 for one output) for the other losses."""
    if loss == "cross_entropy":
        return y.long()
    if y.dtype.is_floating_point:
        return y.float() if y.dim() > 1 else y.float()[:, None]
    if width == 1:
        return y.float()[:, None]
    return nn.functional.one_hot(y.long(), width).float()


def predict(out: torch.Tensor, loss: str) -> torch.Tensor:
    """Class indices from the model output (one output: a 0/1 decision)."""
    if out.dim() == 2 and out.shape[1] == 1:
        threshold = 0.0 if loss == "bce_with_logits" else 0.5
        return (out[:, 0] > threshold).long()
    return out.argmax(1)


def probe(model: nn.Module, x: torch.Tensor, batch_size: int) -> tuple[int, int]:
    """(values per sample of the output, multiply-accumulates of one batch's forward pass
    in the Linear and conv layers), from a dry run on two samples. The dry run also surfaces
    shape errors before the first step."""
    macs = 0

    def count(layer, inputs, out):
        nonlocal macs
        macs += out.numel() * layer.weight[0].numel()

    kinds = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
    layers = [m for m in model.modules() if isinstance(m, kinds)]
    hooks = [m.register_forward_hook(count) for m in layers]
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            out = model(x[:2])
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    width = int(out.shape[1]) if out.dim() > 1 else 1
    return width, macs * batch_size // max(1, min(2, len(x)))


def cpu_threads(step_macs: int) -> int:
    """Intra-op threads for a CPU step of this size. NOTE: small steps run fastest on one
    thread (worker threads cost more than they share, and far more on a busy machine)."""
    return 1 if step_macs < 50_000_000 else torch.get_num_threads()


def epoch_order(n: int, generator: torch.Generator, rank: int = 0, world: int = 1):
    """This rank's share of a fresh permutation. Every rank draws the same permutation
    (same seed) and takes every world-th index, so the shares never overlap."""
    order = torch.randperm(n, generator=generator)
    if world > 1:
        order = order[: n - n % world][rank::world]
    return order


def num_steps(n: int, batch_size: int) -> int:
    # A last batch of one sample is skipped: BatchNorm can't train on a single sample.
    steps = math.ceil(n / batch_size)
    return steps - 1 if steps > 1 and n % batch_size == 1 else steps


def train_epoch(
    model,
    optimizer,
    loss_fn,
    x,
    t,
    y,
    order,
    step_losses,
    correct,
    settings: dict,
    scheduler=None,
    amp=None,
    scaler=None,
):
    """One pass over `x[order]`, yielding after each step (the app checks stop/pause there).

    Step i's loss goes into `step_losses[i]`; for class labels `y`, the number of correct
    predictions is added to the one-element tensor `correct`. Both stay on the device.
    """
    loss_name, batch_size = settings["loss"], settings["batch_size"]
    clip = settings["grad_clip"]
    device = x.device
    order = order.to(device, non_blocking=True)
    xs, ts = x[order], t[order]
    ys = y[order] if y is not None else None
    model.train()
    for i in range(num_steps(len(order), batch_size)):
        lo = i * batch_size
        xb, tb = xs[lo : lo + batch_size], ts[lo : lo + batch_size]
        optimizer.zero_grad(set_to_none=True)
        with autocast(device.type, amp):
            out = model(xb)
            loss = loss_fn(out.float(), tb)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        if clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        step_losses[i] = loss.detach()
        if ys is not None:
            hits = predict(out.detach(), loss_name) == ys[lo : lo + batch_size]
            correct += hits.sum()
        yield i


def eval_batch_size(x: torch.Tensor, batch_size: int) -> int:
    """Large evaluation batches, bounded to about 16M input values per batch."""
    per_sample = max(1, x[0].numel()) if len(x) else 1
    return max(batch_size, min(8192, (1 << 24) // per_sample))


def evaluate(model, loss_fn, x, t, y, settings: dict, amp=None):
    """(mean loss, accuracy or None) over a whole split; one read-back at the end."""
    if len(x) == 0:
        return math.nan, None
    model.eval()
    size = eval_batch_size(x, settings["batch_size"])
    total = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    with torch.inference_mode():
        for lo in range(0, len(x), size):
            xb, tb = x[lo : lo + size], t[lo : lo + size]
            with autocast(x.device.type, amp):
                out = model(xb)
            total += loss_fn(out.float(), tb) * len(xb)
            if y is not None:
                correct += (predict(out, settings["loss"]) == y[lo : lo + size]).sum()
    model.train()
    loss = total.item() / len(x)
    return loss, (correct.item() / len(x) if y is not None else None)
