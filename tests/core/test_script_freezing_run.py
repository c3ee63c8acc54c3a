"""The exported training script freezes for real: a small CNN whose first layers (a frozen
"backbone": conv + BatchNorm) are frozen, exported, RUN in a subprocess for one epoch on a
generated image folder. Frozen weights and BatchNorm statistics come out bit-identical, the
others change, and the per-block learning rate the script carries scales the head's step (that
comparison runs the script's own fit() in-process, to spare a second interpreter start)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import torch
from safetensors.torch import load_file

from designer.core.project import Project
from designer.core.training.config import DataConfig, TrainingConfig
from designer.core.training.script import training_script
from tests.core.helpers import chain
from tests.core.test_transfer_training import image_folder

FROZEN = ("conv2d1", "batch_norm2d2")


def frozen_cnn(folder, head_factor: float) -> Project:
    graph = chain(
        ("conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
        ("batch_norm2d", {}),
        ("relu", {}),
        ("conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
        ("relu", {}),
        ("adaptive_avg_pool2d", {"output_size": 2}),
        ("flatten", {}),
        ("linear", {"out_features": 2}),
        input_shape=(3, 16, 16),
    )
    for name in FROZEN:
        graph.set_frozen(graph.by_name(name).id, True)
    data = DataConfig(
        source="images",
        path=str(folder),
        options={"image_size": 16, "color": "rgb"},
        test_fraction=0.25,
    )
    # SGD without momentum and one batch per epoch: a step is exactly -lr x factor x gradient.
    config = TrainingConfig(
        optimizer="sgd",
        momentum=0.0,
        lr=0.5,
        batch_size=64,
        epochs=1,
        device="cpu",
        seed=3,
        lr_multipliers={"linear8": head_factor},
        data=data,
    )
    return Project(graph=graph, name="frozen_cnn", training=config)


def run_script(project: Project, folder, out, *args: str) -> dict:
    script = folder / "train.py"
    script.write_text(training_script(project), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the script stands alone
    done = subprocess.run(
        [sys.executable, str(script), "--save", str(out), *args],
        cwd=folder,
        env=env | {"OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return load_file(str(out))


def fit_in_process(project: Project, folder, epochs: int) -> dict:
    """The exported script's own fit(), imported here (no second interpreter start)."""
    import importlib.util

    script = folder / f"train_{epochs}.py"
    script.write_text(training_script(project), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("exported_train", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model, history = module.fit(epochs, torch.device("cpu"), data_dir=folder)
    assert len(history) == epochs
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_the_exported_script_keeps_frozen_layers_bit_identical_and_scales_the_head(tmp_path):
    pictures = image_folder(tmp_path / "pictures", per_class=6, size=16)
    project = frozen_cnn(pictures, head_factor=1.0)
    text = training_script(project)
    assert "FROZEN = (" in text and "'linear8': 1.0" in text.replace('"', "'")

    after = run_script(project, tmp_path, tmp_path / "after.safetensors")  # for real
    before = fit_in_process(project, tmp_path, epochs=0)  # the script's seeded start
    halved = frozen_cnn(pictures, head_factor=0.5)
    slow = fit_in_process(halved, tmp_path, epochs=1)

    assert set(before) == set(after) == set(slow)
    frozen = [k for k in before if k.split(".")[0] in FROZEN]
    assert len(frozen) == 7  # conv weight + bias; BN weight, bias, running mean/var, count
    for key in frozen:  # parameters and BatchNorm statistics alike
        assert torch.equal(after[key], before[key]), key
        assert torch.equal(slow[key], before[key]), key
    for key in ("conv2d4.weight", "conv2d4.bias", "linear8.weight", "linear8.bias"):
        assert not torch.equal(after[key], before[key]), key  # trainable: it trained

    # The head's multiplier halves its one step; the other trainable layer takes the same step.
    for key in ("linear8.weight", "linear8.bias"):
        step, half = after[key] - before[key], slow[key] - before[key]
        torch.testing.assert_close(half, step * 0.5, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(slow["conv2d4.weight"], after["conv2d4.weight"])
    assert dataclasses.replace(halved.training, lr_multipliers={}) == dataclasses.replace(
        project.training, lr_multipliers={}
    )  # the two runs differ in the head's factor only
