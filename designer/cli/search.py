"""`netcanvas search FILE`: a hyperparameter search on Optuna; each trial is a recorded run.

Several workers share one study: run the same command (same --storage and --study) in
several terminals or on several machines (PostgreSQL/MySQL URL, or a journal file on a
shared disk). --trials is each worker's count, as in Optuna.
"""

from __future__ import annotations

from designer.cli.common import UsageError, existing, load, num

NAME = "search"
HELP = "search hyperparameters with Optuna (every trial is a recorded run)"


def add_arguments(p) -> None:
    from designer.core.runs.search import PRUNERS, SAMPLERS

    p.add_argument("file", metavar="FILE")
    p.add_argument("--trials", type=int, default=20, metavar="N", help="trials for this worker")
    p.add_argument("--timeout", type=float, metavar="S", help="stop starting trials after S s")
    p.add_argument("--storage", metavar="URL", help="sqlite:///F, postgresql://…, journal:F")
    p.add_argument("--study", metavar="NAME", help="study name (default: the project's name)")
    p.add_argument("--sampler", choices=SAMPLERS, default="tpe")
    p.add_argument("--pruner", choices=PRUNERS, default="median")
    p.add_argument("--seed", type=int, metavar="N", help="sampler seed (one worker only)")
    p.add_argument("--metric", metavar="NAME", help="default: test_accuracy or test_loss")
    p.add_argument("--epochs", type=int, metavar="N", help="epochs per trial")
    p.add_argument("--space", metavar="FILE", help="search space JSON (default: FILE.search.json)")
    p.add_argument("--lr", metavar="LOW:HIGH", help="learning rate, log range")
    p.add_argument("--weight-decay", metavar="LOW:HIGH", help="weight decay, log range")
    p.add_argument("--batch-size", metavar="A,B,…", help="batch sizes to try")
    p.add_argument("--optimizer", metavar="A,B,…", help="optimizers to try")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="LAYER.PARAM=LOW:HIGH",
        help="a layer parameter range (hidden.out_features=4:64); repeatable",
    )
    p.add_argument("--quiet", action="store_true", help="no line per trial")


def build_space(args, project, path):
    from designer.core.runs.space import (
        Dimension,
        SearchSpace,
        SpaceError,
        load_space,
        node_target,
        space_path,
    )

    if args.space:
        space = load_space(args.space)
    elif space_path(path).is_file():
        space = load_space(space_path(path))
    else:
        space = SearchSpace()
    if args.lr:
        space.set(Dimension("lr", *_range(args.lr, "--lr"), log=True))
    if args.weight_decay:
        space.set(Dimension("weight_decay", *_range(args.weight_decay, "--weight-decay"), log=True))
    if args.batch_size:
        space.set(Dimension("batch_size", choices=tuple(_ints(args.batch_size, "--batch-size"))))
    if args.optimizer:
        space.set(Dimension("optimizer", choices=tuple(args.optimizer.split(","))))
    for item in args.param:
        name, _, rng = item.partition("=")
        layer, _, param = name.rpartition(".")
        if not layer or not rng:
            raise UsageError(f"--param {item}: expected LAYER.PARAM=LOW:HIGH")
        try:
            node = project.graph.by_name(layer)
        except Exception:  # noqa: BLE001
            raise UsageError(f"--param {item}: no layer named {layer!r}") from None
        space.set(Dimension(node_target(node.id, param), *_range(rng, "--param")))
    try:
        space.check(project)
    except SpaceError as e:
        raise UsageError(str(e)) from None
    return space


def _range(text: str, flag: str) -> tuple[float, float]:
    low, sep, high = text.partition(":")
    try:
        return float(low), float(high)
    except ValueError:
        raise UsageError(f"{flag} {text}: expected LOW:HIGH, like 1e-5:10") from None


def _ints(text: str, flag: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"{flag} {text}: expected integers separated by commas") from None


def run(args) -> int:
    import optuna

    from designer.core.runs.search import SearchSettings, run_search
    from designer.core.runs.store import runs_root

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path = existing(args.file)
    project = load(path)
    if args.trials < 1:
        raise UsageError(f"--trials: expected an integer ≥ 1, got {args.trials}")
    if args.epochs is not None and args.epochs < 1:
        raise UsageError(f"--epochs: expected an integer ≥ 1, got {args.epochs}")
    space = build_space(args, project, path)
    settings = SearchSettings(
        trials=args.trials,
        timeout=args.timeout,
        sampler=args.sampler,
        pruner=args.pruner,
        seed=args.seed,
        metric=args.metric,
        epochs=args.epochs,
        storage=args.storage,
        study=args.study,
    )

    def show(t) -> None:
        if not args.quiet:
            value = _value(t.value)
            params = ", ".join(
                f"{k} {num(v) if isinstance(v, int | float) else v}" for k, v in t.params.items()
            )
            print(f"trial {t.number}: {t.state} {value} ({params}) run {t.run}", flush=True)

    result = run_search(project, space, settings, runs_root(path), on_trial=show)
    done = len(result.trials)
    print(f"Study {result.study} in {result.storage}: {done} trials by this worker")
    if result.best is not None:
        params = ", ".join(f"{k} {v}" for k, v in result.best.params.items())
        print(
            f"Best: trial {result.best.number}, {result.metric} {_value(result.best.value)} ({params})"
        )
    return 0


def _value(value: float | None) -> str:
    return "—" if value is None else num(value)
