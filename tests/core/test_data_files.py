"""User files besides CSV: npz archives, image folders and MNIST-format IDX files."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from designer.core.data import DataError, load_dataset
from designer.core.training.config import DataConfig


def error(cfg: DataConfig) -> str:
    with pytest.raises(DataError) as err:
        load_dataset(cfg)
    return str(err.value)


# --- npz ----------------------------------------------------------------------------------------


def test_npz_happy_path_with_lowercase_names(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "d.npz"
    np.savez(path, x=rng.normal(5, 3, (50, 3)), y=np.arange(50) % 2)
    ds = load_dataset(DataConfig(source="npz", path=str(path)))
    assert ds.task == "classification" and ds.class_names == ("0", "1")
    assert ds.input_shape == (3,) and ds.x_train.dtype == np.float32
    assert abs(ds.x_train.mean()) < 1e-5  # 2-D X is standardised by training statistics


def test_npz_images_keep_their_shape_and_float_y_is_regression(tmp_path):
    path = tmp_path / "img.npz"
    np.savez(path, X=np.random.default_rng(1).random((30, 1, 4, 4)), Y=np.linspace(0, 1, 30))
    ds = load_dataset(DataConfig(source="npz", path=str(path)))
    assert ds.input_shape == (1, 4, 4) and ds.task == "regression" and ds.scaling is None
    assert ds.y_train.shape == (24, 1)


def test_npz_different_lengths_are_refused(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((10, 2)), y=np.zeros(9, int))
    msg = error(DataConfig(source="npz", path=str(path)))
    assert str(path) in msg and "X has 10 samples but y has 9" in msg


def test_npz_missing_array_lists_the_contents(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, features=np.zeros((10, 2)), y=np.zeros(10, int))
    assert "no array named x or X; the archive holds: features, y" in error(
        DataConfig(source="npz", path=str(path))
    )


def test_npz_object_arrays_are_never_unpickled(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, X=np.array([{"a": 1}, {"b": 2}], dtype=object), y=np.array([0, 1]))
    msg = error(DataConfig(source="npz", path=str(path)))
    assert str(path) in msg and "'X' holds Python objects" in msg and "never" in msg


def test_a_pickle_named_npz_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps({"X": [1, 2]}))
    msg = error(DataConfig(source="npz", path=str(path)))
    assert str(path) in msg and "never loads pickled data" in msg


# --- image folders ------------------------------------------------------------------------------


def image_folder(root: Path, counts: dict[str, int], size=(10, 6)) -> Path:
    for c, (name, count) in enumerate(counts.items()):
        (root / name).mkdir(parents=True)
        for i in range(count):
            shade = 40 + 150 * c + i
            Image.new("RGB", size, (shade, 255 - shade, 30)).save(root / name / f"{i}.png")
    return root


def test_image_folder_grayscale_and_rgb(tmp_path):
    root = image_folder(tmp_path / "pics", {"cats": 6, "dogs": 4})
    (root / "cats" / "notes.txt").write_text("not an image, ignored")
    ds = load_dataset(DataConfig(source="images", path=str(root), options={"image_size": 8}))
    assert ds.class_names == ("cats", "dogs") and ds.input_shape == (1, 8, 8)
    x = np.concatenate([ds.x_train, ds.x_test])
    assert x.dtype == np.uint8  # raw pixels; training scales them to [0, 1] on the device
    assert np.bincount(np.concatenate([ds.y_train, ds.y_test])).tolist() == [6, 4]
    rgb = load_dataset(DataConfig(source="images", path=str(root), options={"color": "rgb"}))
    assert rgb.input_shape == (3, 28, 28)
    first_cat = rgb.x_train[rgb.y_train == 0][0]
    assert (first_cat[2] == 30).all()  # blue channel is constant 30


def test_unreadable_image_is_named(tmp_path):
    root = image_folder(tmp_path / "pics", {"a": 2, "b": 2})
    (root / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    msg = error(DataConfig(source="images", path=str(root)))
    assert str(root / "b" / "broken.png") in msg and "not a readable image" in msg


def test_empty_class_folder_is_refused(tmp_path):
    root = image_folder(tmp_path / "pics", {"a": 2, "b": 2})
    (root / "c").mkdir()
    msg = error(DataConfig(source="images", path=str(root)))
    assert "class folder 'c' holds no images" in msg and str(root / "c") in msg


# --- IDX ----------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def digits_like(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28)), np.arange(n) % 3


@pytest.mark.parametrize("gz", [False, True])
def test_idx_files_raw_and_gzipped(tmp_path, gz):
    images, labels = digits_like(30)
    img = write_idx(tmp_path / "imgs.idx", images, gz)
    write_idx(tmp_path / "labs.idx", labels, gz)
    ds = load_dataset(DataConfig(source="idx", path=str(img), options={"labels": "labs.idx"}))
    assert ds.input_shape == (1, 28, 28) and ds.class_names == ("0", "1", "2")
    assert len(ds.x_train) + len(ds.x_test) == 30
    # Each training image is one of the written ones, as uint8 pixels.
    written = {tuple(im.ravel()) for im in images}
    assert all(tuple(x.ravel()) in written for x in ds.x_train)


def test_idx_folder_with_standard_names_uses_t10k_as_test(tmp_path):
    images, labels = digits_like(30)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels, gz=True)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images[:9])
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels[:9])
    ds = load_dataset(DataConfig(source="idx", path=str(tmp_path), val_fraction=0.2))
    assert len(ds.x_test) == 9 and len(ds.x_train) + len(ds.x_val) == 30 and len(ds.x_val) == 6
    assert np.array_equal(ds.x_test[0, 0], images[0])  # uint8 pixels kept as they are


def test_idx_bad_magic_and_truncation_name_the_file(tmp_path):
    images, labels = digits_like(5)
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\x12\x34\x08\x03" + idx_bytes(images)[4:])
    write_idx(tmp_path / "labs.idx", labels)
    msg = error(DataConfig(source="idx", path=str(bad), options={"labels": "labs.idx"}))
    assert str(bad) in msg and "bad magic number 12340803" in msg
    short = tmp_path / "short.idx"
    short.write_bytes(idx_bytes(images)[:-100])
    msg = error(DataConfig(source="idx", path=str(short), options={"labels": "labs.idx"}))
    assert str(short) in msg and "truncated" in msg


def test_idx_count_mismatch_and_missing_folder_files(tmp_path):
    images, labels = digits_like(6)
    img = write_idx(tmp_path / "imgs.idx", images)
    write_idx(tmp_path / "labs.idx", labels[:5])
    msg = error(DataConfig(source="idx", path=str(img), options={"labels": "labs.idx"}))
    assert "6 images but labs.idx has 5 labels" in msg
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no train-images-idx3-ubyte or train-labels-idx1-ubyte" in error(
        DataConfig(source="idx", path=str(empty))
    )


def test_missing_labels_file_names_the_resolved_path(tmp_path):
    images, _ = digits_like(4)
    img = write_idx(tmp_path / "imgs.idx", images)
    cfg = DataConfig(source="idx", path=str(img), options={"labels": "gone.idx"})
    with pytest.raises(DataError) as err:
        load_dataset(cfg, base_dir=tmp_path / "project")
    assert str(tmp_path / "project" / "gone.idx") in str(err.value) and "no such file" in str(
        err.value
    )


def test_idx_labels_path_is_relative_to_the_project_folder(tmp_path):
    images, labels = digits_like(12)
    (tmp_path / "mnist").mkdir()
    write_idx(tmp_path / "mnist" / "imgs.idx", images)
    write_idx(tmp_path / "mnist" / "labs.idx", labels)
    cfg = DataConfig(source="idx", path="mnist/imgs.idx", options={"labels": "mnist/labs.idx"})
    assert len(load_dataset(cfg, base_dir=tmp_path).x_test) == 2
