"""`netcanvas export FILE --format F -o OUT`: every format of designer.core.export.FORMATS."""

from __future__ import annotations

from pathlib import Path

from designer.cli.common import UsageError, existing, load
from designer.core.export import FORMATS, export, export_format

NAME = "export"
HELP = "write the model as " + ", ".join(f.title for f in FORMATS)


def _format_help() -> str:
    return "; ".join(f"{f.key}: {f.title}" for f in FORMATS)


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--format", "-f", required=True, choices=[f.key for f in FORMATS], help=_format_help()
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="file to write")
    with_weights = ", ".join(f.key for f in FORMATS if f.takes_weights)
    p.add_argument(
        "--weights",
        metavar="W",
        help=f"safetensors weights to export ({with_weights}); default: the ones saved with "
        "FILE, else those of its latest finished run that fit the model",
    )


def run(args) -> int:
    fmt = export_format(args.format)
    path = existing(args.file)
    project = load(path)
    out = Path(args.output)
    if args.weights and not fmt.takes_weights:
        with_weights = ", ".join(f.key for f in FORMATS if f.takes_weights)
        raise UsageError(f"--weights applies to --format {with_weights} only")
    weights, origin = None, ""
    if fmt.takes_weights:
        weights, origin = _default_weights(project, args.weights)
        if weights is None and fmt.needs_weights:
            raise UsageError(
                f"--format {fmt.key} needs trained weights: pass --weights W, or train first "
                "(netcanvas train records them in the project's runs folder)"
            )
    done = export(project, fmt.key, out, weights)
    tail = ""
    if fmt.takes_weights:
        tail = (
            f" (weights from {weights}{origin})"
            if weights
            else " (untrained weights: none saved with the project, and no run of it fits)"
        )
    print(f"Wrote {done.path}{tail}")
    for note in done.notes:
        print(note)
    return 0


def _default_weights(project, given: str | None) -> tuple[Path | None, str]:
    """--weights W; else the weights saved with the project; else its latest finished run's
    that fit the model. Returns (path or None, how it was chosen, for the message)."""
    from designer.core.runs.store import latest_fitting_weights

    if given:
        return existing(given), ""
    saved = project.weights_path
    if saved is not None and saved.is_file():
        return saved, ""
    run = latest_fitting_weights(project)
    if run is None:
        return None, ""
    return run.weights_path, f": the latest run that fits, {run.id}"
