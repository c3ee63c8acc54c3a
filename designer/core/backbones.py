"""Pretrained backbones: torchvision classifiers imported as blocks, with their real ImageNet
weights downloaded from torchvision's URLs into the user cache and checked against the
SHA-256 prefix in each file name (as torch.hub does), then loaded by name and shape.

The weights are `.pth` state_dicts, read with `torch.load(weights_only=True)`.
"""

from __future__ import annotations

import re
from pathlib import Path

from designer.core.data import downloads
from designer.core.errors import NetcanvasError

# name -> (title, torchvision weights enum)
BACKBONES = {
    "resnet18": ("ResNet-18", "ResNet18_Weights"),
    "resnet50": ("ResNet-50", "ResNet50_Weights"),
    "mobilenet_v2": ("MobileNetV2", "MobileNet_V2_Weights"),
    "mobilenet_v3_large": ("MobileNetV3 (large)", "MobileNet_V3_Large_Weights"),
    "efficientnet_b0": ("EfficientNet-B0", "EfficientNet_B0_Weights"),
    "convnext_tiny": ("ConvNeXt-Tiny", "ConvNeXt_Tiny_Weights"),
}
_HASH = re.compile(r"-([a-f0-9]{6,})\.pth$")


def weights_url(name: str) -> str:
    """torchvision's URL of the default ImageNet weights of backbone `name`."""
    from designer.core.importer.tv import torchvision_models

    if name not in BACKBONES:
        raise NetcanvasError(f"no backbone {name!r}; there are: {', '.join(BACKBONES)}")
    return getattr(torchvision_models(), BACKBONES[name][1]).DEFAULT.url


def fetch_weights(name: str, progress=None, url: str | None = None, root=None) -> Path:
    """The cached weights file of backbone `name`, downloaded (and hash-checked) if missing.
    OSError with one line offline; ValueError when the download is damaged."""
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
    downloads._download(name, file, prefix, target, (base,), progress, algorithm="sha256")
    return target


def backbone(name: str, input_shape=(3, 224, 224), pretrained: bool = True, **fetch):
    """The backbone as an imported project (blocks, torchvision's names) and its model, with
    the ImageNet weights loaded when `pretrained`. Returns (ImportResult, LoadReport or None)."""
    from designer.core.importer.api import import_model
    from designer.core.pretrained import load_pretrained, read_state_dict

    result = import_model(f"torchvision:{name}", tuple(input_shape))
    if not pretrained:
        return result, None
    state = read_state_dict(fetch_weights(name, **fetch))
    return result, load_pretrained(result.model, state)
