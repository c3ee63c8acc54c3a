"""What each torch module and function becomes on the canvas: one table of converters.

A converter gets the fx node (and the module, for `call_module`) and returns the layer:
(type_id, params, tensor inputs), or raises Unmapped with the reason. Parameters are read from
the module or the call's arguments; what Netcanvas can't express is refused, never guessed.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn
from torch.nn import functional as F  # noqa: N812 - torch's own spelling

from designer.core.importer.folding import BATCH, SHAPE


class Unmapped(Exception):
    """This op or module has no Netcanvas layer (the message says what to do)."""


@dataclass
class Layer:
    type_id: str
    params: dict
    inputs: list  # fx nodes feeding the layer, in port order
    weights: dict = field(default_factory=dict)  # its tensor name -> attribute (torch.export)
    name: str | None = None  # the node's name, when the op's own would say less (a parameter's)


Converter = Callable[..., Layer]


def _pair(value, what: str):
    """An int, or a pair of ints (square pairs collapse to one int)."""
    if isinstance(value, int):
        return value
    if (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, int) for v in value)
    ):
        return value[0] if value[0] == value[1] else (int(value[0]), int(value[1]))
    if isinstance(value, tuple | list) and len(value) == 1:
        return int(value[0])
    raise Unmapped(f"{what}={value!r} is not an integer or a pair of integers")


def _tensor(node) -> fx.Node:
    if not isinstance(node, fx.Node):
        raise Unmapped(f"expects a tensor input, got the constant {node!r}")
    return node


def _arg(node: fx.Node, i: int, name: str, default=None):
    if len(node.args) > i:
        return node.args[i]
    return node.kwargs.get(name, default)


# -- modules ----------------------------------------------------------------------------------
def _conv(type_id: str, dims: int):
    def convert(node, m) -> Layer:
        padding = m.padding if isinstance(m.padding, str) else _pair(m.padding, "padding")
        params = {
            "out_channels": m.out_channels,
            "kernel_size": _pair(m.kernel_size, "kernel_size"),
            "stride": _pair(m.stride, "stride"),
            "padding": padding,
            "dilation": _pair(m.dilation, "dilation"),
            "groups": m.groups,
            "bias": m.bias is not None,
        }
        if type_id == "conv_transpose2d":
            params["output_padding"] = _pair(m.output_padding, "output_padding")
            if m.padding_mode != "zeros":
                raise Unmapped(f"padding_mode={m.padding_mode!r} is not supported")
        else:
            params["padding_mode"] = m.padding_mode
        return Layer(type_id, params, [_tensor(node.args[0])])

    return convert


def _batchnorm(type_id: str):
    def convert(node, m) -> Layer:
        if m.momentum is None or not m.track_running_stats:
            raise Unmapped("momentum=None or track_running_stats=False is not supported")
        params = {"eps": m.eps, "momentum": m.momentum, "affine": m.affine}
        return Layer(type_id, params, [_tensor(node.args[0])])

    return convert


def _layernorm(node, m) -> Layer:
    if len(m.normalized_shape) != 1:
        raise Unmapped(
            f"normalized_shape={tuple(m.normalized_shape)} (only the last dim is supported)"
        )
    if getattr(m, "bias", True) is None:
        raise Unmapped("bias=False is not supported")
    params = {"eps": m.eps, "elementwise_affine": m.elementwise_affine}
    return Layer("layer_norm", params, [_tensor(node.args[0])])


def _groupnorm(node, m) -> Layer:
    params = {"num_groups": m.num_groups, "eps": m.eps, "affine": m.affine}
    return Layer("group_norm", params, [_tensor(node.args[0])])


def _linear(node, m) -> Layer:
    params = {"out_features": m.out_features, "bias": m.bias is not None}
    if len(example_shape(node.args[0]) or ()) == 4:  # N×H×W×C: features on the last dim
        params["channels_last"] = True
    return Layer("linear", params, [node.args[0]])


def example_shape(node) -> tuple[int, ...] | None:
    """The shape (with the batch) a tensor node had on the example input, if it ran."""
    return node.meta.get(SHAPE) if isinstance(node, fx.Node) else None


def _attention(node, m) -> Layer:
    """nn.MultiheadAttention as self-attention, batch first, its output only."""
    query = _tensor(_arg(node, 0, "query"))
    if _arg(node, 1, "key") is not query or _arg(node, 2, "value") is not query:
        raise Unmapped("only self-attention (query, key and value the same tensor) has a layer")
    if not m.batch_first:
        raise Unmapped("batch_first=False (sequence first) is not supported; use batch_first=True")
    if not m._qkv_same_embed_dim or m.bias_k is not None or m.add_zero_attn:
        raise Unmapped("kdim/vdim, add_bias_kv or add_zero_attn is not supported")
    for name, i in (("key_padding_mask", 3), ("attn_mask", 5)):
        if _arg(node, i, name) is not None:
            raise Unmapped(f"{name} is not supported (the layer attends to every position)")
    if _arg(node, 7, "is_causal", False):
        raise Unmapped("is_causal=True is not supported")
    if any(u.target is operator.getitem and u.args[1] != 0 for u in node.users):
        raise Unmapped("its attention weights are used; the layer gives its output only")
    params = {
        "num_heads": m.num_heads,
        "dropout": float(m.dropout),
        "bias": m.in_proj_bias is not None,
    }
    return Layer("multihead_attention", params, [query])


def _simple(type_id: str, read: Callable[[Any], dict] = lambda m: {}):
    return lambda node, m: Layer(type_id, read(m), [_tensor(node.args[0])])


def _window(type_id: str):
    def convert(node, m) -> Layer:
        if _pair(getattr(m, "dilation", 1), "dilation") != 1:
            raise Unmapped("pooling with dilation is not supported")
        if getattr(m, "return_indices", False):
            raise Unmapped("return_indices=True is not supported")
        if not getattr(m, "count_include_pad", True) or getattr(m, "divisor_override", None):
            raise Unmapped("count_include_pad=False or divisor_override is not supported")
        return Layer(
            type_id, _window_params(m.kernel_size, m.stride, m.padding, m.ceil_mode), [node.args[0]]
        )

    return convert


def _window_params(kernel, stride, padding, ceil_mode) -> dict:
    k = _pair(kernel, "kernel_size")
    s = _pair(stride if stride not in (None, (), []) else kernel, "stride")
    return {
        "kernel_size": k,
        "stride": 0 if s == k else s,
        "padding": _pair(padding, "padding"),
        "ceil_mode": bool(ceil_mode),
    }


def _adaptive(type_id: str):
    def convert(node, m) -> Layer:
        return Layer(type_id, {"output_size": _output_size(m.output_size)}, [node.args[0]])

    return convert


def _output_size(size) -> int:
    size = _pair(size, "output_size")
    if not isinstance(size, int):
        raise Unmapped(f"a non-square adaptive output_size {size} is not supported")
    return size


def _layernorm2d(node, m) -> Layer:
    if len(m.normalized_shape) != 1 or (m.elementwise_affine and m.bias is None):
        raise Unmapped(
            f"normalized_shape={tuple(m.normalized_shape)} or bias=False is not supported"
        )
    params = {"eps": m.eps, "elementwise_affine": m.elementwise_affine}
    return Layer("layer_norm2d", params, [_tensor(node.args[0])])


def _flatten_module(node, m) -> Layer:
    if m.start_dim != 1 or m.end_dim != -1:
        raise Unmapped(f"Flatten(start_dim={m.start_dim}, end_dim={m.end_dim}) (only 1, -1)")
    return Layer("flatten", {}, [node.args[0]])


def _softmax(type_id: str):
    def convert(node, m) -> Layer:
        if m.dim is None:
            raise Unmapped("dim=None is not supported")
        return Layer(type_id, {"dim": m.dim}, [node.args[0]])

    return convert


MODULES: dict[type, Converter] = {
    nn.Conv1d: _conv("conv1d", 1),
    nn.Conv2d: _conv("conv2d", 2),
    nn.ConvTranspose2d: _conv("conv_transpose2d", 2),
    nn.Linear: _linear,
    nn.BatchNorm1d: _batchnorm("batch_norm1d"),
    nn.BatchNorm2d: _batchnorm("batch_norm2d"),
    nn.LayerNorm: _layernorm,
    nn.GroupNorm: _groupnorm,
    nn.ReLU: _simple("relu"),
    nn.ReLU6: _simple("relu6"),
    nn.SiLU: _simple("silu"),
    nn.GELU: _simple("gelu", lambda m: {"approximate": m.approximate}),
    nn.Sigmoid: _simple("sigmoid"),
    nn.Tanh: _simple("tanh"),
    nn.Hardswish: _simple("hardswish"),
    nn.Hardsigmoid: _simple("hardsigmoid"),
    nn.Hardtanh: _simple("hardtanh", lambda m: {"min_val": m.min_val, "max_val": m.max_val}),
    nn.LeakyReLU: _simple("leaky_relu", lambda m: {"negative_slope": m.negative_slope}),
    nn.ELU: _simple("elu", lambda m: {"alpha": m.alpha}),
    nn.SELU: _simple("selu"),
    nn.Mish: _simple("mish"),
    nn.Softplus: _simple(
        "softplus", lambda m: {"beta": float(m.beta), "threshold": float(m.threshold)}
    ),
    nn.Softmax: _softmax("softmax"),
    nn.LogSoftmax: _softmax("log_softmax"),
    nn.MaxPool1d: _window("max_pool1d"),
    nn.MaxPool2d: _window("max_pool2d"),
    nn.AvgPool1d: _window("avg_pool1d"),
    nn.AvgPool2d: _window("avg_pool2d"),
    nn.AdaptiveAvgPool1d: _adaptive("adaptive_avg_pool1d"),
    nn.AdaptiveAvgPool2d: _adaptive("adaptive_avg_pool2d"),
    nn.AdaptiveMaxPool2d: _adaptive("adaptive_max_pool2d"),
    nn.Dropout: _simple("dropout", lambda m: {"p": float(m.p)}),
    nn.Dropout2d: _simple("dropout2d", lambda m: {"p": float(m.p)}),
    nn.Flatten: _flatten_module,
    nn.Identity: _simple("identity"),
    nn.ChannelShuffle: _simple("channel_shuffle", lambda m: {"groups": m.groups}),
    nn.MultiheadAttention: _attention,
}

# Modules that return a tuple of which the layer is the first item (`y, _ = attention(...)`).
TUPLE_OUTPUTS: tuple[type, ...] = (nn.MultiheadAttention,)


def support_converter(m: nn.Module) -> Converter | None:
    """The converter of a support class written by Netcanvas's codegen (`netcanvas_layer` set):
    the layer named there, its parameters read from the attributes of the same names."""
    from designer.core.layers import registry

    type_id = getattr(type(m), "netcanvas_layer", None)
    if not isinstance(type_id, str) or not registry.has(type_id):
        return None
    spec = registry.get(type_id)

    def convert(node, module) -> Layer:
        params = {p.name: getattr(module, p.name) for p in spec.params if hasattr(module, p.name)}
        return Layer(type_id, params, [_tensor(a) for a in node.args])

    return convert


def torchvision_modules() -> dict[type, Converter]:
    """Converters for torchvision's own small modules (when torchvision is installed)."""
    try:
        from designer.core.importer.tv import import_torchvision

        import_torchvision()
        from torchvision.models import convnext
        from torchvision.ops import StochasticDepth, misc
    except Exception:  # noqa: BLE001 - torchvision is optional
        return {}
    from torchvision.models import maxvit, swin_transformer

    return {
        convnext.LayerNorm2d: _layernorm2d,
        StochasticDepth: _simple("stochastic_depth", lambda m: {"p": float(m.p), "mode": m.mode}),
        misc.Permute: lambda node, m: Layer("permute", {"dims": tuple(m.dims)}, [node.args[0]]),
        swin_transformer.ShiftedWindowAttention: _swin_attention,
        swin_transformer.ShiftedWindowAttentionV2: _swin_attention,
        maxvit.WindowPartition: _window_partition,
        maxvit.WindowDepartition: _window_departition,
        maxvit.SwapAxes: lambda node, m: Layer(
            "transpose", {"dim0": m.a, "dim1": m.b}, [_tensor(node.args[0])]
        ),
        maxvit.RelativePositionalMultiHeadAttention: _simple(
            "relative_attention", lambda m: {"head_dim": m.head_dim, "max_seq_len": m.max_seq_len}
        ),
    }


