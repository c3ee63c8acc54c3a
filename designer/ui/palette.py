"""The layer palette: layers grouped by category, filtered as you type, dragged onto the canvas;
then the pretrained backbones (core.backbones' list), imported as blocks when dropped."""

from __future__ import annotations

import re

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDrag, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.core.backbones import BACKBONES, Backbone
from designer.core.layers import registry
from designer.core.layers.spec import LayerSpec
from designer.resources import resource_path
from designer.ui.canvas.colors import category_color
from designer.ui.canvas.view import BACKBONE_MIME, MIME_TYPE

TYPE_ROLE = Qt.ItemDataRole.UserRole
BACKBONE_ROLE = Qt.ItemDataRole.UserRole + 1
BACKBONES_TITLE = "Backbones"


def category_slug(category: str) -> str:
    """ "Input/Output" -> "input-output" (the icon's file name)."""
    return re.sub(r"[^a-z0-9]+", "-", category.lower()).strip("-")


def category_icon(category: str) -> QIcon:
    """resources/icons/<slug>.svg, or a plain swatch of the category colour if it is missing."""
    path = resource_path("icons", f"{category_slug(category)}.svg")
    icon = QIcon(str(path)) if path.is_file() else QIcon()
    if icon.pixmap(16, 16).isNull():
        pix = QPixmap(16, 16)
        pix.fill(QColor(0, 0, 0, 0))
        painter = QPainter(pix)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(category_color(category))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(1, 1, 14, 14, 3, 3)
        painter.end()
        icon = QIcon(pix)
    return icon


def layer_tooltip(spec: LayerSpec) -> str:
    """The layer's doc and its parameters with defaults, for hover help."""
    lines = [f"<b>{spec.title}</b>", spec.doc]
    if spec.params:
        lines.append("<br><i>Parameters</i>")
        for p in spec.params:
            doc = f": {p.doc}" if p.doc else ""
            lines.append(f"• <b>{p.name}</b> = {p.default!r}{doc}")
    return "<br>".join(lines)


def backbone_tooltip(backbone: Backbone) -> str:
    """What dropping the backbone does, and whether torchvision (which it needs) is here."""
    import importlib.util

    lines = [
        f"<b>{backbone.title}</b> (torchvision)",
        backbone.doc,
        "Drop it on the canvas: its architecture arrives as blocks, optionally with its "
        f"ImageNet weights ({backbone.megabytes:.0f} MB, downloaded once into the cache).",
    ]
    if importlib.util.find_spec("torchvision") is None:
        lines.append("<i>Needs torchvision, which is not installed: "
                     "pip install 'netcanvas[torchvision]'</i>")  # fmt: skip
    return "<br>".join(lines)


def _item(group: QTreeWidgetItem, title: str, role, value: str, tip: str) -> QTreeWidgetItem:
    """A draggable entry of `group` carrying `value` under `role`."""
    item = QTreeWidgetItem(group, [title])
    item.setData(0, role, value)
    item.setIcon(0, group.icon(0))
    item.setToolTip(0, tip)
    item.setFlags(
        Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
    )
    return item


def _mime_of(item: QTreeWidgetItem | None) -> QMimeData | None:
    if item is None:
        return None
    if item.data(0, BACKBONE_ROLE):
        return Palette.backbone_mime(item.data(0, BACKBONE_ROLE))
    return Palette.mime_for(item.data(0, TYPE_ROLE)) if item.data(0, TYPE_ROLE) else None


class _Tree(QTreeWidget):
    """Starts a drag with the palette mime type (payload: the type id, or a backbone name)."""

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [MIME_TYPE, BACKBONE_MIME]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # noqa: N802
        return (_mime_of(items[0]) if items else None) or QMimeData()

    def startDrag(self, actions: Qt.DropAction) -> None:  # noqa: N802
        item = self.currentItem()
        mime = _mime_of(item)
        if item is None or mime is None:
            return
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.setPixmap(item.icon(0).pixmap(24, 24))
        drag.exec(Qt.DropAction.CopyAction)


class Palette(QWidget):
    """Every registered layer, by category. Double-click emits `add_requested`; so does Enter in
    the filter box, for the first match."""

    add_requested = Signal(str)  # type id
    backbone_requested = Signal(str)  # backbone name (double-click)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter layers…")
        self.filter_edit.setClearButtonEnabled(True)
        self.tree = _Tree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(QSize(16, 16))
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.tree)
        self.categories: dict[str, QTreeWidgetItem] = {}
        self.layers: dict[str, QTreeWidgetItem] = {}
        self.backbones: dict[str, QTreeWidgetItem] = {}
        self._populate()
        self.filter_edit.textChanged.connect(self.set_filter)
        self.tree.itemDoubleClicked.connect(self._activated)
        self.filter_edit.returnPressed.connect(self._add_first_match)
        self.setFocusProxy(self.filter_edit)

    @staticmethod
    def mime_for(type_id: str, kind: str = MIME_TYPE) -> QMimeData:
        """The drag payload for `type_id` (what the canvas accepts)."""
        mime = QMimeData()
        mime.setData(kind, type_id.encode("utf-8"))
        mime.setText(type_id)
        return mime

    @staticmethod
    def backbone_mime(name: str) -> QMimeData:
        """The drag payload for backbone `name`."""
        return Palette.mime_for(name, BACKBONE_MIME)

    def _populate(self) -> None:
        for spec in registry.palette_specs():
            group = self.categories.get(spec.category)
            if group is None:
                group = self.categories[spec.category] = self._group(spec.category)
            tip = layer_tooltip(spec)
            self.layers[spec.type_id] = _item(group, spec.title, TYPE_ROLE, spec.type_id, tip)
        group = self.backbone_group = self._group(BACKBONES_TITLE)
        for b in BACKBONES.values():
            tip = backbone_tooltip(b)
            self.backbones[b.name] = _item(group, b.title, BACKBONE_ROLE, b.name, tip)
        self.tree.expandAll()

    def _group(self, title: str) -> QTreeWidgetItem:
        group = QTreeWidgetItem(self.tree, [title])
        group.setIcon(0, category_icon(title))
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = group.font(0)
        font.setBold(True)
        group.setFont(0, font)
        return group

    def set_filter(self, text: str) -> None:
        """Show layers whose title, type id or doc contains `text`; expand groups with matches."""
        needle = text.strip().lower()
        for group in self.categories.values():
            shown = 0
            for i in range(group.childCount()):
                item = group.child(i)
                spec = registry.get(item.data(0, TYPE_ROLE))
                hay = f"{spec.title} {spec.type_id} {spec.doc}".lower()
                match = not needle or needle in hay
                item.setHidden(not match)
                shown += match
            group.setHidden(shown == 0)
            group.setExpanded(shown > 0)
        shown = 0
        for backbone in BACKBONES.values():
            hay = f"{backbone.title} {backbone.name} {backbone.doc} backbone pretrained".lower()
            match = not needle or needle in hay
            self.backbones[backbone.name].setHidden(not match)
            shown += match
        self.backbone_group.setHidden(shown == 0)
        self.backbone_group.setExpanded(shown > 0)

    def visible_type_ids(self) -> list[str]:
        return [
            t
            for t, item in self.layers.items()
            if not item.isHidden() and not item.parent().isHidden()
        ]

    def _add_first_match(self) -> None:
        shown = self.visible_type_ids()
        if self.filter_edit.text().strip() and shown:
            self.add_requested.emit(shown[0])

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.add_requested.emit(type_id)
        elif item.data(0, BACKBONE_ROLE):
            self.backbone_requested.emit(item.data(0, BACKBONE_ROLE))
