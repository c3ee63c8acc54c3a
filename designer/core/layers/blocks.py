"""The block node: one use of a named block definition (a subgraph kept in Graph.blocks).

Its shape, cost and code come from the definition, so shapes.py and codegen.py handle it
themselves (role "block"); the spec only carries the parameters and the ports.
"""

from __future__ import annotations

from designer.core.errors import ShapeError
from designer.core.layers.registry import register
from designer.core.layers.spec import LayerSpec, ParamSpec

MAX_BLOCK_INPUTS = 64


def _from_definition(params, in_shapes):
    raise ShapeError(f"is a use of block {params['block']!r}; its definition gives its shape")


BLOCK = register(
    LayerSpec(
        type_id="block",
        title="Block",
        category="Block",
        doc="A use of a reusable block: a named group of layers, defined once, used many times.",
        params=(
            ParamSpec("block", str, "", "Name of the block definition this node uses"),
            ParamSpec(
                "num_inputs",
                int,
                1,
                "How many inputs the definition takes",
                minimum=1,
                maximum=MAX_BLOCK_INPUTS,
            ),
        ),
        infer=_from_definition,
        emit=_from_definition,
        variadic=True,
        key_params=("block",),
        role="block",
    )
)
