"""Frozen layers: saved in the project, carried into the generated code, counted in the summary."""

from __future__ import annotations

import json

import pytest

from designer.core.analysis import analyze
from designer.core.codegen import generate
from designer.core.compiler import build_model
from designer.core.errors import ProjectError
from designer.core.freezing import model_split, split_counts, upstream
from designer.core.project import Project
from designer.core.project_io import load_project, save_project
from tests.core.helpers import chain

LAYERS = [
    ("linear", {"out_features": 8}),
    ("batch_norm1d", {}),
    ("relu", {}),
    ("linear", {"out_features": 3}),
]


def frozen_chain(*names):
    graph = chain(*LAYERS)
    for name in names:
        graph.set_frozen(graph.by_name(name).id, True)
    return graph


def test_freezing_is_an_event_and_everything_before_a_layer_is_its_ancestors():
    graph = chain(*LAYERS)
    events = []
    graph.subscribe(events.append)
    head = graph.by_name("linear4")
    assert graph.set_frozen(head.id, True) is False
    assert graph.set_frozen(head.id, True) is True  # no change, no event
    assert [(e.node_id, e.what) for e in events] == [(head.id, "frozen")]
    before = {graph.nodes[i].name for i in upstream(graph, head.id)}
    assert before == {"input", "linear1", "batch_norm1d2", "relu3"}
    assert graph.copy().nodes[head.id].frozen


def test_the_generated_model_freezes_exactly_the_frozen_layers():
    graph = frozen_chain("linear1", "batch_norm1d2")
    source = generate(graph, "Net")
    assert source.frozen == ("linear1", "batch_norm1d2")
    assert 'FROZEN = ("linear1", "batch_norm1d2")' in source.text
    model, _ = build_model(graph, "Net")
    grads = {k: p.requires_grad for k, p in model.named_parameters()}
    assert grads == {
        "linear1.weight": False,
        "linear1.bias": False,
        "batch_norm1d2.weight": False,
        "batch_norm1d2.bias": False,
        "linear4.weight": True,
        "linear4.bias": True,
    }
    assert model_split(model).text() == "27 trainable · 56 frozen"
    assert "FROZEN" not in generate(chain(*LAYERS), "Net").text  # nothing frozen: as before


def test_frozen_survives_save_and_load_and_is_optional_in_the_file(tmp_path):
    graph = frozen_chain("linear1")
    path = save_project(Project(graph=graph, name="f"), tmp_path / "f.netcanvas")
    raw = json.loads(path.read_text())
    flags = {n["name"]: n.get("frozen") for n in raw["nodes"]}
    assert flags["linear1"] is True and flags["linear4"] is None  # written only when frozen
    loaded = load_project(path)
    assert loaded.graph.by_name("linear1").frozen
    assert not loaded.graph.by_name("linear4").frozen
    raw["nodes"][1]["frozen"] = "yes"
    path.write_text(json.dumps(raw))
    with pytest.raises(ProjectError, match=r"frozen.*expected true or false"):
        load_project(path)


def test_summary_counts_trainable_and_frozen_parameters():
    graph = frozen_chain("linear1", "batch_norm1d2")
    split = split_counts(graph, analyze(graph).costs)
    assert (split.trainable, split.frozen, split.total) == (27, 56, 83)
