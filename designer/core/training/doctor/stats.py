"""Per-layer health statistics as plain data (no torch: the app reads them before torch loads)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LayerHealth:
    """One layer's statistics, averaged over the samples of one epoch. None: not measurable
    (no parameters: no gradient; not a ReLU: no dead fraction...)."""

    layer: str
    depth: int
    grad_norm: float | None = None
    grad_rms: float | None = None
    act_mean: float | None = None
    act_std: float | None = None
    dead_fraction: float | None = None
    saturated_fraction: float | None = None
    update_ratio: float | None = None
    finite: bool = True

    def get(self, stat: str) -> float | None:
        return getattr(self, stat)


STATISTICS = {
    "grad_norm": "gradient norm",
    "act_std": "activation std",
    "act_mean": "activation mean",
    "dead_fraction": "dead ReLU fraction",
    "saturated_fraction": "saturated fraction",
    "update_ratio": "update ratio",
}


@dataclass
class HealthReport:
    """The layers' health over one epoch, in forward (depth) order, and how many steps it
    averages."""

    epoch: int
    layers: list[LayerHealth] = field(default_factory=list)
    samples: int = 0

    def by_layer(self) -> dict[str, LayerHealth]:
        return {h.layer: h for h in self.layers}
