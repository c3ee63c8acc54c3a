"""Images at scale: pixels held as uint8, and image folders larger than the memory budget
streamed from disk through DataLoader workers with the same split, order and losses."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from designer.core.data import load_dataset
from designer.core.project import Project
from designer.core.training.config import DataConfig, TrainingConfig
from designer.core.training.engine import prepare, train
from designer.core.training.events import EpochEnd, Finished
from designer.core.training.memory import plan
from designer.core.training.recipe import StreamedImages
from tests.core.helpers import chain


@pytest.fixture
def folder(tmp_path):
    """90 generated 64×64 RGB pictures in 3 classes: about 1.1 MB of pixels."""
    rng = np.random.default_rng(0)
    for c in range(3):
        (tmp_path / f"class{c}").mkdir()
        for i in range(30):
            pixels = rng.integers(0, 120, (64, 64, 3), dtype=np.uint8)
            pixels[..., c] += 120
            Image.fromarray(pixels).save(tmp_path / f"class{c}" / f"{i}.png")
    return tmp_path


def project(folder, **settings):
    data = DataConfig(source="images", path=str(folder), options={"image_size": 64, "color": "rgb"})
    graph = chain(
        ("flatten", {}),
        ("linear", {"out_features": 8}),
        ("relu", {}),
        ("linear", {"out_features": 3}),
        input_shape=(3, 64, 64),
    )
    config = TrainingConfig(
        **{"epochs": 3, "batch_size": 16, "lr": 0.01, "device": "cpu"} | settings
    )
    config.data = data
    return Project(graph, "pictures", config)


def epochs(p):
    model, _, data = prepare(p)
    events = list(train(model, data, p.training))
    assert isinstance(events[-1], Finished), events[-1]
    return data, model, [e.metrics for e in events if isinstance(e, EpochEnd)]


def test_pixels_are_held_as_uint8(folder):
    data = load_dataset(project(folder).training.data)
    assert data.x_train.dtype == np.uint8 and data.x_train.shape[1:] == (3, 64, 64)
    assert data.x_train.max() > 200  # raw pixels: scaled to [0, 1] on the device per batch


def test_a_budget_below_the_data_streams_with_the_same_losses_as_in_memory(folder):
    held, _, in_memory = epochs(project(folder))
    streamed_data, model, streamed = epochs(project(folder, memory_budget_mb=1))
    assert isinstance(held.x_train, np.ndarray)
    assert isinstance(streamed_data.x_train, StreamedImages)
    assert any(n.startswith("streamed from disk: 1 MB of pixels") for n in streamed_data.notes)
    assert len(in_memory) == len(streamed) == 3
    for a, b in zip(in_memory, streamed, strict=True):
        for key in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
            assert abs(a[key] - b[key]) <= 1e-5, (key, a[key], b[key])
    assert plan(model, streamed_data, project(folder).training).where == "streamed"
    np.testing.assert_array_equal(
        streamed_data.x_train[:2].numpy(), load_dataset(held_config(folder)).x_train[:2]
    )


def held_config(folder):
    return project(folder).training.data


def test_the_memory_plan_counts_data_weights_gradients_and_optimizer_state(folder):
    p = project(folder)
    model, _, data = prepare(p)
    estimate = plan(model, data, p.training)
    assert estimate.data == 90 * 64 * 64 * 3 + 90 * 8  # uint8 pixels + int64 labels
    params = sum(q.numel() for q in model.parameters())
    assert estimate.weights == params * 4 and estimate.grads == params * 4
    assert estimate.optimizer == 2 * params * 4  # Adam: two moments
    assert estimate.text().startswith("memory: data 1.1 MB (in memory), weights 384.1 kB")


def test_augmentation_runs_on_the_device_while_training_and_normalises_always(folder):
    import torch

    from designer.core.errors import ParamError
    from designer.core.training import recipe

    settings = {"augment": {"crop": 0.6, "flip": True, "rotation": 15, "jitter": 0.2}}
    settings["augment"]["normalize"] = "imagenet"
    torch.manual_seed(0)
    xb = torch.rand(8, 3, 16, 16)
    seen = recipe.augment(xb, settings, training=True)
    assert seen.shape == xb.shape and not torch.allclose(seen, recipe.augment(xb, settings, False))
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in recipe.IMAGENET)
    assert torch.allclose(recipe.augment(xb, settings, training=False), (xb - mean) / std)
    p = project(folder, epochs=1, augment=settings["augment"])
    _, _, metrics = epochs(p)
    assert len(metrics) == 1 and np.isfinite(metrics[0]["train_loss"])
    with pytest.raises(ParamError, match="augment.crop"):
        TrainingConfig.from_dict({"augment": {"crop": 2}})
