"""Take the README's screenshots of the real app: `python docs/screenshots/take_screenshots.py`.

Runs the main window offscreen at a fixed size, opens an example, trains it for real, and grabs
the window. Nothing is staged: what the PNGs show is what a user sees.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NETCANVAS_RECOVERY_DIR", tempfile.mkdtemp())

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from designer.app import create_app  # noqa: E402
from designer.core.examples import example_path  # noqa: E402
from designer.ui.main_window import MainWindow  # noqa: E402

OUT = Path(__file__).resolve().parent
SIZE = (1440, 900)


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(predicate, timeout_ms: int = 120_000) -> None:
    waited = 0
    while not predicate() and waited < timeout_ms:
        settle(100)
        waited += 100
    if not predicate():
        raise SystemExit("timed out waiting for the app")


def main() -> int:
    app = create_app([])
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(*SIZE)
    window.show()
    window.open_path(example_path("digits_cnn"), as_template=True)
    settle()
    doc = window.document
    conv = next(n.id for n in doc.graph.nodes.values() if n.type_id == "conv2d")
    doc.select([conv])
    settle()
    window.grab().save(str(OUT / "main-window.png"))

    panel = window.training_panel
    window.docks["training"].raise_()
    failures: list = []
    panel.failed.connect(lambda message, _node: failures.append(message))
    panel.start()
    wait_for(lambda: bool(failures) or _epochs(panel) >= 12)
    settle(400)
    window.grab().save(str(OUT / "training.png"))
    panel.stop_and_wait()
    window.close()
    app.processEvents()
    QApplication.clipboard().clear()
    return 0


def _epochs(panel) -> int:
    shown = panel.plots.loss.in_legend()
    return len(panel.plots.loss.series(shown[0])[0]) if shown else 0


if __name__ == "__main__":
    sys.exit(main())
