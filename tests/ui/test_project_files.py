"""The file controller on its own (no window), and what the window does when a save fails or a
file is hostile: a dialog, in plain text, clipped, and the window never closes as if saved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from designer.core.graph import Graph
from designer.core.project import Project
from designer.core.project_io import save_project
from designer.ui.autosave import AutoSaver
from designer.ui.document import Document
from designer.ui.main_window import Answer, MainWindow
from designer.ui.project_files import ProjectFiles


class NoTraining:
    """The TrainingLink of a window without training: nothing runs, nothing was trained."""

    def __init__(self) -> None:
        self.used: list[Path] = []

    def stop(self) -> bool:
        return True

    def trained_state(self) -> dict | None:
        return None

    def use_weights(self, state: dict, path: Path) -> None:
        self.used.append(path)


@pytest.fixture
def files(qapp, tmp_path):
    doc = Document()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    saver = AutoSaver(doc, idle_ms=60_000, directory=tmp_path / "recovery")
    controller = ProjectFiles(doc, settings, saver, NoTraining(), recovery_dir=tmp_path / "rec")
    controller.errors = []
    controller.show_error = lambda title, msg: controller.errors.append(msg)
    yield controller
    saver.stop()


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("NETCANVAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings, autosave_ms=20)
    qtbot.addWidget(w, before_close_func=lambda w: setattr(w, "ask_save_changes", _discard))
    return w


def _discard() -> Answer:
    return Answer.Discard


def test_the_controller_saves_and_opens_without_a_window(files, tmp_path):
    files.document.add_node("linear", (0, 0))
    saved = []
    files.saved.connect(saved.append)
    assert files.save_to(tmp_path / "p.netcanvas")
    assert saved == [tmp_path / "p.netcanvas"] and not files.document.is_modified()
    assert files.document.project.name == "p"
    files.document.set_project(Project())
    assert files.open_path(tmp_path / "p.netcanvas")
    assert [n.type_id for n in files.document.graph.nodes.values()] == ["linear"]
    assert files.recent_files() == [str((tmp_path / "p.netcanvas").resolve())]


def test_a_failed_save_shows_a_dialog_and_keeps_the_work_modified(files, tmp_path):
    (tmp_path / "a_file").write_text("x")
    files.document.add_node("linear", (0, 0))
    assert not files.save_to(tmp_path / "a_file" / "p.netcanvas")
    assert files.errors and "could not be saved" in files.errors[0]
    assert files.document.is_modified()
    assert files.document.project.name == "untitled"  # not renamed after a file never written


def test_text_that_cannot_be_written_fails_with_a_dialog_not_a_traceback(files, tmp_path):
    node = files.document.add_node("linear", (0, 0))
    files.document.graph.nodes[node].name = "x\udfff"  # behind the mutators' back
    assert not files.save_to(tmp_path / "p.netcanvas")
    assert files.errors and "not valid Unicode" in files.errors[0]
    assert not (tmp_path / "p.netcanvas").exists()


def test_closing_after_a_failed_save_keeps_the_window_open(window, qtbot, tmp_path):
    (tmp_path / "a_file").write_text("x")
    window.document.add_node("linear", (0, 0))
    qtbot.waitUntil(window.autosaver.path.exists, timeout=5000)
    window.document.project.path = tmp_path / "a_file" / "p.netcanvas"
    errors = []
    window.show_error = lambda title, msg: errors.append(msg)
    window.ask_save_changes = lambda: Answer.Save
    window.show()
    assert not window.close()  # the save failed: the window stays, with the edits
    assert window.isVisible() and errors
    assert window.document.is_modified()
    assert window.autosaver.path.exists()  # and the recovery copy stays too


def _answer_message_box(seen: list) -> None:
    box = QApplication.activeModalWidget()
    if not isinstance(box, QMessageBox):
        QTimer.singleShot(10, lambda: _answer_message_box(seen))
        return
    seen.append((box.textFormat(), box.text()))
    box.accept()


def test_html_in_a_project_file_is_shown_as_plain_text(window, tmp_path):
    bad = tmp_path / "bad.netcanvas"
    data = {"format_version": 2, "nodes": [], "edges": [], "training": {"optimizer": "<a href='http://x'>click</a><img src='/etc/x.png'>"}}  # fmt: skip
    bad.write_text(json.dumps(data), "utf-8")
    seen: list = []
    QTimer.singleShot(0, lambda: _answer_message_box(seen))
    assert not window.open_path(bad)
    ((fmt, text),) = seen
    assert fmt == Qt.TextFormat.PlainText
    assert "<a href=" in text  # shown as the characters it is, not as a link


def test_a_20_mb_value_gives_a_short_dialog(window, tmp_path):
    bad = tmp_path / "huge.netcanvas"
    data = {"format_version": 2, "nodes": [], "edges": [], "training": {"optimizer": "o" * 20_000_000}}  # fmt: skip
    bad.write_text(json.dumps(data), "utf-8")
    seen: list = []
    QTimer.singleShot(0, lambda: _answer_message_box(seen))
    assert not window.open_path(bad)
    ((_fmt, text),) = seen
    assert len(text) < 500 and "20,000,000" in text


def test_opening_a_big_project_keeps_the_event_loop_turning(files, tmp_path, monkeypatch):
    import threading

    from designer.core import project_io

    g = Graph()
    for i in range(2000):
        g.add_node("linear", name=f"layer_{i}_" + "n" * 150, node_id=f"n{i}")
    big = tmp_path / "big.netcanvas"
    save_project(Project(g, "big"), big)
    # The read finishes only once a GUI-thread timer has fired during it: it can't pass by
    # being quick, only by the event loop turning while the file is read.
    turned = threading.Event()
    timer = QTimer(interval=5)
    timer.timeout.connect(turned.set)
    real = project_io.load_project

    def read_while_the_loop_turns(path):
        if not turned.wait(30):
            raise AssertionError("the GUI thread was blocked while the file was read")
        return real(path)

    monkeypatch.setattr(project_io, "load_project", read_while_the_loop_turns)
    busy = []
    files.message.connect(lambda text, _ms: busy.append(text))
    timer.start()
    assert files.open_path(big)
    timer.stop()
    assert len(files.document.graph.nodes) == 2000
    assert any(text.startswith("Opening big.netcanvas") for text in busy)
    assert real(big).graph.same_as(files.document.graph)
