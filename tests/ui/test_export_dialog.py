"""ExportDialog: each format written through designer.core.export, trained weights included."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import sys

import pytest
from PySide6.QtWidgets import QDialog

from designer.core.examples import build_example
from designer.ui.document import Document
from designer.ui.export_dialog import ExportDialog


@pytest.fixture
def document():
    return Document(build_example("iris_mlp"))


@pytest.fixture
def trained(document):
    """A state dict that differs from a fresh model's, as training would leave it."""
    import torch

    from designer.core.compiler import build_model

    model, _source = build_model(document.graph, document.project.name)
    with torch.no_grad():
        for i, param in enumerate(model.parameters()):
            param.copy_(torch.linspace(-1, 1, param.numel()).reshape(param.shape) * (i + 1))
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.fixture
def make_dialog(qtbot):
    def make(document, state=None):
        dialog = ExportDialog(document, lambda: state)
        qtbot.addWidget(dialog)
        return dialog

    return make


@pytest.fixture
def click_export(qtbot):
    """Press Export and wait (on the dialog's signal) until the outcome is shown."""

    def click(dialog) -> None:
        with qtbot.waitSignal(dialog.export_finished, timeout=120_000):
            dialog._export_clicked()

    return click


@pytest.fixture
def export(click_export):
    return lambda dialog, fmt, path: _export(click_export, dialog, fmt, path)


def _export(click_export, dialog, fmt, path):
    dialog.set_format(fmt)
    dialog.set_path(path)
    click_export(dialog)
    assert dialog.error_box is None, dialog.error_box.text()
    # Always told where the file went (and any note: a table written beside a script).
    box = dialog.notes_box
    assert box is not None and box.isVisible() and f"Exported {path}." in box.text()
    assert all(note in box.text() for note in dialog.notes)
    assert dialog.result() != QDialog.DialogCode.Accepted  # open until the user has read it
    box.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.written == path
    return path