def torchvision_functions() -> dict[object, Converter]:
    """Converters for torchvision's functions that torch.fx records as one call (fx.wrap)."""
    try:
        from designer.core.importer.tv import import_torchvision

        import_torchvision()
        from torchvision.models import swin_transformer
    except Exception:  # noqa: BLE001 - torchvision is optional
        return {}
    return {
        swin_transformer._patch_merging_pad: lambda node: Layer(
            "patch_merge", {}, [_tensor(node.args[0])]
        ),
    }


def _swin_attention(node, m) -> Layer:
    """torchvision's ShiftedWindowAttention (V2: a subclass), read from its attributes."""
    from torchvision.models import swin_transformer

    params = {
        "num_heads": m.num_heads,
        "window_size": _pair(tuple(m.window_size), "window_size"),
        "shift_size": _pair(tuple(m.shift_size), "shift_size"),
        "qkv_bias": m.qkv.bias is not None,
        "proj_bias": m.proj.bias is not None,
        "attention_dropout": float(m.attention_dropout),
        "dropout": float(m.dropout),
        "v2": isinstance(m, swin_transformer.ShiftedWindowAttentionV2),
    }
    return Layer("shifted_window_attention", params, [_tensor(node.args[0])])


def _int_arg(node, i: int, what: str) -> int:
    value = node.args[i] if len(node.args) > i else None
    if not isinstance(value, int):
        raise Unmapped(f"{what}={_shown(value)} is computed while running; it must be constant")
    return value


