"""Element-wise activations. One table; each entry is torch's class and its parameters."""

from __future__ import annotations

from designer.core.errors import ShapeError
from designer.core.layers.common import call, non_default, one_input
from designer.core.layers.registry import register
from designer.core.layers.spec import LayerSpec, ModuleCode, ParamSpec, call_module

# (type_id, title, torch class, params, torch defaults of those params, doc)
_TABLE: tuple[tuple[str, str, str, tuple[ParamSpec, ...], dict, str], ...] = (
    ("relu", "ReLU", "ReLU", (), {}, "max(0, x). The default choice for hidden layers."),
    (
        "leaky_relu",
        "LeakyReLU",
        "LeakyReLU",
        (ParamSpec("negative_slope", float, 0.01, "Slope for x < 0", minimum=0.0),),
        {"negative_slope": 0.01},
        "Like ReLU, but lets a small gradient through for x < 0.",
    ),
    (
        "elu",
        "ELU",
        "ELU",
        (ParamSpec("alpha", float, 1.0, "Saturation for x < 0", minimum=0.0),),
        {"alpha": 1.0},
        "Exponential linear unit: smooth for x < 0.",
    ),
    ("selu", "SELU", "SELU", (), {}, "Scaled ELU; self-normalising with LeCun-normal init."),
    (
        "gelu",
        "GELU",
        "GELU",
        (
            ParamSpec(
                "approximate", str, "none", "Exact or tanh approximation", choices=("none", "tanh")
            ),
        ),
        {"approximate": "none"},
        "Gaussian error linear unit, common in transformers.",
    ),
    ("silu", "SiLU", "SiLU", (), {}, "x·sigmoid(x), also called Swish."),
    ("mish", "Mish", "Mish", (), {}, "x·tanh(softplus(x))."),
    ("relu6", "ReLU6", "ReLU6", (), {}, "min(max(0, x), 6), for mobile nets."),
    ("hardswish", "Hardswish", "Hardswish", (), {}, "Piecewise-linear Swish, for mobile nets."),
    ("sigmoid", "Sigmoid", "Sigmoid", (), {}, "1 / (1 + e^-x). Saturates: gradients vanish."),
    ("hardsigmoid", "Hardsigmoid", "Hardsigmoid", (), {}, "Piecewise-linear sigmoid (SE gates)."),
    (
        "hardtanh",
        "Hardtanh",
        "Hardtanh",
        (
            ParamSpec("min_val", float, -1.0, "Lower clip", minimum=-1e6, maximum=1e6),
            ParamSpec("max_val", float, 1.0, "Upper clip", minimum=-1e6, maximum=1e6),
        ),
        {"min_val": -1.0, "max_val": 1.0},
        "Clips x to [min_val, max_val].",
    ),
    ("tanh", "Tanh", "Tanh", (), {}, "Hyperbolic tangent, in (-1, 1). Saturates for large |x|."),
    (
        "softplus",
        "Softplus",
        "Softplus",
        (
            ParamSpec("beta", float, 1.0, "Sharpness", minimum=1e-6),
            ParamSpec(
                "threshold", float, 20.0, "Above beta·x this, softplus is linear", minimum=0.0
            ),
        ),
        {"beta": 1.0, "threshold": 20.0},
        "Smooth ReLU: log(1 + e^x).",
    ),
)


_SATURATING = {"sigmoid", "tanh"}  # flat for large |x|: their gradients vanish


def _same_shape(params, in_shapes):
    return one_input(in_shapes)


def _hardtanh_infer(params, in_shapes):
    if float(params["max_val"]) <= float(params["min_val"]):
        raise ShapeError(f"max_val ({params['max_val']}) must be greater than min_val")
    return one_input(in_shapes)


_INFER = {"hardtanh": _hardtanh_infer}


def _emitter(cls: str, torch_defaults: dict):
    def emit(params, in_shapes):
        return ModuleCode(call(f"nn.{cls}", **non_default(params, torch_defaults)), call_module)

    return emit


for _tid, _title, _cls, _params, _defaults, _doc in _TABLE:
    register(
        LayerSpec(
            type_id=_tid,
            title=_title,
            category="Activation",
            doc=_doc,
            params=_params,
            infer=_INFER.get(_tid, _same_shape),
            emit=_emitter(_cls, _defaults),
            key_params=tuple(p.name for p in _params),
            passthrough=True,
            saturating=_tid in _SATURATING,
        )
    )


# PReLU learns its slope: one shared, or one per channel (dim 1 of the input).
def _prelu_emit(params, in_shapes):
    n = in_shapes[0][0] if params["per_channel"] else 1
    return ModuleCode(call("nn.PReLU", **({"num_parameters": n} if n != 1 else {})), call_module)


def _prelu_cost(params, in_shapes, out):
    n = in_shapes[0][0] if params["per_channel"] else 1
    return n, 0


register(
    LayerSpec(
        type_id="prelu",
        title="PReLU",
        category="Activation",
        doc="Leaky ReLU whose negative slope is learned.",
        params=(ParamSpec("per_channel", bool, False, "One slope per channel (dim 1)"),),
        infer=_same_shape,
        emit=_prelu_emit,
        cost=_prelu_cost,
        passthrough=True,
    )
)


def _dim_infer(params, in_shapes):
    x = one_input(in_shapes)
    dim = int(params["dim"])
    if not -(len(x) + 1) <= dim <= len(x) or dim == 0 or dim == -(len(x) + 1):
        raise ShapeError(f"dim={dim} is not a feature dimension of a {len(x) + 1}-D input")
    return x


for _tid, _title, _cls, _doc in (
    ("softmax", "Softmax", "Softmax", "Probabilities along dim. Don't use before cross-entropy."),
    ("log_softmax", "LogSoftmax", "LogSoftmax", "log(softmax(x)) along dim, numerically stable."),
):
    register(
        LayerSpec(
            type_id=_tid,
            title=_title,
            category="Activation",
            doc=_doc,
            params=(
                ParamSpec(
                    "dim", int, -1, "Dimension to normalise (batch is 0)", minimum=-8, maximum=8
                ),
            ),
            infer=_dim_infer,
            emit=(
                lambda cls: lambda p, s: ModuleCode(call(f"nn.{cls}", dim=p["dim"]), call_module)
            )(_cls),
            key_params=("dim",),
            passthrough=True,
        )
    )
