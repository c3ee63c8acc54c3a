"""Blocks and import in the window: Make Block and Make Unique are one undo step each; the
import dialog says when a file will be executed; an imported model opens with its blocks."""

from __future__ import annotations

from designer.core.project import Project
from designer.core.project_io import load_project
from designer.ui.block_actions import ImportDialog
from tests.core.test_blocks import FORMAT3, _residual_mlp
from tests.ui import test_main_window as _main_window

# The main window tests' fixtures (a window with its own recovery folder; settings come from
# tests/ui/conftest.py).
make_window, window = _main_window.make_window, _main_window.window


def _show(window, graph) -> None:
    window.files.set_project(Project(graph=graph, name="t"))


def test_make_block_is_one_undo_step_and_redo_restores_it(window):
    graph, chosen = _residual_mlp()
    _show(window, graph)
    doc = window.document
    before = doc.graph.copy()
    doc.select(chosen)
    assert window.blocks.make_block("residual")
    after = doc.graph.copy()
    assert list(doc.graph.blocks) == ["Residual"] and doc.analysis.ok
    assert window.undo_action.text() == "Undo Make block Residual"
    doc.undo()
    assert doc.graph.same_as(before)
    doc.redo()
    assert doc.graph.same_as(after)


def test_make_unique_is_one_undo_step(window):
    _show(window, load_project(FORMAT3).graph)
    doc = window.document
    before = doc.graph.copy()
    doc.select(["n3"])
    assert window.blocks.make_unique()
    assert doc.graph.nodes["n3"].params["block"] == "Residual2"
    assert doc.graph.nodes["n2"].params["block"] == "Residual"
    doc.undo()
    assert doc.graph.same_as(before)
    doc.redo()
    assert "Residual2" in doc.graph.blocks


def test_make_block_of_nothing_says_why_and_changes_nothing(window):
    graph, _chosen = _residual_mlp()
    _show(window, graph)
    window.document.select([])
    assert not window.blocks.make_block("b")
    assert "select the layers" in window.statusBar().currentMessage()


def test_import_dialog_says_a_python_file_is_executed(qtbot):
    dialog = ImportDialog()
    qtbot.addWidget(dialog)
    assert not dialog.ok_button.isEnabled()
    dialog.source_edit.setText("/tmp/model.py:Net")
    assert "runs it" in dialog.warning.text() and dialog.ok_button.isEnabled()
    dialog.source_edit.setText("model.pt2")
    assert "nothing in it is executed" in dialog.warning.text()
    dialog.shape_edit.setText("3 x a")
    assert not dialog.ok_button.isEnabled()


def test_import_opens_the_model_as_an_unsaved_project(window, tmp_path):
    path = tmp_path / "mlp.py"
    path.write_text(
        "from torch import nn\n\n\nclass Block(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.fc = nn.Linear(4, 4)\n        self.act = nn.ReLU()\n\n"
        "    def forward(self, x):\n        return x + self.act(self.fc(x))\n\n\n"
        "def make():\n    return nn.Sequential(Block(), Block(), nn.Linear(4, 2))\n",
        "utf-8",
    )
    assert window.blocks.import_model(f"{path}:make", (4,))
    g = window.document.graph
    assert list(g.blocks) == ["Block"] and len(g.block_uses("Block")) == 2
    assert window.document.analysis.ok and window.document.is_modified()
