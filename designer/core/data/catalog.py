"""What the UI lists: the built-in datasets with their titles and docs, and each source's options."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from designer.core.data import pipeline
from designer.core.data.downloads import DOWNLOADS
from designer.core.data.pipeline import BUILTIN_DEFAULTS, SOURCE_DEFAULTS
from designer.core.data.sources import SOURCES


@dataclass(frozen=True)
class DataSource:
    """One entry of the source table (sources.SOURCES), typed: what the picker shows and the
    config accepts. `path` is "" (no file: the built-in datasets), "file" or "folder"."""

    key: str
    title: str
    path: str
    file_filter: str
    defaults: dict
    reader: Callable | None  # pipeline.py's reader; None for the built-in datasets

    @property
    def needs_path(self) -> bool:
        return bool(self.path)


def data_sources() -> tuple[DataSource, ...]:
    """Every data source, in the order the picker lists them."""
    return tuple(
        DataSource(
            key,
            s["title"],
            s["path"],
            s["filter"],
            dict(s["defaults"]),
            pipeline._READERS.get(key),
        )
        for key, s in SOURCES.items()
    )


def csv_columns(path: str | Path) -> list[str]:
    """The header of a CSV file (first row, split as the pipeline splits it), or []."""
    return pipeline.csv_header(path)


@dataclass(frozen=True)
class BuiltinInfo:
    """A built-in dataset: `defaults` are its options (`n`, `noise`, ...), all overridable."""

    name: str
    title: str
    task: str
    doc: str
    input_shape: tuple[int, ...]
    defaults: dict = field(default_factory=dict)


_PLANE = "2-D points, TensorFlow Playground style"
_TABLE = [
    (
        "iris",
        "Iris flowers",
        "classification",
        (4,),
        "150 flowers, 4 measurements, 3 species: the classic first classifier.",
    ),
    (
        "wine",
        "Wine cultivars",
        "classification",
        (13,),
        "178 wines, 13 chemical measurements, 3 cultivars.",
    ),
    (
        "breast_cancer",
        "Breast cancer",
        "classification",
        (30,),
        "569 tumours, 30 cell-nucleus features, malignant or benign.",
    ),
    (
        "digits",
        "Handwritten digits (8×8)",
        "classification",
        (64,),
        "1,797 tiny 8×8 digit images as 64 pixel features in [0, 1]; reshape to 1×8×8 for a CNN.",
    ),
    (
        "moons",
        "Two moons",
        "classification",
        (2,),
        f"{_PLANE}: two interleaving half circles; needs a curved boundary.",
    ),
    (
        "circles",
        "Circles",
        "classification",
        (2,),
        f"{_PLANE}: a disc inside a ring; no straight line separates them.",
    ),
    (
        "spirals",
        "Two spirals",
        "classification",
        (2,),
        f"{_PLANE}: two interleaved spiral arms; hard for small networks.",
    ),
    (
        "xor",
        "XOR",
        "classification",
        (2,),
        f"{_PLANE}: same-sign quadrants against opposite-sign ones.",
    ),
    (
        "blobs",
        "Blobs",
        "classification",
        (2,),
        f"{_PLANE}: Gaussian clusters (option centers); noise is their spread.",
    ),
    (
        "coffee",
        "Coffee by time of day",
        "regression",
        (1,),
        "Cups of coffee needed by hour of day: a morning and an after-lunch peak, plus noise.",
    ),
    (
        "waves",
        "Waves",
        "sequence",
        (32, 1),
        "Noisy sine sequences of 32 steps in 3 frequency classes: a first LSTM task.",
    ),
]

BUILTINS: dict[str, BuiltinInfo] = {
    name: BuiltinInfo(name, title, task, doc, shape, dict(BUILTIN_DEFAULTS[name]))
    for name, title, task, shape, doc in _TABLE
}
assert set(BUILTINS) == set(BUILTIN_DEFAULTS)
_SHAPES = {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
BUILTINS |= {  # downloaded into the user cache on first use
    name: BuiltinInfo(name, d.title, "classification", d.doc, _SHAPES[name])
    for name, d in DOWNLOADS.items()
}


def builtin_names() -> tuple[str, ...]:
    """Names of the built-in datasets, in the order the UI lists them."""
    return tuple(BUILTINS)


def source_options(source: str, name: str = "") -> dict:
    """Default options of a source (for "builtin", of the built-in dataset `name`)."""
    if source == "builtin":
        return dict(BUILTIN_DEFAULTS.get(name, {}))
    return {
        k: list(v) if isinstance(v, list) else v for k, v in SOURCE_DEFAULTS.get(source, {}).items()
    }
