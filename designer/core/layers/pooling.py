"""Pooling: max and average windows over signals (C×L) and images (C×H×W), and adaptive pools."""

from __future__ import annotations

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
from designer.core.layers.spec import InputSpec, LayerSpec, ModuleCode, ParamSpec, call_module

# NOTE: stride 0 stands for torch's default (stride = kernel_size). An int keeps the parameter
# one plain number in every form and file; None or "" would make it two kinds at once.
_WINDOW_PARAMS = (
    ParamSpec("kernel_size", int, 2, "Width of each pooling window", minimum=1),
    ParamSpec("stride", int, 0, "Step between windows; 0 = kernel_size (no overlap)", minimum=0),
    ParamSpec("padding", int, 0, "Values added on each border, at most kernel_size / 2", minimum=0),
    ParamSpec("ceil_mode", bool, False, "Round the output size up, keeping a partial last window"),
)


def _stride(params) -> int:
    return p_int(params, "stride") or p_int(params, "kernel_size")


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
        k, p = p_int(params, "kernel_size"), p_int(params, "padding")
        if p > k // 2:
            raise ShapeError(f"padding={p} must be at most half the kernel_size ({k // 2})")
        s, ceil_mode = _stride(params), bool(params["ceil_mode"])
        spatial = tuple(_pool_len(n, k, s, p, ceil_mode) for n in x[1:])
        return positive_dims((x[0], *spatial), "the output")

    return infer


def _window_emit(cls: str):
    def emit(params, in_shapes):
        extra = {}
        if _stride(params) != p_int(params, "kernel_size"):
            extra["stride"] = params["stride"]
        extra |= {k: params[k] for k, d in (("padding", 0), ("ceil_mode", False)) if params[k] != d}
        return ModuleCode(call(cls, params["kernel_size"], **extra), call_module)

    return emit


def _window_cost(params, in_shapes, out):
    return 0, numel(out) * p_int(params, "kernel_size") ** (len(out) - 1)


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
                params=_WINDOW_PARAMS,
                infer=_window_infer(_dims),
                emit=_window_emit(f"nn.{_name}"),
                cost=_window_cost,
                key_params=("kernel_size", "stride"),
                accepts=InputSpec(ranks=(_dims + 1,)),
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
