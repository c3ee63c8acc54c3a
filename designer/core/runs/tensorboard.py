"""A run's per-epoch scalars as a TensorBoard event file.

NOTE: written through tensorboardX (a maintained, pure-Python writer of TensorBoard's event
format: ~90 kB plus protobuf) rather than torch.utils.tensorboard, which needs the full
`tensorboard` package (the server: ~5.5 MB plus grpcio, werkzeug, markdown and a 6 MB data
server) only to write a file. TensorBoard reads either the same way.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from designer.core.runs.store import Run


def write_scalars(run: Run, logdir: str | os.PathLike) -> Path:
    """Write every metrics.csv column of `run` (train_loss, test_accuracy, lr…) against the
    epoch into <logdir>/<project>/<run id>/. Returns that folder."""
    from tensorboardX import SummaryWriter

    target = Path(logdir) / str(run.info.get("project", "run")) / run.id
    curves = run.curves()
    epochs = curves.pop("epoch", [])
    writer = SummaryWriter(logdir=str(target))
    try:
        for name, values in curves.items():
            for epoch, value in zip(epochs, values, strict=False):
                if math.isfinite(value):
                    writer.add_scalar(name, value, int(epoch))
    finally:
        writer.close()
    return target