def _window_partition(node, m) -> Layer:
    return Layer("window_partition", {"size": _int_arg(node, 1, "p")}, [_tensor(node.args[0])])


def _window_departition(node, m) -> Layer:
    params = {
        "size": _int_arg(node, 1, "p"),
        "partitions": _pair(
            (_int_arg(node, 2, "h_partitions"), _int_arg(node, 3, "w_partitions")), "partitions"
        ),
    }
    return Layer("window_departition", params, [_tensor(node.args[0])])


# -- functions and methods --------------------------------------------------------------------
def _binary(type_id: str):
    def convert(node) -> Layer:
        a, b = node.args[0], node.args[1]
        if not isinstance(a, fx.Node) or not isinstance(b, fx.Node):
            raise Unmapped(
                f"{type_id} with a constant ({a if not isinstance(a, fx.Node) else b!r}) has no layer; use a module"
            )
        return Layer(type_id, {"num_inputs": 2}, [a, b])

    return convert


def _cat(node) -> Layer:
    tensors = list(_arg(node, 0, "tensors"))
    dim = _arg(node, 1, "dim", 0)
    if len(tensors) == 1:
        return Layer("identity", {}, [_tensor(tensors[0])])
    return Layer("concat", {"num_inputs": len(tensors), "dim": dim}, [_tensor(t) for t in tensors])


