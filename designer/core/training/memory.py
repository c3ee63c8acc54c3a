"""The memory a run needs, estimated before Start: data, weights, gradients, optimizer state,
one batch's activations, and where the data will live (on the device, in memory, or streamed
from disk).

One function, `estimate`, makes the plan from sizes alone (no torch): `train`'s first line
feeds it a built model and the loaded data; the app feeds it the graph's analysis and the
dataset preview's sizes, so both show the same numbers.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from designer.core.freezing import ParamSplit

MB = 1 << 20
FLOAT = 4  # bytes of a float32 parameter, gradient or activation
# Optimizer state per trainable parameter, in copies of the parameter.
_STATE = {"adam": 2, "adamw": 2, "sgd": 1, "rmsprop": 2}


def available_bytes() -> int:
    """Free physical memory now (0 when the system can't say)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def budget_bytes(config) -> int:
    """The data memory budget: the setting, or half of the free memory (automatic)."""
    if config.memory_budget_mb > 0:
        return config.memory_budget_mb * MB
    return max(256 * MB, available_bytes() // 2)


@dataclass(frozen=True)
class DataSize:
    """What the plan needs to know of a dataset: the bytes of its samples and labels (every
    split), the bytes of its image pixels (an image folder's uint8 samples: what streams
    when it exceeds the budget; 0 for other data), and whether it is streamed already."""

    nbytes: int
    pixels: int = 0
    streamed: bool = False


def data_size(data, images: bool) -> DataSize:
    """The DataSize of a loaded Dataset; `images` when it comes from an image folder (the
    source that streams). Streamed splits count the pixels they will decode."""
    xs = [a for a in (data.x_train, data.x_val, data.x_test) if a is not None]
    ys = [a for a in (data.y_train, data.y_val, data.y_test) if a is not None]
    streamed = any(hasattr(x, "batches") for x in xs)

    def held(a) -> int:
        if hasattr(a, "batches"):  # StreamedImages: uint8 pixels decoded batch by batch
            return len(a) * math.prod(int(d) for d in a.shape[1:])
        return int(a.nbytes)

    pixels = sum(held(x) for x in xs) if images else 0
    return DataSize(sum(held(a) for a in xs + ys), pixels, streamed)


@dataclass(frozen=True)
class MemoryPlan:
    data: int
    weights: int
    grads: int
    optimizer: int
    where: str  # "on device", "in memory" or "streamed"
    activations: int = 0  # of one training batch (forward outputs kept for the backward pass)
    batch_size: int = 0

    def text(self) -> str:
        """ "memory: data 12 MB (on device), weights 45 MB, gradients 8 kB, optimizer 16 kB,
        activations 1.2 MB per batch of 32"."""
        out = (
            f"memory: data {_size(self.data)} ({self.where}), weights {_size(self.weights)}, "
            f"gradients {_size(self.grads)}, optimizer {_size(self.optimizer)}"
        )
        if self.batch_size:
            out += f", activations {_size(self.activations)} per batch of {self.batch_size}"
        return out


def _size(n: int) -> str:
    if n < MB:
        return f"{n / 1024:.1f} kB"
    return f"{n / MB:.1f} MB" if n < 1024 * MB else f"{n / (1024 * MB):.2f} GB"


def activation_floats(shapes) -> int:
    """Floats per sample of the layers' outputs (the analysis' shapes, batch excluded)."""
    total = 0
    for shape in shapes.values():
        if shape and all(isinstance(d, int) for d in shape):
            total += math.prod(shape)
    return total


def estimate(
    params: ParamSplit, size: DataSize, config, device: str, activations_per_sample: int = 0
) -> MemoryPlan:
    """The plan of training a model with `params` on data of `size` with `config`, on a
    device of type `device` ("cpu", "cuda", "mps"). Image data larger than the memory budget
    streams from disk (the loader's rule); other data lives on the device, or in memory on
    the CPU."""
    weights = params.total * FLOAT
    grads = params.trainable * FLOAT
    state = grads * _STATE.get(config.optimizer, 2)
    if config.optimizer == "sgd" and not config.momentum:
        state = 0
    streams = size.streamed or (size.pixels > 0 and size.pixels > budget_bytes(config))
    where = "streamed" if streams else ("in memory" if device == "cpu" else "on device")
    batch = config.batch_size
    activations = activations_per_sample * batch * FLOAT if activations_per_sample else 0
    return MemoryPlan(
        size.nbytes, weights, grads, state, where, activations, batch if activations else 0
    )


def plan(model, data, config, device: str = "cpu", graph=None) -> MemoryPlan:
    """The estimate for training `model` on `data` (a loaded Dataset) with `config`; with the
    `graph`, one batch's activations too."""
    from designer.core.freezing import model_split

    per_sample = 0
    if graph is not None:
        from designer.core.analysis import analyze

        per_sample = activation_floats(analyze(graph).shapes)
    # The loader has decided already whether the data streams: no pixels to weigh again.
    return estimate(model_split(model), data_size(data, False), config, device, per_sample)


def device_kind(name: str, available) -> str:
    """The device type a run on device setting `name` gets, among the `available` ones
    (recipe.pick_device's order for "auto": CUDA, then Apple MPS, then the CPU)."""
    if name == "auto":
        return next((d for d in ("cuda", "mps") if d in available), "cpu")
    return name


def graph_plan(graph, analysis, size: DataSize, config, device: str) -> MemoryPlan:
    """The plan before Start, from the graph's analysis (parameter counts, frozen layers,
    shapes) and the data's size: the numbers `train`'s first line gives for the same run."""
    from designer.core.freezing import split_counts

    params = split_counts(graph, analysis.costs)
    return estimate(params, size, config, device, activation_floats(analysis.shapes))
