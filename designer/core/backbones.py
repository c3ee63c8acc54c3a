"""Pretrained backbones: torchvision classifiers imported as blocks, with their real ImageNet
weights downloaded from torchvision's URLs into the user cache and checked against the
SHA-256 prefix in each file name (as torch.hub does), then loaded by name and shape.

`BACKBONES` is the one list of them: the palette's Backbones section and `netcanvas backbones`
both read it. The weights are `.pth` state_dicts, read with `torch.load(weights_only=True)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from designer.core.errors import NetcanvasError

if TYPE_CHECKING:
    from designer.core.importer.api import ImportResult
    from designer.core.pretrained import LoadReport

# NOTE: designer.core.data.downloads (numpy) is imported where it is used: the palette reads
# BACKBONES at start-up, before the window's first paint.


@dataclass(frozen=True)
class Backbone:
    """One torchvision classifier offered as a backbone."""

    name: str  # torchvision's constructor: torchvision.models.<name>
    title: str
    weights: str  # torchvision's weights enum (its DEFAULT holds the URL and the hash)
    megabytes: float  # the weights download (torchvision's metadata; a test keeps them equal)
    doc: str


BACKBONES = {
    b.name: b
    for b in (
        Backbone("resnet18", "ResNet-18", "ResNet18_Weights", 44.661,
                 "11.7 M parameters, 69.8 % ImageNet top-1; residual blocks."),
        Backbone("resnet50", "ResNet-50", "ResNet50_Weights", 97.79,
                 "25.6 M parameters, 80.9 % ImageNet top-1; bottleneck blocks."),
        Backbone("mobilenet_v2", "MobileNetV2", "MobileNet_V2_Weights", 13.598,
                 "3.5 M parameters, 72.2 % ImageNet top-1; inverted residuals, for phones."),
        Backbone("mobilenet_v3_large", "MobileNetV3 (large)", "MobileNet_V3_Large_Weights",
                 21.107, "5.5 M parameters, 75.3 % ImageNet top-1; squeeze-excitation."),
        Backbone("efficientnet_b0", "EfficientNet-B0", "EfficientNet_B0_Weights", 20.451,
                 "5.3 M parameters, 77.7 % ImageNet top-1; compound scaling."),
        Backbone("convnext_tiny", "ConvNeXt-Tiny", "ConvNeXt_Tiny_Weights", 109.119,
                 "28.6 M parameters, 82.5 % ImageNet top-1; a modernised ResNet."),
    )
}  # fmt: skip
_HASH = re.compile(r"-([a-f0-9]{6,})\.pth$")
Progress = Callable[[str, int, "int | None"], None]


class DownloadCancelled(NetcanvasError):
    """The user cancelled a weights download (nothing is left in the cache)."""


class WeightsDamaged(NetcanvasError, ValueError):
    """The downloaded file's SHA-256 does not start with the hash in its name (refused)."""


def get(name: str) -> Backbone:
    if name not in BACKBONES:
        raise NetcanvasError(f"no backbone {name!r}; there are: {', '.join(BACKBONES)}")
    return BACKBONES[name]


def weights_url(name: str) -> str:
    """torchvision's URL of the default ImageNet weights of backbone `name`."""
    from designer.core.importer.tv import torchvision_models

    return getattr(torchvision_models(), get(name).weights).DEFAULT.url


def cached_weights(name: str, url: str | None = None, root=None) -> Path | None:
    """The weights file in the cache if it is there (it was hash-checked when it came)."""
    from designer.core.data import downloads

    file = (url or weights_url(name)).rpartition("/")[2]
    target = Path(root or downloads.cache_root()) / "backbones" / file
    return target if target.is_file() else None


def fetch_weights(
    name: str,
    progress: Progress | None = None,
    url: str | None = None,
    root=None,
    cancelled: Callable[[], bool] | None = None,
) -> Path:
    """The cached weights file of backbone `name`, downloaded (and hash-checked) if missing.

    OSError with one line offline; WeightsDamaged (a ValueError) when the download's SHA-256
    does not start with the hash in the file name; DownloadCancelled when `cancelled()` turns true
    while downloading (the partial file is removed)."""
    from designer.core.data import downloads

    url = url or weights_url(name)
    base, _, file = url.rpartition("/")
    found = _HASH.search(file)
    if found is None:
        raise ValueError(f"{name}: {file} names no hash to check it against")
    folder = Path(root or downloads.cache_root()) / "backbones"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file
    prefix = found.group(1)
    if target.is_file() and downloads.md5_of(target, "sha256").startswith(prefix):
        return target

    def report(part: str, done: int, total: int | None) -> None:
        if cancelled is not None and cancelled():
            raise DownloadCancelled(f"{name}: the download of {file} was cancelled")
        if progress is not None:
            progress(part, done, total)

    try:
        downloads._download(name, file, prefix, target, (base,), report, algorithm="sha256")
    except DownloadCancelled:
        target.with_name(target.name + ".part").unlink(missing_ok=True)
        raise
    except ValueError as err:  # the hash check: the file was not kept
        raise WeightsDamaged(str(err)) from None
    return target


def set_classes(graph, classes: int) -> str | None:
    """Give the classifier's last Linear `classes` outputs (the new head); its weights then
    start fresh. Follows the output back through layers without weights and into the block
    that ends the model. Returns the changed layer ("fc", "classifier.1"), or None if no
    Linear ends it."""
    g, node, path = graph, _head_source(graph), ""
    while node is not None:
        features = node.spec.features_param
        if features is not None and not node.spec.is_block:  # a Linear: it sets the features
            g.set_param(node.id, features, int(classes))
            return path + node.name
        if node.spec.is_block:
            g, path = graph.blocks[str(node.params["block"])], f"{path}{node.name}."
            node = _head_source(g)
        elif len(g.incoming(node.id)) == 1 and not node.spec.is_end:
            node = g.nodes[g.incoming(node.id)[0].src]
        else:
            return None
    return None


def _head_source(g):
    """The node feeding the graph's one Output (None if not exactly one)."""
    outs = g.ends("output")
    if len(outs) != 1 or len(g.incoming(outs[0].id)) != 1:
        return None
    return g.nodes[g.incoming(outs[0].id)[0].src]


@dataclass
class Loaded:
    """A backbone as a project: the import (graph, blocks, model) and, when pretrained, the
    weights file and what loading it did."""

    result: ImportResult
    weights: Path | None = None
    report: LoadReport | None = None
    head: str | None = None  # the layer given `classes` outputs


def backbone(
    name: str,
    input_shape=(3, 224, 224),
    pretrained: bool = True,
    classes: int | None = None,
    **fetch,
) -> Loaded:
    """The backbone as an imported project (blocks, torchvision's names) and its model, with
    the ImageNet weights loaded when `pretrained`; with `classes`, a new head of that size."""
    from designer.core.importer.api import import_model
    from designer.core.pretrained import load_pretrained, read_state_dict

    get(name)
    path = fetch_weights(name, **fetch) if pretrained else None
    result = import_model(f"torchvision:{name}", tuple(input_shape))
    head = set_classes(result.project.graph, classes) if classes else None
    if head is not None:
        from designer.core.compiler import build_model

        result.model, _source = build_model(result.project.graph, result.project.name)
    if path is None:
        return Loaded(result, head=head)
    report = load_pretrained(result.model, read_state_dict(path))
    return Loaded(result, path, report, head)
