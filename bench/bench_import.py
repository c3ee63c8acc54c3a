"""Import of real models: torchvision classifiers through torch.fx into Netcanvas projects.

    python -m bench import                           # DenseNet-121, ResNet-50: import + layout
    python -m bench.bench_import --table             # docs/torchvision-import.md, every model
    python -m bench.bench_import --table --only vit,swin_t   # re-measure these families/models

Each table row imports the model (random weights), compares its output with the original,
exports the project as Python, loads the weights into that code, imports the code again and
compares both the graph and the outputs. Rows are cached in bench/results/torchvision_import.json
under a fingerprint of the importer and layer code: a rerun measures only missing or stale rows.
Each model runs in its own niced process under a time and memory limit, so a crash, a kill or a
timeout is a row that says so.
"""

from __future__ import annotations

import argparse
import datetime
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import import_table as tab

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "torchvision-import.md"
TITLE = "Import of torchvision models (seconds, lower is better)"
NOTES = """
- *build* = torchvision builds the model (random weights); *trace + map + shapes* = torch.fx
  trace, layers and blocks, shape check; *layout* = the layered layout of the top level and of
  every block definition; *code + weights* = generate the code and carry the tensors over.
  Best of 3 after a warm-up, input 3×224×224.
- Every model's full round trip is in docs/torchvision-import.md.
"""

