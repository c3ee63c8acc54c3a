"""`netcanvas train FILE`: train a project without the app, writing a run folder."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

from designer.cli.common import UsageError, existing, load, num

NAME = "train"
HELP = "train a project without the app"
DEVICES = ("auto", "cpu", "cuda", "mps")


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--epochs", type=int, metavar="N", help="override the project's epochs")
    p.add_argument("--device", choices=DEVICES, help="override the project's device")
    p.add_argument("--batch-size", type=int, metavar="N", help="override the project's batch size")
    p.add_argument("--lr", type=float, metavar="RATE", help="override the learning rate")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a training setting for this run (repeatable): --set lr=0.01",
    )
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
    from designer.core.training.doctor.remedy import with_settings

    path = existing(args.file)
    project = load(path)
    _show_downloads()
    if args.epochs is not None and args.epochs < 1:
        raise UsageError(f"--epochs: expected an integer ≥ 1, got {args.epochs}")
    if args.init_from:
        existing(args.init_from)
        start = str(Path(args.init_from).resolve())
        project.training = dataclasses.replace(project.training, init_from=start)
    project = _overridden(project, batch_size=args.batch_size, lr=args.lr)
    settings = parse_settings(args.set)
    if settings:  # the run (and its record) trains with these, the file stays as it is
        project = dataclasses.replace(project, training=with_settings(project.training, settings))
    out = Path(args.out) if args.out else None
    created = _check_out(out) if out is not None else []
    try:
        result, recorded = record_cli_run(
            project, runs_root(path), epochs=args.epochs, device=args.device, out=out
        )
    except BaseException:
        for folder in reversed(created):  # a failed run leaves no empty --out folder behind
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    out = out or recorded.path
    shown = ", ".join(f"{k} {num(v)}" for k, v in result.items() if isinstance(v, int | float))
    print(f"Trained {project.name}: {shown}")
    for d in result["diagnoses"]:  # said in full while training; here the cause and the fix
        flag = f": try {d['suggested_flag']}" if d.get("suggested_flag") else ""
        print(f"doctor: {d['title']} (epoch {d['epoch']}){flag}")
    print(f"Wrote {out} (weights: {out / 'weights.safetensors'})")
    print(f"Recorded run {recorded.id} in {recorded.path.parent}")
    if args.tensorboard:
        from designer.core.runs.tensorboard import write_scalars

        print(f"TensorBoard scalars: {write_scalars(recorded, args.tensorboard)}")
    return 0


def _overridden(project, **overrides):
    """`project` with the given training settings replaced (each checked like the file's)."""
    import dataclasses

    from designer.core.errors import ParamError
    from designer.core.training.config import TRAINING_SPECS

    values = {}
    for name, value in overrides.items():
        if value is None:
            continue
        try:
            values[name] = TRAINING_SPECS[name].check(value)
        except ParamError as e:
            raise UsageError(f"--{name.replace('_', '-')}: {e.reason}") from None
    if not values:
        return project
    return dataclasses.replace(project, training=dataclasses.replace(project.training, **values))


def _check_out(out: Path) -> list[Path]:
    """Make sure --out can be written before training (UsageError says why not). Returns the
    folders it created, so that a failed run can remove them again."""
    from designer.core.limits import clip

    shown = clip(str(out))
    try:
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {shown}: is a file, not a folder")
        missing = [p for p in (out, *out.parents) if not p.exists()]
        for folder in reversed(missing):
            folder.mkdir()
    except OSError as e:
        raise UsageError(f"--out {shown}: can't create the folder: {e.strerror or e}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"--out {shown}: the folder is not writable")
    probe = out / ".netcanvas-write-test"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        for folder in missing:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise UsageError(f"--out {shown}: the folder is not writable: {e.strerror or e}") from None
    return list(reversed(missing))


def parse_settings(items: list[str]) -> dict:
    """`--set key=value` items -> {key: value}, each value checked by the setting's spec."""
    from designer.core.errors import ParamError
    from designer.core.training.config import TRAINING_SPECS

    out: dict = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or key not in TRAINING_SPECS:
            known = ", ".join(TRAINING_SPECS)
            raise UsageError(f"--set {item}: expected KEY=VALUE with KEY one of {known}")
        spec = TRAINING_SPECS[key]
        try:
            value = (
                spec.kind(text)
                if spec.kind is not bool
                else text.lower() in ("1", "true", "yes", "on")
            )
            out[key] = spec.check(value)
        except (ValueError, ParamError) as err:
            raise UsageError(f"--set {item}: {err}") from None
    return out


def _show_downloads() -> None:
    """A progress line on stderr while a built-in dataset (MNIST, ...) downloads."""
    from designer.cli.common import download_line
    from designer.core.data import downloads

    downloads.progress_hook = download_line
