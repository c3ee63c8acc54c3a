"""Import PyTorch models: torchvision round trips with identical outputs, the one clear error."""

from __future__ import annotations

import re
import textwrap

import pytest

torch = pytest.importorskip("torch")

from designer.cli import main  # noqa: E402
from designer.core.codegen import generate  # noqa: E402
from designer.core.compiler import load_module  # noqa: E402
from designer.core.importer.api import import_model, import_module, structure  # noqa: E402
from designer.core.importer.trace import ImportRefused  # noqa: E402
from designer.core.project_io import load_project  # noqa: E402
from designer.core.weights import load_weights  # noqa: E402
from tests.core.helpers import assert_ruff_clean  # noqa: E402

try:
    from designer.core.importer.tv import import_torchvision

    import_torchvision()
    HAS_TV = True
except Exception:  # noqa: BLE001 - the optional extra
    HAS_TV = False

needs_tv = pytest.mark.skipif(not HAS_TV, reason="torchvision (the optional extra) is missing")

# Small inputs keep these fast; inception_v3 (1x7 and 7x1 kernels) needs at least 75x75.
ROUND_TRIPS = [
    ("resnet18", (3, 64, 64), "BasicBlock"),
    ("mobilenet_v2", (3, 64, 64), "InvertedResidual"),
    ("densenet121", (3, 64, 64), "DenseLayer"),
    ("inception_v3", (3, 80, 80), "InceptionC"),
    # each CNBlock drops with its own probability, so the shared definition is the branch inside
    ("convnext_tiny", (3, 32, 32), "block"),  # LayerNorm2d, LayerScale, channels-last Linear
]


@needs_tv
@pytest.mark.parametrize(("name", "shape", "block"), ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS])
def test_torchvision_round_trip_same_graph_same_outputs(name, shape, block, tmp_path):
    torch.manual_seed(0)
    first = import_model(f"torchvision:{name}", shape)
    g = first.project.graph
    uses = [len(g.block_uses(b)) for b in g.blocks if b.startswith(block)]
    assert uses and max(uses) >= 2  # the module hierarchy kept, one definition used many times
    assert_round_trip(first, name, shape, tmp_path)


@needs_tv
def test_vision_transformer_round_trip_same_graph_same_outputs(tmp_path):
    """ViT (class token, position embedding, attention, x[:, 0]) built small: vit_b_16's own
    224x224 import is in the table (docs/torchvision-import.md)."""
    from torchvision.models.vision_transformer import VisionTransformer

    torch.manual_seed(0)
    vit = VisionTransformer(32, 16, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64)
    for p in vit.parameters():  # torchvision starts the head at zero: outputs would all be 0
        torch.nn.init.normal_(p, std=0.2)
    first = import_module(vit, (3, 32, 32), "vit")
    g = first.project.graph
    assert {"class_token", "select"} <= {n.type_id for n in g.nodes.values()}
    assert max(len(g.block_uses(b)) for b in g.blocks if b.startswith("EncoderBlock")) == 2
    with torch.no_grad():
        assert vit(torch.randn(1, 3, 32, 32)).abs().max().item() > 1e-2  # a real output
    assert_round_trip(first, "vit", (3, 32, 32), tmp_path)


def assert_round_trip(first, name, shape, tmp_path) -> None:
    """Same outputs and parameter count as the original; exported, given the weights and
    imported again: the same graph and the same outputs."""
    g = first.project.graph
    x = torch.randn(2, *shape)
    with torch.no_grad():
        want = first.original.eval()(x)
        assert (first.model.eval()(x) - want).abs().max().item() <= 1e-5
    n_orig = sum(p.numel() for p in first.original.parameters())
    assert sum(p.numel() for p in first.model.parameters()) == n_orig

    # export python -> load the weights -> same outputs; import that code -> same graph
    source = generate(g, name)
    path = tmp_path / "model.py"
    path.write_text(source.text, "utf-8")
    exported = load_module(source).make_model()
    exported.load_state_dict(first.model.state_dict())
    with torch.no_grad():
        assert (exported.eval()(x) - want).abs().max().item() <= 1e-5
    second = import_module(exported, shape, name)
    assert structure(second.project.graph) == structure(g)
    with torch.no_grad():
        assert (second.model.eval()(x) - want).abs().max().item() <= 1e-5


