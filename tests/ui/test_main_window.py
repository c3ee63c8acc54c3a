"""The main window: files, title, closing, undo naming, clipboard, problems, summary, read-only."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtGui import QKeySequence as Keys
from PySide6.QtWidgets import QApplication

from designer.core.examples import example_path
from designer.core.graph import Edge
from designer.core.project_io import load_project
from designer.ui.main_window import Answer, MainWindow


@pytest.fixture
def make_window(qtbot, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("NETCANVAS_RECOVERY_DIR", str(tmp_path / "recovery"))

    def make() -> MainWindow:
        window = MainWindow(settings=settings)
        # Any unexpected question fails the test; tests that expect one replace this.
        window.ask_save_changes = lambda: pytest.fail("unexpected 'save changes?' question")
        window.show_error = lambda title, msg: pytest.fail(f"unexpected error: {title}: {msg}")
        qtbot.addWidget(window, before_close_func=_let_go)
        return window

    return make


def _let_go(window: MainWindow) -> None:
    """Before qtbot closes a window at teardown: drop unsaved test edits without asking."""
    window.ask_save_changes = lambda: Answer.Discard


@pytest.fixture
def window(make_window):
    return make_window()


def build_mlp(doc) -> dict[str, str]:
    inp = doc.add_node("input", (0, 0))
    fc = doc.add_node("linear", (0, 120))
    out = doc.add_node("output", (0, 240))
    doc.connect(Edge(inp, fc))
    doc.connect(Edge(fc, out))
    return {"input": inp, "linear": fc, "output": out}


def test_undo_action_names_the_step(window):
    assert window.undo_action.text() == "Undo"
    assert not window.undo_action.isEnabled()
    window.document.add_node("linear", (0, 0))
    assert window.undo_action.text() == "Undo Add Linear"
    window.undo_action.trigger()
    assert window.document.graph.nodes == {}
    assert window.redo_action.text() == "Redo Add Linear"
    window.redo_action.trigger()
    assert len(window.document.graph.nodes) == 1


def test_title_shows_name_and_modified_state(window, tmp_path):
    assert window.windowTitle() == "untitled[*] — Netcanvas"
    assert not window.isWindowModified()
    window.document.add_node("linear", (0, 0))
    assert window.isWindowModified()
    window.ask_save_path = lambda: str(tmp_path / "mnist_mlp")
    assert window.save()
    assert window.windowTitle() == "mnist_mlp[*] — Netcanvas"
    assert not window.isWindowModified()
    assert (tmp_path / "mnist_mlp.netcanvas").exists()


def test_save_and_open_round_trip_in_a_new_window(make_window, tmp_path):
    first = make_window()
    ids = build_mlp(first.document)
    first.document.set_param(ids["linear"], "out_features", 3)
    first.document.rename(ids["linear"], "classifier")
    path = tmp_path / "model.netcanvas"
    assert first.save_to(path)
    saved = load_project(path)
    assert saved.graph.same_as(first.document.graph)

    second = make_window()
    assert second.open_path(path)
    assert second.document.graph.same_as(first.document.graph)
    assert second.document.project.path == path
    assert not second.document.is_modified()
    assert second.files.recent_files()[0] == str(path.resolve())
    assert second.summary_label.text() == first.document.analysis.summary()


def test_open_refuses_broken_file_with_message(window, tmp_path):
    bad = tmp_path / "broken.netcanvas"
    bad.write_text('{"format_version": 1, "nodes": [', encoding="utf-8")
    errors = []
    window.show_error = lambda title, msg: errors.append(msg)
    assert not window.open_path(bad)
    assert len(errors) == 1 and "broken.netcanvas" in errors[0]
    assert window.document.project.path is None


def test_close_asks_when_modified(window, tmp_path):
    window.show()
    window.document.add_node("linear", (0, 0))
    asked = []
    window.ask_save_changes = lambda: asked.append(1) or Answer.Cancel
    assert not window.close()
    assert window.isVisible() and asked == [1]
    window.ask_save_path = lambda: str(tmp_path / "kept.netcanvas")
    window.ask_save_changes = lambda: Answer.Save
    assert window.close()
    assert len(load_project(tmp_path / "kept.netcanvas").graph.nodes) == 1


def test_unmodified_window_closes_without_asking(window):
    window.show()
    assert window.close()


def test_new_project_asks_and_discard_clears(window):
    window.document.add_node("linear", (0, 0))
    window.ask_save_changes = lambda: Answer.Discard
    window.new_project()
    assert window.document.graph.nodes == {}
    assert not window.isWindowModified()


def test_copy_paste_between_two_windows(make_window):
    source, target = make_window(), make_window()
    ids = build_mlp(source.document)
    source.document.set_param(ids["linear"], "out_features", 7)
    source.document.select([ids["input"], ids["linear"]])
    source.copy_action.trigger()
    new_ids = target.paste()
    graph = target.document.graph
    assert len(new_ids) == 2
    assert sorted(n.type_id for n in graph.nodes.values()) == ["input", "linear"]
    assert [n.params["out_features"] for n in graph.nodes.values() if n.type_id == "linear"] == [7]
    assert len(graph.edges) == 1  # the edge between the two copied layers came along
    assert target.undo_action.text() == "Undo Paste 2 layers"


def test_cut_removes_and_paste_restores(window):
    ids = build_mlp(window.document)
    window.document.select([ids["linear"]])
    window.cut_action.trigger()
    assert ids["linear"] not in window.document.graph.nodes
    window.paste()
    assert [n.type_id for n in window.document.graph.nodes.values()].count("linear") == 1


def test_problem_click_selects_node_and_quick_fix_is_one_undo_step(window, qtbot):
    doc = window.document
    ids = build_mlp(doc)
    doc.set_param(ids["input"], "shape", (1, 28, 28))
    problems = window.problems
    assert problems.list.count() == 1
    assert "Flatten" in problems.list.item(0).text()
    rect = problems.list.visualItemRect(problems.list.item(0))
    window.show()
    qtbot.mouseClick(problems.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert doc.selection == [ids["linear"]]
    assert problems.fix_button.isEnabled()
    steps = doc.undo_stack.count()
    problems.fix_button.click()
    assert doc.undo_stack.count() == steps + 1
    assert doc.analysis.ok
    assert "flatten" in {n.type_id for n in doc.graph.nodes.values()}
    assert problems.list.count() == 0
    assert window.summary_label.text().startswith("valid")


def test_summary_totals_match_analysis(window):
    doc = window.document
    ids = build_mlp(doc)
    doc.set_param(ids["linear"], "out_features", 10)
    hidden = doc.add_node("linear", (0, 60))
    doc.disconnect([Edge(ids["input"], ids["linear"])])
    doc.connect(Edge(ids["input"], hidden))
    doc.connect(Edge(hidden, ids["linear"]))
    params, macs = window.summary.totals()
    assert params == doc.analysis.total_params == (4 * 16 + 16) + (16 * 10 + 10)
    assert macs == doc.analysis.total_macs
    assert window.summary.rowCount() == len(doc.graph.nodes) + 1


def test_code_view_shows_code_or_the_reason(window, qtbot):
    doc = window.document
    ids = build_mlp(doc)
    qtbot.waitUntil(lambda: "nn.Linear(4, 16)" in window.code_view.text)
    doc.set_param(ids["input"], "shape", (1, 28, 28))
    qtbot.waitUntil(lambda: window.code_view.error_label.isVisibleTo(window.code_view))
    assert "Flatten" in window.code_view.error_label.text()


def test_editing_is_refused_while_training(window):
    panel = window.training_panel
    doc = window.document
    window.show()
    panel.training_started.emit()
    assert window.banner.isVisible() and "Training" in window.banner.text()
    assert doc.add_node("linear", (0, 0)) is None
    assert doc.graph.nodes == {}
    assert "Training" in window.statusBar().currentMessage()
    panel.training_stopped.emit()
    assert not window.banner.isVisible()
    assert doc.add_node("linear", (0, 0)) is not None


def test_training_failure_selects_the_node_and_stays_until_an_edit(window):
    ids = build_mlp(window.document)
    panel = window.training_panel
    window.show()
    panel.training_started.emit()
    panel.failed.emit("loss became NaN", ids["linear"])
    panel.training_stopped.emit()
    assert window.document.selection == [ids["linear"]]
    assert window.banner.isVisible()
    assert "linear1" in window.banner.text() and "NaN" in window.banner.text()
    window.document.set_param(ids["linear"], "out_features", 5)
    assert not window.banner.isVisible()


def test_dropping_a_project_file_opens_it(window, qtbot, tmp_path):
    path = tmp_path / "iris.netcanvas"
    path.write_bytes(example_path("iris_mlp").read_bytes())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.document.project.path == path)
    assert window.document.graph.same_as(load_project(path).graph)


def test_example_opens_as_untitled_copy(window):
    assert window.open_example("iris_mlp")
    assert window.document.project.path is None
    assert len(window.document.graph.nodes) > 0
    assert window.document.analysis.ok


def test_dock_layout_persists(make_window, settings):
    first = make_window()
    first.show()
    first.docks["code"].hide()
    assert first.close()
    second = make_window()
    second.show()
    assert not second.docks["code"].isVisible()
    assert second.docks["inspector"].isVisible()


def test_recent_files_keep_ten_newest(window, tmp_path):
    for i in range(12):
        window.files.add_recent(tmp_path / f"p{i}.netcanvas")
    recent = window.files.recent_files()
    assert len(recent) == 10
    assert recent[0].endswith("p11.netcanvas")
    window.files.fill_recent_menu(window.recent_menu)
    names = [a.text() for a in window.recent_menu.actions() if a.text()]
    assert names[0] == "p11.netcanvas"


def test_trained_weights_are_saved_beside_and_loaded_on_open(make_window, tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from designer.core.compiler import build_model

    first = make_window()
    build_mlp(first.document)
    model, _src = build_model(first.document.graph, first.document.project.name)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.25)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    monkeypatch.setattr(first.training_panel, "trained_state", lambda: state)
    path = tmp_path / "net.netcanvas"
    assert first.save_to(path)
    weights = first.document.project.weights_path  # net.<hash>.safetensors, named in the file
    assert weights.parent == tmp_path and weights.name.startswith("net.") and weights.exists()

    second = make_window()
    assert second.open_path(path)
    loaded = second.training_panel.trained_state()
    assert loaded is not None and set(loaded) == set(state)
    assert all(torch.equal(loaded[k], state[k]) for k in state)


def test_export_action_opens_the_export_dialog(window, qtbot):
    build_mlp(window.document)
    window.show()
    window.findChild(type(window.undo_action), "export").trigger()
    dialog = window.files.export_dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.document is window.document
    dialog.reject()


def test_view_actions_fit_and_auto_layout(window):
    ids = build_mlp(window.document)
    for node_id in ids.values():  # pile them up in one spot
        window.document.graph.move(node_id, (0.0, 0.0))
    actions = {a.text(): a for a in window.menuBar().actions()}
    view_menu = actions["&View"].menu()
    by_text = {a.text(): a for a in view_menu.actions()}
    by_text["Auto-&Layout"].trigger()
    positions = {window.document.graph.nodes[i].pos for i in ids.values()}
    assert len(positions) == 3
    assert window.undo_action.text().startswith("Undo ")
    assert Keys("Ctrl+L") in by_text["Auto-&Layout"].shortcuts()
    assert Keys("Ctrl+0") in by_text["&Fit to Window"].shortcuts()
    toggles = [a for a in view_menu.actions() if a.isCheckable()]
    assert {a.text() for a in toggles} >= {"Layers", "Inspector", "Code", "Problems", "Training"}


def test_real_training_locks_editing_then_save_writes_weights(window, qtbot, tmp_path):
    pytest.importorskip("torch")
    assert window.open_example("iris_mlp")
    window.document.project.training.epochs = 2
    panel = window.training_panel
    window.show()
    with qtbot.waitSignal(panel.training_stopped, timeout=60_000):
        assert panel.start()
        assert window.banner.isVisible()
        assert window.document.is_read_only()
        assert window.document.add_node("linear", (0, 0)) is None
    assert not window.document.is_read_only()
    assert not window.banner.isVisible()
    assert panel.trained_state() is not None
    path = tmp_path / "iris.netcanvas"
    assert window.save_to(path)
    assert window.document.project.weights_path.stat().st_size > 0


def test_hidden_summary_and_code_docks_catch_up_when_shown(window, qtbot):
    window.show()
    qtbot.waitExposed(window)
    window.docks["summary"].hide()
    window.docks["code"].hide()
    doc = window.document
    ids = build_mlp(doc)
    doc.set_param(ids["linear"], "out_features", 7)
    QApplication.processEvents()  # the views' zero timers run while they are hidden
    assert "nn.Linear(4, 7)" not in window.code_view.text  # regenerated only when shown
    window.docks["summary"].show()
    window.docks["code"].show()
    qtbot.waitUntil(lambda: "nn.Linear(4, 7)" in window.code_view.text)
    assert window.summary.totals()[0] == doc.analysis.total_params == 4 * 7 + 7
    assert window.summary.rowCount() == len(doc.graph.nodes) + 1


def test_every_shortcut_does_one_thing(make_window):
    """Two actions on one key make Qt fire neither ("ambiguous shortcut"): each key is used once."""
    from PySide6.QtGui import QAction

    window = make_window()
    owners: dict[str, list[str]] = {}
    for action in window.findChildren(QAction):
        for keys in action.shortcuts():
            if keys.isEmpty():
                continue
            owners.setdefault(keys.toString(), []).append(action.text().replace("&", ""))
    clashes = {k: v for k, v in owners.items() if len(set(v)) > 1 or len(v) > 1}
    assert not clashes, clashes
    assert window.findChildren(QAction)  # the menus were built
