"""A torch.export .pt2 imports with the module's hierarchy as blocks (its nn_module_stack), the
same graph as importing the module itself, and identical outputs; what has no layer is named."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from designer.core.importer.api import import_model, import_module, structure  # noqa: E402
from designer.core.importer.trace import ImportRefused  # noqa: E402
from tests.core.test_importer import HAS_TV, needs_tv  # noqa: E402

if HAS_TV:  # NOTE: a global of this module, so that torch.fx wraps it as it does in torchvision
    from torchvision.models.shufflenetv2 import channel_shuffle

SHAPE = (3, 64, 64)


def _exported(model, path, decompose: bool = False):
    x = torch.randn(2, *SHAPE)
    program = torch.export.export(model, (x,))
    if decompose:  # the core-aten form: convolution, _native_batch_norm_legit_no_training, addmm
        program = program.run_decompositions()
    torch.export.save(program, str(path))
    return x


@needs_tv
@pytest.mark.parametrize(
    ("name", "block", "uses"),
    [("resnet18", "BasicBlock", 2), ("mobilenet_v2", "InvertedResidual", 1)],
)
def test_a_pt2_of_a_torchvision_model_imports_with_its_blocks_and_identical_outputs(
    name, block, uses, tmp_path
):
    from designer.core.importer.tv import torchvision_models

    torch.manual_seed(0)
    model = torchvision_models().get_model(name, weights=None).eval()
    path = tmp_path / f"{name}.pt2"
    x = _exported(model, path)
    result = import_model(str(path), SHAPE)
    graph = result.project.graph
    assert block in graph.blocks and len(graph.block_uses(block)) == uses
    # The same graph, blocks and names as importing the module itself.
    assert structure(graph) == structure(import_module(model, SHAPE, name).project.graph)
    with torch.no_grad():
        assert (result.model.eval()(x) - model(x)).abs().max().item() <= 1e-5
    assert sum(p.numel() for p in result.model.parameters()) == sum(
        p.numel() for p in model.parameters()
    )


def test_what_a_pt2_maps_to_no_layer_is_named_with_the_reason(tmp_path):
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.drop = nn.Dropout(0.3)

        def forward(self, x):
            return torch.cumsum(self.drop(self.fc(x)), 1)

    path = tmp_path / "net.pt2"
    torch.export.save(torch.export.export(Net().train(), (torch.randn(2, 4),)), str(path))
    with pytest.raises(ImportRefused) as err:
        import_model(str(path), (4,))
    text = str(err.value)
    assert "2 parts of the model have no Netcanvas layer" in text
    assert "dropout in training mode: export the model in eval mode (model.eval())" in text
    assert "function torch._ops.aten.cumsum.default has no Netcanvas layer" in text


@pytest.mark.parametrize("decompose", [False, True], ids=["default", "core-aten"])
def test_a_small_cnn_imports_from_both_forms_torch_export_writes(decompose, tmp_path):
    """As exported, and after run_decompositions(): convolution,
    _native_batch_norm_legit_no_training, max_pool2d_with_indices, mean.dim, view, addmm and
    mm of a transposed weight."""
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 5),
        nn.ReLU6(),
        nn.Linear(5, 2, bias=False),
    ).eval()
    path = tmp_path / "cnn.pt2"
    x = _exported(model, path, decompose)
    ops = {str(n.target) for n in torch.export.load(str(path)).module().graph.nodes}
    core = {"aten.convolution.default", "aten.addmm.default", "aten.mm.default"}
    assert core <= ops if decompose else not core & ops
    result = import_model(str(path), SHAPE)
    graph = result.project.graph
    assert structure(graph) == structure(import_module(model, SHAPE, "cnn").project.graph)
    with torch.no_grad():
        assert (result.model.eval()(x) - model(x)).abs().max().item() <= 1e-5


@needs_tv
def test_a_channel_shuffle_and_chunks_read_as_the_layers_the_module_import_finds(tmp_path):
    """ShuffleNet's channel_shuffle is exported as view-transpose-contiguous-view, its split
    as aten.chunk: they come back as one ChannelShuffle and two Chunk layers."""
    from torch import nn

    class Unit(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 1)

        def forward(self, x):
            a, b = x.chunk(2, dim=1)
            return channel_shuffle(torch.cat((a, self.conv(b)), 1), 2)

    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), Unit(), Unit()).eval()
    path = tmp_path / "shuffle.pt2"
    x = _exported(model, path)
    result = import_model(str(path), SHAPE)
    graph = result.project.graph
    assert structure(graph) == structure(import_module(model, SHAPE, "shuffle").project.graph)
    inner = graph.blocks["Unit"]
    assert sorted(n.type_id for n in inner.nodes.values() if n.type_id in ("chunk", "channel_shuffle")) == [
        "channel_shuffle", "chunk", "chunk",
    ]  # fmt: skip
    with torch.no_grad():
        assert (result.model.eval()(x) - model(x)).abs().max().item() <= 1e-6
