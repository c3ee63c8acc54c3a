"""A project: the graph, its training settings and where it lives on disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from designer.core.annotations import Annotations
from designer.core.graph import Graph
from designer.core.limits import fit_name
from designer.core.origins import Origin
from designer.core.training.config import TrainingConfig

EXTENSION = ".netcanvas"


@dataclass(frozen=True)
class WeightsRef:
    """The trained weights that belong to a project (format 3's optional "weights" field): a
    file beside it whose name is tied to its content, and that content's SHA-256."""

    file: str  # "model.3fa2c1d0b4e5.safetensors"
    sha256: str


@dataclass
class Project:
    graph: Graph = field(default_factory=Graph)
    name: str = "untitled"
    training: TrainingConfig = field(default_factory=TrainingConfig)
    path: Path | None = None
    weights: WeightsRef | None = None
    notes: Annotations = field(default_factory=Annotations)  # frames and comments
    # Where each layer's weights came from (module path -> Origin); saved with the weights.
    weight_origins: dict[str, Origin] = field(default_factory=dict)

    def adopt_file_name(self, path: Path) -> None:
        """An untitled project takes the name of the file it is first saved to (shortened to
        the name limit, so the file opens again)."""
        if self.name == "untitled":
            self.name = fit_name(Path(path).stem) or "untitled"

    @property
    def weights_path(self) -> Path | None:
        """The trained weights beside the project file: the file its "weights" field names
        (beside the file a symlink points to), else model.netcanvas -> model.safetensors (as
        projects saved before format 3 have them)."""
        if self.path is None:
            return None
        if self.weights is not None:
            from designer.core.atomic import target_of

            return target_of(self.path).parent / self.weights.file
        return self.path.with_suffix(".safetensors")
