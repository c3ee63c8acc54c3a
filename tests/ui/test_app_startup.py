"""Start-up: the window paints before torch is imported; torch is warmed afterwards; what opens."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from designer import app
from designer.core.examples import example_path, list_examples
from designer.ui.main_window import Answer, MainWindow

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    import designer.app as app

    def on_first_paint(window):
        print(f"PAINTED torch={'torch' in sys.modules} visible={window.isVisible()}", flush=True)

        def wait_for_torch():
            if app.TORCH_READY.is_set():
                print(f"WARMED torch={'torch' in sys.modules}", flush=True)
                QApplication.quit()
            else:
                QTimer.singleShot(20, wait_for_torch)

        QTimer.singleShot(0, wait_for_torch)

    app.FIRST_PAINT_HOOKS.append(on_first_paint)
    sys.exit(app.main([]))
    """
)


def test_window_paints_before_torch_is_imported_then_torch_is_warmed(tmp_path):
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        NETCANVAS_RECOVERY_DIR=str(tmp_path / "recovery"),
        NETCANVAS_NO_START="1",
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(("PAINTED", "WARMED"))]
    assert lines == ["PAINTED torch=False visible=True", "WARMED torch=True"], done.stdout


@pytest.fixture
def window(qtbot, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("NETCANVAS_RECOVERY_DIR", str(tmp_path / "recovery"))
    win = MainWindow(settings=settings)
    win.show_error = lambda title, msg: pytest.fail(f"{title}: {msg}")
    qtbot.addWidget(win, before_close_func=lambda w: setattr(w, "ask_save_changes", _discard))
    return win


def _discard():
    return Answer.Discard


def test_first_run_offers_examples_and_opens_the_chosen_one(window, settings, qtbot):
    app.start(window, None, settings)
    page = window.start_page
    assert page.isVisible()
    assert page.list.count() == len(list_examples())
    page.list.setCurrentRow(0)
    page.open_button.click()
    assert not page.isVisible()
    first = list_examples()[0][0]
    assert len(window.document.graph.nodes) > 0
    assert window.document.project.name
    assert window.document.graph.same_as(_load(example_path(first)).graph)


def test_empty_choice_keeps_an_empty_canvas(window, settings):
    app.start(window, None, settings)
    window.start_page.empty_button.click()
    assert window.document.graph.nodes == {}


def test_later_run_reopens_the_last_project(window, settings, tmp_path):
    path = tmp_path / "last.netcanvas"
    path.write_bytes(example_path("iris_mlp").read_bytes())
    settings.setValue("first_run_done", True)
    settings.setValue("last_project", str(path))
    app.start(window, None, settings)
    assert window.document.project.path == path
    assert getattr(window, "start_page", None) is None


def test_file_argument_opens_that_project(window, settings, tmp_path):
    path = tmp_path / "given.netcanvas"
    path.write_bytes(example_path("spiral_mlp").read_bytes())
    app.start(window, str(path), settings)
    assert window.document.project.path == path
    assert window.windowTitle() == "given[*] — Netcanvas"


def _load(path):
    from designer.core.project_io import load_project

    return load_project(path)