def small_swin(v2: bool = False):
    """swin_t's structure at a small size: stages of 2 blocks (shifted and not), 4×4 windows."""
    from torchvision.models import swin_transformer as swin

    kw = {"block": swin.SwinTransformerBlockV2, "downsample_layer": swin.PatchMergingV2}
    return swin.SwinTransformer(
        [4, 4], 16, [2, 2], [2, 4], [4, 4], num_classes=10, **(kw if v2 else {})
    )


def small_maxvit():
    """maxvit_t's structure at a small size: 2×2 windows and grids on a 32×32 image."""
    from torchvision.models.maxvit import MaxVit

    return MaxVit((32, 32), 16, 2, [16, 32], [1, 2], head_dim=8, stochastic_depth_prob=0.2)


# Built with torchvision's own constructors (the named models take seconds each); 36×36 makes
# odd sizes (9×9 patches): the windows pad and the patch merging pads.
BUILT = [
    ("swin", small_swin, (3, 36, 36), "Mlp", "ShiftedWindowAttention"),
    ("swin_v2", lambda: small_swin(v2=True), (3, 32, 32), "Mlp", "ShiftedWindowAttention"),
    ("maxvit", small_maxvit, (3, 32, 32), "attn_layer", "RelativePositionAttention"),
]


@needs_tv
@pytest.mark.parametrize(
    ("name", "build", "shape", "block", "support"), BUILT, ids=[b[0] for b in BUILT]
)
def test_window_attention_models_round_trip_same_graph_same_outputs(
    name, build, shape, block, support, tmp_path
):
    torch.manual_seed(0)
    first = import_module(build().eval(), shape, name)
    g = first.project.graph
    uses = [len(g.block_uses(b)) for b in g.blocks if b.startswith(block)]
    assert uses and max(uses) >= 2
    assert_round_trip(first, name, shape, tmp_path)
    path = tmp_path / "model.py"
    text = path.read_text("utf-8")
    assert text.count(f"class {support}(nn.Module):") == 1
    assert "import torchvision" not in text and "from torchvision" not in text
    assert_ruff_clean(path)


@needs_tv
def test_cli_import_of_a_swin_file_reopens_with_its_weights_and_the_same_outputs(tmp_path):
    path = tmp_path / "swin.py"
    path.write_text(
        "import torch\nfrom torchvision.models import swin_transformer as swin\n\n\n"
        "def make():\n    torch.manual_seed(3)\n"
        "    return swin.SwinTransformer([4, 4], 16, [2, 2], [2, 4], [4, 4], num_classes=10)\n",
        "utf-8",
    )
    out = tmp_path / "swin.netcanvas"
    assert main(["import", f"{path}:make", "-o", str(out), "--input-shape", "3x32x32"]) == 0
    project = load_project(out)
    model = load_module(generate(project.graph, project.name)).make_model()
    load_weights(model, out.with_suffix(".safetensors"))  # the index buffers travel too
    reference = import_model(f"{path}:make", (3, 32, 32)).original
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert (model.eval()(x) - reference.eval()(x)).abs().max().item() <= 1e-5


@needs_tv
def test_resnet18_export_has_basic_block_classes_keys_like_torchvision_and_is_ruff_clean(tmp_path):
    result = import_model("torchvision:resnet18", (3, 64, 64))
    text = generate(result.project.graph, "resnet18").text
    assert "class BasicBlock(nn.Module):" in text
    assert "self.layer1 = nn.Sequential(BasicBlock(64), BasicBlock(64))" in text
    keys = list(result.model.state_dict())
    assert sorted(keys) == sorted(result.original.state_dict())  # layer1.0.conv1.weight, ...
    path = tmp_path / "resnet18.py"
    path.write_text(text, "utf-8")
    assert_ruff_clean(path)


HAND_WRITTEN = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.fc(x)
        x = torch.cumsum(x, dim=1)
        return torch.sort(x, dim=1).values


def make():
    return Net()
