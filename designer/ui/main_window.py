"""The main window: canvas in the middle, docks around it, menus, clipboard, training lock.

# NOTE: nothing here imports torch at module level. The window must paint first; torch is
# warmed in the background by designer.app after the first paint.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QMimeData, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
)
from PySide6.QtGui import QKeySequence as Keys
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from designer.core.project import EXTENSION, Project
from designer.ui.autosave import IDLE_CHOICES_MS, IDLE_MS, SETTING, AutoSaver
from designer.ui.backbone_actions import BackboneActions
from designer.ui.block_actions import BlockActions
from designer.ui.breadcrumb import Breadcrumb
from designer.ui.canvas.view import CanvasView
from designer.ui.code_view import CodeView
from designer.ui.document import Document
from designer.ui.help_menu import build_help_menu
from designer.ui.inspector import Inspector
from designer.ui.palette import Palette
from designer.ui.perspectives import Perspectives
from designer.ui.problems_view import ProblemsView
from designer.ui.project_files import Answer, ProjectFiles
from designer.ui.runs_panel import install as install_experiments
from designer.ui.summary_view import SummaryView
from designer.ui.theme import BANNER_STYLE
from designer.ui.transfer import TransferActions, weights_line

__all__ = ["Answer", "MainWindow"]

CLIPBOARD_MIME = "application/x-netcanvas-graph"
STATE_VERSION = 3  # bump when the default dock arrangement changes
TRAINING_REASON = "Training is running: stop it to edit the network."


class _Training:
    """The TrainingLink the file controller gets: the window's training panel, if built."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    def stop(self) -> bool:
        panel = self.window._training_panel  # never built: nothing is training
        return panel is None or not panel.is_training or panel.stop_and_wait()

    def trained_state(self) -> dict | None:
        panel = self.window._training_panel  # never built: nothing was trained
        return panel.trained_state() if panel is not None else None

    def use_weights(self, state: dict, path: Path) -> None:
        panel = self.window.training_panel
        if panel is not None:
            panel.use_weights(state, path)


def _forward(name: str) -> property:
    """A window attribute that is the file controller's (the dialogs tests answer)."""
    return property(
        lambda self: getattr(self.files, name), lambda self, v: setattr(self.files, name, v)
    )


