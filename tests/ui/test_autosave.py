"""Autosave: unsaved work is written to a recovery file and offered again after a crash."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QSettings

from designer.core.graph import Edge
from designer.core.project import Project
from designer.ui.autosave import AutoSaver, find_recoveries
from designer.ui.document import Document
from designer.ui.main_window import Answer, MainWindow


@pytest.fixture
def recovery_dir(tmp_path, monkeypatch):
    folder = tmp_path / "recovery"
    monkeypatch.setenv("NETCANVAS_RECOVERY_DIR", str(folder))
    return folder


def _window(qtbot, tmp_path, **kwargs) -> MainWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, **kwargs)
    window.ask_save_changes = lambda: pytest.fail("unexpected question about unsaved changes")
    qtbot.addWidget(window)
    return window


def test_saver_writes_only_while_modified_and_removes_on_clean_exit(qtbot, recovery_dir):
    doc = Document(Project())
    saver = AutoSaver(doc, interval_ms=20, directory=recovery_dir)
    assert not saver.save_now()
    assert not saver.path.exists()
    doc.add_node("linear", (0, 0))
    qtbot.waitUntil(saver.path.exists, timeout=3000)
    data = json.loads(saver.path.read_text(encoding="utf-8"))
    assert [n["type"] for n in data["nodes"]] == ["linear"]
    doc.mark_saved()
    qtbot.waitUntil(lambda: not saver.path.exists(), timeout=3000)
    doc.add_node("relu", (0, 100))
    qtbot.waitUntil(saver.path.exists, timeout=3000)
    saver.stop()
    assert not saver.path.exists()
    assert find_recoveries(recovery_dir) == []


def test_recovery_after_crash_is_offered_and_restored(qtbot, tmp_path, recovery_dir):
    crashed = _window(qtbot, tmp_path, autosave_ms=20)
    doc = crashed.document
    inp = doc.add_node("input", (0, 0))
    fc = doc.add_node("linear", (0, 120))
    doc.connect(Edge(inp, fc))
    doc.set_param(fc, "out_features", 3)
    expected = doc.graph.copy()
    qtbot.waitUntil(crashed.autosaver.path.exists, timeout=3000)
    # A crash: no closeEvent, the timer just stops with the process.
    crashed.autosaver.timer.stop()
    crashed.ask_save_changes = lambda: Answer.Discard  # only for the fixture teardown

    fresh = _window(qtbot, tmp_path)
    asked = []
    restored = fresh.offer_recovery(ask=lambda rec: asked.append(rec) or True)
    assert restored and len(asked) == 1
    assert fresh.document.graph.same_as(expected)
    assert fresh.document.is_modified()
    assert fresh.isWindowModified()
    # Offered once: the leftover is gone, so the next start asks nothing.
    assert find_recoveries(recovery_dir) == []
    fresh.ask_save_changes = lambda: pytest.fail("unexpected")
    fresh.document.mark_saved()


def test_declined_recovery_keeps_empty_project_and_discards_file(qtbot, tmp_path, recovery_dir):
    crashed = _window(qtbot, tmp_path, autosave_ms=20)
    crashed.document.add_node("linear", (0, 0))
    qtbot.waitUntil(crashed.autosaver.path.exists, timeout=3000)
    crashed.autosaver.timer.stop()
    crashed.document.mark_saved()

    fresh = _window(qtbot, tmp_path)
    assert not fresh.offer_recovery(ask=lambda rec: False)
    assert fresh.document.graph.nodes == {}
    assert find_recoveries(recovery_dir) == []


def test_clean_close_removes_recovery_file(qtbot, tmp_path, recovery_dir):
    window = _window(qtbot, tmp_path, autosave_ms=20)
    window.document.add_node("linear", (0, 0))
    qtbot.waitUntil(window.autosaver.path.exists, timeout=3000)
    window.ask_save_changes = lambda: Answer.Discard
    assert window.close()
    assert not window.autosaver.path.exists()
    assert find_recoveries(recovery_dir) == []
