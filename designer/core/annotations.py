"""Frames (a titled, coloured backdrop around some layers) and comments on the canvas.

They belong to the project file (format 3's optional "frames" and "comments") but not to the
model: codegen and training never read them. Like the Graph, `Annotations` emits plain events
its views follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

FRAME_COLORS = ("#3b7dd8", "#2e9e5b", "#d89a2e", "#d84a78", "#8e5bd8", "#7d7d8c")
Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class Frame:
    title: str
    rect: Rect  # x, y, width, height in canvas coordinates
    color: str = FRAME_COLORS[0]


@dataclass(frozen=True)
class Comment:
    text: str
    pos: tuple[float, float]
    width: float = 240.0


Note = Frame | Comment
Listener = Callable[[str, int, Note | None], None]  # "added" | "removed" | "changed", key, note


@dataclass
class Annotations:
    """The frames and comments of a project, by a key that stays fixed while it lives."""

    notes: dict[int, Note] = field(default_factory=dict)
    _listeners: list[Listener] = field(default_factory=list, repr=False, compare=False)

    @property
    def frames(self) -> list[Frame]:
        return [n for n in self.notes.values() if isinstance(n, Frame)]

    @property
    def comments(self) -> list[Comment]:
        return [n for n in self.notes.values() if isinstance(n, Comment)]

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, what: str, key: int, note: Note | None) -> None:
        for listener in list(self._listeners):
            listener(what, key, note)

    def add(self, note: Note, key: int | None = None) -> int:
        key = max(self.notes, default=0) + 1 if key is None else key
        self.notes[key] = note
        self._emit("added", key, note)
        return key

    def remove(self, key: int) -> Note:
        note = self.notes.pop(key)
        self._emit("removed", key, None)
        return note

    def change(self, key: int, **fields: object) -> Note:
        """Replace fields of note `key` (title, text, rect, pos, color). Returns the old note."""
        old = self.notes[key]
        self.notes[key] = replace(old, **fields)  # type: ignore[arg-type]
        self._emit("changed", key, self.notes[key])
        return old


def frame_around(rects: list[Rect], title: str, color: str = FRAME_COLORS[0]) -> Frame:
    """A frame enclosing `rects` with room for its title above them."""
    left = min(r[0] for r in rects) - 24
    top = min(r[1] for r in rects) - 52
    right = max(r[0] + r[2] for r in rects) + 24
    bottom = max(r[1] + r[3] for r in rects) + 24
    return Frame(title, (left, top, right - left, bottom - top), color)
