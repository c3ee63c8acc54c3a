"""Detectors over the metric history: each returns a Diagnosis (evidence + remedy) or None.

They are meant to fire early, within a few epochs of the symptom, and not on healthy runs:
every threshold is relative to the run's own scale (the loss of guessing, log(classes), for
classifiers; the first epoch's loss otherwise).
"""

from __future__ import annotations

import math

from designer.core.training.doctor.context import Context
from designer.core.training.doctor.diagnosis import Diagnosis, Remedy

SPIKE_RATIO = 2.0  # a loss this many times its running minimum...
SPIKE_SCALE = 0.25  # ...and this far above it, in units of the run's loss scale, is a spike
ABOVE_CHANCE = 3.0  # a classifier's loss this many times log(classes): confidently wrong
COLLAPSE = 0.15  # accuracy falling this far below its best, on train and test alike
FLAT = 0.02  # a loss that fell by less than this fraction over the first epochs is flat
FLAT_EPOCHS = 4
SLOW_UPDATES = 1e-4  # weights moving by less than this fraction of their size per step
OVERFIT_PATIENCE = 3  # epochs since the best test loss
CHANCE_TOLERANCE = 0.05
CHANCE_EPOCHS = 8


def _scale(ctx: Context, train: list[float]) -> float:
    chance = ctx.chance_loss
    return chance if chance is not None else max(abs(train[0]), 1e-12)


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def lr_too_high(ctx: Context) -> Diagnosis | None:
    """Divergence or oscillation: a loss spike far above the running minimum, a classifier's
    loss far above guessing, or accuracy collapsing on train and test at once."""
    train = ctx.series("train_loss")
    if not train:
        return None
    scale = _scale(ctx, train)
    evidence: dict = {}
    where = None
    chance = ctx.chance_loss
    for i, loss in enumerate(train):
        if chance is not None and loss > ABOVE_CHANCE * chance:
            where = i
            evidence = {"train_loss": loss, "chance_loss": chance}
            why = (
                f"the training loss reached {loss:.3g} at epoch {ctx.epoch(i)}, "
                f"{loss / chance:.0f}× the {chance:.3g} of guessing"
            )
            break
        if i == 0:
            continue
        low = min(train[:i])
        if loss > SPIKE_RATIO * low and loss - low > SPIKE_SCALE * scale:
            where = i
            evidence = {"train_loss": loss, "running_min": low}
            why = (
                f"the training loss jumped to {loss:.3g} at epoch {ctx.epoch(i)}, "
                f"{loss / low:.1f}× its lowest so far ({low:.3g})"
            )
            break
    if where is None and ctx.has("test_accuracy") and ctx.has("train_accuracy"):
        where, why, evidence = _collapse(ctx)
    if where is None:
        return None
    lr = ctx.lower_lr()
    source = " (from the range test)" if ctx.lr_suggestion == lr else ""
    return Diagnosis(
        "lr_too_high",
        "learning rate too high",
        f"learning rate too high: {why}. Training diverges or oscillates at learning rate "
        f"{ctx.lr:g}; lower it to {lr:g}{source}",
        epoch=ctx.epoch(len(train) - 1),
        first_epoch=ctx.epoch(max(0, where - 1)),
        evidence=evidence | {"lr": ctx.lr, "suggested_lr": lr},
        remedies=(Remedy(f"Lower the learning rate to {lr:g}", {"lr": lr}),),
    )


def _collapse(ctx: Context):
    train, test = ctx.series("train_accuracy"), ctx.series("test_accuracy")
    chance = 1 / ctx.classes if ctx.classes else 0.0
    for i in range(1, len(test)):
        best_test, best_train = max(test[:i]), max(train[:i])
        learned = best_test >= chance + 0.5 * (1 - chance)  # it had learned, then lost it
        if learned and best_test - test[i] > COLLAPSE and best_train - train[i] > COLLAPSE / 2:
            why = (
                f"accuracy collapsed at epoch {ctx.epoch(i)}: test {_pct(test[i])} after "
                f"{_pct(best_test)}, train {_pct(train[i])} after {_pct(best_train)}"
            )
            return i, why, {"test_accuracy": test[i], "best_test_accuracy": best_test}
    return None, "", {}


