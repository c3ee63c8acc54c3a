"""`netcanvas export FILE --format F -o OUT`: the model as Python, ONNX, PT2 or a training script."""

from __future__ import annotations

from pathlib import Path

from designer.cli.common import UsageError, existing, load

NAME = "export"
HELP = "write the model as Python, ONNX, PT2 or a training script"
FORMATS = ("python", "onnx", "pt2", "script")


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", "-f", required=True, choices=FORMATS)
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="file to write")
    p.add_argument(
        "--weights",
        metavar="W",
        help="safetensors weights to export (onnx, pt2); default: the ones beside FILE, if any",
    )


def run(args) -> int:
    from designer.core import export

    path = existing(args.file)
    project = load(path)
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
        existing(args.weights)
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
