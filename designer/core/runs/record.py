"""Recording a training run into the run history (see store.py for the folder layout).

Two ways in, one record out:
- `RunRecorder.observe(event)` for front ends that drive the engine themselves (the app's
  worker, each search trial), then `finish(model)`;
- `record_cli_run` for `netcanvas train`, which trains through `train_to_dir` into the new
  run folder and then completes the record from the files it wrote.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

from designer.core.runs import store
from designer.core.training.events import EpochEnd, Failed, Finished, Started


def epoch_metrics(event: EpochEnd) -> dict[str, float]:
    """The metrics of one epoch by name (EpochEnd.metrics)."""
    return {k: float(v) for k, v in event.metrics.items() if isinstance(v, int | float)}


def effective(project, **overrides):
    """`project` with training settings replaced for one run (epochs=3, lr=0.1…)."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if not overrides:
        return project
    return dataclasses.replace(project, training=dataclasses.replace(project.training, **overrides))


class RunRecorder:
    """Creates the run folder at once (status "running") and completes it in `finish`."""

    def __init__(self, project, root, *, source: str = "app", trial: dict | None = None) -> None:
        from designer.core.project_io import atomic_write, project_bytes

        self.project = project
        self.dir = store.new_run_dir(root)
        self.rows: list[dict] = []
        self.elapsed = 0.0  # training time so far (EpochEnd.elapsed)
        self.epochs: list[dict[str, float]] = []
        self.started: Started | None = None
        self.finished: Finished | None = None
        self.failed: Failed | None = None
        self._t0 = time.perf_counter()
        atomic_write(self.dir / store.PROJECT_FILE, project_bytes(project))
        self.info: dict = {
            "id": self.dir.name,
            "created": store.now(),
            "source": source,
            "status": "running",
            "project": project.name,
            "project_file": str(project.path) if project.path else None,
            "settings": project.training.to_dict(),
            "versions": store.versions(),
        }
        if trial is not None:
            self.info["trial"] = trial
        store.write_info(self.dir, self.info)

    # -- events ----------------------------------------------------------------------------
    def observe(self, event) -> None:
        from designer.core.training.run import metrics_row  # the row train_to_dir writes

        if isinstance(event, Started):
            self.started = event
        elif isinstance(event, EpochEnd):
            self.rows.append(metrics_row(event))
            self.elapsed = event.elapsed
            self.epochs.append(epoch_metrics(event))
        elif isinstance(event, Finished):
            self.finished = event
        elif isinstance(event, Failed):
            self.failed = event

    def finish(self, model=None, status: str | None = None, diagnoses=None) -> store.Run:
        """Write metrics.csv, the weights (when `model` trained) and the completed run.json.

        `status` defaults from the events: failed, stopped (by the user) or finished.
        `diagnoses` (the doctor's, as dicts) default to the curve detectors replayed over the
        recorded epochs.
        """
        from designer.core.training.run import write_metrics

        write_metrics(self.dir / store.METRICS_FILE, self.rows)
        if status is None:
            if self.failed is not None:
                status = "failed"
            elif self.finished is None or self.finished.stopped_by_user:
                status = "stopped"
            else:
                status = "finished"
        if model is not None and self.failed is None and self.rows:
            from designer.core.weights import save_weights

            save_weights(model, self.dir / store.WEIGHTS_FILE)
        wall = time.perf_counter() - self._t0
        info = self.info | {"status": status, "wall_seconds": round(wall, 4)}
        if self.started is not None:
            elapsed = self.elapsed if self.rows else 0.0
            info |= {
                "device": self.started.device,
                "num_params": self.started.num_params,
                "samples_per_second": (
                    self.started.train_size * len(self.rows) / elapsed if elapsed else 0.0
                ),
            }
        info["epochs"] = len(self.rows)
        if self.finished is not None:
            info |= {
                "final": _finite(self.finished.final),
                "best": _finite(self.finished.best),
                "best_epoch": self.finished.best_epoch,
                "stopped_early": self.finished.stopped_early,
            }
        elif self.epochs:  # stopped from outside (a pruned trial): the last epoch is final
            best_i = min(range(len(self.epochs)), key=lambda i: _score(self.epochs[i]))
            info |= {
                "final": _finite(self.epochs[-1]),
                "best": _finite(self.epochs[best_i]),
                "best_epoch": best_i + 1,
            }
        if self.failed is not None:
            info["failure"] = {"kind": self.failed.kind, "message": self.failed.message}
        if diagnoses is None:
            diagnoses = replay_diagnoses(self.project.training.to_dict(), self.epochs, self.rows)
        info["diagnoses"] = list(diagnoses)
        self.info = store.clean_info(info)
        store.write_info(self.dir, self.info)
        return store.Run(self.dir, self.info)

    def update(self, **fields) -> None:
        """Change fields of run.json after the fact (a trial's final state and value)."""
        self.info = store.clean_info(self.info | fields)
        store.write_info(self.dir, self.info)


def record_cli_run(project, root, *, epochs=None, device=None, progress=True, out=None):
    """`netcanvas train`: train through train_to_dir into a new run folder, complete its
    run.json, and copy the files to `out` too when given. Returns (result, Run)."""
    import shutil

    from designer.core.errors import NetcanvasError
    from designer.core.training.run import train_to_dir, write_project_copy

    run_project = effective(project, epochs=epochs, device=device)
    recorder = RunRecorder(run_project, root, source="cli")
    try:
        result = train_to_dir(  # the recorder wrote the project as run: no second copy
            project,
            recorder.dir,
            epochs=epochs,
            device=device,
            progress=progress,
            copy_project=False,
        )
    except NetcanvasError as e:
        recorder.update(status="failed", failure={"kind": "error", "message": str(e)})
        raise
    summary = _read_json(recorder.dir / "summary.json")
    info = recorder.info | {
        "status": "finished",
        "wall_seconds": round(time.perf_counter() - recorder._t0, 4),
        "device": summary.get("device"),
        "epochs": summary.get("epochs"),
        "samples_per_second": summary.get("samples_per_second"),
        "final": summary.get("final", {}),
        "best": summary.get("best", {}),
        "best_epoch": summary.get("best_epoch"),
        "stopped_early": summary.get("stopped_early", False),
        "diagnoses": summary.get("diagnoses", []),
    }
    recorder.update(**info)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for item in recorder.dir.iterdir():
            if item.name not in (store.RUN_FILE, store.PROJECT_FILE) and item.is_file():
                shutil.copyfile(item, out / item.name)
        write_project_copy(project, out)
    return result, store.Run(recorder.dir, recorder.info)


def replay_diagnoses(settings: dict, epochs: list[dict], rows: list[dict]) -> list[dict]:
    """The doctor's curve detectors run epoch by epoch over a finished run's metrics, as they
    would have run live (without layer health or the number of classes, which a recording of
    events alone doesn't have)."""
    from designer.core.training.doctor import Context, diagnose

    ctx = Context(settings)
    found = []
    for metrics, row in zip(epochs, rows, strict=False):
        ctx.history.append({"epoch": row.get("epoch"), "lr": row.get("lr")} | metrics)
        found += [d.to_dict() for d in diagnose(ctx)]
    return found


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _finite(metrics: dict) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and math.isfinite(float(v))
    }


def _score(metrics: dict[str, float]) -> float:
    value = metrics.get("val_loss", metrics.get("test_loss", metrics.get("train_loss", math.inf)))
    return value if math.isfinite(value) else math.inf
