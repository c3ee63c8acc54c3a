"""The window gives the work room: perspectives, legible projects on open, menus that tell the
truth (Redo on Ctrl+Y, Paste only with layers on the clipboard, Help)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QScrollArea

from designer.core.examples import example_path, list_examples
from designer.core.project_io import load_project
from designer.ui.main_window import Answer, MainWindow
from tests.ui.graphs import resnet18


@pytest.fixture
def make_window(qtbot, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("NETCANVAS_RECOVERY_DIR", str(tmp_path / "recovery"))

    def make(size=(1400, 900), first_start=True) -> MainWindow:
        window = MainWindow(settings=settings)
        window.ask_save_changes = lambda: Answer.Discard
        window.show_error = lambda title, msg: pytest.fail(f"unexpected error: {title}: {msg}")
        qtbot.addWidget(window)
        window.resize(*size)
        if first_start:  # the default arrangement is applied once the window is shown
            with qtbot.waitSignal(window.docks_arranged):
                window.show()
        else:  # the saved one is restored at once
            window.show()
        for _ in range(3):  # the dock layout settles in posted layout requests
            QApplication.sendPostedEvents()
            QApplication.processEvents()
        return window

    return make


def legibility(window: MainWindow) -> tuple[float, float]:
    """(smallest on-screen card-name height in pixels, share of cards fully in view), read from
    the scene and view transforms."""
    view = window.canvas
    vp = view.viewport().rect()
    items = list(view.canvas_scene.nodes.values())
    inside = sum(
        vp.contains(view.mapFromScene(i.sceneBoundingRect()).boundingRect()) for i in items
    )
    return view.smallest_name_px(), inside / len(items)


PROJECTS = [name for name, _, _ in list_examples()]


@pytest.mark.parametrize("name", [*PROJECTS, "resnet18"])
def test_every_example_and_a_resnet18_open_whole_and_legible(make_window, name):
    window = make_window()
    project = resnet18() if name == "resnet18" else load_project(example_path(name))
    window.set_project(project)
    smallest, inside = legibility(window)
    assert inside == 1.0, f"{name}: only {inside:.0%} of the cards in view"
    assert smallest >= 9.0, f"{name}: a card name is {smallest:.1f} px tall"
    assert not window.canvas.minimap.isVisible()


def test_a_larger_graph_opens_legible_on_its_first_layers_with_the_minimap(make_window):
    from bench.common import synthetic_graph
    from designer.core.layout import layered_layout
    from designer.core.project import Project

    graph = synthetic_graph(300)
    for node_id, pos in layered_layout(graph).positions.items():
        graph.move(node_id, pos)
    window = make_window()
    window.set_project(Project(graph, "big"))
    smallest, inside = legibility(window)
    assert smallest >= 9.0 and 0 < inside < 1
    first = window.canvas.canvas_scene.nodes[next(iter(graph.nodes))]
    vp = window.canvas.viewport().rect()
    assert vp.contains(window.canvas.mapFromScene(first.sceneBoundingRect()).boundingRect())
    assert window.canvas.minimap.isVisible() and window.minimap_action.isChecked()
    window.minimap_action.trigger()  # the toggle
    assert not window.canvas.minimap.isVisible()


def test_design_gives_the_canvas_most_of_a_small_screen(make_window):
    window = make_window((1366, 768))
    assert window.perspectives.current == "design"
    assert window.canvas.height() >= 0.6 * window.height()
    assert window.docks["palette"].isVisible() and window.docks["problems"].isVisible()


def test_train_shows_every_setting_without_scrolling_and_is_remembered(make_window, qtbot):
    window = make_window((1366, 768))
    window.perspectives.actions["train"].trigger()  # Ctrl+2
    assert window.perspectives.actions["train"].shortcut() == QKeySequence("Ctrl+2")
    assert window.perspectives.current == "train"
    panel = window.training_panel
    qtbot.waitUntil(lambda: window.docks["training"].isVisible())
    qtbot.wait(10)
    scroll = panel.findChild(QScrollArea)
    assert scroll.verticalScrollBar().maximum() == 0  # dataset and hyperparameters all shown
    assert not window.docks["palette"].isVisible()
    window.close()
    again = make_window((1366, 768), first_start=False)
    assert again.perspectives.current == "train"  # remembered
    again.perspectives.actions["design"].trigger()
    assert again.docks["palette"].isVisible() and not again.docks["training"].isVisible()


@pytest.mark.parametrize("size", [(1400, 900), (1366, 768)])
def test_train_shows_the_whole_graph_in_its_canvas_strip_without_the_minimap(
    make_window, qtbot, size
):
    window = make_window(size)
    window.set_project(load_project(example_path("digits_cnn")))
    window.perspectives.actions["train"].trigger()
    view = window.canvas
    qtbot.waitUntil(lambda: view.viewport().height() < 0.3 * window.height())
    qtbot.waitUntil(lambda: legibility(window)[1] == 1.0)  # every card in the strip
    assert not view.minimap.isVisible()  # a 220×150 map would cover the strip's graph
    view.set_minimap_visible(True)  # M: still refused where it would cover most of it
    assert not view.minimap.isVisible()
    window.perspectives.actions["design"].trigger()
    qtbot.waitUntil(lambda: view.viewport().height() > 0.5 * window.height())
    qtbot.waitUntil(lambda: legibility(window)[0] >= 9.0)  # readable again in Design


def test_redo_on_ctrl_y_and_paste_only_with_layers_on_the_clipboard(make_window):
    window = make_window()
    keys = [k.toString() for k in window.redo_action.shortcuts()]
    assert "Ctrl+Y" in keys and "Ctrl+Shift+Z" in keys
    QGuiApplication.clipboard().clear()
    assert not window.paste_action.isEnabled()
    node = window.document.add_node("relu")
    window.document.select([node])
    window.copy()
    assert window.paste_action.isEnabled()


def test_help_menu_lists_shortcuts_the_guide_and_about(make_window):
    window = make_window()
    (help_menu,) = [a.menu() for a in window.menuBar().actions() if a.text() == "&Help"]
    texts = [a.text() for a in help_menu.actions()]
    assert texts == ["&Keyboard Shortcuts", "A &First Network…", "&About Netcanvas"]
    help_menu.actions()[0].trigger()
    text = window.help_dialog.layout().itemAt(0).widget().toPlainText()
    assert "Ctrl+Y" in text and "Ctrl+F" in text and "Tab" in text
    help_menu.actions()[1].trigger()
    assert "Drag layers" in window.help_dialog.layout().itemAt(0).widget().toPlainText()


def test_frames_and_comments_are_drawn_undoable_and_survive_save_and_load(make_window, tmp_path):
    from designer.ui.canvas.note_items import CommentItem, FrameItem

    window = make_window()
    doc, view = window.document, window.canvas
    a = doc.add_node("input", (0, 0))
    b = doc.add_node("relu", (0, 120))
    doc.select([a, b])
    view.ask_text = lambda title, current: "Stem <i>block</i>"
    window.frame_action.trigger()
    (frame,) = [i for i in view.canvas_scene.notes.values() if isinstance(i, FrameItem)]
    for node_id in (a, b):  # the frame encloses the selected cards
        assert frame.sceneBoundingRect().contains(view.canvas_scene.nodes[node_id].card_rect())
    assert frame.frame.title == "Stem <i>block</i>"  # shown as plain text
    view.ask_text = lambda title, current: "Try a wider layer here"
    key = view.add_comment_at_cursor()
    assert isinstance(view.canvas_scene.notes[key], CommentItem)
    view.ask_text = lambda title, current: "Try a much wider layer"
    view.edit_note(key)
    assert doc.project.notes.notes[key].text == "Try a much wider layer"
    doc.undo()
    assert doc.project.notes.notes[key].text == "Try a wider layer here"
    doc.redo()
    path = tmp_path / "noted.netcanvas"
    window.files.ask_save_path = lambda: str(path)
    assert window.save_as()
    other = make_window(first_start=False)
    other.open_path(path)
    notes = other.canvas.canvas_scene.notes.values()
    assert sorted(type(i).__name__ for i in notes) == ["CommentItem", "FrameItem"]
    assert [i.frame.title for i in notes if isinstance(i, FrameItem)] == ["Stem <i>block</i>"]
    assert [i.comment.text for i in notes if isinstance(i, CommentItem)] == [
        "Try a much wider layer"
    ]
    # Deleting a selected note is one undo step.
    other.canvas.canvas_scene.clearSelection()
    next(iter(notes)).setSelected(True)
    other.canvas.delete_selection()
    assert len(other.document.project.notes.notes) == 1
    other.document.undo()
    assert len(other.document.project.notes.notes) == 2


def test_start_is_disabled_on_an_invalid_graph_with_the_reason(make_window):
    from designer.core.graph import Edge

    window = make_window()
    panel = window.training_panel
    doc = window.document
    i = doc.add_node("input", (0, 0))
    fc = doc.add_node("linear", (0, 120))
    doc.connect(Edge(i, fc))
    assert not panel.start_button.isEnabled()
    assert "Output" in panel.start_button.toolTip()  # the first error, as the reason
    o = doc.add_node("output", (0, 240))
    doc.connect(Edge(fc, o))
    assert panel.start_button.isEnabled()


def test_fit_to_window_keeps_every_name_readable_on_150_layers(make_window):
    from bench.common import synthetic_graph
    from designer.core.project import Project

    window = make_window()
    window.set_project(Project(synthetic_graph(150), "wide"))
    window.document.auto_layout()  # Ctrl+L: layers wrapped to this canvas
    window.canvas.fit_to_view()  # F
    smallest, inside = legibility(window)
    assert inside == 1.0 and smallest >= 9.0, (inside, smallest)
    assert not window.canvas.minimap.isVisible()  # nothing left to navigate to


@pytest.mark.parametrize("typed", ["1e-6", "2.0"])
def test_the_readme_learning_rates_can_be_typed_and_trained(make_window, qtbot, typed):
    """The Iris experiment of the README: 1e-6 (a flat curve) and 2.0 (oscillates or diverges,
    and then says so) are typed into the field and train."""
    import dataclasses

    from designer.core.examples import build_example

    window = make_window()
    project = build_example("iris_mlp")
    project.training = dataclasses.replace(project.training, epochs=2)
    window.set_project(project)
    panel = window.training_panel
    lr = panel.form.editors["lr"]
    lr.clear()
    qtbot.keyClicks(lr, typed)
    qtbot.keyClick(lr, "\r")
    assert window.document.project.training.lr == pytest.approx(float(typed))
    assert panel.start_button.isEnabled()
    with qtbot.waitSignal(panel.training_stopped, timeout=120_000):
        panel.start_button.click()
    finished, failed = panel.last_finished, panel.message.text()
    assert finished is not None or "Training failed" in failed  # ran, or said why it stopped
