"""The Dataset every loader returns: numpy arrays already split, plus what the UI shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from designer.core.errors import NetcanvasError

Task = Literal["classification", "regression", "sequence"]


class DataError(NetcanvasError):
    """Data that can't be used. The message names the file and the row or column."""


@dataclass
class Dataset:
    """Split arrays. `x_*` are float32 (int64 for token ids); `y_*` int64 class indices for
    classification and for sequence tasks with class_names (waves), else float32 targets (N×k).
    `input_shape` excludes the batch dimension and matches an Input node's shape."""

    name: str
    task: Task
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    input_shape: tuple[int, ...]
    class_names: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    # (mean, std) each shaped like input_shape, from the training rows; x = (raw - mean) / std.
    scaling: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def output_size(self) -> int:
        """Width of the model's last layer: classes, or regression targets."""
        if self.task == "classification" or self.class_names:  # waves: a sequence of classes
            return self.num_classes
        return int(self.y_train.shape[1]) if self.y_train.ndim > 1 else 1
