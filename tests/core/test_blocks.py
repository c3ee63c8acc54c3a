"""Reusable blocks in the core: shapes through definitions, linked edits, save/load."""

from __future__ import annotations

from pathlib import Path

from designer.core.analysis import analyze
from designer.core.graph import Edge
from designer.core.project_io import load_project, project_from_dict, project_to_dict
from tests.core.helpers import assert_ruff_clean

FORMAT3 = Path(__file__).parent.parent / "data" / "format3.netcanvas"


def test_block_uses_take_shape_and_parameters_from_their_definition():
    g = load_project(FORMAT3).graph
    a = analyze(g)
    assert a.ok, a.diagnostics
    assert a.shapes["n2"] == a.shapes["n3"] == (8,)
    assert a.costs["n2"][0] == a.costs["n3"][0] == 8 * 8 + 8  # each use its own weights
    assert a.total_params == 2 * 72 + 8 * 3 + 3


def test_editing_a_definition_changes_every_use_and_bumps_the_revision():
    g = load_project(FORMAT3).graph
    before = g.revision
    inner = g.blocks["Residual"]
    fc = inner.by_name("fc")
    inner.set_param(fc.id, "out_features", 5)
    assert g.revision > before  # the top-level graph hears edits inside a definition
    a = analyze(g)
    assert not a.ok
    assert {d.node_id for d in a.errors} == {"n2"}  # first use fails; the second gets no input
    assert "inside block 'Residual'" in a.errors[0].message
    inner.set_param(fc.id, "out_features", 8)
    assert analyze(g).ok


def test_a_block_that_contains_itself_is_an_error_not_a_hang():
    g = load_project(FORMAT3).graph
    inner = g.blocks["Residual"]
    act = inner.by_name("act")
    inner.remove_node(act.id)
    inner.add_node("block", name="again", params={"block": "Residual"}, node_id=act.id)
    inner.connect(Edge(inner.by_name("fc").id, act.id, dst_port="in1"))
    inner.connect(Edge(act.id, inner.by_name("skip").id, dst_port="in2"))
    a = analyze(g)
    assert any("contains itself" in d.message for d in a.errors)


def test_blocks_survive_save_and_load():
    project = load_project(FORMAT3)
    again = project_from_dict(project_to_dict(project))
    assert again.graph.same_as(project.graph)


def test_export_has_one_class_per_definition_instantiated_per_use(tmp_path):
    import torch

    from designer.core.codegen import generate
    from designer.core.compiler import load_module

    source = generate(load_project(FORMAT3).graph, "residual mlp")
    assert source.text.count("class Residual(nn.Module):") == 1
    assert "self.res1 = Residual(8)" in source.text and "self.res2 = Residual(8)" in source.text
    model = load_module(source).make_model()
    assert list(model.state_dict())[:4] == [
        "res1.fc.weight", "res1.fc.bias", "res2.fc.weight", "res2.fc.bias",
    ]  # fmt: skip
    assert model(torch.zeros(2, 8)).shape == (2, 3)
    path = tmp_path / "model.py"
    path.write_text(source.text, "utf-8")
    assert_ruff_clean(path)


# -- make block, make unique: each an edit that applies and reverts exactly -------------------
def _residual_mlp():
    """Input -> fc1 -> relu1 -> add(input, relu1) -> fc2 -> Output (a skip around two layers)."""
    from designer.core.graph import Graph

    g = Graph()
    x = g.add_node("input", name="input", params={"shape": (8,)})
    fc1 = g.add_node("linear", name="fc1", params={"out_features": 8}, pos=(200.0, 0.0))
    act = g.add_node("relu", name="relu1", pos=(400.0, 0.0))
    add = g.add_node("add", name="skip", pos=(600.0, 0.0))
    fc2 = g.add_node("linear", name="fc2", params={"out_features": 3}, pos=(800.0, 0.0))
    out = g.add_node("output", name="output", pos=(1000.0, 0.0))
    for e in [
        Edge(x.id, fc1.id),
        Edge(fc1.id, act.id),
        Edge(x.id, add.id, dst_port="in1"),
        Edge(act.id, add.id, dst_port="in2"),
        Edge(add.id, fc2.id),
        Edge(fc2.id, out.id),
    ]:
        g.connect(e)
    return g, [fc1.id, act.id, add.id]


