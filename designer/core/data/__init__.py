"""Datasets: built-in sets that work offline and the user's own files (CSV, npz, images, IDX).

The arrays come from `pipeline.py`, a self-contained module that exported train.py scripts
embed (`pipeline_source()`), so the app and the script train on identical data.
"""

from designer.core.data.catalog import (
    BUILTINS,
    BuiltinInfo,
    builtin_names,
    source_options,
)
from designer.core.data.dataset import DataError, Dataset
from designer.core.data.loaders import load_dataset, pipeline_source, to_dataset
from designer.core.data.preview import Preview, preview

__all__ = [
    "BUILTINS",
    "BuiltinInfo",
    "DataError",
    "Dataset",
    "Preview",
    "builtin_names",
    "load_dataset",
    "pipeline_source",
    "preview",
    "source_options",
    "to_dataset",
]
