"""The training panel's transfer-learning settings as a user sees them: augmentation for image
data, a learning rate per layer, and the memory plan before Start."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import dataclasses

import numpy as np
import pytest
from PIL import Image

from designer.core.examples import build_example
from designer.core.origins import Origin
from designer.core.project import Project
from designer.core.project_io import load_project, save_project
from designer.core.training.config import TrainingConfig
from tests.core.helpers import chain

TIMEOUT = 60_000  # ms; only reached when something is broken


def picture_folder(root, per_class: int, side: int):
    """Two classes of generated RGB pictures: per_class × 2 × side² × 3 bytes of pixels."""
    rng = np.random.default_rng(0)
    for c in range(2):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 120, (side, side, 3), dtype=np.uint8)
            pixels[..., c] += 120
            Image.fromarray(pixels).save(root / f"class{c}" / f"{i}.png")
    return root


def picture_project(folder, side: int, **settings) -> Project:
    graph = chain(
        ("flatten", {}),
        ("linear", {"out_features": 8}),
        ("relu", {}),
        ("linear", {"out_features": 2}),
        input_shape=(3, side, side),
    )
    config = TrainingConfig(**{"epochs": 1, "batch_size": 8, "device": "cpu"} | settings)
    config.data = dataclasses.replace(
        config.data,
        source="images",
        path=str(folder),
        options={"image_size": side, "color": "rgb"},
    )
    return Project(graph, "pictures", config)


@pytest.fixture
def show_panel(qtbot, shown_panel):
    """A shown panel whose dataset preview (and so its memory plan) is loaded."""

    def make(project):
        panel = shown_panel(project, (1300, 600))
        qtbot.waitUntil(lambda: panel.dataset.data_size is not None, timeout=TIMEOUT)
        return panel

    return make


def test_augmentation_set_in_the_form_reaches_the_run_and_survives_save_and_reopen(
    qtbot, tmp_path, show_panel, monkeypatch
):
    folder = picture_folder(tmp_path / "pictures", 6, 16)
    panel = show_panel(picture_project(folder, 16))
    form = panel.augment
    assert panel.augment_section.isVisible() and not form.isVisible()  # folded, for pictures
    panel.augment_section.header.click()
    assert form.isVisible()
    form.crop.setChecked(True)
    form.crop_min.setValue(0.6)
    form.crop_max.setValue(0.9)
    form.flip.setChecked(True)
    form.rotation.setValue(15)
    form.shares["brightness"].setValue(0.2)
    form.shares["saturation"].setValue(0.3)
    form.normalize.setChecked(True)
    want = {
        "crop": 0.6,
        "crop_max": 0.9,
        "flip": True,
        "rotation": 15.0,
        "brightness": 0.2,
        "saturation": 0.3,
        "normalize": "imagenet",
    }
    assert panel.document.project.training.augment == want
    assert panel.document.is_modified()

    # The core's limits: a crop whose smallest share exceeds its largest is refused, with the
    # core's reason, and the old value stays; the spin boxes stop at the core's ranges.
    form.crop_min.setValue(0.95)
    assert form.reason.isVisible() and "augment.crop" in form.reason.text()
    assert form.crop_min.value() == 0.6 and panel.document.project.training.augment == want
    form.rotation.setValue(500)
    assert form.rotation.value() == 180  # AUGMENT_LIMITS["rotation"]

    from designer.core.training import engine

    received = []
    real = engine.train

    def spy(model, data, config, *args, **kwargs):
        received.append(dict(config.augment))
        return real(model, data, config, *args, **kwargs)

    monkeypatch.setattr(engine, "train", spy)
    with qtbot.waitSignal(panel.training_stopped, timeout=TIMEOUT):
        assert panel.start()
    assert panel.last_finished is not None, panel.message.text()
    assert received == [{**want, "rotation": 180.0}]

    path = save_project(panel.document.project, tmp_path / "pictures.netcanvas")
    reopened = show_panel(load_project(path))
    again = reopened.augment
    assert reopened.document.project.training.augment == {**want, "rotation": 180.0}
    assert reopened.augment_section.is_open  # settings in use are shown open
    assert again.crop.isChecked() and again.crop_min.value() == 0.6
    assert again.crop_max.value() == 0.9 and again.flip.isChecked()
    assert again.shares["saturation"].value() == 0.3 and again.normalize.isChecked()


def test_augmentation_is_offered_for_pictures_only_and_suggests_imagenet_for_pretrained(
    qtbot, tmp_path, show_panel
):
    iris = show_panel(build_example("iris_mlp"))
    qtbot.waitUntil(lambda: iris.dataset.preview_data is not None, timeout=TIMEOUT)
    assert not iris.augment_section.isVisible()  # tabular data: nothing to augment

    folder = picture_folder(tmp_path / "pictures", 4, 16)
    panel = show_panel(picture_project(folder, 16))
    panel.augment_section.set_open(True)
    assert not panel.augment.hint.isVisible()
    state = {"linear4.weight": None}  # where each layer's weights come from, as after a load
    panel._hold(state, None, {"linear4": Origin("pretrained", "head.safetensors")})
    assert panel.augment.hint.isVisible()
    assert "ImageNet statistics" in panel.augment.suggestion.text()
    panel.augment.use_imagenet.click()
    assert panel.document.project.training.augment == {"normalize": "imagenet"}
    assert not panel.augment.hint.isVisible()


def test_learning_rate_per_layer_reaches_the_optimizer_param_groups(qtbot, tmp_path, show_panel):
    project = build_example("iris_mlp")
    project.training = dataclasses.replace(project.training, lr=0.01, optimizer="sgd")
    panel = show_panel(project)
    panel.settings.setCurrentIndex(2)  # the "Learning rate per layer" tab
    rates = panel.rates
    names = [rates.table.item(r, 0).text() for r in range(rates.table.rowCount())]
    assert names == ["hidden", "logits"]  # the layers with parameters, in forward order
    rates.spins["hidden"].setValue(0.1)
    assert project.training.lr_multipliers == {"hidden": 0.1}
    rates.factor.setValue(0.25)
    rates.fill.click()  # earlier layers × 0.25: the last at 1×
    assert project.training.lr_multipliers == {"hidden": 0.25}
    assert rates.spins["logits"].value() == 1.0 and rates.spins["hidden"].value() == 0.25

    from designer.core.training import recipe
    from designer.core.training.prepare import prepare

    model, _source, _data = prepare(project)
    optimizer = recipe.make_optimizer(model, project.training.to_dict())
    by_lr = {round(g["lr"], 12): {id(p) for p in g["params"]} for g in optimizer.param_groups}
    hidden = {id(p) for p in model.hidden.parameters()}
    logits = {id(p) for p in model.logits.parameters()}
    assert by_lr == {0.0025: hidden, 0.01: logits}

    path = save_project(project, tmp_path / "rates.netcanvas")
    assert load_project(path).training.lr_multipliers == {"hidden": 0.25}

    # A frozen layer is not trained: its factor can't be set and the fill skips it.
    doc = panel.document
    doc.set_frozen([doc.graph.by_name("hidden").id], True)
    qtbot.waitUntil(lambda: not rates.spins["hidden"].isEnabled(), timeout=TIMEOUT)
    assert rates.table.item(0, 0).text() == "🔒 hidden"
    rates.reset.click()
    assert project.training.lr_multipliers == {}


def test_the_memory_plan_is_shown_before_start_and_follows_the_settings(
    qtbot, tmp_path, show_panel
):
    folder = picture_folder(tmp_path / "pictures", 45, 64)  # 90 × 64×64×3: 1.1 MB of pixels
    project = picture_project(folder, 64, optimizer="adam", batch_size=16)
    panel = show_panel(project)
    shown = panel.memory
    qtbot.waitUntil(lambda: shown.text().startswith("Memory: data"), timeout=TIMEOUT)
    assert "(in memory)" in shown.text() and "per batch of 16" in shown.text()

    # The very numbers `train` prints as its first line, from the same core function.
    from designer.core.training.prepare import prepare
    from designer.core.training.run import memory_line

    model, _source, data = prepare(project)
    assert shown.text() == "M" + memory_line(model, data, project.training, project.graph)[1:]

    before = shown.text()
    panel.form.editors["batch_size"].setValue(64)
    assert "per batch of 64" in shown.text() and shown.text() != before

    panel.form.editors["memory_budget_mb"].setValue(1)  # below the 1.1 MB of pixels
    assert "(streamed)" in shown.text()
    streamed = shown.text()
    # A preview loaded under that budget streams too: it decodes only the pictures it shows,
    # and weighs the same bytes.
    picker = panel.dataset
    with qtbot.waitSignal(picker.preview_ready, timeout=TIMEOUT):
        picker.test_fraction.setValue(0.25)
    assert picker.data_size is not None, picker.preview_error
    assert shown.text() == streamed and picker.thumbs.count() > 1  # pictures shown
    assert "streamed from disk" in " ".join(picker.preview_data.notes)
    panel.form.editors["memory_budget_mb"].setValue(0)  # automatic: it fits again
    assert "(in memory)" in shown.text()

    gradients = shown.text().split("gradients ")[1].split(",")[0]
    doc = panel.document
    assert gradients == "384.1 kB"  # (64·64·3·8 + 8 + 8·2 + 2) float32 parameters
    doc.set_frozen([doc.graph.by_name("linear2").id], True)  # the big first layer
    qtbot.waitUntil(lambda: "gradients 0.1 kB" in shown.text(), timeout=TIMEOUT)  # 18 left
    assert "weights 384.1 kB" in shown.text()  # frozen weights are still held

    # Another dataset (the built-in iris table): the plan weighs it, and pictures' settings go.
    picker = panel.dataset
    assert panel.augment_section.isVisible()
    with qtbot.waitSignal(picker.preview_ready, timeout=TIMEOUT):
        picker.source.setCurrentIndex(picker.source.findData("builtin"))
        picker.source.activated.emit(picker.source.currentIndex())
    qtbot.waitUntil(lambda: "data 3.5 kB (in memory)" in shown.text(), timeout=TIMEOUT)
    assert not panel.augment_section.isVisible()  # 150 × 4 float32 + 150 int64 labels


def test_the_three_curves_sit_side_by_side_unless_the_dock_is_tall(qtbot):
    from PySide6.QtWidgets import QBoxLayout

    from designer.ui.plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.show()
    plots.resize(690, 470)  # the curves area of the Train perspective at 1400×900
    qtbot.waitUntil(lambda: plots.width() == 690)
    assert plots._layout.direction() == QBoxLayout.Direction.LeftToRight
    assert min(p.height() for p in plots.plots) > 400  # not three 150-pixel strips
    plots.resize(400, 900)  # a side dock
    qtbot.waitUntil(lambda: plots._layout.direction() == QBoxLayout.Direction.TopToBottom)


@pytest.mark.parametrize("size", [(1500, 820), (1366, 500)])
def test_a_wide_panel_gives_the_settings_their_width_without_sideways_scrolling(
    shown_panel, qtbot, size
):
    from PySide6.QtWidgets import QApplication, QScrollArea

    panel = shown_panel(build_example("iris_mlp"), size)
    scroll = panel.findChild(QScrollArea)
    qtbot.waitUntil(lambda: scroll.isVisible() and scroll.width() > 0)
    QApplication.processEvents()
    assert scroll.horizontalScrollBar().maximum() == 0  # every column of the form in view
    assert scroll.width() <= size[0] // 2 + 1  # and the plots keep at least half
