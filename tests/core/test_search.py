"""Hyperparameter search on Optuna: trials are recorded runs, pruning is recorded, and several
worker processes share one study (SQLite, a journal file, and a real PostgreSQL server)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import optuna
import pytest

from designer.core.project_io import load_project
from designer.core.runs.search import SearchSettings, open_storage, run_search
from designer.core.runs.space import Dimension, SearchSpace, apply, node_target
from designer.core.runs.store import list_runs, runs_root
from tests.core import helpers

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ENV = "NETCANVAS_TEST_POSTGRES_URL"


def iris_file(tmp_path, epochs=8):
    return helpers.iris_file(tmp_path, epochs)


@pytest.mark.slow
def test_a_20_trial_iris_search_finds_a_good_model_and_records_pruned_trials(tmp_path):
    path = iris_file(tmp_path)
    project = load_project(path)
    hidden = project.graph.by_name("hidden").id
    space = SearchSpace(
        [
            Dimension("lr", 1e-5, 10.0, log=True),
            Dimension(node_target(hidden, "out_features"), 2, 64),
        ]
    )
    seen = []
    result = run_search(
        project, space, SearchSettings(trials=20, seed=0), runs_root(path), on_trial=seen.append
    )
    assert [t.number for t in seen] == list(range(20))  # shown live, one by one
    assert result.metric == "test_accuracy" and result.direction == "maximize"
    assert result.best is not None and result.best.value >= 0.93

    runs = {r.id: r for r in list_runs(runs_root(path))}
    assert len(runs) == 20
    study = optuna.load_study(study_name="iris_mlp", storage=result.storage)
    states = {t.number: t.state for t in study.trials}
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned, "the median pruner stopped no trial"
    for trial in study.trials:
        run = runs[trial.user_attrs["run"]]
        assert run.info["trial"]["number"] == trial.number
        assert run.info["trial"]["params"] == trial.params
        if states[trial.number] == optuna.trial.TrialState.PRUNED:
            assert run.status == "pruned" and run.info["trial"]["state"] == "pruned"
            assert run.info["epochs"] < 8  # stopped early: fewer epochs than asked
        elif states[trial.number] == optuna.trial.TrialState.COMPLETE:
            assert run.status == "finished" and run.metric("test_accuracy") == trial.value
        assert run.settings["lr"] == trial.params["lr"]
        assert (
            run.project().graph.nodes[hidden].params["out_features"]
            == (trial.params["hidden.out_features"])
        )

    best = apply(project, result.best.targets)  # "apply the best trial's settings"
    assert best.training.lr == result.best.params["lr"]
    assert (
        best.graph.nodes[hidden].params["out_features"] == result.best.params["hidden.out_features"]
    )
    assert project.training.lr == 0.01  # the original is untouched


def _worker(path, storage, study, trials):
    env = os.environ | {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "designer", "search", str(path), "--trials", str(trials)]
    cmd += ["--epochs", "3", "--lr", "1e-3:1e-1", "--storage", storage, "--study", study]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def check_two_workers(tmp_path, storage, study, trials=2):
    path = iris_file(tmp_path, epochs=3)
    workers = [_worker(path, storage, study, trials) for _ in range(2)]
    outputs = [w.communicate(timeout=300) for w in workers]
    for w, (out, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err
        assert out.count("trial ") >= trials
    loaded = optuna.load_study(study_name=study, storage=open_storage(storage))
    trials_done = loaded.get_trials(deepcopy=False)
    numbers = sorted(t.number for t in trials_done)
    assert numbers == list(range(2 * trials))  # no duplicates, none lost
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    assert all(t.state in finished for t in trials_done)
    runs = list_runs(runs_root(path))
    assert sorted(r.info["trial"]["number"] for r in runs) == numbers
    assert {r.id for r in runs} == {t.user_attrs["run"] for t in trials_done}
    assert {r.status for r in runs} <= {"finished", "pruned"}


def test_two_workers_share_one_journal_study(tmp_path):
    check_two_workers(tmp_path, f"journal:{tmp_path / 'study.journal'}", "shared")


def test_two_workers_share_one_sqlite_study(tmp_path):
    check_two_workers(tmp_path, f"sqlite:///{tmp_path / 'study.db'}", "shared")


def test_two_workers_share_one_postgresql_study(tmp_path):
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: .ci/run starts PostgreSQL and sets it")
        pytest.skip(f"{POSTGRES_ENV} not set (bash .ci/postgres.sh prints one)")
    study = f"netcanvas-test-{uuid.uuid4().hex[:8]}"
    try:
        check_two_workers(tmp_path, url, study)
    finally:
        optuna.delete_study(study_name=study, storage=open_storage(url))


def test_a_bad_storage_or_space_is_one_line(tmp_path, capsys):
    from designer.cli import main

    path = iris_file(tmp_path, epochs=1)
    assert main(["search", str(path), "--lr", "1e-3:1e-1", "--storage", "nowhere"]) == 2
    assert "expected a database URL" in capsys.readouterr().err
    assert main(["search", str(path), "--param", "nope.out_features=1:4"]) == 2
    assert "no layer named 'nope'" in capsys.readouterr().err
    assert main(["search", str(path), "--lr", "0:1"]) == 2
    assert "log range must start above 0" in capsys.readouterr().err
