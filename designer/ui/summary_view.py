"""Model summary: one row per layer (name, type, output shape, params, MACs) and a totals row."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from designer.core.analysis import Analysis
from designer.core.summary import summarize

COLUMNS = ("Layer", "Type", "Output shape", "Params", "MACs")
NODE_ID = Qt.ItemDataRole.UserRole


class SummaryView(QTableWidget):
    """Rebuilt from the document's analysis after every edit. Clicking a row selects that node."""

    def __init__(self, document, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.document = document
        self._shown: list[tuple] = []  # (cells, node id, bold) of each row as last written
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setStretchLastSection(False)
        self._fit_columns()
        self.cellClicked.connect(self._clicked)
        self._stale = False
        document.analysis_changed.connect(self._refresh_if_shown)
        self.refresh(document.analysis)

    def _refresh_if_shown(self, analysis: Analysis) -> None:
        # NOTE: behind another tab of a shown window the table is rebuilt when it is shown.
        if self.window().isVisible() and not self.isVisible():
            self._stale = True
            return
        self.refresh(analysis)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        if self._stale:
            self.refresh()
        super().showEvent(event)

    def refresh(self, analysis: Analysis | None = None) -> None:
        self._stale = False
        analysis = analysis or self.document.analysis
        summary = summarize(self.document.graph, analysis)
        rows: list[tuple[tuple[str, ...], str | None, bool]] = []
        for row in summary.rows:
            name, *rest = row.cells()
            rows.append(((f"🔒 {name}" if row.frozen else name, *rest), row.node_id, False))
        totals = summary.total_rows()
        for i, (label, params, macs) in enumerate(totals):
            rows.append(((label, "", "", params, macs), None, i == len(totals) - 1))
        header = self.horizontalHeader()
        # NOTE: with ResizeToContents on, every setItem re-measures the whole column: filling
        # 2,000 rows of a visible table took over a minute. Measure once, after the fill; and
        # only rows that changed are written (an edit changes a few shapes, not every row).
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.setUpdatesEnabled(False)
        try:
            self.setRowCount(len(rows))
            shown = self._shown
            for i, wanted in enumerate(rows):
                if i >= len(shown) or shown[i][1:] != wanted[1:]:
                    self._fill(i, *wanted)
                elif shown[i] != wanted:
                    for col, (old, text) in enumerate(zip(shown[i][0], wanted[0], strict=True)):
                        if old != text:
                            self._cell(i, col).setText(text)
            self._shown = rows
        finally:
            self._fit_columns()
            self.setUpdatesEnabled(True)

    def _fit_columns(self) -> None:
        # Numbers fit their contents; the layer name takes the spare width.
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

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
            int(self._cell(row, 3).text().replace(",", "")),
            int(self._cell(row, 4).text().replace(",", "")),
        )

    def _cell(self, row: int, col: int) -> QTableWidgetItem:
        item = self.item(row, col)
        if item is None:  # every cell is filled in refresh()
            raise IndexError(f"no summary cell at row {row}, column {col}")
        return item

    def _clicked(self, row: int, _col: int) -> None:
        node_id = self._cell(row, 0).data(NODE_ID)
        if node_id:
            self.document.select([node_id])
