"""Graphs for canvas tests, screenshots and benchmarks, built with the core API."""

from __future__ import annotations

from designer.core.graph import Edge, Graph
from designer.core.layout import layered_layout
from designer.core.project import Project


def resnet18() -> Project:
    """A ResNet-18-sized network for 3×32×32 images (about 70 layers): stem, four stages of two
    basic blocks (1×1 projection on the skip where the stage downsamples), pooled head."""
    g = Graph()

    def add(type_id: str, name: str, src: str | None = None, port: str = "x", **params) -> str:
        node = g.add_node(type_id, name=name, params=params)
        if src is not None:
            g.connect(Edge(src, node.id, dst_port=port))
        return node.id

    x = add("input", "image", shape=(3, 32, 32))
    x = add("conv2d", "conv1", x, out_channels=64, kernel_size=3, padding=1)
    x = add("batch_norm2d", "bn1", x)
    x = add("relu", "relu", x)
    channels = 64
    for stage, width in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            stride = 2 if stage > 1 and block == 0 else 1
            p = f"layer{stage}.{block}."
            h = add(
                "conv2d",
                p + "conv1",
                x,
                out_channels=width,
                kernel_size=3,
                stride=stride,
                padding=1,
            )
            h = add("batch_norm2d", p + "bn1", h)
            h = add("relu", p + "relu1", h)
            h = add("conv2d", p + "conv2", h, out_channels=width, kernel_size=3, padding=1)
            h = add("batch_norm2d", p + "bn2", h)
            skip = x
            if stride != 1 or width != channels:
                skip = add(
                    "conv2d", p + "down", x, out_channels=width, kernel_size=1, stride=stride
                )
                skip = add("batch_norm2d", p + "down_bn", skip)
            s = add("add", p + "add", h, port="in1", num_inputs=2)
            g.connect(Edge(skip, s, dst_port="in2"))
            x = add("relu", p + "relu2", s)
            channels = width
    x = add("adaptive_avg_pool2d", "avgpool", x, output_size=1)
    x = add("flatten", "flatten", x)
    x = add("linear", "fc", x, out_features=10)
    add("output", "output", x)
    for node_id, pos in layered_layout(g).positions.items():
        g.move(node_id, pos)
    return Project(g, "resnet18")