"""


def test_unsupported_ops_get_one_error_naming_each_with_its_line(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent(HAND_WRITTEN), "utf-8")
    with pytest.raises(ImportRefused) as err:
        import_model(f"{path}:Net", (8,))
    message = str(err.value)
    assert "2 parts of the model have no Netcanvas layer" in message
    assert "torch.cumsum has no Netcanvas layer" in message
    assert f"{path}:13: x = torch.cumsum(x, dim=1)" in message
    assert "sort" in message and f"{path}:14" in message
    assert "What to do" in message


def test_data_dependent_control_flow_is_named_with_its_line(tmp_path):
    path = tmp_path / "branchy.py"
    path.write_text(
        "from torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.fc = nn.Linear(4, 4)\n\n"
        "    def forward(self, x):\n        if x.sum() > 0:\n            return self.fc(x)\n"
        "        return x\n",
        "utf-8",
    )
    with pytest.raises(ImportRefused, match=r"could not trace .*branchy.py:10.*control flow"):
        import_model(f"{path}:Net", (4,))


def test_cli_import_of_a_file_writes_project_and_weights_with_same_outputs(tmp_path, capsys):
    path = tmp_path / "mlp.py"
    path.write_text(
        "from torch import nn\n\n\ndef make():\n"
        "    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))\n",
        "utf-8",
    )
    out = tmp_path / "mlp.netcanvas"
    assert main(["import", f"{path}:make", "-o", str(out), "--input-shape", "4"]) == 0
    printed = capsys.readouterr()
    assert "runs it" in printed.err  # the file is executed: said before doing it
    project = load_project(out)
    model = load_module(generate(project.graph, project.name)).make_model()
    load_weights(model, out.with_suffix(".safetensors"))
    torch.manual_seed(0)
    reference = import_model(f"{path}:make", (4,)).original
    reference.load_state_dict(
        {k: v for k, v in zip(reference.state_dict(), model.state_dict().values(), strict=True)}
    )
    x = torch.randn(5, 4)
    assert torch.allclose(model(x), reference(x))


def test_stochastic_depth_exports_as_one_torch_only_class_that_drops_while_training(tmp_path):
    from designer.core.blockops import make_block
    from tests.core.helpers import chain

    g = chain(
        ("linear", {"out_features": 8}),
        ("stochastic_depth", {"p": 0.5, "mode": "row"}),
        ("stochastic_depth", {"p": 0.25, "mode": "batch"}),
        input_shape=(8,),
    )
    inner = [n.id for n in g.nodes.values() if n.type_id in ("linear", "stochastic_depth")][:2]
    make_block(g, g, inner, "branch").apply()  # one use inside a block definition, one outside
    source = generate(g, "StochasticDepth")  # a project named like the class must not shadow it
    assert source.text.count("class StochasticDepth(nn.Module):") == 1
    assert "torchvision" not in source.text and source.class_name != "StochasticDepth"
    path = tmp_path / "model.py"
    path.write_text(source.text, "utf-8")
    assert_ruff_clean(path)
    model = load_module(source).make_model()
    drops = sorted((m.p, m.mode) for m in model.modules() if type(m).__name__ == "StochasticDepth")
    assert drops == [(0.25, "batch"), (0.5, "row")]
    x = torch.randn(64, 8)
    with torch.no_grad():
        assert torch.equal(model.eval()(x), model(x))  # identity in eval: deterministic
        torch.manual_seed(0)
        y = model.train()(x)
    zero_rows = int((y.abs().sum(dim=1) == 0).sum())
    assert zero_rows == 64 or 0 < zero_rows < 64  # whole batch dropped, or some rows
    assert not torch.equal(y, model.eval()(x))  # training drops and rescales


@needs_tv
def test_stochastic_depth_matches_torchvision_in_training_and_imports_back_as_itself():
    from torchvision.ops import StochasticDepth as TVStochasticDepth

    from designer.core.layers import registry

    spec = registry.get("stochastic_depth")
    namespace: dict = {"torch": torch, "nn": torch.nn}
    exec(spec.support[0].source, namespace)  # noqa: S102 - our own support class text
    ours, theirs = namespace["StochasticDepth"](0.3, "row"), TVStochasticDepth(0.3, "row")
    x = torch.randn(32, 4, 5, 5)
    torch.manual_seed(7)
    a = ours.train()(x)
    torch.manual_seed(7)
    b = theirs.train()(x)
    assert torch.equal(a, b)

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(4, 4)
            self.drop = TVStochasticDepth(0.2, "row")

        def forward(self, x):
            return x + self.drop(self.fc(x))

    first = import_module(Net(), (4,), "net")
    exported = load_module(generate(first.project.graph, "net")).make_model()
    second = import_module(exported, (4,), "net")
    assert structure(second.project.graph) == structure(first.project.graph)
    types = {n.type_id for n in second.project.graph.nodes.values()}
    assert "stochastic_depth" in types and "identity" not in types


class _Residual(torch.nn.Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(n, n)
        self.norm = torch.nn.LayerNorm(n)

    def forward(self, x):
        return x + self.norm(self.fc(x))


class _ChainedLists(torch.nn.Module):
    """ModuleLists that forward() applies in order: `for block in self.blocks: x = block(x)`."""

    def __init__(self) -> None:
        super().__init__()
        nn = torch.nn
        self.stem = nn.Linear(8, 16)
        self.blocks = nn.ModuleList([_Residual(16) for _ in range(3)])
        self.head = nn.ModuleList([nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4)])

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        for layer in self.head:
            x = layer(x)
        return x


class _UnchainedLists(torch.nn.Module):
    """ModuleLists used otherwise: a value read between two elements, elements side by side,
    elements no nn.Sequential can hold (attention called as `a(x, x, x)[0]`)."""

    def __init__(self) -> None:
        super().__init__()
        nn = torch.nn
        self.attn = nn.ModuleList([nn.MultiheadAttention(8, 2, batch_first=True) for _ in "ab"])
        self.mix = nn.ModuleList([nn.Linear(8, 8), nn.Linear(8, 8)])
        self.heads = nn.ModuleList([_Residual(8), _Residual(8)])

    def forward(self, x):
        for attention in self.attn:
            x = attention(x, x, x)[0]
        y = self.mix[0](x)
        y = self.mix[1](y) + y
        return self.heads[0](y) * self.heads[1](y)


def test_a_module_list_applied_as_a_chain_imports_as_one_sequential_with_the_original_keys(
    tmp_path,
):
    torch.manual_seed(0)
    first = import_module(_ChainedLists(), (8,), "chained")
    g = first.project.graph
    assert [n.name for n in g.nodes.values() if n.type_id == "block"] == ["blocks", "head"]
    assert [n.name for n in g.blocks["blocks"].nodes.values() if n.type_id == "block"] == [
        "0",
        "1",
        "2",
    ]
    text = generate(g, "chained").text
    assert "self.blocks = nn.Sequential(Residual(16), Residual(16), Residual(16))" in text
    assert "self.head = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))" in text
    assert sorted(first.model.state_dict()) == sorted(first.original.state_dict())
    assert_round_trip(first, "chained", (8,), tmp_path)  # exported: an nn.Sequential, same graph


def test_a_module_list_not_applied_as_a_chain_keeps_one_node_per_element(tmp_path):
    torch.manual_seed(0)
    first = import_module(_UnchainedLists(), (4, 8), "unchained")
    names = {n.name for n in first.project.graph.nodes.values()}
    assert {"attn_0", "attn_1", "mix_0", "mix_1", "heads_0", "heads_1"} <= names
    original = first.original.state_dict()
    want = {re.sub(r"^(attn|mix|heads)\.", r"\1_", k) for k in original}
    assert set(first.model.state_dict()) == want
    assert_round_trip(first, "unchained", (4, 8), tmp_path)


@needs_tv
def test_maxvit_stages_keep_torchvision_state_dict_keys():
    torch.manual_seed(0)
    original = small_maxvit().eval()
    keys = set(import_module(original, (3, 32, 32), "maxvit").model.state_dict())
    assert "blocks.1.layers.1.layers.grid_attention.attn_layer.1.to_qkv.weight" in keys
    # NOTE: node names are snake_case, so MaxVitLayer's `MBconv` exports as `mbconv` (left open)
    assert keys == {k.replace(".MBconv.", ".mbconv.") for k in original.state_dict()}


@needs_tv
def test_swin_v2_block_variants_are_numbered_apart_from_the_version_in_their_name():
    g = import_module(small_swin(v2=True).eval(), (3, 32, 32), "swin_v2").project.graph
    names = sorted(b for b in g.blocks if b.startswith("SwinTransformerBlock"))
    assert names == [
        "SwinTransformerBlockV2",
        "SwinTransformerBlockV2_2",
        "SwinTransformerBlockV2_3",
        "SwinTransformerBlockV2_4",
    ]
    text = generate(g, "swin_v2").text
    assert all(f"class {name}(nn.Module):" in text for name in names)
