"""The layer registry: type ids (and legacy ids) to specs, in palette order."""

from __future__ import annotations

from designer.core.layers.spec import LayerSpec

_SPECS: dict[str, LayerSpec] = {}
_ALIASES: dict[str, str] = {}

# Palette order of categories; unknown categories sort last.
CATEGORIES = (
    "Input/Output",
    "Core",
    "Convolution",
    "Pooling",
    "Normalization",
    "Activation",
    "Recurrent",
    "Attention",
    "Resampling",
    "Merge",
    "Block",
)


def register(spec: LayerSpec) -> LayerSpec:
    """Add a spec. A type id or legacy id that is already taken is an error."""
    for key in (spec.type_id, *spec.legacy_ids):
        if key in _SPECS or key in _ALIASES:
            raise ValueError(f"layer type id {key!r} is already registered")
    for support in spec.support:
        for other in _SPECS.values():
            if any(o.name == support.name and o != support for o in other.support):
                raise ValueError(f"support class {support.name!r} is already {other.type_id}'s")
    _SPECS[spec.type_id] = spec
    for old in spec.legacy_ids:
        _ALIASES[old] = spec.type_id
    return spec


def resolve(type_id: str) -> str:
    """The current id for `type_id`, following legacy ids."""
    return _ALIASES.get(type_id, type_id)


def get(type_id: str) -> LayerSpec:
    """The spec for `type_id` (or one of its legacy ids). KeyError if unknown."""
    return _SPECS[resolve(type_id)]


def has(type_id: str) -> bool:
    return resolve(type_id) in _SPECS


def all_specs() -> list[LayerSpec]:
    """Every spec, grouped by palette category, in registration order within a category."""
    rank = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(_SPECS.values(), key=lambda s: rank.get(s.category, len(rank)))


def palette_specs() -> list[LayerSpec]:
    """The specs a user can drop from the palette: all but the block node (made by Make block)."""
    return [s for s in all_specs() if not s.is_block]
