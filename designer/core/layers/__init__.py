"""The layer catalog. Importing this package registers every layer family."""

from designer.core.layers import (  # noqa: F401  (imported to register their specs)
    activations,
    attention,
    blocks,
    conv,
    core,
    io,
    learned,
    merges,
    norm,
    pooling,
    recurrent,
    resampling,
    tensor_ops,
    windows,
)
from designer.core.layers.registry import all_specs, get, has, resolve
from designer.core.layers.spec import (
    InputSpec,
    LayerSpec,
    ModuleCode,
    ParamSpec,
    Shape,
    format_shape,
)

__all__ = [
    "InputSpec",
    "LayerSpec",
    "ModuleCode",
    "ParamSpec",
    "Shape",
    "all_specs",
    "format_shape",
    "get",
    "has",
    "resolve",
]
