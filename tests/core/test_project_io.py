"""Project files: golden files per format, round trips, one clear message per bad file, fuzzing."""

from __future__ import annotations

import copy
import json
import math
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from designer.core import project_io
from designer.core.errors import ProjectError
from designer.core.graph import Edge, Graph
from designer.core.project import Project
from designer.core.project_io import (
    FORMAT_VERSION,
    graph_from_data,
    graph_to_data,
    load_project,
    project_from_dict,
    project_to_dict,
    save_project,
)
from designer.core.training.config import DataConfig, TrainingConfig

DATA = Path(__file__).parent.parent / "data"
FORMAT1 = DATA / "format1.netcanvas"
FORMAT2 = DATA / "format2.netcanvas"
FORMAT3 = DATA / "format3.netcanvas"


def tiny_cnn_graph() -> Graph:
    """What format1.netcanvas holds, built by hand through the mutators."""
    g = Graph()
    g.add_node("input", name="image", params={"shape": (1, 8, 8)}, pos=(0, 40), node_id="in")
    g.add_node(
        "conv2d", name="conv", params={"out_channels": 8, "padding": 1}, pos=(200, 40), node_id="c1"
    )
    g.add_node("relu", name="act", pos=(400, 40), node_id="a1")
    g.add_node("max_pool2d", name="pool", params={"kernel_size": 2}, pos=(600, 40), node_id="p1")
    g.add_node("batch_norm2d", name="norm", pos=(800, 40), node_id="bn")
    g.add_node("flatten", name="flat", pos=(1000, 40), node_id="f1")
    g.add_node(
        "linear", name="logits", params={"out_features": 10}, pos=(1200.5, -20), node_id="l1"
    )
    g.add_node("output", name="out", pos=(1400, 40), node_id="out")
    ids = ["in", "c1", "a1", "p1", "bn", "f1", "l1", "out"]
    for a, b in zip(ids, ids[1:], strict=False):
        g.connect(Edge(a, b))
    return g


# -- golden files ----------------------------------------------------------------------------
def test_format1_golden_file_is_migrated():
    project = load_project(FORMAT1)
    assert project.graph.same_as(tiny_cnn_graph())
    assert project.name == "tiny_cnn"
    assert project.path == FORMAT1
    # Format 1 only knew the dataset; everything else takes today's defaults.
    assert project.training == TrainingConfig(data=DataConfig(source="builtin", name="digits"))


def test_format2_golden_file_loads_every_field():
    project = load_project(FORMAT2)
    g = project.graph
    assert [n.name for n in g.nodes.values()] == [
        "features", "wide", "narrow", "gelu", "join", "drop", "classes", "output",
    ]  # fmt: skip
    assert g.nodes["n1"].params["shape"] == (13,)
    assert g.nodes["n2"].init == "kaiming_normal"
    assert g.nodes["n3"].params["bias"] is False
    assert g.nodes["n4"].params["approximate"] == "tanh"
    assert g.nodes["n2"].pos == (220.0, -120.0)
    assert Edge("n3", "n5", "y", "in2") in g.edges
    t = project.training
    assert (t.optimizer, t.lr, t.momentum, t.nesterov, t.scheduler) == (
        "sgd",
        0.05,
        0.8,
        True,
        "cosine",
    )
    assert (t.batch_size, t.epochs, t.seed) == (8, 12, 7)
    assert (t.data.name, t.data.test_fraction, t.data.split_seed) == ("wine", 0.25, 3)
    assert t.weight_decay == 0.0  # absent from the file: the default


def test_format3_golden_file_loads_blocks_and_their_uses():
    g = load_project(FORMAT3).graph
    assert list(g.blocks) == ["Residual"]
    inner = g.blocks["Residual"]
    assert [n.name for n in inner.nodes.values()] == ["x", "fc", "act", "skip", "out"]
    assert Edge("n1", "n4", "y", "in1") in inner.edges
    assert [owner_node for owner_node in g.block_uses("Residual")] == [(None, "n2"), (None, "n3")]
    assert g.nodes["n3"].params == {"block": "Residual", "num_inputs": 1}


def test_format3_golden_file_loads_the_optional_transfer_settings():
    t = load_project(FORMAT3).training
    assert t.augment == {
        "crop": 0.6,
        "crop_max": 0.9,
        "flip": True,
        "saturation": 0.2,
        "normalize": "imagenet",
    }
    assert t.lr_multipliers == {"res2": 0.1} and t.memory_budget_mb == 512
    older = load_project(FORMAT2).training  # optional: absent in older files
    assert (older.augment, older.lr_multipliers, older.memory_budget_mb) == ({}, {}, 0)


