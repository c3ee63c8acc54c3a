"""Text from a file, a dataset or an exception, shown as the characters it is.

Qt renders any string that "might be rich text" as HTML: labels and message boxes unless they
are set to Qt.PlainText, and tool tips always. A project file, a folder name or an error message
must never become links, images or markup in the window.
"""

from __future__ import annotations

import html

from PySide6.QtGui import Qt  # NOTE: QtGui's Qt namespace holds mightBeRichText
from PySide6.QtWidgets import QMessageBox, QWidget

from designer.core.limits import clip


def tooltip(text: str) -> str:
    """`text` as a tool tip that shows it literally (escaped only where Qt would render it)."""
    if not Qt.mightBeRichText(text):
        return text
    return "<p style='white-space:pre-wrap'>" + html.escape(text) + "</p>"


def message_box(icon, title: str, text: str, parent: QWidget | None) -> QMessageBox:
    """A message box that shows `text` as plain text: file or exception text never renders
    as HTML (no links, no images)."""
    box = QMessageBox(icon, title, "", QMessageBox.StandardButton.NoButton, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    return box


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """The one error dialog: plain text, long values clipped."""
    box = message_box(QMessageBox.Icon.Warning, title, clip(message, 2_000), parent)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.exec()
