"""The bar above the canvas while a block is open in place: `Model ▸ layer1 ▸ 0`.

Each crumb above the level shown goes back up to it; the last one names the level shown, and
the bar says what an edit there reaches (every use of the definition). Hidden at the top level.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton

from designer.ui.document import Document

SEPARATOR = "▸"


class Breadcrumb(QFrame):
    """Follows `document`'s level; a click on a crumb shows that level."""

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("breadcrumb")
        self.document = document
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(6, 2, 6, 2)
        self._layout.setSpacing(2)
        self.crumbs: list[QToolButton | QLabel] = []  # the top level first
        self.hint = QLabel(textFormat=Qt.TextFormat.PlainText)
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        document.level_changed.connect(self.refresh)
        document.project_replaced.connect(self.refresh)
        document.analysis_changed.connect(lambda _a: self._update_hint())
        self.refresh()

    def text(self) -> str:
        """What the crumbs read, e.g. "resnet18 ▸ layer1 ▸ 0"."""
        return f" {SEPARATOR} ".join(c.text().replace("&&", "&") for c in self.crumbs)

    def refresh(self) -> None:
        while (item := self._layout.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None and widget is not self.hint:
                widget.deleteLater()
        self.crumbs = []
        levels = self.document.levels()
        for depth, (label, definition) in enumerate(levels):
            if depth:
                sep = QLabel(SEPARATOR, textFormat=Qt.TextFormat.PlainText)
                sep.setForegroundRole(QPalette.ColorRole.PlaceholderText)
                self._layout.addWidget(sep)
            if depth == len(levels) - 1:
                crumb: QToolButton | QLabel = QLabel(label, textFormat=Qt.TextFormat.PlainText)
                font = QFont(crumb.font())
                font.setBold(True)
                crumb.setFont(font)
                crumb.setContentsMargins(4, 0, 4, 0)
            else:
                crumb = QToolButton(autoRaise=True)
                crumb.setText(label.replace("&", "&&"))  # a name's "&" is no shortcut
                crumb.setCursor(Qt.CursorShape.PointingHandCursor)
                crumb.clicked.connect(lambda _c=False, d=depth: self.document.go_to(d))
            crumb.setToolTip(f"block {definition}" if definition else "the whole model")
            crumb.setObjectName(f"crumb{depth}")
            self._layout.addWidget(crumb)
            self.crumbs.append(crumb)
        self._layout.addSpacing(12)
        self._layout.addWidget(self.hint, 1)
        self._update_hint()
        self.setVisible(len(levels) > 1)

    def _update_hint(self) -> None:
        levels = self.document.levels()
        definition = levels[-1][1]
        if definition is None:
            self.hint.setText("")
            return
        uses = len(self.document.model_graph.block_uses(definition))
        reach = "changes every one" if uses > 1 else "changes it"
        self.hint.setText(
            f"block {definition}, {uses} use{'s' * (uses != 1)}: an edit here {reach} · "
            "Esc goes back out"
        )
        self.hint.setToolTip(self.hint.text())
