"""Document edits: each is one undo step that round-trips, refusals change nothing."""

from __future__ import annotations

import pytest

from designer.core.graph import Edge
from designer.core.layout import overlaps
from designer.ui.document import Document


@pytest.fixture
def doc(qapp):
    return Document()


def chain(doc: Document, shape=(4,)) -> tuple[str, str, str]:
    """input -> linear -> output, built through the document."""
    i = doc.add_node("input", (0, 0), params={"shape": shape})
    fc = doc.add_node("linear", (240, 0))
    o = doc.add_node("output", (480, 0))
    assert doc.connect(Edge(i, fc)) is None
    assert doc.connect(Edge(fc, o)) is None
    return i, fc, o


def no_overlaps(doc: Document) -> bool:
    rects = doc.occupied()
    return not any(overlaps(a, b) for k, a in enumerate(rects) for b in rects[k + 1 :])


def round_trip(doc: Document, edit, text: str):
    """Do `edit`, then undo (graph as before) and redo (graph as edited), one step each."""
    before = doc.graph.copy()
    count = doc.undo_stack.count()
    edit()
    after = doc.graph.copy()
    assert not after.same_as(before)
    assert doc.undo_stack.count() == count + 1
    assert doc.undo_stack.undoText() == text
    doc.undo_stack.undo()
    assert doc.graph.same_as(before)
    doc.undo_stack.redo()
    assert doc.graph.same_as(after)
    return after


def test_add_node_round_trip(doc):
    round_trip(doc, lambda: doc.add_node("linear", (20, 40)), "Add Linear")
    (node,) = doc.graph.nodes.values()
    assert node.pos == (20.0, 40.0) and node.type_id == "linear"


def test_remove_node_restores_its_edges(doc):
    i, fc, o = chain(doc)
    round_trip(doc, lambda: doc.remove_nodes([fc]), "Delete linear1")
    assert fc not in doc.graph.nodes and doc.graph.edges == []


def test_multi_delete_is_one_step(doc):
    i, fc, o = chain(doc)
    round_trip(doc, lambda: doc.remove_nodes([i, fc, o]), "Delete 3 layers")
    assert doc.graph.nodes == {}


def test_delete_nodes_and_other_edges_together(doc):
    i, fc, o = chain(doc)
    round_trip(doc, lambda: doc.remove_nodes([i], [Edge(fc, o)]), "Delete 1 layer")
    assert doc.graph.edges == [] and set(doc.graph.nodes) == {fc, o}


def test_connect_and_disconnect_round_trip(doc):
    i = doc.add_node("input")
    fc = doc.add_node("linear")
    round_trip(doc, lambda: doc.connect(Edge(i, fc)), "Connect input1 → linear1")
    round_trip(doc, lambda: doc.disconnect([Edge(i, fc)]), "Disconnect input1 → linear1")


def test_reconnect_is_one_step(doc):
    i, fc, o = chain(doc)
    fc2 = doc.add_node("linear")
    round_trip(doc, lambda: doc.reconnect(Edge(i, fc), Edge(i, fc2)), "Reconnect input1 → linear2")
    assert Edge(i, fc2) in doc.graph.edges and Edge(i, fc) not in doc.graph.edges


def test_move_round_trip(doc):
    fc = doc.add_node("linear", (0, 0))
    round_trip(doc, lambda: doc.move_nodes({fc: ((0, 0), (100, 60))}), "Move linear1")
    assert doc.graph.nodes[fc].pos == (100.0, 60.0)


def test_set_param_round_trip_and_merge(doc):
    fc = doc.add_node("linear")
    round_trip(doc, lambda: doc.set_param(fc, "out_features", 3), "Change linear1.out_features")
    count = doc.undo_stack.count()
    assert doc.set_param(fc, "out_features", 32) is None
    assert doc.set_param(fc, "out_features", 64) is None
    assert doc.undo_stack.count() == count  # merged into the previous edit of the same field
    doc.undo_stack.undo()
    assert doc.graph.nodes[fc].params["out_features"] == 16


def test_set_param_refusal_keeps_old_value(doc):
    fc = doc.add_node("linear")
    count = doc.undo_stack.count()
    reason = doc.set_param(fc, "out_features", -2)
    assert reason is not None and "out_features" in reason and "-2" in reason
    assert doc.graph.nodes[fc].params["out_features"] == 16
    assert doc.undo_stack.count() == count


def test_lowering_merge_inputs_removes_their_edges_undoably(doc):
    a = doc.add_node("input")
    b = doc.add_node("input")
    c = doc.add_node("input")
    add = doc.add_node("add", params={"num_inputs": 3})
    for src, port in ((a, "in1"), (b, "in2"), (c, "in3")):
        doc.connect(Edge(src, add, "y", port))
    round_trip(doc, lambda: doc.set_param(add, "num_inputs", 2), "Change add1.num_inputs")
    assert Edge(c, add, "y", "in3") not in doc.graph.edges


def test_rename_and_init_round_trip(doc):
    fc = doc.add_node("linear")
    round_trip(doc, lambda: doc.rename(fc, "head"), "Rename linear1 to head")
    round_trip(doc, lambda: doc.set_init(fc, "xavier_uniform"), "Change head initialisation")


