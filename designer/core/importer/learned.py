"""Raw parameters used directly in forward(), where they are one of our learned-tensor layers.

A module may keep a bare `nn.Parameter` and combine it with its input itself. Three uses have a
layer (designer/core/layers/learned.py), recognised by the op and the tensor's shape on the
example input:

- `self.layer_scale * x` with one factor per channel, C×1×1 (ConvNeXt): LayerScale;
- `x + self.pos_embedding` of the input's shape, 1×T×F (ViT): PositionEmbedding;
- `torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)`, 1×1×F (ViT): ClassToken.

Any other use of a raw parameter stays refused, naming it, its shape and what would fit.
"""

from __future__ import annotations

import functools
import operator

import torch
from torch import fx

from designer.core.importer.folding import BATCH
from designer.core.importer.mapping import Converter, Layer, Unmapped, _arg, example_shape
from designer.core.layers.learned import layer_scale_shape

_ADDS = (operator.add, torch.add)
_MULS = (operator.mul, torch.mul)
_CATS = (torch.cat, torch.concat)


def _is_param(node) -> bool:
    return isinstance(node, fx.Node) and node.op == "get_attr"


def _is_expanded(node) -> bool:
    """`param.expand(n, -1, -1)`: the parameter repeated for every sample."""
    return (
        isinstance(node, fx.Node)
        and node.op == "call_method"
        and node.target == "expand"
        and _is_param(node.args[0])
    )


def consumed(node: fx.Node) -> bool:
    """A raw parameter (or its expand) that the op using it turns into a layer, or refuses."""
    if _is_expanded(node):
        return all(u.target in _CATS for u in node.users)
    if not _is_param(node) or not node.users:
        return False
    return all(
        (u.target in _ADDS + _MULS and _split(u) is not None)
        or (_is_expanded(u) and all(v.target in _CATS for v in u.users))
        for u in node.users
    )


def _tensor_value(node: fx.Node) -> torch.Tensor:
    root = node.graph.owning_module  # the module the example run wrapped
    value = functools.reduce(getattr, str(node.target).split("."), root)
    if not isinstance(value, torch.Tensor):
        raise Unmapped(f"{node.target} is not a tensor")
    return value


def _split(node: fx.Node) -> tuple[fx.Node, fx.Node] | None:
    """(the parameter, the input) of a binary op with one raw parameter, else None."""
    a, b = node.args[0], node.args[1]
    if not isinstance(a, fx.Node) or not isinstance(b, fx.Node) or _is_param(a) == _is_param(b):
        return None
    return (a, b) if _is_param(a) else (b, a)


def _shapes(param: fx.Node, x: fx.Node) -> tuple[tuple[int, ...], tuple[int, ...]]:
    p_shape, x_shape = example_shape(param), example_shape(x)
    if p_shape is None or x_shape is None:
        raise Unmapped(
            f"uses the raw parameter {param.target}, and the model did not run on the example "
            "input to check its shape (give the input shape the model expects)"
        )
    return p_shape, x_shape[1:]


def _name(param: fx.Node) -> str:
    return str(param.target).rsplit(".", 1)[-1]


def _layer_scale(node: fx.Node) -> Layer:
    param, x = _split(node)  # type: ignore[misc]
    p_shape, sample = _shapes(param, x)
    if p_shape != layer_scale_shape(sample):
        raise Unmapped(
            f"multiplies by the raw parameter {param.target} of shape {p_shape}: only one factor "
            f"per channel, {layer_scale_shape(sample)} here, has a layer (LayerScale)"
        )
    value = _tensor_value(param).detach()
    first = float(value.flatten()[0])
    init = float(f"{first:.7g}") if bool((value == first).all()) else 1e-6  # float32 digits
    return Layer("layer_scale", {"init": init}, [x], {"weight": str(param.target)}, _name(param))


def _position_embedding(node: fx.Node) -> Layer:
    param, x = _split(node)  # type: ignore[misc]
    p_shape, sample = _shapes(param, x)
    if p_shape != (1, *sample):
        raise Unmapped(
            f"adds the raw parameter {param.target} of shape {p_shape}: only a tensor shaped "
            f"like one sample, {(1, *sample)} here, has a layer (PositionEmbedding)"
        )
    return Layer("position_embedding", {}, [x], {"weight": str(param.target)}, _name(param))


def _class_token(node: fx.Node) -> Layer:
    tensors, dim = list(_arg(node, 0, "tensors")), _arg(node, 1, "dim", 0)
    if len(tensors) != 2 or not _is_expanded(tensors[0]) or _is_expanded(tensors[1]):
        raise Unmapped(
            "joins an expanded raw parameter to a tensor other than as a class token "
            "(torch.cat([token.expand(n, -1, -1), x], dim=1))"
        )
    expand, x = tensors
    param = expand.args[0]
    p_shape, sample = _shapes(param, x)
    if (
        dim not in (1, -2)
        or len(sample) != 2
        or p_shape != (1, 1, sample[-1])
        or tuple(expand.args[1:]) != (BATCH, -1, -1)
    ):
        raise Unmapped(
            f"joins the raw parameter {param.target} of shape {p_shape} along dim {dim}: only "
            f"one token (1, 1, F) put before a sequence N×T×F along dim 1 has a layer (ClassToken)"
        )
    return Layer("class_token", {}, [x], {"weight": str(param.target)}, _name(param))


def _learned(base: Converter, pattern: Converter, uses) -> Converter:
    """`base`, or `pattern` when the op takes a raw parameter (`uses(node)`)."""

    def convert(node: fx.Node) -> Layer:
        return pattern(node) if uses(node) else base(node)

    return convert


def _takes_param(node: fx.Node) -> bool:
    return _split(node) is not None


def _takes_token(node: fx.Node) -> bool:
    return any(_is_expanded(t) for t in _arg(node, 0, "tensors"))


def with_learned(functions: dict) -> dict:
    """`functions` (the converter table) with the ops above recognising raw parameters."""
    out = dict(functions)
    for targets, pattern, uses in (
        (_MULS, _layer_scale, _takes_param),
        (_ADDS, _position_embedding, _takes_param),
        (_CATS, _class_token, _takes_token),
    ):
        for target in targets:
            if target in out:
                out[target] = _learned(out[target], pattern, uses)
    return out
