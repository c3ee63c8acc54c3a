"""Every way a run can fail ends in one Failed event a user can act on, and harms nothing."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import torch

from designer.core.errors import NetcanvasError
from designer.core.training import recipe
from designer.core.training.engine import prepare, train, train_project
from designer.core.training.events import EpochEnd, Failed
from designer.core.training.prepare import node_of
from tests.core.helpers import example


def snapshot(model) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_nan_loss_names_epoch_step_and_the_learning_rate():
    project = example("iris_mlp", epochs=5, optimizer="sgd", lr=50.0, momentum=0.0)
    before = project.training.to_dict()
    model, source, data = prepare(project)
    start = snapshot(model)
    events = list(train(model, data, project.training, node_of=node_of(source)))
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.kind == "nan"
    match = re.fullmatch(
        r"loss became (NaN|infinite) at epoch (\d+), step (\d+): "
        r"learning rate 50 is probably too high",
        failed.message,
    )
    assert match, failed.message
    epoch, step = int(match[2]), int(match[3])
    assert not [e for e in events if isinstance(e, EpochEnd) and e.epoch >= epoch]
    assert 1 <= step <= recipe.num_steps(len(data.x_train), 16)
    # Nothing is harmed: the weights are those from before the run, the settings unchanged.
    assert all(torch.equal(v, start[k]) for k, v in model.state_dict().items())
    assert project.training.to_dict() == before


def test_nan_step_is_the_first_non_finite_step(monkeypatch):
    # Make step 5 of epoch 2 return NaN, whatever the data: the message must say exactly that.
    project = example("iris_mlp", epochs=3)
    model, _, data = prepare(project)
    real = torch.nn.CrossEntropyLoss.forward
    calls = {"n": 0}

    def poisoned(self, out, target):
        loss = real(self, out, target)
        if torch.is_grad_enabled():
            calls["n"] += 1
            if calls["n"] == 8 + 5:  # 8 steps per epoch
                return loss * float("nan")
        return loss

    monkeypatch.setattr(torch.nn.CrossEntropyLoss, "forward", poisoned)
    failed = list(train(model, data, project.training))[-1]
    assert failed.kind == "nan"
    assert failed.message.startswith("loss became NaN at epoch 2, step 5: ")


def test_shape_error_at_runtime_names_the_node():
    project = example("iris_mlp", epochs=2)
    model, source, data = prepare(project)
    wide = dataclasses.replace(
        data,
        x_train=np.ones((20, 5), np.float32),
        y_train=np.zeros(20, np.int64),
        x_test=np.ones((4, 5), np.float32),
        y_test=np.zeros(4, np.int64),
        input_shape=(5,),
    )
    failed = list(train(model, wide, project.training, node_of=node_of(source)))[-1]
    hidden = project.graph.by_name("hidden")
    assert failed.kind == "shape"
    assert failed.node_id == hidden.id
    assert failed.message.startswith("layer 'hidden' failed during training: ")
    assert "4" in failed.message and "5" in failed.message


def test_a_merge_that_fails_is_named_by_its_own_variable():
    project = example("residual_net", epochs=1)
    model, source, data = prepare(project)
    add = project.graph.by_name("block1_add")

    def broken(self, x):  # generated-style forward whose skip joins a mis-sliced tensor
        x = self.stem(x)
        stem_relu = self.stem_relu(x)
        x = self.block1_fc1(stem_relu)
        x = self.block1_relu1(x)
        x = self.block1_fc2(x)
        block1_add = x + stem_relu[:, :10]
        return block1_add

    type(model).forward = broken
    failed = list(train(model, data, project.training, node_of=node_of(source)))[-1]
    assert failed.kind == "shape" and failed.node_id == add.id
    assert "block1_add" in failed.message


def test_data_that_does_not_fit_the_input_names_both_shapes():
    project = example("iris_mlp", {"name": "digits"})
    with pytest.raises(NetcanvasError) as err:
        prepare(project)
    assert str(err.value) == (
        "digits gives samples of shape N×64 but the Input 'input' expects N×4: "
        "set the Input's shape to (64,)"
    )


def test_last_layer_width_must_match_the_classes():
    project = example("iris_mlp")
    project.graph.set_param(project.graph.by_name("logits").id, "out_features", 16)
    with pytest.raises(NetcanvasError) as err:
        prepare(project)
    assert str(err.value) == (
        "the Output gives 16 values per sample but iris has 3 classes: "
        "set the last Linear's out_features to 3"
    )


def test_cross_entropy_on_numeric_targets_says_which_losses_fit():
    with pytest.raises(NetcanvasError, match="choose loss mse, l1 or huber"):
        prepare(example("coffee_regression", loss="cross_entropy"))


def test_missing_dataset_file_names_the_file(tmp_path):
    project = example("iris_mlp", {"source": "csv", "path": "flowers/missing.csv"})
    project.path = tmp_path / "iris.netcanvas"
    events = list(train_project(project))
    assert len(events) == 1 and events[0].kind == "data"
    assert str((tmp_path / "flowers" / "missing.csv").resolve()) in events[0].message


def test_unreadable_dataset_file_names_the_file(tmp_path):
    bad = tmp_path / "flowers.csv"
    bad.write_bytes(b"a,b,label\n1,2\n")
    events = list(train_project(example("iris_mlp", {"source": "csv", "path": str(bad)})))
    assert events[-1].kind == "data" and str(bad) in events[-1].message


def test_out_of_memory_suggests_a_batch_size_that_fits(monkeypatch):
    project = example("digits_cnn", epochs=2, batch_size=64)
    model, source, data = prepare(project)
    start = snapshot(model)
    real = torch.nn.Conv2d.forward

    def hungry(self, x):
        if len(x) > 32:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(self, x)

    monkeypatch.setattr(torch.nn.Conv2d, "forward", hungry)
    failed = list(train(model, data, project.training, node_of=node_of(source)))[-1]
    assert failed.kind == "oom"
    assert failed.message == "ran out of cpu memory at batch size 64: try batch size 32"
    assert all(torch.equal(v, start[k]) for k, v in model.state_dict().items())


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_one_says_so():
    events = list(train_project(example("iris_mlp", epochs=1, device="cuda")))
    assert events[-1].kind == "runtime"
    assert events[-1].message == (
        "device 'cuda' was asked for but PyTorch sees no CUDA GPU here: "
        "choose device 'auto' or 'cpu'"
    )
