"""Text from a project file is shown as the characters it is: no widget renders it as HTML."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel

from designer.core.graph import Edge, Graph
from designer.core.project import Project
from designer.core.project_io import save_project
from designer.ui.main_window import Answer, MainWindow
from designer.ui.plain import tooltip

HOSTILE = "<b>bold</b><a href='http://example.com'>link</a><img src='/etc/x.png'>"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("NETCANVAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    qtbot.addWidget(
        w, before_close_func=lambda w: setattr(w, "ask_save_changes", lambda: Answer.Discard)
    )
    return w


def test_hostile_names_never_render_as_html(window, tmp_path, qtbot):
    g = Graph()
    g.add_node("input", name="in", params={"shape": (4,)}, node_id="i")
    g.add_node("linear", name=HOSTILE, node_id="fc")
    g.add_node("conv2d", name=HOSTILE + "2", node_id="bad")  # a shape error naming it
    g.connect(Edge("i", "fc"))
    g.connect(Edge("fc", "bad"))
    path = tmp_path / "hostile.netcanvas"
    save_project(Project(g, HOSTILE[:60]), path)
    assert window.open_path(path)
    window.show()
    window.document.select(["bad"])
    qtbot.waitUntil(lambda: window.problems.list.count() > 0, timeout=3000)
    shown = [w for w in window.findChildren(QLabel) if "<a href" in w.text()]
    assert shown, "the hostile name is shown somewhere"
    for label in shown:
        assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName() or label.text()
    tips = [window.problems.list.item(i).toolTip() for i in range(window.problems.list.count())]
    tips += [item.toolTip() for item in window.canvas.canvas_scene.nodes.values()]
    for tip in tips:
        assert "<a href" not in tip  # escaped: the tool tip shows the characters
    assert any("&lt;a href" in tip for tip in tips)


def test_tooltip_escapes_only_what_qt_would_render():
    assert tooltip("plain text") == "plain text"
    escaped = tooltip(HOSTILE)
    assert "<img" not in escaped and "&lt;img" in escaped
    assert GuiQt.mightBeRichText(escaped)  # shown as rich text: the escaped characters
