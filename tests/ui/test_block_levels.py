"""Blocks open in place: the main canvas shows the definition, a breadcrumb leads back out,
the palette adds into it, every use follows its edits, and undo works across levels."""

from __future__ import annotations

from PySide6.QtCore import Qt

from designer.core.blockops import make_block
from designer.core.graph import Edge
from designer.core.project import Project
from designer.core.project_io import load_project
from tests.core.test_blocks import FORMAT3
from tests.ui import test_main_window as _main_window

make_window, window = _main_window.make_window, _main_window.window


def _shown(window, graph=None, name="mlp") -> None:
    window.files.set_project(Project(graph=graph or load_project(FORMAT3).graph, name=name))
    window.show()


def _double_click(qtbot, window, node_id: str) -> None:
    view = window.canvas
    item = view.canvas_scene.nodes[node_id]
    view.centerOn(item)
    pos = view.mapFromScene(item.sceneBoundingRect().center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)  # a double-click's press
    with qtbot.waitSignal(window.document.level_changed):
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def _cards(window) -> set[str]:
    return set(window.canvas.canvas_scene.nodes)


def test_double_click_opens_a_block_in_the_canvas_and_the_breadcrumb_goes_back_out(window, qtbot):
    _shown(window)
    doc = window.document
    assert window.breadcrumb.isHidden()  # nothing to go back to at the top level
    _double_click(qtbot, window, "n2")
    definition = doc.model_graph.blocks["Residual"]
    assert doc.path == ("n2",) and doc.graph is definition
    assert _cards(window) == set(definition.nodes)  # the canvas shows the definition
    assert window.breadcrumb.isVisible() and window.breadcrumb.text() == "mlp ▸ res1"
    assert "2 uses" in window.breadcrumb.hint.text()
    assert doc.analysis.shapes[definition.by_name("fc").id] == (8,)
    # The inspector, problems and summary follow the level shown.
    fc = definition.by_name("fc").id
    doc.select([fc])
    assert window.inspector.node_id == fc
    assert [r.node_id for r in _summary_rows(window)] == [n.id for n in definition.topological()]
    with qtbot.waitSignal(doc.level_changed):
        qtbot.mouseClick(window.breadcrumb.crumbs[0], Qt.MouseButton.LeftButton)
    assert doc.path == () and _cards(window) == {"n1", "n2", "n3", "n4", "n5"}
    assert doc.selection == ["n2"]  # the block we came out of
    assert window.breadcrumb.isHidden()


def _summary_rows(window):
    from designer.core.summary import summarize

    return summarize(window.document.graph, window.document.analysis).rows


def test_enter_the_context_menu_action_and_the_keys_go_in_and_out(window, qtbot):
    _shown(window)
    doc, view = window.document, window.canvas
    view.setFocus()
    doc.select(["n3"])
    with qtbot.waitSignal(doc.level_changed):
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert doc.path == ("n3",)
    with qtbot.waitSignal(doc.level_changed):
        qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert doc.path == ()
    assert window.blocks.open_action in view.node_actions  # on the right-click menu
    doc.select(["n2"])
    assert window.blocks.open_action.isEnabled()
    window.blocks.open_action.trigger()
    assert doc.path == ("n2",)
    with qtbot.waitSignal(doc.level_changed):
        qtbot.keyClick(view, Qt.Key.Key_Backspace)  # nothing selected: back out, delete nothing
    assert doc.path == () and len(doc.graph.blocks["Residual"].nodes) == 5
    doc.open_block("n2")
    assert window.up_action.isEnabled() and window.up_action.shortcut().toString() == "Alt+Up"
    window.up_action.trigger()
    assert doc.path == () and not window.up_action.isEnabled()
    doc.select(["n4"])  # a layer, not a block: Enter does not open it
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert doc.path == ()


