"""Tensor plumbing that real models need: Identity, Permute, Transpose, Mean, ChannelShuffle,
StochasticDepth. Dims count as torch counts them, batch = 0, and the batch never moves."""

from __future__ import annotations

from designer.core.errors import ShapeError
from designer.core.layers.common import call, expect_spatial, one_input, p_int
from designer.core.layers.registry import register
from designer.core.layers.spec import (
    InputSpec,
    LayerSpec,
    ModuleCode,
    ParamSpec,
    SupportClass,
    call_module,
)

_ANY = InputSpec(dtype="any")  # plumbing moves token ids as well as floats


def _same(params, in_shapes):
    return one_input(in_shapes)


register(
    LayerSpec(
        type_id="identity",
        title="Identity",
        category="Core",
        doc="Passes its input through unchanged (a placeholder, or a skip of nothing).",
        params=(),
        infer=_same,
        emit=lambda params, in_shapes: ModuleCode("nn.Identity()", call_module),
        accepts=_ANY,
        dtype_out="same",
        passthrough=True,
    )
)


def _axis(dim: int, rank: int) -> int:
    """Index into the shape without batch of torch dim `dim` of a (rank + 1)-D tensor."""
    axis = dim - 1 if dim > 0 else rank + dim
    if dim == 0 or dim == -(rank + 1) or not 0 <= axis < rank:
        raise ShapeError(f"dim={dim} is not a feature dimension of a {rank + 1}-D input")
    return axis


def _ints(params) -> tuple[int, ...]:
    return tuple(params["dims"])


def _permute_infer(params, in_shapes):
    x = one_input(in_shapes)
    dims = tuple(params["dims"])
    if len(dims) != len(x) + 1 or sorted(dims) != list(range(len(x) + 1)) or dims[0] != 0:
        raise ShapeError(
            f"dims={dims} must start with 0 (the batch) and order all {len(x) + 1} dims once"
        )
    return tuple(x[d - 1] for d in dims[1:])


# NOTE: Permute and Transpose are modules rather than `x.permute(...)`, as torchvision's Permute
# and SwapAxes are: one fits in an nn.Sequential (Swin's patch embedding, ConvNeXt's block),
# and its name (`partition_swap`) survives export and re-import.
_PERMUTE = SupportClass(
    "Permute",
    '''
class Permute(nn.Module):
    """Reorders the dimensions of its input: x.permute(*dims)."""

    netcanvas_layer = "permute"

    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)
''',
)

register(
    LayerSpec(
        type_id="permute",
        title="Permute",
        category="Core",
        doc="Reorders the dimensions, e.g. (0, 2, 3, 1): N×C×H×W -> N×H×W×C (channels last).",
        params=(
            ParamSpec(
                "dims",
                tuple,
                (0, 2, 1),
                "The new order of the dims; 0 (the batch) stays first",
                minimum=0,
                max_length=6,
            ),
        ),
        infer=_permute_infer,
        accepts=_ANY,
        dtype_out="same",
        emit=lambda params, in_shapes: ModuleCode(call("Permute", _ints(params)), call_module),
        key_params=("dims",),
        support=(_PERMUTE,),
    )
)


def _transpose_infer(params, in_shapes):
    x = one_input(in_shapes)
    a, b = _axis(p_int(params, "dim0"), len(x)), _axis(p_int(params, "dim1"), len(x))
    out = list(x)
    out[a], out[b] = out[b], out[a]
    return tuple(out)


_DIM = {"minimum": -6, "maximum": 6}
_TRANSPOSE = SupportClass(
    "Transpose",
    '''
class Transpose(nn.Module):
    """Swaps two dimensions of its input: x.transpose(dim0, dim1)."""

    netcanvas_layer = "transpose"

    def __init__(self, dim0: int, dim1: int) -> None:
        super().__init__()
        self.dim0 = dim0
        self.dim1 = dim1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(self.dim0, self.dim1)
''',
)
register(
    LayerSpec(
        type_id="transpose",
        title="Transpose",
        category="Core",
        doc="Swaps two dimensions, e.g. 1 and 2: N×T×F -> N×F×T.",
        params=(
            ParamSpec("dim0", int, 1, "First dimension to swap (batch is 0)", **_DIM),  # type: ignore[arg-type]
            ParamSpec("dim1", int, 2, "Second dimension to swap", **_DIM),  # type: ignore[arg-type]
        ),
        infer=_transpose_infer,
        accepts=_ANY,
        dtype_out="same",
        emit=lambda params, in_shapes: ModuleCode(
            call("Transpose", params["dim0"], params["dim1"]), call_module
        ),
        key_params=("dim0", "dim1"),
        support=(_TRANSPOSE,),
    )
)


def _mean_infer(params, in_shapes):
    x = one_input(in_shapes)
    axes = [_axis(d, len(x)) for d in params["dims"]]
    if len(set(axes)) != len(axes):
        raise ShapeError(f"dims={tuple(params['dims'])} names a dimension twice")
    if params["keepdim"]:
        return tuple(1 if i in axes else n for i, n in enumerate(x))
    out = tuple(n for i, n in enumerate(x) if i not in axes)
    if not out:
        raise ShapeError("would average every feature away; keep at least one dimension")
    return out


def _mean_emit(params, in_shapes):
    dims = tuple(params["dims"])
    shown = str(dims[0]) if len(dims) == 1 else "(" + ", ".join(map(str, dims)) + ")"
    keep = ", keepdim=True" if params["keepdim"] else ""
    return ModuleCode(None, lambda m, xs: f"{xs[0]}.mean({shown}{keep})")


