"""Backbones from the palette: drop ResNet-18 (or double-click it) and its torchvision
architecture arrives as blocks in the current graph, one undo step, optionally with its
ImageNet weights and a new head.

The weights come through the core's download path (torchvision's URL, the SHA-256 prefix in
the file name, the user cache) on a thread, with a progress dialog that can cancel; tracing the
architecture runs on that thread too, so the window never freezes. Failures are one message:
torchvision missing, offline, a damaged download, or the importer's refusal.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QSpinBox,
    QVBoxLayout,
)

from designer.core.backbones import BACKBONES, DownloadCancelled
from designer.core.errors import NetcanvasError, first_line
from designer.ui.commands import Command
from designer.ui.plain import message_box

if TYPE_CHECKING:
    from designer.core.importer.api import ImportResult


@dataclass(frozen=True)
class BackboneOptions:
    input_shape: tuple[int, ...] = (3, 224, 224)
    pretrained: bool = True
    classes: int | None = None  # a new head: the classifier's last Linear gets this many


class InsertCommand(Command):
    """A core Insertion (a graph added with its blocks) as one undo step."""

    def __init__(self, insertion, text: str) -> None:
        super().__init__(insertion.root, text)
        self.insertion = insertion

    def redo(self) -> None:
        self.insertion.apply()

    def undo(self) -> None:
        self.insertion.revert()


@dataclass
class _Outcome:
    weights: Path | None = None
    result: ImportResult | None = None
    head: str | None = None  # the layer given `classes` outputs
    error: BaseException | None = None


class _Job(QThread):
    """Download (when pretrained) and import on a thread; `done` carries an _Outcome."""

    progress = Signal(int, int)  # bytes done, total (0: unknown)
    importing = Signal()
    done = Signal(object)  # _Outcome

    def __init__(self, name: str, options: BackboneOptions, url: str | None) -> None:
        super().__init__()
        self.name, self.options, self.url = name, options, url
        self.cancel = threading.Event()

    def run(self) -> None:
        from designer.core.backbones import fetch_weights, set_classes
        from designer.core.importer.api import import_model

        out = _Outcome()
        try:
            if self.options.pretrained:
                out.weights = fetch_weights(
                    self.name,
                    lambda _f, done, total: self.progress.emit(done, total or 0),
                    url=self.url,
                    cancelled=self.cancel.is_set,
                )
            self.importing.emit()
            out.result = import_model(f"torchvision:{self.name}", self.options.input_shape)
            if self.options.classes:
                out.head = set_classes(out.result.project.graph, self.options.classes)
        except Exception as err:  # noqa: BLE001 - shown as one message on the GUI thread
            out.error = err
        self.done.emit(out)


class BackboneActions(QObject):
    """Adds backbones to the window's document. `ask` (the options dialog), `mirrors` (backbone
    name -> a URL to download its weights from instead of torchvision's: tests, an offline
    mirror) and `show_error` can be replaced."""

    added = Signal(list)  # the new top-level node ids
    finished = Signal()  # whatever happened

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.mirrors: dict[str, str] = {}
        self.ask = self._ask_dialog
        self.show_error = self._show_error
        self.job: _Job | None = None
        self.progress: QProgressDialog | None = None
        self.last_message = ""

    # -- entry points ----------------------------------------------------------------------
    def request(self, name: str, scene_pos: QPointF | None = None) -> bool:
        """Ask for the options, then add backbone `name` near `scene_pos` (False if not)."""
        if name not in BACKBONES:
            self._say(f"No backbone {name!r}")
            return False
        if self.document.is_read_only():
            self._say(f"Can't add {BACKBONES[name].title}: {self.document.read_only_reason}")
            return False
        if self.job is not None:
            self._say("A backbone is still being added")
            return False
        options = self.ask(name)
        if options is None:
            return False
        return self.add(name, options, scene_pos)

    def add(self, name: str, options: BackboneOptions, scene_pos: QPointF | None = None) -> bool:
        """Start adding backbone `name`; `added` or `finished` follow (the job runs on)."""
        title = BACKBONES[name].title
        job = _Job(name, options, self.mirrors.get(name))
        self.job = job
        self._pos = scene_pos
        what = f"Downloading the ImageNet weights of {title}…" if options.pretrained else ""
        dialog = QProgressDialog(what or f"Importing {title}…", "Cancel", 0, 0, self.window)
        dialog.setWindowTitle(f"Adding {title}")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.cancel)
        self.progress = dialog
        job.progress.connect(self._on_progress)
        job.importing.connect(lambda: self._on_importing(title))
        job.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        job.start()
        dialog.show()
        return True

    def cancel(self) -> None:
        """The progress dialog's Cancel: the download stops at its next chunk."""
        if self.job is not None:
            self.job.cancel.set()
        if self.progress is not None:
            self.progress.setLabelText("Cancelling…")

    # -- job signals -----------------------------------------------------------------------
    def _on_progress(self, done: int, total: int) -> None:
        dialog = self.progress
        if dialog is None:
            return
        if total:
            dialog.setMaximum(max(1, total // 1024))
            dialog.setValue(min(done, total) // 1024)
        shown = f"{done / 2**20:.1f}" + (f" of {total / 2**20:.1f}" if total else "")
        dialog.setLabelText(f"Downloading the ImageNet weights: {shown} MB")

    def _on_importing(self, title: str) -> None:
        if self.progress is not None:
            self.progress.setRange(0, 0)
            self.progress.setLabelText(f"Importing {title} as blocks…")
            self.progress.setCancelButton(None)  # tracing can't stop midway; it is quick

    def _on_done(self, out: _Outcome) -> None:
        job, self.job = self.job, None
        if job is not None:
            job.wait()
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        try:
            if isinstance(out.error, DownloadCancelled):
                self._say("Cancelled: the backbone was not added")
            elif out.error is not None:
                self.show_error("Backbone not added", _explain(out.error))
            elif job is not None:
                self._insert(job.name, job.options, out)
        finally:
            self.finished.emit()

    def _insert(self, name: str, options: BackboneOptions, out: _Outcome) -> None:
        from designer.core.layout import free_offset, node_rect
        from designer.core.merge import insertion

        assert out.result is not None  # the job succeeded
        self.document.go_to(0)  # a backbone's blocks join the whole model's: added at the top
        imported = out.result.project.graph
        nodes = list(imported.nodes.values())
        anchor = self._pos or QPointF(0.0, 0.0)
        left = min((n.pos[0] for n in nodes), default=0.0)
        top = min((n.pos[1] for n in nodes), default=0.0)
        shift = (anchor.x() - left, anchor.y() - top)
        direction = self.document.direction
        group = [node_rect(n, direction) for n in nodes]
        group = [(x + shift[0], y + shift[1], w, h) for x, y, w, h in group]
        extra = free_offset(self.document.occupied(), group, direction)
        title = BACKBONES[name].title
        try:
            edit = insertion(
                self.document.graph, imported, (shift[0] + extra[0], shift[1] + extra[1])
            )
        except NetcanvasError as err:
            self.show_error("Backbone not added", str(err))
            return
        if self.document._push(InsertCommand(edit, f"Add {title}")) is not None:
            return
        ids = [n.id for n in edit.nodes]
        self.document.select(ids)
        said = [f"Added {title}: {len(ids)} layers, {len(edit.blocks)} block definitions"]
        if out.weights is not None:
            panel = self.window.training_panel
            try:
                report = panel.load_pretrained(out.weights, edit.prefixes, ids)
                said.append(f"ImageNet weights: {report.summary()}")
            except NetcanvasError as err:  # e.g. another part of the graph is unfinished
                said.append(
                    f"ImageNet weights not loaded ({err}); they are in {out.weights}: "
                    "Model ▸ Load Weights… once the graph is complete"
                )
        if out.head:
            first, _, rest = out.head.partition(".")
            shown = edit.renamed.get(first, first) + (f".{rest}" if rest else "")
            said.append(f"new head: {shown} has {options.classes} outputs (fresh)")
        self._say("; ".join(said))
        self.added.emit(ids)

    # -- dialogs ---------------------------------------------------------------------------
    def _ask_dialog(self, name: str) -> BackboneOptions | None:
        dialog = BackboneDialog(self.window, name, self._input_shape())
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.options()

    def _input_shape(self) -> tuple[int, ...]:
        """The canvas's image input shape when it has one (C×H×W), else ImageNet's."""
        for node in self.document.graph.ends("input"):
            shape = tuple(node.params.get("shape") or ())
            if len(shape) == 3:
                return shape
        return (3, 224, 224)

    def _show_error(self, title: str, text: str) -> None:
        # The project's plain-text box (ui/plain.py), opened rather than exec'd: the window
        # keeps running while a download's error is read.
        box = message_box(QMessageBox.Icon.Warning, title, text, self.window)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.open()

    def _say(self, text: str) -> None:
        self.last_message = text
        self.window.statusBar().showMessage(text, 15000)


def _explain(err: BaseException) -> str:
    """One message for what went wrong: NetcanvasError and OSError (offline) say it already."""
    if isinstance(err, NetcanvasError | OSError | ValueError):
        return str(err)
    return first_line(err, with_type=True)


class BackboneDialog(QDialog):
    """Input shape, pretrained weights (yes/no) and a new head for one backbone."""

    def __init__(self, parent, name: str, shape: tuple[int, ...]) -> None:
        super().__init__(parent)
        backbone = BACKBONES[name]
        self.setWindowTitle(f"Add {backbone.title}")
        about = QLabel(backbone.doc)
        about.setTextFormat(Qt.TextFormat.PlainText)
        about.setWordWrap(True)
        self.shape = QLineEdit("x".join(map(str, shape)))
        self.shape.setToolTip("One sample without the batch, C×H×W (e.g. 3x224x224)")
        self.pretrained = QCheckBox(
            f"With pretrained ImageNet weights ({backbone.megabytes:.0f} MB, downloaded once)"
        )
        self.pretrained.setChecked(True)
        self.new_head = QCheckBox("Replace the classifier with Linear(classes):")
        self.classes = QSpinBox()
        self.classes.setRange(1, 100_000)
        self.classes.setValue(10)
        self.classes.setEnabled(False)
        self.new_head.toggled.connect(self.classes.setEnabled)
        form = QFormLayout()
        form.addRow("Input shape:", self.shape)
        form.addRow(self.pretrained)
        form.addRow(self.new_head, self.classes)
        self.error = QLabel("")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setStyleSheet("color: #d0453a;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _accept(self) -> None:
        try:
            self.options()
        except ValueError as err:
            self.error.setText(f"Input shape: {err}")
            return
        self.accept()

    def options(self) -> BackboneOptions:
        """The choices made; ValueError for a bad shape."""
        from designer.core.importer import parse_input_shape

        return BackboneOptions(
            parse_input_shape(self.shape.text()),
            self.pretrained.isChecked(),
            self.classes.value() if self.new_head.isChecked() else None,
        )