def test_an_edit_inside_changes_every_use_and_the_parent_shows_it(window, qtbot):
    _shown(window)
    doc = window.document
    doc.open_block("n2")
    definition = doc.graph
    fc = definition.by_name("fc").id
    doc.select([fc])
    with qtbot.waitSignal(doc.analysis_changed):
        assert doc.set_param(fc, "out_features", 5) is None
    # Inside, the add gets 8 and 5 features: the error is on the card that has it.
    assert [d.node_id for d in doc.analysis.errors] == [definition.by_name("skip").id]
    assert not doc.model_analysis.ok and "2 errors" not in window.summary_label.text()
    assert window.summary_label.text() == doc.model_analysis.summary()
    # The palette adds into the definition, after the selected layer.
    with qtbot.waitSignal(doc.analysis_changed):
        window.palette_widget.add_requested.emit("dropout")
    (new,) = set(definition.nodes) - {"n1", "n2", "n3", "n4", "n5"}
    assert doc.model_graph.nodes.keys() == {"n1", "n2", "n3", "n4", "n5"}
    assert definition.nodes[new].type_id == "dropout" and new in _cards(window)
    doc.go_up()
    assert {d.node_id for d in doc.analysis.errors} == {"n2"}  # the first use fails
    assert "inside block 'Residual'" in doc.analysis.errors[0].message
    problems = window.problems
    assert any("inside block" in problems.list.item(i).text() for i in range(problems.list.count()))
    # Both uses share the definition: the second one's definition is the edited one.
    assert doc.model_graph.nodes["n3"].params["block"] == "Residual"


def test_undo_and_redo_work_from_inside_and_from_outside(window, qtbot):
    _shown(window)
    doc = window.document
    before = doc.model_graph.copy()
    doc.open_block("n2")
    fc = doc.graph.by_name("fc").id
    doc.set_param(fc, "out_features", 5)
    after = doc.model_graph.copy()
    assert window.undo_action.text() == "Undo Change fc.out_features"
    doc.undo()  # inside
    assert doc.model_graph.same_as(before) and doc.path == ("n2",)
    doc.redo()
    assert doc.model_graph.same_as(after)
    doc.go_up()
    with qtbot.waitSignal(doc.level_changed):
        doc.undo()  # outside: the level it was made at is shown, with the change undone
    assert doc.path == ("n2",) and doc.model_graph.same_as(before)
    assert window.canvas.canvas_scene.nodes[fc].isVisible()
    doc.go_up()
    with qtbot.waitSignal(doc.level_changed):
        doc.redo()
    assert doc.path == ("n2",) and doc.model_graph.same_as(after)
    # An edit at the top level undoes there.
    doc.go_up()
    doc.rename("n4", "head")
    doc.open_block("n3")
    with qtbot.waitSignal(doc.level_changed):
        doc.undo()
    assert doc.path == () and doc.graph.nodes["n4"].name == "classes"


def test_make_block_inside_a_block_nests_and_opens_level_by_level(window, qtbot):
    _shown(window)
    doc = window.document
    doc.open_block("n2")
    fc, act = doc.graph.by_name("fc").id, doc.graph.by_name("act").id
    doc.select([fc, act])
    assert window.blocks.make_block("dense")
    (inner_use,) = [n.id for n in doc.graph.nodes.values() if n.spec.is_block]
    assert doc.path == ("n2",) and doc.model_analysis.ok
    assert doc.analysis.shapes[inner_use] == (8,)
    _double_click(qtbot, window, inner_use)
    assert doc.path == ("n2", inner_use)
    assert window.breadcrumb.text() == "mlp ▸ res1 ▸ dense"
    assert doc.graph is doc.model_graph.blocks["Dense"]
    assert {n.type_id for n in doc.graph.nodes.values()} == {"input", "linear", "relu", "output"}
    with qtbot.waitSignal(doc.level_changed):
        qtbot.mouseClick(window.breadcrumb.crumbs[1], Qt.MouseButton.LeftButton)
    assert doc.path == ("n2",) and doc.selection == [inner_use]
    # Undoing the make block from the top level shows where it was made, then the block is gone.
    doc.go_to(0)
    doc.undo()
    assert doc.path == ("n2",) and "Dense" not in doc.model_graph.blocks
    assert {doc.graph.nodes[i].name for i in _cards(window)} == {"x", "fc", "act", "skip", "out"}


