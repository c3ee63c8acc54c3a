"""The hyperparameter form of the training dock, built from TRAINING_SPECS.

Each edit is checked by the field's ParamSpec; a refused value is shown with its reason right
next to its field and the old value stays. Tooltips state the range the spec checks (one source).
Choices show human labels ("Adam", "Cross-entropy"); the ids stay in the config and the files.
The learning rate takes any positive number, typed or on a log-scale slider; outside the usual
range it gets a warning, not a refusal.
"""

from __future__ import annotations

import math
import sys

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from designer.core.errors import ParamError
from designer.core.training.config import LR_TYPICAL, TRAINING_SPECS, TrainingConfig
from designer.ui.param_editors import editor_value, make_editor, show_value

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
CHOICE_LABELS = {
    "adam": "Adam",
    "adamw": "AdamW",
    "sgd": "SGD",
    "rmsprop": "RMSprop",
    "none": "None",
    "step": "Step decay",
    "cosine": "Cosine",
    "onecycle": "One-cycle",
    "plateau": "Reduce on plateau",
    "cross_entropy": "Cross-entropy",
    "bce_with_logits": "Binary cross-entropy (logits)",
    "mse": "Mean squared error",
    "l1": "Mean absolute error (L1)",
    "huber": "Huber",
    "default": "PyTorch default",
    "xavier_uniform": "Xavier uniform",
    "xavier_normal": "Xavier normal",
    "kaiming_uniform": "Kaiming uniform",
    "kaiming_normal": "Kaiming normal",
    "orthogonal": "Orthogonal",
    "auto": "Automatic",
    "cpu": "CPU",
    "cuda": "CUDA GPU",
    "mps": "Apple GPU (MPS)",
    "off": "Off",
    "bf16": "bfloat16",
    "fp16": "float16",
}
SPECIAL_ZERO = {"early_stopping": "off", "memory_budget_mb": "automatic"}  # what 0 means
SLIDER_STEPS = 20  # slider positions per decade of learning rate
COLUMNS = 2  # the form's fields in two columns: all of them fit a 1366×768 screen


def choice_label(choice: object) -> str:
    """The human label of a choice id ("cross_entropy" -> "Cross-entropy")."""
    text = str(choice)
    return CHOICE_LABELS.get(text, text.replace("_", " ").capitalize())


