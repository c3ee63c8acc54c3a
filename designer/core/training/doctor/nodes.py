"""Detectors over the sampled layer health, each pinned to a node: vanishing and exploding
gradients, dead ReLUs, saturated sigmoid/tanh units."""

from __future__ import annotations

import math

from designer.core.layers import registry
from designer.core.training.doctor.context import Context
from designer.core.training.doctor.diagnosis import Diagnosis, Remedy
from designer.core.training.doctor.stats import LayerHealth

VANISHED = 1e-3  # a layer's RMS gradient this far below the strongest layer's is starved
EXPLODING_UPDATE = 1.0  # weights changing by more than their own size in one step
DEAD = 0.5
SATURATED = 0.75  # tanh nets that learn well often sit near half saturated
# Layer facts from the specs (core/layers): a new layer declares them there.
SATURATING_TYPES = tuple(s.type_id for s in registry.all_specs() if s.saturating)
WEIGHTED_TYPES = tuple(s.type_id for s in registry.all_specs() if s.weighted)


def _latest(ctx: Context) -> list[LayerHealth]:
    for report in reversed(ctx.health):
        if report.layers:
            return report.layers
    return []


def _measured(ctx: Context, stat: str) -> list[tuple[LayerHealth, float]]:
    """(layer, value) for the layers of the latest report that have `stat`, in depth order."""
    out = []
    for h in _latest(ctx):
        value = h.get(stat)
        if value is not None:
            out.append((h, float(value)))
    return out


def _fix_activations(ctx: Context, to: str) -> Remedy:
    """Saturating activations -> `to`, and He initialisation on the weighted layers."""
    retype = tuple(
        (node, to)
        for layer, (node, kind, _) in ctx.layers.items()
        if node is not None and kind in SATURATING_TYPES and layer != _last_layer(ctx)
    )
    init = tuple(
        (node, "kaiming_normal")
        for node, kind, _ in ctx.layers.values()
        if node is not None and kind in WEIGHTED_TYPES
    )
    title = registry.get(to).title
    return Remedy(
        f"Use {title} instead of sigmoid/tanh, with He initialisation", retype=retype, init=init
    )


def _last_layer(ctx: Context) -> str | None:
    """The output-most layer: an activation there shapes the output, it is no hidden unit."""
    layers = _latest(ctx)
    return layers[-1].layer if layers else None


ADVICE = (
    Remedy("Insert BatchNorm before the activations"),
    Remedy("Add a skip connection (Add) around the deep stack"),
)


