"""One table of export formats (core/export.FORMATS) read by the CLI; honest fixed-batch exports."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from designer.cli import main
from designer.core.compiler import build_model
from designer.core.errors import first_line
from designer.core.examples import build_example
from designer.core.export import EXAMPLE_BATCH, FORMATS, ExportError, export, export_format
from designer.core.graph import Edge, Graph
from designer.core.layers import registry
from designer.core.layers.common import numel, one_input
from designer.core.layers.spec import InputSpec, LayerSpec, ModuleCode
from designer.core.project import Project
from designer.core.project_io import load_project, save_project
from designer.core.weights import WeightsError, load_state, read_weights, save_weights
from tests.core.helpers import iris_file


def cli_help(capsys, *argv) -> str:
    assert main([*argv, "--help"]) == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


def test_cli_export_help_lists_every_format_of_the_table(capsys):
    text = cli_help(capsys, "export")
    listed = re.search(r"--format \{([^}]*)\}", text).group(1).split(",")
    assert listed == [f.key for f in FORMATS]
    for fmt in FORMATS:
        assert f"{fmt.key}: {fmt.title}" in text
    assert "weights" in listed  # the GUI's weights export exists in the CLI too


def test_every_format_has_what_a_front_end_needs():
    keys = [f.key for f in FORMATS]
    assert len(set(keys)) == len(keys)
    for fmt in FORMATS:
        assert fmt.suffix.startswith(".") and f"*{fmt.suffix}" in fmt.file_filter
        assert fmt.note and fmt.title and fmt.weights in ("none", "optional", "required")
    with pytest.raises(ExportError, match="unknown export format 'java'; choose one of python"):
        export_format("java")


@pytest.fixture
def iris(tmp_path):
    return iris_file(tmp_path)


def test_cli_exports_trained_weights_checked_against_the_graph(iris, tmp_path, capsys):
    model, _ = build_model(load_project(iris).graph)
    trained = save_weights(model, tmp_path / "trained.safetensors")
    out = tmp_path / "copy.safetensors"
    argv = ["export", str(iris), "-f", "weights", "-o", str(out), "--weights", str(trained)]
    assert main(argv) == 0
    assert f"Wrote {out} (weights from {trained})" in capsys.readouterr().out
    saved = read_weights(out)
    assert all(torch.equal(saved[k], v) for k, v in model.state_dict().items())


def test_cli_weights_export_without_weights_is_a_usage_error(iris, tmp_path, capsys):
    out = tmp_path / "w.safetensors"
    assert main(["export", str(iris), "-f", "weights", "-o", str(out)]) == 2
    assert "--format weights needs trained weights: pass --weights W" in capsys.readouterr().err
    assert not out.exists()


def test_cli_export_after_train_uses_the_latest_run_whose_weights_fit(iris, tmp_path, capsys):
    assert main(["train", str(iris), "--epochs", "1"]) == 0
    first = capsys.readouterr().out
    run_id = re.search(r"Recorded run (\S+) in", first).group(1)
    out = tmp_path / "w.safetensors"
    assert main(["export", str(iris), "-f", "weights", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"the latest run that fits, {run_id}" in said
    trained = read_weights(next((tmp_path / "runs").rglob("weights.safetensors")))
    assert all(torch.equal(read_weights(out)[k], v) for k, v in trained.items())

    # Widen a layer: that run's weights no longer fit, so none is used (and it says so).
    project = load_project(iris)
    project.graph.set_param(project.graph.by_name("hidden").id, "out_features", 32)
    save_project(project, iris)
    assert main(["export", str(iris), "-f", "weights", "-o", str(out)]) == 2
    assert "netcanvas train records them in the project's runs folder" in capsys.readouterr().err


def test_cli_weights_export_refuses_weights_of_another_graph(iris, tmp_path, capsys):
    wider = build_example("iris_mlp").graph
    wider.set_param(wider.by_name("hidden").id, "out_features", 32)
    wrong = save_weights(build_model(wider)[0], tmp_path / "wide.safetensors")
    out = tmp_path / "w.safetensors"
    argv = ["export", str(iris), "-f", "weights", "-o", str(out), "--weights", str(wrong)]
    assert main(argv) == 2
    assert "tensor 'hidden.weight' is 32×4 in the file but 16×4" in capsys.readouterr().err
    assert not out.exists()


def test_one_weights_check_for_files_and_trained_state():
    model, _ = build_model(build_example("iris_mlp").graph)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["hidden.weight"] = torch.zeros(8, 4)
    with pytest.raises(WeightsError) as err:
        load_state(model, state)
    assert str(err.value) == (
        "The trained weights no longer fit the model on the canvas (it changed since training): "
        "tensor 'hidden.weight' is 8×4 in the weights but 16×4 in the model"
    )


def test_first_line_is_the_first_non_blank_line_clipped():
    assert first_line(ValueError("\n  bad value  \nmore")) == "bad value"
    assert first_line(ValueError("")) == "ValueError"
    assert first_line(KeyError("k"), with_type=True) == "KeyError: 'k'"
    assert first_line(RuntimeError("x" * 500), limit=10) == "x" * 9 + "…"


# -- honest export: a dynamic batch that fails is reported -------------------------------------
def _layer(type_id: str, forward) -> LayerSpec:
    return LayerSpec(
        type_id=type_id,
        title=type_id,
        category="Test",
        doc="",
        params=(),
        infer=lambda params, in_shapes: (numel(one_input(in_shapes)),),
        emit=lambda params, in_shapes: ModuleCode(None, lambda m, xs: forward(xs[0])),
        accepts=InputSpec(),
    )


@pytest.fixture
def project_with(monkeypatch):
    """A project Input(4) -> a test layer -> Output, the layer's forward text given."""

    def make(forward) -> Project:
        spec = _layer("test_layer", forward)
        monkeypatch.setitem(registry._SPECS, spec.type_id, spec)
        g = Graph()
        nodes = [g.add_node(t) for t in ("input", "test_layer", "output")]
        for a, b in zip(nodes, nodes[1:], strict=False):
            g.connect(Edge(a.id, b.id))
        return Project(graph=g, name="fixed")

    return make


