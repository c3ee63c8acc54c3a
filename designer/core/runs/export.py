"""Runs as CSV: one row per run (settings and results), or one row per run and epoch."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from designer.core.runs.diff import flatten
from designer.core.runs.store import Run

RUN_COLUMNS = ("run", "created", "status", "source", "device", "epochs", "wall_seconds")


def summary_rows(runs: list[Run]) -> list[dict]:
    rows = []
    for run in runs:
        row = {"run": run.id} | {k: run.info.get(k) for k in RUN_COLUMNS[1:]}
        trial = run.info.get("trial")
        if trial:
            row |= {"trial": trial.get("number"), "trial_state": trial.get("state")}
        row |= {f"final.{k}": v for k, v in run.info.get("final", {}).items()}
        row |= {f"best.{k}": v for k, v in run.info.get("best", {}).items()}
        row |= {"best_epoch": run.info.get("best_epoch")}
        row |= {f"settings.{k}": v for k, v in flatten(run.settings).items() if k != "options"}
        rows.append(row)
    return rows


def export_csv(runs: list[Run], path: str | os.PathLike, per_epoch: bool = False) -> Path:
    """Write `runs` to `path`: a row per run, or with `per_epoch` a row per run and epoch."""
    if per_epoch:
        rows = []
        for run in runs:
            curves = run.curves()
            n = max((len(v) for v in curves.values()), default=0)
            rows += [{"run": run.id} | {k: v[i] for k, v in curves.items()} for i in range(n)]
    else:
        rows = summary_rows(runs)
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, columns or list(RUN_COLUMNS))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return path
