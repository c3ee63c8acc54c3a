"""Pretrained backbones: torchvision's weight download path (cache, SHA-256 prefix, offline
message), tested with locally generated weights served from a local folder."""

from __future__ import annotations

import hashlib
import socket

import pytest
import torch

from designer.core.backbones import (
    BACKBONES,
    DownloadCancelled,
    backbone,
    fetch_weights,
    set_classes,
    weights_url,
)
from tests.core.test_downloads import server  # noqa: F401 - the local HTTP server fixture


def test_every_backbone_has_torchvision_weights_with_a_hash_in_the_name():
    assert set(BACKBONES) == {
        "resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0",
        "convnext_tiny",
    }  # fmt: skip
    assert weights_url("resnet18") == "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    from designer.core.importer.tv import torchvision_models

    for b in BACKBONES.values():  # the sizes the palette and the CLI show are torchvision's
        weights = getattr(torchvision_models(), b.weights).DEFAULT
        assert b.megabytes == weights.meta["_file_size"], b.name
        assert weights.url.startswith("https://download.pytorch.org/models/"), b.name


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

    loaded = backbone("resnet18", (3, 32, 32), url=url + name, root=tmp_path / "c")
    result, report = loaded.result, loaded.report
    assert loaded.weights == tmp_path / "c" / "backbones" / name
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


def test_a_cancelled_download_leaves_nothing_in_the_cache(server, tmp_path):  # noqa: F811
    url, www, _seen = server
    (www / "resnet18-abcdef12.pth").write_bytes(b"x" * 300_000)  # several chunks
    calls = []
    with pytest.raises(DownloadCancelled, match="cancelled"):
        fetch_weights(
            "resnet18",
            progress=lambda *a: calls.append(a),
            url=url + "resnet18-abcdef12.pth",
            root=tmp_path,
            cancelled=lambda: len(calls) >= 2,
        )
    assert len(calls) == 2
    assert list((tmp_path / "backbones").iterdir()) == []  # no file, no .part


def test_a_new_head_replaces_the_classifiers_last_linear():
    from designer.core.importer.api import import_model

    resnet = import_model("torchvision:resnet18", (3, 32, 32)).project.graph
    assert set_classes(resnet, 7) == "fc"
    assert resnet.by_name("fc").params["out_features"] == 7
    mobile = import_model("torchvision:mobilenet_v2", (3, 32, 32)).project.graph
    assert set_classes(mobile, 4) == "classifier.1"  # Sequential(Dropout, Linear): the Linear
    (use,) = [n for n in mobile.nodes.values() if n.name == "classifier"]
    inner = mobile.blocks[use.params["block"]]
    assert [n.params["out_features"] for n in inner.nodes.values() if n.type_id == "linear"] == [4]


def test_cli_lists_the_backbones_and_makes_a_pretrained_project_with_a_new_head(
    tmp_path, capsys, monkeypatch
):
    from designer.cli import main
    from designer.core.importer.tv import torchvision_models
    from designer.core.project_io import load_project
    from designer.core.weights import read_weights

    monkeypatch.setenv("NETCANVAS_CACHE", str(tmp_path / "cache"))
    assert main(["backbones"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == list(BACKBONES)
    assert "ResNet-18" in listed[0] and "45 MB" in listed[0] and "not downloaded" in listed[0]

    torch.manual_seed(3)
    donor = torchvision_models().resnet18()
    raw = tmp_path / "raw.pth"
    torch.save(donor.state_dict(), raw)
    name = f"resnet18-{hashlib.sha256(raw.read_bytes()).hexdigest()[:8]}.pth"
    (tmp_path / name).write_bytes(raw.read_bytes())
    out = tmp_path / "tuned.netcanvas"
    args = ["backbones", "resnet18", "-o", str(out), "--pretrained", "--classes", "3"]
    args += ["--input-shape", "3x32x32", "--weights-url", (tmp_path / name).as_uri()]
    assert main(args) == 0
    said = capsys.readouterr()
    assert "2 skipped (shape differs: fc.weight" in said.out and "new head: fc" in said.out
    assert "downloading " + name in said.err  # the progress line
    project = load_project(out)
    origins = project.weight_origins
    assert (
        origins["layer4.1.conv2"].kind == "pretrained" and origins["layer4.1.conv2"].source == name
    )
    assert origins["fc"].kind == "fresh"
    state = read_weights(project.weights_path)
    assert torch.equal(state["conv1.weight"], donor.state_dict()["conv1.weight"])
    assert state["fc.weight"].shape == (3, 512)
    assert (tmp_path / "cache" / "backbones" / name).is_file()  # into the user cache

    bad = tmp_path / "resnet50-00000000.pth"  # a hash the file does not have
    bad.write_bytes(raw.read_bytes())
    args = ["backbones", "resnet50", "-o", str(tmp_path / "x.netcanvas"), "--pretrained"]
    assert main([*args, "--weights-url", bad.as_uri()]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress line
    assert err.startswith("netcanvas: error: resnet50: resnet50-00000000.pth from file://")
    assert "is damaged (SHA-256" in err and "expected 00000000" in err
    assert not (tmp_path / "x.netcanvas").exists()
    assert not (tmp_path / "cache" / "backbones" / bad.name).exists()
