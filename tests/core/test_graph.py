"""The graph model: mutators, events, refusals, copies."""

import pytest

from designer.core.errors import GraphError, ParamError
from designer.core.graph import (
    Edge,
    EdgeAdded,
    EdgeRemoved,
    Graph,
    NodeAdded,
    NodeChanged,
    NodeRemoved,
)
from tests.core.helpers import chain


def test_every_mutation_emits_one_event():
    g = Graph()
    events = []
    g.subscribe(events.append)
    a = g.add_node("input", params={"shape": (4,)})
    b = g.add_node("linear")
    e = g.connect(Edge(a.id, b.id))
    g.set_param(b.id, "out_features", 8)
    g.rename(b.id, "fc")
    g.move(b.id, (10, 20))
    g.disconnect(e)
    g.remove_node(b.id)
    kinds = [type(ev) for ev in events]
    assert kinds == [
        NodeAdded,
        NodeAdded,
        EdgeAdded,
        NodeChanged,
        NodeChanged,
        NodeChanged,
        EdgeRemoved,
        NodeRemoved,
    ]
    assert [ev.what for ev in events if isinstance(ev, NodeChanged)] == ["params", "name", "pos"]
    assert g.revision == len(events)


def test_remove_node_takes_its_edges_and_returns_them():
    g = chain(("linear", {"out_features": 3}))
    lin = g.by_name("linear1")
    node, edges = g.remove_node(lin.id)
    assert node.name == "linear1"
    assert len(edges) == 2
    assert g.edges == []


def test_refused_parameter_keeps_old_value():
    g = chain(("linear", {}))
    lin = g.by_name("linear1")
    with pytest.raises(ParamError, match=r"out_features: expected an integer ≥ 1, got -2"):
        g.set_param(lin.id, "out_features", -2)
    assert lin.params["out_features"] == 16


@pytest.mark.parametrize(
    ("edge", "reason"),
    [
        (("in", "in"), "can't feed itself"),
        (("fc", "in"), "has no input"),
        (("in", "fc"), "already connected"),
        (("fc", "missing"), "both ends"),
    ],
)
def test_connection_problems_are_explained(edge, reason):
    g = Graph()
    g.add_node("input", node_id="in", params={"shape": (4,)})
    g.add_node("linear", node_id="fc")
    g.connect(Edge("in", "fc"))
    assert reason in g.connection_problem(Edge(*edge))


def test_cycle_is_refused_by_the_canvas_check():
    g = Graph()
    g.add_node("input", node_id="in", params={"shape": (4,)})
    g.add_node("add", node_id="add")
    g.add_node("linear", node_id="fc", params={"out_features": 4})
    g.connect(Edge("in", "add", dst_port="in1"))
    g.connect(Edge("add", "fc"))
    assert "cycle" in g.connection_problem(Edge("fc", "add", dst_port="in2"))


def test_unknown_type_and_duplicate_id_refused():
    g = Graph()
    with pytest.raises(GraphError, match="unknown layer type 'nope'"):
        g.add_node("nope")
    g.add_node("relu", node_id="a")
    with pytest.raises(GraphError, match="already used"):
        g.add_node("relu", node_id="a")


def test_unique_names_and_copy():
    g = Graph()
    names = [g.add_node("linear").name for _ in range(3)]
    assert names == ["linear1", "linear2", "linear3"]
    c = g.copy()
    assert c.same_as(g)
    g.set_param("n1", "out_features", 3)
    assert not c.same_as(g)
