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
        help="also copy weights and metrics to DIR (every run is recorded under runs/<name>/)",
    )
    p.add_argument("--tensorboard", metavar="DIR", help="write the run's scalars for TensorBoard")
    p.add_argument(
        "--init-from",
        metavar="W",
        help="start from weights file W (safetensors or a weights-only .pt state_dict): "
        "layers with the same name, type and shapes keep its weights, the rest start fresh",
    )


def run(args) -> int:
    from designer.core.runs.record import record_cli_run
    from designer.core.runs.store import runs_root

    path = existing(args.file)
    project = load(path)
    if args.epochs is not None and args.epochs < 1:
        raise UsageError(f"--epochs: expected an integer ≥ 1, got {args.epochs}")
    if args.init_from:
        import dataclasses

        existing(args.init_from)
        start = str(Path(args.init_from).resolve())
        project.training = dataclasses.replace(project.training, init_from=start)
        _say_warm_start(project)
    out = Path(args.out) if args.out else None
    result, recorded = record_cli_run(
        project, runs_root(path), epochs=args.epochs, device=args.device, out=out
    )
    out = out or recorded.path
    shown = ", ".join(f"{k} {num(v)}" for k, v in result.items() if isinstance(v, int | float))
    print(f"Trained {project.name}: {shown}")
    print(f"Wrote {out} (weights: {out / 'weights.safetensors'})")
    print(f"Recorded run {recorded.id} in {recorded.path.parent}")
    if args.tensorboard:
        from designer.core.runs.tensorboard import write_scalars

        print(f"TensorBoard scalars: {write_scalars(recorded, args.tensorboard)}")
    return 0


def _say_warm_start(project) -> None:
    """Which layers keep the --init-from weights (a dry run of the same matching)."""
    from designer.core.compiler import build_model
    from designer.core.pretrained import warm_start_file

    model, source = build_model(project.graph, project.name)
    report = warm_start_file(model, project.graph, source, project.training.init_from)
    print(f"Warm start from {Path(project.training.init_from).name}: {report.summary()}")
