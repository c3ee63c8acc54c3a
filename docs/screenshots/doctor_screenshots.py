"""Screenshots for docs/why-does-my-network-fail.md: each seed experiment trained in the real
Training panel (offscreen) and grabbed once the doctor has spoken.

    QT_QPA_PLATFORM=offscreen python docs/screenshots/doctor_screenshots.py
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = Path(__file__).parent

from designer.core.examples import build_example  # noqa: E402
from designer.core.project import Project  # noqa: E402
from designer.ui.document import Document  # noqa: E402
from designer.ui.training_panel import TrainingPanel  # noqa: E402
from tests.core.helpers import deep_sigmoid, overfitting_mlp  # noqa: E402


def example(name: str, **training) -> Project:
    p = build_example(name)
    p.training = dataclasses.replace(p.training, device="cpu", **training)
    return p


def wait_for(signal) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    loop.exec()


def settle(ms: int = 400) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def panel_for(project: Project) -> TrainingPanel:
    panel = TrainingPanel(Document(project))
    panel.resize(1500, 820)
    panel.show()
    return panel


def trained(project: Project) -> TrainingPanel:
    panel = panel_for(project)
    panel.start()
    wait_for(panel.training_stopped)
    panel.plots.redraw()
    settle()
    return panel


def grab(panel: TrainingPanel, name: str) -> None:
    settle()
    panel.grab().save(str(OUT / name))
    print("wrote", OUT / name)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    if "--rest" not in sys.argv:
        grab(trained(example("iris_mlp", lr=2.0, epochs=40)), "doctor-lr-too-high.png")
        sgd = example("iris_mlp", lr=2.0, optimizer="sgd", epochs=40)
        grab(trained(sgd), "doctor-lr-too-high-sgd.png")
        grab(trained(example("iris_mlp", lr=1e-6, epochs=20)), "doctor-lr-too-low.png")
    panel = trained(deep_sigmoid(epochs=4))
    panel.doctor.tabs.setCurrentWidget(panel.doctor.gradient_flow)
    grab(panel, "doctor-vanishing-gradients.png")
    grab(trained(overfitting_mlp(epochs=25)), "doctor-overfitting.png")
    panel = panel_for(example("iris_mlp", lr=1e-7))
    worker = panel.doctor.run_check()
    wait_for(worker.ended)
    settle()
    worker = panel.doctor.run_lr_find()
    wait_for(worker.ended)
    grab(panel, "doctor-check-and-lr-find.png")
    panel = trained(example("spiral_mlp", epochs=150))
    panel.doctor.tabs.setCurrentWidget(panel.doctor.boundary_view)
    grab(panel, "doctor-boundary-spirals.png")
    panel = trained(example("digits_cnn", epochs=3))
    worker = panel.doctor.run_evaluate()
    wait_for(worker.ended)
    grab(panel, "doctor-evaluation-digits.png")
    app.quit()


if __name__ == "__main__":
    main()
