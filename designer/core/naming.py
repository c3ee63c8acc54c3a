"""One namespace that turns user names into safe, unique Python identifiers.

User-supplied names reach generated code only through `Namespace.claim`: the result is ASCII,
a valid identifier, not a keyword or builtin, not an `nn.Module` attribute, never starts with
an underscore, and is unique within the namespace.
"""

from __future__ import annotations

import builtins
import itertools
import keyword
import re
import unicodedata
from collections.abc import Container

MAX_LENGTH = 32

# Public attributes of torch.nn.Module (as of torch 2.x). A submodule named `forward` or `to`
# would shadow the method. tests/core/test_codegen.py checks this list against installed torch.
MODULE_ATTRS = frozenset(
    """T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda
    double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
    get_submodule half ipu load_state_dict modules mtia named_buffers named_children named_modules
    named_parameters parameters register_backward_hook register_buffer register_forward_hook
    register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook
    register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
    register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_
    set_extra_state set_submodule share_memory state_dict to to_empty train training type xpu
    zero_grad""".split()
)

# Names the generated module itself uses.
GENERATED = frozenset({"self", "torch", "nn", "x", "out", "model", "make_model"})

RESERVED = (
    frozenset(keyword.kwlist)
    | frozenset(keyword.softkwlist)
    | frozenset(dir(builtins))
    | MODULE_ATTRS
    | GENERATED
)


def sanitize(name: str, fallback: str = "layer") -> str:
    """A valid, non-reserved identifier that resembles `name` (not yet unique)."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_")
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()  # camelCase -> camel_case
    text = text[:MAX_LENGTH].rstrip("_")
    if not text:
        text = fallback
    if text[0].isdigit():
        text = f"{fallback}_{text}"[:MAX_LENGTH]
    if text in RESERVED:
        text += "_"
    return text


def class_name(name: str, fallback: str = "Net") -> str:
    """A CamelCase class name from a project name: "iris mlp" -> "IrisMlp"."""
    words = [w for w in sanitize(name, fallback=fallback).split("_") if w]
    text = "".join(
        ("_" if i and words[i - 1][-1].isdigit() and w[0].isdigit() else "") + w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    )  # "SwinTransformerBlockV2_2" keeps its separator: V22 would be another name
    if not text or not text[0].isalpha() or text in RESERVED:
        text = fallback
    return text[:MAX_LENGTH]


def numbered(stem: str, i: int) -> str:
    """Variant `i` of `stem`: BasicBlock2, but SwinTransformerBlockV2_2 (SwinTransformerBlockV3
    would read as another version, SwinTransformerBlockV22 as version 22)."""
    return f"{stem}_{i}" if stem[-1:].isdigit() else f"{stem}{i}"


def unique_variant(base: str, taken: Container[str]) -> str:
    """`base` if free, else the next free variant of the name it is numbered from: BasicBlock ->
    BasicBlock2, BasicBlock3; SwinTransformerBlockV2 -> SwinTransformerBlockV2_2, _3. The
    digits ending a name are its number only where the name without them is taken too
    (BasicBlock2 of BasicBlock); otherwise they are part of the name (the V2 of a class)."""
    if base not in taken:
        return base
    stem = base
    separated = re.fullmatch(r"(.*\d)_\d+", base)
    if separated:
        stem = separated[1]
    elif (bare := re.sub(r"\d+$", "", base)) and bare != base and bare in taken:
        stem = bare
    for i in itertools.count(2):
        name = numbered(stem, i)
        if name not in taken:
            return name
    raise AssertionError("unreachable")


class Namespace:
    """Hands out unique identifiers: `claim("fc 1")` -> "fc_1", again -> "fc_1_2"."""

    def __init__(self, taken: set[str] | frozenset[str] = frozenset()) -> None:
        self._taken: set[str] = set(taken)

    def claim(self, name: str, fallback: str = "layer") -> str:
        base = sanitize(name, fallback)
        ident, i = base, 2
        while ident in self._taken or ident in RESERVED:
            suffix = f"_{i}"
            ident = base[: MAX_LENGTH - len(suffix)] + suffix
            i += 1
        self._taken.add(ident)
        return ident
