"""The `netcanvas` command: open the app, or work on project files from a terminal.

Exit codes: 0 success, 1 the project is invalid (validate, summary), 2 a user error (bad
arguments, unreadable file, failed export), printed as one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from designer import __version__
from designer.core.errors import NetcanvasError

COMMANDS = ("validate", "summary", "export", "examples", "new", "train")
FORMATS = ("python", "onnx", "pt2", "script")
DEVICES = ("auto", "cpu", "cuda", "mps")


class UsageError(NetcanvasError):
    """Bad command-line arguments."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="netcanvas",
        description="Design neural networks on a canvas. With no command, opens the app "
        "(`netcanvas FILE` opens FILE in it).",
    )
    parser.add_argument("--version", action="version", version=f"netcanvas {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check a project; exit 1 if it has errors")
    p.add_argument("file", metavar="FILE")

    p = sub.add_parser("summary", help="layers, output shapes, parameters and MACs")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub.add_parser("export", help="write the model as Python, ONNX, PT2 or a training script")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", "-f", required=True, choices=FORMATS)
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="file to write")
    p.add_argument(
        "--weights",
        metavar="W",
        help="safetensors weights to export (onnx, pt2); default: the ones beside FILE, if any",
    )

    sub.add_parser("examples", help="list the example projects")

    p = sub.add_parser("new", help="create a project from an example")
    p.add_argument("--example", required=True, metavar="NAME")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    p = sub.add_parser("train", help="train a project without the app")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--epochs", type=int, metavar="N", help="override the project's epochs")
    p.add_argument("--device", choices=DEVICES, help="override the project's device")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="folder for weights and metrics (default: runs/<name> beside FILE)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `netcanvas` console script. Returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (len(argv) == 1 and argv[0] not in COMMANDS and not argv[0].startswith("-")):
        from designer.app import main as app_main  # NOTE: Qt is only imported for the app

        return app_main(argv)
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as e:  # --help and --version
            return int(e.code or 0)
        if args.command is None:
            raise UsageError("no command given (see 'netcanvas --help')")
        return _COMMANDS[args.command](args)
    except NetcanvasError as e:
        return _fail(str(e))
    except KeyboardInterrupt:
        return _fail("interrupted", code=130)
    except BrokenPipeError:  # `netcanvas summary x --json | head`: the reader left, fine
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stops the exit-time flush error
        return 0


def _fail(message: str, code: int = 2) -> int:
    print("netcanvas: error: " + " ".join(message.split()), file=sys.stderr)
    return code


# -- commands --------------------------------------------------------------------------------
def _validate(args) -> int:
    from designer.core.analysis import analyze
    from designer.core.errors import ProjectError

    path = _existing(args.file)
    try:
        project = _load(path)
    except ProjectError as e:  # a malformed file is the answer "invalid", not a usage error
        print(f"{e}")
        return 1
    analysis = analyze(project.graph)
    print(f"{path}: {analysis.summary()}")
    for d in analysis.diagnostics:
        print(f"  {_diagnostic(project, d)}")
    return 0 if analysis.ok else 1


def _summary(args) -> int:
    from designer.core.analysis import analyze

    project = _load(_existing(args.file))
    analysis = analyze(project.graph)
    if not analysis.ok:
        print(f"{args.file}: {analysis.summary()}", file=sys.stderr)
        for d in analysis.errors:
            print(f"  {_diagnostic(project, d)}", file=sys.stderr)
        return 1
    rows = summary_rows(project, analysis)
    if args.json:
        data = {
            "name": project.name,
            "total_params": analysis.total_params,
            "total_macs": analysis.total_macs,
            "layers": rows,
        }
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    _print_table(project, analysis, rows)
    return 0


def summary_rows(project, analysis) -> list[dict]:
    """One row per layer in forward order (the Output is left out: it only returns a value)."""
    from designer.core.layers import registry

    rows = []
    for node_id in analysis.order:
        node = project.graph.nodes[node_id]
        if node.type_id == "output":
            continue
        shape = analysis.shapes.get(node_id)
        n_params, macs = analysis.costs.get(node_id, (0, 0))
        rows.append(
            {
                "id": node_id,
                "name": node.name,
                "type": registry.get(node.type_id).title,
                "output_shape": list(shape) if shape is not None else None,
                "params": n_params,
                "macs": macs,
            }
        )
    return rows


