"""Every layer's shape and parameter-count rules, checked against torch itself.

For each registered layer type, hypothesis draws parameters (from the ParamSpecs, so a new
layer is covered without editing this file) and input shapes. Draws that infer() accepts are
turned into a one-node graph, generated, executed as the real PyTorch code and run on a real
tensor: torch's output shape and parameter count must equal infer() and cost(). For some
families, draws that infer() refuses must also fail in torch.
"""

from __future__ import annotations

import ast
import inspect
import math

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn

from designer.core.codegen import generate
from designer.core.compiler import load_module
from designer.core.errors import ShapeError
from designer.core.graph import Edge, Graph
from designer.core.layers import registry
from designer.core.layers.spec import LayerSpec, ParamSpec

# The ends of the graph (Input, Output) have no module: the codegen tests check them. A block
# node's shape and code come from its definition: test_blocks checks it.
SKIPPED = {s.type_id for s in registry.all_specs() if s.is_end or s.is_block}
TYPE_IDS = [s.type_id for s in registry.all_specs() if s.type_id not in SKIPPED]

# Upper bounds that keep draws small (fast) yet reach every branch; the lower bound is the spec's.
INT_CAPS = {
    "out_channels": 6,
    "kernel_size": 5,
    "stride": 3,
    "padding": 3,
    "output_padding": 2,
    "dilation": 3,
    "groups": 4,
    "out_features": 6,
    "hidden_size": 5,
    "num_layers": 3,
    "num_heads": 4,
    "nhead": 4,
    "dim_feedforward": 12,
    "num_embeddings": 20,
    "embedding_dim": 6,
    "output_size": 4,
    "num_groups": 4,
    "num_inputs": 3,
}
FLOAT_CAPS = {"scale_factor": 3.0, "eps": 0.1}
# Ranks (without batch) drawn for a type: the ranks its spec declares it accepts (so torch checks
# the declared facts), else 1 to 3. Integer token ids for the layers that accept dtype "int".
ANY_RANK = (1, 2, 3)


def param_strategy(p: ParamSpec, shape: tuple[int, ...]) -> st.SearchStrategy:
    if p.choices is not None:
        return st.sampled_from(p.choices)
    if p.kind is bool:
        return st.booleans()
    if p.kind is int:
        lo = int(p.minimum) if p.minimum is not None else -4
        hi = lo + INT_CAPS.get(p.name, 8)
        if p.maximum is not None:
            hi = min(hi, int(p.maximum))
        ints = st.integers(lo, hi)
        if p.pair:  # non-square: (height, width)
            ints = st.one_of(ints, st.tuples(ints, ints))
        return st.one_of(ints, st.sampled_from(p.keywords)) if p.keywords else ints
    if p.kind is float:
        lo = p.minimum if p.minimum is not None else -2.0
        hi = lo + FLOAT_CAPS.get(p.name, 2.0)
        if p.maximum is not None:
            hi = min(hi, p.maximum)
        return st.one_of(st.just(float(lo)), st.floats(lo, hi, allow_nan=False))
    if p.kind is tuple and p.allow_minus_one:
        return reshape_targets(shape)
    if p.kind is tuple and p.name == "dims" and p.minimum == 0:  # Permute: an order of all dims
        return st.permutations(range(1, len(shape) + 1)).map(lambda d: (0, *d))
    if p.kind is tuple and p.name == "dims":  # Mean: some dims, maybe negative, maybe repeated
        rank = len(shape)
        dim = st.one_of(st.integers(1, rank), st.integers(-rank, -1))
        return st.lists(dim, min_size=1, max_size=rank).map(tuple)
    if p.kind is tuple:
        return st.tuples(*[st.integers(1, 4)] * (p.length or 2))
    raise AssertionError(f"no strategy for {p.kind} parameter {p.name!r}: add one")


