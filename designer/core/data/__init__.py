"""Datasets: built-in sets that work offline and the user's own files (CSV, npz, images, IDX).

The arrays come from `pipeline.py`, a self-contained module that exported train.py scripts
embed (`pipeline_source()`), so the app and the script train on identical data. The sources
(CSV, npz, ...) are one table, `sources.SOURCES`.

NOTE: the names below are imported on first use (PEP 562): importing `designer.core.data.sources`
(the training config does, to check a source) must not import numpy with the pipeline.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "BUILTINS": "catalog",
    "BuiltinInfo": "catalog",
    "DataSource": "catalog",
    "builtin_names": "catalog",
    "csv_columns": "catalog",
    "data_sources": "catalog",
    "source_options": "catalog",
    "DataError": "dataset",
    "Dataset": "dataset",
    "load_dataset": "loaders",
    "pipeline_source": "loaders",
    "to_dataset": "loaders",
    "Preview": "previews",
    "preview": "previews",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
