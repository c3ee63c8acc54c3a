"""Integers that remember how they were computed, so one block class serves every use.

A block definition's layers are written once, as a class; what differs between its uses is the
shape that reaches it. Shape inference runs on `Dim`s: real ints (every check and branch sees
the true value) whose repr is the expression that made them from the block's inputs, e.g.
`in_channels` or `in_channels + growth`. The emitted constructor then reads
`nn.Conv2d(in_channels, 64, ...)` and the class takes `in_channels` as an argument.

NOTE: a value picked by a comparison (min, max, an if) is only right for the use it was
computed for; codegen therefore checks that every use yields the same class text.
"""

from __future__ import annotations

_PREC = {"+": 1, "-": 1, "*": 2, "//": 2, "%": 2}


class Dim(int):
    """An int with an expression. Arithmetic with other ints keeps the expression."""

    expr: str
    prec: int

    def __new__(cls, value: int, expr: str, prec: int = 3) -> Dim:
        obj = super().__new__(cls, value)
        obj.expr, obj.prec = expr, prec
        return obj

    def __repr__(self) -> str:
        return self.expr

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return self.expr if not spec else format(int(self), spec)

    def __add__(self, other):
        return _op(self, "+", other)

    def __radd__(self, other):
        return _op(other, "+", self)

    def __sub__(self, other):
        return _op(self, "-", other)

    def __rsub__(self, other):
        return _op(other, "-", self)

    def __mul__(self, other):
        return _op(self, "*", other)

    def __rmul__(self, other):
        return _op(other, "*", self)

    def __floordiv__(self, other):
        return _op(self, "//", other)

    def __rfloordiv__(self, other):
        return _op(other, "//", self)

    def __mod__(self, other):
        return _op(self, "%", other)

    def __rmod__(self, other):
        return _op(other, "%", self)


def _op(a: object, op: str, b: object) -> object:
    if not isinstance(a, int) or not isinstance(b, int):
        return NotImplemented
    value = {
        "+": lambda: int(a) + int(b),
        "-": lambda: int(a) - int(b),
        "*": lambda: int(a) * int(b),
        "//": lambda: int(a) // int(b),
        "%": lambda: int(a) % int(b),
    }[op]()
    if not isinstance(a, Dim) and not isinstance(b, Dim):
        return value
    # Identities keep expressions short: 0 + c, c * 1, c // 1.
    if op == "+" and not isinstance(a, Dim) and int(a) == 0:
        return b
    if op in ("+", "-") and not isinstance(b, Dim) and int(b) == 0:
        return a
    if op in ("*", "//") and not isinstance(b, Dim) and int(b) == 1:
        return a
    if op == "*" and not isinstance(a, Dim) and int(a) == 1:
        return b
    prec = _PREC[op]
    left = _wrap(a, prec, right=False)
    right = _wrap(b, prec, right=True)
    return Dim(value, f"{left} {op} {right}", prec)


def _wrap(x: object, prec: int, right: bool) -> str:
    if isinstance(x, Dim):
        inner = x.prec
        if inner < prec or (right and inner == prec and inner < 3):
            return f"({x.expr})"
        return x.expr
    return repr(int(x))  # type: ignore[call-overload]


def names_used(text: str, names: list[str]) -> list[str]:
    """Those of `names` that occur as whole words in `text`, in the order of `names`."""
    import re

    return [n for n in names if re.search(rf"\b{re.escape(n)}\b", text)]
