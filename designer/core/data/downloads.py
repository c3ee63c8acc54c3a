"""Downloadable built-in datasets: MNIST, Fashion-MNIST and CIFAR-10 (binary version).

Each file comes from its official URL, is checked against its published MD5 and kept in the user
cache (`NETCANVAS_CACHE`, else `$XDG_CACHE_HOME/netcanvas`, else `~/.cache/netcanvas`), so it is
downloaded once. Offline, the error is one line naming the file and where to put it by hand.
CIFAR-10 is read from its binary archive (fixed-size records), never from the pickled
"python version", and is stored as IDX files beside it so every set reads through one reader.

NOTE: standard library and numpy only.
"""

import hashlib
import os
import struct
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHUNK = 1 << 16
# progress(file, done_bytes, total_bytes or None) for downloads started by load_dataset: the CLI
# sets a progress bar, the app a signal. None: quiet.
progress_hook: Callable[[str, int, int | None], None] | None = None


@dataclass(frozen=True)
class Download:
    title: str
    mirrors: tuple[str, ...]
    files: tuple[tuple[str, str], ...]  # (file name, md5)
    class_names: tuple[str, ...]
    doc: str


_IDX = tuple(f"{p}-{k}-ubyte.gz" for p in ("train", "t10k") for k in ("images-idx3", "labels-idx1"))

DOWNLOADS = {
    "mnist": Download(
        "MNIST handwritten digits (download, 11 MB)",
        ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
        tuple(
            zip(
                _IDX,
                (
                    "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                    "d53e105ee54ea40749a09fcbcd1e9432",
                    "9fb629c4189551a2d022fa330f9573f3",
                    "ec29112dd5afa0611ce80d1b7f02629c",
                ),
                strict=True,
            )
        ),
        tuple(str(d) for d in range(10)),
        "70,000 28×28 grayscale digits (60,000 train, 10,000 test); downloaded once.",
    ),
    "fashion_mnist": Download(
        "Fashion-MNIST clothing (download, 30 MB)",
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        tuple(
            zip(
                _IDX,
                (
                    "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                    "25c81989df183df01b3e8a0aad5dffbe",
                    "bef4ecab320f06d8554ea6380940ec79",
                    "bb300cfdad3c16e7a12a480ee83cd310",
                ),
                strict=True,
            )
        ),
        (
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),  # fmt: skip
        "70,000 28×28 grayscale clothing images in 10 classes; downloaded once.",
    ),
    "cifar10": Download(
        "CIFAR-10 small photos (download, 163 MB)",
        ("https://www.cs.toronto.edu/~kriz/",),
        (("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"),),
        (
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ),  # fmt: skip
        "60,000 32×32 colour photos in 10 classes (50,000 train, 10,000 test); downloaded once.",
    ),
}


def cache_root() -> Path:
    """The user cache folder of Netcanvas."""
    if os.environ.get("NETCANVAS_CACHE"):
        return Path(os.environ["NETCANVAS_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "netcanvas"


def md5_of(path: Path, algorithm: str = "md5") -> str:
    """The file's hex digest (MD5 unless `algorithm` says otherwise, e.g. "sha256")."""
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(name, progress=None, mirrors=None, root=None):
    """The folder holding dataset `name`'s files, downloading and checking what is missing.

    `progress(file, done_bytes, total_bytes or None)` is called while downloading. `mirrors`
    replaces the official URLs' folders (tests serve generated files from a local folder).
    OSError with one line when a file can't be had; ValueError when its checksum is wrong."""
    spec = DOWNLOADS[name]
    folder = Path(root or cache_root()) / "datasets" / name
    folder.mkdir(parents=True, exist_ok=True)
    for file, md5 in spec.files:
        target = folder / file
        if target.is_file() and md5_of(target) == md5:
            continue
        _download(name, file, md5, target, tuple(mirrors or spec.mirrors), progress)
    if name == "cifar10":
        _cifar_to_idx(folder)
    return folder


def _download(name, file, md5, target, mirrors, progress, algorithm="md5"):
    """Fetch `file` from the first mirror that has it; its digest must start with `md5`
    (the whole MD5, or the SHA-256 prefix torchvision puts in its weight file names)."""
    part = target.with_name(target.name + ".part")
    reasons = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file
        try:
            with urllib.request.urlopen(url, timeout=30) as response, open(part, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0) or None
                done = 0
                for block in iter(lambda r=response: r.read(CHUNK), b""):
                    out.write(block)
                    done += len(block)
                    if progress is not None:
                        progress(file, done, total)
        except (urllib.error.URLError, OSError) as err:
            reasons.append(str(getattr(err, "reason", err)))
            part.unlink(missing_ok=True)
            continue
        got = md5_of(part, algorithm)
        if not got.startswith(md5):
            part.unlink(missing_ok=True)
            what = algorithm.upper().replace("SHA", "SHA-")
            raise ValueError(
                f"{name}: {file} from {url} is damaged ({what} {got[: len(md5)]}, expected "
                f"{md5}); try again"
            )
        os.replace(part, target)
        return
    raise OSError(
        f"{name}: cannot download {file} (offline? {reasons[0] if reasons else 'no mirror'}); "
        f"connect to the internet, or put the file in {target.parent}"
    )


def _cifar_to_idx(folder):
    """CIFAR-10's binary records (label byte + 3×32×32 bytes) as IDX files beside the archive."""
    if all((folder / f).is_file() for f in _idx_names()):
        return
    parts = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "t10k": ["test_batch.bin"]}
    with tarfile.open(folder / "cifar-10-binary.tar.gz", "r:gz") as archive:
        members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}
        for part, names in parts.items():
            blobs = []
            for member in names:
                if member not in members:
                    raise ValueError(f"cifar10: the archive has no {member}")
                blobs.append(archive.extractfile(members[member]).read())
            records = np.frombuffer(b"".join(blobs), np.uint8).reshape(-1, 1 + 3 * 32 * 32)
            _write_idx(folder / f"{part}-labels-idx1-ubyte", records[:, 0])
            _write_idx(folder / f"{part}-images-idx3-ubyte", records[:, 1:].reshape(-1, 3, 32, 32))


def _idx_names():
    return [f"{p}-{k}-idx{3 if k == 'images' else 1}-ubyte" for p in ("train", "t10k")
            for k in ("images", "labels")]  # fmt: skip


def _write_idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(header + np.ascontiguousarray(array, np.uint8).tobytes())
    os.replace(tmp, path)
