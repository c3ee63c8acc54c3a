"""Hyperparameter search on Optuna: each trial is a recorded run (see record.py).

Optuna does the searching (TPE by default), the pruning (its pruners, fed every epoch's
metric through `trial.report`) and the bookkeeping of a study in a storage that several
workers can share: an embedded SQLite file beside the project by default, a PostgreSQL or
MySQL URL, or a journal file (`journal:PATH`) for processes on one machine or a shared disk.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from designer.core.errors import NetcanvasError, first_line
from designer.core.runs.record import RunRecorder, effective, epoch_metrics
from designer.core.runs.space import SearchSpace, apply
from designer.core.training.events import Control, EpochEnd, Failed

SAMPLERS = ("tpe", "random", "qmc")
PRUNERS = ("median", "hyperband", "halving", "none")
CLASSIFICATION_LOSSES = ("cross_entropy", "bce_with_logits")


class SearchError(NetcanvasError):
    """A search that can't start (bad storage URL, unknown sampler…)."""


class TrialFailed(NetcanvasError):
    """A trial whose training failed (NaN loss at a huge learning rate): recorded, and the
    study goes on."""


@dataclass
class SearchSettings:
    trials: int = 20  # per worker, as Optuna's n_trials
    timeout: float | None = None  # seconds, per worker
    sampler: str = "tpe"
    pruner: str = "median"
    seed: int | None = None  # sampler seed; leave None when several workers share a study
    metric: str | None = None  # default: test_accuracy (classification) or test_loss
    epochs: int | None = None  # override the project's epochs for every trial
    storage: str | None = None  # default: sqlite beside the project
    study: str | None = None  # default: the project's name


@dataclass(frozen=True)
class TrialResult:
    number: int
    state: str  # "complete", "pruned", "fail"
    value: float | None
    params: dict[str, object]  # label -> value
    targets: dict[str, object]  # dimension target -> value (what `apply` takes)
    run: str | None  # the run folder's name
    seconds: float


@dataclass
class SearchResult:
    study: str
    storage: str
    metric: str
    direction: str
    trials: list[TrialResult] = field(default_factory=list)
    best: TrialResult | None = None
    training_seconds: float = 0.0  # preparing data and model, and training
    recording_seconds: float = 0.0  # writing the trials' run folders
    bookkeeping_seconds: float = 0.0  # the rest: Optuna (sample, report, prune, tell, storage)


def default_metric(project) -> str:
    return "test_accuracy" if project.training.loss in CLASSIFICATION_LOSSES else "test_loss"


def direction_of(metric: str) -> str:
    return "maximize" if "accuracy" in metric else "minimize"


def default_storage(project_path: str | os.PathLike | None) -> str:
    if project_path is None:
        raise SearchError("save the project first: its study is stored beside it")
    p = Path(project_path).resolve()
    return f"sqlite:///{p.with_name(p.stem + '.optuna.db')}"


def open_storage(url: str):
    """An Optuna storage for `url`: sqlite:///…, postgresql://…, mysql://…, or a journal
    file given as journal:PATH (or a path ending in .journal / .log)."""
    import optuna

    if url.startswith("journal:") or url.endswith((".journal", ".log")):
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        path = url.removeprefix("journal:")
        return JournalStorage(JournalFileBackend(path))
    if "://" not in url:
        raise SearchError(
            f"--storage {url}: expected a database URL (sqlite:///FILE, postgresql://…, "
            "mysql://…) or journal:FILE"
        )
    kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    for attempt in range(5):  # NOTE: workers starting together race to create the tables
        try:
            storage = optuna.storages.RDBStorage(url, engine_kwargs=kwargs or None)
            if url.startswith("sqlite"):
                _sqlite_wal(storage.engine)
            return storage
        except Exception as e:  # noqa: BLE001
            if attempt == 4:
                raise SearchError(
                    f"--storage: could not open {_safe(url)}: {first_line(e)}"
                ) from None
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def _sqlite_wal(engine) -> None:
    """SQLite in WAL mode with normal syncing: a commit no longer waits for two fsyncs, and
    readers (the other workers) don't block the writer. A power cut can lose the last trials'
    writes, never corrupt the study."""
    from sqlalchemy import event

    def on_connect(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(engine, "connect", on_connect)
    engine.dispose()  # connections opened so far were made without it


def make_sampler(name: str, seed: int | None):
    import optuna

    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "qmc":
        return optuna.samplers.QMCSampler(seed=seed)
    raise SearchError(f"sampler {name!r}: expected one of {', '.join(SAMPLERS)}")


def make_pruner(name: str):
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if name == "none":
        return optuna.pruners.NopPruner()
    raise SearchError(f"pruner {name!r}: expected one of {', '.join(PRUNERS)}")


def run_search(
    project,
    space: SearchSpace,
    settings: SearchSettings,
    runs_root: str | os.PathLike,
    *,
    base_dir: Path | None = None,
    on_trial: Callable[[TrialResult], None] | None = None,
    control: Control | None = None,
) -> SearchResult:
    """Run `settings.trials` trials (this worker's share) of the project's study."""
    import optuna

    space.check(project)
    control = control or Control()
    metric = settings.metric or default_metric(project)
    direction = direction_of(metric)
    url = settings.storage or default_storage(project.path)
    name = settings.study or project.name
    storage = open_storage(url)
    sampler, pruner = make_sampler(settings.sampler, settings.seed), make_pruner(settings.pruner)
    try:
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            direction="maximize" if direction == "maximize" else "minimize",
            sampler=sampler,
            pruner=pruner,
            load_if_exists=True,
        )
    except ValueError as e:  # an existing study with the other direction
        raise SearchError(f"study {name!r}: {e}") from None
    if study.direction.name.lower() != direction:
        raise SearchError(
            f"study {name!r} {study.direction.name.lower()}s; this search {direction}s {metric}"
        )
    base = effective(project, epochs=settings.epochs)
    if base_dir is None and project.path is not None:
        base_dir = Path(project.path).parent
    result = SearchResult(name, _safe(url), metric, direction)
    clock = {"train": 0.0, "record": 0.0}

    def objective(trial):
        targets = {d.target: _suggest(trial, d, base) for d in space.dimensions}
        trial.set_user_attr("targets", targets)
        trial_project = apply(base, targets)
        info = {"study": name, "number": trial.number, "params": dict(trial.params)}
        began = time.perf_counter()
        recorder = RunRecorder(trial_project, runs_root, source="search", trial=info)
        clock["record"] += time.perf_counter() - began
        trial.set_user_attr("run", recorder.dir.name)
        value, pruned = _train_trial(
            trial, trial_project, base_dir, recorder, metric, control, clock
        )
        state = "pruned" if pruned else "complete" if value is not None else "fail"
        began = time.perf_counter()
        recorder.update(trial=info | {"state": state, "value": value})
        clock["record"] += time.perf_counter() - began
        if pruned:
            raise optuna.TrialPruned()
        if value is None:
            raise TrialFailed(recorder.info.get("failure", {}).get("message", "no value"))
        return value

    def callback(study, frozen) -> None:
        res = _result(frozen)
        result.trials.append(res)
        if on_trial is not None:
            on_trial(res)
        if control.stopped:
            study.stop()

    began = time.perf_counter()
    study.optimize(
        objective,
        n_trials=settings.trials,
        timeout=settings.timeout,
        catch=(TrialFailed,),
        callbacks=[callback],
        gc_after_trial=False,
    )
    result.training_seconds, result.recording_seconds = clock["train"], clock["record"]
    result.bookkeeping_seconds = time.perf_counter() - began - clock["train"] - clock["record"]
    result.best = best_trial(study)
    return result


