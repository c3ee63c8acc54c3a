"""Trained weights as safetensors files.

NOTE: safetensors holds raw tensors and a JSON header, nothing executable, so opening a weights
file from a stranger is safe. Netcanvas never unpickles (no torch.load of weights).

The API, for every caller (the app, the CLI, partial loading):
- `encode_weights(tensors)` / `save_weights(model, path)`: the bytes / an atomic write;
- `read_header(path)`: names, dtypes and shapes from the header alone (bounded before parsing,
  sizes checked against the file and free memory): cheap, allocates no tensor;
- `read_weights(path)`: the tensors, after `read_header` said they can be read;
- `load_weights(model, path)`: every tensor must fit the model (WeightsError names the first
  that does not); float tensors of another float dtype are converted with a note, anything
  else is refused; non-finite values give a warning note. Returns the notes;
- `state_for(graph, name, path)`: build the graph's model and load `path` into it.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from designer import __version__
from designer.core import limits
from designer.core.errors import NetcanvasError, first_line
from designer.core.project_io import atomic_write

# safetensors dtype names -> bytes per element
_DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
    "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip
FLOAT_DTYPES = frozenset({"F16", "BF16", "F32", "F64"})


class WeightsError(NetcanvasError):
    """A weights file that can't be read, or that belongs to a different model."""


@dataclass(frozen=True)
class TensorInfo:
    dtype: str  # safetensors spelling: "F32", "I64", ...
    shape: tuple[int, ...]
    nbytes: int


@dataclass
class Loaded:
    """Weights read for a model: its CPU state dict, and notes for the user."""

    tensors: dict
    notes: list[str] = field(default_factory=list)


def encode_weights(tensors: dict) -> bytes:
    """The safetensors bytes of a state dict (CPU copies; shared storage is fine)."""
    from safetensors.torch import save

    # NOTE: clone so tensors that share storage (tied or viewed weights) save on their own;
    # safetensors refuses shared storage.
    plain = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    return save(plain, metadata={"format": "pt", "netcanvas": __version__})


def save_weights(model, path: str | os.PathLike) -> Path:
    """Write every parameter and buffer of `model` to `path` (atomically)."""
    data = encode_weights(model.state_dict())
    path = Path(path)
    try:
        atomic_write(path, data)
    except OSError as e:
        raise WeightsError(f"{path}: could not be saved: {e.strerror or e}") from None
    return path


def read_header(path: str | os.PathLike) -> dict[str, TensorInfo]:
    """The tensors a safetensors file declares, from its header alone. WeightsError if the
    file is not one, is hostile (a huge header, too many tensors, sizes that don't add up) or
    would not fit in memory."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(8)
            if len(head) < 8:
                raise _bad(path, "shorter than a safetensors header")
            (length,) = struct.unpack("<Q", head)
            if length > limits.MAX_WEIGHTS_HEADER:
                raise _bad(
                    path,
                    f"its header declares {length:,} bytes; at most "
                    f"{limits.MAX_WEIGHTS_HEADER:,} are allowed",
                )
            if 8 + length > size:
                raise _bad(path, "its header is longer than the file")
            raw = f.read(length)
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise WeightsError(f"{path}: is a folder, not a weights file") from None
    except OSError as e:
        raise WeightsError(f"{path}: could not be read: {e.strerror or e}") from None
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError):
        raise _bad(path, "its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise _bad(path, "its header is not a JSON object")
    header.pop("__metadata__", None)
    if len(header) > limits.MAX_TENSORS:
        raise _bad(path, f"it declares {len(header):,} tensors; at most {limits.MAX_TENSORS:,}")
    infos = {name: _info(path, name, entry) for name, entry in header.items()}
    total = sum(i.nbytes for i in infos.values())
    if 8 + length + total > size:
        raise _bad(path, f"its tensors need {total:,} bytes but the file is only {size:,}")
    free = limits.available_memory()
    if free is not None and total > free:
        raise WeightsError(
            f"{path}: too big to load: its tensors need {limits.size_text(total)} and only "
            f"{limits.size_text(free)} of "
            "memory are free"
        )
    return infos


def _info(path: Path, name: object, entry: object) -> TensorInfo:
    where = limits.clip(repr(name))
    if not isinstance(entry, dict) or entry.get("dtype") not in _DTYPE_BYTES:
        raise _bad(path, f"tensor {where} has no known dtype")
    shape = entry.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise _bad(path, f"tensor {where} has no valid shape")
    dtype = entry["dtype"]
    return TensorInfo(dtype, tuple(shape), math.prod(shape) * _DTYPE_BYTES[dtype])


def read_weights(path: str | os.PathLike) -> dict:
    """The tensors in a safetensors file, by name. WeightsError if it is not one."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    read_header(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise WeightsError(f"{path}: could not be read: {e.strerror or e}") from None
    try:
        return load(raw)
    except (SafetensorError, ValueError, RuntimeError) as e:
        detail = limits.clip(first_line(e))
        raise _bad(path, f"safetensors: {detail}") from None
    except MemoryError:
        raise WeightsError(f"{path}: too big to load into memory") from None


