"""Ctrl+F on the canvas: find layers by name or type; Enter goes to the next match."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit

from designer.core.graph import Graph


def find_layers(graph: Graph, text: str) -> list[str]:
    """Ids of the layers whose name or type contains `text` (case-insensitive), in the graph's
    order; exact name matches first."""
    needle = text.strip().lower()
    if not needle:
        return []
    hits = []
    for node in graph.nodes.values():
        name = node.name.lower()
        if needle in name or needle in node.spec.title.lower() or needle in node.type_id:
            hits.append((name != needle, node.id))
    return [i for _, i in sorted(hits, key=lambda h: h[0])]


class FindBar(QFrame):
    """A search field over the canvas. `found(ids, current)` as the text changes or Enter."""

    found = Signal(list, int)

    def __init__(self, graph_of, parent=None) -> None:
        super().__init__(parent)
        self._graph_of = graph_of
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.edit = QLineEdit(placeholderText="Find a layer by name or type…")
        self.edit.setClearButtonEnabled(True)
        self.count = QLabel(textFormat=Qt.TextFormat.PlainText)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.edit)
        layout.addWidget(self.count)
        self.resize(320, 36)
        self.hits: list[str] = []
        self.current = -1
        self.edit.textChanged.connect(self._search)
        self.edit.returnPressed.connect(self.next)
        self.hide()

    def open(self) -> None:
        self.show()
        self.raise_()
        self.edit.setFocus()
        self.edit.selectAll()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.hide()
            if (parent := self.parentWidget()) is not None:
                parent.setFocus()
            return
        super().keyPressEvent(event)

    def _search(self, text: str) -> None:
        self.hits = find_layers(self._graph_of(), text)
        self.current = 0 if self.hits else -1
        self._report()

    def next(self) -> None:
        if self.hits:
            self.current = (self.current + 1) % len(self.hits)
            self._report()

    def _report(self) -> None:
        if self.hits:
            self.count.setText(f"{self.current + 1}/{len(self.hits)}")
        else:
            self.count.setText("no match" if self.edit.text().strip() else "")
        self.found.emit(self.hits, self.current)
