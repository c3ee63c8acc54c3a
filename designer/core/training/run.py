"""Train a project without the app (`netcanvas train`): progress bar, metrics and weights on disk.

Files written to the output folder:
- metrics.csv: epoch, then one column per metric of the run (EpochEnd.metrics, in
  recipe.METRICS order: train_loss, test_loss, [val_loss], [accuracies], lr), then seconds
  (the epoch's wall time);
- summary.json: project, device, epochs, samples_per_second, final {every metric of the
  weights written}, best {...}, best_epoch, stopped_early, notes, diagnoses [{key, title,
  message, epoch, epochs, evidence, remedies, suggested_flag}] from the training doctor;
- weights.safetensors: the trained weights (the best epoch's when early stopping is on);
- a copy of the project file (<name>.netcanvas).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import shutil
from pathlib import Path

from designer.core.errors import NetcanvasError
from designer.core.training.engine import notes, prepare, train
from designer.core.training.events import BatchEnd, EpochEnd, Failed, Finished, Started
from designer.core.training.prepare import node_of


def train_to_dir(
    project,
    out_dir,
    epochs: int | None = None,
    device: str | None = None,
    progress: bool = True,
    copy_project: bool = True,
) -> dict:
    """Train `project` (its settings, with `epochs`/`device` overridden for this run only) and
    write the files above into `out_dir`. Returns {epochs, final metrics…, best_epoch,
    samples_per_second, diagnoses} (the CLI prints it). `copy_project=False` leaves the project
    file out (a run folder holds the project as run already). A failed run raises NetcanvasError with
    the one-line reason. The training doctor watches the run: its diagnoses are printed as they
    come (stderr) and listed in summary.json."""
    from designer.core.training.doctor.watch import Diagnosed, context_for, doctored

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    overrides = {k: v for k, v in (("epochs", epochs), ("device", device)) if v is not None}
    config = dataclasses.replace(project.training, **overrides)
    model, source, data = prepare(dataclasses.replace(project, training=config))
    rows: list[dict] = []
    diagnoses: list[dict] = []
    started = finished = None
    elapsed = 0.0
    bar = _Bar(progress)
    bar.note(
        memory_line(model, data, config, project.graph)
    )  # the first line: what the run will hold
    for note in data.notes:
        if note.startswith(("warm start", "streamed")):
            bar.note(note)
    ctx = context_for(model, data, config, project.graph, node_of(source))
    events = doctored(train(model, data, config, node_of=node_of(source)), model, data, config, ctx)
    try:
        for event in events:
            if isinstance(event, Diagnosed):
                diagnoses.append(event.diagnosis.to_dict())
                bar.note(_said(diagnoses[-1]))
            elif isinstance(event, Failed):
                raise NetcanvasError(event.message)
            if isinstance(event, Started):
                started = event
                for note in notes(config, event.device):
                    bar.note(note)
                bar.start(event.epochs * event.steps_per_epoch, event.epochs)
            elif isinstance(event, BatchEnd):
                bar.update(event.step, event.epoch, event.loss)
            elif isinstance(event, EpochEnd):
                rows.append(metrics_row(event))
                elapsed = event.elapsed
                loss = event.metrics["train_loss"]
                bar.update(event.epoch * started.steps_per_epoch, event.epoch, loss)
            elif isinstance(event, Finished):
                finished = event
    finally:
        bar.stop()

    write_metrics(out / "metrics.csv", rows)
    _save_weights(model, out / "weights.safetensors")
    if copy_project:
        write_project_copy(project, out)
    summary = {
        "project": project.name,
        "device": started.device,
        "epochs": finished.epochs_run,
        "samples_per_second": started.train_size * len(rows) / elapsed if elapsed else 0.0,
        "final": _final(finished.final),
        "best": _final(finished.best),
        "best_epoch": finished.best_epoch,
        "stopped_early": finished.stopped_early,
        "notes": notes(config, started.device),
        "diagnoses": diagnoses,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return {
        "epochs": finished.epochs_run,
        **summary["final"],
        "best_epoch": finished.best_epoch,
        "samples_per_second": round(summary["samples_per_second"]),
        "diagnoses": diagnoses,
    }


def _said(diagnosis: dict) -> str:
    """A diagnosis as the CLI prints it: the message, then the flag that applies the fix."""
    flag = diagnosis.get("suggested_flag")
    return diagnosis["message"] + (f"\n  try: {flag}" if flag else "")


def _final(metrics: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in metrics.items() if math.isfinite(v)}


def metrics_row(event: EpochEnd) -> dict:
    """The metrics.csv row of one epoch: epoch, its metrics, seconds."""
    return {"epoch": event.epoch, **event.metrics, "seconds": event.seconds}


def write_metrics(path: Path, rows: list[dict]) -> None:
    """One row per epoch; a column per metric that any epoch has (blank where one lacks it)."""
    columns = list(dict.fromkeys(k for row in rows for k in row)) or ["epoch"]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, columns, restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: round(v, 4) if k == "seconds" else v for k, v in row.items()})


def _save_weights(model, path: Path) -> None:
    from designer.core.weights import save_weights

    save_weights(model, path)


def write_project_copy(project, out: Path) -> None:
    """The project's file copied into `out` as it is on disk (an unsaved one written out)."""
    from designer.core.project import EXTENSION

    src = Path(project.path) if project.path else None
    if src is not None and src.is_file():
        target = out / src.name
        if not target.exists() or not target.samefile(src):
            shutil.copyfile(src, target)
        return
    from designer.core.project_io import project_bytes  # an unsaved project: write it out

    (out / f"{project.name}{EXTENSION}").write_bytes(project_bytes(project))


class _Bar:
    """A rich progress bar on stderr (loss and ETA), or nothing when progress is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress = None
        self.task = None

    def note(self, text: str) -> None:
        if self.enabled:
            from rich.console import Console

            Console(stderr=True, highlight=False).print(f"note: {text}", soft_wrap=True)

    def start(self, total: int, epochs: int) -> None:
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"),
            BarColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.progress.start()
        self.task = self.progress.add_task("train", total=total, epoch=1, epochs=epochs, loss="…")

    def update(self, step: int, epoch: int, loss: float) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=step, epoch=epoch, loss=f"{loss:.4f}")

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def memory_line(model, data, config, graph=None) -> str:
    """The memory plan of a run, for `train`'s first line and the app as it starts."""
    from designer.core.training.memory import plan
    from designer.core.training.recipe import pick_device

    try:
        device = pick_device(config.device).type
    except ValueError:
        device = "cpu"
    return plan(model, data, config, device, graph).text()
