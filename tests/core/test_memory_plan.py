"""The memory plan from sizes alone (what the app shows before Start) equals the plan of the
built run (`train`'s first line), and the augmentation limits and colour jitter of the core."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from designer.core.analysis import analyze
from designer.core.errors import ParamError
from designer.core.examples import build_example
from designer.core.training import recipe
from designer.core.training.config import AUGMENT_LIMITS, TrainingConfig
from designer.core.training.memory import DataSize, data_size, device_kind, graph_plan
from designer.core.training.prepare import prepare
from designer.core.training.run import memory_line


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_the_plan_from_the_graph_is_trains_first_line_with_frozen_layers(optimizer):
    project = build_example("digits_cnn")
    project.training = dataclasses.replace(project.training, optimizer=optimizer, batch_size=7)
    project.graph.set_frozen(project.graph.by_name("conv1").id, True)
    model, _source, data = prepare(project)
    first_line = memory_line(model, data, project.training, project.graph)
    size = data_size(data, images=False)
    plan = graph_plan(project.graph, analyze(project.graph), size, project.training, "cpu")
    assert plan.text() == first_line
    assert plan.grads < plan.weights and "per batch of 7" in first_line
    assert first_line.startswith("memory: data ") and "(in memory)" in first_line


def test_image_data_over_the_budget_streams_and_the_device_decides_where_it_lives():
    config = TrainingConfig(memory_budget_mb=1)
    project = build_example("iris_mlp")
    analysis = analyze(project.graph)
    big = DataSize(nbytes=3 << 20, pixels=3 << 20)
    assert graph_plan(project.graph, analysis, big, config, "cpu").where == "streamed"
    table = DataSize(nbytes=3 << 20)  # not pictures: never streamed
    assert graph_plan(project.graph, analysis, table, config, "cuda").where == "on device"
    config.memory_budget_mb = 4
    assert graph_plan(project.graph, analysis, big, config, "cpu").where == "in memory"
    assert device_kind("auto", ["auto", "cpu", "cuda"]) == "cuda"
    assert device_kind("auto", ["auto", "cpu"]) == "cpu" and device_kind("mps", []) == "mps"


def test_augmentation_limits_are_the_cores_and_a_crop_range_must_be_ordered():
    assert AUGMENT_LIMITS["crop"] == (0.05, 1.0) and AUGMENT_LIMITS["saturation"] == (0.0, 1.0)
    ok = TrainingConfig.from_dict({"augment": {"crop": 0.5, "crop_max": 0.8, "contrast": 0.3}})
    assert ok.augment == {"crop": 0.5, "crop_max": 0.8, "contrast": 0.3}
    with pytest.raises(ParamError, match="augment.crop: the smallest crop 0.9 exceeds"):
        TrainingConfig.from_dict({"augment": {"crop": 0.9, "crop_max": 0.8}})
    with pytest.raises(ParamError, match="augment.saturation: expected a number from 0.0 to 1.0"):
        TrainingConfig.from_dict({"augment": {"saturation": 1.5}})
    with pytest.raises(ParamError, match="is not an augmentation .*saturation"):
        TrainingConfig.from_dict({"augment": {"hue": 0.1}})


def test_colour_jitter_varies_colours_within_range_and_leaves_grey_pictures_grey():
    torch.manual_seed(0)
    xb = torch.rand(16, 3, 8, 8)
    settings = {"augment": {"brightness": 0.4, "contrast": 0.4, "saturation": 0.4}}
    seen = recipe.augment(xb, settings, training=True)
    assert not torch.allclose(seen, xb) and seen.min() >= 0 and seen.max() <= 1
    assert torch.equal(recipe.augment(xb, settings, training=False), xb)  # tests see no jitter
    grey = torch.rand(4, 1, 8, 8).expand(4, 3, 8, 8).contiguous()
    saturated = recipe.augment(grey, {"augment": {"saturation": 1.0}}, training=True)
    assert torch.allclose(saturated, grey, atol=1e-6)  # no colour to saturate
    crop = {"augment": {"crop": 0.5, "crop_max": 0.5}}
    assert not torch.allclose(recipe.augment(xb, crop, training=True), xb)  # a zoom of 2×


def test_the_exported_script_carries_the_colour_jitter():
    from designer.core.training.script import training_script

    project = build_example("digits_cnn")
    project.training.augment = {"saturation": 0.2, "crop": 0.7, "crop_max": 0.9}
    text = training_script(project)
    assert "def colour_jitter(" in text and '"augment": {"saturation": 0.2, "crop": 0.7' in text
