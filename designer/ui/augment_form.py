"""Image augmentation in the dataset settings: random resized crop, flip, rotation, colour
jitter and ImageNet normalisation, written into `TrainingConfig.augment`.

The ranges are the core's (config.AUGMENT_LIMITS) and every edit is checked by the core's
`check_augment`, so the form refuses what a project file would refuse, with the same words.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from designer.core.errors import ParamError
from designer.core.training.config import AUGMENT_LIMITS, TrainingConfig, check_augment

# Keys the form edits; others in a file (the older "jitter") are kept as they are.
_SHARES = ("brightness", "contrast", "saturation")


def _spin(key: str, step: float, decimals: int = 2, suffix: str = "") -> QDoubleSpinBox:
    low, high = AUGMENT_LIMITS[key]
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setDecimals(decimals)
    spin.setSingleStep(step)
    spin.setSuffix(suffix)
    spin.setKeyboardTracking(False)
    spin.setToolTip(f"from {low:g} to {high:g}")
    return spin


class AugmentForm(QWidget):
    """Augmentation editors bound to a TrainingConfig's `augment` dict."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.config = TrainingConfig()
        self._pretrained = False
        self.crop = QCheckBox("Random resized crop")
        self.crop.setToolTip("Each training picture is cut to a random part and resized back")
        self.crop_min = _spin("crop", 0.05)
        self.crop_max = _spin("crop_max", 0.05)
        self.crop_min.setPrefix("side ")
        self.crop_max.setPrefix("to ")
        crop_row = QHBoxLayout()
        crop_row.setContentsMargins(0, 0, 0, 0)
        crop_row.addWidget(self.crop)
        crop_row.addWidget(self.crop_min, 1)
        crop_row.addWidget(self.crop_max, 1)
        self.flip = QCheckBox("Horizontal flip")
        self.flip.setToolTip("Half of the training pictures are mirrored left to right")
        self.rotation = _spin("rotation", 5.0, 1, "°")
        self.rotation.setSpecialValueText("off")
        self.rotation.setToolTip(
            f"{self.rotation.toolTip()} degrees: each picture turns by up to this either way"
        )
        self.shares = {key: _spin(key, 0.05) for key in _SHARES}
        jitter_row = QHBoxLayout()
        jitter_row.setContentsMargins(0, 0, 0, 0)
        for key, spin in self.shares.items():
            spin.setSpecialValueText("off")
            spin.setToolTip(f"{key.capitalize()} varies by up to this share ({spin.toolTip()})")
            jitter_row.addWidget(QLabel(key.capitalize()))
            jitter_row.addWidget(spin, 1)
        self.normalize = QCheckBox("Normalise with ImageNet statistics")
        self.normalize.setToolTip(
            "Subtract ImageNet's mean and divide by its spread per colour channel, as "
            "pretrained backbones expect (training and testing)"
        )
        self.suggestion = QLabel(
            "The model holds pretrained weights: they expect ImageNet statistics."
        )
        self.suggestion.setTextFormat(Qt.TextFormat.PlainText)
        self.suggestion.setWordWrap(True)
        self.suggestion.setStyleSheet("color: #b07800;")
        self.use_imagenet = QPushButton("Use them")
        self.use_imagenet.clicked.connect(lambda: self.normalize.setChecked(True))
        hint = QHBoxLayout()
        hint.setContentsMargins(0, 0, 0, 0)
        hint.addWidget(self.suggestion, 1)
        hint.addWidget(self.use_imagenet)
        self.hint = QWidget()
        self.hint.setLayout(hint)
        self.hint.hide()
        self.reason = QLabel()  # why the last value was refused
        self.reason.setTextFormat(Qt.TextFormat.PlainText)
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("color: #d0453a;")
        self.reason.hide()

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(crop_row)
        form.addRow(self.flip)
        form.addRow("Rotation", self.rotation)
        form.addRow(jitter_row)
        form.addRow(self.normalize)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(self.reason)

        self.crop.toggled.connect(lambda _on: self._commit())
        self.flip.toggled.connect(lambda _on: self._commit())
        self.normalize.toggled.connect(lambda _on: self._commit())
        for spin in (self.crop_min, self.crop_max, self.rotation, *self.shares.values()):
            spin.valueChanged.connect(lambda _v: self._commit())

    def _widgets(self) -> tuple[QWidget, ...]:
        return (self.crop, self.crop_min, self.crop_max, self.flip, self.rotation, self.normalize)

    def set_config(self, config: TrainingConfig) -> None:
        """Show `config.augment` and write later edits into it."""
        self.config = config
        self._show(config.augment)
        self.reason.hide()

    def _show(self, aug: dict) -> None:
        widgets = (*self._widgets(), *self.shares.values())
        for w in widgets:
            w.blockSignals(True)
        crop = "crop" in aug or "crop_max" in aug
        self.crop.setChecked(crop)
        self.crop_min.setValue(float(aug.get("crop", 0.5)))
        self.crop_max.setValue(float(aug.get("crop_max", 1.0)))
        self.crop_min.setEnabled(crop)
        self.crop_max.setEnabled(crop)
        self.flip.setChecked(bool(aug.get("flip", False)))
        self.rotation.setValue(float(aug.get("rotation", 0.0)))
        for key, spin in self.shares.items():
            spin.setValue(float(aug.get(key, 0.0)))
        self.normalize.setChecked(aug.get("normalize") == "imagenet")
        for w in widgets:
            w.blockSignals(False)

    def value(self) -> dict:
        """The augmentation the widgets show (settings left at "off" are left out)."""
        out = {k: v for k, v in self.config.augment.items() if k == "jitter"}
        if self.crop.isChecked():
            out["crop"] = round(self.crop_min.value(), 4)
            out["crop_max"] = round(self.crop_max.value(), 4)
        if self.flip.isChecked():
            out["flip"] = True
        if self.rotation.value():
            out["rotation"] = round(self.rotation.value(), 4)
        for key, spin in self.shares.items():
            if spin.value():
                out[key] = round(spin.value(), 4)
        if self.normalize.isChecked():
            out["normalize"] = "imagenet"
        return out

    def _commit(self) -> None:
        try:
            value = check_augment(self.value())
        except ParamError as err:
            self.reason.setText(f"Augmentation: {err}")
            self.reason.show()
            self._show(self.config.augment)  # the old values stay
            return
        self.reason.hide()
        self.crop_min.setEnabled(self.crop.isChecked())
        self.crop_max.setEnabled(self.crop.isChecked())
        if value == self.config.augment:
            return
        self.config.augment = value
        self._update_hint()
        self.edited.emit()

    def suggest_imagenet(self, pretrained: bool) -> None:
        """Suggest ImageNet statistics when the model holds pretrained weights."""
        self._pretrained = pretrained
        self._update_hint()

    def _update_hint(self) -> None:
        self.hint.setVisible(
            self._pretrained and self.config.augment.get("normalize") != "imagenet"
        )
