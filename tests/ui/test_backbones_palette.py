"""Backbones in the palette: a section of their own (core.backbones' list); dropped on the
canvas, a backbone's torchvision architecture arrives as blocks in the current graph (one undo
step) with its weights downloaded through the real path (locally generated weights served
from a local folder, never the network), a progress dialog that cancels, a new head, and one
clear message when torchvision is missing or the hash is wrong."""

from __future__ import annotations

import hashlib
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
import torch
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QProgressDialog, QPushButton

from designer.core.backbones import BACKBONES
from designer.core.examples import example_path
from designer.core.project_io import load_project
from designer.ui.backbone_actions import BackboneOptions
from designer.ui.canvas.view import BACKBONE_MIME
from designer.ui.main_window import Answer, MainWindow
from designer.ui.palette import BACKBONE_ROLE, Palette
from tests.ui.test_canvas import send_drop

TIMEOUT = 120_000


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, settings):
    monkeypatch.setenv("NETCANVAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setenv("NETCANVAS_CACHE", str(tmp_path / "cache"))
    win = MainWindow(settings=settings)
    win.errors = []
    win.backbones.show_error = lambda title, text: win.errors.append(text)

    def let_go(w):
        w.ask_save_changes = lambda: Answer.Discard

    qtbot.addWidget(win, before_close_func=let_go)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    """Locally generated "ImageNet" weights for ResNet-18, named as torchvision names them."""
    from designer.core.importer.tv import torchvision_models

    folder = tmp_path_factory.mktemp("www")
    torch.manual_seed(11)
    donor = torchvision_models().resnet18()
    raw = folder / "raw.pth"
    torch.save(donor.state_dict(), raw)
    name = f"resnet18-{hashlib.sha256(raw.read_bytes()).hexdigest()[:8]}.pth"
    raw.rename(folder / name)
    return folder / name, donor.state_dict()


def test_the_palette_has_a_backbones_section_from_the_core_list(qtbot):
    palette = Palette()
    qtbot.addWidget(palette)
    top = [palette.tree.topLevelItem(i) for i in range(palette.tree.topLevelItemCount())]
    assert top[-1].text(0) == "Backbones" and top[-1] is palette.backbone_group
    assert [top[-1].child(i).text(0) for i in range(top[-1].childCount())] == [
        b.title for b in BACKBONES.values()
    ]
    item = palette.backbones["resnet18"]
    mime = palette.tree.mimeData([item])
    assert bytes(mime.data(BACKBONE_MIME).data()).decode() == "resnet18"
    assert item.data(0, BACKBONE_ROLE) == "resnet18" and "45 MB" in item.toolTip(0)
    palette.filter_edit.setText("mobilenet")
    shown = [n for n, it in palette.backbones.items() if not it.isHidden()]
    assert shown == ["mobilenet_v2", "mobilenet_v3_large"]
    assert palette.categories["Core"].isHidden()
    with qtbot.waitSignal(palette.backbone_requested) as got:
        palette._activated(palette.backbones["mobilenet_v2"], 0)
    assert got.args == ["mobilenet_v2"]


def test_a_dropped_resnet18_arrives_as_blocks_with_pretrained_weights_and_a_new_head(
    qtbot, window, weights_file
):
    path, donor = weights_file
    window.set_project(load_project(example_path("iris_mlp")))  # a model already there
    doc = window.document
    doc.rename(doc.graph.by_name("hidden").id, "fc")  # a name the backbone's head has too
    before = doc.graph.copy()
    count = len(before.nodes)
    window.backbones.mirrors["resnet18"] = path.as_uri()
    asked = []
    window.backbones.ask = lambda name: (
        asked.append(name) or BackboneOptions((3, 32, 32), pretrained=True, classes=4)
    )
    with qtbot.waitSignal(window.backbones.finished, timeout=TIMEOUT):
        assert send_drop(window.canvas, Palette.backbone_mime("resnet18"), QPointF(400, 300))
        assert window.findChild(QProgressDialog) is not None  # the download's progress
    assert asked == ["resnet18"] and window.errors == []
    graph = doc.graph
    assert "BasicBlock" in graph.blocks and len(graph.nodes) == count + 13
    head = graph.by_name("fc2")  # the torchvision fc, renamed beside the user's own fc
    assert head.params["out_features"] == 4
    assert doc.undo_stack.undoText() == "Add ResNet-18"
    assert "new head: fc2 has 4 outputs" in window.backbones.last_message

    panel = window.training_panel
    conv1 = graph.by_name("conv1").id
    layer4 = graph.by_name("layer4").id
    assert panel.origin_text(conv1) == f"pretrained ({path.name})"
    assert panel.origin_of(layer4) == "pretrained"
    assert panel.origin_of(head.id) == "fresh"  # shape differs: it starts fresh
    state = panel.trained_state()
    assert torch.equal(state["layer4.1.conv2.weight"], donor["layer4.1.conv2.weight"])
    doc.select([conv1])
    assert f"Weights: pretrained ({path.name})" in window.inspector.info.text()

    doc.undo()
    assert doc.graph.same_as(before)  # one step: layers and block definitions
    doc.redo()
    assert "BasicBlock" in doc.graph.blocks and len(doc.graph.nodes) == count + 13


def test_a_wrong_hash_is_refused_with_a_clear_message_and_nothing_is_added(
    qtbot, window, weights_file, tmp_path
):
    path, _donor = weights_file
    bad = tmp_path / "resnet18-00000000.pth"
    bad.write_bytes(path.read_bytes())
    window.backbones.mirrors["resnet18"] = bad.as_uri()
    window.backbones.ask = lambda name: BackboneOptions((3, 32, 32), pretrained=True)
    with qtbot.waitSignal(window.backbones.finished, timeout=TIMEOUT):
        assert window.backbones.request("resnet18", QPointF(0, 0))
    (text,) = window.errors
    assert "resnet18-00000000.pth" in text and "is damaged (SHA-256" in text
    assert "\n" not in text and window.document.graph.nodes == {}
    assert not list((tmp_path / "cache" / "backbones").iterdir())  # not kept


def test_without_torchvision_the_app_says_so(qtbot, window, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # `import torchvision` fails
    window.backbones.ask = lambda name: BackboneOptions((3, 32, 32), pretrained=True)
    with qtbot.waitSignal(window.backbones.finished, timeout=TIMEOUT):
        assert window.backbones.request("efficientnet_b0")
    (text,) = window.errors
    assert text == "torchvision is not installed: pip install 'netcanvas[torchvision]'"
    assert window.document.graph.nodes == {}


def test_cancelling_the_download_adds_nothing_and_leaves_no_file(qtbot, window, tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    name = "resnet18-abcdef12.pth"
    (www / name).write_bytes(b"x" * 400_000)
    release = threading.Event()

    class Slow(SimpleHTTPRequestHandler):  # the first chunk, then waits until released
        def copyfile(self, source, outputfile):
            outputfile.write(source.read(1 << 16))
            outputfile.flush()
            release.wait(30)
            super().copyfile(source, outputfile)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Slow, directory=str(www)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        actions = window.backbones
        actions.mirrors["resnet18"] = f"http://127.0.0.1:{httpd.server_port}/{name}"
        actions.ask = lambda _name: BackboneOptions((3, 32, 32), pretrained=True)
        with qtbot.waitSignal(actions.finished, timeout=TIMEOUT):
            assert actions.request("resnet18")
            qtbot.waitUntil(lambda: actions.progress.value() > 0, timeout=TIMEOUT)
            assert "Downloading the ImageNet weights: 0.1 of 0.4 MB" in (
                actions.progress.labelText()
            )
            button = actions.progress.findChild(QPushButton)
            assert button.text() == "Cancel"
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # the dialog's own button
            release.set()
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()
    assert actions.last_message == "Cancelled: the backbone was not added"
    assert window.document.graph.nodes == {} and window.errors == []
    assert not list((tmp_path / "cache" / "backbones").iterdir())


def test_a_backbone_is_not_added_while_training_locks_the_graph(window):
    window.document.set_read_only("training is running")
    window.backbones.ask = lambda name: pytest.fail("no dialog while locked")
    assert not window.backbones.request("resnet18")
    assert "training is running" in window.backbones.last_message


def test_the_dialog_offers_pretrained_weights_and_a_new_head(qtbot, window):
    from designer.ui.backbone_actions import BackboneDialog

    dialog = BackboneDialog(window, "resnet50", (3, 64, 64))
    qtbot.addWidget(dialog)
    assert dialog.shape.text() == "3x64x64" and "98 MB" in dialog.pretrained.text()
    assert dialog.options() == BackboneOptions((3, 64, 64), pretrained=True, classes=None)
    dialog.new_head.setChecked(True)
    dialog.classes.setValue(5)
    dialog.pretrained.setChecked(False)
    assert dialog.options() == BackboneOptions((3, 64, 64), pretrained=False, classes=5)
    dialog.shape.setText("3xfoo")
    dialog._accept()
    assert (
        dialog.result() == 0 and dialog.error.text() == "Input shape: expected sizes like 3x224x224"
    )


def test_offline_the_app_says_so_in_one_line(qtbot, window):
    import socket

    with socket.socket() as s:  # a port nobody listens on: what offline looks like
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    window.backbones.mirrors["resnet50"] = f"http://127.0.0.1:{port}/resnet50-11ad3fa6.pth"
    window.backbones.ask = lambda name: BackboneOptions((3, 32, 32), pretrained=True)
    with qtbot.waitSignal(window.backbones.finished, timeout=TIMEOUT):
        assert window.backbones.request("resnet50")
    (text,) = window.errors
    assert text.startswith("resnet50: cannot download resnet50-11ad3fa6.pth (offline?")
    assert "\n" not in text and window.document.graph.nodes == {}
