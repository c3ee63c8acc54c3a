"""Where each layer's weights came from: pretrained (from a file), trained (in a run) or fresh.

Origins are kept per layer, by module path (the names of the weights file: `conv1`,
`layer1.0.bn1`), so they describe the weights file they are saved beside. The project file
holds them in format 3's optional `weights.origins` field (docs/project-format.md):
`{"conv1": {"kind": "pretrained", "from": "resnet18-f37072fd.pth"}, "fc": {"kind": "fresh"}}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PRETRAINED, TRAINED, FRESH = "pretrained", "trained", "fresh"
KINDS = (PRETRAINED, TRAINED, FRESH)
MAX_SOURCE = 400  # characters of a file name or run description kept


@dataclass(frozen=True)
class Origin:
    """One layer's weights: `kind` (pretrained, trained, fresh) and `source`, the file they
    were loaded from or the run that trained them ("" when unknown or fresh)."""

    kind: str
    source: str = ""

    def text(self) -> str:
        """ "pretrained (resnet18-f37072fd.pth)", "trained (run 20261202-…)", "fresh"."""
        return f"{self.kind} ({self.source})" if self.source else self.kind

    def to_data(self) -> dict:
        return {"kind": self.kind, **({"from": self.source} if self.source else {})}


def pretrained(file: str) -> Origin:
    return Origin(PRETRAINED, str(file)[:MAX_SOURCE])


def trained(run: str = "") -> Origin:
    return Origin(TRAINED, str(run)[:MAX_SOURCE])


FRESH_ORIGIN = Origin(FRESH)


def layer_of(key: str) -> str:
    """conv1.weight -> conv1 (the layer a tensor belongs to)."""
    return key.rpartition(".")[0]


def for_state(state: Iterable[str], origin: Origin) -> dict[str, Origin]:
    """Every layer of a state dict (its keys) with the same origin."""
    return {layer_of(k): origin for k in state}


def under(origins: Mapping[str, Origin], root: str) -> list[Origin]:
    """The distinct origins of the layers at or below module path `root`, in a stable order."""
    found = {o for layer, o in origins.items() if layer == root or layer.startswith(root + ".")}
    return sorted(found, key=lambda o: (KINDS.index(o.kind), o.source))


def describe(found: list[Origin]) -> str:
    """One line for a node: "pretrained (x.pth)" or "partly pretrained (x.pth), fresh"."""
    if not found:
        return ""
    texts = list(dict.fromkeys(o.text() for o in found))
    return texts[0] if len(texts) == 1 else "partly " + ", ".join(texts)


def kinds(found: list[Origin]) -> str | None:
    """ "pretrained", or "partly fresh, pretrained" (the kinds only), None when none."""
    names = sorted({o.kind for o in found})
    if not names:
        return None
    return names[0] if len(names) == 1 else "partly " + ", ".join(names)


def to_data(origins: Mapping[str, Origin]) -> dict:
    return {layer: origins[layer].to_data() for layer in sorted(origins)}