def test_rename_refuses_duplicates_and_empty(doc):
    a = doc.add_node("linear")
    doc.add_node("linear")
    assert "already named" in doc.rename(a, "linear2")
    assert "empty" in doc.rename(a, "  ")
    assert doc.graph.nodes[a].name == "linear1"


def test_apply_fix_inserts_flatten_in_one_step(doc):
    i, fc, o = chain(doc, shape=(1, 8, 8))
    (fix,) = [d.fix for d in doc.analysis.errors if d.fix]
    assert fix.type_id == "flatten"
    after = round_trip(doc, lambda: doc.apply_fix(fix), fix.title)
    assert doc.analysis.ok
    (flat,) = [n for n in after.nodes.values() if n.type_id == "flatten"]
    assert Edge(i, flat.id) in after.edges and Edge(flat.id, fc) in after.edges
    # The new layer goes in the free place nearest the middle of the edge: it covers no card.
    assert no_overlaps(doc)


def test_paste_between_documents(doc):
    i, fc, o = chain(doc)
    doc.set_param(fc, "out_features", 7)
    data = doc.copy([i, fc])
    other = Document()
    other.add_node("linear")  # name linear1 and id n1 are taken there already
    ids = []
    round_trip(other, lambda: ids.extend(other.paste(data)), "Paste 2 layers")
    pasted = [other.graph.nodes[k] for k in ids]
    assert [n.type_id for n in pasted] == ["input", "linear"]
    assert pasted[1].params["out_features"] == 7 and pasted[1].name == "linear2"
    assert Edge(ids[0], ids[1]) in other.graph.edges
    # Where they were copied from, unless a card is there: then the nearest free place.
    assert no_overlaps(other)
    empty = Document()
    assert [empty.graph.nodes[k].pos for k in empty.paste(data)] == [(0.0, 0.0), (240.0, 0.0)]


def test_duplicate_keeps_internal_edges(doc):
    i, fc, o = chain(doc)
    round_trip(doc, lambda: doc.duplicate([i, fc]), "Duplicate 2 layers")
    assert len(doc.graph.nodes) == 5 and len(doc.graph.edges) == 3
    ids = doc.duplicate([fc])
    assert doc.selection == ids  # the copies are selected, ready to be moved
    assert no_overlaps(doc)  # and cover none of the originals


def test_auto_layout_orders_columns_topologically(doc):
    i, fc, o = chain(doc)
    # Scramble: output left of everything, input far right.
    doc.move_nodes({o: ((480, 0), (-500, 300)), i: ((0, 0), (900, -200))})
    extra = doc.add_node("relu", (0, 0))
    doc.connect(Edge(i, extra))
    round_trip(doc, doc.auto_layout, "Auto layout")
    y = {k: n.pos[1] for k, n in doc.graph.nodes.items()}
    assert y[i] < y[fc] < y[o]  # top to bottom, inputs first
    assert y[extra] == y[fc]  # same depth, same row
    assert doc.graph.nodes[extra].pos[0] != doc.graph.nodes[fc].pos[0]
    assert no_overlaps(doc)


def test_connect_refusals_change_nothing(doc):
    i = doc.add_node("input")
    add = doc.add_node("add")
    relu = doc.add_node("relu")
    doc.connect(Edge(i, add, "y", "in1"))
    doc.connect(Edge(add, relu, "y", "x"))
    before = doc.graph.copy()
    count = doc.undo_stack.count()
    assert doc.connect(Edge(relu, add, "y", "in2")) == "that connection would make a cycle"
    assert doc.connect(Edge(add, add, "y", "in2")) == "a layer can't feed itself"
    assert doc.connect(Edge(relu, add, "y", "in1")) == "input 'in1' of 'add1' is already connected"
    assert doc.graph.same_as(before) and doc.undo_stack.count() == count


def test_read_only_refuses_every_edit(doc, qtbot):
    i, fc, o = chain(doc)
    before = doc.graph.copy()
    reason = "Training is running: stop it to edit the model"
    with qtbot.waitSignal(doc.read_only_changed) as sig:
        doc.set_read_only(reason)
    assert sig.args == [True, reason]
    assert doc.add_node("relu") is None
    assert doc.set_param(fc, "out_features", 3) == reason
    assert doc.remove_nodes([fc]) == reason
    assert doc.connect(Edge(fc, o)) == reason
    assert doc.rename(fc, "x") == reason
    assert doc.move_nodes({fc: ((240, 0), (0, 500))}) == reason
    assert doc.paste(doc.copy([fc])) == []
    assert doc.undo() == reason
    assert doc.graph.same_as(before)
    doc.set_read_only(None)
    assert doc.set_param(fc, "out_features", 3) is None


def test_modified_flag_follows_undo_and_settings(doc, qtbot):
    assert not doc.is_modified()
    with qtbot.waitSignal(doc.modified_changed):
        doc.add_node("linear")
    assert doc.is_modified()
    doc.mark_saved()
    assert not doc.is_modified()
    doc.mark_settings_dirty()
    assert doc.is_modified()
    doc.mark_saved()
    doc.undo_stack.undo()
    assert doc.is_modified()


def test_analysis_changed_once_per_edit(doc, qtbot):
    i, fc, o = chain(doc)
    seen = []
    doc.analysis_changed.connect(seen.append)
    doc.remove_nodes([i, fc, o])
    assert len(seen) == 1 and seen[0].summary() == "1 error"