def test_format2_file_migrates_to_format3_without_blocks():
    data = json.loads(FORMAT2.read_text("utf-8"))
    project = project_from_dict(data, "format2")
    assert project.graph.blocks == {}
    assert "blocks" not in project_to_dict(project)  # optional: absent when there are none


def test_format3_golden_file_loads_the_optional_frozen_flag():
    g = load_project(FORMAT3).graph
    assert g.nodes["n2"].frozen is True and g.nodes["n4"].frozen is False  # written false
    assert not g.nodes["n3"].frozen  # absent: trainable
    assert not any(n.frozen for n in load_project(FORMAT2).graph.nodes.values())


def test_format3_golden_file_loads_frames_and_comments_and_saves_them_again(tmp_path):
    from designer.core.annotations import Comment, Frame

    notes = load_project(FORMAT3).notes
    assert notes.frames == [Frame("Residual block", (-24.0, -52.0, 248.0, 400.0), "#2e9e5b")]
    (comment,) = notes.comments
    assert comment == Comment(
        "The skip adds the input back: a <b>plain</b> note.", (300.0, 0.0), 220
    )
    assert not load_project(FORMAT2).notes.notes  # optional: absent in older files
    again = load_project(save_project(load_project(FORMAT3), tmp_path / "copy.netcanvas")).notes
    assert again.frames == notes.frames and again.comments == notes.comments


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"frames": [{"rect": [0, 0, 1]}]}, "frames[0].rect: expected 4 finite numbers"),
        ({"frames": [{"rect": [0, 0, 1, 1], "color": "red"}]}, "expected a colour like"),
        ({"comments": [{"text": "x"}]}, "comments[0]"),
    ],
)
def test_bad_frames_and_comments_are_refused_with_their_field(bad, message):
    data = {"format_version": 3, "nodes": [], "edges": [], **bad}
    with pytest.raises(ProjectError, match=re.escape(message)):
        project_from_dict(data)


def test_format3_golden_file_loads_the_weights_it_names():
    project = load_project(FORMAT3)
    assert load_project(FORMAT2).weights is None  # optional: absent in older files
    assert project.weights is not None
    assert project.weights.file == "residual.0123456789ab.safetensors"
    assert project.weights.sha256 == "0123456789ab" + "cd" * 26
    assert project.weights_path == FORMAT3.parent / project.weights.file


def test_format3_golden_file_keeps_where_each_layers_weights_came_from(tmp_path):
    from designer.core.origins import Origin

    origins = load_project(FORMAT3).weight_origins
    assert origins == {
        "classes": Origin("trained", "run 20261202-010203-a1b2c3"),
        "res1.fc": Origin("pretrained", "residual-donor.safetensors"),
        "res2.fc": Origin("fresh"),
    }
    assert load_project(FORMAT2).weight_origins == {}  # optional: absent in older files
    again = load_project(save_project(load_project(FORMAT3), tmp_path / "copy.netcanvas"))
    assert again.weight_origins == origins
    data = json.loads(FORMAT3.read_text("utf-8"))
    data["weights"]["origins"]["res2.fc"] = {"kind": "borrowed"}
    with pytest.raises(ProjectError, match=r"weights\.origins\.'res2\.fc'\.kind: expected one of"):
        project_from_dict(data, "f")


@pytest.mark.parametrize(
    "golden", [FORMAT1, FORMAT2, FORMAT3], ids=["format1", "format2", "format3"]
)
def test_load_save_load_keeps_graph_and_training(golden, tmp_path):
    first = load_project(golden)
    saved = save_project(first, tmp_path / "copy.netcanvas")
    assert first.path == saved
    second = load_project(saved)
    assert second.graph.same_as(first.graph)
    assert second.training == first.training
    assert second.name == first.name
    data = json.loads(saved.read_text("utf-8"))
    assert data["format_version"] == FORMAT_VERSION == 3
    assert isinstance(data["app_version"], str) and data["app_version"]
    # Saving again writes the same bytes: files diff cleanly in version control.
    again = save_project(second, tmp_path / "again.netcanvas")
    assert again.read_bytes() == saved.read_bytes()


