"""The aten ops of a torch.export graph, as layers. Weights arrive as get_attr nodes: each
layer records which attribute holds which of its tensors (Layer.weights).

Both forms torch.export writes are read: the default one (`aten.conv2d`, `aten.batch_norm`,
`aten.linear`) and the core-aten one after `run_decompositions()` (`aten.convolution`,
`_native_batch_norm_legit_no_training`, `addmm` of a transposed weight, `view`, `mean.dim`).
Each node's `nn_module_stack` (`export_scope`) gives the module hierarchy, so the blocks are
those an import of the module itself finds.
"""

from __future__ import annotations

import functools
import math
import operator

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


# -- where an op sits in the module hierarchy -----------------------------------------------
_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


def _type_name(t: object) -> str:
    """torch.export keeps a module's type as "torch.nn.modules.conv.Conv2d" (or the class)."""
    return f"{t.__module__}.{t.__qualname__}" if isinstance(t, type) else str(t)


def is_layer_module(t: object) -> bool:
    """A torch.nn module that is one layer (Conv2d, ReLU), not a container of others."""
    name = _type_name(t)
    return name.startswith("torch.nn.modules.") and name.rsplit(".", 1)[-1] not in _CONTAINERS


def export_scope(node: fx.Node) -> tuple[str | None, tuple[str, ...]]:
    """(the attribute name of the layer module the op runs in, or None for a functional op
    such as a residual add; the stack keys of the modules around it, outermost first)."""
    stack = [(k, v) for k, v in node.meta.get("nn_module_stack", {}).items() if v[0]]
    if stack and is_layer_module(stack[-1][1][1]):
        return str(stack[-1][1][0]).rsplit(".", 1)[-1], tuple(k for k, _ in stack[:-1])
    return None, tuple(k for k, _ in stack)


def op_name(node: fx.Node) -> str:
    """A functional op's node name, as an import of the module spells it (`add`, `cat`)."""
    target = node.target
    name = str(getattr(target, "_opname", None) or getattr(target, "__name__", target)).strip("_")
    # torch.flatten decomposes into a view, F.adaptive_avg_pool2d(x, 1) into a mean: the
    # layer they map to names them.
    if name in ("view", "unsafe_view", "reshape", "mean"):
        try:
            return (_mean if name == "mean" else _view)(node).type_id
        except Unmapped:
            return name
    return {"addmm": "linear", "mm": "linear", "convolution": "conv"}.get(name, name)


# -- the graph before mapping -----------------------------------------------------------------
_FIRST_OUTPUT = {
    aten._native_batch_norm_legit_no_training.default,
    aten.max_pool2d_with_indices.default,
    aten.adaptive_max_pool2d.default,
    aten.native_dropout.default,
}
_TRANSPOSES = {aten.permute.default, aten.t.default, aten.transpose.int}


def channel_shuffle(x, groups):
    """Stands for torchvision's channel_shuffle, which torch.export writes as view, transpose,
    contiguous, view (`prepare` folds them into one call of this)."""
    raise NotImplementedError("a placeholder in an imported graph; it is never run")


def prepare(graph: fx.Graph) -> None:
    """Read through what the decomposed form splits: `op(...)[0]` of an op whose other outputs
    are unused (batch norm statistics, pooling indices) is the op; `addmm(b, x, w.T)` of a
    stored weight is a linear layer reading `w` (the transpose of a stored tensor is dropped);
    a channel shuffle's four reshapes are one channel shuffle."""
    for node in list(graph.nodes):
        if node.op != "call_function":
            continue
        if node.target in _VIEWS:
            _fold_channel_shuffle(graph, node)
        elif node.target in _FIRST_OUTPUT:
            for user in list(node.users):
                if user.target is operator.getitem and user.args[1] == 0:
                    user.replace_all_uses_with(node)
                if user.target is operator.getitem and not user.users:
                    graph.erase_node(user)
        elif node.target in (aten.addmm.default, aten.mm.default):
            mat = node.args[-1]
            if _is_transposed_weight(mat):
                node.args = (*node.args[:-1], mat.args[0])
                if not mat.users:
                    graph.erase_node(mat)


_VIEWS = {aten.view.default, aten.reshape.default, aten._unsafe_view.default}


