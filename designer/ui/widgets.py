"""Small widgets shared by several views."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QWidget


def path_field(line: QLineEdit, browse: Callable[[], object]) -> QWidget:
    """A path line edit with a "Browse…" button beside it."""
    button = QPushButton("Browse…")
    button.clicked.connect(lambda _checked=False: browse())
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(line, 1)
    layout.addWidget(button)
    return row
