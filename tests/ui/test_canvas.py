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


# -- placement: a new layer never lands on another card ------------------------------------------
def overlapping(view: CanvasView) -> list[tuple[str, str]]:
    items = list(view.canvas_scene.nodes.values())
    rects = [(i.node_id, i.card_rect()) for i in items]
    return [
        (a, b) for k, (a, ra) in enumerate(rects) for b, rb in rects[k + 1 :] if ra.intersects(rb)
    ]


def layer_errors(doc):
    return [d for d in doc.analysis.errors if d.node_id is not None]


def test_fifty_double_clicks_chain_without_overlap(view):
    doc = view.document
    first = doc.add_node("input", (0, 0), params={"shape": (8,)})
    doc.select([first])
    palette = Palette()
    for _ in range(50):
        palette.add_requested.connect(view.add_after_selection)
        palette._activated(palette.layers["linear"], 0)
        palette.add_requested.disconnect(view.add_after_selection)
    assert len(doc.graph.nodes) == 51 and not overlapping(view)
    # each one was placed after the selected layer and wired in (the shapes allow it)
    assert len(doc.graph.edges) == 50 and not layer_errors(doc)


def test_double_click_after_a_layer_that_cannot_feed_it_places_it_unwired(view):
    doc = view.document
    first = doc.add_node("input", (0, 0), params={"shape": (8,)})
    doc.select([first])
    new = view.add_after_selection("conv2d")  # a vector can't feed a 2-D convolution
    assert new is not None and doc.graph.edges == [] and not overlapping(view)
    assert doc.graph.nodes[new].pos[1] > doc.graph.nodes[first].pos[1]  # but below it


def test_fifty_drops_on_one_spot_without_overlap(view):
    for _ in range(50):
        assert send_drop(view, Palette.mime_for("relu"), QPointF(100, 100))
    assert len(view.document.graph.nodes) == 50 and not overlapping(view)


def test_drop_on_an_edge_inserts_into_it(view):
    doc = view.document
    i, fc, o = chain(doc)
    edge = view.canvas_scene.edges[Edge(fc, o)]
    mid = edge.shape().pointAtPercent(0.5)
    mid = edge.mapToScene(edge.boundingRect().center()) if not edge.contains(mid) else mid
    assert send_drop(view, Palette.mime_for("relu"), mid)
    (relu,) = [n for n in doc.graph.nodes.values() if n.type_id == "relu"]
    assert Edge(fc, relu.id) in doc.graph.edges and Edge(relu.id, o) in doc.graph.edges
    assert Edge(fc, o) not in doc.graph.edges
    assert doc.undo_stack.undoText() == "Insert ReLU" and not overlapping(view)


def test_fifty_pastes_and_duplicates_without_overlap(view):
    doc = view.document
    i, fc, o = chain(doc)
    data = doc.copy([fc])
    for _ in range(25):
        assert doc.paste(data)
        assert doc.duplicate([i, fc])
    assert len(doc.graph.nodes) == 3 + 25 + 50 and not overlapping(view)


def test_fifty_quick_fixes_without_overlap(view):
    doc = view.document
    for k in range(50):
        i = doc.add_node("input", (0, k * 100), params={"shape": (1, 4, 4)})
        fc = doc.add_node("linear", (240, k * 100))
        doc.connect(Edge(i, fc))
    fixes = [d.fix for d in doc.analysis.errors if d.fix]
    assert len(fixes) == 50
    for fix in fixes:
        assert doc.apply_fix(fix) is None
    assert not layer_errors(doc) and not overlapping(view)


# -- navigation ---------------------------------------------------------------------------------
def test_tab_opens_the_layer_search_and_enter_places_the_match(view, qtbot):
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    popup = view.add_popup
    assert popup.isVisible()
    qtbot.keyClicks(popup.edit, "Batch")
    assert popup.shown_type_ids()[0].startswith("batch_norm")
    qtbot.keyClick(popup.edit, Qt.Key.Key_Return)
    (node,) = view.document.graph.nodes.values()
    assert node.type_id.startswith("batch_norm") and view.document.selection == [node.id]
    assert not popup.isVisible()


def test_double_click_on_empty_canvas_opens_the_layer_search_there(view, qtbot):
    target = QPointF(400, 300)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at(view, target))
    assert view.add_popup.isVisible()
    view.add_popup.edit.setText("dropout")
    qtbot.keyClick(view.add_popup.edit, Qt.Key.Key_Return)
    (node,) = view.document.graph.nodes.values()
    assert view.canvas_scene.nodes[node.id].sceneBoundingRect().contains(target)


