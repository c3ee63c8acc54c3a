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
