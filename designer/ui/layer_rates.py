"""Learning rate per layer (discriminative learning rates): a factor of the learning rate for
each top-level layer or block that has parameters, written into
`TrainingConfig.lr_multipliers` under the layer's module path (what recipe.param_groups reads).

"Earlier layers ×" fills the table the fast.ai way: the last layer trains at the learning rate,
each layer before it at `factor` times the next one's.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.core.errors import NetcanvasError
from designer.core.training.config import LR_FACTOR_MAX, TrainingConfig

FACTOR_MIN = 1e-4  # the smallest factor the spin boxes offer (the core takes any above 0)
DECIMALS = 4


def trainable_layers(graph, analysis) -> list[tuple[str, str, int, bool]]:
    """(module path, name, parameters, frozen) of the top-level layers and blocks that have
    parameters, in forward order."""
    from designer.core.codegen import generate

    try:
        source = generate(graph, "Net", analysis)
    except NetcanvasError:  # a graph codegen refuses (an error on the canvas): no rows
        return []
    rows = []
    for node_id in analysis.order:
        params = analysis.costs.get(node_id, (0, 0))[0]
        attr = source.attr_names.get(node_id)
        if params and attr:
            node = graph.nodes[node_id]
            rows.append((attr, node.name, params, node.frozen))
    return rows


def discriminative(paths: list[str], factor: float) -> dict[str, float]:
    """The last path at 1, each earlier one at `factor` times the next (at least FACTOR_MIN)."""
    n = len(paths)
    return {p: max(FACTOR_MIN, round(factor ** (n - 1 - k), DECIMALS)) for k, p in enumerate(paths)}


class LayerRates(QWidget):
    """A table of layers with a learning-rate factor each, bound to a TrainingConfig."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.config = TrainingConfig()
        self.paths: list[str] = []
        self.spins: dict[str, QDoubleSpinBox] = {}
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Layer", "Parameters", "× learning rate"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.factor = QDoubleSpinBox()
        self.factor.setRange(0.01, 1.0)
        self.factor.setDecimals(2)
        self.factor.setSingleStep(0.1)
        self.factor.setValue(0.5)
        self.factor.setToolTip("Each layer trains at this share of the next layer's rate")
        self.fill = QPushButton("Apply")
        self.fill.setToolTip("Fill the table: the last layer at 1×, each earlier one × the factor")
        self.fill.clicked.connect(lambda: self.apply_discriminative(self.factor.value()))
        self.reset = QPushButton("All 1×")
        self.reset.clicked.connect(lambda: self._set({}))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Earlier layers ×"))
        row.addWidget(self.factor)
        row.addWidget(self.fill)
        row.addStretch(1)
        row.addWidget(self.reset)
        self.empty = QLabel("No layer with parameters to train.")
        self.empty.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addStretch(0)

    def set_config(self, config: TrainingConfig) -> None:
        """Show `config.lr_multipliers` and write later edits into it."""
        self.config = config
        self._show()

    def set_layers(self, layers: list[tuple[str, str, int, bool]]) -> None:
        """The rows: (module path, name, parameters, frozen), from `trainable_layers`."""
        self.table.setRowCount(len(layers))
        self.paths, self.spins = [], {}
        for r, (path, name, params, frozen) in enumerate(layers):
            item = QTableWidgetItem(("🔒 " if frozen else "") + name)
            item.setToolTip(f"{path}" + (" (frozen: not trained)" if frozen else ""))
            self.table.setItem(r, 0, item)
            count = QTableWidgetItem(f"{params:,}")
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(r, 1, count)
            spin = QDoubleSpinBox()
            spin.setRange(FACTOR_MIN, LR_FACTOR_MAX)
            spin.setDecimals(DECIMALS)
            spin.setSingleStep(0.1)
            spin.setKeyboardTracking(False)
            spin.setSuffix(" ×")
            spin.setEnabled(not frozen)
            spin.setToolTip(
                f"Factor of the learning rate for {name} (above 0, ≤ {LR_FACTOR_MAX:g})"
            )
            spin.valueChanged.connect(lambda v, p=path: self._edited(p, v))
            self.table.setCellWidget(r, 2, spin)
            self.paths.append(path)
            self.spins[path] = spin
        self.empty.setVisible(not layers)
        self.table.setVisible(bool(layers))
        self._show()

    def _show(self) -> None:
        factors = self.config.lr_multipliers
        for path, spin in self.spins.items():
            spin.blockSignals(True)
            spin.setValue(float(factors.get(path, 1.0)))
            spin.blockSignals(False)

    def trainable_paths(self) -> list[str]:
        return [p for p in self.paths if self.spins[p].isEnabled()]

    def apply_discriminative(self, factor: float) -> None:
        """Earlier layers × factor: the last trainable layer at 1, each earlier one × factor."""
        self._set(discriminative(self.trainable_paths(), factor))

    def _edited(self, path: str, value: float) -> None:
        factors = dict(self.config.lr_multipliers)
        factors[path] = round(value, DECIMALS)
        self._set(factors)

    def _set(self, factors: dict[str, float]) -> None:
        # Factors of 1 are the default: the project stores only the others.
        kept = {p: f for p, f in factors.items() if f != 1.0}
        if kept == self.config.lr_multipliers:
            self._show()
            return
        self.config.lr_multipliers = kept
        self._show()
        self.edited.emit()
