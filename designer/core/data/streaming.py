"""Image folders larger than the memory budget, streamed from disk while training.

`StreamedImages` stands in for a split's uint8 pixel array: the training loop asks it for the
batches of each epoch's order (`batches`), and DataLoader workers decode whole batches with the
pipeline's own decoder (`pipeline.decode_image`: the very pixels the in-memory path holds) into
one preallocated uint8 tensor each, not sample by sample. The workers persist across epochs.

`ImageCache` keeps the decoded pixels once they have been decoded: epoch 1 writes every batch it
delivers to a flat uint8 file in the user cache (`<cache>/images/`), and once every row is there
later epochs, and later runs, read their batches from that file in the training process without
decoding anything (about 12 kB read per 64×64 image instead of a PNG decode). The file's name is
keyed by the split's file list with each file's size and modification time, so a changed,
added or removed image makes a new one (the stale one is deleted when the new one is complete).
The file is read with plain reads, not mapped: mapped pages would count in the process's memory.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from designer.core.data import pipeline
from designer.core.data.dataset import DataError

CACHE_VERSION = "1"  # bump when the decoder's output changes
CACHE_ENV = "NETCANVAS_IMAGE_CACHE"  # "off" turns the decoded-once cache off


def default_workers() -> int:
    """Decoding workers: one per core beyond the training thread's, at least one, at most 4."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, (cores or 1) - 1))


class ImageCache:
    """The decoded uint8 rows of one split (in its file order) in one file, `path`, written
    once (to a temporary name, renamed when complete) and then read batch by batch."""

    def __init__(self, path: Path, rows: int, row_shape: tuple[int, int, int]):
        self.path, self.rows, self.row_shape = path, rows, row_shape
        self.row_bytes = int(np.prod(row_shape))
        self.error = ""  # why caching stopped (a write failed), for the run's notes
        self._file: BinaryIO | None = None
        self._tmp = path
        self._filled = np.zeros(0, bool)

    @property
    def ready(self) -> bool:
        try:
            return self.path.stat().st_size == self.rows * self.row_bytes
        except OSError:
            return False

    def read(self, indices: list[int]) -> torch.Tensor:
        """Rows `indices` (any order, repeats allowed) as one uint8 batch."""
        out = torch.empty((len(indices), *self.row_shape), dtype=torch.uint8)
        rows = out.numpy().reshape(len(indices), self.row_bytes)
        with open(self.path, "rb", buffering=0) as f:
            for row, i in zip(rows, indices, strict=True):
                f.seek(i * self.row_bytes)
                if f.readinto(row.data) != self.row_bytes:
                    raise DataError(f"{self.path}: the decoded-image cache is truncated")
        return out

    def write(self, indices: list[int], batch: torch.Tensor) -> None:
        """Keep the decoded rows of one delivered batch (a failed write stops caching)."""
        if self.error:
            return
        try:
            if self._file is None:
                self._tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
                self._file = open(self._tmp, "wb")  # noqa: SIM115 - kept open for the epoch
                self._file.truncate(self.rows * self.row_bytes)
                self._filled = np.zeros(self.rows, bool)
            f = self._file
            rows = batch.numpy().reshape(len(indices), self.row_bytes)
            for row, i in zip(rows, indices, strict=True):
                f.seek(i * self.row_bytes)
                f.write(row.data)
            self._filled[indices] = True
        except OSError as err:
            self._fail(err)

    def finish(self, decode) -> None:
        """After a whole epoch: decode the rows no batch delivered (a skipped last sample),
        then publish the file under its final name and delete stale caches of this split."""
        if self._file is None or self.error:
            return
        missing = np.flatnonzero(~self._filled).tolist()
        if missing:
            self.write(missing, decode(missing))
        try:
            self._file.close()
            self._file = None
            if not self.error:
                os.replace(self._tmp, self.path)
                prefix = self.path.name.split("-")[0]
                for old in self.path.parent.glob(f"{prefix}-*"):
                    if old != self.path and not old.name.endswith(".tmp"):
                        old.unlink(missing_ok=True)
        except OSError as err:
            self._fail(err)

    def abandon(self) -> None:
        """A partial epoch: drop what was written so far (the next run decodes again)."""
        if self._file is not None:
            self._file.close()
            self._file = None
            Path(self._tmp).unlink(missing_ok=True)

    def _fail(self, err: OSError) -> None:
        self.error = (
            f"streamed images: stopped caching the decoded pixels ({self.path.parent}: "
            f"{err.strerror or err}); every epoch decodes the images"
        )
        self.abandon()


