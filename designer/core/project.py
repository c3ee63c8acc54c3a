"""A project: the graph, its training settings and where it lives on disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from designer.core.graph import Graph
from designer.core.limits import fit_name
from designer.core.training.config import TrainingConfig

EXTENSION = ".netcanvas"


@dataclass
class Project:
    graph: Graph = field(default_factory=Graph)
    name: str = "untitled"
    training: TrainingConfig = field(default_factory=TrainingConfig)
    path: Path | None = None

    def adopt_file_name(self, path: Path) -> None:
        """An untitled project takes the name of the file it is first saved to (shortened to
        the name limit, so the file opens again)."""
        if self.name == "untitled":
            self.name = fit_name(Path(path).stem) or "untitled"

    @property
    def weights_path(self) -> Path | None:
        """Trained weights live beside the project: model.netcanvas -> model.safetensors."""
        return self.path.with_suffix(".safetensors") if self.path else None