def test_a_model_that_fixes_the_batch_is_never_exported_as_dynamic_onnx(project_with, tmp_path):
    import onnx
    from onnx.reference import ReferenceEvaluator

    project = project_with(lambda x: f"{x}.reshape({EXAMPLE_BATCH}, -1)")
    done = export(project, "onnx", tmp_path / "fixed.onnx")
    assert done.notes and done.notes[0].startswith(
        f"Exported with a fixed batch of {EXAMPLE_BATCH}"
    )
    model = onnx.load(str(done.path))
    (batch,) = model.graph.input[0].type.tensor_type.shape.dim[:1]
    assert batch.dim_value == EXAMPLE_BATCH and not batch.dim_param  # what the file claims
    got = ReferenceEvaluator(model).run(None, {model.graph.input[0].name: np.ones((2, 4), "f")})
    assert got[0].shape == (EXAMPLE_BATCH, 4)


def test_a_model_that_fixes_the_batch_exports_statically_and_says_so(
    project_with, tmp_path, capsys
):
    project = project_with(lambda x: f"{x}.reshape({EXAMPLE_BATCH}, -1)")
    done = export(project, "pt2", tmp_path / "fixed.pt2")
    assert done.notes == (
        f"Exported with a fixed batch of {EXAMPLE_BATCH} because a dynamic batch failed: "
        f"the model's code fixes the batch size; feed it batches of exactly {EXAMPLE_BATCH}.",
    )
    program = torch.export.load(str(done.path))
    assert program.module()(torch.ones(EXAMPLE_BATCH, 4)).shape == (EXAMPLE_BATCH, 4)
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do: the batch is fixed
        program.module()(torch.ones(EXAMPLE_BATCH + 1, 4))

    path = tmp_path / "fixed.netcanvas"
    save_project(project, path)
    out = tmp_path / "cli.pt2"
    assert main(["export", str(path), "-f", "pt2", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"Exported with a fixed batch of {EXAMPLE_BATCH} because" in printed


def test_an_export_that_fails_both_ways_gives_the_reason(project_with, tmp_path):
    project = project_with(lambda x: f"({x} if {x}.sum() > 0 else -{x})")
    with pytest.raises(ExportError) as err:
        export(project, "pt2", tmp_path / "branchy.pt2")
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'branchy.pt2'}: PT2 export failed: ")
    assert len(message) > len(f"{tmp_path / 'branchy.pt2'}: PT2 export failed: ") + 10
    assert not (tmp_path / "branchy.pt2").exists()
    assert not list(tmp_path.glob("*.tmp"))
