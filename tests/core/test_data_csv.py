"""CSV files: features, targets, one-hot columns, and an error naming the place for each problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from designer.core.data import DataError, load_dataset
from designer.core.training.config import DataConfig


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def csv_config(path: Path | str, target: str = "label", **kw) -> DataConfig:
    return DataConfig(source="csv", path=str(path), target=target, **kw)


def table(rows: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    lines = ["height,colour,weight,label"]
    for i in range(rows):
        lines.append(
            f"{rng.normal(170, 10):.2f},{['red', 'green', 'blue'][i % 3]},"
            f"{rng.normal(70, 5):.2f},{'yes' if i % 2 else 'no'}"
        )
    return "\n".join(lines) + "\n"


def error(cfg: DataConfig, base_dir: Path | None = None) -> str:
    with pytest.raises(DataError) as err:
        load_dataset(cfg, base_dir)
    return str(err.value)


def test_csv_happy_path_with_one_hot_and_text_labels(tmp_path):
    path = write(tmp_path, table(40))
    ds = load_dataset(csv_config(path))
    assert ds.task == "classification" and ds.class_names == ("no", "yes")
    assert ds.feature_names == ("height", "colour=blue", "colour=green", "colour=red", "weight")
    assert ds.input_shape == (5,) and ds.name == "data.csv"
    assert len(ds.x_train) == 32 and len(ds.x_test) == 8
    onehot = np.concatenate([ds.x_train, ds.x_test])[:, 1:4]
    assert set(np.unique(onehot)) == {0.0, 1.0} and (onehot.sum(1) == 1).all()
    # Numeric columns are standardised by training statistics; one-hot columns stay 0/1.
    assert abs(ds.x_train[:, 0].mean()) < 1e-5 and abs(ds.x_train[:, 4].std() - 1) < 1e-4
    assert abs(ds.x_test[:, 0].mean()) > 0


def test_relative_path_is_resolved_against_the_project_folder(tmp_path):
    write(tmp_path, table(20))
    ds = load_dataset(csv_config("data.csv"), base_dir=tmp_path)
    assert len(ds.x_train) == 16


def test_numeric_target_with_few_integer_values_is_classification(tmp_path):
    lines = ["a,b,kind"] + [f"{i},{i * 2},{i % 3}" for i in range(30)]
    ds = load_dataset(csv_config(write(tmp_path, "\n".join(lines)), target="kind"))
    assert ds.task == "classification" and ds.class_names == ("0", "1", "2")


def test_float_target_with_many_values_is_regression_and_task_can_be_forced(tmp_path):
    lines = ["x,price"] + [f"{i},{i * 1.5 + 0.25}" for i in range(50)]
    path = write(tmp_path, "\n".join(lines))
    ds = load_dataset(csv_config(path, target="price"))
    assert (
        ds.task == "regression" and ds.y_train.shape == (40, 1) and ds.y_train.dtype == np.float32
    )
    assert sorted(np.concatenate([ds.y_train, ds.y_test])[:, 0])[:2] == [0.25, 1.75]
    lines = ["x,grade"] + [f"{i},{i % 4}" for i in range(40)]
    forced = load_dataset(
        csv_config(
            write(tmp_path, "\n".join(lines), "g.csv"),
            target="grade",
            options={"task": "regression"},
        )
    )
    assert forced.task == "regression"


def test_empty_target_uses_the_last_column(tmp_path):
    ds = load_dataset(csv_config(write(tmp_path, table(20)), target=""))
    assert ds.class_names == ("no", "yes") and any("last column" in n for n in ds.notes)


def test_semicolon_delimiter_is_detected(tmp_path):
    text = table(20).replace(",", ";")
    ds = load_dataset(csv_config(write(tmp_path, text)))
    assert ds.input_shape == (5,)


def test_missing_target_column_lists_the_columns(tmp_path):
    path = write(tmp_path, table(10))
    msg = error(csv_config(path, target="species"))
    assert str(path) in msg and "'species'" in msg and "height, colour, weight, label" in msg


def test_empty_cell_names_file_spreadsheet_row_and_column(tmp_path):
    lines = table(10).splitlines()
    lines[4] = "171.0,red,,no"  # the fourth data row: row 5 in a spreadsheet
    path = write(tmp_path, "\n".join(lines))
    msg = error(csv_config(path))
    assert str(path) in msg and "row 5" in msg and "column 'weight'" in msg and "empty cell" in msg


def test_nan_cell_is_named_and_rows_can_be_dropped(tmp_path):
    lines = table(20).splitlines()
    lines[3] = "NaN,red,70,no"
    path = write(tmp_path, "\n".join(lines))
    msg = error(csv_config(path))
    assert "row 4" in msg and "column 'height'" in msg and "NaN" in msg
    ds = load_dataset(csv_config(path, options={"missing": "drop"}))
    assert len(ds.x_train) + len(ds.x_test) == 19


def test_ragged_row_is_named(tmp_path):
    lines = table(10).splitlines()
    lines[7] = "170,red,70"
    msg = error(csv_config(write(tmp_path, "\n".join(lines))))
    assert "row 8 has 3 cells" in msg and "4 columns" in msg


def test_text_column_with_too_many_categories_is_refused_by_name(tmp_path):
    lines = ["name,age,label"] + [f"person{i},{20 + i},{i % 2}" for i in range(30)]
    path = write(tmp_path, "\n".join(lines))
    msg = error(csv_config(path))
    assert "column 'name'" in msg and "30 different values" in msg and "ignore" in msg
    ds = load_dataset(csv_config(path, options={"ignore": ["name"]}))
    assert ds.feature_names == ("age",)


def test_typo_in_a_numeric_column_is_pointed_at(tmp_path):
    lines = ["age,label"] + [f"{20 + i},{i % 2}" for i in range(30)]
    lines[12] = "2x5,1"
    msg = error(csv_config(write(tmp_path, "\n".join(lines))))
    assert "column 'age'" in msg and "'2x5' in row 13" in msg


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", ["the file is empty"]),
        (b"a,b,label\n", ["no data rows"]),
        (b"a,label\n1,x\n\xff\xfe,y\n", ["line 3", "not UTF-8"]),
    ],
)
def test_unusable_files_are_named(tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    msg = error(csv_config(path))
    assert str(path) in msg
    for word in words:
        assert word in msg


def test_missing_file_names_the_resolved_path(tmp_path):
    msg = error(csv_config("nowhere/data.csv"), base_dir=tmp_path)
    assert str(tmp_path / "nowhere" / "data.csv") in msg


def test_unreadable_path_is_named(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    msg = error(csv_config(tmp_path / "folder.csv"))
    assert str(tmp_path / "folder.csv") in msg and "cannot read" in msg


def test_regression_refuses_a_text_target_naming_the_row(tmp_path):
    lines = ["x,y"] + [f"{i},{i * 0.5}" for i in range(30)]
    lines[9] = "8,oops"
    msg = error(
        csv_config(write(tmp_path, "\n".join(lines)), target="y", options={"task": "regression"})
    )
    assert "row 10" in msg and "column 'y'" in msg and "'oops' is not a number" in msg


def test_single_class_target_is_refused(tmp_path):
    lines = ["x,label"] + [f"{i},same" for i in range(10)]
    assert "at least 2 classes" in error(csv_config(write(tmp_path, "\n".join(lines))))


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"ignore": 5}, "option 'ignore' must be a list"),
        ({"delimiter": ";;"}, "option 'delimiter' must be auto or one character"),
        ({"task": "clustering"}, "option 'task' must be one of auto, classification, regression"),
        ({"sheet": 1}, "unknown option 'sheet'"),
    ],
)
def test_bad_csv_options_are_named(tmp_path, options, words):
    msg = error(csv_config(write(tmp_path, table(10)), options=options))
    assert words in msg
