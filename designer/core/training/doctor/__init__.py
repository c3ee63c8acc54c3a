"""The training doctor: why a network fails, said in plain words, with the fix.

DETECTORS is the one list of diagnoses: each is a function over a `Context` (the metric history
and the sampled layer health) returning a `Diagnosis` (evidence, plot region, node, remedies) or
None. The curve banner, the node badges, the CLI print and summary.json all read their output.
"""

from __future__ import annotations

from designer.core.training.doctor.context import Context
from designer.core.training.doctor.curves import CURVE_DETECTORS
from designer.core.training.doctor.diagnosis import Diagnosis, Remedy
from designer.core.training.doctor.nodes import NODE_DETECTORS
from designer.core.training.doctor.stats import STATISTICS, HealthReport, LayerHealth

# Node detectors first: a curve detector may defer to them (a flat curve with starved layers is
# vanishing gradients, not a low learning rate).
DETECTORS = NODE_DETECTORS + CURVE_DETECTORS

__all__ = [
    "DETECTORS",
    "STATISTICS",
    "Context",
    "Diagnosis",
    "HealthReport",
    "HealthSampler",
    "LayerHealth",
    "Remedy",
    "diagnose",
]


def __getattr__(name: str):
    # NOTE: the sampler needs torch; the detectors and the data types don't (the app shows
    # the Training panel before torch is imported).
    if name == "HealthSampler":
        from designer.core.training.doctor.health import HealthSampler

        return HealthSampler
    raise AttributeError(name)


def diagnose(ctx: Context) -> list[Diagnosis]:
    """Run every detector whose diagnosis is not yet in `ctx.found`; the new ones, which are
    added to `ctx.found` (a diagnosis is raised once per run)."""
    new = []
    for detector in DETECTORS:
        found = detector(ctx)
        if found is not None and found.key not in ctx.found:
            ctx.found.add(found.key)
            new.append(found)
    return new
