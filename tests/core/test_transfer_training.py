"""Fine-tuning: pretrained weights into a ResNet-18 project, a frozen backbone, a new head trained
on an image folder; frozen BatchNorm statistics, per-block learning rates, the exported script."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

from designer.core.freezing import freezable, upstream
from designer.core.project import Project
from designer.core.training import recipe
from designer.core.training.config import DataConfig, TrainingConfig
from designer.core.training.engine import prepare, train
from designer.core.training.events import Failed, Finished
from tests.core.helpers import chain
from tests.core.resnet_blocks import resnet18_project


def image_folder(root, per_class=12, size=32):
    """Two classes of generated RGB pictures: reddish squares vs bluish stripes."""
    rng = np.random.default_rng(0)
    for c, name in enumerate(("red", "blue")):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 90, (size, size, 3), dtype=np.uint8)
            pixels[..., 2 * c] += 150
            if c:
                pixels[::4] //= 3
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def freeze_before_head(graph) -> None:
    head = graph.by_name("fc").id
    for node_id in freezable(graph, upstream(graph, head)):
        graph.set_frozen(node_id, True)


def test_a_frozen_pretrained_resnet18_backbone_stays_bit_identical_and_the_head_trains(tmp_path):
    from designer.core.importer.tv import torchvision_models

    torch.manual_seed(123)  # locally generated "pretrained" weights, in torchvision's names
    donor = torchvision_models().resnet18()
    donor.train()
    with torch.no_grad():
        donor(torch.randn(8, 3, 32, 32))  # running statistics that are not the defaults
    pretrained = {k: v.detach().clone() for k, v in donor.state_dict().items()}
    save_file(pretrained, tmp_path / "resnet18.safetensors")

    project = resnet18_project(classes=2, size=32)
    freeze_before_head(project.graph)
    folder = image_folder(tmp_path / "pictures")
    data = DataConfig(
        source="images",
        path=str(folder),
        options={"image_size": 32, "color": "rgb"},
        test_fraction=0.25,
    )
    project.training = TrainingConfig(
        epochs=2,
        batch_size=8,
        lr=0.01,
        device="cpu",
        data=data,
        init_from=str(tmp_path / "resnet18.safetensors"),
    )
    model, source, dataset = prepare(project)
    assert any("kept" in note and "starts fresh: fc" in note for note in dataset.notes)
    head_before = model.fc.weight.detach().clone()
    events = list(train(model, dataset, project.training))
    assert isinstance(events[-1], Finished), events[-1]

    state = model.state_dict()
    backbone = [k for k in pretrained if not k.startswith("fc.")]
    assert len(backbone) == 120
    for key in backbone:  # weights, running statistics and num_batches_tracked alike
        assert torch.equal(state[key], pretrained[key]), key
    assert not torch.equal(model.fc.weight, head_before)
    assert "fc" not in source.frozen
    assert {"conv1", "bn1", "layer1", "layer2", "layer3", "layer4"} <= set(source.frozen)


def bn_chain(**settings):
    graph = chain(
        ("linear", {"out_features": 8}),
        ("batch_norm1d", {}),
        ("relu", {}),
        ("linear", {"out_features": 3}),
    )
    graph.set_frozen(graph.by_name("linear1").id, True)
    graph.set_frozen(graph.by_name("batch_norm1d2").id, True)
    from designer.core.compiler import build_model

    model, _ = build_model(graph, "Net")
    return model, dict(TrainingConfig(**settings).to_dict())


def test_frozen_batchnorm_keeps_its_statistics_unless_the_option_is_off():
    model, settings = bn_chain()
    recipe.train_mode(model, settings)
    assert model.training and not model.batch_norm1d2.training
    model(torch.randn(16, 4) * 5)
    assert torch.equal(model.batch_norm1d2.running_mean, torch.zeros(8))
    model, settings = bn_chain(freeze_batchnorm=False)
    recipe.train_mode(model, settings)
    assert model.batch_norm1d2.training


def test_the_optimizer_gets_only_trainable_parameters_with_per_block_learning_rates():
    model, settings = bn_chain(lr=0.1, lr_multipliers={"linear4": 0.5})
    optimizer = recipe.make_optimizer(model, settings)
    groups = [(g["lr"], sum(p.numel() for p in g["params"])) for g in optimizer.param_groups]
    assert groups == [(0.05, 27)]  # linear4 only: 8×3 + 3, at half the rate
    everything = chain(("linear", {"out_features": 3}))
    everything.set_frozen(everything.by_name("linear1").id, True)
    project = Project(everything, "all_frozen")
    project.training = TrainingConfig(epochs=1, device="cpu")
    model, _, data = prepare(project)
    failed = list(train(model, data, project.training))[-1]
    assert isinstance(failed, Failed) and "every layer is frozen" in failed.message


def test_the_exported_training_script_freezes_the_same_layers(tmp_path):
    from designer.core.training.script import training_script
    from tests.core.helpers import example

    project = example("iris_mlp")
    project.graph.set_frozen(project.graph.by_name("hidden").id, True)
    text = training_script(project)
    assert 'FROZEN = ("hidden",)' in text
    assert "model.get_submodule(name).requires_grad_(False)" in text
    assert "def train_mode(" in text and "'freeze_batchnorm': True" in text.replace('"', "'")
