"""Turn whatever stops a training run into one `Failed` event with a message a user can act on.

The engine raises `LossNotFinite` itself at its report points (it never syncs per step), and
lets torch's own errors through; `explain` maps each to a kind and a message, naming the node
when the error came from inside the model's forward().
"""

from __future__ import annotations

import dis
import re
import types

import torch

from designer.core.data.dataset import DataError
from designer.core.errors import NetcanvasError, first_line
from designer.core.training.config import TrainingConfig
from designer.core.training.events import Failed
from designer.core.training.recipe import LossNotFinite

_SHAPE_WORDS = re.compile(
    r"shape|size mismatch|must match the size|cannot be multiplied|dimension|expected input"
    r"|Expected .*(input|size|channels|dim)|to have \d+ channels|out of range|not broadcast"
    r"|Given groups|Given normalized_shape|expected scalar type",
    re.IGNORECASE,
)
_CPU_OOM = re.compile(r"can't allocate memory|not enough memory|DefaultCPUAllocator", re.I)


def explain(
    exc: BaseException,
    config: TrainingConfig,
    model: torch.nn.Module | None = None,
    node_of: dict[str, str] | None = None,
    device: str = "cpu",
) -> Failed:
    """The Failed event for `exc`, raised while training `model` with `config`."""
    if isinstance(exc, LossNotFinite):
        return Failed("nan", nan_message(exc, config))
    if isinstance(exc, torch.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and _CPU_OOM.search(str(exc))
    ):
        return Failed("oom", oom_message(config.batch_size, device))
    if isinstance(exc, DataError):
        return Failed("data", str(exc))
    if isinstance(exc, NetcanvasError):
        return Failed("shape" if "shape" in str(exc) else "runtime", str(exc))
    attr = failing_layer(exc, model, node_of or {}) if model is not None else None
    detail = first_line(exc)
    if attr is not None:
        kind = "shape" if _SHAPE_WORDS.search(detail) else "runtime"
        node_id = (node_of or {}).get(attr)
        return Failed(kind, f"layer '{attr}' failed during training: {detail}", node_id)
    if _SHAPE_WORDS.search(detail):
        return Failed("shape", f"the data does not fit the model: {detail}")
    return Failed("runtime", f"training stopped: {type(exc).__name__}: {detail}")


def nan_message(exc: LossNotFinite, config: TrainingConfig) -> str:
    what = "NaN" if exc.value != exc.value else "infinite"
    where = f"{exc.split} loss" if exc.split != "training" else "loss"
    head = f"{where} became {what} at epoch {exc.epoch}, step {exc.step}"
    if config.lr >= 0.1 or (config.optimizer in ("adam", "adamw", "rmsprop") and config.lr > 0.01):
        return f"{head}: learning rate {config.lr:g} is probably too high"
    return f"{head}: lower the learning rate, turn on gradient clipping, or check the data"


def oom_message(batch_size: int, device: str) -> str:
    """Suggest a batch size that fits; the caller has freed the cache already."""
    if batch_size > 1:
        return (
            f"ran out of {device} memory at batch size {batch_size}: "
            f"try batch size {batch_size // 2}"
        )
    return f"ran out of {device} memory even at batch size 1: make the model smaller"


def failing_layer(
    exc: BaseException, model: torch.nn.Module | None, node_of: dict[str, str]
) -> str | None:
    """The attribute (layer) of `model` whose call raised `exc`, found from the traceback.

    NOTE: read after the fact from the generated forward()'s frame, so training pays nothing:
    the failing line's `self.<attr>` loads name the layer. Without a layer on that line (a
    merge like `a + b`), the assigned variable is the merge's own name when it kept one.
    """
    if model is None:
        return None
    code = getattr(type(model).forward, "__code__", None)
    frame_line = None
    tb: types.TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is code:
            frame_line = tb.tb_lineno
        tb = tb.tb_next
    if code is None or frame_line is None:
        return None
    known = set(node_of) or {name for name, _ in model.named_children()}
    loads, stores = [], []
    for ins in dis.get_instructions(code):
        if ins.positions is None or ins.positions.lineno != frame_line:
            continue
        if ins.opname in ("LOAD_ATTR", "LOAD_METHOD") and ins.argval in known:
            loads.append(ins.argval)
        elif ins.opname == "STORE_FAST" and ins.argval in known:
            stores.append(ins.argval)
    return (loads or stores or [None])[0]


def free_device_memory(device: str) -> None:
    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.empty_cache()
