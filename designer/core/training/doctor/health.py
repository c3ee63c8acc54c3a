"""Per-layer training health, sampled every K optimiser steps through module hooks.

Attach a `HealthSampler` to a model and train it as usual: the sampler needs nothing from the
training loop. On a sampled step it records, per layer (the model's top-level children, which
are the graph's nodes), the gradient norm, the output's mean and std, the fraction of dead ReLU
units, the fraction of saturated sigmoid/tanh outputs and the weight update ratio
(|W_after - W_before| / |W_before| over that step).

NOTE on cost: sampling stays within BUDGET of the wall time (one sample per epoch always);
between samples only one forward pre-hook on the root module runs (a counter);
the per-layer forward hooks and gradient hooks are registered on a sampled step and removed
after it. Statistics stay tensors on the device until `flush()` (at epoch end) reads them back
in one go, so sampling adds no per-step device syncs.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch
from torch import nn

from designer.core.training.doctor.stats import STATISTICS, HealthReport, LayerHealth

RELU_LIKE = (nn.ReLU, nn.ReLU6)
SATURATING = (nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Softsign)
DEFAULT_EVERY = 25
BUDGET = 0.04  # sampling may take at most this share of the training time (plus 1 per epoch)
MIN_ROWS_DEAD = 64  # a unit silent for fewer samples than this may just be unlucky


class HealthSampler:
    """Samples layer health every `every` training steps of `model` (a step = one forward
    call in training mode). Use as a context manager, or attach()/detach()."""

    def __init__(self, model: nn.Module, every: int = DEFAULT_EVERY) -> None:
        self.model, self.every = model, max(1, int(every))
        self.children = dict(model.named_children())
        self.step = 0
        self._root_hook: Any = None
        self._hooks: list = []
        self._order: list[str] = []
        self._current: dict[str, dict[str, Any]] = {}
        self._before: dict[str, list[torch.Tensor]] | None = None
        self._before_owner: dict[str, dict[str, torch.Tensor]] | None = None
        self._samples: list[dict[str, dict[str, Any]]] = []
        self.order: list[str] = []
        self._attached = time.perf_counter()
        self._spent = self._began = 0.0
        self._epoch_first = True

    def __enter__(self) -> HealthSampler:
        self.attach()
        return self

    def __exit__(self, *exc) -> None:
        self.detach()

    def attach(self) -> None:
        if self._root_hook is None:
            self._attached = time.perf_counter()
            self._root_hook = self.model.register_forward_pre_hook(self._pre_step)

    def detach(self) -> None:
        if self._root_hook is not None:
            self._root_hook.remove()
            self._root_hook = None
        self._remove_hooks()

    # -- hooks ----------------------------------------------------------------------------------
    def _pre_step(self, module, args) -> None:
        if not module.training or torch.is_inference_mode_enabled():
            return
        self._finish_sample()
        if self.step % self.every == 0 and self._affordable():
            self._began = time.perf_counter()
            self._begin_sample()
        self.step += 1

    def _affordable(self) -> bool:
        """The first sample of each epoch, then only while sampling has cost less than
        BUDGET of the time since attach (tiny steps: a sample costs many of them)."""
        if self._epoch_first:
            return True
        elapsed = time.perf_counter() - self._attached
        return self._spent <= BUDGET * elapsed

    def _begin_sample(self) -> None:
        self._current, self._order = {}, []
        self._before = {}
        for name, child in self.children.items():
            params = [p for p in child.parameters() if p.requires_grad]
            if params:
                self._before[name] = [p.detach().clone() for p in params]
            self._hooks.append(child.register_forward_hook(self._forward_hook(name)))
            for p in params:
                self._hooks.append(p.register_hook(self._grad_hook(name)))

    def _forward_hook(self, name: str):
        def hook(module, args, out) -> None:
            if not isinstance(out, torch.Tensor) or not out.is_floating_point():
                out = out[0] if isinstance(out, tuple) and out else None
                if not isinstance(out, torch.Tensor) or not out.is_floating_point():
                    return
            if name not in self._current:
                self._order.append(name)
            stats = self._current.setdefault(name, {})
            o = out.detach().float()
            stats["act_mean"] = o.mean()
            stats["act_std"] = o.std() if o.numel() > 1 else torch.zeros((), device=o.device)
            stats["finite"] = torch.isfinite(o).all()
            if isinstance(module, RELU_LIKE) and o.dim() >= 2:
                units = o.transpose(0, 1).reshape(o.shape[1], -1)
                stats["_alive"] = (units > 0).any(1)
                stats["_rows"] = o.shape[0]
            elif isinstance(module, SATURATING):
                low, high = (0.01, 0.99) if isinstance(module, nn.Sigmoid) else (-0.99, 0.99)
                stats["saturated_fraction"] = ((o <= low) | (o >= high)).float().mean()

        return hook

    def _grad_hook(self, name: str):
        def hook(grad: torch.Tensor) -> None:
            stats = self._current.setdefault(name, {})
            g = grad.detach().float()
            stats["_grad_sq"] = stats.get("_grad_sq", 0.0) + (g * g).sum()
            stats["_grad_n"] = stats.get("_grad_n", 0) + g.numel()
            stats["grad_finite"] = torch.isfinite(g).all() & stats.get(
                "grad_finite", torch.ones((), dtype=torch.bool, device=g.device)
            )

        return hook

    def _finish_sample(self) -> None:
        """Called on the step after a sampled one: the weights have been updated since."""
        if self._before is None:
            return
        self._remove_hooks()
        self._epoch_first = False
        for name, before in self._before.items():
            params = [p for p in self.children[name].parameters() if p.requires_grad]
            diff = torch.stack(
                [((p.detach() - b) ** 2).sum() for p, b in zip(params, before, strict=True)]
            ).sum()
            size = torch.stack([(b**2).sum() for b in before]).sum()
            stats = self._current.setdefault(name, {})
            stats["update_ratio"] = torch.sqrt(diff) / torch.sqrt(size).clamp_min(1e-12)
        self._samples.append(self._current)
        if not self.order:
            self.order = list(self._order)
        self._before, self._current = None, {}
        self._spent += time.perf_counter() - self._began

    def _remove_hooks(self) -> None:
        for h in self._hooks:
            h.remove()
        self._hooks = []

    # -- reading ----------------------------------------------------------------------------------
    def flush(self, epoch: int) -> HealthReport:
        """The epoch's report (means over its samples), and a fresh start for the next."""
        self._finish_sample()
        self._epoch_first = True
        samples, self._samples = self._samples, []
        report = HealthReport(epoch, samples=len(samples))
        if not samples:
            return report
        _read_back(samples)
        order = self.order or list(self.children)
        order += [n for n in self.children if n not in order and any(n in s for s in samples)]
        for depth, name in enumerate(order):
            values: dict[str, list[float]] = {}
            finite = True
            alive: torch.Tensor | None = None
            rows = 0
            for s in samples:
                stats = s.get(name)
                if not stats:
                    continue
                if "_alive" in stats:  # dead: silent for every sample of the epoch's samples
                    a = stats.pop("_alive")
                    alive = a if alive is None or alive.shape != a.shape else alive | a
                    rows += stats.pop("_rows")
                read = {
                    k: (v.item() if isinstance(v, torch.Tensor) else v) for k, v in stats.items()
                }
                if "_grad_sq" in read:
                    read["grad_norm"] = math.sqrt(read["_grad_sq"])
                    read["grad_rms"] = math.sqrt(read["_grad_sq"] / max(1, read["_grad_n"]))
                finite &= bool(read.get("finite", True)) and bool(read.get("grad_finite", True))
                for k in STATISTICS | {"grad_rms": ""}:
                    if k in read and math.isfinite(read[k]):
                        values.setdefault(k, []).append(float(read[k]))
            mean = {k: sum(v) / len(v) for k, v in values.items() if v}
            if alive is not None and rows >= MIN_ROWS_DEAD:
                mean["dead_fraction"] = 1.0 - float(alive.float().mean())
            report.layers.append(LayerHealth(name, depth, finite=finite, **mean))
        return report


def _read_back(samples: list[dict[str, dict[str, Any]]]) -> None:
    """Every scalar statistic of the epoch read back from the device in one transfer (one
    sync, instead of one per value), replaced by its Python float in place."""
    keys = [
        (i, name, k)
        for i, sample in enumerate(samples)
        for name, stats in sample.items()
        for k, v in stats.items()
        if isinstance(v, torch.Tensor) and v.dim() == 0
    ]
    if not keys:
        return
    values = torch.stack([samples[i][n][k].detach().double() for i, n, k in keys]).tolist()
    for (i, n, k), value in zip(keys, values, strict=True):
        samples[i][n][k] = value
