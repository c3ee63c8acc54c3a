"""Project -> (model, source, dataset), checked so that training can start.

Every mismatch between the graph and the data is caught here, before any step runs, with a
message that names both sides and what to change.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from designer.core.analysis import analyze
from designer.core.codegen import PythonSource
from designer.core.compiler import build_model
from designer.core.data.dataset import Dataset
from designer.core.errors import NetcanvasError
from designer.core.graph import Graph
from designer.core.layers.spec import Shape, format_shape
from designer.core.pyformat import literal
from designer.core.training.config import TrainingConfig
from designer.core.training.init import initialize
from designer.core.training.memory import budget_bytes


def prepare(project, base_dir: Path | None = None):
    """Compile the project's graph and load its dataset, shaped for the model's Input.

    Returns (model, source, dataset). The model is built under the project's seed and
    initialised as the project says (per-node `init` overrides the project's `init`).
    Raises NetcanvasError (DataError for data problems) with one clear message.
    """
    from designer.core.data import load_dataset  # lazy: the data package is large

    config: TrainingConfig = project.training
    if base_dir is None and project.path is not None:
        base_dir = Path(project.path).parent
    torch.manual_seed(config.seed)
    model, source = build_model(project.graph, project.name)
    initialize(model, config.init, per_layer_init(project.graph, source))
    data = load_dataset(config.data, base_dir, budget_bytes(config))
    data = fit_to_input(data, project.graph, source)
    check_output(data, project.graph, source, config.loss)
    if config.init_from:  # warm start: unchanged layers keep the file's weights
        from designer.core.pretrained import warm_start_file

        where = Path(config.init_from).expanduser()
        report = warm_start_file(model, project.graph, source, Path(base_dir or ".") / where)
        data.notes.append(f"warm start from {where.name}: {report.summary()}")
    return model, source, data


def per_layer_init(graph: Graph, source: PythonSource) -> dict[str, str]:
    """Attribute name -> scheme for the nodes whose own `init` is not "default"."""
    return {
        source.attr_names[n.id]: n.init
        for n in graph.nodes.values()
        if n.init != "default" and n.id in source.attr_names
    }


def node_of(source: PythonSource) -> dict[str, str]:
    """Attribute name -> node id, to name the node in runtime errors."""
    return {attr: node_id for node_id, attr in source.attr_names.items()}


def fit_to_input(data: Dataset, graph: Graph, source: PythonSource) -> Dataset:
    """The dataset with samples reshaped to the Input's shape (digits 64 -> 1×8×8)."""
    if len(source.input_ids) != 1 or len(source.output_ids) != 1:
        raise NetcanvasError(
            f"training needs a model with one Input and one Output; this one has "
            f"{len(source.input_ids)} and {len(source.output_ids)}"
        )
    node = graph.nodes[source.input_ids[0]]
    want: Shape = tuple(source.input_shapes[0])
    have: Shape = tuple(data.input_shape)
    if have == want:
        return data
    if int(np.prod(have)) != int(np.prod(want)):
        raise NetcanvasError(
            f"{data.name} gives samples of shape {format_shape(have)} but the Input "
            f"'{node.name}' expects {format_shape(want)}: set the Input's shape to "
            f"{literal(have)}"
        )

    def shaped(x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), *want)

    return dataclasses.replace(
        data,
        x_train=shaped(data.x_train),
        x_test=shaped(data.x_test),
        x_val=None if data.x_val is None else shaped(data.x_val),
        input_shape=want,
    )


def is_labels(y: np.ndarray) -> bool:
    return not np.issubdtype(y.dtype, np.floating)


def check_output(data: Dataset, graph: Graph, source: PythonSource, loss: str) -> None:
    """The Output's width must match the classes (or targets), and the loss the task."""
    out_id = source.output_ids[0]
    shape = analyze(graph).shapes.get(out_id)
    labels = is_labels(data.y_train)
    if loss == "cross_entropy" and not labels:
        raise NetcanvasError(
            f"loss cross_entropy needs class labels but {data.name} has numeric targets: "
            f"choose loss mse, l1 or huber"
        )
    if shape is None:
        return
    if labels:
        classes = data.num_classes or int(data.y_train.max()) + 1
        # Two classes may also be one logit (a 0/1 target) for every loss but cross entropy.
        fits = [1, 2] if classes == 2 and loss != "cross_entropy" else [classes]
        what = f"{classes} classes"
    else:
        fits = [data.output_size]
        what = f"{fits[0]} target{'s' * (fits[0] != 1)}"
    if len(shape) == 1 and shape[0] in fits:
        return
    want = fits[-1]
    if len(shape) != 1:
        raise NetcanvasError(
            f"the Output gives {format_shape(shape)} per batch but {data.name} needs "
            f"N×{want} ({what}): add a Flatten and a Linear with out_features {want}"
        )
    setter = _features_setter(graph, out_id)
    if setter is not None:
        spec = graph.nodes[setter].spec
        fix = f"set the last {spec.title}'s {spec.features_param} to {want}"
    else:
        fix = f"end the model with a Linear with out_features {want}"
    raise NetcanvasError(
        f"the Output gives {shape[0]} values per sample but {data.name} has {what}: {fix}"
    )


def _features_setter(graph: Graph, out_id: str) -> str | None:
    """The layer that sets the Output's feature count (a Linear's out_features), looking back
    through pass-through layers (activations, dropout, normalisation)."""
    node_id = out_id
    for _ in range(len(graph.nodes)):
        incoming = graph.incoming(node_id)
        if len(incoming) != 1:
            return None
        node_id = incoming[0].src
        spec = graph.nodes[node_id].spec
        if spec.features_param is not None:
            return node_id
        if not spec.passthrough:
            return None
    return None
