"""The layer catalog as the palette and the inspector see it, and the messages beginners get."""

from __future__ import annotations

from dataclasses import replace

import pytest

from designer.core.analysis import analyze
from designer.core.codegen import generate
from designer.core.errors import ParamError
from designer.core.graph import Edge, Graph
from designer.core.layers import registry
from tests.core.helpers import chain

SPECS = registry.all_specs()

# What the palette must offer, family by family.
REQUIRED = {
    "Input/Output": ["input", "output"],
    "Core": ["linear", "flatten", "reshape", "dropout", "dropout2d", "embedding"],
    "Convolution": ["conv1d", "conv2d", "conv_transpose2d"],
    "Pooling": [
        "max_pool1d",
        "max_pool2d",
        "avg_pool1d",
        "avg_pool2d",
        "adaptive_avg_pool1d",
        "adaptive_avg_pool2d",
    ],
    "Normalization": ["batch_norm1d", "batch_norm2d", "layer_norm", "group_norm"],
    "Activation": ["relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softmax"],
    "Recurrent": ["rnn", "lstm", "gru"],
    "Attention": ["multihead_attention", "transformer_encoder_layer"],
    "Resampling": ["upsample"],
    "Merge": ["add", "multiply", "concat"],
}

# Sizes that follow from the input; asking the user for them would only invite mismatches.
INFERRED = {"in_features", "in_channels", "input_size", "embed_dim", "num_features", "d_model"}


@pytest.mark.parametrize("category", list(REQUIRED))
def test_palette_offers_every_required_family(category):
    ids = [s.type_id for s in SPECS if s.category == category]
    assert set(REQUIRED[category]) <= set(ids)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.type_id)
def test_every_spec_is_documented_and_its_defaults_are_valid(spec):
    assert spec.category in registry.CATEGORIES
    assert spec.title and spec.doc and "\n" not in spec.doc
    assert spec.version >= 1
    assert spec.check_params(spec.defaults()) == spec.defaults()
    names = {p.name for p in spec.params}
    assert set(spec.key_params) <= names
    assert not names & INFERRED
    for p in spec.params:
        assert p.doc, f"{spec.type_id}.{p.name} has no doc"
        assert p.describe()


def test_palette_lists_categories_in_order():
    order = [registry.CATEGORIES.index(s.category) for s in SPECS]
    assert order == sorted(order)


def test_type_ids_are_unique_and_duplicates_are_refused():
    ids = [s.type_id for s in SPECS]
    assert len(ids) == len(set(ids))
    conv = registry.get("conv2d")
    with pytest.raises(ValueError, match="'conv2d' is already registered"):
        registry.register(replace(conv, title="Another Conv2d"))
    with pytest.raises(ValueError, match="'relu' is already registered"):
        registry.register(replace(conv, type_id="my_conv", legacy_ids=("relu",)))
    assert registry.get("conv2d") is conv
    assert not registry.has("my_conv")


def test_negative_kernel_size_is_refused_with_a_clear_message():
    g = chain(("conv2d", {}), input_shape=(1, 8, 8))
    conv = g.by_name("conv2d1")
    with pytest.raises(ParamError) as err:
        g.set_param(conv.id, "kernel_size", -2)
    assert str(err.value) == (
        "kernel_size: expected an integer ≥ 1 or a pair of them (height, width), got -2"
    )
    assert conv.params["kernel_size"] == 3


def insert(graph: Graph, fix) -> None:
    """Apply a QuickFix the way the canvas does: a new layer on the edge."""
    graph.disconnect(fix.edge)
    node = graph.add_node(fix.type_id, params=fix.params)
    graph.connect(Edge(fix.edge.src, node.id))
    graph.connect(Edge(node.id, fix.edge.dst, dst_port=fix.edge.dst_port))


def only_error(graph: Graph):
    result = analyze(graph)
    assert len(result.errors) == 1, [d.message for d in result.errors]
    return result.errors[0]


def test_linear_fed_images_says_so_and_offers_a_flatten():
    g = chain(("linear", {"out_features": 10}), input_shape=(1, 28, 28))
    err = only_error(g)
    assert err.node_id == g.by_name("linear1").id
    assert err.message == (
        "'linear1' (Linear) expects flat features (N×F) or sequences (N×T×F) but gets images "
        "N×1×28×28. Insert a Flatten before it."
    )
    assert err.fix.type_id == "flatten"
    insert(g, err.fix)
    result = analyze(g)
    assert result.ok
    assert result.shapes[g.by_name("linear1").id] == (10,)


def test_conv2d_fed_flat_data_explains_and_reshapes_square_images():
    g = chain(("conv2d", {"out_channels": 8}), input_shape=(64,))
    err = only_error(g)
    assert err.message == (
        "'conv2d1' (Conv2d) expects images (N×C×H×W) but gets flat features N×64. "
        "Set the Input shape to C×H×W, or insert a Reshape to N×1×8×8."
    )
    assert (err.fix.type_id, err.fix.params) == ("reshape", {"target": (1, 8, 8)})
    insert(g, err.fix)
    result = analyze(g)
    assert result.ok
    assert result.shapes[g.by_name("conv2d1").id] == (8, 6, 6)


def test_conv2d_fed_flat_data_that_is_no_square_has_no_guess():
    err = only_error(chain(("conv2d", {}), input_shape=(10,)))
    assert "expects images (N×C×H×W) but gets flat features N×10" in err.message
    assert "Set the Input shape to C×H×W, or insert a Reshape." in err.message
    assert err.fix is None


