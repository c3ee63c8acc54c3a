"""Model summary: one row per layer (name, type, output shape, params, MACs) and a totals row."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from designer.core.analysis import Analysis
from designer.core.layers.spec import format_shape

COLUMNS = ("Layer", "Type", "Output shape", "Params", "MACs")
NODE_ID = Qt.ItemDataRole.UserRole


class SummaryView(QTableWidget):
    """Rebuilt from the document's analysis after every edit. Clicking a row selects that node."""

    def __init__(self, document, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.document = document
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.cellClicked.connect(self._clicked)
        document.analysis_changed.connect(self.refresh)
        self.refresh(document.analysis)

    def refresh(self, analysis: Analysis | None = None) -> None:
        analysis = analysis or self.document.analysis
        graph = self.document.graph
        ordered = [i for i in analysis.order if i in graph.nodes]
        seen = set(ordered)
        ordered += sorted(i for i in graph.nodes if i not in seen)
        header = self.horizontalHeader()
        # NOTE: with ResizeToContents on, every setItem re-measures the whole column: filling
        # 2,000 rows of a visible table took over a minute. Measure once, after the fill.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.setUpdatesEnabled(False)
        try:
            self.setRowCount(len(ordered) + 1)
            for row, node_id in enumerate(ordered):
                node = graph.nodes[node_id]
                params, macs = analysis.costs.get(node_id, (0, 0))
                shape = analysis.shapes.get(node_id)
                cells = (
                    node.name,
                    node.spec.title,
                    format_shape(shape),
                    f"{params:,}",
                    f"{macs:,}",
                )
                self._fill(row, cells, node_id)
            totals = ("Total", "", "", f"{analysis.total_params:,}", f"{analysis.total_macs:,}")
            self._fill(len(ordered), totals, None, bold=True)
        finally:
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            self.setUpdatesEnabled(True)

    def _fill(self, row: int, cells, node_id: str | None, bold: bool = False) -> None:
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setData(NODE_ID, node_id)
            if col >= 3:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if bold:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            self.setItem(row, col, item)

    def totals(self) -> tuple[int, int]:
        """The totals row as numbers (what the user reads at the bottom of the table)."""
        row = self.rowCount() - 1
        return (
            int(self.item(row, 3).text().replace(",", "")),
            int(self.item(row, 4).text().replace(",", "")),
        )

    def _clicked(self, row: int, _col: int) -> None:
        node_id = self.item(row, 0).data(NODE_ID)
        if node_id:
            self.document.select([node_id])