def _flatten_call(node) -> Layer:
    start, end = _arg(node, 1, "start_dim", 0), _arg(node, 2, "end_dim", -1)
    if start != 1 or end != -1:
        raise Unmapped(f"flatten(start_dim={start}, end_dim={end}) (only 1, -1 keep the batch)")
    return Layer("flatten", {}, [_tensor(node.args[0])])


def _reshape(node) -> Layer:
    dims = node.args[1:] if len(node.args) > 1 else node.kwargs.get("shape", ())
    if len(dims) == 1 and isinstance(dims[0], tuple | list):
        dims = tuple(dims[0])
    if not dims:
        raise Unmapped("reshape without a target shape")
    first, rest = dims[0], dims[1:]
    batch = (
        first == -1
        or first is BATCH
        or (isinstance(first, fx.Node) and _is_batch_size(first, node.args[0]))
    )
    if not batch or not all(isinstance(d, int) for d in rest) or not rest:
        raise Unmapped(
            f"reshape to {tuple(_shown(d) for d in dims)}: the first dimension must be the batch (x.size(0) or -1) and the rest constant"
        )
    if list(rest) == [-1]:
        return Layer("flatten", {}, [_tensor(node.args[0])])
    return Layer("reshape", {"target": tuple(rest)}, [_tensor(node.args[0])])