def test_save_leaves_no_temp_files_and_keeps_permissions(tmp_path):
    target = tmp_path / "m.netcanvas"
    project = load_project(FORMAT2)
    save_project(project, target)
    target.chmod(0o640)
    save_project(project, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.netcanvas"]
    assert target.stat().st_mode & 0o777 == 0o640


def test_save_without_a_path_is_refused():
    with pytest.raises(ProjectError, match="has no file name yet"):
        save_project(Project(name="draft"))


def test_save_into_a_missing_folder_names_the_file(tmp_path):
    target = tmp_path / "nope" / "m.netcanvas"
    with pytest.raises(ProjectError) as err:
        save_project(load_project(FORMAT2), target)
    assert str(err.value).startswith(f"{target}: could not be saved:")


def test_project_dict_round_trip_and_caller_data_untouched():
    old = json.loads(FORMAT1.read_text("utf-8"))
    pristine = copy.deepcopy(old)
    project = project_from_dict(old, "format1")
    assert old == pristine  # migration works on a copy
    back = project_from_dict(project_to_dict(project), "round")
    assert back.graph.same_as(project.graph) and back.training == project.training


def test_clipboard_data_carries_the_selection_between_projects():
    g = load_project(FORMAT2).graph
    data = graph_to_data(g, ["n2", "n4", "n7"])
    assert {n["id"] for n in data["nodes"]} == {"n2", "n4", "n7"}
    # Only edges with both ends selected travel.
    assert data["edges"] == [{"src": "n2", "src_port": "y", "dst": "n4", "dst_port": "x"}]
    pasted = graph_from_data(json.dumps(data))
    assert pasted.nodes["n4"] == g.nodes["n4"]
    assert pasted.edges == [Edge("n2", "n4")]
    assert graph_from_data(graph_to_data(g)).same_as(g)


def test_clipboard_junk_is_a_project_error():
    with pytest.raises(
        ProjectError, match=r"^clipboard: nodes\[0\]\.type: unknown layer type 'wat'$"
    ):
        graph_from_data(
            {
                "nodes": [{"id": "a", "type": "wat", "name": "a", "params": {}, "pos": [0, 0]}],
                "edges": [],
            }
        )
    with pytest.raises(ProjectError, match="^clipboard: is not valid JSON"):
        graph_from_data("{nodes")


# -- one clear message per bad file ----------------------------------------------------------
def _golden2() -> dict:
    return json.loads(FORMAT2.read_text("utf-8"))


def _write(tmp_path: Path, content) -> Path:
    path = tmp_path / "model.netcanvas"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, "utf-8")
    else:
        path.write_text(json.dumps(content), "utf-8")
    return path


def _message(path: Path) -> str:
    with pytest.raises(ProjectError) as err:
        load_project(path)
    text = str(err.value)
    assert "\n" not in text
    return text


def _edit(fn):
    data = _golden2()
    fn(data)
    return data