def _only_user(node: fx.Node, targets) -> fx.Node | None:
    users = list(node.users)
    return users[0] if len(users) == 1 and users[0].target in targets else None


def _fold_channel_shuffle(graph: fx.Graph, first: fx.Node) -> None:
    """view(x, [n, g, c/g, h, w]) -> transpose(1, 2) -> contiguous -> view(n, c, h, w)."""
    x, shape = first.args[0], list(first.args[1])  # type: ignore[arg-type]
    sizes = _sizes(x)
    if sizes is None or len(sizes) != 4 or len(shape) != 5:
        return
    if not all(isinstance(d, int) for d in shape) or shape[1] * shape[2] != sizes[1]:
        return
    swap = _only_user(first, {aten.transpose.int})
    if swap is None or sorted(swap.args[1:3]) != [1, 2]:  # type: ignore[type-var]
        return
    dense = _only_user(swap, {aten.contiguous.default, aten.clone.default})
    last = _only_user(dense or swap, _VIEWS)
    if last is None or _sizes(last) != sizes:
        return
    with graph.inserting_before(last):
        shuffle = graph.call_function(channel_shuffle, (x, int(shape[1])))
    shuffle.meta = dict(first.meta, val=last.meta.get("val"))
    last.replace_all_uses_with(shuffle)
    for node in (last, dense, swap, first):
        if node is not None:
            graph.erase_node(node)


def _is_transposed_weight(node: object) -> bool:
    if not isinstance(node, fx.Node) or node.target not in _TRANSPOSES:
        return False
    src = node.args[0]
    if not isinstance(src, fx.Node) or src.op != "get_attr" or attr(src).dim() != 2:
        return False
    if node.target is aten.permute.default:
        return list(node.args[1]) == [1, 0]  # type: ignore[arg-type]
    if node.target is aten.transpose.int:
        return sorted(int(d) % 2 for d in node.args[1:3]) == [0, 1]  # type: ignore[arg-type]
    return True


def _sizes(node: object) -> tuple | None:
    """The example shape torch.export recorded for a value (of an op read through `prepare`:
    its first output)."""
    val = node.meta.get("val") if isinstance(node, fx.Node) else None
    if isinstance(val, tuple | list) and val:
        val = val[0]
    return tuple(val.shape) if isinstance(val, torch.Tensor) else None


def _rank(node: object) -> int | None:
    sizes = _sizes(node)
    return None if sizes is None else len(sizes)


# -- converters ---------------------------------------------------------------------------------
def _linear(node) -> Layer:
    w, b = node.args[1], _arg(node, 2)
    params = {"out_features": int(attr(w).shape[0]), "bias": b is not None}
    return Layer("linear", params, [_tensor(node.args[0])], _weights(node, weight=w, bias=b))


def _addmm(node) -> Layer:
    """addmm(bias, x, weight.T) / mm(x, weight.T): what a linear layer decomposes into."""
    b, x, w = (None, *node.args) if node.target is aten.mm.default else node.args[:3]
    if node.kwargs.get("beta", 1) != 1 or node.kwargs.get("alpha", 1) != 1:
        raise Unmapped("a scaled matrix product (alpha, beta) has no layer")
    if not isinstance(w, fx.Node) or w.op != "get_attr":
        raise Unmapped(
            "a matrix product with a computed matrix has no layer (a linear layer "
            "multiplies by its stored weight)"
        )
    params = {"out_features": int(attr(w).shape[0]), "bias": b is not None}
    return Layer("linear", params, [_tensor(x)], _weights(node, weight=w, bias=b))


def _conv2d(node) -> Layer:
    w, b, stride, padding, dilation = (_arg(node, i) for i in range(1, 6))
    return _conv(node, w, b, stride, padding, dilation, _arg(node, 6, 1))


def _convolution(node) -> Layer:
    """convolution(x, w, b, stride, padding, dilation, transposed, output_padding, groups)."""
    if _arg(node, 6, False):
        raise Unmapped(
            "a transposed convolution from a decomposed graph has no layer mapping; "
            "export without run_decompositions()"
        )
    w, b, stride, padding, dilation = (_arg(node, i) for i in range(1, 6))
    return _conv(node, w, b, stride, padding, dilation, _arg(node, 8, 1))


