"""Fixed colours of the layer categories (the same in light and dark themes) and theme lookups."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

CATEGORY_COLORS: dict[str, str] = {
    "Input/Output": "#2e9e5b",
    "Core": "#3b7dd8",
    "Convolution": "#8e5bd8",
    "Pooling": "#c060b8",
    "Normalization": "#d89a2e",
    "Activation": "#e0643c",
    "Recurrent": "#2aa6b8",
    "Attention": "#d84a78",
    "Resampling": "#7a8f2e",
    "Merge": "#7d7d8c",
}
OTHER_COLOR = "#8a8a8a"
ERROR_COLOR = QColor("#e5484d")
WARNING_COLOR = QColor("#f0a020")


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, OTHER_COLOR))


def palette() -> QPalette:
    """The application palette: items take window/base/text colours from it, so both themes work."""
    return QApplication.palette()


def is_dark(pal: QPalette | None = None) -> bool:
    pal = pal or palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128
