"""Layers that hold a learned tensor torch has no module for: LayerNorm2d, LayerScale (ConvNeXt),
ClassToken and PositionEmbedding (ViT). Each exports as a small plain-PyTorch support class
written into the generated file, whose `weight` (and `bias`) keep torchvision's tensors."""

from __future__ import annotations

from designer.core.layers.common import call, non_default, numel, one_input
from designer.core.layers.registry import register
from designer.core.layers.spec import (
    InputSpec,
    LayerSpec,
    ModuleCode,
    ParamSpec,
    SupportClass,
    call_module,
)

_LAYER_NORM_2D = SupportClass(
    "LayerNorm2d",
    '''
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of each pixel (ConvNeXt's): N×C×H×W -> N×C×H×W."""

    netcanvas_layer = "layer_norm2d"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)
''',
)


def _layer_norm2d_emit(params, in_shapes):
    extra = non_default(params, {"eps": 1e-5, "elementwise_affine": True})
    return ModuleCode(call("LayerNorm2d", in_shapes[0][0], **extra), call_module)


register(
    LayerSpec(
        type_id="layer_norm2d",
        title="LayerNorm2d",
        category="Normalization",
        doc="Normalises each pixel over its channels (ConvNeXt): N×C×H×W -> N×C×H×W.",
        params=(
            ParamSpec(
                "eps", float, 1e-5, "Added to the variance so it is never zero", minimum=1e-12
            ),
            ParamSpec("elementwise_affine", bool, True, "Learn a scale and a shift per channel"),
        ),
        infer=lambda params, in_shapes: one_input(in_shapes),
        emit=_layer_norm2d_emit,
        cost=lambda params, in_shapes, out: (
            2 * out[0] if params["elementwise_affine"] else 0,
            2 * numel(out),
        ),
        accepts=InputSpec(ranks=(3,)),
        passthrough=True,
        support=(_LAYER_NORM_2D,),
    )
)

_LAYER_SCALE = SupportClass(
    "LayerScale",
    '''
class LayerScale(nn.Module):
    """Multiplies each channel by a learned factor that starts at `init` (ConvNeXt)."""

    netcanvas_layer = "layer_scale"

    def __init__(self, shape: tuple[int, ...], init: float) -> None:
        super().__init__()
        self.init = init
        self.weight = nn.Parameter(torch.full(shape, init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * x
''',
)


def layer_scale_shape(sample: tuple[int, ...]) -> tuple[int, ...]:
    """The factor's shape for a sample (without the batch): one per channel, C×1×1 for images."""
    return (sample[0], *(1 for _ in sample[1:]))


register(
    LayerSpec(
        type_id="layer_scale",
        title="LayerScale",
        category="Core",
        doc="Multiplies each channel by a learned factor, started small so a residual branch "
        "begins near zero (ConvNeXt).",
        params=(ParamSpec("init", float, 1e-6, "The factors' starting value"),),
        infer=lambda params, in_shapes: one_input(in_shapes),
        emit=lambda params, in_shapes: ModuleCode(
            call("LayerScale", layer_scale_shape(in_shapes[0]), params["init"]), call_module
        ),
        cost=lambda params, in_shapes, out: (out[0], numel(out)),
        key_params=("init",),
        support=(_LAYER_SCALE,),
    )
)

_POSITION_EMBEDDING = SupportClass(
    "PositionEmbedding",
    '''
class PositionEmbedding(nn.Module):
    """Adds a learned vector to each position of the input (ViT's position embedding)."""

    netcanvas_layer = "position_embedding"

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(1, *shape).normal_(std=0.02))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.weight
''',
)

register(
    LayerSpec(
        type_id="position_embedding",
        title="PositionEmbedding",
        category="Attention",
        doc="Adds a learned vector to each position, so attention knows where a token is "
        "(ViT): N×T×F -> N×T×F.",
        params=(),
        infer=lambda params, in_shapes: one_input(in_shapes),
        emit=lambda params, in_shapes: ModuleCode(
            call("PositionEmbedding", tuple(in_shapes[0])), call_module
        ),
        cost=lambda params, in_shapes, out: (numel(out), numel(out)),
        support=(_POSITION_EMBEDDING,),
    )
)

_CLASS_TOKEN = SupportClass(
    "ClassToken",
    '''
class ClassToken(nn.Module):
    """Puts a learned token before the sequence (ViT's class token): N×T×F -> N×(T+1)×F."""

    netcanvas_layer = "class_token"

    def __init__(self, width: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, 1, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.weight.expand(x.shape[0], -1, -1), x], dim=1)
''',
)


def _class_token_infer(params, in_shapes):
    steps, width = one_input(in_shapes)
    return (steps + 1, width)


register(
    LayerSpec(
        type_id="class_token",
        title="ClassToken",
        category="Attention",
        doc="Puts a learned token before the sequence; the classifier reads it at the end "
        "(ViT): N×T×F -> N×(T+1)×F.",
        params=(),
        infer=_class_token_infer,
        emit=lambda params, in_shapes: ModuleCode(
            call("ClassToken", in_shapes[0][-1]), call_module
        ),
        cost=lambda params, in_shapes, out: (out[-1], 0),
        accepts=InputSpec(ranks=(2,)),
        support=(_CLASS_TOKEN,),
    )
)
