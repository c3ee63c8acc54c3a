"""A torchvision-shaped ResNet-18 built from blocks through the graph API, for 3×S×S images.

Its state_dict keys are torchvision's (`layer1.0.conv1.weight`, `layer2.0.downsample.0.weight`),
so a torchvision resnet18 state_dict loads onto it by name; `fc` is a new head of `classes`.
"""

from __future__ import annotations

from designer.core.graph import Edge, Graph
from designer.core.project import Project


def _chain(g: Graph, prev: str, layers) -> str:
    for name, type_id, params in layers:
        node = g.add_node(type_id, name=name, params=params)
        g.connect(Edge(prev, node.id, dst_port="in1" if type_id == "block" else "x"))
        prev = node.id
    return prev


def _conv(name, out, k, s, p):
    params = {"out_channels": out, "kernel_size": k, "stride": s, "padding": p, "bias": False}
    return (name, "conv2d", params)


def _basic_block(g: Graph, name: str, c_in: int, c_out: int, stride: int, size: int) -> None:
    b = Graph()
    x = b.add_node("input", name="x", params={"shape": (c_in, size, size)})
    main = _chain(
        b,
        x.id,
        [
            _conv("conv1", c_out, 3, stride, 1),
            ("bn1", "batch_norm2d", {}),
            ("relu", "relu", {}),
            _conv("conv2", c_out, 3, 1, 1),
            ("bn2", "batch_norm2d", {}),
        ],
    )
    skip = x.id
    if stride != 1 or c_in != c_out:
        down = Graph()
        dx = down.add_node("input", name="x", params={"shape": (c_in, size, size)})
        last = _chain(down, dx.id, [_conv("0", c_out, 1, stride, 0), ("1", "batch_norm2d", {})])
        down.connect(Edge(last, down.add_node("output", name="out").id))
        g.add_block(f"{name}Down", down)
        skip = _chain(b, x.id, [("downsample", "block", {"block": f"{name}Down"})])
    add = b.add_node("add", name="add")
    b.connect(Edge(main, add.id, dst_port="in1"))
    b.connect(Edge(skip, add.id, dst_port="in2"))
    out = _chain(b, add.id, [("relu2", "relu", {})])
    b.connect(Edge(out, b.add_node("output", name="out").id))
    g.add_block(name, b)


def resnet18_project(classes: int = 2, size: int = 32) -> Project:
    g = Graph()
    x = g.add_node("input", name="image", params={"shape": (3, size, size)})
    prev = _chain(
        g,
        x.id,
        [
            _conv("conv1", 64, 7, 2, 3),
            ("bn1", "batch_norm2d", {}),
            ("relu", "relu", {}),
            ("maxpool", "max_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
        ],
    )
    s, c_in = size // 4, 64
    for i, c in enumerate((64, 128, 256, 512), start=1):
        stride = 1 if i == 1 else 2
        first, second = f"Stage{i}First", f"Stage{i}Second"
        _basic_block(g, first, c_in, c, stride, s)
        s = s // stride
        _basic_block(g, second, c, c, 1, s)
        stage = Graph()
        sx = stage.add_node("input", name="x", params={"shape": (c_in, s * stride, s * stride)})
        end = _chain(
            stage, sx.id, [("0", "block", {"block": first}), ("1", "block", {"block": second})]
        )
        stage.connect(Edge(end, stage.add_node("output", name="out").id))
        g.add_block(f"Layer{i}", stage)
        prev = _chain(g, prev, [(f"layer{i}", "block", {"block": f"Layer{i}"})])
        c_in = c
    prev = _chain(
        g,
        prev,
        [
            ("avgpool", "adaptive_avg_pool2d", {"output_size": 1}),
            ("flatten", "flatten", {}),
            ("fc", "linear", {"out_features": classes}),
        ],
    )
    g.connect(Edge(prev, g.add_node("output", name="output").id))
    return Project(g, "resnet18")
