"""A small, UI-ready look at a Dataset: first samples, shapes and class counts per split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from designer.core.data.dataset import Dataset


@dataclass(frozen=True)
class Preview:
    """What the preview pane shows. Tabular data (x of rank 2) fills `columns` and `rows`
    (feature values as the model sees them, then the target); images and sequences fill
    `samples` with the first arrays instead. `labels` are the first targets as text."""

    name: str
    task: str
    input_shape: tuple[int, ...]
    shapes: dict[str, tuple[int, ...]]  # split -> x shape, batch dimension included
    columns: tuple[str, ...]
    rows: tuple[tuple[float | str, ...], ...]
    samples: tuple[np.ndarray, ...]
    labels: tuple[str, ...]
    class_counts: dict[str, dict[str, int]]  # split -> class name -> samples
    notes: tuple[str, ...]

    @property
    def summary(self) -> str:
        """One line, e.g. "iris · classification · 3 classes · 120 train / 30 test"."""
        sizes = " / ".join(f"{shape[0]} {split}" for split, shape in self.shapes.items())
        kind = (
            f"{len(self.class_counts.get('train', {}))} classes"
            if self.class_counts
            else (f"input {'×'.join(map(str, self.input_shape))}")
        )
        return f"{self.name} · {self.task} · {kind} · {sizes}"


def preview(ds: Dataset, n: int = 8) -> Preview:
    """The first `n` training samples of `ds`, its shapes and its class counts per split."""
    splits = {"train": (ds.x_train, ds.y_train)}
    if ds.x_val is not None and ds.y_val is not None:
        splits["val"] = (ds.x_val, ds.y_val)
    splits["test"] = (ds.x_test, ds.y_test)
    x, y = ds.x_train[:n], ds.y_train[:n]
    labels = tuple(_label(ds, value) for value in y)
    tabular = x.ndim == 2
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[float | str, ...], ...] = ()
    samples: tuple[np.ndarray, ...] = ()
    if tabular:
        names = ds.feature_names or tuple(f"x{i + 1}" for i in range(x.shape[1]))
        columns = (*names, "target")
        rows = tuple(
            (*(float(v) for v in row), label) for row, label in zip(x, labels, strict=True)
        )
    else:
        samples = tuple(np.array(sample) for sample in x)
    counts = {}
    if ds.class_names:
        for split, (_, ys) in splits.items():
            found = np.bincount(ys, minlength=len(ds.class_names))
            counts[split] = {c: int(k) for c, k in zip(ds.class_names, found, strict=False)}
    return Preview(
        name=ds.name,
        task=ds.task,
        input_shape=tuple(ds.input_shape),
        shapes={split: tuple(xs.shape) for split, (xs, _) in splits.items()},
        columns=columns,
        rows=rows,
        samples=samples,
        labels=labels,
        class_counts=counts,
        notes=tuple(ds.notes),
    )


def _label(ds: Dataset, value: np.ndarray) -> str:
    if ds.class_names:
        return ds.class_names[int(value)]
    return ", ".join(f"{float(v):.4g}" for v in np.ravel(value))
