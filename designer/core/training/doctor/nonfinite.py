"""Which layer went non-finite first, found after a NaN/Inf failure by replaying the run.

NOTE: the engine reads losses back only at report points, so by the time it sees a NaN the
step that made it is gone and the model has been put back to its starting weights. Replaying
a copy from those weights with the same settings, checking every layer's output and gradient
on every step (a sync per layer, fine for a post-mortem), finds where it starts; the replay is
bounded in steps and time.
"""

from __future__ import annotations

import copy
import time

import torch

from designer.core.training import recipe

MAX_STEPS = 3000
MAX_SECONDS = 3.0


def first_nonfinite(model, x, t, settings: dict, max_steps: int = MAX_STEPS):
    """(layer, "activations" | "gradients", step) of the first non-finite values, or None."""
    model = copy.deepcopy(model).to(x.device)
    torch.manual_seed(settings["seed"])
    generator = torch.Generator().manual_seed(settings["seed"])
    loss_fn = recipe.make_loss(settings["loss"])
    optimizer = recipe.make_optimizer(model, settings)
    children = dict(model.named_children())
    bad: list[tuple[str, str]] = []

    def watch(name):
        def hook(module, args, out):
            if not bad and isinstance(out, torch.Tensor) and out.is_floating_point():
                inputs_ok = all(
                    bool(torch.isfinite(a).all())
                    for a in args
                    if isinstance(a, torch.Tensor) and a.is_floating_point()
                )
                if inputs_ok and not bool(torch.isfinite(out).all()):
                    bad.append((name, "activations"))

        return hook

    hooks = [c.register_forward_hook(watch(n)) for n, c in children.items()]
    step, began, batch = 0, time.perf_counter(), settings["batch_size"]
    model.train()
    try:
        while step < max_steps and time.perf_counter() - began < MAX_SECONDS:
            order = recipe.epoch_order(len(x), generator)
            for i in range(recipe.num_steps(len(order), batch)):
                idx = order[i * batch : (i + 1) * batch]
                step += 1
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(x[idx]).float(), t[idx])
                if bad:
                    return (*bad[0], step)
                if not bool(torch.isfinite(loss)):
                    return (_last(children), "activations", step)
                loss.backward()
                for name in reversed(list(children)):  # backward order: output side first
                    grads = [p.grad for p in children[name].parameters() if p.grad is not None]
                    if any(not bool(torch.isfinite(g).all()) for g in grads):
                        return (name, "gradients", step)
                if settings["grad_clip"] > 0:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), settings["grad_clip"])
                optimizer.step()
                if step >= max_steps:
                    break
    finally:
        for h in hooks:
            h.remove()
    return None


def _last(children: dict) -> str:
    return list(children)[-1] if children else "output"
