"""The canvas follows the document: drops, wiring with the mouse, badges, labels and moves."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from designer.core.graph import Edge
from designer.core.layers.spec import format_shape
from designer.ui.canvas.view import MIME_TYPE, CanvasView
from designer.ui.document import Document
from designer.ui.palette import Palette


@pytest.fixture
def view(qtbot):
    doc = Document()
    view = CanvasView(doc)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    qtbot.waitExposed(view)
    view.centerOn(300, 30)
    return view


def chain(doc: Document, shape=(4,)):
    i = doc.add_node("input", (0, 0), params={"shape": shape})
    fc = doc.add_node("linear", (240, 0))
    o = doc.add_node("output", (480, 0))
    doc.connect(Edge(i, fc))
    doc.connect(Edge(fc, o))
    return i, fc, o


def at(view: CanvasView, scene_point: QPointF) -> QPoint:
    return view.mapFromScene(scene_point)


def drag(qtbot, view: CanvasView, a: QPointF, b: QPointF) -> None:
    """Press at scene point `a`, move in steps, release at `b` (real mouse events)."""
    vp = view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=at(view, a))
    for k in range(1, 6):
        p = a + (b - a) * (k / 5)
        qtbot.mouseMove(vp, at(view, p))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=at(view, b))


def port_pos(view, node_id, name, output):
    return view.canvas_scene.nodes[node_id].port(name, output).scenePos()


def send_drop(view: CanvasView, mime, scene_point: QPointF) -> bool:
    """What a real drag delivers: DragEnter, then Drop (QDrag.exec itself would block)."""
    pos = at(view, scene_point)
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(pos, *args)
    QApplication.sendEvent(view.viewport(), enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(view.viewport(), QDropEvent(QPointF(pos), *args))
    return True


def test_drop_from_palette_adds_node_at_drop_position(view):
    target = QPointF(200, 100)
    assert send_drop(view, Palette.mime_for("linear"), target)
    (node,) = view.document.graph.nodes.values()
    assert node.type_id == "linear"
    item = view.canvas_scene.nodes[node.id]
    assert item.sceneBoundingRect().contains(target)  # the card lands under the cursor
    assert node.pos[0] % 20 == 0 and node.pos[1] % 20 == 0  # snapped to the grid
    assert view.document.undo_stack.undoText() == "Add Linear"
    assert view.document.selection == [node.id]


def test_drop_with_foreign_mime_is_refused(view):
    mime = Palette.mime_for("linear")
    mime.removeFormat(MIME_TYPE)
    assert not send_drop(view, mime, QPointF(100, 100))
    assert view.document.graph.nodes == {}


def test_mouse_drag_between_ports_connects(view, qtbot):
    doc = view.document
    i = doc.add_node("input", (0, 0))
    fc = doc.add_node("linear", (240, 0))
    drag(qtbot, view, port_pos(view, i, "y", True), port_pos(view, fc, "x", False))
    assert doc.graph.edges == [Edge(i, fc)]
    assert Edge(i, fc) in view.canvas_scene.edges
    # And from an input back to an output works too.
    o = doc.add_node("output", (480, 0))
    drag(qtbot, view, port_pos(view, o, "x", False), port_pos(view, fc, "y", True))
    assert Edge(fc, o) in doc.graph.edges


def test_output_to_output_is_refused_with_reason(view, qtbot):
    doc = view.document
    i = doc.add_node("input", (0, 0))
    fc = doc.add_node("linear", (240, 0))
    before = doc.graph.copy()
    with qtbot.waitSignal(view.canvas_scene.message) as sig:
        drag(qtbot, view, port_pos(view, i, "y", True), port_pos(view, fc, "y", True))
    assert "two outputs can't be connected" in sig.args[0]
    assert doc.graph.same_as(before) and doc.undo_stack.count() == 2


def test_cycle_is_refused_with_reason(view, qtbot):
    doc = view.document
    i = doc.add_node("input", (0, 0))
    add = doc.add_node("add", (240, 0))
    relu = doc.add_node("relu", (480, 0))
    doc.connect(Edge(i, add, "y", "in1"))
    doc.connect(Edge(add, relu))
    before = doc.graph.copy()
    with qtbot.waitSignal(view.canvas_scene.message) as sig:
        drag(qtbot, view, port_pos(view, relu, "y", True), port_pos(view, add, "in2", False))
    assert sig.args == ["that connection would make a cycle"]
    assert doc.graph.same_as(before)


def test_dragging_off_a_connected_input_detaches_it(view, qtbot):
    doc = view.document
    i, fc, o = chain(doc)
    start = port_pos(view, fc, "x", False)
    drag(qtbot, view, start, start + QPointF(-60, 200))
    assert Edge(i, fc) not in doc.graph.edges
    assert doc.undo_stack.undoText() == "Disconnect input1 → linear1"
    doc.undo_stack.undo()
    assert Edge(i, fc) in doc.graph.edges and view.canvas_scene.edges[Edge(i, fc)].isVisible()


def test_edge_label_shows_inferred_shape(view):
    doc = view.document
    i, fc, o = chain(doc, shape=(3, 5))
    doc.set_param(fc, "out_features", 16)
    scene = view.canvas_scene
    assert scene.edges[Edge(i, fc)].label == format_shape(doc.analysis.shapes[i]) == "N×3×5"
    assert scene.edges[Edge(fc, o)].label == format_shape(doc.analysis.shapes[fc]) == "N×3×16"
    doc.set_param(fc, "out_features", 8)
    assert scene.edges[Edge(fc, o)].label == "N×3×8"


def test_badge_appears_and_goes_when_fixed(view):
    doc = view.document
    i, fc, o = chain(doc, shape=(1, 8, 8))
    card = view.canvas_scene.nodes[fc]
    assert card.badge.isVisible() and card.badge.severity == "error"
    assert "Flatten" in card.badge.toolTip()
    assert view.canvas_scene.edges[Edge(i, fc)].error  # red: the layer it feeds has an error
    (fix,) = [d.fix for d in doc.analysis.for_node(fc) if d.fix]
    count = doc.undo_stack.count()
    doc.apply_fix(fix)
    assert doc.undo_stack.count() == count + 1
    assert not card.badge.isVisible()
    flat = next(n.id for n in doc.graph.nodes.values() if n.type_id == "flatten")
    assert flat in view.canvas_scene.nodes
    assert view.canvas_scene.edges[Edge(flat, fc)].label == "N×64"
    doc.undo_stack.undo()
    assert card.badge.isVisible() and flat not in view.canvas_scene.nodes


def test_moving_a_node_pushes_one_command(view, qtbot):
    doc = view.document
    i, fc, o = chain(doc)
    card = view.canvas_scene.nodes[fc]
    count = doc.undo_stack.count()
    grab = card.mapToScene(QPointF(80, 10))
    drag(qtbot, view, grab, grab + QPointF(93, 61))
    assert doc.undo_stack.count() == count + 1
    assert doc.undo_stack.undoText() == "Move linear1"
    x, y = doc.graph.nodes[fc].pos
    assert (x, y) != (240.0, 0.0) and x % 20 == 0 and y % 20 == 0
    assert (card.pos().x(), card.pos().y()) == (x, y)
    edge = view.canvas_scene.edges[Edge(fc, o)]
    assert edge.shape().boundingRect().contains(card.port("y", True).scenePos())
    doc.undo_stack.undo()
    assert (card.pos().x(), card.pos().y()) == (240.0, 0.0)


def test_read_only_refuses_a_move_and_snaps_back(view, qtbot):
    doc = view.document
    i, fc, o = chain(doc)
    doc.set_read_only("Training is running")
    card = view.canvas_scene.nodes[fc]
    grab = card.mapToScene(QPointF(80, 10))
    with qtbot.waitSignal(view.canvas_scene.message):
        drag(qtbot, view, grab, grab + QPointF(120, 80))
    assert doc.graph.nodes[fc].pos == (240.0, 0.0)
    assert (card.pos().x(), card.pos().y()) == (240.0, 0.0)


def test_delete_key_removes_selected_layers_and_edges(view, qtbot):
    doc = view.document
    i, fc, o = chain(doc)
    doc.select([i])
    view.canvas_scene.edges[Edge(fc, o)].setSelected(True)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert set(doc.graph.nodes) == {fc, o} and doc.graph.edges == []
    assert doc.undo_stack.undoText() == "Delete 1 layer"
    doc.undo_stack.undo()
    assert len(doc.graph.edges) == 2 and len(view.canvas_scene.edges) == 2


def test_selection_syncs_both_ways(view):
    doc = view.document
    i, fc, o = chain(doc)
    doc.select([fc])
    assert view.canvas_scene.selected_node_ids() == [fc]
    view.canvas_scene.nodes[o].setSelected(True)
    assert set(doc.selection) == {fc, o}


def test_project_replaced_rebuilds_scene(view):
    from designer.core.project import Project

    doc = view.document
    chain(doc)
    other = Project()
    other.graph.add_node("relu", node_id="r")
    doc.set_project(other)
    assert set(view.canvas_scene.nodes) == {"r"} and view.canvas_scene.edges == {}
    doc.add_node("linear")
    assert len(view.canvas_scene.nodes) == 2


def test_zoom_and_fit(view):
    chain(view.document)
    view.zoom_by(2.0)
    assert view.zoom() == pytest.approx(2.0)
    view.zoom_by(1000)
    assert view.zoom() == pytest.approx(4.0)
    view.fit_to_view()
    rect = view.mapFromScene(view.canvas_scene.itemsBoundingRect()).boundingRect()
    assert view.viewport().rect().contains(rect)
    assert view.zoom() <= 1.0
