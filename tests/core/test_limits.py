"""One set of limits: the graph refuses what the loader would refuse, and no save is ever a
file that does not open again. Text that can't be saved (lone surrogates) is cleaned."""

from __future__ import annotations

import json

import pytest

from designer.core import limits
from designer.core.errors import NetcanvasError, ProjectError
from designer.core.graph import Edge, Graph
from designer.core.project import Project
from designer.core.project_io import load_project, parse, project_from_dict, save_project


def test_the_graph_refuses_a_name_the_loader_would_refuse(tmp_path):
    g = Graph()
    node = g.add_node("linear", name="fc")
    with pytest.raises(limits.LimitError, match="at most 200 characters"):
        g.rename(node.id, "x" * 300)
    with pytest.raises(limits.LimitError):
        g.add_node("relu", name="y" * (limits.MAX_NAME + 1))
    assert g.nodes[node.id].name == "fc"
    g.rename(node.id, "x" * limits.MAX_NAME)  # the longest allowed name saves and reopens
    save_project(Project(g, "p"), tmp_path / "p.netcanvas")
    assert load_project(tmp_path / "p.netcanvas").graph.same_as(g)


def test_the_graph_refuses_more_layers_than_a_file_may_hold():
    g = Graph()
    for _ in range(limits.MAX_NODES):
        g.add_node("relu")
    with pytest.raises(limits.LimitError, match="at most 2,000 layers"):
        g.add_node("relu")
    assert len(g.nodes) == limits.MAX_NODES
    assert "at most 2,000 layers" in g.room_problem(nodes=1)


def test_unique_names_of_long_names_stay_within_the_limit():
    g = Graph()
    long = "n" * limits.MAX_NAME
    g.add_node("relu", name=long)
    again = g.unique_name(long)
    assert again != long and len(again) <= limits.MAX_NAME
    g.add_node("relu", name=again)  # accepted by the mutator


def test_a_project_name_from_a_long_file_stem_still_opens(tmp_path):
    project = Project()
    project.adopt_file_name(tmp_path / ("s" * 240 + ".netcanvas"))
    assert len(project.name) == limits.MAX_NAME
    short = tmp_path / "short.netcanvas"
    save_project(project, short)  # the case: a later Save As to a short name
    assert load_project(short).name == project.name


def test_a_save_that_would_not_open_again_is_refused_and_the_old_file_kept(tmp_path):
    target = tmp_path / "m.netcanvas"
    project = Project(Graph(), "fine")
    save_project(project, target)
    before = target.read_bytes()
    project.name = "n" * 300  # assigned behind the mutators' back
    with pytest.raises(ProjectError, match="would not open again"):
        save_project(project, target)
    assert target.read_bytes() == before


def test_a_lone_surrogate_in_a_file_loads_cleaned_and_saves(tmp_path):
    g = Graph()
    g.add_node("linear", name="fc", node_id="n1")
    source = tmp_path / "s.netcanvas"
    save_project(Project(g, "p"), source)
    text = source.read_text("utf-8").replace('"name": "fc"', '"name": "fc\\udfff"')
    text = text.replace('"name": "p"', '"name": "p\\ud800"')
    source.write_text(text, "utf-8")
    project = load_project(source)
    assert project.graph.nodes["n1"].name == "fc\ufffd"
    assert project.name == "p\ufffd"
    save_project(project, tmp_path / "again.netcanvas")  # before: UnicodeEncodeError
    assert load_project(tmp_path / "again.netcanvas").graph.nodes["n1"].name == "fc\ufffd"


def test_a_surrogate_given_to_the_mutators_is_cleaned():
    g = Graph()
    node = g.add_node("linear", name="a\udfffb")
    assert node.name == "a\ufffdb"
    g.rename(node.id, "\ud800")
    assert g.nodes[node.id].name == "\ufffd"
    "".join(n.name for n in g.nodes.values()).encode("utf-8")


def test_a_valid_surrogate_pair_escape_is_kept():
    data = parse(b'{"format_version": 2, "name": "\\ud83d\\ude00", "nodes": [], "edges": []}', "x")
    assert project_from_dict(data).name == "\U0001f600"


def test_a_huge_bad_value_is_echoed_clipped():
    raw = json.dumps(
        {"format_version": 2, "nodes": [], "edges": [], "training": {"optimizer": "x" * 5_000_000}}
    )
    with pytest.raises(ProjectError) as info:
        project_from_dict(json.loads(raw), "big.netcanvas")
    message = str(info.value)
    assert len(message) < 300, len(message)
    assert "5,000,000" in message and "training.optimizer" in message


def test_a_bad_choice_is_echoed_as_80_characters_an_ellipsis_and_its_length():
    raw = {"format_version": 2, "nodes": [], "edges": [], "training": {"optimizer": "y" * 1000}}
    with pytest.raises(ProjectError) as info:
        project_from_dict(raw, "m.netcanvas")
    assert "…" in str(info.value) and "characters)" in str(info.value)
    assert len(str(info.value)) < 300


def test_clip():
    assert limits.clip("short") == "short"
    assert limits.clip("z" * 100) == "z" * 80 + "… (100 characters)"


def test_too_many_edges_are_refused_by_connect(monkeypatch):
    monkeypatch.setattr(limits, "MAX_EDGES", 2)
    g = Graph()
    g.add_node("relu", node_id="a")
    m1, m2 = (g.add_node("concat", params={"num_inputs": 2}).id for _ in range(2))
    g.connect(Edge("a", m1, "y", "in1"))
    g.connect(Edge("a", m1, "y", "in2"))
    assert "at most 2 connections" in g.connection_problem(Edge("a", m2, "y", "in1"))
    with pytest.raises(NetcanvasError, match="at most 2 connections"):
        g.connect(Edge("a", m2, "y", "in1"))