def test_plus_on_an_output_offers_only_layers_that_take_its_shape(view, qtbot):
    doc = view.document
    i = doc.add_node("input", (0, 0), params={"shape": (8,)})
    doc.select([i])
    plus = view.canvas_scene.nodes[i].plus["y"]
    assert plus.isVisible()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at(view, plus.scenePos()))
    offered = view.add_popup.shown_type_ids()
    assert "linear" in offered and "relu" in offered
    assert "conv2d" not in offered and "max_pool2d" not in offered  # need C×H×W
    view.add_popup.edit.setText("Linear")
    qtbot.keyClick(view.add_popup.edit, Qt.Key.Key_Return)
    (fc,) = [n.id for n in doc.graph.nodes.values() if n.type_id == "linear"]
    assert Edge(i, fc) in doc.graph.edges and not overlapping(view)


def test_find_selects_and_shows_the_match(view, qtbot):
    doc = view.document
    ids = [doc.add_node("relu", (k * 300, 0)) for k in range(30)]
    doc.rename(ids[20], "the_one")
    view.open_find()
    assert view.find_bar.isVisible()
    qtbot.keyClicks(view.find_bar.edit, "the_one")
    assert doc.selection == [ids[20]]
    item = view.canvas_scene.nodes[ids[20]]
    assert (
        view.viewport().rect().contains(view.mapFromScene(item.sceneBoundingRect()).boundingRect())
    )
    view.find_bar.edit.setText("relu")  # by type: every match, Enter steps through them
    assert len(doc.selection) == 30
    qtbot.keyClick(view.find_bar.edit, Qt.Key.Key_Return)
    assert view.find_bar.count.text() == "2/30"


def test_minimap_shows_the_graph_and_a_click_moves_the_view(view, qtbot):
    doc = view.document
    for k in range(40):
        doc.add_node("relu", (k * 300, 0))
    view.set_minimap_visible(True)
    mini = view.minimap
    assert mini.isVisible() and not mini._pixmap.isNull()
    before = view.mapToScene(view.viewport().rect().center())
    qtbot.mouseClick(
        mini, Qt.MouseButton.LeftButton, pos=QPoint(mini.width() - 5, mini.height() // 2)
    )
    after = view.mapToScene(view.viewport().rect().center())
    assert after.x() > before.x() + 2000  # moved toward the right end of the graph
    view.set_minimap_visible(False)
    assert not mini.isVisible()


def test_cards_stay_readable_when_zoomed_out(view):
    doc = view.document
    i, fc, o = chain(doc)
    doc.rename(fc, "classifier.head_fc")
    item = view.canvas_scene.nodes[fc]
    for zoom in (1.0, 0.6, 0.4):
        assert item.name_pixel_size(zoom) * zoom >= 9.0  # the name alone, larger, when far out
    assert item.name_pixel_size(1.0) >= 11  # ≥ 11 px text at 100 %


def test_subtitle_wraps_between_parameters_never_inside_one():
    from PySide6.QtGui import QFont, QFontMetricsF

    from designer.ui.canvas.node_item import wrap_subtitle

    font = QFont()
    font.setPixelSize(12)
    fm = QFontMetricsF(font)
    parts = ["Conv2d", "out 128", "kernel 3×3", "stride 2"]
    text = wrap_subtitle(parts, 150, fm)
    lines = text.split("\n")
    assert 1 <= len(lines) <= 2 and all(fm.horizontalAdvance(t) <= 150 for t in lines)
    shown = [p for line in lines for p in line.split(" · ")]
    assert all(p in parts or p.startswith("+") for p in shown)  # whole parameters only
    assert shown[0] == "Conv2d"


def test_pooling_card_shows_its_kernel_and_only_a_stride_that_was_set():
    from designer.core.graph import Graph
    from designer.ui.canvas.node_item import key_param_text

    g = Graph()
    default = g.add_node("max_pool2d", name="pool", params={"kernel_size": 2})
    strided = g.add_node("max_pool2d", name="pool2", params={"kernel_size": 3, "stride": 2})
    assert key_param_text(default) == "kernel 2"  # stride 0 means "= kernel": not "stride 0"
    assert key_param_text(strided) == "kernel 3 · stride 2"


def test_a_block_card_names_its_definition_once():
    from designer.core.blockops import make_block
    from designer.ui.canvas.node_item import key_param_text
    from tests.core.helpers import chain

    g = chain(("linear", {"out_features": 4}), ("relu", {}))
    inner = [n.id for n in g.nodes.values() if n.type_id in ("linear", "relu")]
    make_block(g, g, inner, "downsample").apply()
    (use,) = [n for n in g.nodes.values() if n.spec.is_block]
    assert key_param_text(use) == "Downsample"  # shown under the title "Block"