def test_a_level_whose_block_goes_away_falls_back_to_the_level_above(window, qtbot):
    _shown(window)
    doc = window.document
    doc.open_block("n3")
    assert window.blocks.make_unique("n3") is False  # not a node of the level shown
    doc.go_up()
    doc.open_block("n3")
    doc.go_up()
    doc.select(["n3"])
    assert window.blocks.make_unique()
    doc.open_block("n3")
    assert doc.graph is doc.model_graph.blocks["Residual2"]
    assert "1 use:" in window.breadcrumb.hint.text()
    with qtbot.waitSignal(doc.level_changed):
        doc.undo()  # make unique, made at the top: shown there
    assert doc.path == ()
    doc.open_block("n3")
    doc.model_graph.remove_node("n3")  # e.g. a script or a restore: the use is gone
    qtbot.waitUntil(lambda: doc.path == ())
    assert _cards(window) == {"n1", "n2", "n4", "n5"}


def test_save_and_load_while_inside_a_block(window, qtbot, tmp_path):
    _shown(window)
    doc = window.document
    doc.open_block("n2")
    fc = doc.graph.by_name("fc").id
    doc.set_param(fc, "out_features", 6)
    path = tmp_path / "inside.netcanvas"
    assert window.save_to(path)
    assert doc.path == ("n2",) and not doc.is_modified()  # saving keeps you where you are
    saved = load_project(path)
    assert saved.graph.blocks["Residual"].nodes[fc].params["out_features"] == 6
    assert saved.graph.same_as(doc.model_graph)
    doc.set_param(fc, "out_features", 8)
    window.ask_save_changes = lambda: _main_window.Answer.Discard
    assert window.open_path(path)
    assert doc.path == () and window.breadcrumb.isHidden()
    assert doc.model_graph.blocks["Residual"].nodes[fc].params["out_features"] == 6
    assert _cards(window) == {"n1", "n2", "n3", "n4", "n5"}


def test_copy_inside_a_block_carries_the_blocks_it_uses(window):
    _shown(window)
    doc = window.document
    g = doc.model_graph
    edit = make_block(g, g.blocks["Residual"], [g.blocks["Residual"].by_name("act").id], "Act")
    edit.apply()
    doc.open_block("n2")
    use = next(n.id for n in doc.graph.nodes.values() if n.spec.is_block)
    data = doc.copy([use])
    assert [b["name"] for b in data["blocks"]] == ["Act"]


def test_frames_are_kept_to_the_top_level(window):
    _shown(window)
    doc = window.document
    doc.select(["n4"])
    assert doc.frame_selection("head") is not None
    doc.open_block("n2")
    assert not window.canvas.canvas_scene.notes  # the top level's frame is not drawn inside
    doc.select([doc.graph.by_name("fc").id])
    assert doc.frame_selection("inner") is None
    doc.go_up()
    assert len(window.canvas.canvas_scene.notes) == 1


def test_imported_nested_model_opens_level_by_level(window, qtbot, tmp_path):
    path = tmp_path / "nested.py"
    path.write_text(
        "from torch import nn\n\n\nclass Basic(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.fc = nn.Linear(4, 4)\n        self.act = nn.ReLU()\n\n"
        "    def forward(self, x):\n        return x + self.act(self.fc(x))\n\n\n"
        "def make():\n    return nn.Sequential(nn.Linear(4, 4), nn.Sequential(Basic(), Basic()),"
        " nn.Linear(4, 2))\n",
        "utf-8",
    )
    assert window.blocks.import_model(f"{path}:make", (4,))
    window.show()
    doc = window.document
    stage = next(n.id for n in doc.graph.nodes.values() if n.spec.is_block)
    _double_click(qtbot, window, stage)
    first = next(n for n in doc.graph.nodes.values() if n.spec.is_block)
    _double_click(qtbot, window, first.id)
    assert window.breadcrumb.text() == f"make ▸ {doc.levels()[1][0]} ▸ {first.name}"
    assert doc.graph is doc.model_graph.blocks["Basic"] and doc.analysis.ok
    assert doc.analysis.shapes[doc.graph.by_name("fc").id] == (4,)
    doc.go_up()
    assert doc.path == (stage,) and doc.selection == [first.id]


def test_an_edge_edit_inside_is_one_undo_step(window):
    _shown(window)
    doc = window.document
    doc.open_block("n2")
    g = doc.graph
    before = doc.model_graph.copy()
    edge = Edge(g.by_name("act").id, g.by_name("skip").id, "y", "in2")
    assert doc.disconnect([edge]) is None
    assert edge not in g.edges
    doc.undo()
    assert doc.model_graph.same_as(before)
