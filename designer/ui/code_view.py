"""Live, read-only view of the generated PyTorch code, with Python syntax colouring."""

from __future__ import annotations

import builtins
import keyword
import re

from PySide6.QtCore import QRegularExpression, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QShowEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from designer.core.codegen import CodegenError, generate
from designer.ui.theme import ERROR_STYLE, is_dark


def _fmt(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    f = QTextCharFormat()
    f.setForeground(QColor(color))
    if bold:
        f.setFontWeight(QFont.Weight.Bold)
    f.setFontItalic(italic)
    return f


# (light, dark) colours per token kind.
_COLORS = {
    "keyword": ("#0033b3", "#cc7832"),
    "builtin": ("#000080", "#8888c6"),
    "self": ("#94558d", "#94558d"),
    "number": ("#1750eb", "#6897bb"),
    "string": ("#067d17", "#6a8759"),
    "comment": ("#8c8c8c", "#808080"),
    "decorator": ("#9e880d", "#bbb529"),
    "defname": ("#00627a", "#ffc66d"),
}


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, builtins, numbers, strings (incl. triple-quoted), comments, decorators."""

    def __init__(self, document: QTextDocument, dark: bool = False) -> None:
        super().__init__(document)
        pick = 1 if dark else 0
        f = {k: _fmt(v[pick], bold=k in ("keyword", "defname")) for k, v in _COLORS.items()}
        f["comment"].setFontItalic(True)
        words = "|".join(keyword.kwlist)
        names = "|".join(n for n in dir(builtins) if not n.startswith("_"))
        self._rules = [
            (QRegularExpression(rf"\b(?:{words})\b"), f["keyword"]),
            (QRegularExpression(rf"\b(?:{names})\b"), f["builtin"]),
            (QRegularExpression(r"\bself\b"), f["self"]),
            (QRegularExpression(r"\b[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?\b"), f["number"]),
            (QRegularExpression(r"^\s*@[\w.]+"), f["decorator"]),
            (QRegularExpression(r"\b(?:def|class)\s+(\w+)"), f["defname"]),
            (QRegularExpression(r'"[^"\\]*(?:\\.[^"\\]*)*"'), f["string"]),
            (QRegularExpression(r"'[^'\\]*(?:\\.[^'\\]*)*'"), f["string"]),
            (QRegularExpression(r"#[^\n]*"), f["comment"]),
        ]
        self._string = f["string"]
        self._triple = re.compile(r'"""|\'\'\'')

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        for rx, fmt in self._rules:
            it = rx.globalMatch(text)
            while it.hasNext():
                m = it.next()
                group = 1 if m.lastCapturedIndex() >= 1 else 0
                self.setFormat(m.capturedStart(group), m.capturedLength(group), fmt)
        self._triple_quotes(text)

    def _triple_quotes(self, text: str) -> None:
        # NOTE: block state 1 = inside a docstring that started on an earlier line.
        inside = self.previousBlockState() == 1
        start = 0
        pos = 0
        while True:
            m = self._triple.search(text, pos)
            if inside:
                end = m.end() if m else len(text)
                self.setFormat(start, end - start, self._string)
                if not m:
                    self.setCurrentBlockState(1)
                    return
                inside, pos = False, end
            else:
                if not m:
                    self.setCurrentBlockState(0)
                    return
                inside, start, pos = True, m.start(), m.end()


class CodeView(QWidget):
    """Shows the whole model's code (`codegen.generate(document.model_graph)`); the
    CodegenError message when the graph is invalid."""

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setObjectName("codeError")
        self.error_label.setStyleSheet(ERROR_STYLE + " padding: 4px;")
        self.error_label.hide()
        self.editor = QPlainTextEdit()
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.highlighter = PythonHighlighter(self.editor.document(), dark=is_dark())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.error_label)
        layout.addWidget(self.editor)
        # NOTE: several edits in one event-loop turn (a paste, an undo macro) regenerate once.
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self._refresh_if_shown)
        self._stale = False
        document.analysis_changed.connect(lambda _a: self._timer.start())
        self.refresh()

    @property
    def text(self) -> str:
        return self.editor.toPlainText()

    def _refresh_if_shown(self) -> None:
        # NOTE: behind another tab of a shown window the code is regenerated when the tab is
        # shown, not after every edit (about 70 ms per edit on a 2,000-layer graph).
        if self.window().isVisible() and not self.isVisible():
            self._stale = True
            return
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        if self._stale:
            self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        self._stale = False
        doc = self.document
        try:
            source = generate(doc.model_graph, name=doc.project.name, analysis=doc.model_analysis)
        except CodegenError as err:
            self.error_label.setText(f"No code: {err}")
            self.error_label.show()
            self.editor.setEnabled(False)
            return
        self.error_label.hide()
        self.editor.setEnabled(True)
        if source.text != self.editor.toPlainText():
            bar = self.editor.verticalScrollBar()
            keep = bar.value()
            self.editor.setPlainText(source.text)
            bar.setValue(keep)
