"""The aten ops of a torch.export graph, as layers. Weights arrive as get_attr nodes: each
layer records which attribute holds which of its tensors (Layer.weights)."""

from __future__ import annotations

import functools

import torch
from torch import fx

from designer.core.importer.mapping import Converter, Layer, Unmapped, _pair, _tensor

aten = torch.ops.aten


def attr(node: fx.Node):
    """The tensor a get_attr node reads, from the module that owns the graph."""
    root = node.graph.owning_module
    return functools.reduce(getattr, str(node.target).split("."), root)


def _weights(node: fx.Node, **named) -> dict[str, str]:
    out = {}
    for name, src in named.items():
        if src is None:
            continue
        if not isinstance(src, fx.Node) or src.op != "get_attr":
            raise Unmapped(f"its {name} is computed, not a stored tensor")
        out[name] = str(src.target)
    return out


def _arg(node, i, default=None):
    return node.args[i] if len(node.args) > i else default


def _linear(node) -> Layer:
    w, b = node.args[1], _arg(node, 2)
    params = {"out_features": int(attr(w).shape[0]), "bias": b is not None}
    return Layer("linear", params, [_tensor(node.args[0])], _weights(node, weight=w, bias=b))


def _conv2d(node) -> Layer:
    w, b = node.args[1], _arg(node, 2)
    shape = attr(w).shape
    params = {
        "out_channels": int(shape[0]),
        "kernel_size": _pair(tuple(int(k) for k in shape[2:]), "kernel_size"),
        "stride": _pair(_arg(node, 3, 1), "stride"),
        "padding": _pair(_arg(node, 4, 0), "padding"),
        "dilation": _pair(_arg(node, 5, 1), "dilation"),
        "groups": int(_arg(node, 6, 1)),
        "bias": b is not None,
    }
    return Layer("conv2d", params, [_tensor(node.args[0])], _weights(node, weight=w, bias=b))


def _batch_norm(node) -> Layer:
    _x, w, b, mean, var = node.args[:5]
    momentum, eps = float(_arg(node, 6, 0.1)), float(_arg(node, 7, 1e-5))
    stack = list(node.meta.get("nn_module_stack", {}).values())
    kind = str(stack[-1][1]) if stack else ""
    type_id = "batch_norm1d" if kind.endswith("BatchNorm1d") else "batch_norm2d"
    weights = _weights(node, weight=w, bias=b, running_mean=mean, running_var=var)
    tracked = weights["running_mean"].removesuffix("running_mean") + "num_batches_tracked"
    try:
        functools.reduce(getattr, tracked.split("."), node.graph.owning_module)
        weights["num_batches_tracked"] = tracked
    except AttributeError:
        pass
    params = {"eps": eps, "momentum": momentum, "affine": w is not None}
    return Layer(type_id, params, [_tensor(node.args[0])], weights)


def _same(type_id: str):
    return lambda node: Layer(type_id, {}, [_tensor(node.args[0])])


def _binary(type_id: str):
    def convert(node) -> Layer:
        a, b = node.args[0], node.args[1]
        if not isinstance(a, fx.Node) or not isinstance(b, fx.Node):
            raise Unmapped(f"{type_id} with a constant has no layer")
        return Layer(type_id, {"num_inputs": 2}, [a, b])

    return convert


def _flatten(node) -> Layer:
    if _arg(node, 1, 0) != 1 or _arg(node, 2, -1) != -1:
        raise Unmapped("flatten that moves the batch dimension")
    return Layer("flatten", {}, [_tensor(node.args[0])])


def _adaptive(type_id: str):
    def convert(node) -> Layer:
        size = _pair(node.args[1], "output_size")
        if not isinstance(size, int):
            raise Unmapped(f"a non-square output_size {size}")
        return Layer(type_id, {"output_size": size}, [_tensor(node.args[0])])

    return convert


def _window(type_id: str):
    def convert(node) -> Layer:
        k = _pair(node.args[1], "kernel_size")
        s = _pair(_arg(node, 2) or node.args[1], "stride")
        params = {
            "kernel_size": k,
            "stride": 0 if s == k else s,
            "padding": _pair(_arg(node, 3, 0), "padding"),
            "ceil_mode": bool(_arg(node, 5 if type_id.startswith("max") else 4, False)),
        }
        return Layer(type_id, params, [_tensor(node.args[0])])

    return convert


def _cat(node) -> Layer:
    tensors = list(node.args[0])
    dim = int(_arg(node, 1, 0))
    return Layer("concat", {"num_inputs": len(tensors), "dim": dim}, [_tensor(t) for t in tensors])


ATEN: dict[object, Converter] = {
    aten.linear.default: _linear,
    aten.conv2d.default: _conv2d,
    aten.batch_norm.default: _batch_norm,
    aten.relu.default: _same("relu"),
    aten.relu_.default: _same("relu"),
    aten.sigmoid.default: _same("sigmoid"),
    aten.tanh.default: _same("tanh"),
    aten.hardswish.default: _same("hardswish"),
    aten.silu.default: _same("silu"),
    aten.add.Tensor: _binary("add"),
    aten.add_.Tensor: _binary("add"),
    aten.mul.Tensor: _binary("multiply"),
    aten.flatten.using_ints: _flatten,
    aten.adaptive_avg_pool2d.default: _adaptive("adaptive_avg_pool2d"),
    aten.max_pool2d.default: _window("max_pool2d"),
    aten.avg_pool2d.default: _window("avg_pool2d"),
    aten.cat.default: _cat,
}
