"""The `netcanvas` command: every subcommand, exit codes 0/1/2, one-line errors."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch

from designer.cli import main
from designer.core.examples import example_path
from designer.core.project_io import load_project, save_project
from designer.core.weights import load_weights, save_weights
from tests.core.test_examples import EXPECTED

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture
def iris(tmp_path) -> Path:
    path = tmp_path / "flowers.netcanvas"
    assert main(["new", "--example", "iris_mlp", "-o", str(path)]) == 0
    return path


def one_line_error(capsys, code: int, expected_code: int = 2) -> str:
    out = capsys.readouterr()
    assert code == expected_code
    assert "Traceback" not in out.err + out.out
    lines = out.err.strip().splitlines()
    assert len(lines) == 1, out.err
    assert lines[0].startswith("netcanvas: error: ")
    return lines[0]


# -- new / examples --------------------------------------------------------------------------
def test_examples_lists_every_example(capsys):
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    for name in EXPECTED:
        assert name in out


def test_new_copies_the_example_under_the_new_name(tmp_path, capsys):
    path = tmp_path / "flowers.netcanvas"
    assert main(["new", "--example", "iris_mlp", "-o", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"Created {path} from the example 'iris_mlp'"
    project = load_project(path)
    assert project.name == "flowers"  # the file name, not the example's
    assert project.graph.same_as(load_project(example_path("iris_mlp")).graph)


def test_new_refuses_to_overwrite_and_unknown_examples(iris, capsys):
    capsys.readouterr()
    line = one_line_error(capsys, main(["new", "--example", "digits_cnn", "-o", str(iris)]))
    assert line.endswith("already exists (add --force to overwrite it)")
    assert load_project(iris).name == "flowers"
    assert main(["new", "--example", "digits_cnn", "-o", str(iris), "--force"]) == 0
    assert load_project(iris).training.data.name == "digits"
    capsys.readouterr()
    line = one_line_error(
        capsys, main(["new", "--example", "mnist", "-o", str(iris.with_name("x.netcanvas"))])
    )
    assert "no example named 'mnist'; the examples are: iris_mlp" in line


# -- validate --------------------------------------------------------------------------------
def test_validate_valid_project(iris, capsys):
    assert main(["validate", str(iris)]) == 0
    assert capsys.readouterr().out.strip() == f"{iris}: valid · 131 params"


def test_validate_lists_each_problem_and_exits_1(iris, capsys):
    project = load_project(iris)
    project.graph.remove_node(project.graph.by_name("input").id)  # "hidden" loses its input
    save_project(project, iris)
    capsys.readouterr()
    assert main(["validate", str(iris)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith(f"{iris}: ") and "error" in lines[0]
    assert any(line.startswith("  error: [hidden] ") for line in lines[1:]), lines


def test_validate_malformed_file_is_invalid_with_the_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.netcanvas"
    data = json.loads((DATA / "format2.netcanvas").read_text("utf-8"))
    data["nodes"][1]["params"]["out_features"] = -2
    bad.write_text(json.dumps(data), "utf-8")
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out.strip()
    assert out == f"{bad}: nodes[1].params.out_features: expected an integer ≥ 1, got -2"


def test_validate_old_format_file(capsys):
    assert main(["validate", str(DATA / "format1.netcanvas")]) == 0
    assert "valid · 1,386 params" in capsys.readouterr().out


# -- summary ---------------------------------------------------------------------------------
def test_summary_table(capsys):
    assert main(["summary", str(example_path("digits_cnn"))]) == 0
    out = capsys.readouterr().out
    for text in ("conv1", "Conv2d", "N×16×8×8", "N×32×4×4", "N×512", "N×10", "38,282", "117,376"):
        assert text in out, text
    assert "Traceback" not in out


def test_summary_json_matches_the_analysis(capsys):
    assert main(["summary", str(example_path("residual_net")), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_params"] == sum(r["params"] for r in data["layers"]) == 21_450
    assert data["total_macs"] == sum(r["macs"] for r in data["layers"])
    first = data["layers"][0]
    assert (first["name"], first["type"], first["output_shape"]) == ("input", "Input", [64])
    adds = [r for r in data["layers"] if r["type"] == "Add"]
    assert len(adds) == 2 and all(r["output_shape"] == [64] for r in adds)


def test_summary_of_an_invalid_project_exits_1(iris, capsys):
    project = load_project(iris)
    project.graph.remove_node(project.graph.by_name("relu").id)
    save_project(project, iris)
    assert main(["summary", str(iris)]) == 1
    assert "error" in capsys.readouterr().err


# -- export ----------------------------------------------------------------------------------
def test_export_python_and_script(iris, tmp_path, capsys):
    out = tmp_path / "model.py"
    assert main(["export", str(iris), "--format", "python", "-o", str(out)]) == 0
    namespace: dict = {}
    exec(compile(out.read_text("utf-8"), str(out), "exec"), namespace)  # noqa: S102
    assert namespace["make_model"]()(torch.zeros(2, 4)).shape == (2, 3)
    script = tmp_path / "train.py"
    assert main(["export", str(iris), "-f", "script", "-o", str(script)]) == 0
    ast.parse(script.read_text("utf-8"))
    assert f"Wrote {script}" in capsys.readouterr().out


def test_export_pt2_uses_given_weights(iris, tmp_path, capsys):
    from designer.core.compiler import build_model

    model, _ = build_model(load_project(iris).graph)
    weights = save_weights(model, tmp_path / "trained.safetensors")
    out = tmp_path / "model.pt2"
    assert main(["export", str(iris), "-f", "pt2", "-o", str(out), "--weights", str(weights)]) == 0
    assert f"weights from {weights}" in capsys.readouterr().out
    x = torch.randn(4, 4)
    assert torch.allclose(torch.export.load(str(out)).module()(x), model(x))


def test_export_onnx_picks_up_weights_beside_the_project(iris, tmp_path, capsys):
    from designer.core.compiler import build_model

    model, _ = build_model(load_project(iris).graph)
    save_weights(model, iris.with_suffix(".safetensors"))
    out = tmp_path / "model.onnx"
    assert main(["export", str(iris), "-f", "onnx", "-o", str(out)]) == 0
    assert f"weights from {iris.with_suffix('.safetensors')}" in capsys.readouterr().out
    assert out.stat().st_size > 0


def test_export_user_errors(iris, tmp_path, capsys):
    cases = [
        (
            ["export", str(iris), "-f", "python", "-o", str(tmp_path / "m.py"), "--weights", "w"],
            "--weights applies",
        ),
        (["export", str(iris), "-f", "java", "-o", "m.java"], "invalid choice: 'java'"),
        (["export", str(iris), "-f", "pt2"], "the following arguments are required: -o/--output"),
        (
            [
                "export",
                str(iris),
                "-f",
                "pt2",
                "-o",
                str(tmp_path / "m.pt2"),
                "--weights",
                "nope.st",
            ],
            "nope.st: no such file",
        ),
        (
            ["export", str(iris), "-f", "python", "-o", str(tmp_path / "no" / "m.py")],
            "does not exist",
        ),
    ]
    for argv, expected in cases:
        assert expected in one_line_error(capsys, main(argv)), argv


def test_export_with_weights_of_another_model(iris, tmp_path, capsys):
    from designer.core.compiler import build_model

    other = save_weights(
        build_model(load_project(example_path("coffee_regression")).graph)[0], tmp_path / "w.st"
    )
    line = one_line_error(
        capsys,
        main(
            [
                "export",
                str(iris),
                "-f",
                "pt2",
                "-o",
                str(tmp_path / "m.pt2"),
                "--weights",
                str(other),
            ]
        ),
    )
    assert "does not fit this model: tensor 'hidden.weight' is missing from the file" in line


# -- train -----------------------------------------------------------------------------------
def test_train_writes_weights_that_fit_the_project(iris, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(iris), "--epochs", "3", "--device", "cpu", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Trained flowers: epochs 3" in printed and "test_accuracy" in printed
    from designer.core.compiler import build_model

    model, _ = build_model(load_project(iris).graph)
    load_weights(model, out / "weights.safetensors")  # raises if they don't fit


def test_train_user_errors(iris, capsys):
    assert "--epochs: expected an integer ≥ 1, got 0" in one_line_error(
        capsys, main(["train", str(iris), "--epochs", "0"])
    )
    assert "invalid choice: 'tpu'" in one_line_error(
        capsys, main(["train", str(iris), "--device", "tpu"])
    )


# -- errors and the app ----------------------------------------------------------------------
def test_user_errors_are_one_line_exit_2(tmp_path, capsys):
    broken = tmp_path / "broken.netcanvas"
    broken.write_text("{nope", "utf-8")
    cases = [
        (
            ["summary", str(tmp_path / "gone.netcanvas")],
            f"{tmp_path / 'gone.netcanvas'}: no such file",
        ),
        (["summary", str(broken)], f"{broken}: is not valid JSON (line 1, column 2"),
        (["bogus", "x"], "'bogus' is neither a command nor an existing file"),
        (["validate"], "the following arguments are required: FILE"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    ]
    for argv, expected in cases:
        assert expected in one_line_error(capsys, main(argv)), argv


def test_help_and_version_exit_0(capsys):
    assert main(["--help"]) == 0
    assert "validate" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("netcanvas ")


@pytest.fixture
def fake_app(monkeypatch):
    calls = []
    module = types.ModuleType("designer.app")
    module.main = lambda argv: calls.append(list(argv)) or 0
    monkeypatch.setitem(sys.modules, "designer.app", module)
    return calls


def test_no_command_opens_the_app(fake_app, tmp_path):
    project = tmp_path / "model.netcanvas"
    project.write_text("{}")
    assert main([]) == 0
    assert main([str(project)]) == 0
    assert fake_app == [[], [str(project)]]


def test_console_script_in_a_real_process(iris, tmp_path):
    exe = Path(sys.executable).with_name("netcanvas")
    ok = subprocess.run(
        [str(exe), "validate", str(iris)], capture_output=True, text=True, timeout=60
    )
    assert (ok.returncode, ok.stdout.strip()) == (0, f"{iris}: valid · 131 params")
    bad = subprocess.run(
        [str(exe), "validate", str(tmp_path / "nope.netcanvas")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip() == f"netcanvas: error: {tmp_path / 'nope.netcanvas'}: no such file"
