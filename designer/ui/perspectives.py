"""Two arrangements of the main window's docks, one click (or Ctrl+1 / Ctrl+2) apart:

- *Design*: layer palette, canvas, inspector and code, problems; the canvas gets most of the room.
- *Train*: the canvas small at the top, the training dock (dataset, hyperparameters, large plots)
  under it across the whole width.
- *Experiments*: the canvas above the Runs and Search docks (run history, diffs, searches).

Each perspective remembers its own dock arrangement (settings `window/<name>_state`); the last
one used is restored at the next start (`window/perspective`).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QToolBar

PERSPECTIVES = {
    "design": ("&Design", "Ctrl+1"),
    "train": ("&Train", "Ctrl+2"),
    "experiments": ("&Experiments", "Ctrl+3"),
}
SHOWN = {
    "design": ("palette", "inspector", "code", "problems", "summary"),
    "train": ("training",),
    "experiments": ("runs", "search"),
}
BOTTOM_SHARE = {"design": 0.2, "train": 0.8, "experiments": 0.6}  # of the window's height


class Perspectives(QObject):
    """Owns the Design/Train actions (a toolbar and the View menu show them)."""

    changed = Signal(str)

    def __init__(
        self,
        window: QMainWindow,
        docks: dict[str, QDockWidget],
        settings: QSettings,
        state_version: int,
    ) -> None:
        super().__init__(window)
        self.window, self.docks, self.settings = window, docks, settings
        self.version = state_version
        saved = str(settings.value("window/perspective", "design"))
        self.current = saved if saved in PERSPECTIVES else "design"
        self.group = QActionGroup(self)
        self.actions: dict[str, QAction] = {}
        for name, (text, keys) in PERSPECTIVES.items():
            action = QAction(text.replace("&", ""), self, checkable=True)
            action.setShortcut(QKeySequence(keys))
            action.setToolTip(f"{text.replace('&', '')} perspective ({keys})")
            action.setObjectName(f"perspective_{name}")
            action.triggered.connect(lambda _on=False, n=name: self.switch(n))
            self.group.addAction(action)
            self.actions[name] = action
        self.actions[self.current].setChecked(True)
        self.toolbar = QToolBar("Perspective", window)
        self.toolbar.setObjectName("perspectives")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in self.actions.values():
            self.toolbar.addAction(action)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)

    def switch(self, name: str) -> None:
        """Show perspective `name`: its saved arrangement, or its default one."""
        if name not in PERSPECTIVES:
            raise ValueError(f"no perspective {name!r}")
        self.actions[name].setChecked(True)
        if name == self.current:
            return
        self.settings.setValue(f"window/{self.current}_state", self.window.saveState(self.version))
        self.current = name
        self.settings.setValue("window/perspective", name)
        state = self.settings.value(f"window/{name}_state")
        if state is None or not self.window.restoreState(state, self.version):
            self.apply_default()
        self.changed.emit(name)

    def apply_default(self, show: bool = True) -> None:
        """The default arrangement of the current perspective (with `show` False, docks the
        user has closed stay closed: only those foreign to the perspective are hidden)."""
        shown = SHOWN[self.current]
        for key, dock in self.docks.items():
            # NOTE: isVisible() is False for a tab behind another; the toggle action is not.
            want = key in shown
            if dock.toggleViewAction().isChecked() != want and (show or not want):
                dock.setVisible(want)
        if self.current == "design":
            self.docks["inspector"].raise_()
            self.docks["problems"].raise_()
            left = [self.docks["palette"], self.docks["inspector"]]
            self.window.resizeDocks(left, [210, 330], Qt.Orientation.Horizontal)
            bottom = self.docks["problems"]
        else:
            bottom = self.docks[SHOWN[self.current][0]]
            bottom.raise_()
        height = int(self.window.height() * BOTTOM_SHARE[self.current])
        self.window.resizeDocks([bottom], [height], Qt.Orientation.Vertical)
