"""Trained weights as safetensors files, beside the project (model.netcanvas -> model.safetensors).

NOTE: safetensors holds raw tensors and a JSON header, nothing executable, so opening a weights
file from a stranger is safe. Netcanvas never unpickles (no torch.load of weights).
"""

from __future__ import annotations

import os
from pathlib import Path

from designer import __version__
from designer.core.errors import NetcanvasError
from designer.core.project_io import atomic_write


class WeightsError(NetcanvasError):
    """A weights file that can't be read, or that belongs to a different model."""


def save_weights(model, path: str | os.PathLike) -> Path:
    """Write every parameter and buffer of `model` to `path` (atomically)."""
    from safetensors.torch import save

    # NOTE: clone so tensors that share storage (tied or viewed weights) save on their own;
    # safetensors refuses shared storage.
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    data = save(tensors, metadata={"format": "pt", "netcanvas": __version__})
    path = Path(path)
    try:
        atomic_write(path, data)
    except OSError as e:
        raise WeightsError(f"{path}: could not be saved: {e.strerror or e}") from None
    return path


def read_weights(path: str | os.PathLike) -> dict:
    """The tensors in a safetensors file, by name. WeightsError if it is not one."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file") from None
    except OSError as e:
        raise WeightsError(f"{path}: could not be read: {e.strerror or e}") from None
    try:
        return load(raw)
    except (SafetensorError, ValueError, RuntimeError) as e:
        detail = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise WeightsError(f"{path}: is not a valid weights file (safetensors: {detail})") from None


def load_weights(model, path: str | os.PathLike) -> None:
    """Load `path` into `model`. WeightsError naming the first tensor that does not fit."""
    tensors = read_weights(path)
    expected = model.state_dict()
    for key, want in expected.items():
        if key not in tensors:
            raise WeightsError(
                f"{path}: does not fit this model: tensor {key!r} is missing from the file"
            )
        got = tensors[key]
        if tuple(got.shape) != tuple(want.shape):
            raise WeightsError(
                f"{path}: does not fit this model: tensor {key!r} is "
                f"{_dims(got.shape)} in the file but {_dims(want.shape)} in the model"
            )
    extra = sorted(k for k in tensors if k not in expected)
    if extra:
        raise WeightsError(
            f"{path}: does not fit this model: the file has a tensor {extra[0]!r} the model lacks"
        )
    model.load_state_dict(tensors, strict=True)


def _dims(shape) -> str:
    """16×4; a scalar is "a scalar"."""
    return "×".join(map(str, shape)) if len(shape) else "a scalar"
