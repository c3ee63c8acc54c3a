"""The shipped examples: valid, laid out, exportable, and the exported Python computes the same
outputs in a fresh interpreter that has only torch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import onnx
import pytest
import torch
from onnx.reference import ReferenceEvaluator

from designer.core.analysis import analyze
from designer.core.compiler import build_model
from designer.core.errors import NetcanvasError
from designer.core.examples import build_example, example_path, list_examples
from designer.core.export import export_onnx, export_pt2, export_python
from designer.core.layout import node_rect, overlaps
from designer.core.project_io import load_project
from designer.core.weights import save_weights

NAMES = [name for name, _, _ in list_examples()]
EXPECTED = {
    "iris_mlp",
    "digits_cnn",
    "spiral_mlp",
    "residual_net",
    "lstm_sequence",
    "coffee_regression",
}


def test_every_shipped_file_is_listed_and_every_listed_example_is_shipped():
    assert set(NAMES) == EXPECTED
    shipped = {p.stem for p in example_path("iris_mlp").parent.glob("*.netcanvas")}
    assert shipped == set(NAMES)
    for _, title, description in list_examples():
        assert title and description and "\n" not in description


def test_unknown_example_names_the_known_ones():
    with pytest.raises(
        NetcanvasError, match="no example named 'mnist'; the examples are: iris_mlp, "
    ):
        example_path("mnist")


@pytest.mark.parametrize("name", NAMES)
def test_example_file_is_current_valid_and_laid_out_top_to_bottom(name):
    project = load_project(example_path(name))
    # The shipped file is exactly what the builder makes (the files are generated, not edited).
    fresh = build_example(name)
    assert project.graph.same_as(fresh.graph) and project.training == fresh.training
    assert '"format_version": 3' in example_path(name).read_text("utf-8")
    analysis = analyze(project.graph)
    assert analysis.ok and not analysis.warnings, analysis.diagnostics
    assert analysis.total_params > 0 and analysis.total_macs > 0
    nodes = project.graph.nodes
    for e in project.graph.edges:
        (sx, sy), (dx, dy) = nodes[e.src].pos, nodes[e.dst].pos
        # down the column, or on into the next column to the right
        assert dy > sy or dx > sx + 200, f"{e} runs up or backwards"
    rects = [node_rect(n) for n in nodes.values()]
    assert not any(overlaps(a, b) for i, a in enumerate(rects) for b in rects[i + 1 :]), (
        "two layers overlap on the canvas"
    )


def test_examples_cover_the_teaching_set():
    kinds = {name: {n.type_id for n in build_example(name).graph.nodes.values()} for name in NAMES}
    assert {"conv2d", "max_pool2d", "flatten"} <= kinds["digits_cnn"]
    assert "lstm" in kinds["lstm_sequence"]
    assert (
        sum(1 for n in build_example("residual_net").graph.nodes.values() if n.type_id == "add")
        == 2
    )
    assert build_example("coffee_regression").training.loss == "mse"
    datasets = {name: build_example(name).training.data.name for name in NAMES}
    assert datasets == {
        "iris_mlp": "iris",
        "digits_cnn": "digits",
        "spiral_mlp": "spirals",
        "residual_net": "digits",
        "lstm_sequence": "waves",
        "coffee_regression": "coffee",
    }


# -- exports ---------------------------------------------------------------------------------
def _inputs(source, batch: int, seed: int) -> tuple:
    gen = torch.Generator().manual_seed(seed)
    return tuple(
        torch.randn((batch, *shape), generator=gen)
        if dtype == "float32"
        else torch.randint(0, 10, (batch, *shape), generator=gen)
        for shape, dtype in zip(source.input_shapes, source.input_dtypes, strict=True)
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every example: in-app model (seeded), its weights, inputs, outputs and all three exports."""
    folder = tmp_path_factory.mktemp("exports")
    out = {}
    for i, name in enumerate(NAMES):
        project = load_project(example_path(name))
        torch.manual_seed(100 + i)
        model, source = build_model(project.graph, project.name)
        model.eval()
        x = _inputs(source, batch=3, seed=i)  # 3: not the batch size the exporters traced with
        with torch.no_grad():
            y = model(*x)
        weights = save_weights(model, folder / f"{name}.safetensors")
        torch.save(model.state_dict(), folder / f"{name}.state.pt")  # read back weights_only
        torch.save(x, folder / f"{name}.inputs.pt")
        out[name] = {
            "x": x,
            "y": y,
            "python": export_python(project, folder / f"{name}.py").path,
            "onnx": export_onnx(project, folder / f"{name}.onnx", weights=weights),
            "pt2": export_pt2(project, folder / f"{name}.pt2", weights=weights),
        }
    return folder, out


