"""The learning-rate range test (Smith 2015, fast.ai's lr_find): raise the learning rate
exponentially over a few hundred steps on a copy of the model, record the smoothed loss, and
suggest the rate a decade below the one where the loss was lowest.

NOTE on the choice: torch-lr-finder (0.2.2) does the same sweep but wants a DataLoader, reads
the loss back on every step and keeps its own copy of the training loop. This one is ~80 lines,
uses the recipe's own optimiser, loss, targets and on-device batching (so the sweep trains the
way the run will) and reads back once at the end.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from designer.core.training import recipe

START, END, STEPS = 1e-6, 10.0, 200
BETA = 0.9  # loss smoothing (exponential moving average, bias-corrected)
DIVERGED = 4.0  # stop once the smoothed loss is this many times its minimum


@dataclass
class RangeTest:
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)  # smoothed
    suggestion: float = math.nan
    min_loss_lr: float = math.nan
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "suggestion": self.suggestion,
            "min_loss_lr": self.min_loss_lr,
            "steps": len(self.lrs),
            "seconds": round(self.seconds, 3),
            "lrs": self.lrs,
            "losses": self.losses,
        }


def lr_range_test(model, data, config, start=START, end=END, steps=STEPS) -> RangeTest:
    """Sweep a copy of `model` on `data` (train split) with `config`'s optimiser and loss."""
    began = time.perf_counter()
    settings = config.to_dict()
    settings["lr"] = start
    model = copy.deepcopy(model).cpu()
    torch.manual_seed(settings["seed"])
    x = torch.as_tensor(np.ascontiguousarray(data.x_train)).float()
    width, _ = recipe.probe(model, x[:2], 2)
    t = recipe.make_targets(torch.as_tensor(data.y_train), settings["loss"], width)
    loss_fn = recipe.make_loss(settings["loss"])
    optimizer = recipe.make_optimizer(model, settings)
    generator = torch.Generator().manual_seed(settings["seed"])
    batch = min(settings["batch_size"], len(x))
    factor = (end / start) ** (1 / max(1, steps - 1))
    raw = torch.full((steps,), math.nan)
    order = recipe.epoch_order(len(x), generator)
    pos = 0
    model.train()
    for i in range(steps):
        if pos + batch > len(order):
            order, pos = recipe.epoch_order(len(x), generator), 0
        idx = order[pos : pos + batch]
        pos += batch
        lr = start * factor**i
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[idx]).float(), t[idx])
        loss.backward()
        optimizer.step()
        raw[i] = loss.detach()
        if i % 20 == 19 and not _going(raw[: i + 1]):
            break
    result = RangeTest(seconds=time.perf_counter() - began)
    avg, best = 0.0, math.inf
    for i, value in enumerate(raw.tolist()):
        if not math.isfinite(value):
            break
        avg = BETA * avg + (1 - BETA) * value
        smooth = avg / (1 - BETA ** (i + 1))
        result.lrs.append(start * factor**i)
        result.losses.append(smooth)
        best = min(best, smooth)
        if smooth > DIVERGED * best:
            break
    if result.losses:
        at = int(np.argmin(result.losses))
        result.min_loss_lr = result.lrs[at]
        result.suggestion = float(f"{result.min_loss_lr / 10:.1g}")
    result.seconds = time.perf_counter() - began
    return result


def _going(raw: torch.Tensor) -> bool:
    """Keep sweeping while the loss is finite and not far above its minimum."""
    if not bool(torch.isfinite(raw).all()):
        return False
    return float(raw[-5:].mean()) < 2 * DIVERGED * float(raw.min())


def range_test_project(project, base_dir=None, **kw) -> RangeTest:
    from designer.core.training.prepare import prepare

    model, _source, data = prepare(project, base_dir)
    return lr_range_test(model, data, project.training, **kw)