def _print_table(project, analysis, rows) -> None:
    from rich.console import Console
    from rich.table import Table

    from designer.core.layers.spec import format_shape

    table = Table(title=f"{project.name}", title_justify="left")
    table.add_column("Layer")
    table.add_column("Type")
    table.add_column("Output shape")
    table.add_column("Params", justify="right")
    table.add_column("MACs", justify="right")
    for r in rows:
        shape = format_shape(tuple(r["output_shape"])) if r["output_shape"] is not None else "?"
        table.add_row(r["name"], r["type"], shape, f"{r['params']:,}", f"{r['macs']:,}")
    table.add_section()
    table.add_row("Total", "", "", f"{analysis.total_params:,}", f"{analysis.total_macs:,}")
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 120, highlight=False)
    console.print(table)


def _export(args) -> int:
    from designer.core import export

    path = _existing(args.file)
    project = _load(path)
    out = Path(args.output)
    if args.format in ("python", "script"):
        if args.weights:
            raise UsageError("--weights applies to --format onnx and pt2 only")
        writer = export.export_python if args.format == "python" else export.export_training_script
        writer(project, out)
        print(f"Wrote {out}")
        return 0
    weights = Path(args.weights) if args.weights else project.weights_path
    if args.weights:
        _existing(args.weights)
    elif weights is not None and not weights.is_file():
        weights = None
    writer = export.export_onnx if args.format == "onnx" else export.export_pt2
    writer(project, out, weights=weights)
    note = (
        f"weights from {weights}"
        if weights
        else "untrained weights: no weights file beside the project"
    )
    print(f"Wrote {out} ({note})")
    return 0


def _examples(args) -> int:
    from designer.core.examples import list_examples

    items = list_examples()
    width = max(len(name) for name, _, _ in items)
    for name, title, description in items:
        print(f"{name:<{width}}  {title}: {description}")
    return 0


def _new(args) -> int:
    from designer.core.examples import example_path
    from designer.core.project_io import save_project

    out = Path(args.output)
    source = example_path(args.example)
    if out.exists() and not args.force:
        raise UsageError(f"{out} already exists (add --force to overwrite it)")
    if not out.parent.is_dir():
        raise UsageError(f"{out}: the folder {str(out.parent)!r} does not exist")
    project = _load(source)
    project.name = out.stem
    save_project(project, out)
    print(f"Created {out} from the example {args.example!r}")
    return 0


def _train(args) -> int:
    from designer.core.training.run import train_to_dir

    path = _existing(args.file)
    project = _load(path)
    if args.epochs is not None and args.epochs < 1:
        raise UsageError(f"--epochs: expected an integer ≥ 1, got {args.epochs}")
    out = Path(args.out) if args.out else path.parent / "runs" / path.stem
    result = train_to_dir(project, out, epochs=args.epochs, device=args.device, progress=True)
    shown = ", ".join(f"{k} {_num(v)}" for k, v in result.items() if isinstance(v, int | float))
    print(f"Trained {project.name}: {shown}")
    print(f"Wrote {out} (weights: {out / 'weights.safetensors'})")
    return 0


_COMMANDS = {
    "validate": _validate,
    "summary": _summary,
    "export": _export,
    "examples": _examples,
    "new": _new,
    "train": _train,
}


# -- helpers ---------------------------------------------------------------------------------
def _existing(name: str) -> Path:
    path = Path(name)
    if not path.exists():
        raise UsageError(f"{name}: no such file")
    return path


def _load(path: Path):
    from designer.core.project_io import load_project

    return load_project(path)


def _diagnostic(project, d) -> str:
    node = project.graph.nodes.get(d.node_id) if d.node_id else None
    where = f"[{node.name}] " if node is not None else ""
    return f"{d.severity}: {where}{d.message}"


def _num(v: float) -> str:
    return f"{v:,}" if isinstance(v, int) else f"{v:.4g}"


if __name__ == "__main__":
    raise SystemExit(main())
