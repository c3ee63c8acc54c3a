"""`netcanvas train FILE`: train a project without the app, writing a run folder."""

from __future__ import annotations

from pathlib import Path

from designer.cli.common import UsageError, existing, load, num

NAME = "train"
HELP = "train a project without the app"
DEVICES = ("auto", "cpu", "cuda", "mps")


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--epochs", type=int, metavar="N", help="override the project's epochs")
    p.add_argument("--device", choices=DEVICES, help="override the project's device")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="folder for weights and metrics (default: runs/<name> beside FILE)",
    )


def run(args) -> int:
    from designer.core.training.run import train_to_dir

    path = existing(args.file)
    project = load(path)
    if args.epochs is not None and args.epochs < 1:
        raise UsageError(f"--epochs: expected an integer ≥ 1, got {args.epochs}")
    out = Path(args.out) if args.out else path.parent / "runs" / path.stem
    result = train_to_dir(project, out, epochs=args.epochs, device=args.device, progress=True)
    shown = ", ".join(f"{k} {num(v)}" for k, v in result.items() if isinstance(v, int | float))
    print(f"Trained {project.name}: {shown}")
    print(f"Wrote {out} (weights: {out / 'weights.safetensors'})")
    return 0
