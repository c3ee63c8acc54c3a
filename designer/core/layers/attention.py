"""Attention over sequences (N×T×F): multi-head self-attention and a Transformer encoder layer.

The feature width F is the model width (embed_dim / d_model); it is taken from the input.
"""

from __future__ import annotations

from designer.core.errors import ShapeError
from designer.core.layers.common import call, expect_rank, non_default, one_input, p_int
from designer.core.layers.registry import register
from designer.core.layers.spec import InputSpec, LayerSpec, ModuleCode, ParamSpec, call_module


def _sequence_infer(heads: str):
    def infer(params, in_shapes):
        x = one_input(in_shapes)
        expect_rank(
            x,
            (2,),
            advice="Set the Input shape to T×F, or add an Embedding or a recurrent layer first",
        )
        n = p_int(params, heads)
        if x[1] % n:
            raise ShapeError(f"{heads}={n} must divide the feature width F ({x[1]})")
        return x

    return infer


def _attention_params(width: int, bias: bool) -> int:
    """Query, key, value and output projections, as nn.MultiheadAttention holds them."""
    return 4 * width * width + (4 * width if bias else 0)


def _attention_macs(steps: int, width: int) -> int:
    # Four projections per step, then scores (T×T×E) and their weighted sum (T×T×E).
    return 4 * steps * width * width + 2 * steps * steps * width


def _mha_emit(params, in_shapes):
    extra = non_default(params, {"dropout": 0.0, "bias": True})
    ctor = call(
        "nn.MultiheadAttention", in_shapes[0][-1], params["num_heads"], **extra, batch_first=True
    )
    return ModuleCode(ctor, lambda m, xs: f"{m}({xs[0]}, {xs[0]}, {xs[0]}, need_weights=False)[0]")


def _mha_cost(params, in_shapes, out):
    steps, width = in_shapes[0]
    return _attention_params(width, bool(params["bias"])), _attention_macs(steps, width)


register(
    LayerSpec(
        type_id="multihead_attention",
        title="MultiheadAttention",
        category="Attention",
        doc="Self-attention: each time step mixes in the steps most relevant to it. N×T×F -> N×T×F.",
        params=(
            ParamSpec("num_heads", int, 4, "Parallel attention heads; must divide F", minimum=1),
            ParamSpec(
                "dropout", float, 0.0, "Dropout on the attention weights", minimum=0.0, maximum=1.0
            ),
            ParamSpec("bias", bool, True, "Learn biases in the projections"),
        ),
        infer=_sequence_infer("num_heads"),
        emit=_mha_emit,
        cost=_mha_cost,
        key_params=("num_heads",),
        accepts=InputSpec(ranks=(2,)),
    )
)


def _encoder_emit(params, in_shapes):
    extra = non_default(
        params, {"dim_feedforward": 2048, "dropout": 0.1, "activation": "relu", "norm_first": False}
    )
    ctor = call(
        "nn.TransformerEncoderLayer",
        d_model=in_shapes[0][-1],
        nhead=params["nhead"],
        **extra,
        batch_first=True,
    )
    return ModuleCode(ctor, call_module)


def _encoder_cost(params, in_shapes, out):
    steps, width = in_shapes[0]
    ff = p_int(params, "dim_feedforward")
    n = _attention_params(width, True) + 2 * width * ff + ff + width + 4 * width
    return n, _attention_macs(steps, width) + 2 * steps * width * ff


register(
    LayerSpec(
        type_id="transformer_encoder_layer",
        title="TransformerEncoderLayer",
        category="Attention",
        doc="Self-attention then a feed-forward block, each with a residual and LayerNorm.",
        params=(
            ParamSpec("nhead", int, 4, "Attention heads; must divide F", minimum=1),
            ParamSpec("dim_feedforward", int, 256, "Width of the feed-forward block", minimum=1),
            ParamSpec("dropout", float, 0.1, "Dropout inside the layer", minimum=0.0, maximum=1.0),
            ParamSpec(
                "activation", str, "relu", "Feed-forward activation", choices=("relu", "gelu")
            ),
            ParamSpec(
                "norm_first", bool, False, "LayerNorm before each block (steadier for deep stacks)"
            ),
        ),
        infer=_sequence_infer("nhead"),
        emit=_encoder_emit,
        cost=_encoder_cost,
        key_params=("nhead", "dim_feedforward"),
        accepts=InputSpec(ranks=(2,)),
    )
)
