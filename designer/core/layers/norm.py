"""Normalization: BatchNorm1d/2d, LayerNorm and GroupNorm. Feature counts come from the input."""

from __future__ import annotations

from designer.core.errors import ShapeError
from designer.core.layers.common import (
    call,
    expect_rank,
    expect_spatial,
    non_default,
    numel,
    one_input,
    p_int,
)
from designer.core.layers.registry import register
from designer.core.layers.spec import InputSpec, LayerSpec, ModuleCode, ParamSpec, call_module

_EPS = ParamSpec("eps", float, 1e-5, "Added to the variance so it is never zero", minimum=1e-12)
_MOMENTUM = ParamSpec(
    "momentum",
    float,
    0.1,
    "Weight of each batch in the running mean and variance",
    minimum=0.0,
    maximum=1.0,
)


def _affine(name: str) -> ParamSpec:
    return ParamSpec(name, bool, True, "Learn a scale and a shift per feature")


def _batchnorm1d_infer(params, in_shapes):
    x = one_input(in_shapes)
    expect_rank(x, (1, 2), conv1d=True, advice="Use BatchNorm2d for images" if len(x) == 3 else "")
    return x


def _batchnorm2d_infer(params, in_shapes):
    x = one_input(in_shapes)
    expect_spatial(x, 2)
    return x


def _batchnorm_emit(cls: str):
    def emit(params, in_shapes):
        extra = non_default(params, {"eps": 1e-5, "momentum": 0.1, "affine": True})
        return ModuleCode(call(cls, in_shapes[0][0], **extra), call_module)

    return emit


def _per_channel_cost(flag: str):
    """Scale and shift per channel (dim 1) when `flag` is on; a few operations per value."""

    def cost(params, in_shapes, out):
        return (2 * in_shapes[0][0] if params[flag] else 0), 2 * numel(out)

    return cost


for _dims, _ranks, _infer, _doc in (
    (
        1,
        (1, 2),
        _batchnorm1d_infer,
        "Normalises each feature (N×F) or channel (N×C×L) over the batch.",
    ),
    (
        2,
        (3,),
        _batchnorm2d_infer,
        "Normalises each image channel over the batch; speeds up CNN training.",
    ),
):
    register(
        LayerSpec(
            type_id=f"batch_norm{_dims}d",
            title=f"BatchNorm{_dims}d",
            category="Normalization",
            doc=_doc,
            params=(_EPS, _MOMENTUM, _affine("affine")),
            infer=_infer,
            emit=_batchnorm_emit(f"nn.BatchNorm{_dims}d"),
            cost=_per_channel_cost("affine"),
            accepts=InputSpec(ranks=_ranks),
            passthrough=True,
        )
    )


def _layernorm_emit(params, in_shapes):
    extra = non_default(params, {"eps": 1e-5, "elementwise_affine": True})
    return ModuleCode(call("nn.LayerNorm", in_shapes[0][-1], **extra), call_module)


def _layernorm_cost(params, in_shapes, out):
    return (2 * out[-1] if params["elementwise_affine"] else 0), 2 * numel(out)


register(
    LayerSpec(
        type_id="layer_norm",
        title="LayerNorm",
        category="Normalization",
        doc="Normalises each sample over its last dimension, as transformers do.",
        params=(_EPS, _affine("elementwise_affine")),
        infer=lambda params, in_shapes: one_input(in_shapes),
        emit=_layernorm_emit,
        cost=_layernorm_cost,
        passthrough=True,
    )
)


def _groupnorm_infer(params, in_shapes):
    x = one_input(in_shapes)
    groups, channels = p_int(params, "num_groups"), x[0]
    if channels % groups:
        raise ShapeError(f"num_groups={groups} must divide the number of channels ({channels})")
    return x


def _groupnorm_emit(params, in_shapes):
    extra = non_default(params, {"eps": 1e-5, "affine": True})
    return ModuleCode(
        call("nn.GroupNorm", params["num_groups"], in_shapes[0][0], **extra), call_module
    )


register(
    LayerSpec(
        type_id="group_norm",
        title="GroupNorm",
        category="Normalization",
        doc="Normalises groups of channels in each sample; works with any batch size.",
        params=(
            ParamSpec("num_groups", int, 4, "Channels are split into this many groups", minimum=1),
            _EPS,
            _affine("affine"),
        ),
        infer=_groupnorm_infer,
        emit=_groupnorm_emit,
        cost=_per_channel_cost("affine"),
        key_params=("num_groups",),
        passthrough=True,
    )
)
