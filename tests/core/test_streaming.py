"""Images at scale: pixels held as uint8, and image folders larger than the memory budget
streamed from disk through DataLoader workers with the same split, order and losses."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from designer.core.data import load_dataset
from designer.core.data.streaming import StreamedImages
from designer.core.project import Project
from designer.core.training.config import DataConfig, TrainingConfig
from designer.core.training.engine import prepare, train
from designer.core.training.events import EpochEnd, Failed, Finished
from designer.core.training.memory import plan
from tests.core.helpers import chain


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """The user cache (where decoded pixels are kept) in the test's own folder."""
    monkeypatch.setenv("NETCANVAS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("NETCANVAS_IMAGE_CACHE", raising=False)
    return tmp_path / "cache"


@pytest.fixture
def folder(tmp_path):
    """90 generated 64×64 RGB pictures in 3 classes: about 1.1 MB of pixels."""
    rng = np.random.default_rng(0)
    for c in range(3):
        (tmp_path / "pictures" / f"class{c}").mkdir(parents=True)
        for i in range(30):
            pixels = rng.integers(0, 120, (64, 64, 3), dtype=np.uint8)
            pixels[..., c] += 120
            Image.fromarray(pixels).save(tmp_path / "pictures" / f"class{c}" / f"{i}.png")
    return tmp_path / "pictures"


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


def test_a_budget_below_the_data_streams_with_the_same_losses_as_in_memory(
    folder, cache, monkeypatch
):
    held, _, in_memory = epochs(project(folder))
    # Decoded every epoch by the workers, then with the decoded-once cache (the default):
    # epoch 1 decodes and keeps the pixels, epochs 2 and 3 read them back from the cache.
    monkeypatch.setenv("NETCANVAS_IMAGE_CACHE", "off")
    _, _, decoded = epochs(project(folder, memory_budget_mb=1))
    assert not cache.exists()
    monkeypatch.delenv("NETCANVAS_IMAGE_CACHE")
    streamed_data, model, streamed = epochs(project(folder, memory_budget_mb=1))
    assert isinstance(held.x_train, np.ndarray)
    assert isinstance(streamed_data.x_train, StreamedImages)
    assert streamed_data.x_train.cache.ready and streamed_data.x_test.cache.ready
    assert len(list((cache / "images").iterdir())) == 2  # train and test, nothing left over
    assert any(n.startswith("streamed from disk: 1 MB of pixels") for n in streamed_data.notes)
    assert len(in_memory) == len(decoded) == len(streamed) == 3
    for run in (decoded, streamed):
        for a, b in zip(in_memory, run, strict=True):
            for key in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
                assert abs(a[key] - b[key]) <= 1e-5, (key, a[key], b[key])
    assert plan(model, streamed_data, project(folder).training).where == "streamed"
    np.testing.assert_array_equal(
        streamed_data.x_train[:2].numpy(), load_dataset(held_config(folder)).x_train[:2]
    )


def streamed(folder):
    return load_dataset(held_config(folder), budget_bytes=1)


def one_epoch(images, batch_size=16):
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    steps = -(-len(images) // batch_size)
    return order, torch.cat(list(images.batches(order, batch_size, steps)))


def test_the_decoded_pixel_cache_is_remade_when_an_image_changes(folder, cache):
    first = streamed(folder).x_train
    order, decoded = one_epoch(first)
    assert first.cache.ready
    np.testing.assert_array_equal(decoded.numpy(), first[order.tolist()].numpy())
    _, again = one_epoch(streamed(folder).x_train)  # a later run reads the cache
    assert torch.equal(again, decoded)
    changed = first.files[int(order[0])]
    Image.fromarray(np.full((64, 64, 3), 7, np.uint8)).save(changed)
    second = streamed(folder).x_train
    assert not second.cache.ready and second.cache.path != first.cache.path
    _, fresh = one_epoch(second)
    assert (fresh[0] == 7).all() and torch.equal(fresh[1:], decoded[1:])
    assert second.cache.ready and not first.cache.path.exists()  # the stale one is gone
    _, cached = one_epoch(streamed(folder).x_train)
    assert torch.equal(cached, fresh)


@pytest.mark.parametrize("blocked", ["read-only folder", "a file in the way"])
def test_a_cache_folder_that_cannot_be_written_streams_with_one_clear_note(folder, cache, blocked):
    if blocked == "read-only folder":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        (cache / "images").mkdir(parents=True)
        (cache / "images").chmod(0o555)
    else:
        cache.parent.mkdir(exist_ok=True)
        cache.write_text("not a folder")
    data = streamed(folder)
    said = [n for n in data.notes if "not caching" in n]
    assert len(said) == 1 and "\n" not in said[0] and "every epoch decodes" in said[0]
    assert str(cache) in said[0] and data.x_train.cache is None
    _, _, metrics = epochs(project(folder, memory_budget_mb=1, epochs=2))
    assert len(metrics) == 2 and np.isfinite(metrics[-1]["train_loss"])


def test_a_corrupt_image_in_a_streamed_folder_fails_the_run_with_one_line_naming_it(folder):
    broken = folder / "class1" / "17.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    model, _, data = prepare(project(folder, memory_budget_mb=1))
    events = list(train(model, data, project(folder).training))
    assert isinstance(events[-1], Failed)
    message = events[-1].message
    assert str(broken) in message and "not a readable image" in message
    assert "Traceback" not in message and "worker" not in message


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
