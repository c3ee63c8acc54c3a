"""Problems: every diagnostic of the graph. Click one to select its node; apply its quick fix."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from designer.core.analysis import Analysis
from designer.core.diagnostics import Diagnostic
from designer.ui import plain

DIAGNOSTIC = Qt.ItemDataRole.UserRole


class ProblemsView(QWidget):
    """A list of diagnostics with a quick-fix button (and context action) for the selected one."""

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        self.list.currentItemChanged.connect(lambda *_: self._update_fix_button())
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.empty_label = QLabel("No problems.")
        self.fix_button = QPushButton("Quick fix")
        self.fix_button.clicked.connect(self.apply_current_fix)
        row = QHBoxLayout()
        row.addWidget(self.empty_label)
        row.addStretch(1)
        row.addWidget(self.fix_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.list)
        layout.addLayout(row)
        document.analysis_changed.connect(self.refresh)
        self.refresh(document.analysis)

    def refresh(self, analysis: Analysis | None = None) -> None:
        analysis = analysis or self.document.analysis
        style = self.style()
        icons = {
            "error": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
            "warning": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
        }
        self.list.clear()
        for diag in analysis.diagnostics:
            text = diag.message  # it names its layer already: "'fc1' (Linear) expects ..."
            if diag.fix is not None:
                text += f"  (fix: {diag.fix.title})"
            item = QListWidgetItem(icons[diag.severity], text)
            item.setData(DIAGNOSTIC, diag)
            item.setToolTip(plain.tooltip(text))
            self.list.addItem(item)
        n = len(analysis.diagnostics)
        self.empty_label.setText("No problems." if n == 0 else f"{analysis.summary()}")
        self._update_fix_button()

    def _clicked(self, item: QListWidgetItem) -> None:
        diag: Diagnostic = item.data(DIAGNOSTIC)
        if diag.node_id and diag.node_id in self.document.graph.nodes:
            self.document.select([diag.node_id])

    def _current(self) -> Diagnostic | None:
        item = self.list.currentItem()
        return item.data(DIAGNOSTIC) if item else None

    def _update_fix_button(self) -> None:
        diag = self._current()
        has_fix = diag is not None and diag.fix is not None
        self.fix_button.setEnabled(has_fix)
        self.fix_button.setText(f"Fix: {diag.fix.title}" if has_fix else "Quick fix")

    def apply_current_fix(self) -> None:
        diag = self._current()
        if diag is not None and diag.fix is not None:
            self.document.apply_fix(diag.fix)

    def _context_menu(self, pos) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        diag: Diagnostic = item.data(DIAGNOSTIC)
        self.list.setCurrentItem(item)
        menu = QMenu(self)
        select = QAction("Select layer", menu, enabled=bool(diag.node_id))
        select.triggered.connect(lambda: self._clicked(item))
        menu.addAction(select)
        if diag.fix is not None:
            fix = QAction(diag.fix.title, menu)
            fix.triggered.connect(lambda: self.document.apply_fix(diag.fix))
            menu.addAction(fix)
        menu.exec(self.list.viewport().mapToGlobal(pos))
