"""Whatever the editor lets a user do, the saved file opens again to the same graph.

The property test drives random edit sequences (including hostile names: too long, lone
surrogates, HTML) through the Document and requires every save to load back equal.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designer.core import limits
from designer.core.graph import Edge
from designer.core.project_io import load_project, save_project
from designer.ui.document import Document

NAMES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["\udfff", "a\ud800b", "<b>bold</b>", "x" * 300, "y" * limits.MAX_NAME, " ", "fc1", ""]
    ),
)
TYPES = ["input", "linear", "relu", "concat", "dropout", "output", "flatten"]
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(TYPES)),
        st.tuples(st.just("rename"), st.integers(0, 30), NAMES),
        st.tuples(st.just("duplicate"), st.lists(st.integers(0, 30), max_size=6)),
        st.tuples(st.just("remove"), st.integers(0, 30)),
        st.tuples(st.just("connect"), st.integers(0, 30), st.integers(0, 30)),
        st.tuples(st.just("move"), st.integers(0, 30), st.floats(-1e6, 1e6)),
        st.tuples(st.just("undo")),
        st.tuples(st.just("redo")),
        st.tuples(st.just("copy_paste"), st.lists(st.integers(0, 30), max_size=4)),
    ),
    max_size=25,
)


def _pick(doc: Document, i: int) -> str | None:
    ids = list(doc.graph.nodes)
    return ids[i % len(ids)] if ids else None


def _apply(doc: Document, op: tuple) -> None:
    kind, *args = op
    if kind == "add":
        doc.add_node(args[0], (0.0, 0.0))
    elif kind == "rename" and (node := _pick(doc, args[0])):
        doc.rename(node, args[1])
    elif kind == "duplicate":
        doc.duplicate([n for i in args[0] if (n := _pick(doc, i))])
    elif kind == "remove" and (node := _pick(doc, args[0])):
        doc.remove_nodes([node])
    elif kind == "connect" and (a := _pick(doc, args[0])) and (b := _pick(doc, args[1])):
        ports = doc.graph.nodes[b].input_ports()
        if ports:
            doc.connect(Edge(a, b, "y", ports[0]))
    elif kind == "move" and (node := _pick(doc, args[0])):
        pos = doc.graph.nodes[node].pos
        doc.move_nodes({node: (pos, (args[1], pos[1]))})
    elif kind == "undo":
        doc.undo()
    elif kind == "redo":
        doc.redo()
    elif kind == "copy_paste":
        doc.paste(doc.copy([n for i in args[0] if (n := _pick(doc, i))]))


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS, stem=st.sampled_from(["p", "s" * 240, "<i>x</i>", "\u00e9t\u00e9"]))
def test_every_save_after_random_edits_loads_to_the_same_graph(qapp, tmp_path, ops, stem):
    doc = Document()
    for op in ops:
        _apply(doc, op)
    project = doc.project
    project.adopt_file_name(tmp_path / f"{stem}.netcanvas")
    target = save_project(project, tmp_path / "saved.netcanvas")
    loaded = load_project(target)
    assert loaded.graph.same_as(project.graph)
    assert loaded.name == project.name


def test_renaming_a_layer_to_300_characters_is_refused(qapp, tmp_path):
    doc = Document()
    node = doc.add_node("linear", (0, 0))
    reason = doc.rename(node, "x" * 300)
    assert reason and "at most 200 characters" in reason
    assert doc.graph.nodes[node].name == "linear1"
    save_project(doc.project, tmp_path / "m.netcanvas")
    assert load_project(tmp_path / "m.netcanvas").graph.same_as(doc.graph)


def test_duplicating_up_to_2560_layers_stops_at_the_limit(qapp, tmp_path):
    doc = Document()
    for _ in range(10):
        doc.add_node("relu", (0, 0))
    refusals = []
    doc.refused.connect(refusals.append)
    for _ in range(8):  # 10 -> 20 -> ... -> 1280; the next doubling (2,560) is refused
        doc.duplicate(list(doc.graph.nodes))
    assert len(doc.graph.nodes) == 1280
    assert refusals and "at most 2,000 layers" in refusals[-1]
    save_project(doc.project, tmp_path / "big.netcanvas")
    assert len(load_project(tmp_path / "big.netcanvas").graph.nodes) == 1280
