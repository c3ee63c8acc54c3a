"""Weight initialisation schemes, applied per layer (one layer = one attribute of the model).

NOTE: this module needs only torch, because exported training scripts embed its source
verbatim (see script.py); keep it that way and keep lines within 88 columns.
"""

import torch
from torch import nn

INIT_SCHEMES = (
    "default",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "orthogonal",
)


def init_tensor(weight: torch.Tensor, scheme: str) -> None:
    """Fill one weight matrix or kernel (2 or more dimensions) in place."""
    if scheme == "xavier_uniform":
        nn.init.xavier_uniform_(weight)
    elif scheme == "xavier_normal":
        nn.init.xavier_normal_(weight)
    elif scheme == "kaiming_uniform":
        nn.init.kaiming_uniform_(weight, nonlinearity="relu")
    elif scheme == "kaiming_normal":
        nn.init.kaiming_normal_(weight, nonlinearity="relu")
    elif scheme == "orthogonal":
        nn.init.orthogonal_(weight)
    else:
        raise ValueError(f"unknown initialisation {scheme!r}")


def init_layer(layer: nn.Module, scheme: str) -> None:
    """Re-initialise one layer: weight matrices and kernels by `scheme`, biases to zero.

    Vectors that are not biases (normalisation scales, PReLU slopes) keep their values.
    "default" leaves the layer exactly as PyTorch built it.
    """
    if scheme == "default":
        return
    with torch.no_grad():
        for name, param in layer.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if param.dim() >= 2 and "weight" in leaf:
                init_tensor(param, scheme)
            elif leaf.startswith("bias"):
                param.zero_()


def initialize(
    model: nn.Module,
    scheme: str = "default",
    per_layer: dict[str, str] | None = None,
) -> None:
    """Apply `scheme` to every layer of `model`, except where `per_layer` (attribute name
    -> scheme) says otherwise for that layer."""
    per_layer = per_layer or {}
    for attr, layer in model.named_children():
        init_layer(layer, per_layer.get(attr, scheme))
