"""Start page: what a first run (or a start with nothing to reopen) offers: examples or empty."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

EXAMPLE = Qt.ItemDataRole.UserRole


class StartPage(QDialog):
    """Lists the bundled examples. Emits what the user picked; the window does the opening."""

    example_chosen = Signal(str)  # example name
    empty_chosen = Signal()
    open_file_chosen = Signal()

    def __init__(self, examples: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Netcanvas")
        self.resize(560, 420)
        intro = QLabel(
            "<b>Design a network on the canvas, train it, export clean PyTorch.</b><br>"
            "Start from an example, or with an empty canvas."
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        for name, title, description in examples:
            item = QListWidgetItem(f"{title}\n{description}")
            item.setData(EXAMPLE, name)
            item.setToolTip(description)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self._open_example())
        buttons = QDialogButtonBox()
        self.open_button = QPushButton("Open example")
        self.open_button.setDefault(True)
        self.open_button.setEnabled(self.list.count() > 0)
        self.empty_button = QPushButton("Empty project")
        self.file_button = QPushButton("Open file…")
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.file_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.empty_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.open_button.clicked.connect(self._open_example)
        self.empty_button.clicked.connect(self._empty)
        self.file_button.clicked.connect(self._open_file)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)

    def _open_example(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        self.accept()
        self.example_chosen.emit(item.data(EXAMPLE))

    def _empty(self) -> None:
        self.reject()
        self.empty_chosen.emit()

    def _open_file(self) -> None:
        self.accept()
        self.open_file_chosen.emit()
