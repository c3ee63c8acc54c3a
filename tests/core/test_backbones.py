"""Pretrained backbones: torchvision's weight download path (cache, SHA-256 prefix, offline
message), tested with locally generated weights served from a local folder."""

from __future__ import annotations

import hashlib
import socket

import pytest
import torch

from designer.core.backbones import BACKBONES, backbone, fetch_weights, weights_url
from tests.core.test_downloads import server  # noqa: F401 - the local HTTP server fixture


def test_every_backbone_has_torchvision_weights_with_a_hash_in_the_name():
    assert set(BACKBONES) == {
        "resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0",
        "convnext_tiny",
    }  # fmt: skip
    assert weights_url("resnet18") == "https://download.pytorch.org/models/resnet18-f37072fd.pth"


def test_resnet18_weights_download_once_check_their_hash_and_load_by_name(
    server,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    from designer.core.importer.tv import torchvision_models

    url, www, seen = server
    torch.manual_seed(7)
    donor = torchvision_models().resnet18()
    raw = tmp_path / "w.pth"
    torch.save(donor.state_dict(), raw)
    sha = hashlib.sha256(raw.read_bytes()).hexdigest()
    name = f"resnet18-{sha[:8]}.pth"
    (www / name).write_bytes(raw.read_bytes())

    result, report = backbone("resnet18", (3, 32, 32), url=url + name, root=tmp_path / "c")
    assert len(report.matched) == len(donor.state_dict()) and not report.skipped
    assert torch.equal(result.model.state_dict()["layer4.1.conv2.weight"],
                       donor.state_dict()["layer4.1.conv2.weight"])  # fmt: skip
    fetch_weights("resnet18", url=url + name, root=tmp_path / "c")
    assert len(seen) == 1  # cached

    (www / "resnet18-00000000.pth").write_bytes(raw.read_bytes())
    with pytest.raises(ValueError, match="is damaged"):
        fetch_weights("resnet18", url=url + "resnet18-00000000.pth", root=tmp_path / "d")


def test_offline_weights_are_one_line(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OSError) as err:
        fetch_weights(
            "resnet50", url=f"http://127.0.0.1:{port}/resnet50-11ad3fa6.pth", root=tmp_path
        )
    text = str(err.value)
    assert "\n" not in text and text.startswith("resnet50: cannot download resnet50-11ad3fa6.pth")
