"""Input and Output: the ends of the graph. Codegen turns them into forward()'s args and return."""

from __future__ import annotations

from designer.core.errors import ShapeError
from designer.core.layers.common import one_input
from designer.core.layers.registry import register
from designer.core.layers.spec import InputSpec, LayerSpec, ModuleCode, ParamSpec


def _input_shape(params, in_shapes):
    if in_shapes:
        raise ShapeError("an Input takes no incoming connections")
    return tuple(params["shape"])


def _passthrough(params, in_shapes):
    return one_input(in_shapes)


def _no_code(params, in_shapes):
    return ModuleCode(None, lambda m, xs: xs[0] if xs else "")


INPUT = register(
    LayerSpec(
        type_id="input",
        title="Input",
        category="Input/Output",
        doc="Model input. Shape without the batch: (F) features, (C, H, W) images, (T, F) sequences.",
        params=(
            ParamSpec(
                "shape",
                tuple,
                (4,),
                "Sample shape without the batch: (F), (T, F) or (C, H, W)",
                minimum=1,
                max_length=4,
            ),
            ParamSpec(
                "dtype",
                str,
                "float32",
                "float32 for features, int64 for token ids (Embedding)",
                choices=("float32", "int64"),
            ),
        ),
        infer=_input_shape,
        emit=_no_code,
        inputs=(),
        key_params=("shape",),
        role="input",
        dtype_out=lambda params: "int" if params.get("dtype") == "int64" else "float",
    )
)

OUTPUT = register(
    LayerSpec(
        type_id="output",
        title="Output",
        category="Input/Output",
        doc="Model output: what forward() returns (logits for classification).",
        params=(),
        infer=_passthrough,
        emit=_no_code,
        outputs=(),
        role="output",
        accepts=InputSpec(dtype="any"),
        dtype_out="same",
    )
)