register(
    LayerSpec(
        type_id="mean",
        title="Mean",
        category="Pooling",
        doc="Averages over the given dims, e.g. (2, 3): N×C×H×W -> N×C (global average).",
        params=(
            ParamSpec(
                "dims",
                tuple,
                (2, 3),
                "Dimensions to average over (batch is 0)",
                minimum=-6,
                maximum=6,
                max_length=5,
            ),
            ParamSpec("keepdim", bool, False, "Keep the averaged dims with size 1"),
        ),
        infer=_mean_infer,
        emit=_mean_emit,
        key_params=("dims",),
    )
)


def _shuffle_infer(params, in_shapes):
    x = one_input(in_shapes)
    expect_spatial(x, 2)
    groups = p_int(params, "groups")
    if x[0] % groups:
        raise ShapeError(f"groups={groups} must divide the number of channels ({x[0]})")
    return x


register(
    LayerSpec(
        type_id="channel_shuffle",
        title="ChannelShuffle",
        category="Core",
        doc="Interleaves the channels of `groups` groups (ShuffleNet), so groups mix.",
        params=(ParamSpec("groups", int, 2, "Number of channel groups", minimum=1),),
        infer=_shuffle_infer,
        accepts=InputSpec(ranks=(3,)),
        passthrough=False,
        emit=lambda params, in_shapes: ModuleCode(
            call("nn.ChannelShuffle", params["groups"]), call_module
        ),
        key_params=("groups",),
    )
)

# torch has no StochasticDepth module; this is torchvision.ops.StochasticDepth in plain torch,
# so exported code trains the same way without torchvision (and imports back as this layer).
_STOCHASTIC_DEPTH = SupportClass(
    "StochasticDepth",
    '''
class StochasticDepth(nn.Module):
    """Drops the whole input (a residual branch) at random while training: per sample
    ("row") or for the whole batch ("batch"), scaling the survivors by 1 / (1 - p)."""

    netcanvas_layer = "stochastic_depth"

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise
''',
)

register(
    LayerSpec(
        type_id="stochastic_depth",
        title="StochasticDepth",
        category="Core",
        doc="Drops a residual branch at random while training (EfficientNet); identity in eval.",
        params=(
            ParamSpec("p", float, 0.2, "Probability of dropping", minimum=0.0, maximum=1.0),
            ParamSpec("mode", str, "row", "Drop per sample or per batch", choices=("row", "batch")),
        ),
        infer=_same,
        emit=lambda params, in_shapes: ModuleCode(
            call("StochasticDepth", params["p"], params["mode"]), call_module
        ),
        key_params=("p",),
        passthrough=True,
        support=(_STOCHASTIC_DEPTH,),
    )
)


def _chunk_infer(params, in_shapes):
    x = one_input(in_shapes)
    axis = _axis(p_int(params, "dim"), len(x))
    n, i = p_int(params, "chunks"), p_int(params, "index")
    size = -(-x[axis] // n)  # torch.chunk: pieces of ceil(size / chunks), the last one shorter
    length = min(size, x[axis] - i * size)
    if i >= n or length <= 0:
        raise ShapeError(f"chunk {i} of {n} along dim {params['dim']} of {x[axis]} is empty")
    out = list(x)
    out[axis] = length
    return tuple(out)


register(
    LayerSpec(
        type_id="chunk",
        title="Chunk",
        category="Core",
        doc="One piece of the input split into `chunks` along dim (x.chunk(2, dim=1)[0]).",
        params=(
            ParamSpec("chunks", int, 2, "Number of pieces", minimum=1, maximum=64),
            ParamSpec("index", int, 0, "Which piece (0 = the first)", minimum=0, maximum=63),
            ParamSpec("dim", int, 1, "Dimension to split (batch is 0)", **_DIM),  # type: ignore[arg-type]
        ),
        infer=_chunk_infer,
        emit=lambda params, in_shapes: ModuleCode(
            None,
            lambda m, xs: (
                f"{xs[0]}.chunk({params['chunks']}, dim={params['dim']})[{params['index']}]"
            ),
        ),
        key_params=("chunks", "index"),
        accepts=_ANY,
        dtype_out="same",
    )
)


def _select_infer(params, in_shapes):
    x = one_input(in_shapes)
    axis = _axis(p_int(params, "dim"), len(x))
    i = p_int(params, "index")
    if not -x[axis] <= i < x[axis]:
        raise ShapeError(f"index {i} is outside dim {params['dim']} of size {x[axis]}")
    if len(x) == 1:
        raise ShapeError("would leave only the batch; keep at least one dimension")
    return x[:axis] + x[axis + 1 :]


def _select_emit(params, in_shapes):
    index = ":, " * p_int(params, "dim") + str(params["index"])
    return ModuleCode(None, lambda m, xs: f"{xs[0]}[{index}]")


register(
    LayerSpec(
        type_id="select",
        title="Select",
        category="Core",
        doc="One position along a dim, which drops it: x[:, 0] takes ViT's class token, "
        "N×T×F -> N×F.",
        params=(
            ParamSpec("dim", int, 1, "Dimension to pick from (batch is 0)", minimum=1, maximum=6),
            ParamSpec("index", int, 0, "Position (negative counts from the end)", **_DIM),  # type: ignore[arg-type]
        ),
        infer=_select_infer,
        emit=_select_emit,
        key_params=("index",),
        accepts=_ANY,
        dtype_out="same",
    )
)
