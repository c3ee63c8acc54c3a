"""Lay out generated statements the way `ruff format` does, so exported code is ruff-clean.

Only the shapes codegen produces are handled: `target = <expr>` and `return <expr>`, where
<expr> is built from calls, lists, tuples, binary operators, names, attributes, subscripts and
constants. A line that fits in LINE_LENGTH stays flat; otherwise the outermost brackets are
split (contents on one line if they fit, else one item per line with a trailing comma).
"""

from __future__ import annotations

import ast

LINE_LENGTH = 88
INDENT = "    "


def literal(value: object) -> str:
    """A Python literal with ruff's preferred double quotes. Values are data, never code."""
    if isinstance(value, str):
        text = repr(value)
        if text.startswith('"'):  # repr picked double quotes: the value holds a ' and no "
            return text
        return '"' + text[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return repr(value)


def _flat(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant):
        return literal(node.value)
    if isinstance(node, ast.Call):
        args = [_flat(a) for a in node.args] + [f"{k.arg}={_flat(k.value)}" for k in node.keywords]
        return f"{_flat(node.func)}({', '.join(args)})"
    if isinstance(node, ast.List):
        return "[" + ", ".join(_flat(e) for e in node.elts) + "]"
    if isinstance(node, ast.Tuple):
        inner = ", ".join(_flat(e) for e in node.elts)
        return f"({inner},)" if len(node.elts) == 1 else f"({inner})"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return "-" + _flat(node.operand)
    if isinstance(node, ast.BinOp):
        return f"{_flat(node.left)} {_OPS[type(node.op)]} {_flat(node.right)}"
    if isinstance(node, ast.Attribute):
        return f"{_flat(node.value)}.{node.attr}"
    if isinstance(node, ast.Subscript):
        return f"{_flat(node.value)}[{_slice(node.slice)}]"
    return ast.unparse(node)


def _slice(node: ast.AST) -> str:
    if isinstance(node, ast.Tuple):
        return ", ".join(_slice(e) for e in node.elts)
    if isinstance(node, ast.Slice):
        lo = _flat(node.lower) if node.lower else ""
        hi = _flat(node.upper) if node.upper else ""
        return f"{lo}:{hi}"
    return _flat(node)


_OPS = {ast.Add: "+", ast.Mult: "*", ast.Sub: "-", ast.MatMult: "@"}


def _operands(node: ast.BinOp) -> list[tuple[str, ast.AST]]:
    """Flatten a left-associative chain `a + b + c` into [("", a), ("+", b), ("+", c)]."""
    op = _OPS[type(node.op)]
    left = node.left
    if isinstance(left, ast.BinOp) and type(left.op) is type(node.op):
        items = _operands(left)
    else:
        items = [("", left)]
    return [*items, (op, node.right)]


def _split(node: ast.AST, indent: str) -> list[str] | None:
    """The body lines of `node` split inside its outermost brackets, or None if it has none."""
    inner = indent + INDENT
    if isinstance(node, ast.Call):
        items = list(node.args) + list(node.keywords)
        head, tail = _flat(node.func) + "(", ")"
    elif isinstance(node, ast.List | ast.Tuple):
        items = list(node.elts)
        head, tail = ("[", "]") if isinstance(node, ast.List) else ("(", ")")
    elif isinstance(node, ast.BinOp):
        parts = _operands(node)
        one = " ".join(f"{op} {_flat(x)}".strip() for op, x in parts)
        if len(inner) + len(one) <= LINE_LENGTH:
            return ["(", inner + one, indent + ")"]
        return ["(", *[inner + f"{op} {_flat(x)}".strip() for op, x in parts], indent + ")"]
    else:
        return None

    def item_text(item: ast.AST) -> ast.AST:
        return item.value if isinstance(item, ast.keyword) else item

    def prefix(item: ast.AST) -> str:
        return f"{item.arg}=" if isinstance(item, ast.keyword) else ""

    joined = ", ".join(prefix(i) + _flat(item_text(i)) for i in items)
    if items and len(inner) + len(joined) <= LINE_LENGTH:
        return [head, inner + joined, indent + tail]
    lines = [head]
    for item in items:
        lines.extend(_layout(prefix(item), item_text(item), inner, ","))
    lines.append(indent + tail)
    return lines


def _layout(lead: str, node: ast.AST, indent: str, trail: str = "") -> list[str]:
    """Lines for `indent + lead + node + trail`, split as ruff would if too long."""
    flat = indent + lead + _flat(node) + trail
    if len(flat) <= LINE_LENGTH:
        return [flat]
    body = _split(node, indent)
    if body is None:
        return [flat]
    return [indent + lead + body[0], *body[1:-1], body[-1] + trail]


def statement(lead: str, expr: str, indent: str) -> list[str]:
    """Format `lead + expr` (lead is e.g. "self.fc1 = " or "return ") at `indent`.

    `expr` must already be in canonical form (values rendered by literal()), so a line that
    fits is used as it is; only long lines are parsed and split.
    """
    if len(indent) + len(lead) + len(expr) <= LINE_LENGTH:
        return [indent + lead + expr]
    return _layout(lead, ast.parse(expr, mode="eval").body, indent)
