"""Downloadable built-ins (MNIST, Fashion-MNIST, CIFAR-10), tested offline: the files are
generated here in the official formats and served from a local folder over HTTP."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import socket
import struct
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from designer.core.data import BUILTINS, DataError, load_dataset
from designer.core.data import downloads as dl
from designer.core.training.config import DataConfig


def idx_bytes(array: np.ndarray) -> bytes:
    head = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return head + array.astype(np.uint8).tobytes()


@pytest.fixture
def server(tmp_path):
    """A local HTTP server over tmp/www; yields (url, folder, requested paths)."""
    www = tmp_path / "www"
    www.mkdir()
    seen: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            seen.append(self.path)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/", www, seen
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def serve(monkeypatch, name, url, files: dict[str, bytes], www):
    for file, data in files.items():
        (www / file).write_bytes(data)
    sums = tuple((f, hashlib.md5(d).hexdigest()) for f, d in files.items())
    spec = dataclasses.replace(dl.DOWNLOADS[name], mirrors=(url,), files=sums)
    monkeypatch.setitem(dl.DOWNLOADS, name, spec)


def mnist_files(rng, n_train=30, n_test=10):
    out = {}
    for part, n in (("train", n_train), ("t10k", n_test)):
        out[f"{part}-images-idx3-ubyte.gz"] = gzip.compress(
            idx_bytes(rng.integers(0, 256, (n, 28, 28)))
        )
        out[f"{part}-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(np.arange(n) % 10))
    return out


def test_mnist_downloads_once_into_the_cache_with_progress_and_loads(server, monkeypatch, tmp_path):
    url, www, seen = server
    rng = np.random.default_rng(0)
    serve(monkeypatch, "mnist", url, mnist_files(rng), www)
    monkeypatch.setenv("NETCANVAS_CACHE", str(tmp_path / "cache"))
    shown = []
    monkeypatch.setattr(dl, "progress_hook", lambda f, done, total: shown.append((f, done, total)))

    ds = load_dataset(DataConfig(source="builtin", name="mnist"))

    assert ds.name == "mnist" and ds.input_shape == (1, 28, 28)
    assert (len(ds.x_train), len(ds.x_test)) == (30, 10)
    assert ds.class_names == tuple("0123456789")
    assert len(seen) == 4 and shown[-1][1] == shown[-1][2]  # progress reaches the total
    assert (tmp_path / "cache/datasets/mnist/train-images-idx3-ubyte.gz").is_file()
    again = load_dataset(DataConfig(source="builtin", name="mnist"))
    assert len(seen) == 4  # cached and checked: nothing downloaded again
    np.testing.assert_array_equal(again.x_train, ds.x_train)


def test_cifar10_binary_archive_becomes_images_and_labels(server, monkeypatch, tmp_path):
    url, www, _ = server
    rng = np.random.default_rng(1)
    buf, seen_labels = io.BytesIO(), 0
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for member, n in [(f"data_batch_{i}.bin", 4) for i in range(1, 6)] + [
            ("test_batch.bin", 6)
        ]:
            labels = ((np.arange(n) + seen_labels) % 10).astype(np.uint8)[:, None]
            seen_labels += n
            pixels = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
            data = np.concatenate([labels, pixels], 1).tobytes()
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{member}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    serve(monkeypatch, "cifar10", url, {"cifar-10-binary.tar.gz": buf.getvalue()}, www)
    folder = dl.fetch("cifar10", root=tmp_path / "cache")
    ds = load_dataset(DataConfig(source="idx", path=str(folder)))
    assert ds.input_shape == (3, 32, 32) and (len(ds.x_train), len(ds.x_test)) == (20, 6)
    assert BUILTINS["cifar10"].input_shape == (3, 32, 32)


def test_a_damaged_download_is_refused_and_not_kept(server, monkeypatch, tmp_path):
    url, www, _ = server
    files = mnist_files(np.random.default_rng(2))
    serve(monkeypatch, "mnist", url, files, www)
    (www / "train-images-idx3-ubyte.gz").write_bytes(b"not the file")
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz from .* is damaged"):
        dl.fetch("mnist", root=tmp_path / "cache")
    assert not list((tmp_path / "cache/datasets/mnist").glob("train-images*"))


def test_offline_is_one_line_naming_the_file_and_the_folder(monkeypatch, tmp_path):
    with socket.socket() as s:  # a port nobody listens on: the connection is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = dataclasses.replace(
        dl.DOWNLOADS["fashion_mnist"], mirrors=(f"http://127.0.0.1:{port}/",)
    )
    monkeypatch.setitem(dl.DOWNLOADS, "fashion_mnist", spec)
    monkeypatch.setenv("NETCANVAS_CACHE", str(tmp_path))
    with pytest.raises(DataError) as err:
        load_dataset(DataConfig(source="builtin", name="fashion_mnist"))
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("fashion_mnist: cannot download train-images-idx3-ubyte.gz (offline?")
    assert text.endswith(f"or put the file in {tmp_path / 'datasets' / 'fashion_mnist'}")


def test_the_official_sources_are_listed_with_checksums():
    assert dl.DOWNLOADS["mnist"].mirrors[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert dict(dl.DOWNLOADS["cifar10"].files) == {
        "cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530"
    }
    for spec in dl.DOWNLOADS.values():
        assert all(len(md5) == 32 for _, md5 in spec.files) and len(spec.class_names) == 10


def test_train_on_mnist_shows_the_download_progress(server, monkeypatch, tmp_path, capsys):
    from designer.cli import main
    from designer.core.project import Project
    from designer.core.project_io import save_project
    from designer.core.training.config import TrainingConfig
    from tests.core.helpers import chain

    url, www, _ = server
    serve(monkeypatch, "mnist", url, mnist_files(np.random.default_rng(3)), www)
    monkeypatch.setenv("NETCANVAS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(dl, "progress_hook", None)
    graph = chain(("flatten", {}), ("linear", {"out_features": 10}), input_shape=(1, 28, 28))
    config = TrainingConfig(epochs=1, device="cpu", data=DataConfig(name="mnist"))
    path = save_project(Project(graph, "digits", config), tmp_path / "digits.netcanvas")
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "downloading train-images-idx3-ubyte.gz: " in err and " MB" in err
