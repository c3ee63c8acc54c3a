"""Autosave: unsaved work is written to a recovery copy a moment after each change, every copy a
crash leaves is offered again, and a restored copy survives a second crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from designer.core.graph import Edge
from designer.core.project import Project
from designer.ui.autosave import AutoSaver, Recovery, find_recoveries
from designer.ui.document import Document
from designer.ui.main_window import Answer, MainWindow
from designer.ui.recovery_dialog import RecoveryDialog


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


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def crash(window: MainWindow) -> Path:
    """What a killed process leaves: its last recovery copy, under a pid that is gone."""
    saver = window.autosaver
    saver.timer.stop()
    assert saver.wait()
    pid = _dead_pid()
    name = saver.path.name.replace(f"recovery-{os.getpid()}-", f"recovery-{pid}-")
    left = saver.path.with_name(name)
    os.replace(saver.path, left)
    os.replace(saver.path.with_suffix(".json"), left.with_suffix(".json"))
    window.ask_save_changes = lambda: Answer.Discard  # only for the fixture teardown
    return left


def _graph_with_three(doc: Document) -> None:
    inp = doc.add_node("input", (0, 0))
    fc = doc.add_node("linear", (0, 120))
    doc.connect(Edge(inp, fc))
    doc.set_param(fc, "out_features", 3)


def test_a_copy_is_written_after_a_short_pause_and_removed_once_saved(qtbot, recovery_dir):
    doc = Document(Project())
    saver = AutoSaver(doc, idle_ms=200, directory=recovery_dir)
    assert not saver.save_now() and not saver.path.exists()
    started = time.monotonic()
    doc.add_node("linear", (0, 0))
    assert not saver.path.exists()  # not on the GUI thread's critical path: later
    qtbot.waitUntil(saver.path.exists, timeout=5000)
    assert time.monotonic() - started < 5  # seconds, not the old 60 s tick
    data = json.loads(saver.path.read_text(encoding="utf-8"))
    assert [n["type"] for n in data["nodes"]] == ["linear"]
    doc.mark_saved()
    qtbot.waitUntil(lambda: not saver.path.exists(), timeout=3000)
    doc.add_node("relu", (0, 100))
    qtbot.waitUntil(saver.path.exists, timeout=5000)
    saver.stop()
    assert not saver.path.exists()
    assert find_recoveries(recovery_dir) == []


def test_edits_in_a_row_are_written_once_after_the_pause(qtbot, recovery_dir):
    doc = Document(Project())
    saver = AutoSaver(doc, idle_ms=300, directory=recovery_dir)
    writes = []
    saver.written.connect(writes.append)
    for i in range(5):
        doc.add_node("relu", (0, i * 100))
    with qtbot.waitSignal(saver.written, timeout=5000):
        pass
    assert writes == [""]  # debounced: one write for five edits
    saver.stop()


def test_the_delay_is_a_setting(qtbot, tmp_path, recovery_dir):
    window = _window(qtbot, tmp_path)
    assert window.autosaver.idle_ms == 2000  # the default
    window.findChild(type(window.undo_action), "autosave_5000").trigger()
    assert window.autosaver.idle_ms == 5000
    again = _window(qtbot, tmp_path)
    assert again.autosaver.idle_ms == 5000


def test_recovery_after_crash_is_offered_and_restored(qtbot, tmp_path, recovery_dir):
    crashed = _window(qtbot, tmp_path, autosave_ms=20)
    _graph_with_three(crashed.document)
    expected = crashed.document.graph.copy()
    qtbot.waitUntil(crashed.autosaver.path.exists, timeout=3000)
    crash(crashed)

    fresh = _window(qtbot, tmp_path)
    asked = []
    restored = fresh.offer_recovery(ask=lambda recs: asked.append(recs) or (recs[0], []))
    assert restored and len(asked) == 1 and len(asked[0]) == 1
    assert fresh.document.graph.same_as(expected)
    assert fresh.document.is_modified()
    assert fresh.isWindowModified()
    fresh.ask_save_changes = lambda: Answer.Discard


def test_a_second_crash_right_after_restoring_loses_nothing(qtbot, tmp_path, recovery_dir):
    crashed = _window(qtbot, tmp_path, autosave_ms=20)
    _graph_with_three(crashed.document)
    expected = crashed.document.graph.copy()
    qtbot.waitUntil(crashed.autosaver.path.exists, timeout=3000)
    crash(crashed)

    restored = _window(qtbot, tmp_path, autosave_ms=60_000)  # no tick before the crash
    assert restored.offer_recovery(ask=lambda recs: (recs[0], []))
    assert restored.autosaver.path.exists()  # the copy was kept: it is this window's now
    crash(restored)  # crashes before writing anything itself

    third = _window(qtbot, tmp_path)
    assert third.offer_recovery(ask=lambda recs: (recs[0], []))
    assert third.document.graph.same_as(expected)
    third.ask_save_changes = lambda: Answer.Discard


def test_a_restored_copy_goes_once_the_work_is_saved(qtbot, tmp_path, recovery_dir):
    crashed = _window(qtbot, tmp_path, autosave_ms=20)
    _graph_with_three(crashed.document)
    qtbot.waitUntil(crashed.autosaver.path.exists, timeout=3000)
    crash(crashed)
    fresh = _window(qtbot, tmp_path)
    assert fresh.offer_recovery(ask=lambda recs: (recs[0], []))
    assert fresh.save_to(tmp_path / "kept.netcanvas")
    assert not fresh.autosaver.path.exists()
    assert find_recoveries(recovery_dir) == []


def test_two_crashed_windows_are_both_offered_and_none_is_deleted_unseen(
    qtbot, tmp_path, recovery_dir
):
    first = _window(qtbot, tmp_path, autosave_ms=20)
    first.document.add_node("linear", (0, 0))
    qtbot.waitUntil(first.autosaver.path.exists, timeout=3000)
    crash(first)
    second = _window(qtbot, tmp_path, autosave_ms=20)
    second.document.add_node("relu", (0, 0))
    second.document.add_node("relu", (0, 100))
    qtbot.waitUntil(second.autosaver.path.exists, timeout=3000)
    crash(second)

    fresh = _window(qtbot, tmp_path)
    offered: list[list[Recovery]] = []
    assert fresh.offer_recovery(ask=lambda recs: offered.append(recs) or (recs[0], []))
    (copies,) = offered
    assert len(copies) == 2
    assert all(r.name == "untitled" and r.size > 0 and r.saved_at > 0 for r in copies)
    assert "untitled" in copies[0].describe() and "bytes" in copies[0].describe()
    # The newest (two relus) was restored; the other one was not declined: it is kept.
    assert [n.type_id for n in fresh.document.graph.nodes.values()] == ["relu", "relu"]
    (left,) = find_recoveries(recovery_dir)
    assert left.path == copies[1].path
    fresh.ask_save_changes = lambda: Answer.Discard


def test_declined_copies_are_deleted_the_others_kept(qtbot, tmp_path, recovery_dir):
    for _ in range(2):
        crashed = _window(qtbot, tmp_path, autosave_ms=20)
        crashed.document.add_node("linear", (0, 0))
        qtbot.waitUntil(crashed.autosaver.path.exists, timeout=3000)
        crash(crashed)
    fresh = _window(qtbot, tmp_path)
    first, second = find_recoveries(recovery_dir)
    assert not fresh.offer_recovery(ask=lambda recs: (None, [recs[0]]))
    assert fresh.document.graph.nodes == {}
    assert [r.path for r in find_recoveries(recovery_dir)] == [second.path]


def test_a_copy_that_fails_to_restore_is_kept(qtbot, tmp_path, recovery_dir):
    crashed = _window(qtbot, tmp_path, autosave_ms=20)
    crashed.document.add_node("linear", (0, 0))
    qtbot.waitUntil(crashed.autosaver.path.exists, timeout=3000)
    left = crash(crashed)
    left.write_text("{broken", "utf-8")
    fresh = _window(qtbot, tmp_path)
    errors = []
    fresh.show_error = lambda title, msg: errors.append(msg)
    assert not fresh.offer_recovery(ask=lambda recs: (recs[0], []))
    assert errors and "kept" in errors[0]
    assert [r.path for r in find_recoveries(recovery_dir)] == [left]


def test_the_dialog_lists_every_copy_as_plain_text(qtbot, tmp_path):
    recs = [
        Recovery(tmp_path / "a.netcanvas", None, "<b>bold</b>", time.time(), 1234),
        Recovery(tmp_path / "b.netcanvas", Path("/x/y.netcanvas"), "y", time.time() - 60, 99),
    ]
    dialog = RecoveryDialog(recs)
    qtbot.addWidget(dialog)
    texts = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert "<b>bold</b>" in texts[0] and "1,234 bytes" in texts[0]
    assert "/x/y.netcanvas" in texts[1]
    dialog.list.item(1).setSelected(True)
    dialog.list.item(0).setSelected(False)
    dialog.discard_button.click()
    assert dialog.decision == (None, [recs[1]])


def test_clean_close_removes_recovery_file(qtbot, tmp_path, recovery_dir):
    window = _window(qtbot, tmp_path, autosave_ms=20)
    window.document.add_node("linear", (0, 0))
    qtbot.waitUntil(window.autosaver.path.exists, timeout=3000)
    window.ask_save_changes = lambda: Answer.Discard
    assert window.close()
    assert not window.autosaver.path.exists()
    assert find_recoveries(recovery_dir) == []