class MainWindow(QMainWindow):
    """One open project. Dialog answers are injectable (`ask_*` attributes) for tests.

    `docks_arranged` is emitted when the first start's default dock sizes have been applied.

    New/open/save, recent files, examples, weights and recovery live in the composed
    `files` controller (designer.ui.project_files.ProjectFiles).
    """

    ask_save_changes = _forward("ask_save_changes")
    ask_open_path = _forward("ask_open_path")
    ask_save_path = _forward("ask_save_path")
    ask_recoveries = _forward("ask_recoveries")
    show_error = _forward("show_error")

    docks_arranged = Signal()

    def __init__(
        self,
        project: Project | None = None,
        settings: QSettings | None = None,
        autosave_ms: int | None = None,
        recovery_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.document = Document(project or Project(), self)
        if autosave_ms is None:
            autosave_ms = _int(self.settings.value(SETTING, IDLE_MS), IDLE_MS)
        self.autosaver = AutoSaver(self.document, autosave_ms, recovery_dir, self)
        self.recovery_dir = recovery_dir
        self.files = ProjectFiles(
            self.document, self.settings, self.autosaver, _Training(self), self, recovery_dir
        )
        self.files.shown.connect(self._project_shown)
        self.files.saved.connect(lambda _path: self._update_title())
        self.files.message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self.autosaver.written.connect(self._autosave_written)
        self.start_page = None  # the start dialog, while designer.app shows one
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self._build_central()
        self._build_docks()
        self.perspectives = Perspectives(self, self.docks, self.settings, STATE_VERSION)
        # The canvas changes size with the perspective: show the whole graph again after. In
        # Train and Experiments it is a strip above the docks, an overview: the whole graph,
        # even where names get too small to read (Design is where the graph is read and edited).
        self.perspectives.changed.connect(
            lambda name: QTimer.singleShot(
                0, lambda: self.canvas.fit_to_view(readable=name == "design")
            )
        )
        self._build_menus()
        self._build_status()
        doc = self.document
        doc.modified_changed.connect(lambda _m: self._update_title())
        doc.project_replaced.connect(self._update_title)
        doc.read_only_changed.connect(self._read_only_changed)
        doc.refused.connect(lambda reason: self.statusBar().showMessage(reason, 6000))
        self.canvas.canvas_scene.message.connect(lambda m: self.statusBar().showMessage(m, 6000))
        doc.selection_changed.connect(lambda _ids: self._update_edit_actions())
        doc.level_changed.connect(self._update_edit_actions)
        self.resize(1400, 900)
        self._restore_layout()
        self._update_title()
        self._update_edit_actions()

    # -- layout ----------------------------------------------------------------------------
    def _build_central(self) -> None:
        self.banner = QLabel(objectName="banner", wordWrap=True)
        self.banner.setTextFormat(Qt.TextFormat.PlainText)  # failure text quotes user input
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.hide()
        self._banner_failure = False
        self.document.analysis_changed.connect(lambda _a: self._clear_failure())
        direction = "LR" if self.settings.value("canvas/direction") == "LR" else "TB"
        self.canvas = CanvasView(self.document, direction=direction)
        self.breadcrumb = Breadcrumb(self.document)  # while a block is open in place
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.breadcrumb)
        layout.addWidget(self.canvas, 1)
        self.setCentralWidget(central)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self, objectName=name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.palette_widget = Palette()
        self.palette_widget.add_requested.connect(self.canvas.add_after_selection)
        self.inspector = Inspector(self.document)
        self.summary = SummaryView(self.document)
        self.code_view = CodeView(self.document)
        self.problems = ProblemsView(self.document)
        self.docks = {
            "palette": self._dock("Layers", "palette", self.palette_widget, left),
            "inspector": self._dock("Inspector", "inspector", self.inspector, right),
            "problems": self._dock("Problems", "problems", self.problems, bottom),
            "summary": self._dock("Model summary", "summary", self.summary, bottom),
            "code": self._dock("Code", "code", self.code_view, right),
        }
        # Side docks run the full height; the bottom ones sit under the canvas only.
        self.setCorner(Qt.Corner.BottomLeftCorner, left)
        # The bottom docks (training plots) run under the right dock too: the plots need width.
        self.setCorner(Qt.Corner.BottomRightCorner, bottom)
        self.tabifyDockWidget(self.docks["problems"], self.docks["summary"])
        self.tabifyDockWidget(self.docks["inspector"], self.docks["code"])
        self.docks["inspector"].raise_()
        self.docks["problems"].raise_()
        # NOTE: at the bottom the panel is wide, so the plots sit side by side. The panel itself
        # is built on first use (`training_panel`): its imports (pyqtgraph, numpy, the data
        # package) took 0.6 s of the 1.3 s to the first paint. designer.app builds it right
        # after the first paint; showing the dock builds it too.
        self._training_panel = None
        self._training_unavailable = False
        dock = self._dock("Training", "training", QWidget(), bottom)
        self.docks["training"] = dock
        self.tabifyDockWidget(self.docks["summary"], dock)
        self.docks["problems"].raise_()
        dock.visibilityChanged.connect(lambda shown: shown and self.training_panel)
        self.experiments = install_experiments(self)  # Runs and Search docks

    @property
    def training_panel(self):
        """The TrainingPanel in the Training dock (built on first use), or None without one."""
        if self._training_panel is None and not self._training_unavailable:
            panel = self._make_training_panel()
            dock = self.docks["training"]
            if panel is None:
                self._training_unavailable = True
                self.removeDockWidget(dock)
                return None
            self._training_panel = panel
            # NOTE: two preview rows are enough to see the data; the rest of the height goes
            # to the hyperparameters, so all settings fit a 1366×768 screen without scrolling.
            panel.dataset.table.verticalHeader().setDefaultSectionSize(22)
            panel.dataset.table.setMaximumHeight(76)
            panel.dataset.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            splitter = panel.findChild(QSplitter)
            if splitter is not None:  # the settings as wide as they need, the plots the rest
                need = panel.settings.sizeHint().width() + 24
                splitter.setSizes([need, max(400, self.width() - need)])
            dock.setWidget(panel)
            panel.training_started.connect(dock.raise_)
        return self._training_panel

    def _make_training_panel(self):
        try:
            from designer.ui.training_panel import TrainingPanel
        except ImportError:
            return None
        panel = TrainingPanel(self.document)
        panel.training_started.connect(lambda: self.document.set_read_only(TRAINING_REASON))
        panel.training_stopped.connect(lambda: self.document.set_read_only(None))
        panel.failed.connect(self.show_training_failure)
        panel.weights_changed.connect(self.inspector.refresh)
        self.experiments.attach(panel)  # every training run is recorded
        panel.doctor.set_scene(self.canvas.canvas_scene)
        panel.doctor.select_node.connect(lambda node_id: self.document.select([node_id]))
        return panel

    def _build_status(self) -> None:
        self.summary_label = QLabel(textFormat=Qt.TextFormat.PlainText)
        self.statusBar().addPermanentWidget(self.summary_label)
        # The whole model's state, whichever block is open.
        doc = self.document
        doc.analysis_changed.connect(lambda _a: self.summary_label.setText(self._model_summary()))
        self.summary_label.setText(self._model_summary())

    def _model_summary(self) -> str:
        return self.document.model_analysis.summary()

    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None and self.restoreState(state, STATE_VERSION):
            return
        # First start: leave most of the window to the canvas. Docks only take sizes once the
        # window is laid out, hence the zero timer.
        self._default_docks_pending = True

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if getattr(self, "_default_docks_pending", False):
            # NOTE: docks take sizes only once the shown window is laid out: after this event.
            self._default_docks_pending = False
            QTimer.singleShot(0, self._default_dock_sizes)

    def _default_dock_sizes(self) -> None:
        d = self.docks
        self.resizeDocks([d["palette"], d["inspector"]], [210, 330], Qt.Orientation.Horizontal)
        self.perspectives.apply_default(show=False)
        self.docks_arranged.emit()

    def _save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        state = self.saveState(STATE_VERSION)
        self.settings.setValue("window/state", state)
        self.settings.setValue(f"window/{self.perspectives.current}_state", state)
        self.settings.sync()

    # -- menus -----------------------------------------------------------------------------
    def _action(self, menu, text: str, slot, shortcut=None, name: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([Keys(k) for k in keys])
        action.triggered.connect(lambda _checked=False: slot())
        if name:
            action.setObjectName(name)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar, std = self.menuBar(), Keys.StandardKey
        file = bar.addMenu("&File")
        self._action(file, "&New", self.new_project, std.New, "new")
        self._action(file, "&Open…", self.open_dialog, std.Open, "open")
        self.recent_menu = file.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(lambda: self.files.fill_recent_menu(self.recent_menu))
        self.examples_menu = file.addMenu("&Examples")
        self.examples_menu.aboutToShow.connect(
            lambda: self.files.fill_examples_menu(self.examples_menu)
        )
        file.addSeparator()
        self._action(file, "&Save", self.save, std.Save, "save")
        self._action(file, "Save &As…", self.save_as, std.SaveAs, "save_as")
        self._action(file, "&Export…", self.files.export, "Ctrl+E", "export")
        self.blocks = BlockActions(self)  # blocks and import: designer/ui/block_actions.py
        file.addAction(self.blocks.import_action)
        self._build_autosave_menu(file.addMenu("Recovery &Copies"))
        file.addSeparator()
        self._action(file, "&Quit", self.close, std.Quit, "quit")

        edit = bar.addMenu("&Edit")
        self.undo_action = self.document.create_undo_action(self)
        self.undo_action.setShortcuts(Keys.keyBindings(std.Undo))
        self.redo_action = self.document.create_redo_action(self)
        redo_keys = [*Keys.keyBindings(std.Redo), Keys("Ctrl+Shift+Z"), Keys("Ctrl+Y")]
        self.redo_action.setShortcuts(list(dict.fromkeys(redo_keys)))
        edit.addActions([self.undo_action, self.redo_action])
        edit.addSeparator()
        self.cut_action = self._action(edit, "Cu&t", self.cut, std.Cut, "cut")
        self.copy_action = self._action(edit, "&Copy", self.copy, std.Copy, "copy")
        self.paste_action = self._action(edit, "&Paste", self.paste, std.Paste, "paste")
        QGuiApplication.clipboard().dataChanged.connect(self._update_paste)
        self._update_paste()
        self.duplicate_action = self._action(edit, "D&uplicate", self.duplicate, "Ctrl+D")
        self.delete_action = self._action(
            edit, "&Delete", self.delete_selection, [Keys.StandardKey.Delete, "Backspace"]
        )
        self._action(edit, "Select &All", self.select_all, std.SelectAll, "select_all")
        edit.addSeparator()
        self.frame_action = self._action(
            edit, "&Frame Selection…", self.canvas.frame_selection, "Ctrl+G", "frame"
        )
        self._action(edit, "Add Co&mment…", self.canvas.add_comment_at_cursor, "Ctrl+M", "comment")

        model = bar.addMenu("&Model")  # transfer learning: freezing and pretrained weights
        self.transfer = TransferActions(self)
        model.addActions(self.transfer.actions)
        model.addSeparator()
        model.addActions(self.blocks.actions)
        self.up_action = self._action(
            model, "&Up One Level", self.document.go_up, "Alt+Up", "up_level"
        )
        # A layer's right-click menu: freezing, weights, blocks.
        self.canvas.node_actions = [*self.transfer.actions, None, *self.blocks.actions]
        self.inspector.weights_line = lambda node: weights_line(self._training_panel, node)
        self.backbones = BackboneActions(self)  # the palette's Backbones, dropped or added
        self.canvas.backbone_dropped.connect(self.backbones.request)
        self.palette_widget.backbone_requested.connect(
            lambda name: self.backbones.request(name, self.canvas.visible_center())
        )

        view = bar.addMenu("&View")
        self._action(view, "Zoom &In", lambda: self.canvas.zoom_by(1.25), std.ZoomIn)
        self._action(view, "Zoom &Out", lambda: self.canvas.zoom_by(0.8), std.ZoomOut)
        self._action(view, "&Fit to Window", self.canvas.fit_to_view, ["Ctrl+0", "F"])
        self._action(view, "Auto-&Layout", self.document.auto_layout, "Ctrl+L")
        self.direction_action = self._action(
            view, "Layers Left to &Right", self._toggle_direction, None, "left_to_right"
        )
        self.direction_action.setCheckable(True)
        self.direction_action.setChecked(self.canvas.canvas_scene.direction == "LR")
        view.addSeparator()
        self._action(view, "&Find Layer…", self.canvas.open_find, std.Find, "find")
        self._action(view, "&Add Layer…", self._add_layer_at_cursor, None, "add_layer")
        self.minimap_action = self._action(view, "&Minimap", lambda: None, "M", "minimap")
        self.minimap_action.setCheckable(True)
        self.minimap_action.toggled.connect(self.canvas.set_minimap_visible)
        self.canvas.minimap_toggled.connect(self.minimap_action.setChecked)
        view.addSeparator()
        for action in self.perspectives.actions.values():
            view.addAction(action)
        view.addSeparator()
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        build_help_menu(self)

    def _toggle_direction(self) -> None:
        """Cards with ports left and right, laid out left to right (or back): one undo step."""
        direction = "LR" if self.direction_action.isChecked() else "TB"
        self.settings.setValue("canvas/direction", direction)
        self.document.direction = direction
        self.canvas.canvas_scene.set_direction(direction)
        self.document.auto_layout()
        self.canvas.fit_to_view()

    def _add_layer_at_cursor(self) -> None:
        self.canvas.open_add_at(self.canvas.mapToScene(self.canvas.viewport().rect().center()))

    def _update_paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        has = mime is not None and mime.hasFormat(CLIPBOARD_MIME)
        self.paste_action.setEnabled(has)
        self.paste_action.setToolTip("" if has else "Nothing to paste: copy some layers first")

    def _build_autosave_menu(self, menu) -> None:
        """The autosave setting: how long after the last change the recovery copy is written."""
        group = QActionGroup(self)
        for ms in IDLE_CHOICES_MS:
            action = menu.addAction(f"Written {ms // 1000} s after the last change")
            action.setCheckable(True)
            action.setChecked(ms == self.autosaver.idle_ms)
            action.setObjectName(f"autosave_{ms}")
            group.addAction(action)
            action.triggered.connect(lambda _c=False, v=ms: self.set_autosave_delay(v))

    def set_autosave_delay(self, ms: int) -> None:
        self.autosaver.set_idle_ms(ms)
        self.settings.setValue(SETTING, ms)

    # -- files (the controller's; here for the menus, the start page and tests) --------------
    def open_path(self, path, as_template: bool = False) -> bool:
        return self.files.open_path(path, as_template)

    def open_dialog(self) -> None:
        self.files.open_dialog()

    def open_example(self, name: str) -> bool:
        return self.files.open_example(name)

    def new_project(self) -> None:
        self.files.new_project()

    def save(self) -> bool:
        return self.files.save()

    def save_as(self) -> bool:
        return self.files.save_as()

    def save_to(self, path) -> bool:
        return self.files.save_to(path)

    def maybe_save(self) -> bool:
        return self.files.maybe_save()

    def offer_recovery(self, ask=None) -> bool:
        return self.files.offer_recovery(ask)

    def set_project(self, project: Project, modified: bool = False) -> None:
        self.files.set_project(project, modified)

    def _autosave_written(self, error: str) -> None:
        if error:
            self.statusBar().showMessage(error, 10000)

    def _project_shown(self) -> None:
        self._update_title()
        self.canvas.fit_to_view(readable=True)

    def _update_edit_actions(self) -> None:
        has = bool(self.document.selection)
        for action in (
            self.cut_action,
            self.copy_action,
            self.duplicate_action,
            self.delete_action,
            self.frame_action,
        ):
            action.setEnabled(has)
        self.up_action.setEnabled(bool(self.document.path))
        self.blocks.update_actions()

    # -- title, read-only, training --------------------------------------------------------
    def display_name(self) -> str:
        return self.files.display_name()

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.display_name()}[*] — Netcanvas")
        self.setWindowModified(self.document.is_modified())

    def _read_only_changed(self, read_only: bool, reason: str) -> None:
        self.statusBar().showMessage(reason if read_only else "Editing enabled again.", 6000)
        if read_only:
            self._show_banner(reason, failure=False)
        elif not self._banner_failure:  # a failure stays up until the next edit
            self.banner.hide()

    def _show_banner(self, text: str, failure: bool) -> None:
        self.banner.setText(text)
        self.banner.show()
        self._banner_failure = failure

    def _clear_failure(self) -> None:
        if self._banner_failure and not self.document.is_read_only():
            self._banner_failure = False
            self.banner.hide()

    def show_training_failure(self, message: str, node_id: object) -> None:
        """Select the layer the failure points at (if any) and show the message."""
        if isinstance(node_id, str) and node_id in self.document.model_graph.nodes:
            self.document.go_to(0)  # the failing layer is one of the whole model's
            self.document.select([node_id])
            item = self.canvas.canvas_scene.nodes.get(node_id)
            if item is not None:
                self.canvas.ensureVisible(item)
            name = self.document.graph.nodes[node_id].name
            message = f"Training failed at {name}: {message}"
        else:
            message = f"Training failed: {message}"
        self._show_banner(message, failure=True)
        self.statusBar().showMessage(message, 15000)

    # -- clipboard -------------------------------------------------------------------------
    def copy(self) -> bool:
        ids = self.document.selection
        if not ids:
            return False
        data = json.dumps(self.document.copy(ids))
        mime = QMimeData()
        mime.setData(CLIPBOARD_MIME, data.encode("utf-8"))
        QGuiApplication.clipboard().setMimeData(mime)
        return True

    def cut(self) -> None:
        if self.copy():
            self.document.remove_nodes(self.document.selection)

    def paste(self) -> list[str]:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not mime.hasFormat(CLIPBOARD_MIME):
            self.statusBar().showMessage("Nothing to paste: copy some layers first.", 5000)
            return []
        return self.document.paste(bytes(mime.data(CLIPBOARD_MIME)).decode("utf-8"))

    def duplicate(self) -> None:
        self.document.duplicate(self.document.selection)

    def delete_selection(self) -> None:
        self.canvas.delete_selection()  # selected layers and connections, one undo step

    def select_all(self) -> None:
        self.document.select(list(self.document.graph.nodes))

    # -- Qt events -------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if not (self.files.training.stop() and self.maybe_save()):
            event.ignore()  # also when the save failed: its dialog said why
            return
        if self._training_panel is not None:
            self._training_panel.stop_and_wait()  # also joins a dataset preview still loading
        self._save_layout()
        self.autosaver.stop()
        event.accept()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if _project_urls(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        paths = _project_urls(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        # NOTE: open after the drop returns; a modal question inside a drop handler stalls the
        # source application on some platforms.
        QTimer.singleShot(0, lambda: self.open_path(paths[0]))


def _project_urls(mime: QMimeData) -> list[Path]:
    if not mime.hasUrls():
        return []
    return [
        Path(url.toLocalFile())
        for url in mime.urls()
        if url.isLocalFile() and url.toLocalFile().endswith(EXTENSION)
    ]


def _int(value: object, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