def _train_trial(trial, project, base_dir, recorder, metric, control, clock):
    """Train one trial, reporting `metric` every epoch. Returns (final value or None, pruned).
    Adds its training and recording time (not Optuna's) to `clock`."""
    from optuna.pruners import NopPruner

    from designer.core.training.doctor.watch import Diagnosed, context_for, doctored
    from designer.core.training.engine import prepare, train
    from designer.core.training.failures import explain
    from designer.core.training.prepare import node_of

    began = time.perf_counter()
    try:
        model, source, data = prepare(project, base_dir)
    except Exception as exc:  # noqa: BLE001 - a trial that can't start is a failed trial
        recorder.observe(explain(exc, project.training))
        recorder.finish(status="failed")
        return None, False
    nodes = node_of(source)
    raw = train(model, data, project.training, control, nodes)
    ctx = context_for(model, data, project.training, project.graph, nodes)
    events = doctored(raw, model, data, project.training, ctx, every=None)  # curve detectors
    diagnoses: list[dict] = []
    pruned, in_optuna = False, 0.0
    prunes = not isinstance(trial.study.pruner, NopPruner)  # reports cost a storage write each
    for event in events:
        recorder.observe(event)
        if isinstance(event, EpochEnd):
            value = epoch_metrics(event).get(metric)
            if value is not None and math.isfinite(value) and prunes:
                asked = time.perf_counter()
                trial.report(value, event.epoch)
                pruned = trial.should_prune()
                in_optuna += time.perf_counter() - asked
                if pruned:
                    break
        elif isinstance(event, Diagnosed):
            diagnoses.append(event.diagnosis.to_dict())
        elif isinstance(event, Failed):
            break
    events.close()
    raw.close()
    finishing = time.perf_counter()
    clock["train"] += finishing - began - in_optuna
    run = recorder.finish(model, status="pruned" if pruned else None, diagnoses=diagnoses)
    clock["record"] += time.perf_counter() - finishing
    if run.status == "failed":
        return None, False
    return run.metric(metric), pruned


def _suggest(trial, d, project):
    label = d.label(project)
    if d.choices is not None:
        return trial.suggest_categorical(label, list(d.choices))
    if d.kind(project) is int:
        return trial.suggest_int(label, int(d.low), int(d.high), log=d.log)
    return trial.suggest_float(label, float(d.low), float(d.high), log=d.log)


def _result(frozen) -> TrialResult:
    seconds = (
        (frozen.datetime_complete - frozen.datetime_start).total_seconds()
        if frozen.datetime_complete and frozen.datetime_start
        else 0.0
    )
    return TrialResult(
        frozen.number,
        frozen.state.name.lower(),
        frozen.value,
        dict(frozen.params),
        dict(frozen.user_attrs.get("targets", {})),
        frozen.user_attrs.get("run"),
        seconds,
    )


def best_trial(study) -> TrialResult | None:
    try:
        return _result(study.best_trial)
    except ValueError:  # no complete trial yet
        return None


def study_trials(storage_url: str, study: str) -> list[TrialResult]:
    """Every trial of a stored study (all workers'), in order."""
    import optuna

    try:
        loaded = optuna.load_study(study_name=study, storage=open_storage(storage_url))
    except KeyError:
        raise SearchError(f"no study {study!r} in {_safe(storage_url)}") from None
    return [_result(t) for t in loaded.get_trials(deepcopy=False)]


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url
