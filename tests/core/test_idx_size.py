"""An IDX file's size is checked from its dims before its data is read or decompressed."""

from __future__ import annotations

import gzip
import struct
import time

import numpy as np
import pytest

from designer.core.data.pipeline import read_idx


def _idx(dims: tuple[int, ...], data: bytes) -> bytes:
    return b"\0\0\x08" + bytes([len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + data


def test_a_gzip_that_would_expand_to_a_gigabyte_is_refused_at_once(tmp_path):
    path = tmp_path / "bomb-images-idx3-ubyte.gz"
    # 60,000 images of 128x140: 1.07 GB once expanded; the file holds 4 MB of zeros.
    path.write_bytes(gzip.compress(_idx((60_000, 128, 140), b"\0" * 4_000_000), 9))
    started = time.perf_counter()
    with pytest.raises(
        ValueError, match=r"too big: its dims \(60000, 128, 140\) declare 1,075,200,000 bytes"
    ):
        read_idx(path)
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize("zipped", [False, True])
def test_a_small_idx_file_still_reads(tmp_path, zipped):
    data = np.arange(24, dtype=np.uint8)
    raw = _idx((2, 3, 4), data.tobytes())
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(gzip.compress(raw) if zipped else raw)
    assert np.array_equal(read_idx(path), data.reshape(2, 3, 4))


def test_a_truncated_idx_file_names_what_is_missing(tmp_path):
    path = tmp_path / "short-idx1-ubyte"
    path.write_bytes(_idx((10,), b"\0" * 4))
    with pytest.raises(ValueError, match="truncated IDX file: dims \\(10,\\) need 10 bytes"):
        read_idx(path)
