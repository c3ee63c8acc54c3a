"""Resampling: Upsample signals (C×L) and images (C×H×W) by a scale factor."""

from __future__ import annotations

import math

from designer.core.errors import ShapeError
from designer.core.layers.common import call, expect_rank, numel, one_input, positive_dims
from designer.core.layers.registry import register
from designer.core.layers.spec import (
    InputSpec,
    LayerSpec,
    ModuleCode,
    ParamSpec,
    call_module,
    param_float,
)

# Modes that interpolate along exactly one (linear) or two (bilinear) spatial dimensions.
_MODE_RANK = {"linear": 2, "bilinear": 3}


def _upsample_infer(params, in_shapes):
    x = one_input(in_shapes)
    expect_rank(
        x, (2, 3), conv1d=True, advice="Set the Input shape to C×L or C×H×W, or insert a Reshape"
    )
    mode, scale = str(params["mode"]), param_float(params, "scale_factor")
    wanted = _MODE_RANK.get(mode, len(x))
    if wanted != len(x):
        kind = "signals (N×C×L)" if wanted == 2 else "images (N×C×H×W)"
        raise ShapeError(f"mode={mode!r} works on {kind} only; use 'nearest' or the matching mode")
    # The same float arithmetic as F.interpolate, so the sizes agree exactly.
    spatial = tuple(math.floor(float(n * scale)) for n in x[1:])
    return positive_dims((x[0], *spatial), "the output")


def _upsample_emit(params, in_shapes):
    scale = param_float(params, "scale_factor")
    kw: dict[str, object] = {"scale_factor": int(scale) if scale.is_integer() else scale}
    if params["mode"] != "nearest":
        kw["mode"] = params["mode"]
    return ModuleCode(call("nn.Upsample", **kw), call_module)


register(
    LayerSpec(
        type_id="upsample",
        title="Upsample",
        category="Resampling",
        doc="Enlarges a signal or image by scale_factor, by repeating or interpolating values.",
        params=(
            ParamSpec(
                "scale_factor",
                float,
                2.0,
                "Size multiplier for each spatial dimension",
                minimum=0.1,
                maximum=64.0,
            ),
            ParamSpec(
                "mode",
                str,
                "nearest",
                "nearest repeats values; linear (signals) and bilinear (images) interpolate",
                choices=("nearest", "linear", "bilinear"),
            ),
        ),
        infer=_upsample_infer,
        emit=_upsample_emit,
        cost=lambda params, in_shapes, out: (0, numel(out)),
        key_params=("scale_factor", "mode"),
        accepts=InputSpec(ranks=(2, 3)),
    )
)