def load_weights(model, path: str | os.PathLike) -> list[str]:
    """Load `path` into `model`. WeightsError naming the first tensor that does not fit.
    Returns notes for the user (dtype conversions, non-finite values)."""
    import torch

    infos = read_header(path)
    expected = model.state_dict()
    check_fits(expected, {k: i.shape for k, i in infos.items()}, f"{path}: does not fit this model")
    tensors = read_weights(path)
    notes: list[str] = []
    converted, bad = [], []
    for key, want in expected.items():
        got = tensors[key]
        if got.dtype == want.dtype:
            continue
        if got.is_floating_point() and want.is_floating_point():
            tensors[key] = got.to(want.dtype)
            converted.append(f"{key} ({_dtype(got.dtype)})")
        else:
            raise WeightsError(
                f"{path}: does not fit this model: tensor {key!r} is {_dtype(got.dtype)} in "
                f"the file but {_dtype(want.dtype)} in the model"
            )
    if converted:
        notes.append(
            f"Converted {len(converted)} tensor(s) to the model's dtype: {', '.join(converted[:3])}"
            + ("…" if len(converted) > 3 else "")
        )
    for key, value in tensors.items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            bad.append(key)
    if bad:
        notes.append(
            f"Warning: {len(bad)} tensor(s) hold NaN or infinite values ({', '.join(bad[:3])}"
            + ("…" if len(bad) > 3 else "")
            + "): the model's outputs will be too."
        )
    model.load_state_dict(tensors, strict=True)
    return notes


TRAINED = "The trained weights no longer fit the model on the canvas (it changed since training)"


def check_fits(expected: Mapping, found: Mapping, lead: str, holder: str = "the file") -> None:
    """The one check that weights fit a graph: `found` (name -> shape) against `expected`
    (the model's state dict). WeightsError "`lead`: ..." naming the first tensor that is
    missing, shaped differently, or extra (`holder` says where it was looked for)."""
    for key, want in expected.items():
        if key not in found:
            raise WeightsError(f"{lead}: tensor {key!r} is missing from {holder}")
        if tuple(found[key]) != tuple(want.shape):
            raise WeightsError(
                f"{lead}: tensor {key!r} is {_dims(found[key])} in {holder} but "
                f"{_dims(want.shape)} in the model"
            )
    extra = sorted(k for k in found if k not in expected)
    if extra:
        raise WeightsError(
            f"{lead}: {holder} has a tensor {limits.clip(repr(extra[0]))} the model lacks"
        )


def load_state(model, tensors: Mapping, lead: str = TRAINED) -> None:
    """Load a state dict (the app's trained model) into `model`, checked by `check_fits`."""
    check_fits(model.state_dict(), {k: v.shape for k, v in tensors.items()}, lead, "the weights")
    model.load_state_dict(dict(tensors), strict=True)


def state_for(graph, name: str, path: str | os.PathLike) -> Loaded:
    """Build `graph`'s model and load `path` into it: the checked CPU state dict and notes.
    Safe off the GUI thread (it reads `graph`, which the caller must not change meanwhile)."""
    from designer.core.compiler import build_model

    model, _source = build_model(graph, name)
    notes = load_weights(model, path)
    return Loaded({k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, notes)


def _bad(path: Path, why: str) -> WeightsError:
    return WeightsError(f"{path}: is not a valid weights file ({why})")


def _dtype(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _dims(shape) -> str:
    """16×4; a scalar is "a scalar"."""
    return "×".join(map(str, shape)) if len(shape) else "a scalar"