@st.composite
def reshape_targets(draw, shape):
    """Mostly a true factorisation of the element count (optionally with a -1), sometimes not."""
    total = 1
    for d in shape:
        total *= d
    dims, rest = [], total
    while rest > 1 and len(dims) < 3:
        factor = draw(st.sampled_from([f for f in range(1, rest + 1) if rest % f == 0]))
        dims.append(factor)
        rest //= factor
    dims.append(rest)
    if draw(st.booleans()):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    if draw(st.integers(0, 4)) == 0:  # a wrong count, so refusals are drawn too
        dims[0] = dims[0] + 1 if dims[0] != -1 else 3
    return tuple(dims)


def _divisor_pairs(n: int) -> st.SearchStrategy:
    return st.sampled_from([(a, n // a) for a in range(1, n + 1) if n % a == 0])


# Windows of positions (N×G×P×C) come from a square window: P is drawn a square, and the
# parameters that must fit the drawn shape are drawn to fit it (else hardly a draw is accepted).
SQUARE_POSITIONS = {"window_departition", "relative_attention"}
FITTED = {
    ("window_departition", "size"): lambda shape: st.just(math.isqrt(shape[1])),
    ("window_departition", "partitions"): lambda shape: _divisor_pairs(shape[0]),
    ("relative_attention", "max_seq_len"): lambda shape: st.sampled_from([shape[1], 4]),
}


@st.composite
def cases(draw, spec: LayerSpec):
    """(params, in_shapes) for `spec`: shapes first, since some parameters depend on them."""
    rank = draw(st.sampled_from(spec.accepts.ranks or ANY_RANK))
    shape = tuple(draw(st.integers(1, 8)) for _ in range(rank))
    if spec.type_id in SQUARE_POSITIONS:
        shape = (shape[0], draw(st.sampled_from([1, 4, 9])), *shape[2:])
    params = {
        p.name: draw(FITTED.get((spec.type_id, p.name), lambda s, p=p: param_strategy(p, s))(shape))
        for p in spec.params
    }
    params = spec.check_params(params)
    n_inputs = len(spec.input_ports(params))
    if n_inputs == 1:
        return params, [shape]
    # Merges: same shapes, or shapes that differ along one axis (what Concatenate joins).
    axis = draw(st.integers(0, rank - 1))
    vary = draw(st.booleans())
    shapes = []
    for _ in range(n_inputs):
        s = list(shape)
        if vary:
            s[axis] = draw(st.integers(1, 4))
        shapes.append(tuple(s))
    return params, shapes


def one_node_graph(spec: LayerSpec, params, in_shapes) -> Graph:
    g = Graph()
    node = g.add_node(spec.type_id, name="layer", params=params)
    dtype = "int64" if spec.accepts.dtype == "int" else "float32"
    for i, (port, shape) in enumerate(zip(spec.input_ports(params), in_shapes, strict=True)):
        src = g.add_node("input", name=f"x{i}", params={"shape": shape, "dtype": dtype})
        g.connect(Edge(src.id, node.id, dst_port=port))
    out = g.add_node("output", name="out")
    g.connect(Edge(node.id, out.id))
    return g


def sample(shape, dtype, params) -> torch.Tensor:
    if dtype.is_floating_point:
        return torch.randn(2, *shape)
    return torch.randint(0, int(params.get("num_embeddings", 2)), (2, *shape))


def assert_only_non_defaults(init: str, spec: LayerSpec) -> None:
    """Emitted constructors pass only keywords whose value differs from torch's default; a
    layer torch has no module for constructs its own support class (written into the file)."""
    call = ast.parse(init, mode="eval").body
    assert isinstance(call, ast.Call)
    if isinstance(call.func, ast.Name):
        assert call.func.id in {s.name for s in spec.support}, f"{init}: no such support class"
        return
    assert isinstance(call.func, ast.Attribute)
    cls = getattr(nn, call.func.attr)
    defaults = {k: p.default for k, p in inspect.signature(cls).parameters.items()}
    if issubclass(cls, nn.RNNBase):  # RNN, LSTM, GRU take (*args, **kwargs)
        defaults = {k: p.default for k, p in inspect.signature(nn.RNNBase).parameters.items()}
        defaults["nonlinearity"] = "tanh"  # nn.RNN's documented default
    for kw in call.keywords:
        default = defaults[kw.arg]  # KeyError: not a torch keyword
        value = ast.literal_eval(kw.value)
        assert default is inspect.Parameter.empty or value != default, f"{init}: {kw.arg}={value!r}"


@pytest.mark.parametrize("type_id", TYPE_IDS)
def test_shapes_and_parameter_counts_match_torch(type_id):
    spec = registry.get(type_id)
    checked = []

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
    )
    @given(cases(spec))
    def check(case):
        params, in_shapes = case
        try:
            out = spec.output_shape(params, in_shapes)
        except ShapeError:
            assume(False)
        code = spec.emit(params, in_shapes)
        if code.init is not None:
            assert_only_non_defaults(code.init, spec)
        module = load_module(generate(one_node_graph(spec, params, in_shapes)))
        model = module.make_model()
        xs = [
            sample(s, d, params)
            for s, d in zip(module.INPUT_SHAPES, module.INPUT_DTYPES, strict=True)
        ]
        with torch.no_grad():
            y = model(*xs)
        assert tuple(y.shape) == (2, *out), f"{params} on {in_shapes}"
        n_params = sum(p.numel() for p in model.parameters())
        assert n_params == spec.cost(params, in_shapes, out)[0], f"{params} on {in_shapes}"
        checked.append(case)

    check()
    assert len(checked) >= 5, f"only {len(checked)} accepted draws for {type_id}"


def test_every_layer_type_is_checked():
    registered = {s.type_id for s in registry.all_specs()}
    assert {registry.get(t).role for t in SKIPPED} == {"input", "output", "block"}
    assert set(TYPE_IDS) == registered - SKIPPED
    assert len(TYPE_IDS) >= 40


# Families whose refusals are about values, not ranks: torch must refuse them too. (Rank
# refusals are deliberate beginner rules: torch would read a 3-D batch as one unbatched image.)
REFUSING_FAMILIES = [
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "group_norm",
    "multihead_attention",
    "transformer_encoder_layer",
    "reshape",
    "upsample",
    "concat",
]


def deliberate(spec: LayerSpec, params, in_shapes) -> bool:
    """Refusals that torch would run: joining along the batch dimension."""
    batch_dims = (0, -(len(in_shapes[0]) + 1))
    return spec.type_id == "concat" and params["dim"] in batch_dims


def torch_refuses(spec: LayerSpec, params, in_shapes) -> bool:
    """Whether torch fails to build or run the layer, or gives an empty output."""
    xs = [torch.randn(2, *s) for s in in_shapes]
    try:
        if spec.type_id == "reshape":  # its emitter needs a valid target; run the raw request
            xs[0].reshape(2, *params["target"])
            return False
        code = spec.emit(params, in_shapes)
        scope = {"nn": nn, "torch": torch}
        module = eval(code.init, scope) if code.init else None  # noqa: S307 - our emitted text
        names = [f"x{i}" for i in range(len(xs))]
        scope |= {"m": module, **dict(zip(names, xs, strict=True))}
        with torch.no_grad():
            y = eval(code.forward("m", names), scope)  # noqa: S307
    except Exception:
        return True
    return y.numel() == 0  # some torch kernels return an empty tensor instead of failing


@pytest.mark.parametrize("type_id", REFUSING_FAMILIES)
def test_refused_parameters_also_fail_in_torch(type_id):
    spec = registry.get(type_id)
    refused = []

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
    )
    @given(cases(spec))
    def check(case):
        params, in_shapes = case
        try:
            spec.output_shape(params, in_shapes)
        except ShapeError as err:
            if deliberate(spec, params, in_shapes):
                return
            assert torch_refuses(spec, params, in_shapes), (
                f"torch accepts {params} on {in_shapes}: {err}"
            )
            refused.append(case)
            return
        assume(False)

    check()
    assert len(refused) >= 5, f"only {len(refused)} refused draws for {type_id}"
