"""The CLI contract: a user error is one line on stderr and exit 2, never a traceback, never a
hang; a failed `train` leaves nothing behind; no display means one line, not a Qt abort."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from designer.cli import main
from designer.core import limits
from tests.core.test_cli import one_line_error


@pytest.fixture
def iris(tmp_path) -> Path:
    path = tmp_path / "flowers.netcanvas"
    assert main(["new", "--example", "iris_mlp", "-o", str(path)]) == 0
    return path


def _headless_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    env["PYTHONPATH"] = os.getcwd()
    return env


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "designer", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_headless_env(),
    )


def test_train_out_naming_a_file(iris, tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    line = one_line_error(capsys, main(["train", str(iris), "--out", str(tmp_path / "taken")]))
    assert "is a file, not a folder" in line


def test_train_out_in_a_read_only_place(iris, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        target = locked / "run" if not os.access(locked, os.W_OK) else Path("/sys/netcanvas-run")
        if not target.parent.exists():
            pytest.skip("no read-only folder to try (running as root without /sys)")
        line = one_line_error(capsys, main(["train", str(iris), "--out", str(target)]))
        assert "--out" in line and ("can't create" in line or "not writable" in line)
        assert not target.exists()
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize(
    "make",
    [lambda t: t / ("p" * 300) / "run", lambda t: t / "/".join(["d" * 200] * 25)],
    ids=["part over 255", "path over 4096"],
)
def test_train_out_with_a_too_long_path(iris, tmp_path, capsys, make):
    line = one_line_error(capsys, main(["train", str(iris), "--out", str(make(tmp_path))]))
    assert "--out" in line and "File name too long" in line
    assert len(line) < 400  # the path is clipped


@pytest.mark.parametrize("command", ["validate", "summary", "train"])
def test_a_too_long_project_path(command, tmp_path, capsys):
    line = one_line_error(capsys, main([command, str(tmp_path / ("p" * 300 + ".netcanvas"))]))
    assert "File name too long" in line and "…" in line


def test_a_failed_train_leaves_no_empty_out_folder(tmp_path, capsys):
    bad = tmp_path / "broken.netcanvas"
    assert main(["new", "--example", "iris_mlp", "-o", str(bad)]) == 0
    data = json.loads(bad.read_text("utf-8"))
    data["training"]["data"] = {"source": "csv", "path": str(tmp_path / "missing.csv")}
    bad.write_text(json.dumps(data), "utf-8")
    out = tmp_path / "new" / "run"
    one_line_error(capsys, main(["train", str(bad), "--out", str(out)]))
    assert not (tmp_path / "new").exists()


def test_train_takes_batch_size_and_lr_overrides(iris, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", str(iris), "--epochs", "1", "--batch-size", "7", "--lr", "0.003", "--out", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    runs = list((iris.parent / "runs").rglob("run.json"))
    settings = json.loads(runs[0].read_text("utf-8"))["settings"]
    assert (settings["batch_size"], settings["lr"]) == (7, 0.003)
    capsys.readouterr()
    line = one_line_error(capsys, main(["train", str(iris), "--batch-size", "0"]))
    assert "--batch-size" in line


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.parametrize("command", ["validate", "summary", "train"])
def test_a_fifo_as_the_project_does_not_hang(tmp_path, command):
    fifo = tmp_path / "pipe.netcanvas"
    os.mkfifo(fifo)
    result = _cli(command, str(fifo), timeout=30)  # before: validate blocked forever
    assert result.returncode == 2, result
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("is not a regular file")


def test_validate_reports_a_folder_like_every_other_command(tmp_path, capsys):
    line = one_line_error(capsys, main(["validate", str(tmp_path)]))
    assert "is a folder" in line


def test_a_too_big_model_is_one_line_from_train_and_export(tmp_path, capsys, monkeypatch):
    path = tmp_path / "big.netcanvas"
    assert main(["new", "--example", "iris_mlp", "-o", str(path)]) == 0
    data = json.loads(path.read_text("utf-8"))
    hidden = next(n for n in data["nodes"] if n["type"] == "linear")
    hidden["params"]["out_features"] = 10_000_000_000 // 4  # a 40 GB Linear
    path.write_text(json.dumps(data), "utf-8")
    monkeypatch.setattr(limits, "available_memory", lambda: 8 * 2**30)
    capsys.readouterr()
    for args in (["train", str(path)], ["export", str(path), "--format", "onnx", "-o", str(tmp_path / "m.onnx")]):  # fmt: skip
        line = one_line_error(capsys, main(args))
        assert "too big to build" in line and "make its layers smaller" in line
        assert "batch" not in line


def test_no_display_typo_is_a_usage_error_not_a_qt_abort():
    result = _cli("valdate")
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "did you mean 'validate'" in lines[0], result.stderr


def test_a_missing_file_is_a_usage_error(tmp_path):
    result = _cli(str(tmp_path / "missing.netcanvas"))
    assert result.returncode == 2
    assert "neither a command nor an existing file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_display_says_so_in_one_line(iris):
    result = _cli(str(iris))
    assert result.returncode == 2, result
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("netcanvas: error: no display") and "netcanvas validate" in line


def test_validate_clips_a_20_mb_value(tmp_path, capsys):
    path = tmp_path / "huge.netcanvas"
    data = {"format_version": 3, "nodes": [], "edges": [], "training": {"optimizer": "x" * 20_000_000}}  # fmt: skip
    path.write_text(json.dumps(data), "utf-8")
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert len(out) < 400 and "20,000,000" in out
