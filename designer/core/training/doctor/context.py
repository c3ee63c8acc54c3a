"""What every detector reads: the run's settings, the metric history and the layer health."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from designer.core.training.doctor.stats import HealthReport

# Learning rates that usually work, by optimiser (the suggestions never go above these).
TYPICAL_LR = {"adam": 0.01, "adamw": 0.01, "rmsprop": 0.01, "sgd": 0.1}
DEFAULT_LR = {"adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "sgd": 1e-2}


@dataclass
class Context:
    """`history` holds one dict per epoch (epoch, train_loss, test_loss, train_accuracy,
    test_accuracy, lr); `health` one report per epoch when health sampling is on; `classes`
    is None for regression; `layers` maps a layer (model attribute) to its node id and layer
    type and name; `lr_suggestion` is the range test's suggestion when one ran."""

    settings: dict
    classes: int | None = None
    history: list[dict] = field(default_factory=list)
    health: list[HealthReport] = field(default_factory=list)
    layers: dict[str, tuple[str | None, str, str]] = field(default_factory=dict)
    lr_suggestion: float | None = None
    found: set[str] = field(default_factory=set)

    @property
    def lr(self) -> float:
        return float(self.settings["lr"])

    @property
    def optimizer(self) -> str:
        return str(self.settings["optimizer"])

    @property
    def chance_loss(self) -> float | None:
        """The cross-entropy loss of guessing (uniform over the classes): log(classes)."""
        if self.settings.get("loss") != "cross_entropy" or not self.classes:
            return None
        return math.log(self.classes)

    def series(self, name: str) -> list[float]:
        """A metric's values by epoch; NaN where an epoch lacks it."""
        out = []
        for row in self.history:
            value = row.get(name)
            out.append(math.nan if value is None else float(value))
        return out

    def has(self, name: str) -> bool:
        return any(math.isfinite(v) for v in self.series(name))

    def epoch(self, index: int) -> int:
        return int(self.history[index].get("epoch", index + 1))

    def node(self, layer: str) -> str | None:
        return self.layers.get(layer, (None, "", layer))[0]

    def kind(self, layer: str) -> str:
        return self.layers.get(layer, (None, "", layer))[1]

    def name(self, layer: str) -> str:
        return self.layers.get(layer, (None, "", layer))[2]

    def lower_lr(self) -> float:
        """A learning rate to try instead of one that is too high."""
        if self.lr_suggestion is not None and self.lr_suggestion < self.lr:
            return _round(self.lr_suggestion)
        return _round(min(self.lr / 10, TYPICAL_LR.get(self.optimizer, 0.01)))

    def higher_lr(self) -> float:
        """A learning rate to try instead of one that is too low."""
        if self.lr_suggestion is not None and self.lr_suggestion > self.lr:
            return _round(self.lr_suggestion)
        return _round(max(self.lr * 10, DEFAULT_LR.get(self.optimizer, 1e-3)))


def _round(lr: float) -> float:
    """One significant digit: 0.0123 -> 0.01."""
    if lr <= 0 or not math.isfinite(lr):
        return lr
    exp = math.floor(math.log10(lr))
    return float(f"{round(lr / 10**exp) * 10**exp:.1g}")
