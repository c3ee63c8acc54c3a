"""Core layers: Linear, Flatten, Reshape, Dropout, Dropout2d, Embedding."""

from __future__ import annotations

from designer.core.layers.common import call, expect_rank, flatten_fix, numel, one_input, p_int
from designer.core.layers.registry import register
from designer.core.layers.spec import LayerSpec, ModuleCode, ParamSpec, call_module


def _linear_infer(params, in_shapes):
    x = one_input(in_shapes)
    expect_rank(x, (1, 2), fix=flatten_fix())
    return (*x[:-1], p_int(params, "out_features"))


def _linear_emit(params, in_shapes):
    x = in_shapes[0]
    kw = {} if params["bias"] else {"bias": False}
    return ModuleCode(call("nn.Linear", x[-1], params["out_features"], **kw), call_module)


def _linear_cost(params, in_shapes, out):
    fin, fout = in_shapes[0][-1], p_int(params, "out_features")
    n = fin * fout + (fout if params["bias"] else 0)
    rows = numel(in_shapes[0][:-1])
    return n, rows * fin * fout


LINEAR = register(
    LayerSpec(
        type_id="linear",
        title="Linear",
        category="Core",
        doc="Fully connected layer: y = x·Wᵀ + b. in_features is taken from the input.",
        params=(
            ParamSpec("out_features", int, 16, "Number of output features", minimum=1),
            ParamSpec("bias", bool, True, "Learn an additive bias"),
        ),
        infer=_linear_infer,
        emit=_linear_emit,
        cost=_linear_cost,
        key_params=("out_features",),
    )
)


def _flatten_infer(params, in_shapes):
    return (numel(one_input(in_shapes)),)


FLATTEN = register(
    LayerSpec(
        type_id="flatten",
        title="Flatten",
        category="Core",
        doc="Flattens every dimension after the batch into one: N×C×H×W -> N×(C·H·W).",
        params=(),
        infer=_flatten_infer,
        emit=lambda params, in_shapes: ModuleCode("nn.Flatten()", call_module),
    )
)
