"""The hyperparameter form of the training dock, built from TRAINING_SPECS.

Each edit is checked by the field's ParamSpec; a refused value is shown with its reason and the
old value stays.
"""

from __future__ import annotations

import math
import sys

from PySide6.QtCore import Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from designer.core.errors import ParamError
from designer.core.training.config import TRAINING_SPECS, TrainingConfig

LABELS = {
    "optimizer": "Optimizer",
    "lr": "Learning rate",
    "momentum": "Momentum",
    "nesterov": "Nesterov",
    "weight_decay": "Weight decay",
    "batch_size": "Batch size",
    "epochs": "Epochs",
    "scheduler": "LR schedule",
    "loss": "Loss",
    "init": "Initialisation",
    "seed": "Seed",
    "device": "Device",
    "amp": "Mixed precision",
    "grad_clip": "Gradient clip",
    "early_stopping": "Early stopping",
    "freeze_batchnorm": "Frozen BatchNorm: keep stats",
    "memory_budget_mb": "Memory budget (MB)",
}
LR_RANGE = (1e-5, 10.0)  # what the form offers; the spec itself allows more
INT_MAX = 2**31 - 1  # QSpinBox is 32-bit


def available_devices() -> list[str]:
    """Devices to offer. CUDA/MPS are only probed once torch is loaded, so the window never
    waits for the torch import; "auto" and "cpu" are always there."""
    devices = ["auto", "cpu"]
    torch = sys.modules.get("torch")
    try:
        if torch is not None and torch.cuda.is_available():
            devices.append("cuda")
        mps = getattr(torch.backends, "mps", None) if torch is not None else None
        if mps is not None and mps.is_available():
            devices.append("mps")
    except AttributeError:  # torch is still being imported by the warm-up thread
        pass
    return devices


class SettingsForm(QWidget):
    """Hyperparameter editors built from TRAINING_SPECS, writing into a TrainingConfig."""

    edited = Signal(str)  # field name

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.config = TrainingConfig()
        self.editors: dict[str, QWidget] = {}
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d0453a;")
        self.error.hide()
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for name, spec in TRAINING_SPECS.items():
            if spec.kind is dict or (spec.kind is str and spec.choices is None):
                continue  # file-level settings (lr_multipliers, init_from): not a form field
            editor = self._make_editor(name, spec)
            editor.setToolTip(f"{spec.doc} ({spec.describe()})")
            self.editors[name] = editor
            form.addRow(LABELS.get(name, name), editor)
        form.addRow(self.error)

    def _make_editor(self, name, spec) -> QWidget:
        if spec.choices is not None:
            combo = QComboBox()
            for choice in spec.choices:
                combo.addItem(str(choice), choice)
            combo.activated.connect(lambda _i, n=name: self._commit(n))
            return combo
        if spec.kind is bool:
            check = QCheckBox()
            check.toggled.connect(lambda _on, n=name: self._commit(n))
            return check
        if spec.kind is int:
            spin = QSpinBox()
            spin.setRange(int(spec.minimum or 0), int(min(spec.maximum or INT_MAX, INT_MAX)))
            spin.setKeyboardTracking(False)
            if name == "early_stopping":
                spin.setSpecialValueText("off")
            if name == "memory_budget_mb":
                spin.setSpecialValueText("automatic")
            spin.valueChanged.connect(lambda _v, n=name: self._commit(n))
            return spin
        line = QLineEdit()
        # NOTE: the validator only keeps out letters and minus signs; the range is checked on
        # commit, so an out-of-range value gets a message instead of being silently ignored.
        validator = QDoubleValidator(0.0, math.inf, 12, line)
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        line.setValidator(validator)
        line.setPlaceholderText("e.g. 1e-3" if name == "lr" else "")
        line.editingFinished.connect(lambda n=name: self._commit(n))
        return line

    def set_config(self, config: TrainingConfig) -> None:
        """Show `config` and write later edits into it."""
        self.config = config
        self.refresh_devices()
        for name, editor in self.editors.items():
            editor.blockSignals(True)
            value = getattr(config, name)
            if isinstance(editor, QComboBox):
                index = editor.findData(value)
                editor.setCurrentIndex(max(index, 0))
            elif isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QSpinBox):
                editor.setValue(min(int(value), editor.maximum()))
            else:
                editor.setText(f"{value:g}")
            editor.blockSignals(False)
        self.error.hide()
        self._update_enabled()

    def refresh_devices(self) -> None:
        """List only devices this machine has; keep a configured-but-missing one visible."""
        combo = self.editors["device"]
        devices = available_devices()
        combo.blockSignals(True)
        combo.clear()
        for device in devices:
            combo.addItem(device, device)
        if self.config.device not in devices:
            combo.addItem(f"{self.config.device} (not available here)", self.config.device)
        combo.setCurrentIndex(max(combo.findData(self.config.device), 0))
        combo.blockSignals(False)
        self._update_enabled()

    def value(self, name: str) -> object:
        editor = self.editors[name]
        if isinstance(editor, QComboBox):
            return editor.currentData()
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QSpinBox):
            return editor.value()
        text = editor.text().strip().replace(",", ".")
        try:
            return float(text)
        except ValueError:
            return text

    def _commit(self, name: str) -> None:
        value = self.value(name)
        if name == "lr" and isinstance(value, float) and not LR_RANGE[0] <= value <= LR_RANGE[1]:
            self._refuse(name, ParamError("lr", "expected a number between 1e-05 and 10"))
            return
        try:
            value = TRAINING_SPECS[name].check(value)
        except ParamError as err:
            self._refuse(name, err)
            return
        self.error.hide()
        self.editors[name].setStyleSheet("")
        if getattr(self.config, name) == value:
            return
        setattr(self.config, name, value)
        self._update_enabled()
        self.edited.emit(name)

    def _refuse(self, name: str, err: ParamError) -> None:
        editor = self.editors[name]
        editor.setStyleSheet("border: 1px solid #d0453a;")
        self.error.setText(f"{LABELS.get(name, name)}: {err.reason}")
        self.error.show()
        if isinstance(editor, QLineEdit):
            editor.setText(f"{getattr(self.config, name):g}")  # old value stays

    def _update_enabled(self) -> None:
        optimizer = self.config.optimizer
        self.editors["momentum"].setEnabled(optimizer in ("sgd", "rmsprop"))
        self.editors["nesterov"].setEnabled(optimizer == "sgd")
        cuda = "cuda" in available_devices() and self.config.device in ("auto", "cuda")
        self.editors["amp"].setEnabled(cuda)
        self.editors["amp"].setToolTip(
            "Mixed precision on CUDA" if cuda else "Mixed precision needs a CUDA GPU"
        )
