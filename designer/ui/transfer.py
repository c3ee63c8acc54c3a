"""Transfer learning in the window: freeze and unfreeze layers, load pretrained weights onto part
of the graph, and say per layer whether its weights are pretrained, trained or fresh.

The actions work on the document's selection and go through one undo step each; the weights
themselves live in the training panel (its last trained or loaded state), which Start can warm
start from.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from designer.core.freezing import freezable, upstream

WEIGHT_FILTER = "Weights (*.safetensors *.pt *.pth *.bin);;All files (*)"


class TransferActions(QObject):
    """Freeze, Unfreeze, Freeze Everything Before, Load Weights… for the selected layers."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.freeze_action = self._make("&Freeze", lambda: self.set_frozen(True), "freeze")
        self.unfreeze_action = self._make("&Unfreeze", lambda: self.set_frozen(False), "unfreeze")
        self.before_action = self._make(
            "Freeze Everything &Before", self.freeze_before, "freeze_before"
        )
        self.load_action = self._make("Load &Weights…", self.load_weights_dialog, "load_weights")

    @property
    def actions(self) -> list[QAction]:
        """For a menu or the canvas's context menu."""
        return [self.freeze_action, self.unfreeze_action, self.before_action, self.load_action]

    def _make(self, text: str, slot, name: str) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(name)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    # -- freezing --------------------------------------------------------------------------
    def set_frozen(self, frozen: bool, node_ids: list[str] | None = None) -> bool:
        """Freeze (or unfreeze) `node_ids` (default: the selection). False if nothing changed."""
        graph = self.document.graph
        ids = [
            i
            for i in freezable(graph, node_ids or self.document.selection)
            if graph.nodes[i].frozen != frozen
        ]
        if not ids:
            return False
        return self.document.set_frozen(ids, frozen) is None

    def freeze_before(self, node_id: str | None = None) -> bool:
        """Freeze every layer before the selected one (it stays trainable): a new head."""
        selected = self.document.selection
        node_id = node_id or (selected[0] if len(selected) == 1 else None)
        if node_id is None:
            self.window.statusBar().showMessage("Select the first layer that should train", 6000)
            return False
        graph = self.document.graph
        ids = sorted(upstream(graph, node_id))
        if graph.nodes[node_id].frozen:  # the chosen layer trains
            self.set_frozen(False, [node_id])
        return self.set_frozen(True, ids)

    # -- weights ---------------------------------------------------------------------------
    def load_weights_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Load pretrained weights", "", WEIGHT_FILTER
        )
        if not path:
            return
        prefixes, ok = QInputDialog.getText(
            self.window,
            "Key mapping",
            "Rename tensor prefixes first (OLD=NEW, comma-separated; e.g. backbone.=), or leave "
            "empty:",
        )
        if ok:
            self.load_weights(Path(path), prefixes)

    def load_weights(self, path: Path, prefixes: str = "", node_ids: list[str] | None = None):
        """Load `path` onto the selected layers (all when none is selected); shows the report.
        Returns the LoadReport, or None when it failed (the reason is shown)."""
        from designer.core.errors import NetcanvasError
        from designer.core.pretrained import parse_prefixes

        panel = self.window.training_panel
        ids = node_ids if node_ids is not None else self.document.selection
        try:
            report = panel.load_pretrained(path, parse_prefixes(prefixes), ids)
        except NetcanvasError as err:
            box = QMessageBox(QMessageBox.Icon.Warning, "Weights not loaded", str(err))
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.setParent(self.window, box.windowFlags())
            box.open()
            return None
        self.window.statusBar().showMessage(f"{path.name}: {report.summary()}", 15000)
        return report


def weights_line(panel, node) -> str:
    """ "Weights: pretrained (resnet18-f37072fd.pth) · frozen" for the inspector ("" for
    layers without weights)."""
    origin = panel.origin_text(node.id) if panel is not None else ""
    parts = [f"Weights: {origin}"] if origin else []
    if node.frozen:
        parts.append("frozen (not trained)")
    return " · ".join(parts)


def load_onto(document, held, path: Path, prefixes: dict, node_ids: list[str]):
    """The weights after loading `path` onto `node_ids` (all layers when empty) of the
    document's model, starting from the `held` weights (state, types, origins) where they still
    fit. Returns ((state, types, origins), report); WeightsError when nothing matched."""
    import torch

    from designer.core.compiler import build_model
    from designer.core.origins import FRESH_ORIGIN, pretrained
    from designer.core.pretrained import (
        carry_over,
        layer_types,
        load_pretrained,
        read_state_dict,
    )
    from designer.core.training.init import initialize
    from designer.core.training.prepare import per_layer_init
    from designer.core.weights import WeightsError

    project = document.project
    torch.manual_seed(project.training.seed)
    model, source = build_model(project.graph, project.name)
    initialize(model, project.training.init, per_layer_init(project.graph, source))
    types = layer_types(project.graph, source)
    state, old_types, old_origins = held if held is not None else ({}, {}, {})
    kept = set(carry_over(model, state, old_types, types).kept) if state else set()
    only = [source.module_paths[i] for i in node_ids if i in source.module_paths] or None
    report = load_pretrained(model, read_state_dict(path), prefixes=prefixes, only=only)
    if not report.matched:
        raise WeightsError(f"{path}: no tensor fits these layers ({report.summary()})")
    loaded = {k.rpartition(".")[0] for k in report.matched}
    origins = {}
    for key in model.state_dict():
        layer = key.rpartition(".")[0]
        if layer in loaded:
            origins[layer] = pretrained(path.name)
        elif layer in kept:
            origins[layer] = old_origins.get(layer, FRESH_ORIGIN)
        else:
            origins[layer] = FRESH_ORIGIN
    fresh_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return (fresh_state, types, origins), report


def origin_for(document, origins: dict, node_id: str) -> list:
    """The distinct Origins of one node's layers ([] without weights or when the graph can't
    be compiled)."""
    from designer.core.codegen import CodegenError, generate
    from designer.core.origins import under

    try:
        source = generate(document.model_graph, document.project.name, document.model_analysis)
    except CodegenError:
        return []
    # Inside a block: the layer of the use it was opened through.
    root = source.module_paths.get("/".join((*document.path, node_id)))
    return under(origins, root) if root is not None else []