def vanishing_gradients(ctx: Context) -> Diagnosis | None:
    """Gradient norm falling by orders of magnitude with depth, towards the input."""
    layers = _measured(ctx, "grad_rms")
    if len(layers) < 3:
        return None
    top, strongest = max(layers, key=lambda hv: hv[1])
    if strongest <= 0 or not math.isfinite(strongest):
        return None
    starved = [(h, v) for h, v in layers if v < VANISHED * strongest]
    if not starved or starved[0][0].depth > layers[len(layers) // 2][0].depth:
        return None  # only an early layer starving is the depth effect
    first, weakest = starved[0]
    orders = math.log10(strongest / max(weakest, 1e-30))
    kinds = {k for _, k, _ in ctx.layers.values()}
    saturating = sorted(kinds & set(SATURATING_TYPES))
    cause = f" through {len(layers)} {'/'.join(saturating)} layers" if saturating else ""
    remedies = (
        (_fix_activations(ctx, "relu"), _fix_activations(ctx, "gelu")) if saturating else ()
    ) + ADVICE
    return Diagnosis(
        "vanishing_gradients",
        "vanishing gradients",
        f"vanishing gradients: '{ctx.name(first.layer)}' gets a gradient {orders:.0f} orders of "
        f"magnitude smaller than '{ctx.name(top.layer)}' (RMS {weakest:.1e} vs "
        f"{strongest:.1e}){cause}, so the early layers barely learn. Use ReLU or GELU with He "
        f"initialisation, BatchNorm, or a skip connection",
        epoch=ctx.health[-1].epoch,
        first_epoch=ctx.health[0].epoch,
        evidence={
            "layer": first.layer,
            "grad_rms": {h.layer: v for h, v in layers},
            "orders_of_magnitude": orders,
        },
        remedies=remedies,
        node_id=ctx.node(first.layer),
        layer=first.layer,
    )


def exploding_gradients(ctx: Context) -> Diagnosis | None:
    """Weights changing by a large fraction of their size per step, or non-finite gradients."""
    bad = [
        (h, v) for h, v in _measured(ctx, "update_ratio") if not h.finite or v > EXPLODING_UPDATE
    ]
    if not bad:
        return None
    worst, ratio = max(bad, key=lambda hv: hv[1] if math.isfinite(hv[1]) else math.inf)
    lr = ctx.lower_lr()
    return Diagnosis(
        "exploding_gradients",
        "exploding gradients",
        f"exploding gradients: each step changes the weights of '{ctx.name(worst.layer)}' by "
        f"{ratio:.0%} of their size (healthy: about 0.1 %); clip the gradients "
        f"or lower the learning rate to {lr:g}",
        epoch=ctx.health[-1].epoch,
        first_epoch=ctx.health[-1].epoch,
        evidence={"layer": worst.layer, "update_ratio": ratio},
        remedies=(
            Remedy("Clip gradients at norm 1", {"grad_clip": 1.0}),
            Remedy(f"Lower the learning rate to {lr:g}", {"lr": lr}),
        ),
        node_id=ctx.node(worst.layer),
        layer=worst.layer,
    )


def dead_relus(ctx: Context) -> Diagnosis | None:
    """A ReLU layer most of whose units output zero for every sample of a batch."""
    bad = [(h, v) for h, v in _measured(ctx, "dead_fraction") if v >= DEAD]
    if not bad:
        return None
    worst, dead = max(bad, key=lambda hv: hv[1])
    node = ctx.node(worst.layer)
    lr = ctx.lower_lr()
    leaky = (Remedy("Use LeakyReLU instead", retype=((node, "leaky_relu"),)),) if node else ()
    return Diagnosis(
        "dead_relu",
        "dead ReLUs",
        f"dead ReLUs: {dead:.0%} of the units of '{ctx.name(worst.layer)}' output "
        f"zero for every sample, so no gradient flows through them; use LeakyReLU, He "
        f"initialisation or a lower learning rate ({lr:g})",
        epoch=ctx.health[-1].epoch,
        first_epoch=ctx.health[-1].epoch,
        evidence={"layer": worst.layer, "dead_fraction": dead},
        remedies=leaky + (Remedy(f"Lower the learning rate to {lr:g}", {"lr": lr}),),
        node_id=node,
        layer=worst.layer,
    )


def saturated_activations(ctx: Context) -> Diagnosis | None:
    """A hidden sigmoid/tanh layer with most outputs pinned at its limits (gradient ~ 0)."""
    last = _last_layer(ctx)
    layers = [(h, v) for h, v in _measured(ctx, "saturated_fraction") if h.layer != last]
    bad = [(h, v) for h, v in layers if v >= SATURATED]
    if not bad:
        return None
    worst, saturated = max(bad, key=lambda hv: hv[1])
    return Diagnosis(
        "saturated",
        "saturated activations",
        f"saturated activations: {saturated:.0%} of the outputs of "
        f"'{ctx.name(worst.layer)}' sit at the ends of its range, where its slope (and the "
        f"gradient) is almost zero; use ReLU/GELU, BatchNorm before it, or smaller initial "
        f"weights (Xavier)",
        epoch=ctx.health[-1].epoch,
        first_epoch=ctx.health[-1].epoch,
        evidence={"layer": worst.layer, "saturated_fraction": saturated},
        remedies=(_fix_activations(ctx, "relu"), *ADVICE[:1]),
        node_id=ctx.node(worst.layer),
        layer=worst.layer,
    )


NODE_DETECTORS = (vanishing_gradients, exploding_gradients, dead_relus, saturated_activations)
