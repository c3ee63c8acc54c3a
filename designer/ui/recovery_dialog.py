"""The question on start when crashed sessions left recovery copies: every copy is listed with
its project name, time and size; the user restores one, discards the ones they pick, and the
rest are kept for the next start."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from designer.ui import plain
from designer.ui.autosave import Decision, Recovery


class RecoveryDialog(QDialog):
    def __init__(self, recoveries: list[Recovery], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved changes?")
        self.recoveries = recoveries
        self.decision: Decision = (None, [])
        many = len(recoveries) > 1
        intro = QLabel(
            "Netcanvas did not shut down cleanly. "
            + (
                f"{len(recoveries)} windows left unsaved changes. Restore one here; the others "
                "are kept for the next start unless you discard them."
                if many
                else "Unsaved changes were recovered."
            ),
            wordWrap=True,
        )
        intro.setTextFormat(Qt.TextFormat.PlainText)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        for rec in recoveries:
            item = QListWidgetItem(rec.describe())  # item text is never rich text
            item.setToolTip(plain.tooltip(str(rec.path)))
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        buttons = QDialogButtonBox()
        self.restore_button = buttons.addButton("Restore", QDialogButtonBox.ButtonRole.AcceptRole)
        self.discard_button = QPushButton("Discard selected")
        buttons.addButton(self.discard_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.later_button = buttons.addButton("Later", QDialogButtonBox.ButtonRole.RejectRole)
        self.restore_button.clicked.connect(self._restore)
        self.discard_button.clicked.connect(self._discard)
        self.later_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def _selected(self) -> list[Recovery]:
        return [self.recoveries[i.row()] for i in self.list.selectedIndexes()]

    def _restore(self) -> None:
        picked = self._selected()
        self.decision = (picked[0] if picked else None, [])
        self.accept()

    def _discard(self) -> None:
        self.decision = (None, self._selected())
        self.accept()


def ask_recoveries(parent: QWidget | None, recoveries: list[Recovery]) -> Decision:
    """Show the dialog (modal) and return what the user chose."""
    dialog = RecoveryDialog(recoveries, parent)
    dialog.exec()
    return dialog.decision
