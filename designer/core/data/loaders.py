"""`load_dataset`: a DataConfig in, a split Dataset out, through the same pipeline train.py embeds."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import TYPE_CHECKING

from designer.core.data import downloads, pipeline, sources
from designer.core.data.dataset import DataError, Dataset

if TYPE_CHECKING:  # config imports the layer specs; only the type is needed here
    from designer.core.training.config import DataConfig


def load_dataset(
    cfg: DataConfig, base_dir: Path | None = None, budget_bytes: int | None = None
) -> Dataset:
    """Load and split the data `cfg` names. Relative paths are resolved against `base_dir` (the
    project's folder). Every problem is a DataError naming the file, and the row and column.

    An image folder whose pixels exceed `budget_bytes` is not decoded here: its splits are
    StreamedImages, decoded batch by batch while training (same split, same order)."""
    try:
        if cfg.source == "builtin" and cfg.name in downloads.DOWNLOADS:
            return _downloaded(cfg)
        if cfg.source == "images" and budget_bytes is not None:
            streamed = _streamed_images(cfg, base_dir, budget_bytes)
            if streamed is not None:
                return streamed
        arrays = pipeline.load_arrays(
            cfg.source,
            cfg.name,
            cfg.path,
            cfg.target,
            cfg.options,
            cfg.test_fraction,
            cfg.val_fraction,
            cfg.split_seed,
            base_dir,
        )
    except (ValueError, OSError) as err:
        raise DataError(str(err)) from err
    except MemoryError as err:
        raise DataError(f"{cfg.path or cfg.name}: too large to load into memory") from err
    except Exception as err:
        # NOTE: an input no check foresaw still gets a message naming the data, not a crash.
        what = f"{type(err).__name__}: {err}"
        raise DataError(f"{cfg.path or cfg.name}: cannot load the data ({what})") from err
    return to_dataset(arrays)


def _streamed_images(cfg: DataConfig, base_dir, budget: int) -> Dataset | None:
    import os

    import numpy as np

    from designer.core.data.streaming import CACHE_ENV, StreamedImages, open_cache

    where = pipeline.resolve_path("images", cfg.path, base_dir)
    opts = {**pipeline.SOURCE_DEFAULTS["images"], **cfg.options}
    files, labels, names, size, mode = pipeline.image_files(where, opts)
    channels = 1 if mode == "L" else 3
    need = len(files) * channels * size * size
    if need <= budget:
        return None
    # The split of the in-memory path, computed on file numbers instead of pixels.
    numbers = np.arange(len(files))
    data = pipeline._data(where.name, "classification", numbers, np.array(labels), names)
    arrays = pipeline._finish(data, cfg.test_fraction, cfg.val_fraction, cfg.split_seed)
    caching = os.environ.get(CACHE_ENV, "").lower() not in ("off", "0", "no", "false")
    said = []
    for split in ("train", "val", "test"):
        picked = arrays[f"x_{split}"]
        if picked is not None:
            chosen = [str(files[int(i)]) for i in picked]
            cache, why = None, ""
            if caching and chosen:
                cache, why = open_cache(chosen, size, mode, split, downloads.cache_root())
            if why and why not in said:
                said.append(why)
            arrays[f"x_{split}"] = StreamedImages(chosen, size, mode, cache=cache)
    arrays["input_shape"] = (channels, size, size)
    arrays["notes"].append(
        f"streamed from disk: {need / 2**20:.0f} MB of pixels exceed the memory budget "
        f"of {budget / 2**20:.0f} MB"
    )
    arrays["notes"] += said
    return to_dataset(arrays)


def _downloaded(cfg: DataConfig) -> Dataset:
    """A downloadable built-in (MNIST, ...): fetched into the cache once, read as IDX files."""
    if cfg.options:
        raise ValueError(f"{cfg.name}: takes no options, got {', '.join(map(str, cfg.options))}")
    folder = downloads.fetch(cfg.name, progress=downloads.progress_hook)
    arrays = pipeline.load_arrays(
        "idx", path=str(folder), val_fraction=cfg.val_fraction, split_seed=cfg.split_seed
    )
    arrays["name"] = cfg.name
    arrays["class_names"] = downloads.DOWNLOADS[cfg.name].class_names
    return to_dataset(arrays)


def to_dataset(arrays: dict) -> Dataset:
    """The Dataset for a `pipeline.load_arrays` result."""
    scaling = None if arrays["mean"] is None else (arrays["mean"], arrays["std"])
    return Dataset(
        name=arrays["name"],
        task=arrays["task"],
        x_train=arrays["x_train"],
        y_train=arrays["y_train"],
        x_test=arrays["x_test"],
        y_test=arrays["y_test"],
        input_shape=arrays["input_shape"],
        class_names=tuple(arrays["class_names"]),
        feature_names=tuple(arrays["feature_names"]),
        x_val=arrays["x_val"],
        y_val=arrays["y_val"],
        notes=list(arrays["notes"]),
        scaling=scaling,
    )


def pipeline_source() -> str:
    """The text of the data pipeline module, for an exported train.py to embed verbatim, with
    the source table (sources.py, import-free) in place of the line that imports it.

    It defines `load_arrays(source, name, path, target, options, test_fraction, val_fraction,
    split_seed, base_dir)`, which returns the same arrays the app trains on.
    """
    text = _module_text(pipeline)
    table = _module_text(sources)
    body = ast.parse(table).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        table = "\n".join(table.splitlines()[body[0].end_lineno :])  # without its docstring
    line = next(s for s in text.splitlines() if s.startswith(_TABLE_IMPORT))
    return text.replace(line, table.strip("\n"), 1)


_TABLE_IMPORT = "from designer.core.data.sources import "


def _module_text(module) -> str:
    try:
        return Path(module.__file__).read_text(encoding="utf-8")
    except OSError:  # e.g. a frozen build that ships only bytecode
        return inspect.getsource(module)
