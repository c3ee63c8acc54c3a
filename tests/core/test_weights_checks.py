"""Weights files are checked before anything big is allocated: a hostile header is refused at
once, sizes are checked against the file and free memory, and dtypes and NaNs are not silent."""

from __future__ import annotations

import json
import struct
import time

import pytest
import torch
from safetensors.torch import save

from designer.core import limits
from designer.core.compiler import build_model
from designer.core.weights import WeightsError, load_weights, read_header, save_weights
from tests.core.helpers import chain


def mlp():
    model, _ = build_model(
        chain(("linear", {"out_features": 4}), ("linear", {"out_features": 2})), "Net"
    )
    return model


def _raw(header: dict, body: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def test_a_header_with_a_million_tensors_is_refused_at_once(tmp_path):
    path = tmp_path / "many.safetensors"
    entries = ",".join(
        f'"t{i}":{{"dtype":"F32","shape":[1],"data_offsets":[{4 * i},{4 * i + 4}]}}'
        for i in range(1_000_000)
    )
    text = ("{" + entries + "}").encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"\0" * 4_000_000)
    started = time.perf_counter()
    with pytest.raises(WeightsError, match="header declares .* bytes; at most"):
        load_weights(mlp(), path)
    assert time.perf_counter() - started < 2  # before: 22-26 s


def test_more_tensors_than_the_limit_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_TENSORS", 3)
    header = {
        f"t{i}": {"dtype": "F32", "shape": [1], "data_offsets": [4 * i, 4 * i + 4]}
        for i in range(4)
    }
    path = tmp_path / "w.safetensors"
    path.write_bytes(_raw(header, b"\0" * 16))
    with pytest.raises(WeightsError, match="declares 4 tensors; at most 3"):
        read_header(path)


def test_a_file_bigger_than_memory_is_refused_from_its_header(tmp_path, monkeypatch):
    header = {"w": {"dtype": "F32", "shape": [1024, 1024, 256], "data_offsets": [0, 2**30]}}
    path = tmp_path / "huge.safetensors"
    with path.open("wb") as f:
        f.write(_raw(header))
        f.truncate(f.tell() + 2**30)  # sparse: nothing is written
    monkeypatch.setattr(limits, "available_memory", lambda: 512 * 2**20)
    with pytest.raises(
        WeightsError, match=r"too big to load: its tensors need 1.0 GB and only 512.0 MB"
    ):
        load_weights(mlp(), path)


def test_a_header_that_promises_more_than_the_file_holds_is_refused(tmp_path):
    header = {"w": {"dtype": "F32", "shape": [10**9], "data_offsets": [0, 4 * 10**9]}}
    path = tmp_path / "lie.safetensors"
    path.write_bytes(_raw(header, b"\0" * 64))
    with pytest.raises(WeightsError, match="need 4,000,000,000 bytes but the file is only"):
        read_header(path)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64, torch.bfloat16])
def test_float_weights_of_another_precision_are_converted_with_a_note(tmp_path, dtype):
    model = mlp()
    path = tmp_path / "w.safetensors"
    path.write_bytes(save({k: v.to(dtype) for k, v in model.state_dict().items()}))
    fresh = mlp()
    notes = load_weights(fresh, path)
    assert notes and "Converted 4 tensor(s)" in notes[0] and str(dtype).split(".")[1] in notes[0]
    assert all(v.dtype == torch.float32 for v in fresh.state_dict().values())
    for k, v in model.state_dict().items():
        assert torch.allclose(fresh.state_dict()[k], v.to(dtype).float())


@pytest.mark.parametrize("dtype", [torch.bool, torch.int64])
def test_weights_that_are_not_floats_are_refused(tmp_path, dtype):
    model = mlp()
    path = tmp_path / "w.safetensors"
    path.write_bytes(save({k: v.to(dtype) for k, v in model.state_dict().items()}))
    with pytest.raises(
        WeightsError, match=f"is {str(dtype).split('.')[1]} in the file but float32 in the model"
    ):
        load_weights(mlp(), path)


def test_non_finite_weights_load_with_a_warning(tmp_path):
    model = mlp()
    with torch.no_grad():
        model.state_dict()["linear1.weight"][0, 0] = float("nan")
    path = save_weights(model, tmp_path / "nan.safetensors")
    notes = load_weights(mlp(), path)
    assert any(
        n.startswith("Warning: 1 tensor(s) hold NaN") and "linear1.weight" in n for n in notes
    )


def test_a_good_file_loads_without_notes(tmp_path):
    path = save_weights(mlp(), tmp_path / "ok.safetensors")
    assert load_weights(mlp(), path) == []