def test_python_export_writes_a_module_that_imports_and_runs(
    make_dialog, document, tmp_path, export
):
    out = export(make_dialog(document), "python", tmp_path / "iris_net.py")
    code = (
        "import sys, torch\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import iris_net\n"
        "model = iris_net.make_model()\n"
        "print(tuple(model(torch.zeros(5, 4)).shape))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "(5, 3)"
    assert out.read_text().count("import torch") >= 1


def test_training_script_export_writes_valid_python(make_dialog, document, tmp_path, export):
    out = export(make_dialog(document), "script", tmp_path / "train.py")
    text = out.read_text()
    compile(text, str(out), "exec")
    assert "iris" in text
    assert (tmp_path / "netcanvas_iris.npz").exists()  # the table, for a torch-only machine


def test_pt2_export_carries_the_trained_weights(make_dialog, document, trained, tmp_path, export):
    import torch

    dialog = make_dialog(document, trained)
    dialog.set_format("pt2")
    assert dialog.use_trained.isEnabled() and dialog.use_trained.isChecked()
    out = export(dialog, "pt2", tmp_path / "iris.pt2")
    program = torch.export.load(str(out))
    x = torch.linspace(-2, 2, 12).reshape(3, 4)
    got = program.module()(x)
    from designer.core.compiler import build_model

    model, _source = build_model(document.graph, document.project.name)
    model.load_state_dict(trained)
    fresh = model(x)
    assert torch.allclose(got, fresh, atol=1e-5)


def test_onnx_export_carries_the_trained_weights(make_dialog, document, trained, tmp_path, export):
    import numpy as np
    import onnx
    from onnx import numpy_helper

    out = export(make_dialog(document, trained), "onnx", tmp_path / "iris.onnx")
    graph = onnx.load(str(out)).graph
    arrays = [numpy_helper.to_array(t) for t in graph.initializer]
    want = trained["hidden.weight"].numpy()
    assert any(a.shape == want.shape and np.allclose(a, want) for a in arrays)


def test_weights_export_needs_trained_weights_and_writes_them(
    make_dialog, document, trained, tmp_path, export
):
    import torch

    from designer.core.weights import read_weights

    untrained = make_dialog(document)
    untrained.set_format("weights")
    assert not untrained.export_button.isEnabled()
    assert "Train" in untrained.note.text()
    out = export(make_dialog(document, trained), "weights", tmp_path / "iris.safetensors")
    saved = read_weights(out)
    assert set(saved) == set(trained)
    assert all(torch.equal(saved[k], trained[k]) for k in trained)


def test_a_failure_is_one_line_in_a_message_box(make_dialog, document, tmp_path, click_export):
    dialog = make_dialog(document)
    dialog.set_format("python")
    dialog.set_path(tmp_path / "missing" / "net.py")
    click_export(dialog)
    box = dialog.error_box
    assert box is not None and box.isVisible()
    assert "missing" in box.text()
    assert "\n" not in box.text() and "Traceback" not in box.text()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert not (tmp_path / "missing").exists()


def test_weights_from_an_older_graph_are_refused_clearly(
    make_dialog, document, trained, tmp_path, click_export
):
    document.graph.set_param("n2", "out_features", 8)  # edited after training
    dialog = make_dialog(document, trained)
    dialog.set_format("weights")
    dialog.set_path(tmp_path / "w.safetensors")
    click_export(dialog)
    assert dialog.error_box is not None
    assert "no longer fit" in dialog.error_box.text()
    assert not (tmp_path / "w.safetensors").exists()


def test_changing_the_format_changes_the_file_suffix(make_dialog, document, tmp_path):
    dialog = make_dialog(document)
    dialog.set_format("python")
    dialog.set_path(tmp_path / "mine.py")
    dialog.set_format("onnx")
    assert dialog.path.text() == str(tmp_path / "mine.onnx")
    assert not dialog.use_trained.isHidden() and not dialog.use_trained.isEnabled()
    assert "freshly initialised" in dialog.note.text()
    dialog.set_format("python")
    assert dialog.use_trained.isHidden()
    fresh = make_dialog(document)
    fresh.set_format("script")
    assert fresh.path.text().endswith("train.py")


def test_the_dialog_and_the_cli_list_the_same_formats_from_one_table(make_dialog, document):
    from designer.cli import build_parser
    from designer.core.export import FORMATS

    dialog = make_dialog(document)
    listed = [
        (dialog.format.itemData(i), dialog.format.itemText(i)) for i in range(dialog.format.count())
    ]
    assert listed == [(f.key, f.title) for f in FORMATS]
    sub = next(a for a in build_parser()._subparsers._group_actions if a.dest == "command")
    fmt = next(a for a in sub.choices["export"]._actions if a.dest == "format")
    assert list(fmt.choices) == [key for key, _title in listed]
    for f in FORMATS:  # the dialog shows the table's note and proposes its suffix
        dialog.set_format(f.key)
        assert dialog.note.text().startswith(f.note) or f.needs_weights
        assert dialog.path.text().endswith(f.suffix)


def test_a_fixed_batch_export_says_so_before_the_dialog_closes(
    make_dialog, monkeypatch, qtbot, tmp_path, click_export
):
    from designer.core.export import EXAMPLE_BATCH
    from designer.core.graph import Edge, Graph
    from designer.core.layers import registry
    from designer.core.layers.spec import LayerSpec, ModuleCode
    from designer.core.project import Project

    fixed = LayerSpec(
        type_id="test_fixed_batch",
        title="FixedBatch",
        category="Test",
        doc="",
        params=(),
        infer=lambda params, in_shapes: in_shapes[0],
        emit=lambda params, in_shapes: ModuleCode(
            None, lambda m, xs: f"{xs[0]}.reshape({EXAMPLE_BATCH}, -1)"
        ),
    )
    monkeypatch.setitem(registry._SPECS, fixed.type_id, fixed)
    g = Graph()
    nodes = [g.add_node(t) for t in ("input", fixed.type_id, "output")]
    for a, b in zip(nodes, nodes[1:], strict=False):
        g.connect(Edge(a.id, b.id))
    dialog = make_dialog(Document(Project(graph=g, name="fixed")))
    dialog.set_format("pt2")
    dialog.set_path(tmp_path / "fixed.pt2")
    click_export(dialog)
    assert dialog.error_box is None
    box = dialog.notes_box
    assert box is not None and box.isVisible()
    assert f"Exported with a fixed batch of {EXAMPLE_BATCH} because" in box.text()
    assert dialog.result() != QDialog.DialogCode.Accepted  # still open: the user reads first
    with qtbot.waitSignal(dialog.accepted):
        box.accept()
    assert dialog.written == tmp_path / "fixed.pt2" and dialog.written.exists()


def test_export_runs_in_the_background_and_offers_the_folder(
    make_dialog, document, tmp_path, qtbot, monkeypatch
):
    """An ONNX export takes seconds: the dialog keeps answering, shows it is busy, then says
    where the file went with a button that opens its folder."""
    import threading

    from designer.ui import export_dialog as module

    release = threading.Event()
    real = module.ExportDialog._prepare

    def slow_prepare(self):
        work = real(self)
        return lambda: (release.wait(30), work())[1]

    monkeypatch.setattr(module.ExportDialog, "_prepare", slow_prepare)
    opened = []
    monkeypatch.setattr(module.QDesktopServices, "openUrl", lambda url: opened.append(url))
    dialog = make_dialog(document)
    dialog.show()
    dialog.set_format("python")
    dialog.set_path(tmp_path / "net.py")
    dialog._export_clicked()
    # Still writing: the event loop turns, the bar moves, nothing can be pressed twice.
    qtbot.waitUntil(dialog.busy.isVisible)
    assert not dialog.export_button.isEnabled() and "Exporting" in dialog.note.text()
    with qtbot.waitSignal(dialog.export_finished, timeout=30_000):
        release.set()
    assert not dialog.busy.isVisible() and dialog.export_button.isEnabled()
    box = dialog.notes_box
    assert box is not None and f"Exported {tmp_path / 'net.py'}." in box.text()
    (folder,) = [b for b in box.buttons() if b.text() == "Open Folder"]
    folder.click()
    assert [u.toLocalFile() for u in opened] == [str(tmp_path)]
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted)
