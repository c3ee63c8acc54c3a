"""Pre-flight: "can it overfit a few examples?" (overfit first, then train for real).

A copy of the model trains on a handful of training samples for a few hundred steps. A model
that can't memorise them has something wrong that no amount of data will fix: a learning rate
far off, a layer that blocks the gradient, a layer too narrow, an output that does not fit the
task. The check passes when the loss falls near zero; otherwise it names the likely cause, with
the gradient-health evidence.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from designer.core.errors import NetcanvasError
from designer.core.training import recipe
from designer.core.training.doctor.context import Context
from designer.core.training.doctor.diagnosis import Diagnosis, Remedy
from designer.core.training.doctor.health import HealthSampler
from designer.core.training.doctor.nodes import vanishing_gradients
from designer.core.training.doctor.stats import HealthReport

SAMPLES = 16
STEPS = 300
NEAR_ZERO = 0.1  # the final loss must fall below this fraction of the first one...
CE_NEAR_ZERO = 0.15  # ...and, for cross entropy, below this absolute loss


@dataclass
class CheckResult:
    passed: bool
    message: str
    cause: str | None = None  # "lr_too_low", "lr_too_high", "vanishing_gradients", ...
    samples: int = 0
    steps: int = 0
    initial_loss: float = math.nan
    final_loss: float = math.nan
    seconds: float = 0.0
    health: HealthReport | None = None
    diagnosis: Diagnosis | None = None
    node_id: str | None = None
    losses: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = {
            "passed": self.passed,
            "message": self.message,
            "cause": self.cause,
            "samples": self.samples,
            "steps": self.steps,
            "initial_loss": self.initial_loss,
            "final_loss": self.final_loss,
            "seconds": round(self.seconds, 3),
        }
        if self.node_id:
            out["node_id"] = self.node_id
        return out


def check_project(project, base_dir=None, samples: int = SAMPLES, steps: int = STEPS):
    """Prepare the project (a mismatch between model and data is a failed check too), then
    `overfit_few`."""
    from designer.core.analysis import analyze
    from designer.core.training.doctor.watch import layers_of
    from designer.core.training.prepare import node_of, prepare

    errors = [d for d in analyze(project.graph).diagnostics if d.severity == "error"]
    if errors:
        return CheckResult(False, f"the model is not valid: {errors[0].message}", "invalid")
    try:
        model, source, data = prepare(project, base_dir)
    except NetcanvasError as err:
        cause = "output" if "Output" in str(err) else "data"
        return CheckResult(False, f"the model does not fit the data: {err}", cause)
    layers = layers_of(model, project.graph, node_of(source))
    return overfit_few(model, data, project.training, layers, samples, steps)


def pick(y: np.ndarray, n: int) -> np.ndarray:
    """`n` sample indices, taking the classes in turn when `y` holds labels."""
    if np.issubdtype(y.dtype, np.floating) or n >= len(y):
        return np.arange(min(n, len(y)))
    by_class = [np.flatnonzero(y == c) for c in np.unique(y)]
    out = []
    for i in range(max(len(ix) for ix in by_class)):
        out += [ix[i] for ix in by_class if i < len(ix)]
        if len(out) >= n:
            break
    return np.array(out[:n])


def overfit_few(model, data, config, layers=None, samples=SAMPLES, steps=STEPS) -> CheckResult:
    """Train a copy of `model` on `samples` training samples (one batch) for up to `steps`."""
    from designer.core.training.doctor.watch import classes_of

    began = time.perf_counter()
    settings = config.to_dict()
    settings["scheduler"], settings["epochs"] = "none", 1
    model = copy.deepcopy(model).cpu()
    torch.manual_seed(settings["seed"])
    idx = pick(data.y_train, samples)
    x = torch.as_tensor(np.ascontiguousarray(data.x_train[idx])).float()
    y = torch.as_tensor(data.y_train[idx])
    width, _ = recipe.probe(model, x, len(x))
    t = recipe.make_targets(y, settings["loss"], width)
    labels = y.long() if not y.dtype.is_floating_point else None
    loss_fn = recipe.make_loss(settings["loss"])
    optimizer = recipe.make_optimizer(model, settings)
    classes = classes_of(data)
    ctx = Context(settings, classes=classes, layers=layers or {})
    sampler = HealthSampler(model, every=max(1, steps // 10))
    losses = torch.zeros(steps)
    model.train()
    done = 0
    with sampler:
        for step in range(steps):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x).float(), t)
            loss.backward()
            if settings["grad_clip"] > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), settings["grad_clip"])
            optimizer.step()
            losses[step] = loss.detach()
            done = step + 1
            if done % 25 == 0 and _memorised(model, x, t, labels, loss_fn, settings, losses):
                break
        ctx.health.append(sampler.flush(1))
    history = losses[:done].tolist()
    final, fits = _final(model, x, t, labels, loss_fn, settings)
    initial = history[0]
    result = CheckResult(
        False, "", samples=len(x), steps=done, initial_loss=initial, final_loss=final,
        seconds=time.perf_counter() - began, health=ctx.health[-1], losses=history,
    )  # fmt: skip
    if fits and _near_zero(final, initial, settings):
        result.passed = True
        result.message = (
            f"passed: it memorised {len(x)} training samples in {done} steps "
            f"(loss {initial:.3g} → {final:.3g})"
        )
        return result
    result.cause, why, result.diagnosis = _cause(ctx, model, history, final, initial, classes)
    if result.diagnosis is not None:
        result.node_id = result.diagnosis.node_id
    result.message = (
        f"failed: it could not memorise {len(x)} training samples in {done} steps "
        f"(loss {initial:.3g} → {final:.3g}): {why}"
    )
    return result


def _near_zero(final: float, initial: float, settings: dict) -> bool:
    if not math.isfinite(final):
        return False
    if settings["loss"] == "cross_entropy":
        return final < CE_NEAR_ZERO
    return final < NEAR_ZERO * initial or final < 1e-3


def _final(model, x, t, labels, loss_fn, settings):
    model.eval()
    with torch.inference_mode():
        out = model(x)
        loss = float(loss_fn(out.float(), t))
        fits = labels is None or bool((recipe.predict(out, settings["loss"]) == labels).all())
    model.train()
    return loss, fits


def _memorised(model, x, t, labels, loss_fn, settings, losses) -> bool:
    final, fits = _final(model, x, t, labels, loss_fn, settings)
    return fits and _near_zero(final, float(losses[0]), settings)


def _cause(ctx: Context, model, history, final, initial, classes):
    """(cause key, the reason in words, the node diagnosis if any)."""
    lr = ctx.lr
    if not math.isfinite(final) or not all(math.isfinite(v) for v in history):
        return "lr_too_high", f"the loss became non-finite: learning rate {lr:g} is too high", None
    if max(history) > 2 * initial and final > initial:
        return "lr_too_high", f"the loss rose: learning rate {lr:g} is probably too high", None
    vanishing = vanishing_gradients(ctx)
    if vanishing is not None:
        return "vanishing_gradients", vanishing.message, vanishing
    ratios = sorted(h.update_ratio for h in ctx.health[-1].layers if h.update_ratio is not None)
    ratio = ratios[len(ratios) // 2] if ratios else None
    if ratio is not None and ratio < 1e-4:
        higher = ctx.higher_lr()
        why = (
            f"learning rate {lr:g} is too low: each step moves the weights by only "
            f"{ratio:.1g} of their size; try {higher:g}"
        )
        remedy = Remedy(f"Raise the learning rate to {higher:g}", {"lr": higher})
        found = Diagnosis("lr_too_low", "learning rate too low", why, 0, 0, remedies=(remedy,))
        return "lr_too_low", why, found
    narrow = _narrowest(ctx, model, classes)
    if narrow is not None:
        return "too_narrow", narrow, None
    return (
        "capacity",
        "the model may be too small or too constrained for the task (try wider layers, "
        "another activation, or a higher learning rate)",
        None,
    )


def _narrowest(ctx: Context, model, classes: int | None) -> str | None:
    """A hidden Linear with fewer units than the classes it must tell apart."""
    if not classes:
        return None
    linears = [(name, m) for name, m in model.named_children() if isinstance(m, torch.nn.Linear)]
    for name, layer in linears[:-1]:
        if layer.out_features < classes:
            return (
                f"'{ctx.name(name)}' is too narrow: {layer.out_features} units for "
                f"{classes} classes; give it at least {classes}"
            )
    return None
