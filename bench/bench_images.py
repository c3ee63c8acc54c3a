"""Images at scale and transfer learning: float32 vs uint8 in memory vs streamed from disk (with
and without the decoded-once cache), in paired rounds, and a frozen-backbone ResNet-18 fine-tune
vs training the whole network. Each row runs in a fresh process, so its peak RSS is its own.

    BENCH_IMAGES=20000 BENCH_ROUNDS=3 BENCH_EPOCHS=2 python -m bench images
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TITLE = "Images at scale and fine-tuning (samples/s higher is better, peak RSS lower)"

N_IMAGES = int(os.environ.get("BENCH_IMAGES", "20000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
EPOCHS = int(os.environ.get("BENCH_EPOCHS", "2"))
BATCH = 64
SIZE = 64
FORMAT = os.environ.get("BENCH_FORMAT", "png")  # png or jpg

NOTES = f"""
A generated folder of {N_IMAGES:,} {SIZE}×{SIZE} RGB {FORMAT.upper()}s in 10 classes (generated
once into the user cache, `bench/images-…`, and reused), {EPOCHS} training epochs of a small CNN
(two strided 3×3 convolutions 16 and 32 channels, global pooling, a Linear), batch {BATCH},
Adam, on the CPU with one intra-op training thread (`OMP_NUM_THREADS=1`: on this shared 2-core
machine two OpenMP threads ran 5× slower than one; a streamed run leaves the other core to its
decoding worker, and the in-memory runs get the same single thread). Modes: *float32 in memory (before)*: every pixel held as float32 in [0, 1]
(the previous path; it can no longer be chosen in the app, so the bench converts the uint8
arrays after loading, which is what that path held); *uint8 in memory*: pixels decoded once and
held as uint8, scaled per batch; *streamed*: the memory budget set below the data (1 MB) and the
decoded-once cache turned off, so DataLoader workers decode every batch of every epoch;
*streamed + cache*: the same budget with the cache on (the default): epoch 1 decodes and writes
the uint8 pixels to a file in the user cache, later epochs read batches from that file without
decoding (the page cache does not count in RSS). Each round runs every mode once, each in a
fresh process, in a rotated order; the table gives the median over {ROUNDS} rounds, and the
ratios are medians of the per-round ratios (paired, because this shared machine is noisy).
*epoch 1* is the first epoch's samples/s, *steady* the mean of the later epochs'. Peak RSS
includes the loader's worker processes. *load s* is preparing the data and the model (decoding
everything for the in-memory modes). The ResNet-18 rows train one epoch at 32×32 on 512 images:
the whole network vs the same network with everything before `fc` frozen.
"""

CHILD = r"""
import json, resource, sys, time
import numpy as np
from designer.core.graph import Edge, Graph
from designer.core.project import Project
from designer.core.training.config import DataConfig, TrainingConfig
from designer.core.training.engine import prepare, train
from designer.core.training.events import EpochEnd, Failed

mode, folder, size, epochs, batch = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])

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
budget = 1 if mode.startswith("streamed") else 0
config = TrainingConfig(epochs=epochs, batch_size=batch, lr=0.001, device="cpu", data=data,
                        memory_budget_mb=budget)
t0 = time.perf_counter()
model, _, ds = prepare(Project(graph, "bench", config))
if mode == "float32":
    ds.x_train = ds.x_train.astype(np.float32) / 255.0
loaded = time.perf_counter() - t0
speeds, cpu, began = [], [], time.process_time()
for event in train(model, ds, config):
    if isinstance(event, EpochEnd):
        speeds.append(len(ds.x_train) / event.seconds)
        cpu.append((time.process_time() - began) / len(ds.x_train) * 1e6)
        began = time.process_time()
    if isinstance(event, Failed):
        raise SystemExit(str(event))
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + kids.ru_maxrss
workers = (kids.ru_utime + kids.ru_stime) / len(ds.x_train) * 1e6  # all in epoch(s) decoded
print(json.dumps({"speeds": speeds, "load_s": loaded, "peak_rss_mb": rss / 1024,
                  "cpu_us": cpu, "worker_cpu_us": workers, "samples": len(ds.x_train)}))
