"""Fixtures shared by the UI tests."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True)
def _collect_qt_garbage():
    """Free each test's Qt objects here, on the GUI thread, before the next test starts its
    worker threads: a collection those threads trigger would free them off the GUI thread,
    which PySide can deadlock on."""
    yield
    gc.collect()


@pytest.fixture
def settings(tmp_path):
    """Window settings in a file of the test's own: no test sees another's docks or recents."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def shown_panel(qtbot):
    """make(project, size): a shown TrainingPanel of a real Document of `project`."""
    from designer.ui.document import Document
    from designer.ui.training_panel import TrainingPanel

    def make(project, size=(900, 900)):
        panel = TrainingPanel(Document(project))
        qtbot.addWidget(panel)
        panel.resize(*size)
        panel.show()
        return panel

    return make
