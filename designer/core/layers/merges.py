"""Merges of several inputs: Add, Multiply (element-wise, same shape) and Concatenate (one dim)."""

from __future__ import annotations

from designer.core.errors import ShapeError
from designer.core.layers.registry import register
from designer.core.layers.spec import LayerSpec, ModuleCode, ParamSpec, format_shape, param_int

_NUM_INPUTS = ParamSpec("num_inputs", int, 2, "How many tensors to merge", minimum=2, maximum=8)
# DenseNet joins up to 48 feature maps at once.
_CAT_INPUTS = ParamSpec("num_inputs", int, 2, "How many tensors to join", minimum=2, maximum=64)


def _same_shapes(params, in_shapes):
    if len(in_shapes) < 2:
        raise ShapeError(f"needs at least 2 inputs, got {len(in_shapes)}")
    first = in_shapes[0]
    for s in in_shapes[1:]:
        if s != first:
            shown = " and ".join(format_shape(x) for x in in_shapes)
            raise ShapeError(f"needs inputs of the same shape but gets {shown}")
    return first


def _broadcast(params, in_shapes):
    """torch's broadcasting over same-rank shapes: each dim equal, or 1 (a gate N×C×1×1)."""
    if len(in_shapes) < 2:
        raise ShapeError(f"needs at least 2 inputs, got {len(in_shapes)}")
    rank = len(in_shapes[0])
    shown = " and ".join(format_shape(x) for x in in_shapes)
    if any(len(s) != rank for s in in_shapes):
        raise ShapeError(f"needs inputs of the same rank but gets {shown}")
    out = []
    for dims in zip(*in_shapes, strict=True):
        big = {d for d in dims if d != 1}
        if len(big) > 1:
            raise ShapeError(f"can't broadcast {shown}: each dim must match or be 1")
        out.append(big.pop() if big else 1)
    return tuple(out)


def _op_emit(op: str):
    return lambda params, in_shapes: ModuleCode(None, lambda m, xs: f" {op} ".join(xs))


for _tid, _title, _op, _doc, _infer in (
    ("add", "Add", "+", "Element-wise sum, e.g. a residual (skip) connection.", _same_shapes),
    (
        "multiply",
        "Multiply",
        "*",
        "Element-wise product; a size-1 dim broadcasts (a squeeze-excitation gate N×C×1×1).",
        _broadcast,
    ),
):
    register(
        LayerSpec(
            type_id=_tid,
            title=_title,
            category="Merge",
            doc=_doc,
            params=(_NUM_INPUTS,),
            infer=_infer,
            emit=_op_emit(_op),
            variadic=True,
        )
    )


def _cat_infer(params, in_shapes):
    if len(in_shapes) < 2:
        raise ShapeError(f"needs at least 2 inputs, got {len(in_shapes)}")
    rank = len(in_shapes[0])
    dim = int(params["dim"])
    axis = dim - 1 if dim > 0 else rank + dim  # index into the shape without batch
    if dim == 0 or not 0 <= axis < rank:
        raise ShapeError(f"dim={dim} is not a feature dimension of a {rank + 1}-D input")
    shown = " and ".join(format_shape(x) for x in in_shapes)
    for s in in_shapes[1:]:
        if len(s) != rank or any(
            a != b for i, (a, b) in enumerate(zip(s, in_shapes[0], strict=True)) if i != axis
        ):
            raise ShapeError(f"can only join inputs that match outside dim {dim}, but gets {shown}")
    out = list(in_shapes[0])
    out[axis] = sum(s[axis] for s in in_shapes)
    return tuple(out)


register(
    LayerSpec(
        type_id="concat",
        title="Concatenate",
        category="Merge",
        doc="Joins inputs along one dimension (dim 1 = channels or features).",
        params=(
            _CAT_INPUTS,
            ParamSpec("dim", int, 1, "Dimension to join along (batch is 0)", minimum=-8, maximum=8),
        ),
        infer=_cat_infer,
        emit=lambda params, in_shapes: ModuleCode(
            None, lambda m, xs: f"torch.cat([{', '.join(xs)}], dim={param_int(params, 'dim')})"
        ),
        variadic=True,
        key_params=("dim",),
    )
)
