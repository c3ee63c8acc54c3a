"""Cost of the training doctor: throughput with per-layer health sampling on (every K steps)
against off, on the digits MLP and the digits CNN."""

from __future__ import annotations

import statistics
import time

from bench.common import row
from designer.core.examples import build_example
from designer.core.project import Project
from designer.core.training.config import DataConfig, TrainingConfig
from designer.core.training.doctor.health import DEFAULT_EVERY
from designer.core.training.doctor.watch import context_for, doctored
from designer.core.training.engine import prepare, train
from designer.core.training.events import EpochEnd, Failed
from tests.core.helpers import chain

TITLE = "Training doctor: health-sampling overhead (throughput on / off, higher is better)"
EPOCHS = 4
ROUNDS = 3  # each round runs off, on, on, off (cancels order and warm-up effects)
NOTES = f"""
- *off*: the engine with the curve detectors only (`doctored(..., every=None)`); *on*: health
  sampled every {DEFAULT_EVERY} steps (forward hooks and gradient hooks on the sampled step
  only; statistics read back once per epoch). Samples/s over {EPOCHS} epochs, median of
  {2 * ROUNDS} runs each; the target is on ≥ 0.9 × off.
"""


def digits_mlp() -> Project:
    graph = chain(
        ("linear", {"out_features": 128}), ("relu", {}),
        ("linear", {"out_features": 64}), ("relu", {}),
        ("linear", {"out_features": 10}), input_shape=(64,),
    )  # fmt: skip
    return Project(
        name="digits_mlp", graph=graph, training=TrainingConfig(data=DataConfig(name="digits"))
    )


def throughput(project: Project, every: int | None) -> float:
    import dataclasses

    config = dataclasses.replace(project.training, epochs=EPOCHS, device="cpu")
    model, source, data = prepare(dataclasses.replace(project, training=config))
    ctx = context_for(model, data, config)
    samples, began = 0, time.perf_counter()
    for event in doctored(train(model, data, config), model, data, config, ctx, every=every):
        if isinstance(event, Failed):
            raise RuntimeError(event.message)
        if isinstance(event, EpochEnd):
            samples += len(data.x_train)
    return samples / (time.perf_counter() - began)


def run() -> list[dict]:
    rows = []
    for name, project in (
        ("digits MLP", digits_mlp()),
        ("digits CNN", build_example("digits_cnn")),
    ):
        throughput(project, None)  # warm-up
        off, on = [], []
        for _ in range(ROUNDS):
            off.append(throughput(project, None))
            on.append(throughput(project, DEFAULT_EVERY))
            on.append(throughput(project, DEFAULT_EVERY))
            off.append(throughput(project, None))
        a, b = statistics.median(off), statistics.median(on)
        rows.append(row(f"{name}: sampling off", a, unit="samples/s"))
        rows.append(row(f"{name}: sampling on (every {DEFAULT_EVERY} steps)", b, unit="samples/s"))
        rows.append(row(f"{name}: on / off", f"{b / a:.3f}×", "≥ 0.900×", b / a >= 0.9))
    return rows