CASES = {
    "negative kernel size": (
        lambda d: d["nodes"].insert(
            1,
            {
                "id": "c",
                "type": "conv2d",
                "name": "c",
                "params": {"kernel_size": -2},
                "pos": [0, 0],
            },
        ),
        "nodes[1].params.kernel_size: expected an integer ≥ 1 or a pair of them (height, width), "
        "got -2",
    ),
    "unknown layer type": (
        lambda d: d["nodes"][2].update(type="transmogrifier"),
        "nodes[2].type: unknown layer type 'transmogrifier'",
    ),
    "edge to a missing node": (
        lambda d: d["edges"][3].update(dst="n99"),
        "edges[3].dst: no node with id 'n99'",
    ),
    "edge to a missing port": (
        lambda d: d["edges"][3].update(dst_port="in7"),
        "edges[3].dst_port: Concatenate has no input 'in7' (it has 'in1', 'in2')",
    ),
    "duplicate node id": (
        lambda d: d["nodes"][5].update(id="n2"),
        "nodes[5].id: 'n2' is already used by nodes[1]",
    ),
    "duplicate edge": (
        lambda d: d["edges"].append(dict(d["edges"][0])),
        "edges[8]: repeats edges[0]",
    ),
    "self loop": (
        lambda d: d["edges"].append({"src": "n6", "src_port": "y", "dst": "n6", "dst_port": "x"}),
        "edges[8]: connects a layer to itself",
    ),
    "unknown parameter": (
        lambda d: d["nodes"][1]["params"].update(units=4),
        "nodes[1].params.units: Linear has no parameter 'units'",
    ),
    "string for a bool": (
        lambda d: d["nodes"][1]["params"].update(bias="yes"),
        "nodes[1].params.bias: expected true or false, got 'yes'",
    ),
    "missing field": (lambda d: d["nodes"][0].pop("params"), "nodes[0].params: is missing"),
    "unknown field": (
        lambda d: d["nodes"][0].update(colour="red"),
        "nodes[0].colour: is not a known field",
    ),
    "position": (
        lambda d: d["nodes"][0].update(pos=[1]),
        "nodes[0].pos: expected [x, y] with two finite numbers, got [1]",
    ),
    "init": (
        lambda d: d["nodes"][0].update(init="zeros"),
        "nodes[0].init: expected one of 'default', 'xavier_uniform', 'xavier_normal', "
        "'kaiming_uniform', 'kaiming_normal', 'orthogonal', got 'zeros'",
    ),
    "nodes not a list": (lambda d: d.update(nodes={}), "nodes: expected a list, got an object"),
    "negative learning rate": (
        lambda d: d["training"].update(lr=-1),
        "training.lr: expected a number ≥ 0, got -1",
    ),
    "dataset split": (
        lambda d: d["training"]["data"].update(test_fraction=2),
        "training.data.test_fraction: expected a number ≥ 0 and ≤ 0.9, got 2",
    ),
    "unknown training setting": (
        lambda d: d["training"].update(warmup=3),
        "training.warmup: is not a known setting",
    ),
    "format_version missing": (
        lambda d: d.pop("format_version"),
        "format_version: is missing (is this a Netcanvas project?)",
    ),
    "format_version junk": (
        lambda d: d.update(format_version="2"),
        "format_version: expected an integer ≥ 1, got '2'",
    ),
    "newer version": (
        lambda d: d.update(format_version=7),
        "was saved by a newer Netcanvas (format 7); this version reads up to format 3. Please update.",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_file_gives_one_line_naming_file_and_field(case, tmp_path):
    edit, expected = CASES[case]
    path = _write(tmp_path, _edit(edit))
    assert _message(path) == f"{path}: {expected}"


def test_format1_field_names_are_the_old_ones(tmp_path):
    data = json.loads(FORMAT1.read_text("utf-8"))
    data["nodes"][3]["x"] = "left"
    path = _write(tmp_path, data)
    assert _message(path) == f"{path}: nodes[3].x: expected a finite number"
    data["nodes"][3]["x"] = 1
    data["nodes"][3]["type"] = "maxpool9d"
    assert (
        _message(_write(tmp_path, data)) == f"{path}: nodes[3].type: unknown layer type 'maxpool9d'"
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            '{"format_version": 2, "nodes": [',
            "is not valid JSON (line 1, column 33: Expecting value)",
        ),
        ("", "is not valid JSON (line 1, column 1: Expecting value)"),
        ("[1, 2]", "is not a Netcanvas project (expected a JSON object, got [1, 2])"),
        ('"hello"', "is not a Netcanvas project (expected a JSON object, got 'hello')"),
        (
            b"\x89PNG\r\n\x1a\n\xff\xfe",
            "is not a Netcanvas project (not UTF-8 text: bad byte at offset 0)",
        ),
        ('{"format_version": NaN}', "is not valid JSON (NaN is not a number JSON allows)"),
        ('{"a": 1, "a": 2}', "is not valid JSON (the key a appears twice in one object)"),
        ("[" * 100_000 + "]" * 100_000, "is nested too deeply to be a project file"),
        ('{"format_version": 2, "nodes": [], "edges": [], "name": 1' + "0" * 5000 + "}", None),
    ],
    ids=["truncated", "empty", "list", "string", "binary", "nan", "dup-key", "deep", "long-int"],
)
def test_not_a_project_file(content, expected, tmp_path):
    path = _write(tmp_path, content)
    message = _message(path)
    if expected is None:  # Python's own wording for a 5,000-digit integer; must still be one line
        assert message.startswith(f"{path}: is not valid JSON (")
    else:
        assert message == f"{path}: {expected}"


def test_huge_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "model.netcanvas"
    with path.open("wb") as f:
        f.truncate(project_io.MAX_BYTES + 1)  # sparse: no 50 MB written
    assert _message(path) == f"{path}: is larger than 50 MB, too large for a project file"


def test_missing_file_and_folder(tmp_path):
    assert _message(tmp_path / "gone.netcanvas") == f"{tmp_path / 'gone.netcanvas'}: no such file"
    assert _message(tmp_path) == f"{tmp_path}: is a folder, not a project file"


def test_too_many_layers_is_refused_quickly(tmp_path):
    data = _golden2()
    node = data["nodes"][3]
    data["nodes"] += [dict(node, id=f"x{i}") for i in range(project_io.MAX_NODES)]
    path = _write(tmp_path, data)
    assert _message(path) == f"{path}: nodes: has 2,008 layers; a project holds at most 2,000"


