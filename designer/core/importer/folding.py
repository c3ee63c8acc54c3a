"""Sizes computed in forward(), folded to constants, and each tensor's example shape.

fx records shape arithmetic as graph nodes: `n, c, h, w = x.shape`, `h // p`, `x.dim() == 3`,
`torch._assert(...)`. Netcanvas layers have fixed shapes, so the traced graph is run on an
example input, twice with different batch sizes, and every value that is not a tensor is
replaced where it is used by what it was:

- the same both times: a constant (`h // p` -> 14);
- the batch size both times: BATCH (`x.shape[0]`), which a converter reads as "the batch";
- anything else (`n * 197`) depends on the batch in another way and stays a node, marked
  BATCH_DEPENDENT, so the importer refuses it by name.

Nodes left without users (the size reads, the comparisons, `torch._assert`) are removed. Every
tensor node keeps its example shape, with the batch, in `node.meta[SHAPE]` (the first run's,
batch 2), so converters can check the tensors a pattern holds (a class token's (1, 1, F)).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import torch
from torch import fx, nn

SHAPE = "netcanvas_shape"  # node.meta key: the example shape (with the batch) of a tensor node
BATCH_DEPENDENT = "netcanvas_batch_dependent"  # node.meta key: a size that follows the batch
FIRST_BATCH, SECOND_BATCH = 2, 1  # the batch sizes of the two runs
META_ABOVE = 40_000_000  # parameters: a model this big is run on the meta device (see _run)


class _Batch:
    """The batch size, wherever forward() reads it (`x.shape[0]`, `x.size(0)`)."""

    _instance: _Batch | None = None

    def __new__(cls) -> _Batch:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "BATCH"


BATCH = _Batch()
_UNFOLDABLE = object()
_KEPT = ("placeholder", "output", "get_attr")
# Not torch.device: a run on the meta device would bake "meta" into the graph.
_SCALARS = (int, float, bool, str, type(None), torch.dtype, slice)


def fold_sizes(
    root: nn.Module, graph: fx.Graph, input_shape: tuple[int, ...]
) -> tuple[fx.Node | None, str] | None:
    """Fold `graph`'s size arithmetic in place and record example shapes; or, when the model does
    not run on an input of `input_shape`, leave the graph as it was and return the node that
    failed and torch's error."""
    first = _run(root, graph, (FIRST_BATCH, *input_shape))
    if isinstance(first, tuple):
        return first
    for node, value in first.items():
        if isinstance(value, torch.Tensor):
            node.meta[SHAPE] = tuple(value.shape)
        elif isinstance(value, tuple | list) and value and isinstance(value[0], torch.Tensor):
            node.meta[SHAPE] = tuple(value[0].shape)  # (output, weights) of an attention
    sizes = [n for n, v in first.items() if n.op not in _KEPT and _is_plain(v)]
    if not sizes:
        return None
    second = _run(root, graph, (SECOND_BATCH, *input_shape))
    if isinstance(second, tuple):
        return second
    for node in sizes:
        value = _fold(first[node], second[node])
        if value is _UNFOLDABLE:
            node.meta[BATCH_DEPENDENT] = True
            continue
        for user in list(node.users):
            _substitute(user, node, value)
    for node in reversed(sizes):
        if not node.users:
            graph.erase_node(node)
    return None


def _substitute(user: fx.Node, node: fx.Node, value: object) -> None:
    """Replace `node` by the constant `value` in `user`'s arguments."""

    def swap(n: fx.Node) -> Any:
        return value if n is node else n

    user.args = fx.node.map_arg(user.args, swap)
    user.kwargs = fx.node.map_arg(user.kwargs, swap)


class _Recorder(fx.Interpreter):
    def __init__(self, module: fx.GraphModule) -> None:
        super().__init__(module)
        self.values: dict[fx.Node, object] = {}
        self.current: fx.Node | None = None

    def run_node(self, n: fx.Node) -> object:
        self.current = n
        value = super().run_node(n)
        self.values[n] = value
        return value


class _OnMeta(nn.Module):
    """Runs the recorder, so torch.func.functional_call can lend the graph meta tensors."""

    def __init__(self, module: fx.GraphModule, recorder: _Recorder) -> None:
        super().__init__()
        self.module = module
        self.recorder = recorder

    def forward(self, x: torch.Tensor) -> object:
        return self.recorder.run(x)


def _run(
    root: nn.Module, graph: fx.Graph, shape: tuple[int, ...]
) -> dict | tuple[fx.Node | None, str]:
    """Every node's value on zeros of `shape`, or where and why the model did not run.

    NOTE: a big model runs on the meta device (shapes only, no arithmetic: ViT-L/16 at 224 in
    6 s, not 75 s); a small one runs for real, which is faster than meta's per-op overhead
    there (DenseNet-121 at 128: 0.3 s, not 2.4 s), as does any model that fails on meta (an op
    whose output shape depends on values, torch.nonzero).
    """
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        return {}  # refused later, with its count of inputs
    module = fx.GraphModule(root, graph)
    with contextlib.suppress(NotImplementedError):
        root.eval()
    if sum(p.numel() for p in module.parameters()) > META_ABOVE:
        values = _run_on_meta(module, shape)
        if values is not None:
            return values
    recorder = _Recorder(module)
    try:
        with torch.no_grad():
            recorder.run(torch.zeros(shape))
    except Exception as e:  # noqa: BLE001 - any failure is the user's to see
        lines = str(e).strip().splitlines()
        # an assert's message was formatted while tracing: its sizes read "Proxy(getitem_2)"
        text = re.sub(r"Proxy\([^)]*\)", "?", lines[0] if lines else "")
        return recorder.current, f"{type(e).__name__}: {text}".rstrip(": ")
    return recorder.values


def _run_on_meta(module: fx.GraphModule, shape: tuple[int, ...]) -> dict | None:
    recorder = _Recorder(module)
    wrapper = _OnMeta(module, recorder)
    on_meta = {
        f"module.{k}": torch.empty_like(v, device="meta")
        for k, v in [*module.named_parameters(), *module.named_buffers()]
    }
    try:
        with torch.no_grad():
            torch.func.functional_call(wrapper, on_meta, (torch.zeros(shape, device="meta"),))
        return recorder.values
    except Exception:  # noqa: BLE001 - the real run says what is wrong, if anything
        return None


def _is_plain(value: object) -> bool:
    """A value without tensors: a size, a flag, a shape."""
    if isinstance(value, tuple | list):
        return all(_is_plain(v) for v in value)
    return isinstance(value, _SCALARS)


def _fold(a: object, b: object) -> object:
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        if len(a) != len(b):
            return _UNFOLDABLE
        items = [_fold(x, y) for x, y in zip(a, b, strict=True)]
        if any(i is _UNFOLDABLE for i in items):
            return _UNFOLDABLE
        return items if isinstance(a, list) else tuple(items)
    if type(a) is int and type(b) is int and (a, b) == (FIRST_BATCH, SECOND_BATCH):
        return BATCH
    if type(a) is type(b) and a == b:
        return a
    return _UNFOLDABLE