def _update_ratio(ctx: Context) -> float | None:
    """The median per-step weight update ratio over the layers, latest epoch with health."""
    for report in reversed(ctx.health):
        ratios = sorted(h.update_ratio for h in report.layers if h.update_ratio is not None)
        if ratios:
            return ratios[len(ratios) // 2]
    return None


def lr_too_low(ctx: Context) -> Diagnosis | None:
    """Loss decreasing by a negligible fraction over the first epochs, with weights that
    barely move (when health is sampled)."""
    if len(ctx.history) < FLAT_EPOCHS or ctx.found & {"vanishing_gradients", "lr_too_high"}:
        return None
    drops = []
    for name in ("train_loss", "test_loss"):
        values = [v for v in ctx.series(name) if math.isfinite(v)]
        if len(values) >= FLAT_EPOCHS and values[0] > 0:
            drops.append((values[0] - min(values[1:])) / values[0])
    if not drops or max(drops) >= FLAT:
        return None
    ratio = _update_ratio(ctx)
    if ratio is not None and ratio >= SLOW_UPDATES:
        return None  # the weights do move: the flat curve has another cause
    lr = ctx.higher_lr()
    moved = f"; weights change by {ratio:.1g} of their size per step" if ratio is not None else ""
    n = len(ctx.history)
    return Diagnosis(
        "lr_too_low",
        "learning rate too low",
        f"learning rate too low: the loss fell by only {_pct(max(drops))} over {n} epochs "
        f"at learning rate {ctx.lr:g}{moved}; raise it to {lr:g}",
        epoch=ctx.epoch(n - 1),
        first_epoch=ctx.epoch(0),
        evidence={"relative_drop": max(drops), "update_ratio": ratio, "suggested_lr": lr},
        remedies=(Remedy(f"Raise the learning rate to {lr:g}", {"lr": lr}),),
    )


def overfitting(ctx: Context) -> Diagnosis | None:
    """Test loss rising for several epochs while the training loss keeps falling."""
    train, test = ctx.series("train_loss"), ctx.series("test_loss")
    if not ctx.has("test_loss") or len(test) < OVERFIT_PATIENCE + 2 or "lr_too_high" in ctx.found:
        return None
    best = min(range(len(test)), key=lambda i: test[i] if math.isfinite(test[i]) else math.inf)
    now = len(test) - 1
    if now - best < OVERFIT_PATIENCE:
        return None
    gap_then, gap_now = test[best] - train[best], test[now] - train[now]
    rising = test[now] > test[best] * 1.1 and test[now] - test[best] > 0.02 * _scale(ctx, train)
    if not (rising and train[now] < train[best] and gap_now > 1.5 * max(gap_then, 1e-12)):
        return None
    chance = ctx.chance_loss
    if chance is not None and train[now] > 0.8 * chance:
        return None  # still near guessing (a plateau): the noise of a model that learned nothing
    best_epoch = ctx.epoch(best)
    patience = max(3, min(10, (now - best)))
    remedies = (
        Remedy(
            f"Stop early: keep the best epoch ({best_epoch}), patience {patience}",
            {"early_stopping": patience},
        ),
        Remedy("Add weight decay 1e-4", {"weight_decay": 1e-4}),
        _dropout_remedy(ctx),
        Remedy("Use more training data (a smaller test fraction, or augmentation)"),
    )
    return Diagnosis(
        "overfitting",
        "overfitting",
        f"overfitting: the test loss rose from {test[best]:.3g} (epoch {best_epoch}) to "
        f"{test[now]:.3g} while the training loss fell to {train[now]:.3g}; the gap grew "
        f"from {gap_then:.3g} to {gap_now:.3g}. Stop early at epoch {best_epoch}, or add "
        f"dropout or weight decay",
        epoch=ctx.epoch(now),
        first_epoch=best_epoch,
        evidence={"best_epoch": best_epoch, "best_test_loss": test[best], "gap": gap_now},
        remedies=tuple(r for r in remedies if r is not None),
    )


def _dropout_remedy(ctx: Context) -> Remedy | None:
    if any(kind.startswith("dropout") for _, kind, _ in ctx.layers.values()):
        return None
    return Remedy("Add a Dropout layer before the last layer (insert it on the canvas)")


def stuck_at_chance(ctx: Context) -> Diagnosis | None:
    """A classifier whose loss stays at log(classes) and accuracy at chance."""
    chance, classes = ctx.chance_loss, ctx.classes or 0
    if chance is None or not classes or len(ctx.history) < CHANCE_EPOCHS:
        return None
    recent = ctx.history[-CHANCE_EPOCHS:]
    for row in recent:
        for name in ("train_loss", "test_loss"):
            value = row.get(name)
            value = math.nan if value is None else float(value)
            if math.isfinite(value) and abs(value - chance) > CHANCE_TOLERANCE * chance:
                return None
        acc = row.get("test_accuracy", row.get("train_accuracy"))
        if acc is not None and acc > 1 / classes + 0.1:
            return None
    loss = float(recent[-1]["train_loss"])
    acc = recent[-1].get("test_accuracy")
    shown = f" and accuracy {_pct(acc)}" if acc is not None else ""
    hint = (
        " (see vanishing gradients)"
        if "vanishing_gradients" in ctx.found
        else "; the network learns nothing from the data: check that the gradients reach "
        "every layer (Check), the learning rate, and the labels"
    )
    n = len(ctx.history)
    return Diagnosis(
        "stuck_at_chance",
        "stuck at chance",
        f"stuck at chance: after {n} epochs the loss is {loss:.3g} ≈ log({ctx.classes}) = "
        f"{chance:.3g}, what guessing gives{shown} (chance {_pct(1 / classes)}){hint}",
        epoch=ctx.epoch(n - 1),
        first_epoch=ctx.epoch(0),
        evidence={"loss": loss, "chance_loss": chance, "accuracy": acc},
    )


CURVE_DETECTORS = (lr_too_high, lr_too_low, overfitting, stuck_at_chance)
