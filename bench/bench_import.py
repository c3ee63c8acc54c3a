"""Import of real models: torchvision classifiers through torch.fx into Netcanvas projects.

    python -m bench import                      # DenseNet-121 and ResNet-50: import + layout time
    python -m bench.bench_import --table        # docs/torchvision-import.md, one model per family
    python -m bench.bench_import --table --all  # ... every classification model in torchvision

Each table row imports the model (random weights), compares its output with the original,
exports the project as Python, loads the weights into that code, imports the code again and
compares both the graph and the outputs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "torchvision-import.md"
ROWS = ROOT / "bench" / "out" / "torchvision-import.json"  # for --redo
TITLE = "Import of torchvision models (seconds, lower is better)"
NOTES = """
- *build* = torchvision builds the model (random weights); *trace + map + shapes* = torch.fx
  trace, layers and blocks, shape check; *layout* = the layered layout of the top level and of
  every block definition; *code + weights* = generate the code and carry the tensors over.
  Best of 3 after a warm-up, input 3×224×224.
- Every model's full round trip is in docs/torchvision-import.md.
"""

# One model per family (the goal's list); --all takes every classification model.
FAMILIES = [
    "alexnet", "vgg11", "resnet18", "resnext50_32x4d", "wide_resnet50_2", "squeezenet1_0",
    "densenet121", "inception_v3", "googlenet", "shufflenet_v2_x0_5", "mobilenet_v2",
    "mobilenet_v3_small", "mnasnet0_5", "efficientnet_b0", "regnet_x_400mf", "convnext_tiny",
    "vit_b_16", "swin_t", "maxvit_t",
]  # fmt: skip
FIXED_224 = ("vit", "swin", "maxvit")
TABLE_NOTES = """
Notes:
- *same graph* is "no" for EfficientNet because torch has no StochasticDepth module: it is
  exported as `nn.Identity` (what it computes in eval mode), which imports back as Identity.
- inception_v3 and googlenet are built with `aux_logits=False` (the auxiliary heads only run in
  training and are not part of the eval graph).
- Refused: ConvNeXt (LayerNorm2d calls F.layer_norm on its own parameters, and the layer scale
  is a free parameter), ViT (free class token and position embedding; fx traces into
  nn.MultiheadAttention), Swin (relative position bias tables, roll, masks), MaxViT (window
  partitions computed from sizes). Each reason above is the importer's own message.
