"""The searchable "add layer" list that opens at the cursor (Tab, a double-click on empty
canvas, or the "+" of an output port): type to filter, arrows to pick, Enter to add."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from designer.core.layers import registry

TYPE_ROLE = Qt.ItemDataRole.UserRole


def matches(type_ids: list[str], text: str) -> list[str]:
    """`type_ids` whose title, id or category contains `text`; title prefixes first."""
    needle = text.strip().lower()
    if not needle:
        return list(type_ids)
    scored = []
    for i, type_id in enumerate(type_ids):
        spec = registry.get(type_id)
        title = spec.title.lower()
        hay = f"{title} {spec.type_id} {spec.category.lower()}"
        if needle in hay:
            scored.append((0 if title.startswith(needle) else 1, i, type_id))
    return [t for *_, t in sorted(scored)]


class AddLayerPopup(QFrame):
    """A popup list of layers. `chosen(type_id)` when one is picked."""

    chosen = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(textFormat=Qt.TextFormat.PlainText)
        self.edit = QLineEdit(placeholderText="Search layers…")
        self.edit.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setMinimumHeight(60)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.setFixedWidth(280)
        self._type_ids: list[str] = []
        self.edit.textChanged.connect(self._fill)
        self.edit.returnPressed.connect(self._choose_current)
        self.list.itemActivated.connect(lambda _item: self._choose_current())
        self.edit.installEventFilter(self)

    def open_at(self, global_pos: QPoint, type_ids: list[str] | None = None, title="") -> None:
        """Show at `global_pos` listing `type_ids` (default: every layer)."""
        self._type_ids = (
            type_ids if type_ids is not None else [s.type_id for s in registry.all_specs()]
        )
        self.title.setText(title or "Add a layer")
        self.edit.clear()
        self._fill("")
        self.move(global_pos)
        self.show()
        self.edit.setFocus()

    def shown_type_ids(self) -> list[str]:
        return [self.list.item(i).data(TYPE_ROLE) for i in range(self.list.count())]

    def _fill(self, text: str) -> None:
        self.list.clear()
        for type_id in matches(self._type_ids, text):
            spec = registry.get(type_id)
            item = QListWidgetItem(f"{spec.title}   ·  {spec.category}")
            item.setData(TYPE_ROLE, type_id)
            item.setToolTip(spec.doc)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        # As tall as the matches (up to 14 rows): no empty box under a short list.
        rows = max(3, min(self.list.count(), 14))
        self.list.setFixedHeight(rows * max(18, self.list.sizeHintForRow(0)) + 6)
        self.adjustSize()

    def _choose_current(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        self.hide()
        self.chosen.emit(item.data(TYPE_ROLE))

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        # Up and Down in the search box move in the list.
        if (
            obj is self.edit
            and isinstance(event, QKeyEvent)
            and event.type() == event.Type.KeyPress
        ) and event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            step = 1 if event.key() == Qt.Key.Key_Down else -1
            row = max(0, min(self.list.count() - 1, self.list.currentRow() + step))
            self.list.setCurrentRow(row)
            return True
        return super().eventFilter(obj, event)