# These take only their training resolution (a fixed image size or window grid); the rest are
# measured at 128×128, small enough to be quick and large enough for every stride and pool.
FIXED_224 = ("vit", "swin", "maxvit")
LOW_MEMORY_MB = 1500  # kill the child when the machine has less than this available


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
    """One cached row for torchvision model `name` (run in a child process)."""
    import torch

    from designer.core.codegen import generate
    from designer.core.compiler import load_module
    from designer.core.errors import NetcanvasError
    from designer.core.importer.api import import_model, import_module, structure

    tab_row: dict = {"model": name, "input": "×".join(map(str, input_shape(name)))}
    shape = input_shape(name)
    torch.manual_seed(0)
    try:
        first = import_model(f"torchvision:{name}", shape)
    except NetcanvasError as e:
        return {**tab_row, "status": "refused", "reason": str(e)}
    g = first.project.graph
    x = torch.randn(2, *shape)
    n_orig = sum(p.numel() for p in first.original.parameters())
    n_ours = sum(p.numel() for p in first.model.parameters())
    # NOTE: each copy of the weights is dropped once it has been used, so at most two copies
    # of a 600M-parameter model (vit_h_14, regnet_y_128gf) are alive at once.
    with torch.no_grad():
        want = first.original.eval()(x)
        first.original = None
        diff1 = (first.model.eval()(x) - want).abs().max().item()
        exported = load_module(generate(g, name)).make_model()
        exported.load_state_dict(first.model.state_dict())
        first.model = None
        second = import_module(exported, shape, name)
        del exported
        second.original = None
        diff2 = (second.model.eval()(x) - want).abs().max().item()
    s = first.seconds
    return {
        **tab_row,
        "status": "imported",
        "layers": layer_count(g),
        "top_nodes": len(g.nodes),
        "block_defs": len(g.blocks),
        "block_uses": sum(len(g.block_uses(b)) for b in g.blocks),
        "params": n_orig,
        "params_ours": n_ours,
        "diff_import": diff1,
        "diff_round_trip": diff2,
        "same_graph": structure(second.project.graph) == structure(g),
        "build_s": round(s["load"], 2),
        "import_s": round(s["trace"] + s["layout"] + s["weights"], 2),
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
    parser.add_argument(
        "--only", metavar="NAMES", help="comma-separated families or models to (re)measure"
    )
    parser.add_argument("--force", action="store_true", help="re-measure even up-to-date rows")
    parser.add_argument("--write-only", action="store_true", help="only rewrite the doc")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per model")
    parser.add_argument("--mem-gb", type=float, default=10, help="memory cap per model")
    parser.add_argument("--one", metavar="NAME", help=argparse.SUPPRESS)  # a child process
    args = parser.parse_args(argv)
    if args.one:
        return _one(args.one)
    if not args.table:
        print(_table(run()))
        return 0
    from designer.core.importer.tv import torchvision_models

    models = torchvision_models()
    names = sorted(models.list_models(module=models), key=tab.model_order)
    current = tab.fingerprint(extra=_tv_version())
    rows = tab.load_cache()
    if args.write_only:
        _write(rows, names, current)
        return 0
    todo = names
    if args.only:
        wanted = {w.strip() for w in args.only.split(",") if w.strip()}
        todo = [n for n in names if n in wanted or tab.family(n) in wanted]
        if not todo:
            parser.error(f"--only {args.only!r} names no family or model")
    if not args.force:
        todo = tab.stale(rows, todo, current)
    # Rows never measured before stale ones, and one model per family first, so a partial run
    # already covers every model and family it can.
    firsts = set({tab.family(n): n for n in reversed(todo)}.values())
    todo = sorted(todo, key=lambda n: (n in rows, n not in firsts, tab.model_order(n)))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.perf_counter()
    for i, name in enumerate(todo, 1):
        rows[name] = _child(name, args.timeout, args.mem_gb)
        r = rows[name]
        print(
            f"[{i}/{len(todo)} {time.perf_counter() - began:.0f} s] {name}: {r['status']} "
            f"{r.get('wall_s', '')} s {tab.short_reason(r.get('reason', ''), 120)}",
            flush=True,
        )
        tab.save_cache(rows)
        _write(rows, names, current)
    _write(rows, names, current)
    print(f"{len(todo)} measured in {time.perf_counter() - began:.0f} s; wrote {DOC}")
    return 0


def _one(name: str) -> int:
    """The child: measure one model, print its row."""
    import json
    import traceback

    began = time.perf_counter()
    from designer.core.importer.tv import torchvision_models

    torchvision_models()  # torchvision's own import is not the model's import time
    try:
        row = round_trip(name)
    except Exception as e:  # a bug, not a refusal: the row says which
        traceback.print_exc()
        row = {"model": name, "status": "crashed", "reason": f"{type(e).__name__}: {e}"}
    row["fingerprint"] = tab.fingerprint(extra=_tv_version())
    row["child_s"] = round(time.perf_counter() - began, 1)
    print("ROW " + json.dumps(row), flush=True)
    return 0


def _child(name: str, timeout: float, mem_gb: float, cmd: list[str] | None = None) -> dict:
    """One model in its own niced process, under a time and a memory limit."""
    import json

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = cmd or [sys.executable, "-m", "bench.bench_import", "--one", name]
    cmd = ["nice", "-n", "10", *cmd]
    base = {
        "model": name,
        "input": "×".join(map(str, input_shape(name))),
        "fingerprint": "",
        "commit": _commit(),
        "measured": datetime.date.today().isoformat(),
        "limit_s": timeout,
        "mem_gb": mem_gb,
    }
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        began = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT, env=env, text=True)
        killed, peak_kb = "", 0
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                rss = _rss_kb(proc.pid)
                peak_kb = max(peak_kb, rss)
                if time.perf_counter() - began > timeout:
                    killed = "timeout"
                elif rss > mem_gb * 1024 * 1024:
                    killed = f"killed: over the {mem_gb:g} GB memory cap"
                elif _available_mb() < LOW_MEMORY_MB:
                    killed = f"killed: the machine had under {LOW_MEMORY_MB} MB of memory left"
                if killed:
                    os.kill(proc.pid, signal.SIGKILL)
                    pid, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.5)
        except BaseException:  # Ctrl+C or SIGTERM of the table run: no orphan left computing
            os.kill(proc.pid, signal.SIGKILL)
            os.wait4(proc.pid, 0)
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        base["wall_s"] = round(time.perf_counter() - began, 1)
        base["peak_rss_mb"] = round(max(peak_kb, usage.ru_maxrss) / 1024)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if killed == "timeout":
        return {**base, "status": "timeout"}
    if killed:
        return {**base, "status": "crashed", "reason": killed}
    for line in stdout.splitlines():
        if line.startswith("ROW "):
            return {**base, **json.loads(line[4:])}
    tail = (stderr.strip().splitlines() or ["no output"])[-1]
    code = proc.returncode
    how = f"signal {-code}" if code < 0 else f"exit code {code}"
    return {**base, "status": "crashed", "reason": f"{how}: {tail[:300]}"}


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _available_mb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("inf")