"""  # these only take their training resolution


def input_shape(name: str) -> tuple[int, int, int]:
    return (3, 224, 224) if name.startswith(FIXED_224) else (3, 128, 128)


def layer_count(graph) -> int:
    """Layers as a user counts them: through every block use, without Inputs and Outputs."""

    def count(g) -> int:
        n = 0
        for node in g.nodes.values():
            if node.spec.is_block:
                n += count(graph.blocks[node.params["block"]])
            elif not node.spec.is_end:
                n += 1
        return n

    return count(graph)


def round_trip(name: str) -> dict:
    """One table row for torchvision model `name`."""
    import torch

    from designer.core.codegen import generate
    from designer.core.compiler import load_module
    from designer.core.errors import NetcanvasError
    from designer.core.importer.api import import_model, import_module, structure

    shape = input_shape(name)
    row: dict = {"model": name, "input": "×".join(map(str, shape))}
    torch.manual_seed(0)
    began = time.perf_counter()
    try:
        first = import_model(f"torchvision:{name}", shape)
    except NetcanvasError as e:
        reason = " ".join(str(e).split())
        return {**row, "imported": "no", "reason": reason[:400]}
    seconds = time.perf_counter() - began
    g = first.project.graph
    x = torch.randn(2, *shape)
    with torch.no_grad():
        want = first.original.eval()(x)
        diff1 = (first.model.eval()(x) - want).abs().max().item()
        exported = load_module(generate(g, name)).make_model()
        exported.load_state_dict(first.model.state_dict())
        second = import_module(exported, shape, name)
        diff2 = (second.model.eval()(x) - want).abs().max().item()
    n_orig = sum(p.numel() for p in first.original.parameters())
    n_ours = sum(p.numel() for p in first.model.parameters())
    uses = sum(len(g.block_uses(b)) for b in g.blocks)
    return {
        **row,
        "imported": "yes",
        "layers": layer_count(g),
        "top-level nodes": len(g.nodes),
        "blocks (defs / uses)": f"{len(g.blocks)} / {uses}",
        "params": n_orig,
        "params equal": "yes" if n_orig == n_ours else f"no ({n_ours:,})",
        "max diff import": f"{diff1:.1e}",
        "max diff round trip": f"{diff2:.1e}",
        "same graph after round trip": "yes"
        if structure(second.project.graph) == structure(g)
        else "no",
        "import s": round(seconds, 1),
        "reason": "",
    }


def run() -> list[dict]:
    """`python -m bench import`: DenseNet-121 and ResNet-50, import and layout separately."""
    from designer.core.importer.api import import_model

    rows = []
    for name in ("densenet121", "resnet50"):
        import_model(f"torchvision:{name}", (3, 224, 224))  # warm-up: torchvision's import
        best: dict[str, float] = {}
        for _ in range(3):
            result = import_model(f"torchvision:{name}", (3, 224, 224))
            for k, v in result.seconds.items():
                best[k] = min(best.get(k, v), v)
        g = result.project.graph
        rows.append(
            {
                "model": name,
                "layers": layer_count(g),
                "top-level nodes": len(g.nodes),
                "block definitions": len(g.blocks),
                "build (s)": best["load"],
                "trace + map + shapes (s)": best["trace"],
                "layout (s)": best["layout"],
                "code + weights (s)": best["weights"],
                "import + layout (s)": best["trace"] + best["layout"],
            }
        )
    return rows


def _table(rows: list[dict]) -> str:
    from bench.__main__ import table

    return table(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_import")
    parser.add_argument("--table", action="store_true", help=f"write {DOC.relative_to(ROOT)}")
    parser.add_argument("--all", action="store_true", help="every classification model")
    parser.add_argument("--redo", nargs="+", metavar="NAME", help="re-run these rows only")
    parser.add_argument("--one", metavar="NAME", help=argparse.SUPPRESS)  # a child process
    args = parser.parse_args(argv)
    if args.one:
        import json

        print("ROW " + json.dumps(round_trip(args.one)), flush=True)
        return 0
    if not args.table:
        print(_table(run()))
        return 0
    names = FAMILIES
    if args.all:
        from designer.core.importer.tv import torchvision_models

        models = torchvision_models()
        names = sorted(models.list_models(module=models))
    import json

    if args.redo:
        rows = json.loads(ROWS.read_text("utf-8"))
        for i, row in enumerate(rows):
            if row["model"] in args.redo:
                rows[i] = _child(row["model"])
                print(rows[i], flush=True)
        _write(rows, args.all)
        return 0
    rows = []
    for name in names:
        rows.append(_child(name))
        print(rows[-1], flush=True)
        _write(rows, args.all)
    return 0


def _child(name: str) -> dict:
    """One model in its own process (memory of big models is given back between them)."""
    import json

    cmd = [sys.executable, "-m", "bench.bench_import", "--one", name]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    for line in out.stdout.splitlines():
        if line.startswith("ROW "):
            return json.loads(line[4:])
    tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
    return {"model": name, "imported": "no", "reason": f"crashed: {tail[:300]}"}


def _write(rows: list[dict], every: bool) -> None:
    from bench.__main__ import machine

    ok = [r for r in rows if r.get("imported") == "yes"]
    same = [r for r in ok if float(r["max diff round trip"]) <= 1e-5 and r["params equal"] == "yes"]
    text = (
        "# Importing torchvision models\n\n"
        f"Written by `python -m bench.bench_import --table{' --all' if every else ''}` "
        f"(torchvision {_tv_version()}). Machine: {machine()}.\n\n"
        "Each model (random weights, eval mode) is imported with `netcanvas import "
        "torchvision:NAME`; the project's model is compared with the original on a random "
        "batch of 2, exported as Python, given the weights, imported again and compared again "
        "(graph and outputs). *layers* counts every layer through every block use.\n\n"
        f"**{len(ok)} of {len(rows)} imported; {len(same)} with identical parameter counts and "
        "outputs within 1e-5 after the round trip.**\n\n" + _table(rows) + TABLE_NOTES
    )
    DOC.write_text(text, encoding="utf-8")
    import json

    ROWS.parent.mkdir(parents=True, exist_ok=True)
    ROWS.write_text(json.dumps(rows), encoding="utf-8")


def _tv_version() -> str:
    from designer.core.importer.tv import import_torchvision

    return import_torchvision().__version__


if __name__ == "__main__":
    sys.exit(main())
