"""Pretrained weights into any part of a model, and warm starts after an edit.

`read_state_dict` opens a safetensors file, or a `.pt`/`.pth`/`.bin` state_dict through
`torch.load(weights_only=True)` (tensors and plain containers only: nothing is unpickled that
could run code). `load_pretrained` copies the tensors whose names and shapes match onto the
model, optionally only below some layers and after renaming prefixes (`backbone.` -> ``), and
returns a `LoadReport`: matched, skipped (shape differs), missing (kept as they were), unused.

`carry_over` is the warm start: after an edit, every layer whose name, type and parameter
shapes are unchanged keeps its weights, the rest start fresh.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from designer.core.errors import first_line
from designer.core.weights import WeightsError, _dims, read_weights

PICKLED_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")
# Checkpoints often wrap the state_dict: {"state_dict": ...} (Lightning), {"model": ...}.
_WRAPPERS = ("state_dict", "model_state_dict", "model", "net", "weights")


@dataclass
class LoadReport:
    """What `load_pretrained` did, tensor by tensor (model names, after the key mapping)."""

    matched: list[str] = field(default_factory=list)
    skipped: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # in the model, not in the file
    unused: list[str] = field(default_factory=list)  # in the file, not in the model
    layers: list[str] = field(default_factory=list)  # layers (module paths) fully loaded

    def summary(self) -> str:
        """One line: "loaded 62 tensors (20 layers); 2 skipped (shape differs: fc.weight …)"."""
        parts = [f"loaded {len(self.matched)} tensor{_s(self.matched)}"]
        if self.layers:
            parts[0] += f" ({len(self.layers)} layer{_s(self.layers)})"
        if self.skipped:
            name, got, want = self.skipped[0]
            parts.append(
                f"{len(self.skipped)} skipped (shape differs: {name} is {_dims(got)} in the "
                f"file, {_dims(want)} in the model{', …' if len(self.skipped) > 1 else ''})"
            )
        if self.missing:
            parts.append(
                f"{len(self.missing)} missing from the file (kept as they were: "
                f"{_first(self.missing)})"
            )
        if self.unused:
            parts.append(f"{len(self.unused)} in the file not used ({_first(self.unused)})")
        return "; ".join(parts)


def read_state_dict(path: str | os.PathLike) -> dict:
    """Name -> tensor from a safetensors file or a torch state_dict (weights_only).

    WeightsError with one line when the file is missing, unreadable or holds no tensors."""
    import torch

    path = Path(path)
    if path.suffix.lower() not in PICKLED_SUFFIXES:
        return read_weights(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such file")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - UnpicklingError, zip errors, ... : one line
        detail = first_line(e, limit=160)
        raise WeightsError(f"{path}: not a weights-only state_dict ({detail})") from None
    for key in _WRAPPERS:
        if isinstance(raw, Mapping) and isinstance(raw.get(key), Mapping):
            raw = raw[key]
            break
    if not isinstance(raw, Mapping):
        raise WeightsError(f"{path}: holds a {type(raw).__name__}, not a state_dict")
    tensors = {str(k): v for k, v in raw.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise WeightsError(f"{path}: holds no tensors")
    return tensors


def map_keys(tensors: Mapping, prefixes: Mapping[str, str] | None) -> dict:
    """Rename keys by prefix: {"backbone.": ""} turns backbone.conv1.weight into conv1.weight,
    {"": "encoder."} puts every key under encoder. The first prefix that matches applies;
    keys that match none keep their names."""
    if not prefixes:
        return dict(tensors)
    out = {}
    for key, value in tensors.items():
        for old, new in prefixes.items():
            if key.startswith(old):
                key = new + key[len(old) :]
                break
        out[key] = value
    return out


def parse_prefixes(text: str) -> dict[str, str]:
    """ "backbone.=,head.=fc." -> {"backbone.": "", "head.": "fc."} (the CLI and dialog form)."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        old, sep, new = part.partition("=")
        if not sep:
            raise WeightsError(f"key mapping {part!r}: write it as OLD=NEW, e.g. backbone.=")
        out[old.strip()] = new.strip()
    return out