def open_cache(
    files: list[str], size: int, mode: str, split: str, root: Path
) -> tuple[ImageCache | None, str]:
    """The cache for one split's files under `root`, or None and the one-line reason it is
    off (the folder cannot be written, or the disk lacks the room)."""
    channels = 1 if mode == "L" else 3
    need = len(files) * channels * size * size
    key = hashlib.sha256(f"{CACHE_VERSION}\n{size}\n{mode}\n".encode())
    where = hashlib.sha256(f"{split}\n{size}\n{mode}\n".encode())
    for i, name in enumerate(files):
        st = os.stat(name)
        key.update(f"{name}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
        if i == 0:
            where.update(str(Path(name).parent.parent).encode())
    folder = root / "images"
    path = folder / f"{where.hexdigest()[:16]}-{key.hexdigest()[:24]}.u8"
    cache = ImageCache(path, len(files), (channels, size, size))
    if cache.ready:
        return cache, ""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        free = shutil.disk_usage(folder).free
    except OSError as err:
        return None, (
            f"streamed images: not caching the decoded pixels ({folder}: "
            f"{err.strerror or err}); every epoch decodes the images"
        )
    if free < need + (256 << 20):
        return None, (
            f"streamed images: not caching the decoded pixels ({folder}: "
            f"{need / 2**20:.0f} MB needed, {free / 2**20:.0f} MB free); every epoch decodes"
        )
    return cache, ""


class _Chunks:
    """The batch order of the coming epoch (a DataLoader sampler, set anew each epoch)."""

    def __init__(self) -> None:
        self.chunks: list[list[int]] = []

    def __iter__(self):
        return iter(self.chunks)

    def __len__(self) -> int:
        return len(self.chunks)


class StreamedImages(torch.utils.data.Dataset):
    """Image files too large for the memory budget, indexed like a uint8 N×C×H×W tensor:
    `batches` delivers an epoch's batches (decoded by workers, or read from the decoded-once
    cache) on `self.device`, in the order given; an int, slice or list decodes at once."""

    def __init__(
        self,
        files,
        size: int,
        mode: str,
        workers: int | None = None,
        cache: ImageCache | None = None,
    ):
        self.files, self.size, self.mode = [str(f) for f in files], size, mode
        self.shape = (len(self.files), 1 if mode == "L" else 3, size, size)
        self.workers = default_workers() if workers is None else workers
        self.device = torch.device("cpu")
        self.cache = cache
        self._chunks = _Chunks()
        self._loader: torch.utils.data.DataLoader | None = None

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.decode(list(range(*i.indices(len(self)))))
        if isinstance(i, (list, tuple)):
            return self.decode(list(i))
        return self.decode([int(i)])[0]

    def __getstate__(self):  # sent to spawned workers: not the loader
        return {**self.__dict__, "_loader": None, "cache": None}

    def decode(self, indices: list[int]) -> torch.Tensor:
        """The images `indices` decoded into one preallocated uint8 batch."""
        out = torch.empty((len(indices), *self.shape[1:]), dtype=torch.uint8)
        rows = out.numpy()
        try:
            for row, i in zip(rows, indices, strict=True):
                pipeline.decode_image(self.files[i], self.size, self.mode, row)
        except ValueError as err:
            raise DataError(str(err)) from None
        return out

    def _fetch(self, indices):
        """A worker's batch: the pixels, or the one-line message of an unreadable file (a
        worker's exception would reach the trainer wrapped in its traceback)."""
        try:
            return self.decode(indices)
        except DataError as err:
            return str(err)

    def batches(self, order: torch.Tensor, batch_size: int, steps: int):
        """uint8 batches of x[order], `steps` of them, on self.device."""
        chunks = [order[i * batch_size : (i + 1) * batch_size].tolist() for i in range(steps)]
        cache = self.cache
        if cache is not None and cache.ready:
            for chunk in chunks:
                yield cache.read(chunk).to(self.device, non_blocking=True)
            return
        self._chunks.chunks = chunks
        done = False
        try:
            for chunk, xb in zip(chunks, self._decoded(), strict=True):
                if isinstance(xb, str):
                    raise DataError(xb)
                if cache is not None:
                    cache.write(chunk, xb)
                yield xb.to(self.device, non_blocking=True)
            done = True
        finally:
            if cache is not None:
                if done:
                    cache.finish(self.decode)
                else:
                    cache.abandon()

    def _decoded(self):
        if not self.workers:
            return (self._fetch(chunk) for chunk in self._chunks)
        if self._loader is None:
            self._loader = torch.utils.data.DataLoader(
                _Fetch(self),
                batch_size=None,
                sampler=self._chunks,
                num_workers=self.workers,
                collate_fn=_same,
                pin_memory=self.device.type == "cuda",
                prefetch_factor=4,
                persistent_workers=True,
            )
        return iter(self._loader)

    def close(self) -> None:
        """Stop the decoding workers (they persist across epochs until then)."""
        loader, self._loader = self._loader, None
        running = getattr(loader, "_iterator", None)
        if running is not None and hasattr(running, "_shutdown_workers"):
            # NOTE: now, not when the garbage collector finds the loader (it and its iterator
            # refer to each other): a worker forked meanwhile would inherit them and try.
            running._shutdown_workers()
            loader._iterator = None  # type: ignore[union-attr]
        if self.cache is not None:
            self.cache.abandon()

    @property
    def notes(self) -> list[str]:
        return [self.cache.error] if self.cache is not None and self.cache.error else []


class _Fetch(torch.utils.data.Dataset):
    """What the workers index: one whole batch per index (a list of sample numbers)."""

    def __init__(self, images: StreamedImages):
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, indices):
        return self.images._fetch(indices)


def _same(batch):
    return batch
