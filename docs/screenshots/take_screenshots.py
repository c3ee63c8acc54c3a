"""Take the README's screenshots of the real app: `python docs/screenshots/take_screenshots.py`
(`--only blocks` for the block screenshots alone).

Runs the main window offscreen at 1400×900 and 1366×768, opens examples (and a ResNet-18-sized
test graph), opens the add-layer search, trains the digits CNN for real in the Train perspective,
imports torchvision's ResNet-18 and opens it two levels deep (layer1 ▸ 0), and grabs the window.
Nothing is staged: what the PNGs show is what a user sees.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NETCANVAS_RECOVERY_DIR", tempfile.mkdtemp())
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QPoint, QSettings, QTimer  # noqa: E402
from PySide6.QtGui import QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from designer.app import create_app  # noqa: E402
from designer.core.examples import example_path  # noqa: E402
from designer.ui.main_window import MainWindow  # noqa: E402
from tests.ui.graphs import resnet18  # noqa: E402

OUT = Path(__file__).resolve().parent
SIZES = ((1400, 900), (1366, 768))


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(predicate, timeout_ms: int = 180_000) -> None:
    waited = 0
    while not predicate() and waited < timeout_ms:
        settle(100)
        waited += 100
    if not predicate():
        raise SystemExit("timed out waiting for the app")


def grab(window: MainWindow, name: str, popup=None) -> None:
    """The window, with an open popup painted where it is on screen."""
    pixmap = window.grab()
    if popup is not None and popup.isVisible():
        painter = QPainter(pixmap)
        painter.drawPixmap(window.mapFromGlobal(popup.mapToGlobal(QPoint(0, 0))), popup.grab())
        painter.end()
    pixmap.save(str(OUT / name))
    print(OUT / name)


def window_at(size: tuple[int, int]) -> MainWindow:
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(*size)
    window.show()
    settle()
    return window


def block_shots() -> None:
    """An imported ResNet-18 with layer1 ▸ 0 (a BasicBlock) open in place, a conv selected."""
    from designer.core.importer.api import import_model
    from designer.core.project import Project

    imported = import_model("torchvision:resnet18", (3, 224, 224)).project
    for size in SIZES:
        window = window_at(size)
        window.set_project(Project(graph=imported.graph.copy(), name=imported.name))
        settle()
        doc = window.document
        doc.open_block(doc.graph.by_name("layer1").id)
        settle()
        doc.open_block(doc.graph.by_name("0").id)
        doc.select([doc.graph.by_name("conv2").id])
        settle()
        grab(window, f"block-open-resnet18-{size[0]}x{size[1]}.png")
        window.close()


def main() -> int:
    app = create_app([])
    block_shots()
    if sys.argv[1:] == ["--only", "blocks"]:
        return 0
    for size in SIZES:
        tag = f"{size[0]}x{size[1]}"
        window = window_at(size)
        window.open_path(example_path("digits_cnn"), as_template=True)
        settle()
        doc = window.document
        conv = next(n.id for n in doc.graph.nodes.values() if n.type_id == "conv2d")
        doc.select([conv])
        settle()
        grab(window, f"design-{tag}.png")
        if size == SIZES[0]:
            grab(window, "main-window.png")  # the README's first picture
            window.set_project(resnet18())
            settle()
            grab(window, f"resnet18-{tag}.png")
            window.open_path(example_path("residual_net"), as_template=True)
            settle()
            view = window.canvas
            view.open_add_at(view.mapToScene(view.viewport().rect().center()))
            view.add_popup.edit.setText("conv")
            settle()
            grab(window, f"add-layer-search-{tag}.png", view.add_popup)
            view.add_popup.hide()
            window.open_path(example_path("digits_cnn"), as_template=True)
            settle()
        window.perspectives.switch("train")
        settle()
        panel = window.training_panel
        panel.start()
        wait_for(lambda p=panel: not p.is_training or _epochs(p) >= 8)
        settle(400)
        grab(window, f"training-{tag}.png")
        if size == SIZES[0]:
            grab(window, "training.png")
        panel.stop_and_wait()
        window.perspectives.switch("design")
        window.close()
        app.processEvents()
    QApplication.clipboard().clear()
    return 0


def _epochs(panel) -> int:
    epoch = panel.last_epoch
    return 0 if epoch is None else epoch.epoch


if __name__ == "__main__":
    sys.exit(main())
