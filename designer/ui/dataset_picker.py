"""Dataset chooser for the training panel: built-in sets or the user's files, with a preview.

Edits write into a core DataConfig. The preview (first rows, class counts per split, a few
thumbnails for images) loads the dataset in a short-lived QThread so the panel never blocks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QCloseEvent, QImage, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.core.data import BUILTINS, Preview, csv_columns, data_sources, source_options
from designer.core.errors import first_line
from designer.core.training.config import DataConfig
from designer.ui import plain
from designer.ui.widgets import path_field

PREVIEW_ROWS = 6
PREVIEW_COLUMNS = 8
THUMBNAILS = 6


def stored_path(chosen: str, project_path: Path | None) -> str:
    """A chosen file as stored in the project: relative to the project's folder when inside it."""
    if project_path is None or not Path(chosen).expanduser().is_absolute():
        return chosen  # typed relative paths are already relative to the project
    folder = Path(project_path).resolve().parent
    try:
        return Path(chosen).resolve().relative_to(folder).as_posix()
    except ValueError:
        return chosen


def counts_text(view: Preview) -> str:
    """ "train: setosa 40 · versicolor 41 …" per split, or sample counts without classes."""
    if not view.class_counts:
        return " · ".join(f"{split} {shape[0]}" for split, shape in view.shapes.items())
    lines = []
    for split, counts in view.class_counts.items():
        shown = " · ".join(f"{name} {count}" for name, count in counts.items())
        lines.append(f"{split} ({view.shapes[split][0]}): {shown}")
    return "\n".join(lines)


def image_of(sample: np.ndarray) -> np.ndarray | None:
    """A sample as an H×W uint8 greyscale image if it looks like one (C×H×W or square features)."""
    x = np.asarray(sample, dtype=np.float64)
    if x.ndim == 3:
        x = x.mean(axis=0)
    elif x.ndim == 1 and x.size >= 49 and int(np.sqrt(x.size)) ** 2 == x.size:
        side = int(np.sqrt(x.size))
        x = x.reshape(side, side)
    if x.ndim != 2 or min(x.shape) < 4:
        return None
    low, high = float(x.min()), float(x.max())
    scaled = (x - low) / (high - low) if high > low else np.zeros_like(x)
    return np.ascontiguousarray((scaled * 255).astype(np.uint8))


class _AsArrays:
    """A streamed split as the preview reads it: its shape, and numpy arrays when sliced."""

    def __init__(self, streamed):
        self.streamed, self.shape = streamed, tuple(streamed.shape)

    def __len__(self) -> int:
        return len(self.streamed)

    def __getitem__(self, index):
        return self.streamed[index].numpy()


class _PreviewLoader(QObject):
    loaded = Signal(object, object)  # Preview, DataSize (for the memory plan)
    failed = Signal(str)

    def __init__(self, config: DataConfig, base_dir: Path | None, budget: int | None = None):
        super().__init__()
        self.config = DataConfig(**{**config.__dict__, "options": dict(config.options)})
        self.base_dir = base_dir
        self.budget = budget

    def run(self) -> None:
        try:
            from designer.core.data import load_dataset, preview
            from designer.core.training.memory import data_size

            # A folder over the memory budget is not decoded: the few shown pictures are.
            data = load_dataset(self.config, self.base_dir, self.budget)
            size = data_size(data, images=self.config.source == "images")
            # Where it lives is weighed again against each later budget (the memory plan).
            size = dataclasses.replace(size, streamed=False)
            if hasattr(data.x_train, "batches"):  # streamed: show decoded pictures as arrays
                data = dataclasses.replace(data, x_train=_AsArrays(data.x_train))
            self.loaded.emit(preview(data, PREVIEW_ROWS), size)
        except Exception as err:  # noqa: BLE001 - a preview must never crash the panel
            self.failed.emit(first_line(err))
        finally:
            QThread.currentThread().quit()


