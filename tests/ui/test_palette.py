"""The palette: grouped by category, filtered as you type, drags and double-clicks add layers."""

from __future__ import annotations

from PySide6.QtCore import Qt

from designer.core.layers import registry
from designer.ui.canvas.view import MIME_TYPE
from designer.ui.palette import TYPE_ROLE, Palette


def test_groups_follow_registry_category_order(qtbot):
    palette = Palette()
    qtbot.addWidget(palette)
    shown = [palette.tree.topLevelItem(i).text(0) for i in range(palette.tree.topLevelItemCount())]
    present = {s.category for s in registry.palette_specs()}
    assert shown == [c for c in registry.CATEGORIES if c in present] + ["Backbones"]
    assert set(palette.layers) == {s.type_id for s in registry.palette_specs()}
    assert "block" not in palette.layers  # a block node is made from a selection
    for category, group in palette.categories.items():
        assert not group.icon(0).isNull(), category


def test_filter_matches_titles_and_docs_and_expands(qtbot):
    palette = Palette()
    qtbot.addWidget(palette)
    qtbot.keyClicks(palette.filter_edit, "flat")
    assert palette.visible_type_ids() == ["flatten"]
    assert palette.categories["Core"].isExpanded()
    assert palette.categories["Activation"].isHidden()
    palette.filter_edit.setText("fully connected")  # only in Linear's doc
    assert palette.visible_type_ids() == ["linear"]
    palette.filter_edit.clear()
    assert len(palette.visible_type_ids()) == len(registry.palette_specs())


def test_tooltip_has_doc_and_parameters(qtbot):
    palette = Palette()
    qtbot.addWidget(palette)
    tip = palette.layers["linear"].toolTip(0)
    assert registry.get("linear").doc in tip and "out_features" in tip and "16" in tip


def test_drag_payload_is_the_type_id(qtbot):
    palette = Palette()
    qtbot.addWidget(palette)
    mime = palette.tree.mimeData([palette.layers["conv2d"]])
    assert bytes(mime.data(MIME_TYPE).data()).decode() == "conv2d"
    assert palette.layers["conv2d"].data(0, TYPE_ROLE) == "conv2d"


def test_double_click_and_enter_request_an_add(qtbot):
    palette = Palette()
    qtbot.addWidget(palette)
    palette.resize(260, 2000)
    palette.show()
    qtbot.waitExposed(palette)
    item = palette.layers["relu"]
    palette.tree.scrollToItem(item)
    center = palette.tree.visualItemRect(item).center()
    viewport = palette.tree.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=center)  # a real double-click's press
    with qtbot.waitSignal(palette.add_requested) as sig:
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=center)
    assert sig.args == ["relu"]
    palette.filter_edit.setText("flat")
    with qtbot.waitSignal(palette.add_requested) as sig:
        qtbot.keyClick(palette.filter_edit, "\r")
    assert sig.args == ["flatten"]