def load_pretrained(
    model,
    tensors: Mapping,
    *,
    prefixes: Mapping[str, str] | None = None,
    only: Iterable[str] | None = None,
) -> LoadReport:
    """Copy the tensors whose (mapped) names and shapes match onto `model`, in place.

    `only` limits loading to these module paths and what lies below them (one layer, a block).
    Parameters, buffers and dtype follow the model; nothing else changes."""
    import torch

    mapped = map_keys(tensors, prefixes)
    roots = tuple(only) if only is not None else None
    state = model.state_dict()
    report = LoadReport()
    chosen = {}
    consumed: set[str] = set()
    for key, want in state.items():
        if roots is not None and not _under(key, roots):
            continue
        got = mapped.get(key)
        if got is None and key.endswith(".weight") and key not in mapped:
            # NOTE: a raw parameter of the original (ConvNeXt's `layer_scale`, ViT's
            # `class_token`) is a layer here, holding it as `.weight`: the bare name is it.
            got = mapped.get(key.removesuffix(".weight"))
            if got is not None:
                consumed.add(key.removesuffix(".weight"))
        if got is None:
            report.missing.append(key)
        elif tuple(got.shape) != tuple(want.shape):
            report.skipped.append((key, tuple(got.shape), tuple(want.shape)))
        else:
            chosen[key] = got
            report.matched.append(key)
    report.unused = sorted(k for k in mapped if k not in state and k not in consumed)
    with torch.no_grad():
        for key, value in chosen.items():
            state[key].copy_(value.to(state[key].dtype))
    touched = {k for k, _, _ in report.skipped} | set(report.missing)
    report.layers = sorted(
        layer
        for layer in {_layer(k) for k in chosen}
        if not any(_layer(k) == layer for k in touched)
    )
    return report


@dataclass(frozen=True)
class CarryReport:
    """Layers (module paths) that kept their weights, and those that start fresh."""

    kept: tuple[str, ...]
    fresh: tuple[str, ...]

    def summary(self) -> str:
        if not self.fresh:
            return f"every layer kept its weights ({len(self.kept)})"
        if not self.kept:
            return "no layer kept its weights: every layer starts fresh"
        return (
            f"{len(self.kept)} layer{_s(self.kept)} kept {'its' if len(self.kept) == 1 else 'their'} weights; "
            f"{len(self.fresh)} start{'s' * (len(self.fresh) == 1)} fresh: {_first(self.fresh, 4)}"
        )


def layer_types(graph, source) -> dict[str, str]:
    """Module path -> layer type, for the layers of `graph` compiled as `source`."""
    return {attr: graph.nodes[node_id].type_id for node_id, attr in source.attr_names.items()}


def carry_over(
    model,
    old_state: Mapping,
    old_types: Mapping[str, str],
    new_types: Mapping[str, str],
) -> CarryReport:
    """Warm start: copy `old_state` into `model` for each layer whose name, type and every
    tensor's shape are unchanged; the other layers keep the fresh values they have."""
    import torch

    state = model.state_dict()
    by_layer: dict[str, list[str]] = {}
    for key in state:
        by_layer.setdefault(_layer(key), []).append(key)
    old_counts: dict[str, int] = {}
    for key in old_state:
        old_counts[_layer(key)] = old_counts.get(_layer(key), 0) + 1
    kept: list[str] = []
    fresh: list[str] = []
    for layer, keys in sorted(by_layer.items()):
        old_type = _owner_type(layer, old_types)
        same = (
            old_type is not None
            and old_type == _owner_type(layer, new_types)
            and old_counts.get(layer) == len(keys)
            and all(k in old_state and tuple(old_state[k].shape) == state[k].shape for k in keys)
        )
        (kept if same else fresh).append(layer)
        if same:
            with torch.no_grad():
                for k in keys:
                    state[k].copy_(old_state[k].to(state[k].dtype))
    return CarryReport(tuple(kept), tuple(fresh))


def warm_start_file(model, graph, source, path: str | os.PathLike) -> CarryReport:
    """Warm start from a weights file. The layer types come from the project saved beside it
    (a run folder holds one); without one, layers are matched by name and shapes only."""
    from designer.core.project import EXTENSION

    path = Path(path)
    old_state = read_state_dict(path)
    new_types = layer_types(graph, source)
    old_types = dict(new_types)
    beside = sorted(path.parent.glob(f"*{EXTENSION}"))
    if len(beside) == 1:
        from designer.core.compiler import build_model
        from designer.core.errors import NetcanvasError
        from designer.core.project_io import load_project

        try:
            old = load_project(beside[0])
            _, old_source = build_model(old.graph, old.name)
            old_types = layer_types(old.graph, old_source)
        except NetcanvasError:
            pass  # a broken or foreign project: fall back to names and shapes
    return carry_over(model, old_state, old_types, new_types)


def _layer(key: str) -> str:
    """conv1.weight -> conv1; layer1.0.bn1.running_mean -> layer1.0.bn1."""
    return key.rpartition(".")[0]


def _owner_type(layer: str, types: Mapping[str, str]) -> str | None:
    """The type of the node `layer` belongs to (out_proj of an attention: the attention's)."""
    path = layer
    while path not in types and "." in path:
        path = path.rpartition(".")[0]
    return types.get(path)


def _under(key: str, roots: tuple[str, ...]) -> bool:
    return any(not r or key == r or key.startswith(r + ".") for r in roots)


def _first(names, n: int = 2) -> str:
    names = list(names)
    return ", ".join(names[:n]) + (", …" if len(names) > n else "")


def _s(items) -> str:
    return "s" * (len(items) != 1)