def _commit() -> str:
    """The last commit that changed the code a row depends on (stable when a branch rebases)."""
    cmd = ["git", "log", "-1", "--format=%h", "--", *tab.CODE_DIRS]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    return out.stdout.strip() or "?"


def _write(rows: dict[str, dict], names: list[str], current: str) -> None:
    from bench.__main__ import machine

    listed = [rows[n] for n in names if n in rows]
    missing = [n for n in names if n not in rows]
    header = (
        "# Importing torchvision models\n\n"
        f"Written by `python -m bench.bench_import --table` from the rows cached in "
        f"`bench/results/torchvision_import.json`: every classification model that torchvision "
        f"{_tv_version()} lists (`torchvision.models.list_models(module=torchvision.models)`, "
        f"{len(names)} models). Machine: {machine()}; each model in its own process "
        "(`nice -n 10`, one thread).\n\n"
        "Each model (random weights, eval mode) is imported with `netcanvas import "
        "torchvision:NAME`; the project's model is compared with the original on a random "
        "batch of 2, exported as Python, given the weights, imported again and compared again "
        "(graph and outputs). *layers* counts every layer through every block use; "
        "*identical* = equal parameter counts and both differences within 1e-5.\n"
    )
    if missing:
        header += f"\nNot measured yet: {', '.join(missing)}.\n"
    text = tab.render(listed, header=header, notes=notes(listed), current=current)
    DOC.write_text(text, encoding="utf-8")


def notes(rows: list[dict]) -> str:
    """The notes under the table; every list and number in them is read from the rows."""

    def names(pred) -> str:
        found = [r["model"] for r in rows if pred(r)]
        return ", ".join(found) if found else "none"

    def ok(r: dict) -> bool:
        return r["status"] == "imported"

    changed = names(lambda r: ok(r) and not r.get("same_graph"))
    fixed = sorted({r["model"] for r in rows if r.get("input", "").endswith("224")})
    limits = sorted({(r.get("limit_s", 0), r.get("mem_gb", 0)) for r in rows})
    slowest = max(rows, key=lambda r: r.get("wall_s", 0), default=None)
    heaviest = max(rows, key=lambda r: r.get("peak_rss_mb", 0), default=None)
    lines = [
        "## Notes\n",
        "- Columns: *build s* = torchvision builds the model; *import s* = trace, map, shape "
        "check, layout, code and weights (`netcanvas import` less the build); *wall s* = the "
        "whole child process (Python start, torchvision import, import, three forward passes, "
        "export, second import); *peak RSS* = the child's maximum resident memory.",
        f"- Input 3×128×128 (batch 2), except {len(fixed)} models that take only their training "
        f"resolution, at 3×224×224: {', '.join(fixed) or 'none'}.",
        "- inception_v3 and googlenet are built with `aux_logits=False` (the auxiliary heads "
        "only run in training and are not part of the eval graph).",
        f"- Graph not the same after the round trip: {changed}.",
        "- Imported but not identical: " + names(lambda r: ok(r) and not tab.identical(r)) + ".",
        "- Crashed or killed: "
        + names(lambda r: r["status"] == "crashed")
        + "; timed out: "
        + names(lambda r: r["status"] == "timeout")
        + ". Limits per model (seconds, GB of memory): "
        + ", ".join(f"{t:.0f} s, {m:g} GB" for t, m in limits)
        + ".",
    ]
    if slowest is not None and heaviest is not None:
        lines.append(
            f"- Slowest: {slowest['model']} ({slowest.get('wall_s', 0):.0f} s wall); most memory: "
            f"{heaviest['model']} ({heaviest.get('peak_rss_mb', 0) / 1024:.1f} GB); all rows "
            f"together {sum(r.get('wall_s', 0) for r in rows) / 60:.0f} min of child time."
        )
    return "\n".join(lines) + "\n"


def _tv_version() -> str:
    from designer.core.importer.tv import import_torchvision

    return import_torchvision().__version__


if __name__ == "__main__":
    sys.exit(main())