"""

MODES = (
    ("float32", "float32 in memory (before)"),
    ("uint8", "uint8 in memory"),
    ("streamed", "streamed, decoded every epoch"),
    ("streamed_cache", "streamed + decoded-once cache"),
)


def make_folder(root: Path, n: int, size: int, fmt: str = "png") -> Path:
    """`n` generated size×size RGB images in 10 class folders under `root` (written once: a
    `.complete` marker says the folder is whole and it is reused)."""
    import numpy as np
    from PIL import Image

    if (root / ".complete").is_file():
        return root
    rng = np.random.default_rng(0)
    for c in range(10):
        (root / f"class{c}").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        c = i % 10
        pixels = rng.integers(0, 160, (size, size, 3), dtype=np.uint8)
        pixels[..., c % 3] += 90
        image = Image.fromarray(pixels)
        if fmt == "png":
            image.save(root / f"class{c}" / f"{i}.png", compress_level=1)
        else:
            image.save(root / f"class{c}" / f"{i}.jpg", quality=90)
    (root / ".complete").write_text(f"{n} {size} {fmt}\n")
    return root


def cached_folder(n: int, size: int, fmt: str) -> Path:
    from designer.core.data.downloads import cache_root

    return make_folder(cache_root() / "bench" / f"images-{n}-{size}-{fmt}", n, size, fmt)


def child(mode: str, folder: Path, size: int, epochs: int, batch: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    if mode == "streamed":
        env["NETCANVAS_IMAGE_CACHE"] = "off"
    with tempfile.TemporaryDirectory() as cache:
        env["NETCANVAS_CACHE"] = cache  # a cold decoded-image cache for every run
        out = subprocess.run(
            [sys.executable, "-c", CHILD, mode, str(folder), str(size), str(epochs), str(batch)],
            capture_output=True,
            text=True,
            env=env,
            timeout=3600,
        )
    if out.returncode:
        raise RuntimeError(f"bench child {mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def image_rows(n: int, rounds: int, epochs: int, fmt: str = FORMAT) -> list[dict]:
    folder = cached_folder(n, SIZE, fmt)
    results: dict[str, list[dict]] = {mode: [] for mode, _ in MODES}
    for r in range(rounds):
        order = MODES[r % len(MODES) :] + MODES[: r % len(MODES)]
        for mode, _ in order:
            got = child(mode, folder, SIZE, epochs, BATCH)
            got["epoch1"] = got["speeds"][0]
            later = got["speeds"][1:] or got["speeds"]
            got["steady"] = sum(later) / len(later)
            results[mode].append(got)
            print(f"round {r + 1} {mode}: {got['speeds']}", file=sys.stderr)
    rows = []
    base = results["uint8"]
    for mode, label in MODES:
        runs = results[mode]
        row = {
            "case": f"{n:,} {fmt.upper()}s {SIZE}×{SIZE}: {label}",
            "epoch 1 samples/s": _median([g["epoch1"] for g in runs]),
            "steady samples/s": _median([g["steady"] for g in runs]),
            "load s": _median([g["load_s"] for g in runs]),
            "peak RSS MB": _median([g["peak_rss_mb"] for g in runs]),
        }
        if mode != "uint8":
            for key in ("epoch1", "steady"):
                ratios = [g[key] / b[key] for g, b in zip(runs, base, strict=True)]
                row[f"{key.replace('epoch1', 'epoch 1')} vs uint8"] = _median(ratios)
        rows.append(row)
    return rows


def run() -> list[dict]:
    rows = image_rows(N_IMAGES, ROUNDS, EPOCHS)
    if os.environ.get("BENCH_RESNET", "1") == "0":
        return rows
    with tempfile.TemporaryDirectory() as tmp:
        small = make_folder(Path(tmp) / "small", 512, 32)
        resnet = []
        for mode, label in (("resnet_full", "whole network"), ("resnet_frozen", "frozen backbone")):
            r = child(mode, small, 32, 1, 32)
            resnet.append(
                {
                    "case": f"ResNet-18 32×32, 512 images: {label}",
                    "epoch 1 samples/s": r["speeds"][0],
                    "load s": r["load_s"],
                    "peak RSS MB": r["peak_rss_mb"],
                }
            )
        resnet[-1]["epoch 1 vs uint8"] = None
        resnet[-1]["frozen vs whole"] = (
            resnet[1]["epoch 1 samples/s"] / resnet[0]["epoch 1 samples/s"]
        )
        del resnet[-1]["epoch 1 vs uint8"]
    return rows + resnet
