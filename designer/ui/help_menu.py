"""The Help menu: keyboard shortcuts, the README's first-network guide, About."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMainWindow,
    QMenu,
    QTextBrowser,
    QVBoxLayout,
)

from designer import __version__

README = Path(__file__).resolve().parents[2] / "README.md"
CANVAS_KEYS = [
    ("Tab, or double-click empty canvas", "Search the layers and add one at the cursor"),
    ("+ under a selected layer's output", "Add a layer that accepts that output's shape"),
    ("Drag from an output to an input", "Connect two layers"),
    ("Drop a layer on a connection", "Insert it there"),
    ("Space + drag, or middle-drag", "Pan"),
    ("Mouse wheel", "Zoom around the cursor"),
    ("Delete / Backspace", "Delete the selected layers and connections"),
    ("Double-click a block, or Enter", "Open it in place (its edits change every use)"),
    ("Esc, or Backspace with nothing selected", "Inside a block: back out one level"),
]


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str]]:
    """(keys, what they do) for every menu action with a shortcut, then the canvas gestures."""
    rows = []
    seen = set()
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if not isinstance(menu, QMenu):
            continue
        for action in menu.actions():
            keys = ", ".join(k.toString() for k in action.shortcuts())
            if keys and action.text() not in seen:
                seen.add(action.text())
                rows.append((keys, action.text().replace("&", "")))
    return rows + CANVAS_KEYS


def first_network_guide() -> str:
    """The README's "A first network in two minutes" section (Markdown)."""
    try:
        text = README.read_text("utf-8")
    except OSError:
        return "See README.md, 'A first network in two minutes'."
    match = re.search(r"^## A first network.*?(?=^## )", text, re.S | re.M)
    return match.group(0) if match else text


def _dialog(window: QMainWindow, title: str, markdown: str) -> QDialog:
    dialog = QDialog(window)
    dialog.setWindowTitle(title)
    view = QTextBrowser()
    view.setOpenExternalLinks(False)
    view.setMarkdown(markdown)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.close)
    layout = QVBoxLayout(dialog)
    layout.addWidget(view)
    layout.addWidget(buttons)
    dialog.resize(620, 520)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


def show_shortcuts(window: QMainWindow) -> QDialog:
    rows = "\n".join(f"| {keys} | {what} |" for keys, what in shortcut_rows(window))
    return _dialog(window, "Keyboard shortcuts", f"| Keys | Action |\n|---|---|\n{rows}\n")


def show_guide(window: QMainWindow) -> QDialog:
    return _dialog(window, "A first network", first_network_guide())


def show_about(window: QMainWindow) -> QDialog:
    text = (
        f"## Netcanvas {__version__}\n\nDesign neural networks on a canvas, train them in "
        "PyTorch while the loss plots live, and take away clean PyTorch code that is exactly "
        "the model you trained.\n\nMIT licence."
    )
    return _dialog(window, "About Netcanvas", text)


def build_help_menu(window: QMainWindow) -> None:
    menu = window.menuBar().addMenu("&Help")
    for text, show, keys in (
        ("&Keyboard Shortcuts", show_shortcuts, "F1"),
        ("A &First Network…", show_guide, None),
        ("&About Netcanvas", show_about, None),
    ):
        action = menu.addAction(text)
        if keys:
            action.setShortcut(keys)
        action.triggered.connect(
            lambda _on=False, s=show: setattr(window, "help_dialog", s(window))
        )
