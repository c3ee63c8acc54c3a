"""Weights files: safetensors round trip, clear errors for foreign or corrupt files, no pickle."""

from __future__ import annotations

import pickle

import pytest
import torch

from designer.core.compiler import build_model
from designer.core.examples import build_example
from designer.core.weights import WeightsError, load_weights, read_weights, save_weights
from tests.core.helpers import chain


def mlp(hidden: int, extra: bool = False):
    layers = [("linear", {"out_features": hidden}), ("relu", {}), ("linear", {"out_features": 3})]
    if extra:
        layers += [("linear", {"out_features": 2})]
    model, _ = build_model(chain(*layers), "Net")
    return model


def test_round_trip_restores_every_tensor_and_the_outputs(tmp_path):
    torch.manual_seed(0)
    trained, _ = build_model(build_example("digits_cnn").graph, "digits_cnn")
    path = save_weights(trained, tmp_path / "m.safetensors")
    torch.manual_seed(1)
    fresh, _ = build_model(build_example("digits_cnn").graph, "digits_cnn")
    x = torch.randn(5, 1, 8, 8)
    assert not torch.equal(fresh(x), trained(x))
    load_weights(fresh, path)
    assert torch.equal(fresh(x), trained(x))
    for key, value in trained.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value)


def test_buffers_are_saved_too(tmp_path):
    model, _ = build_model(chain(("linear", {"out_features": 4}), ("batch_norm1d", {})), "Net")
    model.train()
    model(torch.randn(16, 4) * 3 + 1)  # moves the running statistics
    save_weights(model, tmp_path / "bn.safetensors")
    other, _ = build_model(chain(("linear", {"out_features": 4}), ("batch_norm1d", {})), "Net")
    load_weights(other, tmp_path / "bn.safetensors")
    for key, value in model.state_dict().items():
        assert torch.equal(other.state_dict()[key], value), key


def test_file_from_a_wider_model_names_the_tensor_and_both_shapes(tmp_path):
    path = save_weights(mlp(32), tmp_path / "wide.safetensors")
    model = mlp(16)
    with pytest.raises(WeightsError) as err:
        load_weights(model, path)
    assert str(err.value) == (
        f"{path}: does not fit this model: tensor 'linear1.weight' is 32×4 in the file "
        "but 16×4 in the model"
    )


def test_missing_and_unexpected_tensors_are_named(tmp_path):
    short = save_weights(mlp(16), tmp_path / "short.safetensors")
    with pytest.raises(WeightsError, match=r"tensor 'linear4\.weight' is missing from the file$"):
        load_weights(mlp(16, extra=True), short)
    long = save_weights(mlp(16, extra=True), tmp_path / "long.safetensors")
    with pytest.raises(
        WeightsError, match=r"the file has a tensor 'linear4\.bias' the model lacks$"
    ):
        load_weights(mlp(16), long)


def test_a_failed_load_leaves_the_model_unchanged(tmp_path):
    path = save_weights(mlp(32), tmp_path / "wide.safetensors")
    model = mlp(16)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(WeightsError):
        load_weights(model, path)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],
        lambda b: b[:7],
        lambda b: b"",
        lambda b: b"\xff" * 8 + b[8:],
        lambda b: b[:8] + b"{not json" + b[17:],
    ],
    ids=["half", "header-cut", "empty", "huge-header-length", "bad-header"],
)
def test_corrupt_file_is_one_clear_error(damage, tmp_path):
    good = save_weights(mlp(16), tmp_path / "good.safetensors").read_bytes()
    path = tmp_path / "bad.safetensors"
    path.write_bytes(damage(good))
    with pytest.raises(WeightsError) as err:
        load_weights(mlp(16), path)
    message = str(err.value)
    assert message.startswith(f"{path}: is not a valid weights file (")
    assert "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(WeightsError, match=r"gone\.safetensors: no such file$"):
        load_weights(mlp(16), tmp_path / "gone.safetensors")


class _Booby:
    """Unpickling this would write a marker file: the proof that nothing unpickles."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"linear1.weight": _Booby(marker)}))
    with pytest.raises(WeightsError, match="is not a valid weights file"):
        load_weights(mlp(16), path)
    assert not marker.exists()
    # A torch.save checkpoint (a pickle inside a zip) is refused the same way.
    torch.save(mlp(16).state_dict(), tmp_path / "ckpt.safetensors")
    with pytest.raises(WeightsError, match="is not a valid weights file"):
        read_weights(tmp_path / "ckpt.safetensors")


def test_loading_never_touches_pickle(tmp_path, monkeypatch):
    path = save_weights(mlp(16), tmp_path / "m.safetensors")

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    load_weights(mlp(16), path)
    assert set(read_weights(path)) == set(mlp(16).state_dict())