def _shown(d):
    return d.name if isinstance(d, fx.Node) else d


def _is_batch_size(node: fx.Node, of) -> bool:
    """x.size(0), x.shape[0] or x.size()[0]."""
    if node.op == "call_method" and node.target == "size" and node.args[1:] == (0,):
        return True
    if node.op == "call_function" and node.target is operator.getitem and node.args[1] == 0:
        src = node.args[0]
        return isinstance(src, fx.Node) and (
            (src.op == "call_method" and src.target == "size" and len(src.args) == 1)
            or (src.op == "call_function" and src.target is getattr and src.args[1] == "shape")
        )
    return False


def _act(type_id: str, read: Callable[[fx.Node], dict] = lambda n: {}):
    return lambda node: Layer(type_id, read(node), [_tensor(node.args[0])])


def _fn_window(type_id: str):
    def convert(node) -> Layer:
        kernel = _arg(node, 1, "kernel_size")
        stride = _arg(node, 2, "stride", None)
        padding = _arg(node, 3, "padding", 0)
        if type_id.startswith("max"):
            if _pair(_arg(node, 4, "dilation", 1), "dilation") != 1:
                raise Unmapped("pooling with dilation is not supported")
            ceil = _arg(node, 5, "ceil_mode", False)
        else:
            ceil = _arg(node, 4, "ceil_mode", False)
            if not _arg(node, 5, "count_include_pad", True) or _arg(node, 6, "divisor_override"):
                raise Unmapped("count_include_pad=False or divisor_override is not supported")
        return Layer(
            type_id, _window_params(kernel, stride, padding, ceil), [_tensor(node.args[0])]
        )

    return convert


def _fn_adaptive(type_id: str):
    return lambda node: Layer(
        type_id,
        {"output_size": _output_size(_arg(node, 1, "output_size"))},
        [_tensor(node.args[0])],
    )


def _dims_arg(node, i: int, name: str) -> tuple[int, ...]:
    value = _arg(node, i, name)
    if len(node.args) > i + 1 and isinstance(value, int):  # x.permute(0, 2, 3, 1)
        value = node.args[i:]
    if isinstance(value, int):
        return (value,)
    if not isinstance(value, tuple | list) or not all(isinstance(d, int) for d in value):
        raise Unmapped(f"{name}={value!r} is not a list of integers")
    return tuple(value)


def _permute(node) -> Layer:
    return Layer("permute", {"dims": _dims_arg(node, 1, "dims")}, [_tensor(node.args[0])])


def _transpose(node) -> Layer:
    return Layer(
        "transpose",
        {"dim0": _arg(node, 1, "dim0"), "dim1": _arg(node, 2, "dim1")},
        [_tensor(node.args[0])],
    )


def _mean(node) -> Layer:
    dims = _dims_arg(node, 1, "dim")
    keepdim = bool(_arg(node, 2, "keepdim", False))
    return Layer("mean", {"dims": dims, "keepdim": keepdim}, [_tensor(node.args[0])])


def _dropout_fn(node) -> Layer:
    return Layer("dropout", {"p": float(_arg(node, 1, "p", 0.5))}, [_tensor(node.args[0])])


def _channel_shuffle(node) -> Layer:
    return Layer(
        "channel_shuffle", {"groups": int(_arg(node, 1, "groups"))}, [_tensor(node.args[0])]
    )


def _contiguous(node) -> Layer:
    return Layer("identity", {}, [_tensor(node.args[0])])


def _hardtanh_fn(node) -> Layer:
    return Layer(
        "hardtanh",
        {
            "min_val": float(_arg(node, 1, "min_val", -1.0)),
            "max_val": float(_arg(node, 2, "max_val", 1.0)),
        },
        [_tensor(node.args[0])],
    )


def is_chunk(node) -> bool:
    """x.chunk(n, dim) / torch.chunk: its pieces are taken by getitem, each one Chunk layer."""
    return isinstance(node, fx.Node) and (
        (node.op == "call_method" and node.target == "chunk")
        or (node.op == "call_function" and node.target is torch.chunk)
        or (node.op == "call_function" and node.target is torch.ops.aten.chunk.default)
    )