def _conv(node, w, b, stride, padding, dilation, groups) -> Layer:
    shape = attr(w).shape if isinstance(w, fx.Node) and w.op == "get_attr" else None
    if shape is not None and len(shape) != 4:
        raise Unmapped(f"a {len(shape) - 2}-d convolution has no layer mapping from torch.export")
    if isinstance(padding, str):
        raise Unmapped(f"padding={padding!r} (give the padding as numbers)")
    params = {
        "out_channels": int(shape[0]) if shape is not None else 0,
        "kernel_size": _pair(tuple(int(k) for k in shape[2:]), "kernel_size") if shape else 1,
        "stride": _pair(stride if stride is not None else 1, "stride"),
        "padding": _pair(padding if padding is not None else 0, "padding"),
        "dilation": _pair(dilation if dilation is not None else 1, "dilation"),
        "groups": int(groups),
        "bias": b is not None,
    }
    return Layer("conv2d", params, [_tensor(node.args[0])], _weights(node, weight=w, bias=b))


def _batch_norm(node) -> Layer:
    """batch_norm(x, w, b, mean, var, training, momentum, eps, cudnn)."""
    if _arg(node, 5, False):
        raise Unmapped("batch norm in training mode: export the model in eval mode (model.eval())")
    _x, w, b, mean, var = node.args[:5]
    return _bn(node, w, b, mean, var, float(_arg(node, 6, 0.1)), float(_arg(node, 7, 1e-5)))


def _batch_norm_eval(node) -> Layer:
    """_native_batch_norm_legit_no_training(x, w, b, mean, var, momentum, eps)."""
    _x, w, b, mean, var = node.args[:5]
    return _bn(node, w, b, mean, var, float(_arg(node, 5, 0.1)), float(_arg(node, 6, 1e-5)))


def _bn(node, w, b, mean, var, momentum: float, eps: float) -> Layer:
    rank = _rank(node.args[0])
    if rank not in (None, 2, 3, 4):
        raise Unmapped(f"batch norm of a {rank}-d tensor has no layer")
    type_id = "batch_norm1d" if rank in (2, 3) else "batch_norm2d"
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
        if node.kwargs.get("alpha", 1) != 1:
            raise Unmapped(f"{type_id} with alpha={node.kwargs['alpha']} has no layer")
        return Layer(type_id, {"num_inputs": 2}, [a, b])

    return convert


def _flatten(node) -> Layer:
    if _arg(node, 1, 0) != 1 or _arg(node, 2, -1) not in (-1, (_rank(node.args[0]) or 0) - 1):
        raise Unmapped("flatten that moves the batch dimension")
    return Layer("flatten", {}, [_tensor(node.args[0])])


def _view(node) -> Layer:
    """view / reshape(x, [batch, ...]): exported at one batch size, the first entry is it."""
    x, target = node.args[0], list(node.args[1])
    sizes = _sizes(x)
    if sizes is None or not target or target[0] not in (-1, sizes[0]):
        raise Unmapped(
            f"reshape to {tuple(target)} moves the batch dimension (the first size "
            "must be the batch)"
        )
    rest = target[1:]
    if not rest or not all(isinstance(d, int) for d in rest):
        raise Unmapped(f"reshape to {tuple(target)}: the sizes after the batch must be constant")
    if len(rest) == 1 and len(sizes) > 2 and rest[0] in (-1, math.prod(sizes[1:])):
        return Layer("flatten", {}, [_tensor(x)])
    return Layer("reshape", {"target": tuple(int(d) for d in rest)}, [_tensor(x)])


def _mean(node) -> Layer:
    """mean.dim(x, dims, keepdim): over the last two dims of an image, kept, is the global
    average pool an import of the module finds (AdaptiveAvgPool2d(1))."""
    rank = _rank(node.args[0])
    if rank is None:
        raise Unmapped("a mean over an input of unknown rank")
    dims = tuple(sorted(int(d) % rank for d in node.args[1]))
    keepdim = bool(_arg(node, 2, False))
    if 0 in dims:
        raise Unmapped("a mean over the batch dimension has no layer")
    if rank == 4 and dims == (2, 3) and keepdim:
        return Layer("adaptive_avg_pool2d", {"output_size": 1}, [_tensor(node.args[0])])
    return Layer("mean", {"dims": dims, "keepdim": keepdim}, [_tensor(node.args[0])])