def lr_warning(lr: float) -> str:
    """Why an accepted learning rate may still be a poor one ("" if it is in the usual range)."""
    low, high = LR_TYPICAL
    if lr < low:
        return f"very small (< {low:g}): the loss will barely move"
    if lr > high:
        return f"very large (> {high:g}): training will likely diverge"
    return ""


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
        self.reasons: dict[str, QLabel] = {}  # the refusal or warning next to each field
        self.error = QLabel()  # the last refusal (also shown next to its field)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.hide()
        self.lr_slider = QSlider(Qt.Orientation.Horizontal)
        low, high = LR_TYPICAL
        self.lr_slider.setRange(
            round(math.log10(low) * SLIDER_STEPS), round(math.log10(high) * SLIDER_STEPS)
        )
        self.lr_slider.setToolTip("Learning rate on a log scale; type any positive number")
        self.lr_slider.valueChanged.connect(self._slid)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(0)
        fields = {  # file-level settings (lr_multipliers, init_from) are not form fields
            n: spec
            for n, spec in TRAINING_SPECS.items()
            if not (spec.kind is dict or (spec.kind is str and spec.choices is None))
        }
        per_column = math.ceil(len(fields) / COLUMNS)
        for k, (name, spec) in enumerate(fields.items()):
            editor = self._make_editor(name, spec)
            editor.setToolTip(f"{spec.doc} ({spec.describe()})")
            self.editors[name] = editor
            reason = QLabel(textFormat=Qt.TextFormat.PlainText, wordWrap=True)
            reason.setStyleSheet("color: #d0453a;")
            reason.hide()
            self.reasons[name] = reason
            cell = QWidget()
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(1)
            box = QHBoxLayout()
            box.addWidget(editor, 1)
            if name == "lr":
                box.addWidget(self.lr_slider, 1)
            column.addLayout(box)
            column.addWidget(reason)  # the reason sits right under its field
            row, col = k % per_column, 2 * (k // per_column)
            label = QLabel(LABELS.get(name, name))
            label.setToolTip(editor.toolTip())
            grid.addWidget(label, row, col, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(cell, row, col + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)

    def _make_editor(self, name, spec) -> QWidget:
        # Floats are typed (a learning rate spans decades): line edits, not spin boxes.
        editor = make_editor(spec, lambda _value: self._commit(name), choice_label, True)
        if isinstance(editor, QSpinBox) and name in SPECIAL_ZERO:
            editor.setSpecialValueText(SPECIAL_ZERO[name])
        if isinstance(editor, QLineEdit) and name == "lr":
            editor.setPlaceholderText("e.g. 1e-3")
        return editor

    def set_config(self, config: TrainingConfig) -> None:
        """Show `config` and write later edits into it."""
        self.config = config
        self.refresh_devices()
        for name, editor in self.editors.items():
            show_value(editor, getattr(config, name))
        for reason in self.reasons.values():
            reason.hide()
        self.error.hide()
        self._sync_slider()
        self._update_enabled()

    def refresh_devices(self) -> None:
        """List only devices this machine has; keep a configured-but-missing one visible."""
        combo = self.editors["device"]
        assert isinstance(combo, QComboBox)  # device is a choice
        devices = available_devices()
        combo.blockSignals(True)
        combo.clear()
        for device in devices:
            combo.addItem(choice_label(device), device)
        if self.config.device not in devices:
            label = f"{choice_label(self.config.device)} (not available here)"
            combo.addItem(label, self.config.device)
        combo.setCurrentIndex(max(combo.findData(self.config.device), 0))
        combo.blockSignals(False)
        self._update_enabled()

    def value(self, name: str) -> object:
        return editor_value(self.editors[name], TRAINING_SPECS[name])

    def _commit(self, name: str) -> None:
        value = self.value(name)
        if name == "lr" and isinstance(value, float) and not value > 0:
            self._refuse(name, ParamError("lr", f"must be greater than 0, got {value:g}"))
            return
        try:
            value = TRAINING_SPECS[name].check(value)
        except ParamError as err:
            self._refuse(name, err)
            return
        self.error.hide()
        self.editors[name].setStyleSheet("")
        reason = self.reasons[name]
        lr = float(value) if name == "lr" and isinstance(value, int | float) else None
        warning = lr_warning(lr) if lr is not None else ""
        reason.setText(warning)
        reason.setStyleSheet("color: #b07800;")
        reason.setVisible(bool(warning))
        if lr is not None:
            self._sync_slider(lr)
        if getattr(self.config, name) == value:
            return
        setattr(self.config, name, value)
        self._update_enabled()
        self.edited.emit(name)

    def _refuse(self, name: str, err: ParamError) -> None:
        editor = self.editors[name]
        editor.setStyleSheet("border: 1px solid #d0453a;")
        text = f"{LABELS.get(name, name)}: {err.reason}"
        self.error.setText(text)
        reason = self.reasons[name]
        reason.setText(text)
        reason.setStyleSheet("color: #d0453a;")
        reason.show()
        if isinstance(editor, QLineEdit):
            editor.setText(f"{getattr(self.config, name):g}")  # old value stays

    def _sync_slider(self, lr: float | None = None) -> None:
        lr = self.config.lr if lr is None else lr
        self.lr_slider.blockSignals(True)
        self.lr_slider.setValue(round(math.log10(max(lr, 1e-30)) * SLIDER_STEPS))
        self.lr_slider.blockSignals(False)

    def _slid(self, position: int) -> None:
        lr = float(f"{10 ** (position / SLIDER_STEPS):.2g}")
        line = self.editors["lr"]
        assert isinstance(line, QLineEdit)
        line.setText(f"{lr:g}")
        self._commit("lr")

    def _update_enabled(self) -> None:
        optimizer = self.config.optimizer
        self.editors["momentum"].setEnabled(optimizer in ("sgd", "rmsprop"))
        self.editors["nesterov"].setEnabled(optimizer == "sgd")
        cuda = "cuda" in available_devices() and self.config.device in ("auto", "cuda")
        self.editors["amp"].setEnabled(cuda)
        self.editors["amp"].setToolTip(
            "Mixed precision on CUDA" if cuda else "Mixed precision needs a CUDA GPU"
        )
