"""Built-in datasets: shapes, tasks, class names, determinism, stratification, standardisation."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from designer.core.data import BUILTINS, DataError, builtin_names, load_dataset, source_options
from designer.core.data.downloads import DOWNLOADS
from designer.core.training.config import DataConfig

EXPECTED = {
    # name: (task, input_shape, class names or their count, total samples)
    "iris": ("classification", (4,), ("setosa", "versicolor", "virginica"), 150),
    "wine": ("classification", (13,), 3, 178),
    "breast_cancer": ("classification", (30,), ("malignant", "benign"), 569),
    "digits": ("classification", (64,), tuple("0123456789"), 1797),
    "moons": ("classification", (2,), 2, 400),
    "circles": ("classification", (2,), 2, 400),
    "spirals": ("classification", (2,), 2, 400),
    "xor": ("classification", (2,), 2, 400),
    "blobs": ("classification", (2,), 3, 400),
    "coffee": ("regression", (1,), 0, 300),
    "waves": ("sequence", (32, 1), ("slow", "medium", "fast"), 600),
}


def builtin(name: str, **kw) -> DataConfig:
    return DataConfig(source="builtin", name=name, **kw)


def test_catalog_lists_every_builtin_with_metadata():
    assert set(builtin_names()) == set(EXPECTED) | set(DOWNLOADS)  # see test_downloads.py
    for name, info in BUILTINS.items():
        if name in DOWNLOADS:
            continue
        assert info.title and info.doc and info.task == EXPECTED[name][0]
        assert info.input_shape == EXPECTED[name][1]
    assert source_options("builtin", "moons") == {"n": 400, "noise": 0.1, "seed": 0}
    assert source_options("csv")["max_categories"] == 20


@pytest.mark.parametrize("name", list(EXPECTED))
def test_builtin_loads_with_right_shapes_and_dtypes(name):
    task, shape, classes, total = EXPECTED[name]
    ds = load_dataset(builtin(name, val_fraction=0.1))
    assert ds.task == task and ds.input_shape == shape and ds.name == name
    assert ds.x_train.shape[1:] == ds.x_test.shape[1:] == ds.x_val.shape[1:] == shape
    assert len(ds.x_train) + len(ds.x_val) + len(ds.x_test) == total
    assert len(ds.x_test) == round(total * 0.2) and len(ds.x_val) == round(total * 0.1)
    assert ds.x_train.dtype == np.float32 and np.isfinite(ds.x_train).all()
    if isinstance(classes, tuple):
        assert ds.class_names == classes
    else:
        assert ds.num_classes == classes
    if task == "regression":
        assert ds.y_train.dtype == np.float32 and ds.y_train.shape == (len(ds.x_train), 1)
        assert ds.output_size == 1
    else:
        assert ds.y_train.dtype == np.int64 and ds.y_train.ndim == 1
        assert set(np.unique(ds.y_train)) == set(range(ds.num_classes))
        assert ds.output_size == ds.num_classes


def test_tabular_sets_match_scikit_learn():
    from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine

    for name, loader in [
        ("iris", load_iris),
        ("wine", load_wine),
        ("breast_cancer", load_breast_cancer),
        ("digits", load_digits),
    ]:
        ref = loader()
        ds = load_dataset(builtin(name, test_fraction=0.0))
        assert ds.feature_names == tuple(ref.feature_names), name
        assert ds.class_names == tuple(str(c) for c in ref.target_names), name
        assert np.bincount(ds.y_train).tolist() == np.bincount(ref.target).tolist()
    digits = load_dataset(builtin("digits", test_fraction=0.0))
    assert digits.x_train.min() == 0.0 and digits.x_train.max() == 1.0
    flat = {tuple(row) for row in (load_digits().data / 16.0).astype(np.float32)}
    assert all(tuple(row) in flat for row in digits.x_train[:50])


def test_same_seed_same_arrays_other_seed_other_split():
    a, b = load_dataset(builtin("moons")), load_dataset(builtin("moons"))
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    c = load_dataset(builtin("moons", split_seed=1))
    assert not np.array_equal(a.x_train, c.x_train)
    d = load_dataset(builtin("moons", options={"seed": 5}))
    assert not np.array_equal(np.sort(a.x_train, 0), np.sort(d.x_train, 0))


def test_options_change_size_and_noise():
    small = load_dataset(builtin("spirals", options={"n": 100}))
    assert len(small.x_train) + len(small.x_test) == 100
    clean = load_dataset(builtin("circles", options={"noise": 0.0}))
    radius = np.hypot(*clean.x_train.T)
    inner = radius[clean.y_train == 0]
    assert inner.max() <= 0.5 and radius[clean.y_train == 1].min() >= 0.7
    assert load_dataset(builtin("blobs", options={"centers": 5})).num_classes == 5


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"n": -3}, ["'n'", "-3"]),
        ({"noise": "lots"}, ["'noise'", "lots"]),
        ({"colour": 1}, ["unknown option 'colour'", "n, noise, seed"]),
    ],
)
def test_bad_options_are_named(options, words):
    with pytest.raises(DataError) as err:
        load_dataset(builtin("moons", options=options))
    for word in words:
        assert word in str(err.value)


def test_unknown_builtin_lists_the_choices():
    with pytest.raises(DataError, match="unknown built-in dataset 'irises'.*iris, wine"):
        load_dataset(builtin("irises"))


def test_stratified_split_keeps_class_proportions():
    ds = load_dataset(builtin("breast_cancer", test_fraction=0.25, val_fraction=0.15))
    full = np.bincount(np.concatenate([ds.y_train, ds.y_val, ds.y_test])) / 569
    for ys in (ds.y_train, ds.y_val, ds.y_test):
        assert np.abs(np.bincount(ys) / len(ys) - full).max() < 0.01


def test_standardisation_uses_training_statistics_only():
    ds = load_dataset(builtin("wine"))
    assert np.abs(ds.x_train.mean(0)).max() < 1e-5
    assert np.abs(ds.x_train.std(0) - 1).max() < 1e-4
    # The test rows are scaled by the training statistics, so their mean is not exactly zero.
    assert np.abs(ds.x_test.mean(0)).min() > 0
    assert np.abs(ds.x_test.mean(0)).max() > 0.05
    mean, std = ds.scaling
    assert mean.shape == std.shape == (13,)
    coffee = load_dataset(builtin("coffee"))
    assert coffee.scaling is not None and abs(float(coffee.x_train.mean())) < 1e-5


def test_coffee_peaks_in_the_morning_and_after_lunch():
    ds = load_dataset(builtin("coffee", options={"n": 3000, "noise": 0.0}))
    mean, std = ds.scaling
    hour = ds.x_train[:, 0] * std[0] + mean[0]
    cups = ds.y_train[:, 0]

    def around(h):
        return cups[np.abs(hour - h) < 0.5].mean()

    assert around(8) > around(11) < around(14) > around(18)
    assert around(8) > around(3) and around(14) > around(22)


def test_waves_classes_differ_in_frequency():
    ds = load_dataset(builtin("waves", options={"noise": 0.0}))
    crossings = (np.diff(np.sign(ds.x_train[:, :, 0]), axis=1) != 0).sum(1)
    means = [crossings[ds.y_train == c].mean() for c in range(3)]
    assert means[0] < means[1] < means[2]


def test_split_that_empties_a_class_is_refused():
    with pytest.raises(DataError, match="test_fraction .* val_fraction"):
        load_dataset(builtin("iris", test_fraction=0.5, val_fraction=0.5))
    with pytest.raises(DataError, match="leave it none for training"):
        load_dataset(
            builtin("blobs", options={"n": 10, "centers": 5}, test_fraction=0.6, val_fraction=0.3)
        )


def test_builtins_load_without_importing_scikit_learn_or_torch():
    code = (
        "import sys, time\n"
        "from designer.core.data import load_dataset\n"
        "from designer.core.training.config import DataConfig\n"
        "t = time.perf_counter()\n"
        "for name in ('iris', 'digits', 'spirals'):\n"
        "    load_dataset(DataConfig(name=name))\n"
        "print(time.perf_counter() - t, 'sklearn' in sys.modules, 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, sklearn, torch = out.stdout.split()
    assert (sklearn, torch) == ("False", "False")
    assert float(seconds) < 0.5