def test_make_block_keeps_the_model_and_reverts_exactly():
    from designer.core.blockops import make_block

    g, chosen = _residual_mlp()
    before, params = g.copy(), analyze(g).total_params
    edit = make_block(g, g, chosen, "residual")
    edit.apply()
    assert list(g.blocks) == ["Residual"]
    uses = g.block_uses("Residual")
    assert len(uses) == 1 and not (set(chosen) & set(g.nodes))
    a = analyze(g)
    assert a.ok and a.total_params == params  # same layers, now inside the block
    assert [n.name for n in g.blocks["Residual"].ends("input")] == ["x"]
    edit.revert()
    assert g.same_as(before)
    edit.apply()  # redo
    assert analyze(g).ok and "Residual" in g.blocks


def test_make_block_refuses_a_selection_with_two_outputs():
    import pytest

    from designer.core.blockops import make_block
    from designer.core.errors import GraphError

    g, (fc1, _act, add) = _residual_mlp()
    with pytest.raises(GraphError, match=r"one output.*sends 2"):
        make_block(g, g, [fc1, add], "b")  # fc1 feeds relu1 and the add feeds fc2
    with pytest.raises(GraphError, match="Input or Output"):
        make_block(g, g, [next(iter(g.nodes))], "b")


def test_make_unique_detaches_one_use_and_reverts():
    from designer.core.blockops import make_unique

    g = load_project(FORMAT3).graph
    before = g.copy()
    edit = make_unique(g, g, "n3")
    edit.apply()
    assert g.nodes["n3"].params["block"] == "Residual2"
    copy = g.blocks["Residual2"]
    copy.set_param(copy.by_name("fc").id, "out_features", 8)  # same size: still valid
    copy.remove_node(copy.by_name("act").id)
    copy.connect(Edge(copy.by_name("fc").id, copy.by_name("skip").id, dst_port="in2"))
    a = analyze(g)
    assert a.ok
    assert len(g.blocks["Residual"].nodes) == 5 and len(copy.nodes) == 4  # the first use kept
    assert project_from_dict(project_to_dict(_project(g))).graph.same_as(g)  # save/load
    edit.revert()
    assert g.nodes["n3"].params["block"] == "Residual" and "Residual2" not in g.blocks
    assert g.same_as(before)


def _project(graph):
    from designer.core.project import Project

    return Project(graph=graph, name="p")


def test_a_level_is_analysed_with_the_shapes_its_use_receives():
    from designer.core.blockops import analyze_level, resolve

    g = load_project(FORMAT3).graph
    inner = g.blocks["Residual"]
    inp = inner.ends("input")[0]
    inner.set_param(inp.id, "shape", (3,))  # stale: the uses feed it 8 features
    assert [s.name for s in resolve(g, ("n2",))] == ["Residual"]
    level = analyze_level(g, ("n2",))
    assert level.ok and level.shapes[inner.by_name("fc").id] == (8,)
    assert resolve(g, ("n4",)) == [] and resolve(g, ("n2", "n9")) == resolve(g, ("n2",))
    assert analyze_level(g, ("gone",)).shapes == analyze(g).shapes  # the top level


def test_make_unique_numbers_a_definition_ending_in_a_digit_with_a_separator(tmp_path):
    """ResidualV2's copies are ResidualV2_2, ResidualV2_3 (not ResidualV3, a version);
    Residual's stay Residual2, Residual3; old names load as they were (names are data)."""
    import json

    from designer.core.blockops import make_unique
    from designer.core.codegen import generate

    data = json.loads(FORMAT3.read_text("utf-8").replace('"Residual"', '"ResidualV2"'))
    g = project_from_dict(data).graph
    assert set(g.blocks) == {"ResidualV2"}
    make_unique(g, g, "n3").apply()
    make_unique(g, g, "n2").apply()
    assert sorted(g.blocks) == ["ResidualV2", "ResidualV2_2", "ResidualV2_3"]
    again = load_project(FORMAT3).graph
    make_unique(again, again, "n3").apply()
    make_unique(again, again, "n2").apply()
    assert sorted(again.blocks) == ["Residual", "Residual2", "Residual3"]
    text = generate(g, "p").text
    assert "class ResidualV2_2(nn.Module):" in text and "class ResidualV2_3(nn.Module):" in text
    path = tmp_path / "p.py"
    path.write_text(text, "utf-8")
    assert_ruff_clean(path)
