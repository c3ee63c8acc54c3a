"""DatasetPicker on its own: user files, previews in the background, errors as messages."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from designer.core.training.config import DataConfig
from designer.ui.dataset_picker import DatasetPicker, image_of, stored_path

TIMEOUT = 30_000


@pytest.fixture
def picker(qtbot, tmp_path):
    widget = DatasetPicker()
    qtbot.addWidget(widget)
    widget.resize(480, 600)
    widget.show()
    return widget


def show(qtbot, picker, config, project_path):
    with qtbot.waitSignal(picker.preview_ready, timeout=TIMEOUT):
        picker.set_config(config, project_path)


def test_an_image_folder_previews_thumbnails_and_class_counts(qtbot, picker, tmp_path):
    from PIL import Image

    for c, shade in (("cats", 40), ("dogs", 220)):
        (tmp_path / "pics" / c).mkdir(parents=True)
        for i in range(6):
            Image.new("L", (12, 12), shade + i).save(tmp_path / "pics" / c / f"{i}.png")
    config = DataConfig("images", path="pics", options={"image_size": 8})
    show(qtbot, picker, config, tmp_path / "model.netcanvas")
    assert picker.preview_error is None, picker.preview_error
    assert "cats" in picker.counts.text() and "dogs" in picker.counts.text()
    assert picker.thumbs.count() > 1
    assert picker.table.isHidden()  # images are shown as thumbnails, not a table
    assert picker.form.isRowVisible(picker.path_row)
    assert not picker.form.isRowVisible(picker.builtin)


def test_a_broken_npz_shows_one_line_in_the_preview(qtbot, picker, tmp_path):
    (tmp_path / "data.npz").write_bytes(b"not a zip archive")
    show(qtbot, picker, DataConfig("npz", path="data.npz"), tmp_path / "model.netcanvas")
    assert picker.preview_data is None
    assert "data.npz" in picker.summary.text()
    assert "\n" not in picker.summary.text()
    assert picker.table.isHidden()


def test_a_user_source_without_a_file_asks_for_one(qtbot, picker):
    show(qtbot, picker, DataConfig("csv"), None)
    assert "Choose a file" in picker.summary.text()


def test_synthetic_sets_expose_samples_and_noise(qtbot, picker):
    config = DataConfig("builtin", "moons")
    show(qtbot, picker, config, None)
    assert picker.form.isRowVisible(picker.samples) and picker.form.isRowVisible(picker.noise)
    edits = []
    picker.edited.connect(edits.append)
    with qtbot.waitSignal(picker.preview_ready, timeout=TIMEOUT):
        picker.samples.setValue(100)
    assert config.options["n"] == 100
    assert edits == ["options"]
    assert picker.preview_data.shapes["train"][0] + picker.preview_data.shapes["test"][0] == 100
    show(qtbot, picker, DataConfig("builtin", "iris"), None)
    assert not picker.form.isRowVisible(picker.samples)


def test_paths_inside_the_project_folder_are_stored_relative(tmp_path):
    project = tmp_path / "proj" / "model.netcanvas"
    inside = tmp_path / "proj" / "data" / "x.csv"
    outside = tmp_path / "elsewhere.csv"
    assert stored_path(str(inside), project) == "data/x.csv"
    assert stored_path(str(outside), project) == str(outside)
    assert stored_path(str(outside), None) == str(outside)
    assert stored_path("data/typed.csv", project) == "data/typed.csv"


def test_image_of_turns_square_feature_rows_and_chw_samples_into_pixels():
    digit = image_of(np.linspace(0, 1, 64))
    assert digit.shape == (8, 8) and digit.dtype == np.uint8
    assert digit.min() == 0 and digit.max() == 255
    assert image_of(np.zeros((3, 10, 12))).shape == (10, 12)
    assert image_of(np.zeros(4)) is None  # iris features are not an image
    assert image_of(np.zeros((32, 1))) is None  # a sequence is not an image


def test_the_picker_and_the_config_accept_the_same_sources(picker):
    import pytest as _pytest

    from designer.core.data import data_sources
    from designer.core.errors import ParamError
    from designer.core.training.config import TrainingConfig

    listed = [picker.source.itemData(i) for i in range(picker.source.count())]
    assert listed == [s.key for s in data_sources()]
    for key in listed:  # each one the picker offers, the config (and so a project file) takes
        assert TrainingConfig.from_dict({"data": {"source": key}}).data.source == key
    with _pytest.raises(ParamError, match="source"):
        TrainingConfig.from_dict({"data": {"source": "parquet"}})
    for s in data_sources():  # and the pipeline has a reader for every file or folder source
        assert (s.reader is not None) == s.needs_path, s.key


def test_the_picker_splits_csv_columns_as_the_pipeline_does(qtbot, picker, tmp_path):
    from designer.core.data import load_dataset

    # A semicolon file whose header also holds a comma inside quotes: one detector decides.
    rows = "".join(f"{i};{i * 2};{'ab'[i % 2]}\n" for i in range(20))
    (tmp_path / "beans.csv").write_text('"size, cm";weight;kind\n' + rows, "utf-8")
    config = DataConfig("csv", path="beans.csv")
    show(qtbot, picker, config, tmp_path / "model.netcanvas")
    columns = [picker.target.itemText(i) for i in range(picker.target.count())]
    data = load_dataset(DataConfig("csv", path="beans.csv", target="kind"), tmp_path)
    assert columns == [*data.feature_names, "kind"]
