"""Images at scale and transfer learning: uint8 in memory vs streamed from disk vs float32, and a
frozen-backbone ResNet-18 fine-tune vs training the whole network. Each row runs in a fresh
process, so its peak RSS is its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TITLE = "Images at scale and fine-tuning (samples/s higher is better, peak RSS lower)"
NOTES = """
A generated folder of 64×64 RGB PNGs in 10 classes, one training epoch of a small CNN (two
strided 3×3 convolutions, global pooling, a Linear), batch 64, on the CPU. *uint8 in memory*:
pixels decoded once and held as uint8, scaled per batch; *streamed*: the memory budget set below
the data (1 MB), so DataLoader workers decode each batch with Pillow while training; *float32*:
the previous path, every pixel held as float32. Peak RSS includes the loader's worker processes.
The ResNet-18 rows train one epoch at 32×32 on 512 images: the whole network vs the same network
with everything before `fc` frozen (frozen layers need no gradients and no optimizer state).
"""

N_IMAGES = int(os.environ.get("BENCH_IMAGES", "20000"))

CHILD = r"""
import json, resource, sys, time
import numpy as np
from designer.core.graph import Edge, Graph
from designer.core.project import Project
from designer.core.training.config import DataConfig, TrainingConfig
from designer.core.training.engine import prepare, train
from designer.core.training.events import EpochEnd

mode, folder, size = sys.argv[1], sys.argv[2], int(sys.argv[3])

def cnn():
    g = Graph()
    prev = g.add_node("input", name="image", params={"shape": (3, size, size)}).id
    for name, t, p in [
        ("conv1", "conv2d", {"out_channels": 16, "kernel_size": 3, "stride": 2, "padding": 1}),
        ("relu1", "relu", {}),
        ("conv2", "conv2d", {"out_channels": 32, "kernel_size": 3, "stride": 2, "padding": 1}),
        ("relu2", "relu", {}),
        ("pool", "adaptive_avg_pool2d", {"output_size": 1}),
        ("flat", "flatten", {}),
        ("fc", "linear", {"out_features": 10}),
    ]:
        node = g.add_node(t, name=name, params=p)
        g.connect(Edge(prev, node.id))
        prev = node.id
    g.connect(Edge(prev, g.add_node("output", name="out").id))
    return g

if mode.startswith("resnet"):
    from designer.core.importer.api import import_model
    from designer.core.freezing import freezable, upstream
    project = import_model("torchvision:resnet18", (3, size, size)).project
    graph = project.graph
    head = graph.by_name("fc").id
    graph.set_param(head, "out_features", 10)
    if mode == "resnet_frozen":
        for i in freezable(graph, upstream(graph, head)):
            graph.set_frozen(i, True)
else:
    graph = cnn()
data = DataConfig(source="images", path=folder, options={"image_size": size, "color": "rgb"},
                  test_fraction=0.0)
budget = 1 if mode == "streamed" else 0
config = TrainingConfig(epochs=1, batch_size=64 if not mode.startswith("resnet") else 32,
                        lr=0.001, device="cpu", data=data, memory_budget_mb=budget)
t0 = time.perf_counter()
model, _, ds = prepare(Project(graph, "bench", config))
if mode == "float32":
    ds.x_train = ds.x_train.astype(np.float32) / 255.0
loaded = time.perf_counter() - t0
t1 = time.perf_counter()
for event in train(model, ds, config):
    pass
seconds = time.perf_counter() - t1
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rss += resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"samples_per_s": len(ds.x_train) / seconds, "load_s": loaded,
                  "peak_rss_mb": rss / 1024, "samples": len(ds.x_train)}))
"""


def make_folder(root: Path, n: int, size: int) -> Path:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in range(10):
        (root / f"class{c}").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        c = i % 10
        pixels = rng.integers(0, 160, (size, size, 3), dtype=np.uint8)
        pixels[..., c % 3] += 90
        Image.fromarray(pixels).save(root / f"class{c}" / f"{i}.png", compress_level=1)
    return root


def child(mode: str, folder: Path, size: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(folder), str(size)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=3600,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        big = make_folder(Path(tmp) / "big", N_IMAGES, 64)
        for mode, label in (
            ("uint8", "uint8 in memory"),
            ("streamed", "streamed from disk (budget 1 MB)"),
            ("float32", "float32 in memory (before)"),
        ):
            r = child(mode, big, 64)
            rows.append(
                {
                    "case": f"{N_IMAGES:,} images 64×64: {label}",
                    "samples/s": r["samples_per_s"],
                    "load s": r["load_s"],
                    "peak RSS MB": r["peak_rss_mb"],
                }
            )
        base = rows[0]["samples/s"]
        rows[1]["vs in-memory"] = rows[1]["samples/s"] / base
        rows[2]["vs in-memory"] = rows[2]["samples/s"] / base
        small = make_folder(Path(tmp) / "small", 512, 32)
        for mode, label in (("resnet_full", "whole network"), ("resnet_frozen", "frozen backbone")):
            r = child(mode, small, 32)
            rows.append(
                {
                    "case": f"ResNet-18 32×32, 512 images: {label}",
                    "samples/s": r["samples_per_s"],
                    "load s": r["load_s"],
                    "peak RSS MB": r["peak_rss_mb"],
                }
            )
        rows[-1]["vs in-memory"] = rows[-1]["samples/s"] / rows[-2]["samples/s"]
    return rows
