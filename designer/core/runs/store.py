"""The run history: one folder per training run under the project's runs folder, never
overwritten.

    <project folder>/runs/<project stem>/<YYYYmmdd-HHMMSS>-<6 hex>/
        run.json             id, created, source, status, device, versions, wall_seconds,
                             epochs, final, best, best_epoch, diagnoses, trial (search only)
        project.netcanvas    the exact project that was trained (graph and settings as run)
        metrics.csv          one row per epoch (the columns train_to_dir writes)
        weights.safetensors  the trained weights (absent when the run failed before training)

NOTE: the folder is created with mkdir(exist_ok=False), so two runs started in the same second
(or by two search workers) can never share or overwrite one.
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import secrets
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from designer.core.errors import NetcanvasError

RUN_FILE = "run.json"
PROJECT_FILE = "project.netcanvas"
METRICS_FILE = "metrics.csv"
WEIGHTS_FILE = "weights.safetensors"
STATUSES = ("running", "finished", "stopped", "pruned", "failed")


class RunError(NetcanvasError):
    """A run folder that is missing or unreadable."""


def runs_root(project_path: str | os.PathLike | None, name: str = "untitled") -> Path:
    """Where a project's runs live: runs/<stem>/ beside the project file (or, for an unsaved
    project, under $NETCANVAS_RUNS_DIR or ~/.netcanvas/runs, in <name>/)."""
    if project_path:
        p = Path(project_path)
        return p.parent / "runs" / p.stem
    base = os.environ.get("NETCANVAS_RUNS_DIR") or Path.home() / ".netcanvas" / "runs"
    return Path(base) / (name or "untitled")


def new_run_dir(root: str | os.PathLike) -> Path:
    """A fresh, empty run folder under `root`: <UTC time stamp>-<short random id>."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        path = root / f"{stamp}-{secrets.token_hex(3)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise RunError(f"{root}: could not create a new run folder")


def versions() -> dict[str, str]:
    """The versions a run was made with (so a result can be reproduced later)."""
    from designer import __version__

    out = {"netcanvas": __version__, "python": platform.python_version()}
    for module in ("torch", "numpy", "optuna"):
        mod = sys.modules.get(module)
        if mod is not None:
            out[module] = getattr(mod, "__version__", "?")
    out["platform"] = platform.platform(terse=True)
    return out


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_info(run_dir: Path, info: dict) -> None:
    from designer.core.project_io import atomic_write

    text = json.dumps(info, indent=2, default=_jsonable, allow_nan=False)
    atomic_write(Path(run_dir) / RUN_FILE, (text + "\n").encode("utf-8"))


def _jsonable(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON data")


def clean_info(info: dict) -> dict:
    """run.json data made JSON-safe (see `clean`)."""
    return {k: clean(v) for k, v in info.items()}


def clean(value: object) -> object:
    """JSON-safe copy: NaN/inf become None (strict JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


@dataclass
class Run:
    """A recorded run, as read back from its folder."""

    path: Path
    info: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def status(self) -> str:
        return self.info.get("status", "?")

    @property
    def created(self) -> str:
        return self.info.get("created", "")

    @property
    def settings(self) -> dict:
        return self.info.get("settings", {})

    def metric(self, name: str) -> float | None:
        """A final metric (test_accuracy, test_loss…), `best.NAME`, or a run fact (epochs,
        wall_seconds, samples_per_second); None when the run has no such value."""
        if name.startswith("best."):
            value = self.info.get("best", {}).get(name[5:])
        elif name in self.info.get("final", {}):
            value = self.info["final"][name]
        else:
            value = self.info.get(name)
        return float(value) if isinstance(value, int | float) and value is not None else None

    def metric_names(self) -> list[str]:
        final = list(self.info.get("final", {}))
        return final + [f"best.{k}" for k in self.info.get("best", {})]

    def curves(self) -> dict[str, list[float]]:
        """metrics.csv as columns: name -> values per epoch (NaN where a cell is empty)."""
        return read_metrics(self.path / METRICS_FILE)

    def project(self):
        """The exact project this run trained."""
        from designer.core.project_io import load_project

        project = load_project(self.path / PROJECT_FILE)
        project.path = None  # a snapshot, not a file the user edits
        return project

    @property
    def weights_path(self) -> Path | None:
        path = self.path / WEIGHTS_FILE
        return path if path.is_file() else None


def read_metrics(path: Path) -> dict[str, list[float]]:
    if not path.is_file():
        return {}
    columns: dict[str, list[float]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for key, cell in row.items():
                if key is None:
                    continue
                try:
                    value = float(cell) if cell not in ("", None) else math.nan
                except ValueError:
                    value = math.nan
                columns.setdefault(key, []).append(value)
    return columns


def load_run(path: str | os.PathLike) -> Run:
    """The run in folder `path`. RunError if it is not a run folder."""
    path = Path(path)
    try:
        info = json.loads((path / RUN_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path}: not a run folder (no {RUN_FILE})") from None
    except (OSError, ValueError) as e:
        raise RunError(f"{path}: unreadable {RUN_FILE} ({e})") from None
    if not isinstance(info, dict):
        raise RunError(f"{path}: {RUN_FILE} is not an object")
    return Run(path, info)


def list_runs(root: str | os.PathLike) -> list[Run]:
    """Every readable run under `root`, oldest first (by their creation time)."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = []
    for child in sorted(root.iterdir()):
        if (child / RUN_FILE).is_file():
            try:
                runs.append(load_run(child))
            except RunError:
                continue
    return sorted(runs, key=lambda r: (r.created, r.id))


def find_run(name: str, root: str | os.PathLike | None = None) -> Run:
    """A run named by its folder path, its folder name or a unique prefix/suffix of its id."""
    path = Path(name)
    if (path / RUN_FILE).is_file():
        return load_run(path)
    if root is not None:
        hits = [r for r in list_runs(root) if r.id == name or name in r.id]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise RunError(f"{name}: matches {len(hits)} runs ({', '.join(r.id for r in hits)})")
    raise RunError(f"{name}: no such run")


def latest_fitting_weights(project) -> Run | None:
    """The newest finished run of `project` whose weights fit its model as it is now (a run
    from before an edit that changed a layer's shape does not), else None."""
    from designer.core.compiler import build_model
    from designer.core.weights import WeightsError, check_fits, read_header

    candidates = [
        r
        for r in reversed(list_runs(runs_root(project.path, project.name)))
        if r.status == "finished" and r.weights_path is not None
    ]
    if not candidates:
        return None
    model, _source = build_model(project.graph, project.name)
    expected = model.state_dict()
    for run in candidates:
        path = run.weights_path
        if path is None:  # removed since it was listed
            continue
        try:
            found = {k: v.shape for k, v in read_header(path).items()}
            check_fits(expected, found, "weights")
        except WeightsError:
            continue
        return run
    return None