def _getitem(node) -> Layer:
    src, index = node.args[0], node.args[1]
    if not is_chunk(src) and isinstance(src, fx.Node):
        return _select(src, index)
    if not is_chunk(src) or not isinstance(index, int):
        raise Unmapped("indexing a tensor (x[...]) has no Netcanvas layer")
    chunks, dim = _arg(src, 1, "chunks"), _arg(src, 2, "dim", 0)
    params = {"chunks": chunks, "index": index % chunks, "dim": dim}
    return Layer("chunk", params, [_tensor(src.args[0])])


def _select(src: fx.Node, index) -> Layer:
    """`x[:, 0]` (one position of one dim after the batch) is Select; other indexing is not."""
    full = slice(None)
    if (
        isinstance(index, tuple)
        and len(index) >= 2
        and isinstance(index[-1], int)
        and all(i == full for i in index[:-1])
    ):
        return Layer("select", {"dim": len(index) - 1, "index": index[-1]}, [src])
    raise Unmapped(
        f"indexing a tensor as x[{_index_text(index)}] has no Netcanvas layer "
        "(x[:, i], one position of one dim, is Select)"
    )


def _index_text(index) -> str:
    items = index if isinstance(index, tuple) else (index,)

    def one(i) -> str:
        if isinstance(i, slice):
            parts = ["" if v is None else str(v) for v in (i.start, i.stop, i.step)]
            return ":".join(parts[:2] if i.step is None else parts)
        return "..." if i is Ellipsis else repr(i)

    return ", ".join(one(i) for i in items)


def _select_call(node) -> Layer:
    dim, index = _arg(node, 1, "dim"), _arg(node, 2, "index")
    if not isinstance(dim, int) or not isinstance(index, int) or dim < 1:
        raise Unmapped(f"select(dim={dim!r}, index={index!r}): dim must be ≥ 1 and both constant")
    return Layer("select", {"dim": dim, "index": index}, [_tensor(node.args[0])])


FUNCTIONS: dict[object, Converter] = {
    torch.select: _select_call,
    operator.getitem: _getitem,
    operator.add: _binary("add"),
    operator.iadd: _binary("add"),
    torch.add: _binary("add"),
    operator.mul: _binary("multiply"),
    operator.imul: _binary("multiply"),
    torch.mul: _binary("multiply"),
    torch.cat: _cat,
    torch.concat: _cat,
    torch.flatten: _flatten_call,
    torch.relu: _act("relu"),
    F.relu: _act("relu"),
    F.relu6: _act("relu6"),
    F.silu: _act("silu"),
    F.gelu: _act("gelu", lambda n: {"approximate": n.kwargs.get("approximate", "none")}),
    F.hardswish: _act("hardswish"),
    F.hardsigmoid: _act("hardsigmoid"),
    F.hardtanh: _hardtanh_fn,
    torch.sigmoid: _act("sigmoid"),
    F.sigmoid: _act("sigmoid"),
    torch.tanh: _act("tanh"),
    F.tanh: _act("tanh"),
    F.max_pool2d: _fn_window("max_pool2d"),
    F.avg_pool2d: _fn_window("avg_pool2d"),
    F.adaptive_avg_pool2d: _fn_adaptive("adaptive_avg_pool2d"),
    F.adaptive_max_pool2d: _fn_adaptive("adaptive_max_pool2d"),
    F.dropout: _dropout_fn,
    torch.permute: _permute,
    torch.transpose: _transpose,
    torch.mean: _mean,
    torch.reshape: _reshape,
    F.channel_shuffle: _channel_shuffle,
    torch.channel_shuffle: _channel_shuffle,
}

METHODS: dict[str, Converter] = {
    "add": _binary("add"),
    "add_": _binary("add"),
    "mul": _binary("multiply"),
    "mul_": _binary("multiply"),
    "relu": _act("relu"),
    "relu_": _act("relu"),
    "sigmoid": _act("sigmoid"),
    "tanh": _act("tanh"),
    "flatten": _flatten_call,
    "view": _reshape,
    "reshape": _reshape,
    "permute": _permute,
    "transpose": _transpose,
    "mean": _mean,
    "contiguous": _contiguous,
    "select": _select_call,
}

# Nodes that only read a size; allowed where a reshape uses them as the batch dimension.
SIZE_READS = ("size",)