class DatasetPicker(QWidget):
    """Source, file/target and built-in choice, split, and a live preview."""

    edited = Signal(str)  # DataConfig field name
    preview_ready = Signal()  # the preview shows the current settings (or why it can't)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.config = DataConfig()
        self.project_path: Path | None = None
        self._thread: QThread | None = None
        self._loader: _PreviewLoader | None = None
        self._stale = False
        self.preview_data: Preview | None = None
        self.preview_error: str | None = None
        self.data_size = None  # the previewed data's DataSize (memory plan), None if unknown
        # Whether a preview may load now: while the picker is shown, or (set by the training
        # panel) while the panel is, so that its memory plan knows the data on any tab.
        self.showing = self.isVisible
        # The memory budget (bytes) of the run, or None: an image folder over it streams, so
        # its preview decodes only the pictures it shows (set by the training panel).
        self.budget: Callable[[], int | None] = lambda: None

        self.source = QComboBox()
        self.sources = {s.key: s for s in data_sources()}
        for s in self.sources.values():
            self.source.addItem(s.title, s.key)
        self.source.activated.connect(self._source_chosen)
        self.builtin = QComboBox()
        for name, info in BUILTINS.items():
            self.builtin.addItem(info.title, name)
            self.builtin.setItemData(
                self.builtin.count() - 1, info.doc, Qt.ItemDataRole.ToolTipRole
            )
        self.builtin.activated.connect(self._builtin_chosen)
        self.doc = QLabel()
        self.doc.setTextFormat(Qt.TextFormat.PlainText)
        self.doc.setWordWrap(True)
        self.path = QLineEdit()
        self.path.setPlaceholderText("file or folder, relative to the project")
        self.path.editingFinished.connect(lambda: self._set_path(self.path.text().strip()))
        self.path_row = path_field(self.path, self.browse)
        self.target = QComboBox()
        self.target.setEditable(True)
        self.target.setToolTip("Column to predict; the others are the inputs")
        self.target.activated.connect(lambda _i: self._set("target", self.target.currentText()))
        self.samples = QSpinBox()
        self.samples.setRange(10, 1_000_000)
        self.samples.setKeyboardTracking(False)
        self.samples.valueChanged.connect(lambda v: self._set_option("n", v))
        self.noise = QDoubleSpinBox()
        self.noise.setRange(0.0, 10.0)
        self.noise.setSingleStep(0.05)
        self.noise.setKeyboardTracking(False)
        self.noise.valueChanged.connect(lambda v: self._set_option("noise", round(v, 4)))
        self.test_fraction = QDoubleSpinBox()
        self.test_fraction.setRange(0.0, 0.9)
        self.test_fraction.setSingleStep(0.05)
        self.test_fraction.setKeyboardTracking(False)
        self.test_fraction.valueChanged.connect(lambda v: self._set("test_fraction", round(v, 4)))
        self.val_fraction = QDoubleSpinBox()
        self.val_fraction.setRange(0.0, 0.9)
        self.val_fraction.setSingleStep(0.05)
        self.val_fraction.setKeyboardTracking(False)
        self.val_fraction.setToolTip(
            "Share held out for validation: it picks the best epoch and drives early stopping"
        )
        self.val_fraction.valueChanged.connect(lambda v: self._set("val_fraction", round(v, 4)))

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Source", self.source)
        form.addRow("Dataset", self.builtin)
        form.addRow("", self.doc)
        form.addRow("Path", self.path_row)
        form.addRow("Target column", self.target)
        form.addRow("Samples", self.samples)
        form.addRow("Noise", self.noise)
        form.addRow("Test share", self.test_fraction)
        form.addRow("Validation share", self.val_fraction)
        self.form = form

        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMaximumHeight(180)
        self.counts = QLabel()
        self.counts.setTextFormat(Qt.TextFormat.PlainText)
        self.counts.setWordWrap(True)
        self.counts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.thumbs = QHBoxLayout()
        self.thumbs.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addLayout(self.thumbs)
        layout.addWidget(self.table)
        layout.addWidget(self.counts)

    # -- binding ---------------------------------------------------------------------------
    def set_config(self, config: DataConfig, project_path: Path | None = None) -> None:
        """Show `config` (a project's data settings) and write later edits into it."""
        self.config = config
        self.project_path = project_path
        self._sync()
        self.refresh_preview()

    @property
    def base_dir(self) -> Path | None:
        return Path(self.project_path).parent if self.project_path else None

    def _sync(self) -> None:
        c = self.config
        widgets: tuple[QWidget, ...] = (self.source, self.builtin, self.samples, self.noise)
        widgets += (self.test_fraction, self.val_fraction)
        for w in widgets:
            w.blockSignals(True)
        self.source.setCurrentIndex(max(self.source.findData(c.source), 0))
        self.builtin.setCurrentIndex(max(self.builtin.findData(c.name), 0))
        self.doc.setText(self.builtin.currentData(Qt.ItemDataRole.ToolTipRole) or "")
        self.path.setText(c.path)
        self.target.clear()
        if c.source == "csv" and c.path:
            self.target.addItems(csv_columns(self._resolved(c.path)))
        self.target.setEditText(c.target)
        defaults = source_options("builtin", c.name) if c.source == "builtin" else {}
        opts = {**defaults, **c.options}
        self.samples.setValue(int(opts.get("n", 400)))
        self.noise.setValue(float(opts.get("noise", 0.1)))
        self.test_fraction.setValue(c.test_fraction)
        self.val_fraction.setValue(c.val_fraction)
        for w in widgets:
            w.blockSignals(False)
        builtin = c.source == "builtin"
        self.form.setRowVisible(self.builtin, builtin)
        self.form.setRowVisible(self.doc, builtin and bool(self.doc.text()))
        self.form.setRowVisible(self.path_row, not builtin)
        self.form.setRowVisible(self.target, c.source == "csv")
        self.form.setRowVisible(self.samples, "n" in defaults)
        self.form.setRowVisible(self.noise, "noise" in defaults)

    def _resolved(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() or self.base_dir is None else self.base_dir / p

    def _set(self, name: str, value: object) -> None:
        if getattr(self.config, name) == value:
            return
        setattr(self.config, name, value)
        self._sync()
        self.edited.emit(name)
        self.refresh_preview()

    def _set_option(self, key: str, value: object) -> None:
        if self.config.options.get(key) == value:
            return
        self.config.options = {**self.config.options, key: value}
        self.edited.emit("options")
        self.refresh_preview()

    def _source_chosen(self, _index: int) -> None:
        source = self.source.currentData()
        if source != self.config.source:
            self.config.options = {}
            self.config.target = ""
            if source != "builtin":
                self.config.path = ""
            self._set("source", source)
            if source != "builtin" and self.isVisible():
                self.browse()

    def _builtin_chosen(self, _index: int) -> None:
        name = self.builtin.currentData()
        if name != self.config.name:
            self.config.options = {}
            self._set("name", name)

    def _set_path(self, chosen: str) -> None:
        path = stored_path(chosen, self.project_path) if chosen else ""
        if path == self.config.path:
            return
        if self.config.source == "csv":
            columns = csv_columns(self._resolved(path))
            if self.config.target not in columns:
                self.config.target = columns[-1] if columns else ""  # usually the label
        self._set("path", path)

    def browse(self) -> None:
        """Ask for the file or folder the current source needs."""
        start = str(self.base_dir or Path.home())
        source = self.sources[self.config.source]
        if source.path == "folder":
            chosen = QFileDialog.getExistingDirectory(self, "Choose the data folder", start)
        else:
            chosen, _ = QFileDialog.getOpenFileName(
                self, "Choose the data file", start, source.file_filter or "All files (*)"
            )
        if chosen:
            self._set_path(chosen)

    # -- preview ---------------------------------------------------------------------------
    def refresh_preview(self) -> None:
        """Load the current settings' data in the background and show it when ready."""
        if not self.showing():
            self._stale = True
            return
        self._stale = False
        if self._thread is not None:
            self._stale = True  # reload once the running preview ends
            return
        if self.config.source != "builtin" and not self.config.path:
            self._show_error("Choose a file or folder to see a preview.")
            return
        self.summary.setText("Loading preview…")
        loader = _PreviewLoader(self.config, self.base_dir, self.budget())
        thread = QThread()
        thread.setObjectName("netcanvas-preview")
        loader.moveToThread(thread)
        thread.started.connect(loader.run)
        loader.loaded.connect(self._on_loaded)
        loader.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self._loader, self._thread = loader, thread
        thread.start()

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Join a running preview thread (panel close)."""
        if self._thread is None:
            return True
        done = self._thread.wait(timeout_ms)
        if done:
            self._loader = self._thread = None
        return done

    def _on_thread_finished(self) -> None:
        if self._thread is not None:
            self._thread.wait()
        self._loader = self._thread = None
        if self._stale:
            self.refresh_preview()

    @property
    def is_images(self) -> bool:
        """Whether the data are pictures (C×H×W samples): what augmentation applies to."""
        if self.config.source == "images":
            return True
        view = self.preview_data
        return view is not None and len(view.input_shape) == 3

    def _on_loaded(self, view: Preview, size=None) -> None:
        self.preview_data, self.preview_error = view, None
        self.data_size = size
        self.summary.setText(view.summary)
        self.counts.setText(counts_text(view))
        self._show_thumbnails(view)
        self.table.clear()
        if not view.rows:
            self.table.hide()
            self._ready()
            return
        # Wide tables show their first features and the target.
        features = list(view.columns[:-1])
        keep = min(PREVIEW_COLUMNS, len(features))
        headers = features[:keep] + (["…"] if len(features) > keep else []) + [view.columns[-1]]
        self.table.setRowCount(len(view.rows))
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        for r, row in enumerate(view.rows):
            cells = [f"{v:.4g}" for v in row[:keep]]
            cells += ["…"] if len(features) > keep else []
            cells.append(str(row[-1]))
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.show()
        self._ready()

    def _ready(self) -> None:
        # A preview of settings changed since it started is shown, but is not "ready".
        if not self._stale:
            self.preview_ready.emit()

    def _on_failed(self, message: str) -> None:
        self._show_error(message)

    def _show_error(self, message: str) -> None:
        self.preview_data, self.preview_error = None, message
        self.data_size = None
        self.summary.setText(message)
        self.counts.clear()
        self.table.clear()
        self.table.hide()
        self._show_thumbnails(None)
        self._ready()

    def _show_thumbnails(self, view: Preview | None) -> None:
        while self.thumbs.count():
            item = self.thumbs.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        if view is None:
            return
        # Images come as samples (C×H×W); digits as 64 flat features, shown as 8×8.
        samples = view.samples or tuple(np.array(row[:-1], dtype=np.float64) for row in view.rows)
        for sample, label in list(zip(samples, view.labels, strict=False))[:THUMBNAILS]:
            pixels = image_of(sample)
            if pixels is None:
                break
            h, w = pixels.shape
            image = QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
            thumb = QLabel()
            thumb.setPixmap(
                QPixmap.fromImage(image).scaled(40, 40, Qt.AspectRatioMode.KeepAspectRatio)
            )
            thumb.setToolTip(plain.tooltip(label))
            self.thumbs.addWidget(thumb)
        if self.thumbs.count():
            self.thumbs.addStretch(1)

    # -- Qt overrides ----------------------------------------------------------------------
    def refresh_if_stale(self) -> None:
        """Load the preview that was put off while hidden."""
        if self._stale:
            self.refresh_preview()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh_if_stale()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.wait()
        super().closeEvent(event)