def test_add_of_different_shapes_names_both():
    g = Graph()
    a = g.add_node("input", name="a", params={"shape": (8,)})
    b = g.add_node("input", name="b", params={"shape": (4,)})
    add = g.add_node("add", name="sum")
    out = g.add_node("output", name="out")
    g.connect(Edge(a.id, add.id, dst_port="in1"))
    g.connect(Edge(b.id, add.id, dst_port="in2"))
    g.connect(Edge(add.id, out.id))
    err = only_error(g)
    assert err.node_id == add.id
    assert err.message == "'sum' (Add) needs inputs of the same shape but gets N×8 and N×4"


def test_concatenate_mismatched_names_the_dim_and_shapes():
    g = Graph()
    a = g.add_node("input", name="a", params={"shape": (3, 8, 8)})
    b = g.add_node("input", name="b", params={"shape": (5, 4, 4)})
    cat = g.add_node("concat", name="join")
    out = g.add_node("output", name="out")
    g.connect(Edge(a.id, cat.id, dst_port="in1"))
    g.connect(Edge(b.id, cat.id, dst_port="in2"))
    g.connect(Edge(cat.id, out.id))
    err = only_error(g)
    assert err.message == (
        "'join' (Concatenate) can only join inputs that match outside dim 1, "
        "but gets N×3×8×8 and N×5×4×4"
    )
    g.set_param(b.id, "shape", (5, 8, 8))
    assert analyze(g).shapes[cat.id] == (8, 8, 8)


def test_lstm_fed_images_says_it_wants_sequences():
    g = chain(("lstm", {"hidden_size": 16}), input_shape=(1, 28, 28))
    err = only_error(g)
    assert err.message.startswith(
        "'lstm1' (LSTM) expects sequences (N×T×F) but gets images N×1×28×28."
    )
    assert (err.fix.type_id, err.fix.params) == ("reshape", {"target": (28, 28)})
    insert(g, err.fix)
    assert analyze(g).shapes[g.by_name("lstm1").id] == (28, 16)


@pytest.mark.parametrize(
    ("layer", "params", "shape", "message"),
    [
        ("conv2d", {"groups": 3}, (4, 8, 8), "groups=3 must divide both the input channels (4)"),
        ("conv2d", {"kernel_size": 9}, (1, 8, 8), "the input is too small"),
        (
            "conv2d",
            {"padding": "same", "stride": 2},
            (1, 8, 8),
            "padding='same' only works with stride 1",
        ),
        (
            "max_pool2d",
            {"kernel_size": 2, "padding": 2},
            (1, 8, 8),
            "padding=2 must be at most half",
        ),
        (
            "group_norm",
            {"num_groups": 3},
            (4, 8, 8),
            "num_groups=3 must divide the number of channels (4)",
        ),
        (
            "multihead_attention",
            {"num_heads": 3},
            (10, 16),
            "num_heads=3 must divide the feature width F (16)",
        ),
        (
            "reshape",
            {"target": (3, 5)},
            (64,),
            "can't reshape N×64 (64 values) to N×3×5 (15 values)",
        ),
        (
            "upsample",
            {"mode": "bilinear"},
            (4, 16),
            "mode='bilinear' works on images (N×C×H×W) only",
        ),
        ("lstm", {"dropout": 0.2}, (10, 4), "dropout acts only between stacked layers"),
        ("batch_norm1d", {}, (3, 8, 8), "Use BatchNorm2d for images"),
    ],
)
def test_value_problems_get_one_clear_message(layer, params, shape, message):
    g = chain((layer, params), input_shape=shape)
    err = only_error(g)
    assert err.node_id == g.by_name(f"{layer}1").id
    assert message in err.message


def test_emitted_code_reads_like_hand_written_pytorch():
    g = chain(
        ("conv2d", {"out_channels": 16, "padding": 1}),
        ("batch_norm2d", {}),
        ("max_pool2d", {}),
        ("dropout2d", {"p": 0.25}),
        ("flatten", {}),
        ("linear", {"out_features": 10}),
        input_shape=(1, 8, 8),
    )
    text = generate(g).text
    for line in (
        "nn.Conv2d(1, 16, kernel_size=3, padding=1)",
        "nn.BatchNorm2d(16)",
        "nn.MaxPool2d(2)",
        "nn.Dropout2d(p=0.25)",
        "nn.Linear(256, 10)",
    ):
        assert line in text
    seq = generate(chain(("lstm", {"hidden_size": 8, "output": "last"}), input_shape=(32, 1))).text
    assert "nn.LSTM(1, 8, batch_first=True)" in seq
    assert "lstm1 = self.lstm1(x)[0][:, -1]" in seq


def test_reshape_with_minus_one_works_out_the_missing_size():
    g = chain(("reshape", {"target": (4, -1)}), input_shape=(2, 8))
    result = analyze(g)
    assert result.ok
    assert result.shapes[g.by_name("reshape1").id] == (4, 4)
    assert "reshape1 = x.reshape(-1, 4, 4)" in generate(g).text


def test_embedding_needs_int_ids_and_turns_them_into_vectors():
    g = Graph()
    ids = g.add_node("input", name="tokens", params={"shape": (12,), "dtype": "int64"})
    emb = g.add_node("embedding", name="embed", params={"num_embeddings": 100, "embedding_dim": 8})
    out = g.add_node("output", name="out")
    g.connect(Edge(ids.id, emb.id))
    g.connect(Edge(emb.id, out.id))
    result = analyze(g)
    assert result.ok
    assert result.shapes[emb.id] == (12, 8)
    assert result.costs[emb.id] == (800, 0)
    g.set_param(ids.id, "dtype", "float32")
    assert "Set the Input's dtype to int64" in only_error(g).message
