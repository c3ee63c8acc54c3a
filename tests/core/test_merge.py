"""An imported graph inserted into the current one: fresh ids, free names (blocks too, their
uses follow), one edit that reverts exactly, and the key mapping for the imported weights."""

from __future__ import annotations

from designer.core.analysis import analyze
from designer.core.merge import insertion
from designer.core.project_io import load_project
from tests.core.test_blocks import FORMAT3


def test_inserting_a_project_into_itself_renames_layers_and_blocks_and_reverts_exactly():
    graph = load_project(FORMAT3).graph
    before = graph.copy()
    imported = load_project(FORMAT3).graph
    edit = insertion(graph, imported, (0.0, 500.0))
    assert graph.same_as(before)  # nothing changes until applied
    edit.apply()
    assert list(graph.blocks) == ["Residual", "Residual2"]
    assert len(graph.nodes) == 2 * len(before.nodes)
    copies = {n.name: n for n in edit.nodes}
    assert copies["res3"].params["block"] == "Residual2"  # the uses follow the new definition
    assert copies["res3"].pos == (imported.by_name("res1").pos[0], 500.0)
    assert edit.renamed == {
        "features": "features2", "res1": "res3", "res2": "res4", "classes": "classes2",
        "output": "output2",
    }  # fmt: skip
    assert edit.prefixes["res1."] == "res3." and edit.prefixes["classes."] == "classes2."
    assert graph.blocks["Residual2"].same_as(imported.blocks["Residual"])
    assert not [d for d in analyze(graph).errors if d.node_id in copies]
    edit.revert()
    assert graph.same_as(before)
    edit.apply()  # redo
    assert len(graph.nodes) == 2 * len(before.nodes) and "Residual2" in graph.blocks
