"""Core layers: Linear, Flatten, Reshape, Dropout, Dropout2d, Embedding."""

from __future__ import annotations

from dataclasses import replace

from designer.core.errors import ShapeError
from designer.core.layers.common import (
    call,
    expect_rank,
    flatten_fix,
    non_default,
    numel,
    one_input,
    p_int,
)
from designer.core.layers.registry import register
from designer.core.layers.spec import (
    InputSpec,
    LayerSpec,
    ModuleCode,
    ParamSpec,
    call_module,
    format_shape,
)


def _linear_infer(params, in_shapes):
    x = one_input(in_shapes)
    # NOTE: torch's Linear takes any rank (features last). Images reach it channels-last only
    # after a Permute (ConvNeXt); a Linear fed N×C×H×W is nearly always a missing Flatten, so
    # images are refused unless channels_last says the last dim really is the features.
    if not (params.get("channels_last") and len(x) == 3):
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
            ParamSpec(
                "channels_last",
                bool,
                False,
                "Also take channels-last images (N×H×W×C, after a Permute): mixes each "
                "pixel's channels",
            ),
        ),
        infer=_linear_infer,
        emit=_linear_emit,
        cost=_linear_cost,
        key_params=("out_features",),
        accepts=InputSpec(ranks=(1, 2, 3)),
        features_param="out_features",
        weighted=True,
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
        accepts=InputSpec(dtype="any"),
        dtype_out="same",
    )
)


def _reshape_target(params, x):
    """The target with its -1 resolved, or a ShapeError naming both element counts."""
    target = tuple(params["target"])
    total, known = numel(x), numel(tuple(d for d in target if d != -1))
    shown = "×".join(["N", *("?" if d == -1 else str(d) for d in target)])
    if -1 in target:
        if total % known:
            raise ShapeError(
                f"can't reshape {format_shape(x)} ({total} values) to {shown}: "
                f"{total} is not a multiple of {known}"
            )
        target = tuple(total // known if d == -1 else d for d in target)
    if numel(target) != total:
        raise ShapeError(
            f"can't reshape {format_shape(x)} ({total} values) to {shown} "
            f"({numel(target)} values): the counts must match"
        )
    return target


def _reshape_emit(params, in_shapes):
    dims = ", ".join(map(str, _reshape_target(params, in_shapes[0])))
    return ModuleCode(None, lambda m, xs: f"{xs[0]}.reshape(-1, {dims})")


RESHAPE = register(
    LayerSpec(
        type_id="reshape",
        title="Reshape",
        category="Core",
        doc="Rearranges each sample's values into a new shape, e.g. N×64 -> N×1×8×8.",
        params=(
            ParamSpec(
                "target",
                tuple,
                (-1,),
                "Shape without the batch; one -1 is worked out from the others",
                minimum=1,
                max_length=4,
                allow_minus_one=True,
            ),
        ),
        infer=lambda params, in_shapes: _reshape_target(params, one_input(in_shapes)),
        emit=_reshape_emit,
        key_params=("target",),
        accepts=InputSpec(dtype="any"),
        dtype_out="same",
    )
)


def _dropout_emit(cls: str):
    def emit(params, in_shapes):
        return ModuleCode(call(f"nn.{cls}", **non_default(params, {"p": 0.5})), call_module)

    return emit


def _dropout2d_infer(params, in_shapes):
    x = one_input(in_shapes)
    expect_rank(x, (3,), advice="It zeroes whole channels; use Dropout for other data")
    return x


_P = ParamSpec(
    "p", float, 0.5, "Probability of zeroing a value while training", minimum=0.0, maximum=1.0
)

DROPOUT = register(
    LayerSpec(
        type_id="dropout",
        title="Dropout",
        category="Core",
        doc="Zeroes random values while training (scaling the rest), to curb overfitting.",
        params=(_P,),
        infer=lambda params, in_shapes: one_input(in_shapes),
        emit=_dropout_emit("Dropout"),
        key_params=("p",),
        passthrough=True,
    )
)

DROPOUT2D = register(
    LayerSpec(
        type_id="dropout2d",
        title="Dropout2d",
        category="Core",
        doc="Zeroes whole random channels of an image while training.",
        params=(replace(_P, doc="Probability of zeroing a channel while training"),),
        infer=_dropout2d_infer,
        emit=_dropout_emit("Dropout2d"),
        key_params=("p",),
        accepts=InputSpec(ranks=(3,)),
        passthrough=True,
    )
)


# NOTE: shapes.py refuses float input to an Embedding (accepts dtype "int") before infer() is
# called, so only the shape is checked here.
def _embedding_infer(params, in_shapes):
    return (*one_input(in_shapes), p_int(params, "embedding_dim"))


def _embedding_emit(params, in_shapes):
    return ModuleCode(
        call("nn.Embedding", params["num_embeddings"], params["embedding_dim"]), call_module
    )


EMBEDDING = register(
    LayerSpec(
        type_id="embedding",
        title="Embedding",
        category="Core",
        doc="Looks up a learned vector for each integer token id: N×T -> N×T×D.",
        params=(
            ParamSpec(
                "num_embeddings",
                int,
                1000,
                "Vocabulary size: ids run from 0 to this - 1",
                minimum=1,
            ),
            ParamSpec("embedding_dim", int, 32, "Length of each token's vector", minimum=1),
        ),
        infer=_embedding_infer,
        emit=_embedding_emit,
        cost=lambda params, in_shapes, out: (
            p_int(params, "num_embeddings") * p_int(params, "embedding_dim"),
            0,
        ),
        key_params=("num_embeddings", "embedding_dim"),
        accepts=InputSpec(ranks=(1, 2, 3), dtype="int"),
    )
)
