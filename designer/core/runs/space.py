"""What a hyperparameter search may change: training settings and layer parameters, each a
range (linear or log) or a list of choices. Pure data: no optuna here (search.py uses it).

A dimension's `target` is a training setting ("lr", "batch_size", "optimizer",
"weight_decay", "momentum") or a layer parameter "node:<id>.<param>" ("node:n2.out_features").
The space is saved beside the project as <stem>.search.json, so the app and every worker of
`netcanvas search` search the same one.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from designer.core.errors import NetcanvasError
from designer.core.training.config import TRAINING_SPECS, TrainingConfig

SEARCHABLE_SETTINGS = ("lr", "batch_size", "optimizer", "weight_decay", "momentum")
NODE_PREFIX = "node:"
SPACE_SUFFIX = ".search.json"


class SpaceError(NetcanvasError):
    """A search dimension that can't apply to this project."""


@dataclass(frozen=True)
class Dimension:
    target: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple | None = None

    @property
    def node_id(self) -> str | None:
        if self.target.startswith(NODE_PREFIX):
            return self.target[len(NODE_PREFIX) :].split(".", 1)[0]
        return None

    @property
    def param(self) -> str:
        return self.target.split(".", 1)[1] if self.node_id is not None else self.target

    def label(self, project) -> str:
        """The name a person reads (and Optuna stores): "lr", "hidden.out_features"."""
        if self.node_id is None:
            return self.target
        node = project.graph.nodes.get(self.node_id)
        return f"{node.name if node else self.node_id}.{self.param}"

    def kind(self, project) -> type:
        return _spec(self, project).kind

    def to_dict(self) -> dict:
        out: dict = {"target": self.target}
        if self.choices is not None:
            out["choices"] = list(self.choices)
        else:
            out |= {"low": self.low, "high": self.high, "log": self.log}
        return out


@dataclass
class SearchSpace:
    dimensions: list[Dimension] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"dimensions": [d.to_dict() for d in self.dimensions]}

    @classmethod
    def from_dict(cls, raw: object) -> SearchSpace:
        if not isinstance(raw, dict) or not isinstance(raw.get("dimensions"), list):
            raise SpaceError("a search space is an object with a list of 'dimensions'")
        dims = []
        for i, d in enumerate(raw["dimensions"]):
            if not isinstance(d, dict) or not isinstance(d.get("target"), str):
                raise SpaceError(f"dimensions[{i}]: expected an object with a 'target'")
            choices = d.get("choices")
            dims.append(
                Dimension(
                    d["target"],
                    d.get("low"),
                    d.get("high"),
                    bool(d.get("log", False)),
                    tuple(choices) if isinstance(choices, list) else None,
                )
            )
        return cls(dims)

    def get(self, target: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.target == target), None)

    def set(self, dim: Dimension) -> None:
        """Add `dim`, replacing any dimension on the same target."""
        self.dimensions = [d for d in self.dimensions if d.target != dim.target] + [dim]

    def remove(self, target: str) -> None:
        self.dimensions = [d for d in self.dimensions if d.target != target]

    def check(self, project) -> None:
        """SpaceError naming the first dimension that can't apply to `project`."""
        if not self.dimensions:
            raise SpaceError("nothing to search: choose at least one setting or layer parameter")
        for d in self.dimensions:
            spec = _spec(d, project)
            where = d.label(project)
            if d.choices is not None:
                if not d.choices:
                    raise SpaceError(f"{where}: no choices given")
                for c in d.choices:
                    _checked(spec, c, where)
                continue
            if spec.kind not in (int, float):
                raise SpaceError(
                    f"{where}: a {spec.kind.__name__} setting takes choices, not a range"
                )
            low, high = d.low, d.high
            if not (isinstance(low, int | float) and isinstance(high, int | float)):
                raise SpaceError(f"{where}: a range needs numbers 'low' and 'high'")
            if not (math.isfinite(low) and math.isfinite(high)) or low > high:
                raise SpaceError(f"{where}: expected low ≤ high, got {low}..{high}")
            if d.log and low <= 0:
                raise SpaceError(f"{where}: a log range must start above 0, got {low}")
            _checked(spec, spec.kind(low), where)
            _checked(spec, spec.kind(high), where)


def _spec(d: Dimension, project):
    if d.node_id is None:
        if d.target not in SEARCHABLE_SETTINGS:
            raise SpaceError(
                f"{d.target}: not a searchable setting (one of {', '.join(SEARCHABLE_SETTINGS)}, "
                "or a layer parameter)"
            )
        return TRAINING_SPECS[d.target]
    node = project.graph.nodes.get(d.node_id)
    if node is None:
        raise SpaceError(f"{d.target}: the project has no layer with id {d.node_id!r}")
    names = [p.name for p in node.spec.params]
    if d.param not in names:
        raise SpaceError(f"{d.label(project)}: {node.spec.title} has no parameter {d.param!r}")
    return node.spec.param(d.param)


def _checked(spec, value, where):
    try:
        return spec.check(value)
    except NetcanvasError as e:
        raise SpaceError(f"{where}: {e}") from None


def node_target(node_id: str, param: str) -> str:
    return f"{NODE_PREFIX}{node_id}.{param}"


def apply(project, values: dict[str, object]):
    """A copy of `project` with the searched values (target -> value) set. The original is
    left untouched."""
    graph = project.graph.copy()
    settings = {}
    for target, value in values.items():
        d = Dimension(target)
        if d.node_id is None:
            settings[target] = value
        else:
            graph.set_param(d.node_id, d.param, value)
    training = project.training
    if settings:
        training = TrainingConfig.from_dict(training.to_dict() | settings)
    return dataclasses.replace(project, graph=graph, training=training)


def space_path(project_path: str | os.PathLike) -> Path:
    p = Path(project_path)
    return p.with_name(p.stem + SPACE_SUFFIX)


def load_space(path: str | os.PathLike) -> SearchSpace:
    path = Path(path)
    try:
        return SearchSpace.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise SpaceError(f"{path}: no such file") from None
    except (OSError, ValueError) as e:
        raise SpaceError(f"{path}: not a search space ({e})") from None


def save_space(space: SearchSpace, path: str | os.PathLike) -> Path:
    from designer.core.project_io import atomic_write

    path = Path(path)
    atomic_write(path, (json.dumps(space.to_dict(), indent=2) + "\n").encode("utf-8"))
    return path
