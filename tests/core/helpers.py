"""Small graph builders shared by the core tests."""

from __future__ import annotations

import dataclasses

from designer.core.examples import example_path
from designer.core.graph import Edge, Graph
from designer.core.project_io import load_project, save_project


def chain(*layers: tuple[str, dict], input_shape=(4,), name_prefix="") -> Graph:
    """Input -> layers... -> Output, wired in order. Each layer is (type_id, params)."""
    g = Graph()
    prev = g.add_node("input", name="input", params={"shape": tuple(input_shape)})
    for i, (type_id, params) in enumerate(layers):
        node = g.add_node(
            type_id, name=f"{name_prefix}{type_id}{i + 1}", params=params, pos=(i * 200.0, 0.0)
        )
        g.connect(Edge(prev.id, node.id))
        prev = node
    out = g.add_node("output", name="output")
    g.connect(Edge(prev.id, out.id))
    return g


def example(name: str, data: dict | None = None, **settings):
    """An example project with some training (and data) settings replaced."""
    project = load_project(example_path(name))
    cfg = project.training
    project.training = dataclasses.replace(
        cfg, data=dataclasses.replace(cfg.data, **(data or {})), **settings
    )
    return project


def iris_file(tmp_path, epochs: int = 2):
    """The Iris example saved as tmp_path/iris.netcanvas, on the CPU, with `epochs`."""
    target = tmp_path / "iris.netcanvas"
    project = load_project(example_path("iris_mlp"))
    project.training = dataclasses.replace(project.training, epochs=epochs, device="cpu")
    save_project(project, target)
    return target


def add_dropout(graph, name: str = "drop", before: str = "logits", p: float = 0.3) -> str:
    """Insert a Dropout named `name` on the edge into layer `before`; returns its id."""
    dst = graph.by_name(before)
    (edge,) = graph.incoming(dst.id)
    graph.disconnect(edge)
    drop = graph.add_node("dropout", name=name, params={"p": p})
    graph.connect(Edge(edge.src, drop.id))
    graph.connect(Edge(drop.id, dst.id))
    return drop.id


def assert_ruff_clean(path) -> None:
    """`path` passes ruff check and ruff format with ruff's defaults (as a user's project)."""
    import subprocess
    import sys

    ruff = [sys.executable, "-m", "ruff"]
    lint = [*ruff, "check", "--isolated", "--select", "E,F,W,I,B,UP", "-q", str(path)]
    assert subprocess.run(lint, check=False).returncode == 0
    fmt = [*ruff, "format", "--isolated", "--check", "-q", str(path)]
    assert subprocess.run(fmt, check=False).returncode == 0


def deep_sigmoid(depth: int = 8, epochs: int = 3):
    """`depth` Linear+Sigmoid layers on the digits (Adam 1e-3): the vanishing-gradient lesson."""
    from designer.core.project import Project
    from designer.core.training.config import DataConfig, TrainingConfig

    layers: list[tuple[str, dict]] = []
    for _ in range(depth):
        layers += [("linear", {"out_features": 64}), ("sigmoid", {})]
    graph = chain(*layers, ("linear", {"out_features": 10}), input_shape=(64,))
    config = TrainingConfig(lr=1e-3, epochs=epochs, device="cpu", data=DataConfig(name="digits"))
    return Project(name="deep_sigmoid", graph=graph, training=config)


def overfitting_mlp(epochs: int = 12):
    """A 2×256 MLP on 60 noisy moons points (85 % held out): the overfitting lesson."""
    from designer.core.project import Project
    from designer.core.training.config import DataConfig, TrainingConfig

    graph = chain(
        ("linear", {"out_features": 256}), ("relu", {}),
        ("linear", {"out_features": 256}), ("relu", {}),
        ("linear", {"out_features": 2}), input_shape=(2,),
    )  # fmt: skip
    data = DataConfig(name="moons", options={"noise": 0.35, "n": 400}, test_fraction=0.85)
    config = TrainingConfig(lr=0.01, batch_size=8, epochs=epochs, device="cpu", data=data)
    return Project(name="overfit", graph=graph, training=config)
