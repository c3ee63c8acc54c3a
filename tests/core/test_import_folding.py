"""Sizes read in forward() fold to constants; attention, tokens and x[:, 0] import and round-trip."""

from __future__ import annotations

import textwrap

import pytest

torch = pytest.importorskip("torch")

from torch import fx, nn  # noqa: E402

from designer.core.codegen import generate  # noqa: E402
from designer.core.compiler import load_module  # noqa: E402
from designer.core.importer.api import import_model, import_module, structure  # noqa: E402
from designer.core.importer.folding import BATCH, SHAPE, fold_sizes  # noqa: E402
from designer.core.importer.trace import ImportRefused  # noqa: E402


class Patches(nn.Module):
    """ViT's input processing: shape arithmetic, asserts and a reshape by the read batch."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, 8, kernel_size=4, stride=4)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        n, c, h, w = x.shape
        torch._assert(h == 16, f"Wrong image height {h}")
        torch._assert(x.dim() == 4, "4-D")
        n_h, n_w = h // 4, w // 4
        x = self.proj(x).reshape(n, 8, n_h * n_w).permute(0, 2, 1)
        y, _ = self.attn(x, x, x, need_weights=False)
        x = x + y
        return self.head(x[:, 0])


def round_trip(model: nn.Module, shape: tuple[int, ...]):
    torch.manual_seed(0)
    first = import_module(model, shape, "net")
    x = torch.randn(3, *shape)
    with torch.no_grad():
        want = model.eval()(x)
        assert (first.model.eval()(x) - want).abs().max().item() <= 1e-5
    assert sum(p.numel() for p in first.model.parameters()) == sum(
        p.numel() for p in model.parameters()
    )
    exported = load_module(generate(first.project.graph, "net")).make_model()
    exported.load_state_dict(first.model.state_dict())
    second = import_module(exported, shape, "net")
    assert structure(second.project.graph) == structure(first.project.graph)
    with torch.no_grad():
        assert (second.model.eval()(x) - want).abs().max().item() <= 1e-5
    return first


def test_sizes_fold_to_constants_and_the_batch_and_asserts_disappear():
    model = Patches().eval()
    graph = fx.Tracer().trace(model)
    assert fold_sizes(model, graph, (3, 16, 16)) is None
    targets = [n.target for n in graph.nodes]
    assert torch._assert not in targets and "dim" not in targets
    [reshape] = [n for n in graph.nodes if n.target == "reshape"]
    assert reshape.args[1:] == (BATCH, 8, 16)  # n -> BATCH, n_h * n_w -> 16
    assert reshape.meta[SHAPE] == (2, 8, 16)


@pytest.mark.parametrize("on_meta", [True, False], ids=["meta", "real"])
def test_a_big_model_is_run_on_the_meta_device_and_folds_the_same(monkeypatch, on_meta):
    from designer.core.importer import folding

    class DataDependent(Patches):  # nonzero's shape depends on values: it can't run on meta
        def forward(self, x):
            y = super().forward(x)
            return y + 0 * torch.nonzero(y > 1e9).sum()

    monkeypatch.setattr(folding, "META_ABOVE", -1)  # every model counts as big
    model = (Patches() if on_meta else DataDependent()).eval()
    graph = fx.Tracer().trace(model)
    assert fold_sizes(model, graph, (3, 16, 16)) is None
    [reshape] = [n for n in graph.nodes if n.target == "reshape"]
    assert reshape.args[1:] == (BATCH, 8, 16) and reshape.meta[SHAPE] == (2, 8, 16)
    values = folding._run(model, fx.Tracer().trace(model), (2, 3, 16, 16))
    devices = {v.device.type for v in values.values() if isinstance(v, torch.Tensor)}
    assert devices == {"meta" if on_meta else "cpu"}


def test_vit_like_module_imports_attention_and_select_and_round_trips():
    first = round_trip(Patches(), (3, 16, 16))
    types = [n.type_id for n in first.project.graph.topological()]
    assert types == [
        "input", "conv2d", "reshape", "permute", "multihead_attention", "add", "select", "linear",
        "output",
    ]  # fmt: skip
    code = generate(first.project.graph, "net").text
    assert "need_weights=False)[0]" in code and "[:, 0]" in code


def test_a_model_that_does_not_run_on_the_input_shape_says_so_with_its_own_message():
    with pytest.raises(ImportRefused) as err:
        import_module(Patches(), (3, 20, 20), "net")
    message = str(err.value)
    assert "does not run on an input of shape 3x20x20 at " in message
    assert 'torch._assert(h == 16, f"Wrong image height {h}")' in message  # its line
    assert "AssertionError: Wrong image height ?" in message and "--input-shape" in message


def test_a_size_that_follows_the_batch_in_another_way_is_named(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(
        textwrap.dedent(
            """
            from torch import nn


            class Net(nn.Module):
                def forward(self, x):
                    n, t, f = x.shape
                    return x.reshape(n * t, f)
            """
        ),
        "utf-8",
    )
    with pytest.raises(ImportRefused) as err:
        import_model(f"{path}:Net", (4, 6))
    message = str(err.value)
    assert "computes a size from the batch size" in message
    assert f"{path}:8: return x.reshape(n * t, f)" in message


def test_attention_whose_weights_are_used_is_refused_by_name():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x):
            y, w = self.attn(x, x, x)
            return y + w.mean() * 0

    with pytest.raises(ImportRefused, match=r"attn: its attention weights are used"):
        import_module(Net(), (5, 8), "net")


def test_a_raw_parameter_used_other_than_as_a_learned_layer_is_named_with_its_shape():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gain = nn.Parameter(torch.ones(6))  # per feature, not per channel
            self.shift = nn.Parameter(torch.zeros(6))

        def forward(self, x):
            return torch.cat([x * self.gain, torch.tanh(self.shift).expand(2, 4, 6)], dim=1)

    with pytest.raises(ImportRefused) as err:
        import_module(Net(), (4, 6), "net")
    message = str(err.value)
    assert "multiplies by the raw parameter gain of shape (6,)" in message
    assert "(4, 1) here, has a layer (LayerScale)" in message
    assert "shift: a raw parameter or buffer used directly" in message


def test_layer_scale_and_position_embedding_of_a_hand_written_module_round_trip():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pos = nn.Parameter(torch.randn(1, 5, 8))
            self.fc = nn.Linear(8, 8)
            self.scale = nn.Parameter(torch.full((5, 1), 0.5))

        def forward(self, x):
            return self.scale * self.fc(x + self.pos)

    first = round_trip(Net(), (5, 8))
    names = {n.name: n.type_id for n in first.project.graph.nodes.values()}
    assert names["pos"] == "position_embedding" and names["scale"] == "layer_scale"
    assert first.project.graph.by_name("scale").params["init"] == 0.5


def test_torchvision_checkpoints_load_by_name_raw_parameters_included():
    """A torchvision state_dict (ImageNet weights, Load Weights…) fits the imported model: its
    bare `layer_scale` / `class_token` / `pos_embedding` are the layers' `.weight`."""
    from designer.core.importer.tv import torchvision_models
    from designer.core.pretrained import load_pretrained

    tv = torchvision_models()
    from torchvision.models.vision_transformer import VisionTransformer

    for model, shape in (
        (tv.convnext_tiny(), (3, 32, 32)),
        (
            VisionTransformer(32, 16, num_layers=1, num_heads=2, hidden_dim=16, mlp_dim=32),
            (3, 32, 32),
        ),
    ):
        imported = import_module(model, shape, "net").model
        torch.manual_seed(1)
        donor = {k: torch.randn_like(v) for k, v in model.state_dict().items()}
        report = load_pretrained(imported, donor)
        assert len(report.matched) == len(donor) and not report.missing and not report.unused
        model.load_state_dict(donor)
        x = torch.randn(2, *shape)
        with torch.no_grad():
            assert (imported.eval()(x) - model.eval()(x)).abs().max().item() <= 1e-5
