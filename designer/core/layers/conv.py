"""Convolutions: Conv1d, Conv2d and ConvTranspose2d. in_channels is taken from the input."""

from __future__ import annotations

from dataclasses import replace

from designer.core.errors import ShapeError
from designer.core.layers.common import (
    call,
    expect_spatial,
    non_default,
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

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _common_params(transpose: bool) -> tuple[ParamSpec, ...]:
    padding = (
        ParamSpec("padding", int, 0, "Zeros removed from each border of the output", minimum=0)
        if transpose
        else ParamSpec(
            "padding",
            int,
            0,
            "Values added on each border; 'same' keeps the size, 'valid' adds none",
            minimum=0,
            keywords=("same", "valid"),
        )
    )
    return (
        ParamSpec("out_channels", int, 16, "Number of filters (output channels)", minimum=1),
        ParamSpec("kernel_size", int, 3, "Width of each filter window", minimum=1),
        ParamSpec("stride", int, 1, "Step between windows; 2 halves the size", minimum=1),
        padding,
        ParamSpec("dilation", int, 1, "Spacing between filter taps", minimum=1),
        ParamSpec("groups", int, 1, "Split channels into this many independent groups", minimum=1),
        ParamSpec("bias", bool, True, "Learn an additive bias per output channel"),
    )


_CONV_PARAMS = (
    *_common_params(transpose=False),
    ParamSpec(
        "padding_mode", str, "zeros", "What the border padding holds", choices=_PADDING_MODES
    ),
)
_TRANSPOSE_PARAMS = (
    *_common_params(transpose=True),
    ParamSpec("output_padding", int, 0, "Extra size added to one side of the output", minimum=0),
)
_TORCH_DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True}
# Conv2d takes (height, width) pairs too: Inception's 1×7 and 7×1 convolutions.
_PAIRED = ("kernel_size", "stride", "padding", "dilation")
_CONV2D_PARAMS = tuple(replace(p, pair=True) if p.name in _PAIRED else p for p in _CONV_PARAMS)


def _check_input(x, dims: int, params) -> None:
    expect_spatial(x, dims)
    groups, cin, cout = p_int(params, "groups"), x[0], p_int(params, "out_channels")
    if cin % groups or cout % groups:
        raise ShapeError(
            f"groups={groups} must divide both the input channels ({cin}) and out_channels ({cout})"
        )


def _padding(params, i: int, dims: int) -> tuple[int, int]:
    """Padding before and after spatial dim `i`, as torch splits it for padding='same'."""
    pad = params["padding"]
    if pad == "valid":
        return 0, 0
    if pad == "same":
        d, k = dims_of(params["dilation"], dims)[i], dims_of(params["kernel_size"], dims)[i]
        total = d * (k - 1)
        return total // 2, total - total // 2
    p = dims_of(pad, dims)[i]
    return p, p


def _conv_infer(dims: int):
    def infer(params, in_shapes):
        x = one_input(in_shapes)
        _check_input(x, dims, params)
        ks, ss, ds = (dims_of(params[n], dims) for n in ("kernel_size", "stride", "dilation"))
        if params["padding"] == "same" and any(s != 1 for s in ss):
            raise ShapeError("padding='same' only works with stride 1; set padding to a number")
        mode = params["padding_mode"]
        spatial = []
        for i, size in enumerate(x[1:]):
            before, after = _padding(params, i, dims)
            if mode == "reflect" and max(before, after) >= size:
                raise ShapeError(f"padding_mode='reflect' needs padding < the input size ({size})")
            if mode == "circular" and max(before, after) > size:
                raise ShapeError(f"padding_mode='circular' needs padding ≤ the input size ({size})")
            k, s, d = ks[i], ss[i], ds[i]
            spatial.append((size + before + after - d * (k - 1) - 1) // s + 1)
        return positive_dims((p_int(params, "out_channels"), *spatial), "the output")

    return infer


def _conv_emit(cls: str):
    def emit(params, in_shapes):
        extra = non_default(params, {**_TORCH_DEFAULTS, "padding_mode": "zeros"})
        ctor = call(
            cls, in_shapes[0][0], params["out_channels"], kernel_size=params["kernel_size"], **extra
        )
        return ModuleCode(ctor, call_module)

    return emit


def _conv_cost(params, in_shapes, out):
    dims = len(out) - 1
    cin, cout, groups = in_shapes[0][0], out[0], p_int(params, "groups")
    window = cin // groups
    for k in dims_of(params["kernel_size"], dims):
        window *= k
    n = cout * window + (cout if params["bias"] else 0)
    return n, numel(out) * window


def _transpose_infer(params, in_shapes):
    x = one_input(in_shapes)
    _check_input(x, 2, params)
    k, s, p, d, op = (
        p_int(params, n) for n in ("kernel_size", "stride", "padding", "dilation", "output_padding")
    )
    if op >= max(s, d):
        raise ShapeError(f"output_padding={op} must be smaller than stride ({s}) or dilation ({d})")
    spatial = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n in x[1:])
    return positive_dims((p_int(params, "out_channels"), *spatial), "the output")


def _transpose_emit(params, in_shapes):
    extra = non_default(params, {**_TORCH_DEFAULTS, "output_padding": 0})
    ctor = call(
        "nn.ConvTranspose2d",
        in_shapes[0][0],
        params["out_channels"],
        kernel_size=params["kernel_size"],
        **extra,
    )
    return ModuleCode(ctor, call_module)


def _transpose_cost(params, in_shapes, out):
    cin, cout, groups = in_shapes[0][0], out[0], p_int(params, "groups")
    window = (cout // groups) * p_int(params, "kernel_size") ** 2
    n = cin * window + (cout if params["bias"] else 0)
    return n, numel(in_shapes[0]) * window


_KEYS = ("out_channels", "kernel_size", "stride")

CONV1D = register(
    LayerSpec(
        type_id="conv1d",
        title="Conv1d",
        category="Convolution",
        doc="Slides learned filters along a signal: N×C×L -> N×out_channels×L'.",
        params=_CONV_PARAMS,
        infer=_conv_infer(1),
        emit=_conv_emit("nn.Conv1d"),
        cost=_conv_cost,
        key_params=_KEYS,
        accepts=InputSpec(ranks=(2,)),
        weighted=True,
    )
)

CONV2D = register(
    LayerSpec(
        type_id="conv2d",
        title="Conv2d",
        category="Convolution",
        doc="Slides learned filters over an image: N×C×H×W -> N×out_channels×H'×W'.",
        params=_CONV2D_PARAMS,
        infer=_conv_infer(2),
        emit=_conv_emit("nn.Conv2d"),
        cost=_conv_cost,
        key_params=_KEYS,
        accepts=InputSpec(ranks=(3,)),
        weighted=True,
    )
)

CONV_TRANSPOSE2D = register(
    LayerSpec(
        type_id="conv_transpose2d",
        title="ConvTranspose2d",
        category="Convolution",
        doc="Learned upsampling, the reverse of Conv2d: stride 2 doubles H and W.",
        params=_TRANSPOSE_PARAMS,
        infer=_transpose_infer,
        emit=_transpose_emit,
        cost=_transpose_cost,
        key_params=_KEYS,
        accepts=InputSpec(ranks=(3,)),
        weighted=True,
    )
)
