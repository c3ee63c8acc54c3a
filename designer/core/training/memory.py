"""The memory a run needs, estimated before Start: data, weights, gradients, optimizer state,
and where the data will live (on the device, in memory, or streamed from disk)."""

from __future__ import annotations

import os
from dataclasses import dataclass

MB = 1 << 20
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
class MemoryPlan:
    data: int
    weights: int
    grads: int
    optimizer: int
    where: str  # "on device", "in memory" or "streamed"

    def text(self) -> str:
        """ "memory: data 12 MB (on device), weights 45 MB, gradients 8 kB, optimizer 16 kB"."""
        return (
            f"memory: data {_size(self.data)} ({self.where}), weights {_size(self.weights)}, "
            f"gradients {_size(self.grads)}, optimizer {_size(self.optimizer)}"
        )


def _size(n: int) -> str:
    if n < MB:
        return f"{n / 1024:.1f} kB"
    return f"{n / MB:.1f} MB" if n < 1024 * MB else f"{n / (1024 * MB):.2f} GB"


def plan(model, data, config, device: str = "cpu") -> MemoryPlan:
    """The estimate for training `model` on `data` (a Dataset) with `config`."""
    streamed = any(hasattr(getattr(data, n), "batches") for n in ("x_train", "x_test"))
    arrays = [getattr(data, n) for n in ("x_train", "x_test", "x_val", "y_train", "y_test")]
    held = sum(int(a.nbytes) for a in arrays if a is not None and hasattr(a, "nbytes"))
    if streamed:
        x = data.x_train
        held = (len(data.x_train) + len(data.x_test)) * int(x.shape[1] * x.shape[2] * x.shape[3])
    params = list(model.parameters())
    weights = sum(p.numel() * p.element_size() for p in params)
    weights += sum(b.numel() * b.element_size() for b in model.buffers())
    grads = sum(p.numel() * p.element_size() for p in params if p.requires_grad)
    state = grads * _STATE.get(config.optimizer, 2)
    if config.optimizer == "sgd" and not config.momentum:
        state = 0
    where = "streamed" if streamed else ("in memory" if device == "cpu" else "on device")
    return MemoryPlan(held, weights, grads, state, where)
