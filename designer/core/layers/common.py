"""Helpers shared by the layer families: shape checks with beginner-friendly messages."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from designer.core.errors import ShapeError
from designer.core.layers.spec import RANK_NAMES, Params, Shape, format_shape, param_int
from designer.core.pyformat import literal


@dataclass(frozen=True)
class Suggest:
    """A layer's hint for a quick fix: insert a layer of `type_id` in front of it."""

    type_id: str
    params: dict = field(default_factory=dict)
    title: str = ""


RANK_NAMES_1D = {2: "signals (N×C×L)"}


def describe_rank(rank: int, conv1d: bool = False) -> str:
    if conv1d and rank in RANK_NAMES_1D:
        return RANK_NAMES_1D[rank]
    return RANK_NAMES.get(rank, f"{rank + 1}-D tensors")


def one_input(in_shapes: Sequence[Shape]) -> Shape:
    if len(in_shapes) != 1:
        raise ShapeError(f"takes exactly one input, got {len(in_shapes)}")
    return in_shapes[0]


_KINDS = {r: name.split(" (")[0] for r, name in RANK_NAMES.items()}


def shape_kind(shape: Shape) -> str:
    """What a beginner would call data of this shape: `(1, 8, 8)` -> "images N×1×8×8"."""
    kind = _KINDS.get(len(shape), f"{len(shape) + 1}-D tensors")
    return f"{kind} {format_shape(shape)}"


def expect_rank(
    shape: Shape,
    ranks: Sequence[int],
    *,
    conv1d: bool = False,
    fix: Suggest | None = None,
    advice: str = "",
) -> None:
    """Raise a ShapeError unless `shape` (without batch) has one of `ranks` dimensions.

    The message ends with `advice` (how to get the right shape), else with `fix.title`.
    """
    if len(shape) in ranks:
        return
    wanted = " or ".join(describe_rank(r, conv1d and r == 2) for r in ranks)
    tail = advice or (fix.title if fix else "")
    hint = f" {tail}." if tail else ""
    raise ShapeError(f"expects {wanted} but gets {shape_kind(shape)}.{hint}", fix=fix)


def reshape_fix(target: Shape) -> Suggest:
    """Insert a Reshape to `target` (without batch)."""
    return Suggest(
        "reshape", {"target": tuple(target)}, f"Insert a Reshape to {format_shape(target)}"
    )


_SAMPLE_LAYOUT = {1: "C×L", 2: "C×H×W", 3: "C×D×H×W"}


def expect_spatial(shape: Shape, dims: int) -> None:
    """Require a signal (C×L, dims=1), an image (C×H×W, dims=2) or a volume (C×D×H×W,
    dims=3), advising flat-data users."""
    fix, advice = None, ""
    if len(shape) == dims:  # the channel axis is missing
        fix = reshape_fix((1, *shape))
    elif dims == 2 and len(shape) == 1 and math.isqrt(shape[0]) ** 2 == shape[0]:
        fix = reshape_fix((1, math.isqrt(shape[0]), math.isqrt(shape[0])))
    if len(shape) < dims + 1:
        to = f" to {format_shape(fix.params['target'])}" if fix else ""
        advice = f"Set the Input shape to {_SAMPLE_LAYOUT[dims]}, or insert a Reshape{to}"
    expect_rank(shape, (dims + 1,), conv1d=True, fix=fix, advice=advice)


def flatten_fix() -> Suggest:
    return Suggest("flatten", {}, "Insert a Flatten before it")


def conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Output length of a convolution or pooling window, as torch computes it."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def positive_dims(shape: Shape, what: str) -> Shape:
    if any(d <= 0 for d in shape):
        raise ShapeError(f"{what} would be {format_shape(shape)}: the input is too small")
    return shape


def numel(shape: Shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def p_int(params: Params, name: str) -> int:
    return param_int(params, name)


def call(ctor: str, *args: object, **kwargs: object) -> str:
    """`nn.Linear(4, 16, bias=False)`. Every value goes through literal() (repr with ruff's
    quotes), so a string can only ever be data."""
    parts = [literal(a) for a in args] + [f"{k}={literal(v)}" for k, v in kwargs.items()]
    return f"{ctor}({', '.join(parts)})"


def non_default(params: Params, torch_defaults: dict[str, object]) -> dict[str, object]:
    """The keyword arguments whose value differs from torch's default, for readable code."""
    return {k: params[k] for k, d in torch_defaults.items() if params[k] != d}
