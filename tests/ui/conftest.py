"""Fixtures shared by the UI tests."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture
def settings(tmp_path):
    """Window settings in a file of the test's own: no test sees another's docks or recents."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
