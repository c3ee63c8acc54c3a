"""Layer facts live on the spec (ranks, dtypes, role, pass-through), and the core reads them
there: a new layer declares them once, and no module outside core/layers/ names a layer type."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from designer.core.analysis import analyze
from designer.core.errors import ShapeError
from designer.core.layers import registry
from designer.core.layers.common import expect_spatial, one_input
from designer.core.layers.spec import MAX_RANK, InputSpec, LayerSpec, ModuleCode
from tests.core.helpers import chain

DESIGNER = Path(__file__).resolve().parents[2] / "designer"
# Content, not logic: the example projects, the migrations of old type ids, and the import
# mapping (a table from torch modules to layer types, which names both by nature).
# Tables whose content is layer types: what each torch module, function or aten op becomes.
CONTENT_MODULES = {
    "core/examples.py",
    "core/migrations.py",
    "core/importer/mapping.py",
    "core/importer/aten.py",
}
TYPE_ID_NAMES = {"type_id", "tid", "kind"}  # what code calls a layer type in a comparison


def volume_layer(**facts) -> LayerSpec:
    """A 3-D layer declared only by its facts: its rule never checks the rank itself."""
    return LayerSpec(
        type_id="test_volume",
        title="Volume",
        category="Test",
        doc="",
        params=(),
        infer=lambda params, in_shapes: one_input(in_shapes)[:1],
        emit=lambda params, in_shapes: ModuleCode(None, lambda m, xs: xs[0]),
        **facts,
    )


def test_a_declared_rank_is_enforced_with_the_vocabulary_up_to_volumes():
    spec = volume_layer(accepts=InputSpec(ranks=(4,)))
    assert spec.output_shape({}, [(2, 4, 8, 8)]) == (2,)
    with pytest.raises(ShapeError) as err:
        spec.output_shape({}, [(3, 8, 8)])
    assert str(err.value) == "expects volumes (N×C×D×H×W) but gets images N×3×8×8."


def test_ranks_beyond_five_with_the_batch_are_refused_when_declared():
    assert MAX_RANK == 5
    with pytest.raises(ValueError, match="ranks"):
        InputSpec(ranks=(5,))


def test_a_layers_own_message_wins_over_the_generic_one():
    conv = registry.get("conv2d")
    with pytest.raises(ShapeError) as err:
        conv.output_shape(conv.defaults(), [(64,)])
    assert "Reshape to N×1×8×8" in str(err.value)  # conv's quick fix, not the generic text
    assert err.value.fix is not None


def test_a_3d_layer_is_told_to_use_a_volume_input():
    with pytest.raises(ShapeError) as err:
        expect_spatial((8, 8, 8), 3)
    assert "Set the Input shape to C×D×H×W" in str(err.value)
    assert err.value.fix.params["target"] == (1, 8, 8, 8)


@pytest.mark.parametrize("spec", [s for s in registry.all_specs() if s.accepts.ranks])
def test_every_declared_rank_set_is_what_the_layer_takes(spec):
    params = spec.check_params({})
    n = len(spec.input_ports(params))
    for rank in range(1, MAX_RANK):
        shape = (4,) * rank
        if rank in spec.accepts.ranks:
            continue
        with pytest.raises(ShapeError):
            spec.output_shape(params, [shape] * n)


def test_dtypes_flow_from_the_spec():
    tokens = chain(("embedding", {"num_embeddings": 10}), ("flatten", {}), input_shape=(5,))
    tokens.set_param(tokens.by_name("input").id, "dtype", "int64")
    assert analyze(tokens).ok

    ids_into_linear = chain(("flatten", {}), ("linear", {"out_features": 2}), input_shape=(5,))
    ids_into_linear.set_param(ids_into_linear.by_name("input").id, "dtype", "int64")
    (diag,) = analyze(ids_into_linear).errors
    assert diag.node_id == ids_into_linear.by_name("linear2").id
    assert "gets integer token ids. Insert an Embedding before it." in diag.message

    floats_into_embedding = chain(("embedding", {"num_embeddings": 10}), input_shape=(5,))
    (diag,) = analyze(floats_into_embedding).errors
    assert "Set the Input's dtype to int64" in diag.message


def test_the_graph_ends_are_roles_on_the_spec():
    roles = {s.type_id: s.role for s in registry.all_specs() if s.role != "layer"}
    assert sorted(roles.values()) == ["block", "input", "output"]
    assert all(s.role == "layer" for s in registry.all_specs() if s.type_id not in roles)


def _is_type_id(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr in TYPE_ID_NAMES
    return isinstance(node, ast.Name) and node.id in TYPE_ID_NAMES


def _type_id_literals(tree: ast.AST, type_ids: set[str]) -> list[str]:
    """Layer type ids as string constants: compared with a `type_id` (or `kind`), or listed
    two or more together in a literal collection."""
    found: set[tuple[int, int, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
            if not any(_is_type_id(p) for p in parts):
                continue
        elif isinstance(node, ast.Set | ast.Tuple | ast.List):
            parts = list(node.elts)
            if len([p for p in parts if isinstance(p, ast.Constant) and p.value in type_ids]) < 2:
                continue
        else:
            continue
        for part in parts:
            elts = part.elts if isinstance(part, ast.Set | ast.Tuple | ast.List) else [part]
            for e in elts:
                if isinstance(e, ast.Constant) and e.value in type_ids:
                    found.add((e.lineno, e.col_offset, e.value))
    return [f"line {line}: {value!r}" for line, _, value in sorted(found)]


def test_no_module_outside_the_layers_package_names_a_layer_type():
    type_ids = {s.type_id for s in registry.all_specs()}
    offenders = {}
    for path in sorted(DESIGNER.rglob("*.py")):
        rel = path.relative_to(DESIGNER).as_posix()
        if rel.startswith("core/layers/") or rel in CONTENT_MODULES:
            continue
        hits = _type_id_literals(ast.parse(path.read_text(encoding="utf-8")), type_ids)
        if hits:
            offenders[rel] = hits
    assert not offenders, offenders


def test_the_check_above_can_fail():
    tree = ast.parse(
        'if node.type_id in ("input", "output"):\n    pass\nx = type_id == "linear"\n'
        'y = node.op == "output"\nLIST = ("relu", "tanh")'
    )
    found = _type_id_literals(tree, {"input", "output", "linear", "relu", "tanh"})
    assert found == [
        "line 1: 'input'",
        "line 1: 'output'",
        "line 3: 'linear'",
        "line 5: 'relu'",
        "line 5: 'tanh'",
    ]  # torch.fx's node.op == "output" (line 4) is no layer type
