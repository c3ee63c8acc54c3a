"""The window follows the system colour scheme: Fusion with a dark palette when it is dark."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from designer.ui import theme


@pytest.fixture
def restore_look(qapp):
    palette, style = QPalette(qapp.palette()), qapp.style().name()
    yield qapp
    qapp.setStyle(style)
    qapp.setPalette(palette)


def test_dark_scheme_gives_fusion_with_a_dark_palette(restore_look, monkeypatch):
    app: QApplication = restore_look
    monkeypatch.setattr(theme, "is_dark", lambda _app=None: True)
    theme.apply_theme(app)
    window = app.palette().color(QPalette.ColorRole.Window)
    text = app.palette().color(QPalette.ColorRole.WindowText)
    assert app.style().name().lower() == "fusion"
    assert window.lightness() < 80 and text.lightness() > 180


def test_light_scheme_keeps_a_light_palette(restore_look, monkeypatch):
    app: QApplication = restore_look
    monkeypatch.setattr(theme, "is_dark", lambda _app=None: False)
    theme.apply_theme(app)
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 180
    assert app.palette().color(QPalette.ColorRole.WindowText).lightness() < 80