# -- fuzzing ---------------------------------------------------------------------------------
# NOTE: hypothesis draws one seed per example and a seeded `random.Random` does the mutating:
# thousands of cheap examples, each reproducible from the seed hypothesis reports.
GOLDEN = [json.loads(p.read_text("utf-8")) for p in (FORMAT1, FORMAT2)]
WORDS = ["n1", "n5", "in", "y", "x", "in1", "in9", "linear", "conv2d", "input", "output", "add", ""]
KEYS = ["id", "type", "pos", "x", "src", "dst_port", "params", "zzz", "data", "lr", "num_inputs"]
ODD_NUMBERS = [
    0,
    -1,
    -2,
    1,
    2**31,
    2**63,
    -(2**63),
    10**400,
    1e308,
    -0.0,
    0.5,
    float("nan"),
    float("inf"),
]


def junk(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice(ODD_NUMBERS)
    if kind == 3:
        return rng.randint(-(10**6), 10**6)
    if kind == 4:
        return rng.choice(WORDS)
    if kind == 5:
        return "".join(chr(rng.randrange(0x20, 0x2FF)) for _ in range(rng.randrange(6)))
    if kind == 6:
        return [junk(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 7:
        return {rng.choice(KEYS): junk(rng, depth + 1) for _ in range(rng.randrange(4))}
    return [[[[[[[[rng.random()]]]]]]]]


def _containers(value, path=()):
    """Every container inside `value`, for picking a mutation target."""
    if isinstance(value, dict | list):
        yield value
        for child in value.values() if isinstance(value, dict) else value:
            yield from _containers(child)


def mutate(rng: random.Random) -> bytes:
    data = copy.deepcopy(rng.choice(GOLDEN))
    for _ in range(rng.randint(1, 4)):
        box = rng.choice(list(_containers(data)))
        keys = list(box) if isinstance(box, dict) else list(range(len(box)))
        op = rng.choice(["delete", "replace", "replace", "add", "duplicate"])
        if op == "delete" and keys:
            del box[rng.choice(keys)]
        elif op == "replace" and keys:
            box[rng.choice(keys)] = junk(rng)
        elif op == "duplicate" and isinstance(box, list) and box:
            box.append(copy.deepcopy(rng.choice(box)))
        elif isinstance(box, dict):
            box[rng.choice(KEYS)] = junk(rng)
        else:
            box.append(junk(rng))
    return json.dumps(data).encode()  # NaN and Infinity appear as the bare words


def _load_bytes(raw: bytes) -> None:
    try:
        project_from_dict(project_io.parse(raw, "fuzz.netcanvas"), "fuzz.netcanvas")
    except ProjectError as e:
        assert str(e).startswith("fuzz.netcanvas: ") and "\n" not in str(e)


FUZZ = settings(max_examples=2500, deadline=5000, database=None)  # deadline: a hang, not slowness


@FUZZ
@given(st.integers(0, 2**64))
def test_fuzzed_structures_raise_only_project_errors(seed):
    _load_bytes(mutate(random.Random(seed)))


@FUZZ
@given(st.integers(0, 2**64))
def test_fuzzed_bytes_raise_only_project_errors(seed):
    rng = random.Random(seed)
    raw = mutate(rng) if rng.random() < 0.5 else rng.choice(GOLDEN_BYTES)
    cut = rng.randrange(len(raw) + 1)
    if rng.random() < 0.3:
        raw = raw[:cut]
    else:
        noise = bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
        raw = raw[:cut] + noise + raw[cut + len(noise) :]
    _load_bytes(raw)


GOLDEN_BYTES = [FORMAT1.read_bytes(), FORMAT2.read_bytes()]


def test_fuzzing_reaches_deep_into_the_files():
    # The mutations must mostly survive parsing, or the fuzz tests would only test the parser.
    fields = []
    for seed in range(400):
        try:
            project_from_dict(project_io.parse(mutate(random.Random(seed)), "f"), "f")
        except ProjectError as e:
            fields.append(re.split(r"[.\[]", e.field)[0] if e.field else None)
    assert len([f for f in fields if f]) > 200
    assert {"nodes", "edges", "training"} <= set(fields)


def test_loaded_numbers_are_always_finite_and_saveable():
    # A file can't smuggle NaN/inf into positions: saving (allow_nan=False) would then fail.
    data = _golden2()
    data["nodes"][0]["pos"] = [1e308, -1e308]
    project = project_from_dict(data, "big")
    assert all(math.isfinite(c) for n in project.graph.nodes.values() for c in n.pos)
    assert json.loads(json.dumps(project_to_dict(project), allow_nan=False))