@pytest.mark.parametrize("name", NAMES)
def test_onnx_export_computes_the_same_with_any_batch_size(exported, name):
    _, runs = exported
    run = runs[name]
    assert run["onnx"].notes == ()  # exported with a dynamic batch: nothing to tell
    model = onnx.load(str(run["onnx"].path))
    onnx.checker.check_model(model)
    first_dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert first_dim.dim_param, "the batch dimension should be dynamic"
    feeds = {i.name: t.numpy() for i, t in zip(model.graph.input, run["x"], strict=True)}
    got = ReferenceEvaluator(model).run(None, feeds)[0]
    assert got.shape == tuple(run["y"].shape)
    assert torch.allclose(torch.from_numpy(got), run["y"], atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_pt2_export_computes_the_same(exported, name):
    _, runs = exported
    run = runs[name]
    assert run["pt2"].notes == ()
    program = torch.export.load(str(run["pt2"].path))
    with torch.no_grad():
        got = program.module()(*run["x"])
    assert torch.allclose(got, run["y"], atol=1e-6)


CHILD = textwrap.dedent(
    """
    import importlib.util, sys
    folder, site, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    sys.path.append(site)  # torch only: no .pth files ran, so no editable `designer` either
    import torch
    for name in names:
        spec = importlib.util.spec_from_file_location("exported_" + name, f"{folder}/{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        model = module.make_model()
        model.load_state_dict(torch.load(f"{folder}/{name}.state.pt", weights_only=True))
        model.eval()
        x = torch.load(f"{folder}/{name}.inputs.pt", weights_only=True)
        with torch.no_grad():
            torch.save(model(*x), f"{folder}/{name}.fresh.pt")
    print(",".join(sorted({m.split(".")[0] for m in sys.modules} & {"designer", "safetensors"})))
    """
)


def test_exported_python_runs_alone_in_a_fresh_interpreter(exported):
    folder, runs = exported
    script = folder / "child.py"
    script.write_text(CHILD, "utf-8")
    site = str(Path(torch.__file__).resolve().parent.parent)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(script), str(folder), site, ",".join(NAMES)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"the exported code pulled in {done.stdout.strip()}"
    for name in NAMES:
        fresh = torch.load(folder / f"{name}.fresh.pt", weights_only=True)
        assert torch.equal(fresh, runs[name]["y"]), name
        assert runs[name]["python"].read_text("utf-8").count("import ") == 2  # torch, torch.nn


def test_export_errors_are_clear(tmp_path):
    project = load_project(example_path("iris_mlp"))
    with pytest.raises(NetcanvasError, match="does not exist"):
        export_python(project, tmp_path / "missing" / "m.py")
    wider = build_example("iris_mlp").graph
    wider.set_param(wider.by_name("hidden").id, "out_features", 32)
    wrong = save_weights(build_model(wider)[0], tmp_path / "w.safetensors")
    with pytest.raises(
        NetcanvasError, match=r"tensor 'hidden\.weight' is 32×4 in the file but 16×4"
    ):
        export_pt2(project, tmp_path / "m.pt2", weights=wrong)
    project.graph.remove_node(
        next(n.id for n in project.graph.nodes.values() if n.type_id == "output")
    )
    with pytest.raises(NetcanvasError):
        export_onnx(project, tmp_path / "m.onnx")
