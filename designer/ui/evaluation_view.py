"""The evaluation panel after a run: confusion matrix (counts or normalised), per-class
precision/recall/F1 and the most confidently wrong samples (as images for image data, rows for
tables); for regression, predicted vs true and the residuals. Exports PNG and CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)  # fmt: skip


def _item(text: str, shade: float | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if shade is not None:
        v = int(255 - 170 * max(0.0, min(1.0, shade)))
        item.setBackground(QBrush(QColor(v, v, 255)))
        item.setForeground(QBrush(QColor("black")))
    return item


class EvaluationView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.evaluation: Any = None  # designer.core.training.evaluation.Evaluation
        self.data: Any = None  # its Dataset
        self.note = QLabel(
            "After a run, press Evaluate to score the trained model on the test split."
        )
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.normalized = QCheckBox("Normalised (rows sum to 1)")
        self.normalized.toggled.connect(self._fill_confusion)
        self.export_button = QPushButton("Export PNG + CSV…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._ask_export)
        bar = QHBoxLayout()
        bar.addWidget(self.note, 1)
        bar.addWidget(self.normalized)
        bar.addWidget(self.export_button)

        self.confusion = QTableWidget()
        self.per_class = QTableWidget()
        self.wrong = QTableWidget()
        self.wrong_images = QLabel()
        self.wrong_images.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        wrong = QWidget()
        wl = QVBoxLayout(wrong)
        wl.addWidget(self.wrong_images)
        wl.addWidget(self.wrong, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.confusion, "Confusion matrix")
        self.tabs.addTab(self.per_class, "Per class")
        self.tabs.addTab(wrong, "Most confident mistakes")
        self.regression = pg.GraphicsLayoutWidget()
        self.scatter_plot = self.regression.addPlot(title="predicted vs true")
        self.regression.nextRow()
        self.residual_plot = self.regression.addPlot(title="residual (predicted − true) vs true")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.tabs)
        self.stack.addWidget(self.regression)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

    def show_evaluation(self, ev, data) -> None:
        self.evaluation, self.data = ev, data
        self.export_button.setEnabled(True)
        shown = ", ".join(
            f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in ev.summary.items()
        )
        self.note.setText(f"Test split: {shown}")
        if ev.task == "classification":
            self.stack.setCurrentIndex(0)
            self.normalized.setVisible(True)
            self._fill_confusion()
            self._fill_per_class()
            self._fill_wrong()
        else:
            self.stack.setCurrentIndex(1)
            self.normalized.setVisible(False)
            t, p = ev.y_true[:, 0], ev.y_pred[:, 0]
            self.scatter_plot.clear()
            self.scatter_plot.plot(t, p, pen=None, symbol="o", symbolSize=5)
            lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
            self.scatter_plot.plot(
                [lo, hi], [lo, hi], pen=pg.mkPen("grey", style=Qt.PenStyle.DashLine)
            )
            self.residual_plot.clear()
            self.residual_plot.plot(
                t, p - t, pen=None, symbol="o", symbolSize=5, symbolBrush="#d8753b"
            )
            self.residual_plot.addLine(y=0, pen=pg.mkPen("grey"))

    def _fill_confusion(self) -> None:
        ev = self.evaluation
        if ev is None or ev.confusion is None:
            return
        names = list(ev.class_names)
        norm = ev.normalized
        table = self.confusion
        table.setRowCount(len(names))
        table.setColumnCount(len(names))
        table.setHorizontalHeaderLabels([f"→ {n}" for n in names])
        table.setVerticalHeaderLabels(names)
        for i in range(len(names)):
            for j in range(len(names)):
                text = (
                    f"{norm[i, j]:.2f}"
                    if self.normalized.isChecked()
                    else str(int(ev.confusion[i, j]))
                )
                table.setItem(i, j, _item(text, float(norm[i, j])))
        table.resizeColumnsToContents()

    def _fill_per_class(self) -> None:
        rows = self.evaluation.per_class
        table = self.per_class
        table.setRowCount(len(rows))
        table.setColumnCount(5)
        table.setHorizontalHeaderLabels(["class", "precision", "recall", "F1", "support"])
        for r, c in enumerate(rows):
            values = [
                c["class"],
                f"{c['precision']:.3f}",
                f"{c['recall']:.3f}",
                f"{c['f1']:.3f}",
                str(c["support"]),
            ]
            for k, v in enumerate(values):
                table.setItem(r, k, _item(v, c["f1"] if k == 3 else None))
        table.resizeColumnsToContents()

    def _fill_wrong(self) -> None:
        ev, data = self.evaluation, self.data
        table = self.wrong
        table.setRowCount(len(ev.wrong))
        table.setColumnCount(5)
        table.setHorizontalHeaderLabels(
            ["test sample", "true", "predicted", "confidence", "features"]
        )
        for r, w in enumerate(ev.wrong):
            x = np.asarray(data.x_test[w["index"]]).reshape(-1)
            features = " ".join(f"{v:.3g}" for v in x[:8]) + (" …" if len(x) > 8 else "")
            for k, v in enumerate(
                [str(w["index"]), w["true"], w["predicted"], f"{w['confidence']:.0%}", features]
            ):
                table.setItem(r, k, _item(v))
        table.resizeColumnsToContents()
        self.wrong_images.setPixmap(self._images() or QPixmap())

    def _images(self) -> QPixmap | None:
        """The wrong samples side by side, when the inputs are images (H×W or C×H×W)."""
        ev, data = self.evaluation, self.data
        shape = tuple(data.input_shape)
        if len(shape) < 2 or not ev.wrong:
            return None
        h, w = int(shape[-2]), int(shape[-1])
        scale = max(1, 48 // max(h, w))
        strip = np.full((h * scale, len(ev.wrong) * (w * scale + 4)), 255, np.uint8)
        for k, item in enumerate(ev.wrong):
            x = np.asarray(data.x_test[item["index"]], np.float64).reshape(-1, h, w)[0]
            g = ((x - x.min()) / ((x.max() - x.min()) or 1.0) * 255).astype(np.uint8)
            g = np.kron(g, np.ones((scale, scale), np.uint8))
            x0 = k * (w * scale + 4)
            strip[:, x0 : x0 + w * scale] = g
        strip = np.ascontiguousarray(strip)
        image = QImage(
            strip.data,
            strip.shape[1],
            strip.shape[0],
            strip.strides[0],
            QImage.Format.Format_Grayscale8,
        )
        return QPixmap.fromImage(image.copy())

    def export(self, folder: str | Path) -> list[Path]:
        """Write the evaluation's CSV and PNG files into `folder`."""
        from designer.core.training import evaluation

        return evaluation.write(self.evaluation, Path(folder), self.data)

    def _ask_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the evaluation to a folder")
        if folder:
            written = self.export(folder)
            self.note.setText(f"Wrote {len(written)} files to {folder}")
