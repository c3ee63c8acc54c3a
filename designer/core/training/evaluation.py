"""Evaluation of a trained model on the test split: confusion matrix (counts and row-
normalised), per-class precision/recall/F1, the most confidently wrong samples; for regression,
predicted vs true and the residuals. Written to a run folder as CSV and PNG.

NOTE: the metrics are scikit-learn's (confusion_matrix, precision_recall_fscore_support,
r2_score), already a dependency, so the numbers are the ones a learner gets from sklearn.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from designer.core.training import recipe

WRONG_SHOWN = 12


@dataclass
class Evaluation:
    task: str  # "classification" or "regression"
    y_true: np.ndarray
    y_pred: np.ndarray
    class_names: tuple[str, ...] = ()
    confidence: np.ndarray | None = None  # probability of the predicted class
    confusion: np.ndarray | None = None  # rows: true class, columns: predicted
    per_class: list[dict] = field(default_factory=list)
    wrong: list[dict] = field(default_factory=list)  # most confident mistakes first
    summary: dict = field(default_factory=dict)

    @property
    def normalized(self) -> np.ndarray:
        """The confusion matrix with each row (true class) summing to 1."""
        assert self.confusion is not None
        rows = self.confusion.sum(1, keepdims=True)
        return np.divide(self.confusion, rows, out=np.zeros(self.confusion.shape), where=rows > 0)

    @property
    def residuals(self) -> np.ndarray:
        return (self.y_pred - self.y_true).astype(np.float64)


def predict_split(model, x: np.ndarray, settings: dict) -> np.ndarray:
    """The model's raw outputs on `x`, in evaluation batches, on the CPU."""
    model = model.cpu().eval()
    xt = torch.as_tensor(np.ascontiguousarray(x))
    if xt.dtype == torch.float64:
        xt = xt.float()
    size = recipe.eval_batch_size(xt, settings["batch_size"])
    outs = []
    with torch.inference_mode():
        for lo in range(0, len(xt), size):
            outs.append(model(xt[lo : lo + size]).float())
    return torch.cat(outs).numpy() if outs else np.zeros((0, 1), np.float32)


def evaluate(model, data, settings: dict, x=None, y=None) -> Evaluation:
    """Evaluate on the test split (or on `x`, `y`)."""
    x = data.x_test if x is None else x
    y = data.y_test if y is None else y
    out = predict_split(model, x, settings)
    if np.issubdtype(y.dtype, np.floating):
        return _regression(out, y)
    return _classification(out, y, data, settings)


def _classification(out: np.ndarray, y: np.ndarray, data, settings: dict) -> Evaluation:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    classes = data.num_classes or int(max(y.max(), out.shape[1] - 1)) + 1
    names = tuple(data.class_names) or tuple(str(i) for i in range(classes))
    logits = torch.as_tensor(out)
    if logits.dim() == 2 and logits.shape[1] == 1:  # one logit: P(class 1)
        p1 = torch.sigmoid(logits[:, 0]) if settings["loss"] == "bce_with_logits" else logits[:, 0]
        probs = torch.stack([1 - p1, p1], 1).clamp(0, 1)
    else:
        probs = torch.softmax(logits, 1)
    pred = recipe.predict(logits, settings["loss"]).numpy()
    conf = probs.max(1).values.numpy()
    labels = list(range(classes))
    cm = confusion_matrix(y, pred, labels=labels)
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    per_class = [
        {"class": names[i], "precision": p[i], "recall": r[i], "f1": f[i], "support": int(s[i])}
        for i in labels
    ]
    wrong_idx = np.flatnonzero(pred != y)
    wrong_idx = wrong_idx[np.argsort(-conf[wrong_idx], kind="stable")][:WRONG_SHOWN]
    wrong = [
        {
            "index": int(i),
            "true": names[y[i]],
            "predicted": names[pred[i]],
            "confidence": float(conf[i]),
        }
        for i in wrong_idx
    ]
    accuracy = float((pred == y).mean()) if len(y) else 0.0
    return Evaluation(
        "classification", y, pred, names, conf, cm, per_class, wrong,
        {"accuracy": accuracy, "test_size": int(len(y)), "wrong": int((pred != y).sum())},
    )  # fmt: skip


def _regression(out: np.ndarray, y: np.ndarray) -> Evaluation:
    from sklearn.metrics import mean_absolute_error, r2_score

    y2 = y.reshape(len(y), -1)
    pred = out.reshape(len(out), -1)[:, : y2.shape[1]]
    summary = {
        "test_size": int(len(y)),
        "r2": float(r2_score(y2, pred)) if len(y) > 1 else float("nan"),
        "mae": float(mean_absolute_error(y2, pred)),
        "rmse": float(np.sqrt(((pred - y2) ** 2).mean())),
    }
    return Evaluation("regression", y2, pred, summary=summary)


def write(ev: Evaluation, out_dir: Path, data=None) -> list[Path]:
    """CSV files and PNG images of the evaluation in `out_dir`; the paths written."""
    from designer.core.training import evaluation_png as png

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if ev.task == "classification":
        assert ev.confusion is not None
        header = ["true \\ predicted", *ev.class_names]
        written.append(_csv(out / "confusion_matrix.csv", header,
            [[n, *map(int, row)] for n, row in zip(ev.class_names, ev.confusion, strict=True)]))  # fmt: skip
        written.append(_csv(out / "confusion_matrix_normalized.csv", header,
            [[n, *(f"{v:.4f}" for v in row)] for n, row in zip(ev.class_names, ev.normalized, strict=True)]))  # fmt: skip
        written.append(_csv(out / "per_class.csv", ["class", "precision", "recall", "f1", "support"],
            [[c["class"], f"{c['precision']:.4f}", f"{c['recall']:.4f}", f"{c['f1']:.4f}", c["support"]] for c in ev.per_class]))  # fmt: skip
        rows = []
        for w in ev.wrong:
            features = data.x_test[w["index"]].reshape(-1)[:16] if data is not None else []
            rows.append([w["index"], w["true"], w["predicted"], f"{w['confidence']:.4f}",
                         " ".join(f"{v:.3g}" for v in features)])  # fmt: skip
        written.append(_csv(out / "most_confident_wrong.csv",
            ["index", "true", "predicted", "confidence", "features"], rows))  # fmt: skip
        written.append(png.confusion_png(ev, out / "confusion_matrix.png"))
        if data is not None and ev.wrong and len(data.input_shape) >= 2:
            written.append(png.wrong_images_png(ev, data, out / "most_confident_wrong.png"))
    else:
        rows = [[*map(float, t), *map(float, p)] for t, p in zip(ev.y_true, ev.y_pred, strict=True)]
        k = ev.y_true.shape[1]
        written.append(_csv(out / "predictions.csv",
            [*(f"true_{i}" for i in range(k)), *(f"predicted_{i}" for i in range(k))], rows))  # fmt: skip
        written.append(png.regression_png(ev, out / "predicted_vs_true.png"))
    return written


def _csv(path: Path, header: list, rows: list[list]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path
