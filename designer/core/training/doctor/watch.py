"""The doctor around a training run: health sampling on the model, detectors at each epoch's
end, and a NaN failure that names the first non-finite layer.

`doctored(events, ...)` wraps the engine's event generator and yields its events unchanged,
plus `HealthSampled` after each EpochEnd (when sampling is on) and `Diagnosed` when a detector
fires, within the epoch the evidence is complete.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from designer.core.training.doctor import Context, Diagnosis, HealthReport
from designer.core.training.doctor import diagnose as run_detectors
from designer.core.training.doctor.health import DEFAULT_EVERY, HealthSampler
from designer.core.training.events import EpochEnd, Failed, Finished


@dataclass(frozen=True)
class Diagnosed:
    """The doctor found a cause; raised once per kind per run."""

    diagnosis: Diagnosis


@dataclass(frozen=True)
class HealthSampled:
    """The layers' health over an epoch (sampled every K steps)."""

    report: HealthReport


@dataclass(frozen=True)
class BoundaryUpdated:
    """The classifier's regions on 2-D data, with the training points to draw over them."""

    boundary: object  # designer.core.training.boundary.Boundary
    points: np.ndarray
    labels: np.ndarray


def metrics_of(event: EpochEnd) -> dict:
    """One history row from an EpochEnd: the epoch and its metrics (lr among them)."""
    return {"epoch": event.epoch, **event.metrics}


def layers_of(model: torch.nn.Module, graph=None, node_of: dict | None = None) -> dict:
    """Layer (model attribute) -> (node id, layer type, display name)."""
    out = {}
    for attr, module in model.named_children():
        node_id = (node_of or {}).get(attr)
        if graph is not None and node_id in graph.nodes:
            node = graph.nodes[node_id]
            out[attr] = (node_id, node.type_id, node.name)
        else:
            out[attr] = (node_id, type(module).__name__.lower(), attr)
    return out


def classes_of(data) -> int | None:
    y = data.y_train
    if np.issubdtype(y.dtype, np.floating):
        return None
    return int(data.num_classes or int(y.max()) + 1)


def context_for(model, data, config, graph=None, node_of=None, lr_suggestion=None) -> Context:
    return Context(
        config.to_dict(),
        classes=classes_of(data),
        layers=layers_of(model, graph, node_of),
        lr_suggestion=lr_suggestion,
    )


def doctored(
    events: Iterable,
    model: torch.nn.Module,
    data,
    config,
    ctx: Context | None = None,
    every: int | None = DEFAULT_EVERY,
    boundary_seconds: float | None = None,
) -> Iterator:
    """The run's events, with HealthSampled/Diagnosed added and NaN failures located.
    `every` = None turns health sampling off (the curve detectors still run). With
    `boundary_seconds`, 2-D classification data also gets BoundaryUpdated at epoch ends, at
    most once per that many seconds, and after the last epoch."""
    from designer.core.training.boundary import is_planar

    ctx = ctx or context_for(model, data, config)
    planar = boundary_seconds is not None and is_planar(data)
    last_boundary = -math.inf
    sampler = HealthSampler(model, every) if every else None
    if sampler is not None:
        sampler.attach()
    try:
        for event in events:
            if isinstance(event, Failed) and event.kind == "nan":
                yield locate_nan(event, model, data, config, ctx)
                continue
            final = isinstance(event, Finished)
            if planar and final:
                yield _boundary(model, data, config)
            yield event
            if not isinstance(event, EpochEnd):
                continue
            if planar and time.perf_counter() - last_boundary >= (boundary_seconds or 0.0):
                yield _boundary(model, data, config)
                last_boundary = time.perf_counter()
            if sampler is not None:
                report = sampler.flush(event.epoch)
                ctx.health.append(report)
                yield HealthSampled(report)
            ctx.history.append(metrics_of(event))
            for found in run_detectors(ctx):
                yield Diagnosed(found)
    finally:
        if sampler is not None:
            sampler.detach()


def _boundary(model, data, config) -> BoundaryUpdated:
    from designer.core.training.boundary import decision_boundary

    b = decision_boundary(model, data.x_train, config.loss, resolution=60)
    return BoundaryUpdated(b, data.x_train, data.y_train)


def locate_nan(failed: Failed, model, data, config, ctx: Context) -> Failed:
    """The failure, its message naming the first layer whose values went non-finite."""
    from designer.core.training import recipe
    from designer.core.training.doctor.nonfinite import first_nonfinite

    try:
        settings = config.to_dict()
        x = torch.as_tensor(np.ascontiguousarray(data.x_train)).float()
        width, _ = recipe.probe(model, x[:2], 2)
        t = recipe.make_targets(torch.as_tensor(data.y_train), settings["loss"], width)
        found = first_nonfinite(model, x, t, settings)
    except Exception:  # noqa: BLE001 - the post-mortem must never hide the failure
        return failed
    if found is None:
        return failed
    layer, what, step = found
    where = (
        f"; the first non-finite values were the {what} of '{ctx.name(layer)}' "
        f"(replayed: step {step})"
    )
    return dataclasses.replace(
        failed, message=failed.message + where, node_id=ctx.node(layer) or failed.node_id
    )


def train_doctored(
    project, base_dir=None, control=None, every: int | None = DEFAULT_EVERY,
    lr_suggestion: float | None = None, model_out: list | None = None,
    boundary_seconds: float | None = None, **overrides,
) -> Iterator:  # fmt: skip
    """engine.train_project with the doctor on. `model_out`, when given, receives the model
    (trained in place) so the caller can keep its weights."""
    from designer.core.training.engine import train
    from designer.core.training.failures import explain
    from designer.core.training.prepare import node_of, prepare

    config = dataclasses.replace(project.training, **overrides)
    try:
        model, source, data = prepare(dataclasses.replace(project, training=config), base_dir)
    except Exception as exc:  # noqa: BLE001 - as train_project: a failure is an event
        yield explain(exc, config)
        return
    if model_out is not None:
        model_out.append(model)
    ctx = context_for(model, data, config, project.graph, node_of(source), lr_suggestion)
    events = train(model, data, config, control, node_of(source))
    yield from doctored(events, model, data, config, ctx, every, boundary_seconds)
