"""Light or dark look that follows the system colour scheme (Qt 6 style hints)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

# Readable on light and dark backgrounds alike.
ERROR_STYLE = "color: #d9534f;"
BANNER_STYLE = "background: #f0ad4e; color: #222; padding: 6px; font-weight: bold;"


def is_dark(app: QGuiApplication | None = None) -> bool:
    """True when the system asks for a dark scheme (or the current palette already is dark)."""
    app = app or QGuiApplication.instance()
    if app is None:
        return False
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def dark_palette() -> QPalette:
    """A calm dark palette for the Fusion style."""
    p = QPalette()
    roles = QPalette.ColorRole
    window, base, text = QColor(45, 47, 51), QColor(30, 31, 34), QColor(222, 224, 228)
    accent = QColor(76, 140, 230)
    p.setColor(roles.Window, window)
    p.setColor(roles.WindowText, text)
    p.setColor(roles.Base, base)
    p.setColor(roles.AlternateBase, QColor(38, 40, 44))
    p.setColor(roles.ToolTipBase, QColor(55, 57, 62))
    p.setColor(roles.ToolTipText, text)
    p.setColor(roles.PlaceholderText, QColor(130, 134, 140))
    p.setColor(roles.Text, text)
    p.setColor(roles.Button, QColor(55, 57, 62))
    p.setColor(roles.ButtonText, text)
    p.setColor(roles.BrightText, QColor(255, 90, 90))
    p.setColor(roles.Link, accent.lighter(120))
    p.setColor(roles.Highlight, accent)
    p.setColor(roles.HighlightedText, QColor(255, 255, 255))
    p.setColor(roles.Mid, QColor(70, 72, 77))
    p.setColor(roles.Dark, QColor(25, 26, 28))
    p.setColor(roles.Shadow, QColor(10, 10, 10))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.Text, roles.WindowText, roles.ButtonText):
        p.setColor(disabled, role, QColor(120, 122, 128))
    return p


def apply_theme(app: QApplication) -> None:
    """Fusion style; a dark palette when the system scheme is dark, the style's own otherwise."""
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setStyle(style)
    app.setPalette(dark_palette() if is_dark(app) else app.style().standardPalette())


def follow_system(app: QApplication) -> None:
    """Apply the theme now and again whenever the system switches light/dark."""
    apply_theme(app)
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app))
