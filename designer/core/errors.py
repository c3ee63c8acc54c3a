"""Exceptions the core raises for user errors. Each carries one message that names what and where."""

from __future__ import annotations

FIRST_LINE = 200  # characters of an exception's first line shown to the user


def first_line(exc: BaseException, with_type: bool = False, limit: int = FIRST_LINE) -> str:
    """The first non-blank line of `exc`'s message, clipped to `limit` characters; the type's
    name when the message is empty. `with_type` prefixes "TypeName: " (for unexpected errors,
    whose type says what went wrong)."""
    text = next((s.strip() for s in str(exc).splitlines() if s.strip()), "")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    name = type(exc).__name__
    if not text:
        return name
    return f"{name}: {text}" if with_type else text


class NetcanvasError(Exception):
    """Base of every error that is the user's input, not a bug. Front ends show `str(err)`."""


class ParamError(NetcanvasError, ValueError):
    """A parameter value that its ParamSpec refuses, e.g. a negative kernel size."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.reason = message


class ShapeError(NetcanvasError):
    """A layer cannot accept the shapes that reach it."""

    def __init__(self, message: str, fix: object | None = None) -> None:
        super().__init__(message)
        self.fix = fix


class GraphError(NetcanvasError):
    """An edit that would make the graph inconsistent (unknown node, port taken, ...)."""


class ProjectError(NetcanvasError):
    """A project file that cannot be read. The message names the file and the field."""

    def __init__(self, path: object, message: str, field: str | None = None) -> None:
        where = f"{path}: {field}: " if field else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.field = field
        self.reason = message
