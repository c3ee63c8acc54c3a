"""The desktop app: `netcanvas [FILE]`. Shows the window first, then warms torch in the background.

# NOTE: torch takes about 1.5 s to import. Nothing imported here (or by the window) imports it
# at module level; after the first paint a daemon thread imports it, so Train starts at once.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, QSocketNotifier, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

APP_NAME = "Netcanvas"
ORG_NAME = "Netcanvas"
ORG_DOMAIN = "netcanvas.dev"

# Called with the window right after its first paint, before torch is warmed (used by tests).
FIRST_PAINT_HOOKS: list[Callable[[QWidget], None]] = []
TORCH_READY = threading.Event()
_warm_thread: threading.Thread | None = None


def icon_path() -> Path:
    from designer.resources import resource_path

    return resource_path("icons", "netcanvas.svg")


def warm_torch() -> threading.Thread:
    """Import torch in a daemon thread; TORCH_READY is set when the import has finished."""
    global _warm_thread

    def run() -> None:
        try:
            import torch

            # The first optimizer imports torch._dynamo (seconds); pay it here, not on Start.
            torch.optim.Adam([torch.zeros(1, requires_grad=True)])
        except Exception:  # NOTE: training reports a missing or broken torch when it starts
            pass
        finally:
            TORCH_READY.set()

    if _warm_thread is None:
        _warm_thread = threading.Thread(target=run, name="torch-warmup", daemon=True)
        _warm_thread.start()
    return _warm_thread


class _FirstPaint(QObject):
    """Calls `callback` once, in the event-loop turn after the widget's first paint."""

    def __init__(self, widget: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(widget)
        self._callback = callback
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._callback)
        return False


class _GeometryProbe(QObject):
    """Test hook for the real-window test (NETCANVAS_TEST_PROBE=1): screen coordinates of what
    the mouse must hit, as one JSON line on stdout, now and for every line read on stdin.

    NOTE: a line protocol over the process's pipes lets the test block on I/O instead of polling
    files. A request is answered in event-loop order, so after the mouse and key events the X
    server delivered before it.
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        window.raise_()
        window.activateWindow()
        self._notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._answer)
        self.write()

    def _answer(self) -> None:
        if not sys.stdin.readline():  # the test closed the pipe
            self._notifier.setEnabled(False)
            return
        self.write()

    def write(self) -> None:
        import json

        def point(widget: QWidget, p) -> list[int]:
            g = widget.mapToGlobal(p)
            return [g.x(), g.y()]

        tree = self.window.palette_widget.tree
        palette = {}
        for type_id, item in self.window.palette_widget.layers.items():
            rect = tree.visualItemRect(item)
            if not item.isHidden() and tree.viewport().rect().contains(rect.center()):
                palette[type_id] = point(tree.viewport(), rect.center())
        view = self.window.canvas
        port = view.viewport()
        nodes = {}
        for node_id, item in view.canvas_scene.nodes.items():
            ports = {f"in:{n}": p for n, p in item.inputs.items()}
            ports |= {f"out:{n}": p for n, p in item.outputs.items()}
            nodes[node_id] = {
                k: point(port, view.mapFromScene(p.scenePos())) for k, p in ports.items()
            }
        top_left = port.mapToGlobal(port.rect().topLeft())
        data = {
            "palette": palette,
            "canvas": [top_left.x(), top_left.y(), port.width(), port.height()],
            "nodes": nodes,
            "types": {k: n.type_id for k, n in self.window.document.graph.nodes.items()},
            "edges": len(self.window.document.graph.edges),
        }
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()


def create_app(argv: Sequence[str]) -> QApplication:
    """The QApplication with name, organisation (for QSettings), icon and system theme."""
    from designer.ui.theme import follow_system

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME, *argv])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setOrganizationDomain(ORG_DOMAIN)
    app.setDesktopFileName("netcanvas")
    app.setWindowIcon(QIcon(str(icon_path())))
    follow_system(app)
    return app


def _file_arg(argv: Sequence[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def start(window, file_arg: str | None, settings: QSettings) -> None:
    """What happens once the window is up: recovery, then FILE, last project or start page."""
    if window.offer_recovery():
        return
    if file_arg:
        window.open_path(file_arg)
        return
    first_run = not settings.value("first_run_done", False, type=bool)
    settings.setValue("first_run_done", True)
    last = settings.value("last_project", "", type=str)
    if not first_run and last and Path(last).exists():
        window.open_path(last)
        return
    show_start_page(window)


def show_start_page(window) -> None:
    from designer.core.examples import list_examples
    from designer.ui.start_page import StartPage

    page = StartPage(list_examples(), window)
    page.example_chosen.connect(window.open_example)
    page.open_file_chosen.connect(window.open_dialog)
    window.start_page = page
    page.open()


# Qt platform plugins that need no display server.
_HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")


def display_problem(environ=os.environ, platform: str = sys.platform) -> str | None:
    """Why the app can't open a window here (no display), or None. Qt itself would abort with
    SIGABRT and a screenful of plugin messages."""
    if platform in ("win32", "darwin") or platform.startswith("cygwin"):
        return None
    qpa = environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if qpa in _HEADLESS_PLATFORMS:
        return None
    wayland = bool(environ.get("WAYLAND_DISPLAY")) and qpa in ("", "wayland", "wayland-egl")
    x11 = bool(environ.get("DISPLAY")) and qpa in ("", "xcb")
    if wayland or x11:
        return None
    return (
        "no display: the app needs a graphical session (DISPLAY or WAYLAND_DISPLAY is not "
        "set); without one, use the commands: netcanvas validate|summary|train|export FILE "
        "(see 'netcanvas --help')"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app. `argv` excludes the program name: `["model.netcanvas"]` opens that file.
    Without a display: one line on stderr, exit 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    problem = display_problem() if QApplication.instance() is None else None
    if problem:
        print(f"netcanvas: error: {problem}", file=sys.stderr)
        return 2
    app = create_app(argv)
    from designer.ui.main_window import MainWindow

    settings = QSettings()
    window = MainWindow(settings=settings)
    if os.environ.get("NETCANVAS_TEST_SAVE_PATH"):
        window.ask_save_path = lambda: os.environ["NETCANVAS_TEST_SAVE_PATH"]
    file_arg = _file_arg(argv)

    def after_first_paint() -> None:
        for hook in list(FIRST_PAINT_HOOKS):
            hook(window)
        # NOTE: a zero timer, so a hook that quits the app stops the warm-up from starting.
        QTimer.singleShot(0, warm_torch)
        if os.environ.get("NETCANVAS_TEST_PROBE"):
            _GeometryProbe(window)
        if not os.environ.get("NETCANVAS_NO_START"):
            start(window, file_arg, settings)
        # The training panel was left out of the first paint (see MainWindow.training_panel).
        QTimer.singleShot(0, lambda: window.training_panel)

    _FirstPaint(window, after_first_paint)
    window.show()
    code = app.exec()
    # NOTE: QMimeData left on the clipboard is destroyed during interpreter teardown, after
    # PySide has begun tearing down, which can segfault. Our layers are only pasteable here.
    app.clipboard().clear()
    if _warm_thread is not None:
        _warm_thread.join(timeout=10)  # NOTE: exiting mid-import can crash the interpreter
    return code


if __name__ == "__main__":
    raise SystemExit(main())
