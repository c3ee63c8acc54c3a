"""Pooling: max and average windows over signals (C×L) and images (C×H×W), and adaptive pools."""

from __future__ import annotations

from dataclasses import replace

from designer.core.errors import ShapeError
from designer.core.layers.common import (
    call,
    expect_spatial,
    numel,
    one_input,
    p_int,
    positive_dims,
)
from designer.core.layers.registry import register
from designer.core.layers.spec import (
    InputSpec,
    LayerSpec,
    ModuleCode,
    ParamSpec,
    call_module,
    dims_of,
)

# NOTE: stride 0 stands for torch's default (stride = kernel_size). An int keeps the parameter
# one plain number in every form and file; None or "" would make it two kinds at once.
_WINDOW_PARAMS = (
    ParamSpec("kernel_size", int, 2, "Width of each pooling window", minimum=1),
    ParamSpec(
        "stride",
        int,
        0,
        "Step between windows; 0 = kernel_size (no overlap)",
        minimum=0,
        auto=0,
    ),
    ParamSpec("padding", int, 0, "Values added on each border, at most kernel_size / 2", minimum=0),
    ParamSpec("ceil_mode", bool, False, "Round the output size up, keeping a partial last window"),
)


_WINDOW2D_PARAMS = tuple(
    replace(p, pair=True) if p.name in ("kernel_size", "stride", "padding") else p
    for p in _WINDOW_PARAMS
)


def _strides(params, dims: int) -> tuple[int, ...]:
    """Stride per spatial dim; 0 (alone or in a pair) means that dim's kernel size."""
    ks = dims_of(params["kernel_size"], dims)
    return tuple(s or k for s, k in zip(dims_of(params["stride"], dims), ks, strict=True))


def _pool_len(size: int, k: int, s: int, p: int, ceil_mode: bool) -> int:
    """Output length as torch's pooling_output_shape computes it."""
    out = (size + 2 * p - (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1  # the last window must start inside the input
    return out


def _window_infer(dims: int):
    def infer(params, in_shapes):
        x = one_input(in_shapes)
        expect_spatial(x, dims)
        ks, ps = dims_of(params["kernel_size"], dims), dims_of(params["padding"], dims)
        ss, ceil_mode = _strides(params, dims), bool(params["ceil_mode"])
        for k, p in zip(ks, ps, strict=True):
            if p > k // 2:
                raise ShapeError(f"padding={p} must be at most half the kernel_size ({k // 2})")
        spatial = tuple(
            _pool_len(n, k, s, p, ceil_mode) for n, k, s, p in zip(x[1:], ks, ss, ps, strict=True)
        )
        return positive_dims((x[0], *spatial), "the output")

    return infer


def _window_emit(cls: str):
    def emit(params, in_shapes):
        extra = {}
        dims = (
            2
            if isinstance(params["kernel_size"], tuple) or isinstance(params["stride"], tuple)
            else 1
        )
        strides = _strides(params, dims)
        if strides != dims_of(params["kernel_size"], dims):
            extra["stride"] = strides[0] if len(set(strides)) == 1 else strides
        extra |= {k: params[k] for k, d in (("padding", 0), ("ceil_mode", False)) if params[k] != d}
        return ModuleCode(call(cls, params["kernel_size"], **extra), call_module)

    return emit


def _window_cost(params, in_shapes, out):
    return 0, numel(out) * numel(dims_of(params["kernel_size"], len(out) - 1))


def _adaptive_infer(dims: int):
    def infer(params, in_shapes):
        x = one_input(in_shapes)
        expect_spatial(x, dims)
        return (x[0], *[p_int(params, "output_size")] * dims)

    return infer


def _adaptive_emit(cls: str):
    return lambda params, in_shapes: ModuleCode(call(cls, params["output_size"]), call_module)


for _dims in (1, 2):
    for _kind, _what in (("max", "largest"), ("avg", "mean")):
        _name = f"{_kind.capitalize()}Pool{_dims}d"
        register(
            LayerSpec(
                type_id=f"{_kind}_pool{_dims}d",
                title=_name,
                category="Pooling",
                doc=f"Keeps the {_what} value of each window of the "
                + ("signal." if _dims == 1 else "image; kernel 2 halves H and W."),
                params=_WINDOW_PARAMS if _dims == 1 else _WINDOW2D_PARAMS,
                infer=_window_infer(_dims),
                emit=_window_emit(f"nn.{_name}"),
                cost=_window_cost,
                key_params=("kernel_size", "stride"),
                accepts=InputSpec(ranks=(_dims + 1,)),
            )
        )
    if _dims == 2:
        register(
            LayerSpec(
                type_id="adaptive_max_pool2d",
                title="AdaptiveMaxPool2d",
                category="Pooling",
                doc="Keeps the largest value of an image of any size, down to output_size².",
                params=(ParamSpec("output_size", int, 1, "Size of the pooled output", minimum=1),),
                infer=_adaptive_infer(2),
                emit=_adaptive_emit("nn.AdaptiveMaxPool2d"),
                cost=lambda params, in_shapes, out: (0, numel(in_shapes[0])),
                key_params=("output_size",),
                accepts=InputSpec(ranks=(3,)),
            )
        )
    register(
        LayerSpec(
            type_id=f"adaptive_avg_pool{_dims}d",
            title=f"AdaptiveAvgPool{_dims}d",
            category="Pooling",
            doc=(
                "Averages a signal of any length down to output_size steps."
                if _dims == 1
                else "Averages an image of any size down to output_size × output_size; 1 = global."
            ),
            params=(ParamSpec("output_size", int, 1, "Size of the pooled output", minimum=1),),
            infer=_adaptive_infer(_dims),
            emit=_adaptive_emit(f"nn.AdaptiveAvgPool{_dims}d"),
            cost=lambda params, in_shapes, out: (0, numel(in_shapes[0])),
            key_params=("output_size",),
            accepts=InputSpec(ranks=(_dims + 1,)),
        )
    )
