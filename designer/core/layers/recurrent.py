"""Recurrent layers: RNN, LSTM and GRU over sequences (N×T×F), always batch_first.

torch returns (output, state); the emitted forward keeps the whole output sequence, or only its
last time step, as the `output` parameter says.
"""

from __future__ import annotations

from designer.core.errors import ShapeError
from designer.core.layers.common import call, expect_rank, one_input, p_int, reshape_fix
from designer.core.layers.registry import register
from designer.core.layers.spec import InputSpec, LayerSpec, ModuleCode, ParamSpec

_PARAMS = (
    ParamSpec("hidden_size", int, 32, "Features in the hidden state", minimum=1),
    ParamSpec(
        "num_layers", int, 1, "Recurrent layers stacked on each other", minimum=1, maximum=16
    ),
    ParamSpec(
        "bidirectional", bool, False, "Also read the sequence backwards (doubles the output)"
    ),
    ParamSpec(
        "dropout",
        float,
        0.0,
        "Dropout between stacked layers (needs num_layers ≥ 2)",
        minimum=0.0,
        maximum=1.0,
    ),
    ParamSpec(
        "output",
        str,
        "sequence",
        "'sequence': every time step (N×T×H); 'last': the last step only (N×H)",
        choices=("sequence", "last"),
    ),
    ParamSpec("bias", bool, True, "Learn additive biases"),
)
_RNN_PARAMS = (
    *_PARAMS[:1],
    ParamSpec(
        "nonlinearity", str, "tanh", "Activation of the hidden state", choices=("tanh", "relu")
    ),
    *_PARAMS[1:],
)
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _infer(params, in_shapes):
    x = one_input(in_shapes)
    fix, advice = None, ""
    if len(x) == 3 and x[0] == 1:
        fix = reshape_fix(x[1:])
        advice = f"{fix.title} (each image row a time step)"
    elif len(x) == 1:
        fix = reshape_fix((x[0], 1))
        advice = (
            f"Set the Input shape to T×F, or insert a Reshape to N×{x[0]}×1 (one value per step)"
        )
    expect_rank(x, (2,), fix=fix, advice=advice)
    if params["dropout"] and p_int(params, "num_layers") == 1:
        raise ShapeError(
            "dropout acts only between stacked layers: set num_layers ≥ 2 or dropout to 0"
        )
    width = p_int(params, "hidden_size") * (2 if params["bidirectional"] else 1)
    return (width,) if params["output"] == "last" else (x[0], width)


def _emit(cls: str):
    def emit(params, in_shapes):
        extra: dict[str, object] = {}
        if p_int(params, "num_layers") != 1:
            extra["num_layers"] = params["num_layers"]
        if params.get("nonlinearity", "tanh") != "tanh":
            extra["nonlinearity"] = params["nonlinearity"]
        if not params["bias"]:
            extra["bias"] = False
        extra["batch_first"] = True
        if params["dropout"]:
            extra["dropout"] = params["dropout"]
        if params["bidirectional"]:
            extra["bidirectional"] = True
        ctor = call(f"nn.{cls}", in_shapes[0][-1], params["hidden_size"], **extra)
        last = "[:, -1]" if params["output"] == "last" else ""
        return ModuleCode(ctor, lambda m, xs: f"{m}({xs[0]})[0]{last}")

    return emit


def _cost(type_id: str):
    def cost(params, in_shapes, out):
        steps, features = in_shapes[0]
        gates, hidden = _GATES[type_id], p_int(params, "hidden_size")
        dirs = 2 if params["bidirectional"] else 1
        n = macs = 0
        for layer in range(p_int(params, "num_layers")):
            width = features if layer == 0 else hidden * dirs
            weights = gates * hidden * (width + hidden)
            n += dirs * (weights + (2 * gates * hidden if params["bias"] else 0))
            macs += dirs * steps * weights
        return n, macs

    return cost


for _tid, _cls, _params, _doc in (
    ("rnn", "RNN", _RNN_PARAMS, "Simple recurrent layer: one hidden state updated per time step."),
    (
        "lstm",
        "LSTM",
        _PARAMS,
        "Long short-term memory: gated memory that keeps long-range context.",
    ),
    ("gru", "GRU", _PARAMS, "Gated recurrent unit: a lighter LSTM with similar accuracy."),
):
    register(
        LayerSpec(
            type_id=_tid,
            title=_cls,
            category="Recurrent",
            doc=_doc + " Input N×T×F.",
            params=_params,
            infer=_infer,
            emit=_emit(_cls),
            cost=_cost(_tid),
            key_params=("hidden_size", "num_layers", "output"),
            accepts=InputSpec(ranks=(2,)),
            weighted=True,
        )
    )
