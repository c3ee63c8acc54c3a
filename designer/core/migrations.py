"""Project file migrations: each step turns format N into format N+1, on plain JSON data.

Format history:

- 1: nodes had separate "x" and "y" keys instead of "pos", and no "init"; some layer types were
  spelled without underscores ("maxpool2d", "batchnorm1d"); edges could leave out their ports
  ("y" -> "x"); the only training setting was an optional top-level "dataset" (the name of a
  built-in dataset). No "app_version".
- 2: nodes carry "pos": [x, y] and "init"; edges name both ports; "training" holds the whole
  TrainingConfig; "app_version" records the Netcanvas that saved the file.
- 3: an optional top-level "blocks" list of block definitions ({"name", "nodes", "edges"}),
  used by nodes of type "block" (params "block", "num_inputs"). A format-2 file has none.
  Optional node field "frozen": true (transfer learning: the layer is not trained).
  Optional "weights" ({"file", "sha256"}): the trained weights that belong to the project.
  Format 3 only adds optional fields (absent means the default): a format-2 file is a valid
  format-3 file.

NOTE: a step only reshapes what it knows and leaves anything else in place, so the validator
of the current format reports it. A step checks the fields it consumes itself, so that its
error names the field as it is spelled in the *old* file ("nodes[2].x", not "nodes[2].pos").
Layer type renames are not a format matter: the validator resolves legacy type ids for every
format through the layer registry.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

from designer.core.errors import ProjectError

CURRENT = 3

Step = Callable[[dict, str], dict]

# Format-1 spellings of layer type ids.
_V1_TYPE_IDS = {
    "maxpool1d": "max_pool1d",
    "maxpool2d": "max_pool2d",
    "avgpool1d": "avg_pool1d",
    "avgpool2d": "avg_pool2d",
    "batchnorm1d": "batch_norm1d",
    "batchnorm2d": "batch_norm2d",
    "layernorm": "layer_norm",
    "leakyrelu": "leaky_relu",
}


def _v1_to_v2(data: dict, source: str) -> dict:
    nodes = data.get("nodes")
    if isinstance(nodes, list):
        for i, node in enumerate(nodes):
            if isinstance(node, dict):
                x = _coordinate(node, "x", f"nodes[{i}]", source)
                y = _coordinate(node, "y", f"nodes[{i}]", source)
                node["pos"] = [x, y]
                if isinstance(node.get("type"), str):
                    node["type"] = _V1_TYPE_IDS.get(node["type"], node["type"])
                node.setdefault("init", "default")
    edges = data.get("edges")
    if isinstance(edges, list):
        for edge in edges:
            if isinstance(edge, dict):
                edge.setdefault("src_port", "y")
                edge.setdefault("dst_port", "x")
    training: dict = {}
    if "dataset" in data:
        name = data.pop("dataset")
        if not isinstance(name, str):
            raise ProjectError(
                source, f"expected a dataset name, got {type(name).__name__}", "dataset"
            )
        training["data"] = {"source": "builtin", "name": name}
    data["training"] = training
    data.setdefault("app_version", "")
    return data


def _coordinate(node: dict, key: str, where: str, source: str) -> float:
    if key not in node:
        raise ProjectError(source, "is missing", f"{where}.{key}")
    value = node.pop(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            if math.isfinite(float(value)):
                return float(value)
        except OverflowError:
            pass
    raise ProjectError(source, "expected a finite number", f"{where}.{key}")


def _v2_to_v3(data: dict, source: str) -> dict:
    # Format 3 only adds optional fields; a format-2 file is a valid format-3 file without them.
    return data


# MIGRATIONS[n] turns format n into format n + 1.
MIGRATIONS: dict[int, Step] = {1: _v1_to_v2, 2: _v2_to_v3}

assert sorted(MIGRATIONS) == list(range(1, CURRENT)), "one migration step per past format"


def migrate(data: dict, version: int, source: str) -> dict:
    """`data` (format `version`, 1 <= version <= CURRENT) brought to the current format.

    The caller's data is left as it was: the steps work on a copy.
    """
    if version < CURRENT:
        data = copy.deepcopy(data)
    for step_from in range(version, CURRENT):
        data = MIGRATIONS[step_from](data, source)
        data["format_version"] = step_from + 1
    return data
