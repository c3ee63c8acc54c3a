"""Hyperparameter search overhead: per trial, how much time goes to the study's bookkeeping
(Optuna: sampling, reporting and pruning checks, telling, the storage) and to recording the
trial's run folder, against the training itself."""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from designer.core.examples import example_path
from designer.core.project_io import load_project, save_project
from designer.core.runs.search import SearchSettings, open_storage, run_search
from designer.core.runs.space import Dimension, SearchSpace, node_target

TITLE = "Hyperparameter search overhead per trial (Iris MLP; milliseconds, lower is better)"
TRIALS = 20
EPOCHS = (5, 30)
NOTES = f"""
- {TRIALS} trials per row after a 2-trial warm-up, TPE sampler (seed 0), no pruning (every
  trial trains all its epochs, and reports nothing per epoch),
  searching the learning rate (log 1e-4..1) and the hidden width (4..64) of the Iris MLP on the
  CPU, one worker. *training*: preparing the data and model and training (engine events);
  *recording*: the trial's run folder (project, metrics.csv, weights, run.json);
  *Optuna*: everything else in `study.optimize` (sampling, `trial.report`/`should_prune`,
  telling the result, the storage's reads and writes). *overhead* = (recording + Optuna) /
  training. *per trial*: the whole search's wall time / trials (it also opens the storage and
  creates the study).
- Wall times on a machine shared with other jobs (load about 6 on 2 cores when measured):
  absolute times are inflated, the proportions are the point. With pruning on, each epoch's
  `trial.report` is one more storage write (RDB storages: a few ms each).
- SQLite is the default storage (a file beside the project), in WAL mode with
  `synchronous=NORMAL` (commits skip the double fsync; the other workers read while one writes). The journal file appends one line per
  operation. PostgreSQL runs only when NETCANVAS_TEST_POSTGRES_URL names a server
  (`bash .ci/postgres.sh` starts one locally).
"""


def _storages(folder: Path) -> list[tuple[str, str]]:
    out = [
        ("sqlite", f"sqlite:///{folder / 'study.db'}"),
        ("journal", f"journal:{folder / 'j.log'}"),
    ]
    url = os.environ.get("NETCANVAS_TEST_POSTGRES_URL")
    if url:
        out.append(("postgresql", url))
    return out


def run() -> list[dict]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows: list[dict] = []
    folder = Path(tempfile.mkdtemp(prefix="bench-search-"))
    try:
        path = folder / "iris.netcanvas"
        project = load_project(example_path("iris_mlp"))
        project.training = dataclasses.replace(project.training, device="cpu")
        save_project(project, path)
        hidden = project.graph.by_name("hidden").id
        space = SearchSpace(
            [
                Dimension("lr", 1e-4, 1.0, log=True),
                Dimension(node_target(hidden, "out_features"), 4, 64),
            ]
        )
        warm = SearchSettings(trials=2, epochs=2, storage=f"journal:{folder / 'warm.log'}")
        run_search(project, space, warm, folder / "runs" / "warm-up")  # imports, caches
        for epochs in EPOCHS:
            for name, url in _storages(folder):
                study = f"bench-{uuid.uuid4().hex[:8]}"
                settings = SearchSettings(
                    trials=TRIALS, seed=0, pruner="none", epochs=epochs, storage=url, study=study
                )
                began = time.perf_counter()
                result = run_search(project, space, settings, folder / "runs" / study)
                total = time.perf_counter() - began
                if name == "postgresql":
                    optuna.delete_study(study_name=study, storage=open_storage(url))
                n = len(result.trials)
                train_ms = 1000 * result.training_seconds / n
                record_ms = 1000 * result.recording_seconds / n
                optuna_ms = 1000 * result.bookkeeping_seconds / n
                rows.append(
                    {
                        "storage": name,
                        "epochs": epochs,
                        "trials": n,
                        "per trial": 1000 * total / n,
                        "training": train_ms,
                        "recording": record_ms,
                        "Optuna": optuna_ms,
                        "overhead": f"{100 * (record_ms + optuna_ms) / train_ms:.0f}%",
                    }
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows
