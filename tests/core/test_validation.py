"""Validation: each kind of mistake gives one diagnostic, pinned to the node, in plain words."""

from designer.core.analysis import analyze
from designer.core.graph import Edge, Graph
from designer.core.layers.spec import format_shape
from tests.core.helpers import chain


def messages(graph):
    return [(d.node_id, d.severity, d.message) for d in analyze(graph).diagnostics]


def test_valid_mlp_has_shapes_params_and_a_summary():
    g = chain(("linear", {"out_features": 16}), ("relu", {}), ("linear", {"out_features": 3}))
    a = analyze(g)
    assert a.ok and a.diagnostics == []
    assert a.shapes[g.by_name("linear1").id] == (16,)
    assert a.shapes[g.by_name("linear3").id] == (3,)
    assert a.costs[g.by_name("linear1").id] == (4 * 16 + 16, 4 * 16)
    assert a.total_params == 4 * 16 + 16 + 16 * 3 + 3
    assert a.summary() == "valid · 131 params"
    edge = g.incoming(g.by_name("relu2").id)[0]
    assert format_shape(a.edge_shape(edge)) == "N×16"


def test_empty_canvas_gets_one_friendly_message():
    [diag] = analyze(Graph()).diagnostics
    assert diag.message.startswith("The canvas is empty: drag an Input")


def test_missing_input_and_output():
    g = Graph()
    g.add_node("linear")
    text = " ".join(m for _, _, m in messages(g))
    assert "no Input layer" in text and "no Output layer" in text


def test_cycle_reported_on_each_node():
    g = Graph()
    g.add_node("input", node_id="in", params={"shape": (4,)})
    g.add_node("add", node_id="add", name="merge")
    g.add_node("linear", node_id="fc", name="fc", params={"out_features": 4})
    g.add_node("output", node_id="out")
    g.connect(Edge("in", "add", dst_port="in1"))
    g.connect(Edge("add", "fc"))
    g.connect(Edge("fc", "add", dst_port="in2"))
    g.connect(Edge("fc", "out"))
    cyc = [(n, m) for n, _, m in messages(g) if "cycle" in m]
    assert {n for n, _ in cyc} == {"add", "fc"}
    assert "'fc'" in cyc[0][1] and "'merge'" in cyc[0][1]


def test_two_edges_into_one_port():
    g = chain(("linear", {"out_features": 4}))
    other = g.add_node("input", name="second", params={"shape": (4,)})
    lin = g.by_name("linear1")
    g.connect(Edge(other.id, lin.id))
    assert (lin.id, "error", "Input 'x' of 'linear1' has 2 connections; it takes one.") in messages(
        g
    )


def test_unconnected_port_and_wrong_arity():
    g = chain(("linear", {"out_features": 4}))
    add = g.add_node("add", name="sum")
    g.connect(Edge(g.by_name("linear1").id, add.id, dst_port="in1"))
    msgs = messages(g)
    assert (add.id, "error", "'sum' needs 2 inputs; connect 'in2'.") in msgs
    assert (add.id, "warning", "'sum' does not lead to an Output, so it has no effect.") in msgs


def test_unfed_layer():
    g = chain(("linear", {"out_features": 4}))
    lone = g.add_node("relu", name="lonely")
    assert (lone.id, "error", "'lonely' is not fed: connect a layer to its input.") in messages(g)


def test_linear_fed_images_offers_flatten():
    g = chain(("linear", {"out_features": 10}), input_shape=(1, 8, 8))
    [diag] = analyze(g).errors
    lin = g.by_name("linear1")
    assert diag.node_id == lin.id
    assert diag.message == (
        "'linear1' (Linear) expects flat features (N×F) or sequences (N×T×F) but gets images N×1×8×8. "
        "Insert a Flatten before it."
    )
    assert diag.fix.type_id == "flatten"
    assert diag.fix.edge == g.incoming(lin.id)[0]
    assert diag.fix.title == "Insert Flatten before 'linear1'"


def test_add_of_different_shapes():
    g = Graph()
    i = g.add_node("input", params={"shape": (4,)})
    a = g.add_node("linear", name="a", params={"out_features": 8})
    b = g.add_node("linear", name="b", params={"out_features": 5})
    s = g.add_node("add", name="skip")
    o = g.add_node("output")
    for e in (
        Edge(i.id, a.id),
        Edge(i.id, b.id),
        Edge(a.id, s.id, dst_port="in1"),
        Edge(b.id, s.id, dst_port="in2"),
        Edge(s.id, o.id),
    ):
        g.connect(e)
    assert (
        s.id,
        "error",
        "'skip' (Add) needs inputs of the same shape but gets N×8 and N×5",
    ) in messages(g)


def test_one_mistake_is_reported_once():
    g = chain(
        ("linear", {"out_features": 10}),
        ("relu", {}),
        ("linear", {"out_features": 3}),
        input_shape=(3, 4, 4),
    )
    assert len(analyze(g).errors) == 1


def test_status_summary_counts_problems():
    g = chain(("linear", {"out_features": 10}), input_shape=(1, 8, 8))
    g.add_node("relu")
    assert analyze(g).summary() == "2 errors · 1 warning"


def test_every_node_problem_names_its_node():
    g = chain(("linear", {"out_features": 10}), input_shape=(1, 8, 8))
    g.add_node("relu", name="lonely")
    add = g.add_node("add", name="sum")
    g.connect(Edge(g.by_name("input").id, add.id, dst_port="in1"))
    diags = [d for d in analyze(g).diagnostics if d.node_id]
    assert len(diags) >= 4
    for d in diags:
        assert f"'{g.nodes[d.node_id].name}'" in d.message, d.message
