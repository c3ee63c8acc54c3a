"""Pretrained weights onto part of a model (with a report) and warm starts after an edit."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from safetensors.torch import save_file

from designer.core.compiler import build_model
from designer.core.graph import Edge
from designer.core.pretrained import (
    carry_over,
    layer_types,
    load_pretrained,
    map_keys,
    parse_prefixes,
    read_state_dict,
)
from designer.core.training.engine import prepare, train
from designer.core.weights import WeightsError
from tests.core.helpers import chain, example

LAYERS = [("linear", {"out_features": 8}), ("relu", {}), ("linear", {"out_features": 3})]


def model_of(*layers, seed=0):
    torch.manual_seed(seed)
    return build_model(chain(*layers), "Net")[0]


def test_matching_tensors_load_and_the_report_names_skipped_missing_and_unused(tmp_path):
    donor = model_of(("linear", {"out_features": 8}), ("relu", {}), ("linear", {"out_features": 5}))
    tensors = {f"backbone.{k}": v for k, v in donor.state_dict().items()}
    tensors["backbone.extra.weight"] = torch.ones(2)
    save_file(tensors, tmp_path / "donor.safetensors")
    model = model_of(*LAYERS, seed=1)
    before = {k: v.clone() for k, v in model.state_dict().items()}

    report = load_pretrained(
        model, read_state_dict(tmp_path / "donor.safetensors"), prefixes={"backbone.": ""}
    )

    assert report.matched == ["linear1.weight", "linear1.bias", "linear3.bias"][:2]
    assert [s[0] for s in report.skipped] == ["linear3.weight", "linear3.bias"]
    assert report.skipped[0][1:] == ((5, 8), (3, 8))
    assert report.unused == ["extra.weight"]
    assert report.layers == ["linear1"]
    assert torch.equal(model.linear1.weight, donor.linear1.weight)
    assert torch.equal(model.linear3.weight, before["linear3.weight"])  # shape differs: kept
    assert report.summary() == (
        "loaded 2 tensors (1 layer); 2 skipped (shape differs: linear3.weight is 5×8 in the "
        "file, 3×8 in the model, …); 1 in the file not used (extra.weight)"
    )


def test_only_limits_loading_to_the_chosen_layers_and_missing_is_reported():
    donor = model_of(*LAYERS, seed=3)
    model = model_of(*LAYERS, seed=4)
    keep = model.linear1.weight.clone()
    state = {k: v for k, v in donor.state_dict().items() if k != "linear3.bias"}
    report = load_pretrained(model, state, only=["linear3"])
    assert report.matched == ["linear3.weight"]
    assert report.missing == ["linear3.bias"]
    assert report.layers == []  # linear3 is only half loaded
    assert torch.equal(model.linear1.weight, keep)
    assert torch.equal(model.linear3.weight, donor.linear3.weight)
    assert "1 missing from the file (kept as they were: linear3.bias)" in report.summary()


def test_a_pt_state_dict_loads_through_weights_only_and_a_pickle_is_refused(tmp_path):
    donor = model_of(*LAYERS, seed=5)
    torch.save({"state_dict": donor.state_dict()}, tmp_path / "ckpt.pth")
    model = model_of(*LAYERS, seed=6)
    report = load_pretrained(model, read_state_dict(tmp_path / "ckpt.pth"))
    assert len(report.matched) == 4 and not report.skipped and not report.missing
    assert torch.equal(model.linear3.bias, donor.linear3.bias)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(WeightsError, match=r"evil\.pt: not a weights-only state_dict"):
        read_state_dict(tmp_path / "evil.pt")
    with pytest.raises(WeightsError, match="no such file"):
        read_state_dict(tmp_path / "absent.pt")


def test_prefix_mapping_text_and_rules():
    assert parse_prefixes("backbone.=, head.=fc.") == {"backbone.": "", "head.": "fc."}
    with pytest.raises(WeightsError, match="OLD=NEW"):
        parse_prefixes("backbone.")
    renamed = map_keys({"a.w": 1, "b.w": 2, "c": 3}, {"a.": "", "": "enc."})
    assert renamed == {"w": 1, "enc.b.w": 2, "enc.c": 3}


def test_an_edited_trained_mlp_keeps_the_weights_of_unchanged_layers():
    project = example("iris_mlp", epochs=3)
    model, source, data = prepare(project)
    events = list(train(model, data, project.training))
    assert type(events[-1]).__name__ == "Finished"
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    old_types = layer_types(project.graph, source)

    graph = project.graph.copy()  # insert a Linear (same width) + ReLU in the middle
    first = next(n for n in graph.topological() if n.type_id == "linear")
    edge = graph.outgoing(first.id)[0]
    width = first.params["out_features"]
    graph.disconnect(edge)
    mid = graph.add_node("linear", name="middle", params={"out_features": width})
    act = graph.add_node("relu", name="middle_relu")
    graph.connect(Edge(first.id, mid.id))
    graph.connect(Edge(mid.id, act.id))
    graph.connect(Edge(act.id, edge.dst, edge.src_port, edge.dst_port))
    edited = dataclasses.replace(project, graph=graph)
    new_model, new_source, _ = prepare(edited)
    fresh_middle = new_model.middle.weight.clone()

    report = carry_over(new_model, trained, old_types, layer_types(graph, new_source))

    assert "middle" in report.fresh
    state = new_model.state_dict()
    for key, value in trained.items():
        assert torch.equal(state[key], value), key  # every old layer is unchanged: kept
    assert torch.equal(new_model.middle.weight, fresh_middle)
    assert report.summary().startswith(f"{len(report.kept)} layers kept their weights; 1 starts")


def test_a_layer_whose_type_or_shape_changed_starts_fresh():
    old = model_of(*LAYERS, seed=7)
    old_types = {"linear1": "linear", "linear3": "linear"}
    new = model_of(("linear", {"out_features": 9}), ("relu", {}), ("linear", {"out_features": 3}))
    report = carry_over(new, old.state_dict(), old_types, {"linear1": "linear", "linear3": "x"})
    assert report.kept == () and report.fresh == ("linear1", "linear3")
    assert not torch.equal(new.linear3.bias, old.linear3.bias)


def test_train_init_from_keeps_the_unchanged_layers_of_a_trained_run(tmp_path, capsys):
    from designer.cli import main
    from designer.core.project_io import load_project, save_project
    from tests.core.helpers import iris_file

    project_file = iris_file(tmp_path, epochs=2)
    assert main(["train", str(project_file), "--out", str(tmp_path / "run")]) == 0
    weights = tmp_path / "run" / "weights.safetensors"
    trained = read_state_dict(weights)

    project = load_project(project_file)  # "logits" renamed: a new layer, so it starts fresh
    project.graph.rename(project.graph.by_name("logits").id, "classes")
    edited = save_project(project, tmp_path / "renamed.netcanvas")
    capsys.readouterr()
    assert main(["train", str(edited), "--epochs", "1", "--init-from", str(weights)]) == 0
    said = capsys.readouterr().err
    assert said.startswith("note: memory: data ")  # train's first line: the memory plan
    assert (
        "warm start from weights.safetensors: 1 layer kept its weights; 1 starts fresh: classes"
        in said
    )

    warm = load_project(edited)
    warm.training = dataclasses.replace(warm.training, init_from=str(weights))
    model, _, data = prepare(warm)
    assert torch.equal(model.hidden.weight, trained["hidden.weight"])
    assert torch.equal(model.hidden.bias, trained["hidden.bias"])
    assert not torch.equal(model.classes.weight, trained["logits.weight"])
    assert any(n.startswith("warm start from weights.safetensors: 1 layer") for n in data.notes)