def _hardtanh(node) -> Layer:
    low, high = float(_arg(node, 1, -1.0)), float(_arg(node, 2, 1.0))
    if (low, high) == (0.0, 6.0):
        return Layer("relu6", {}, [_tensor(node.args[0])])
    return Layer("hardtanh", {"min_val": low, "max_val": high}, [_tensor(node.args[0])])


def _dropout(node) -> Layer:
    """dropout(x, p, train): in an eval-mode export `train` is False (identity when run)."""
    if _arg(node, 2, False):
        raise Unmapped("dropout in training mode: export the model in eval mode (model.eval())")
    return Layer("dropout", {"p": float(_arg(node, 1, 0.5))}, [_tensor(node.args[0])])


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
        if type_id.startswith("max") and _pair(_arg(node, 4, 1), "dilation") != 1:
            raise Unmapped("max pooling with a dilation has no layer")
        if type_id.startswith("avg") and not _arg(node, 5, True):
            raise Unmapped("average pooling with count_include_pad=False has no layer")
        if type_id.startswith("avg") and _arg(node, 6) is not None:
            raise Unmapped("average pooling with a divisor_override has no layer")
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
    if len(tensors) == 1:  # DenseNet's first layer concatenates one tensor: as the module does
        return Layer("identity", {}, [_tensor(tensors[0])])
    return Layer("concat", {"num_inputs": len(tensors), "dim": dim}, [_tensor(t) for t in tensors])


# NOTE: an in-place op (relu_, add_) reads as its pure form: the graph says what feeds what.
ATEN: dict[object, Converter] = {
    aten.linear.default: _linear,
    aten.addmm.default: _addmm,
    aten.mm.default: _addmm,
    aten.conv2d.default: _conv2d,
    aten.convolution.default: _convolution,
    aten.batch_norm.default: _batch_norm,
    aten._native_batch_norm_legit_no_training.default: _batch_norm_eval,
    aten.relu.default: _same("relu"),
    aten.relu_.default: _same("relu"),
    aten.hardtanh.default: _hardtanh,
    aten.hardtanh_.default: _hardtanh,
    aten.sigmoid.default: _same("sigmoid"),
    aten.sigmoid_.default: _same("sigmoid"),
    aten.tanh.default: _same("tanh"),
    aten.hardswish.default: _same("hardswish"),
    aten.hardswish_.default: _same("hardswish"),
    aten.hardsigmoid.default: _same("hardsigmoid"),
    aten.hardsigmoid_.default: _same("hardsigmoid"),
    aten.silu.default: _same("silu"),
    aten.silu_.default: _same("silu"),
    aten.gelu.default: lambda n: Layer(
        "gelu", {"approximate": str(n.kwargs.get("approximate", "none"))}, [_tensor(n.args[0])]
    ),
    aten.dropout.default: _dropout,
    aten.dropout_.default: _dropout,
    aten.clone.default: _same("identity"),
    aten.add.Tensor: _binary("add"),
    aten.add_.Tensor: _binary("add"),
    aten.mul.Tensor: _binary("multiply"),
    aten.mul_.Tensor: _binary("multiply"),
    aten.flatten.using_ints: _flatten,
    aten.view.default: _view,
    aten.reshape.default: _view,
    aten._unsafe_view.default: _view,
    aten.mean.dim: _mean,
    aten.adaptive_avg_pool2d.default: _adaptive("adaptive_avg_pool2d"),
    aten._adaptive_avg_pool2d.default: _adaptive("adaptive_avg_pool2d"),
    aten.adaptive_max_pool2d.default: _adaptive("adaptive_max_pool2d"),
    aten.max_pool2d.default: _window("max_pool2d"),
    aten.max_pool2d_with_indices.default: _window("max_pool2d"),
    aten.avg_pool2d.default: _window("avg_pool2d"),
    aten.cat.default: _cat,
    aten.contiguous.default: _same("identity"),
    channel_shuffle: lambda n: Layer(
        "channel_shuffle", {"groups": int(n.args[1])}, [_tensor(n.args[0])]
    ),
}
