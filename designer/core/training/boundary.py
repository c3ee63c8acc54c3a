"""The decision boundary of a classifier on 2-D inputs (TensorFlow Playground's view): the
predicted class over a grid spanning the data, to draw under the points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from designer.core.training import recipe

RESOLUTION = 80


@dataclass
class Boundary:
    xs: np.ndarray  # grid column centres (feature 0)
    ys: np.ndarray  # grid row centres (feature 1)
    classes: np.ndarray  # (rows, cols) predicted class
    confidence: np.ndarray  # (rows, cols) probability of that class

    def cell_of(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) of the grid cell under each point."""
        dx = self.xs[1] - self.xs[0] if len(self.xs) > 1 else 1.0
        dy = self.ys[1] - self.ys[0] if len(self.ys) > 1 else 1.0
        cols = np.clip(np.round((points[:, 0] - self.xs[0]) / dx).astype(int), 0, len(self.xs) - 1)
        rows = np.clip(np.round((points[:, 1] - self.ys[0]) / dy).astype(int), 0, len(self.ys) - 1)
        return rows, cols

    def agreement(self, points: np.ndarray, labels: np.ndarray) -> float:
        """Fraction of points whose grid cell predicts their label."""
        rows, cols = self.cell_of(points)
        return float((self.classes[rows, cols] == labels).mean()) if len(labels) else 0.0


def is_planar(data) -> bool:
    """2 input features and class labels: a boundary can be drawn."""
    shape = tuple(data.input_shape)
    return shape == (2,) and not np.issubdtype(data.y_train.dtype, np.floating)


def decision_boundary(
    model, points: np.ndarray, loss: str, resolution: int = RESOLUTION, margin: float = 0.1
) -> Boundary:
    """Predict every cell of a `resolution`² grid over `points`' range (plus a margin)."""
    lo, hi = points.min(0), points.max(0)
    pad = (hi - lo) * margin + 1e-6
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            device = next(model.parameters(), torch.empty(0)).device
            out = model(grid.to(device)).float().cpu()
    finally:
        model.train(was_training)
    pred = recipe.predict(out, loss).numpy()
    if out.dim() == 2 and out.shape[1] > 1:
        conf = torch.softmax(out, 1).max(1).values.numpy()
    else:
        p = torch.sigmoid(out[:, 0]) if loss == "bce_with_logits" else out[:, 0].clamp(0, 1)
        conf = torch.maximum(p, 1 - p).numpy()
    shape = (resolution, resolution)
    return Boundary(xs, ys, pred.reshape(shape), conf.reshape(shape))
