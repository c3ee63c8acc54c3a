"""Generated code: idiomatic, ruff-clean, runs, and never executes what a user typed."""

import ast
import builtins
import keyword
import subprocess
import sys
import unicodedata

import pytest
import torch
from torch import nn

from designer.core.codegen import CodegenError, generate
from designer.core.compiler import build_model, load_module
from designer.core.errors import ParamError
from designer.core.graph import Edge, Graph
from designer.core.limits import MAX_NAME
from designer.core.naming import (
    GENERATED,
    MAX_LENGTH,
    MODULE_ATTRS,
    RESERVED,
    Namespace,
    class_name,
    sanitize,
)
from tests.core.helpers import chain

HOSTILE = [
    "",
    " ",
    "'",
    '"',
    "'''",
    '"""',
    "\\",
    "\n",
    "a\nb",
    "x = 1\nimport os",
    "__import__('os').system('echo pwned')",
    '__import__("os").system("rm -rf ~")',
    "');import os;os.system('id');('",
    '");exec("print(1)");("',
    "eval('1+1')",
    "exec",
    "open",
    "print",
    "input",
    "list",
    "type",
    "object",
    "None",
    "True",
    "False",
    "class",
    "def",
    "return",
    "lambda",
    "import",
    "from",
    "match",
    "case",
    "_",
    "self",
    "torch",
    "nn",
    "x",
    "super",
    "forward",
    "to",
    "cuda",
    "training",
    "parameters",
    "state_dict",
    "__init__",
    "__class__",
    "__dict__",
    "__builtins__",
    "_private",
    "123",
    "1abc",
    "fc-1",
    "fc 1",
    "fc.1",
    "fc#1",
    "fc1 # comment",
    "{x}",
    "{0}",
    "%s",
    "f'{__import__(\"os\")}'",
    "Ünïcödé",
    "名前",
    "😀",
    "\u200b",
    "a" * MAX_NAME,  # as long as a layer name may be (core/limits.py)
    "fc1",
    "fc1",
    "FC1",
    "fc_1",
    "camelCaseName",
    "\x00",
    "\t\r",
]


# Each kind of hostile name the corpus must hold, as a predicate over the name. The reserved sets
# come from the modules that define them, so a new reserved word is a new required kind.
REQUIRED_KINDS = {
    "empty or blank": lambda s: not s.strip(),
    "a keyword": keyword.iskeyword,
    "a soft keyword": keyword.issoftkeyword,
    "a builtin": lambda s: s in dir(builtins),
    "an nn.Module attribute": lambda s: s in MODULE_ATTRS,
    "a name generated code uses": lambda s: s in GENERATED,
    "a dunder": lambda s: len(s) > 4 and s.startswith("__") and s.endswith("__"),
    "private": lambda s: s.startswith("_") and not s.startswith("__"),
    "code that imports or calls": lambda s: "import" in s and "(" in s,
    "a quote or backslash": lambda s: any(c in s for c in "'\"\\"),
    "a control character": lambda s: any(unicodedata.category(c) == "Cc" for c in s),
    "invisible (format) characters": lambda s: any(unicodedata.category(c) == "Cf" for c in s),
    "non-Latin letters": lambda s: any(ord(c) > 0x2FF and c.isalpha() for c in s),
    "an emoji": lambda s: any(unicodedata.category(c) == "So" for c in s),
    "a leading digit": lambda s: s[:1].isdigit(),
    "longer than an identifier may be": lambda s: len(s) > MAX_LENGTH,
    "a format placeholder": lambda s: "{" in s or "%" in s,
    "a duplicate": lambda s: HOSTILE.count(s) > 1,
    "a case-only twin": lambda s: s != s.lower() and s.lower() in HOSTILE,
}


def test_corpus_is_large_and_has_the_required_kinds():
    assert len(HOSTILE) >= 50
    missing = [kind for kind, is_kind in REQUIRED_KINDS.items() if not any(map(is_kind, HOSTILE))]
    assert not missing, f"the corpus lacks a name that is: {', '.join(missing)}"


@pytest.mark.parametrize("kind", REQUIRED_KINDS)
def test_each_kind_of_hostile_name_becomes_a_safe_unique_identifier(kind):
    members = [s for s in HOSTILE if REQUIRED_KINDS[kind](s)]
    ns = Namespace()
    got = [ns.claim(s) for s in members]
    assert len(set(got)) == len(got), got
    for ident in got:
        assert ident.isidentifier() and ident.isascii(), ident
        assert ident not in RESERVED and not ident.startswith("_"), ident
        assert len(ident) <= MAX_LENGTH, ident


def hostile_graph(names):
    """Input -> Linear/ReLU alternating, one per name -> Output, named from the corpus."""
    g = Graph()
    prev = g.add_node("input", name=names[0], params={"shape": (3,)})
    for i, name in enumerate(names):
        node = g.add_node(
            "linear" if i % 2 == 0 else "relu",
            name=name,
            params={"out_features": 5} if i % 2 == 0 else {},
        )
        g.connect(Edge(prev.id, node.id))
        prev = node
    out = g.add_node("output", name=names[-1])
    g.connect(Edge(prev.id, out.id))
    return g


ALLOWED_ROOTS = {"nn", "torch", "self", "super"}


def assert_no_injection(text):
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            root = node.func
            while isinstance(root, ast.Attribute | ast.Subscript | ast.Call):
                root = root.value if not isinstance(root, ast.Call) else root.func
            assert isinstance(root, ast.Name)
            assert root.id in ALLOWED_ROOTS or root.id[0].isupper(), ast.unparse(node)
        if isinstance(node, ast.Name):
            assert node.id not in {"eval", "exec", "__import__", "open", "os", "compile"}
        if isinstance(node, ast.Import | ast.ImportFrom):
            mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            assert mod in {"torch"}, mod


@pytest.mark.parametrize("start", range(0, len(HOSTILE), 12))
def test_hostile_names_never_inject_and_the_code_runs(start):
    names = HOSTILE[start : start + 12]
    g = hostile_graph(names)
    model, source = build_model(g, name=names[0] or "model")
    assert_no_injection(source.text)
    strings = [
        n.value
        for n in ast.walk(ast.parse(source.text))
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    assert all("pwned" not in v and "import" not in v for v in strings)
    assert "os.system" not in source.text
    attrs = list(source.attr_names.values())
    assert len(set(attrs)) == len(attrs)
    for a in attrs:
        assert (
            a.isidentifier() and a.isascii() and not keyword.iskeyword(a) and not a.startswith("_")
        )
    out = model(torch.randn(2, 3))
    assert out.shape[0] == 2


def test_hostile_project_names_make_safe_class_names():
    for name in HOSTILE:
        cls = class_name(name)
        assert cls.isidentifier() and cls[0].isupper() and cls.isascii()


def test_hostile_string_parameters_are_refused_and_leave_the_graph_as_it_was():
    g = chain(("gelu", {}), ("softmax", {}))
    gelu = g.by_name("gelu1")
    before = g.copy()
    for value in HOSTILE:
        with pytest.raises(ParamError):
            g.set_param(gelu.id, "approximate", value)
        with pytest.raises(ParamError):
            g.add_node("gelu", params={"approximate": value})
        with pytest.raises(ParamError):
            g.add_node("input", params={"dtype": value})
    assert g.same_as(before)


def test_namespace_is_unique_and_safe():
    ns = Namespace()
    got = [ns.claim(n) for n in ["fc1", "fc1", "FC1", "fc 1", "x", "forward", ""]]
    assert got == ["fc1", "fc1_2", "fc1_3", "fc_1", "x_", "forward_", "layer"]
    assert sanitize("camelCase") == "camel_case"


def test_module_attrs_cover_torch():
    public = {n for n in dir(nn.Module()) if not n.startswith("_")}
    assert public <= MODULE_ATTRS


def test_code_reads_like_hand_written_pytorch():
    g = chain(("linear", {"out_features": 16}), ("relu", {}), ("linear", {"out_features": 3}))
    g.rename(g.by_name("linear1").id, "fc1")
    g.rename(g.by_name("linear3").id, "logits")
    src = generate(g, "Iris MLP")
    assert "class IrisMlp(nn.Module):" in src.text
    assert "        self.fc1 = nn.Linear(4, 16)\n" in src.text
    assert "        self.relu2 = nn.ReLU()\n" in src.text
    forward = src.text.split("def forward")[1]
    assert "x = self.fc1(x)" in forward
    assert "logits = self.logits(x)" in forward
    assert "return logits" in forward


def test_skip_connection_keeps_branch_names():
    g = Graph()
    i = g.add_node("input", params={"shape": (8,)})
    a = g.add_node("linear", name="block", params={"out_features": 8})
    r = g.add_node("relu", name="act")
    s = g.add_node("add", name="skip")
    o = g.add_node("output")
    for e in (
        Edge(i.id, a.id),
        Edge(a.id, r.id),
        Edge(r.id, s.id, dst_port="in1"),
        Edge(i.id, s.id, dst_port="in2"),
        Edge(s.id, o.id),
    ):
        g.connect(e)
    model, src = build_model(g)
    x = torch.randn(3, 8)
    expected = torch.relu(model.block(x)) + x
    assert torch.allclose(model(x), expected)


def test_multi_input_multi_output():
    g = Graph()
    a = g.add_node("input", name="image features", params={"shape": (4,)})
    b = g.add_node("input", name="meta", params={"shape": (2,)})
    c = g.add_node("concat", name="joined")
    h1 = g.add_node("linear", name="head_a", params={"out_features": 3})
    h2 = g.add_node("linear", name="head_b", params={"out_features": 1})
    o1 = g.add_node("output", name="cls")
    o2 = g.add_node("output", name="reg")
    for e in (
        Edge(a.id, c.id, dst_port="in1"),
        Edge(b.id, c.id, dst_port="in2"),
        Edge(c.id, h1.id),
        Edge(c.id, h2.id),
        Edge(h1.id, o1.id),
        Edge(h2.id, o2.id),
    ):
        g.connect(e)
    model, src = build_model(g)
    assert "def forward(self, image_features: torch.Tensor, meta: torch.Tensor)" in src.text
    y1, y2 = model(torch.randn(2, 4), torch.randn(2, 2))
    assert y1.shape == (2, 3) and y2.shape == (2, 1)


def test_dead_branches_are_left_out():
    g = chain(("linear", {"out_features": 3}))
    dead = g.add_node("linear", name="unused", params={"out_features": 7})
    g.connect(Edge(g.by_name("input").id, dead.id))
    src = generate(g)
    assert "unused" not in src.text


def test_invalid_graph_refuses_with_the_first_problem():
    g = chain(("linear", {"out_features": 10}), input_shape=(1, 8, 8))
    with pytest.raises(CodegenError, match="Insert a Flatten"):
        generate(g)


def test_compiled_module_is_exactly_the_generated_text():
    g = chain(("linear", {"out_features": 3}))
    src = generate(g)
    module = load_module(src)
    model = module.make_model()
    assert module.INPUT_SHAPES == [(4,)]
    assert type(model).__name__ == src.class_name
    assert "netcanvas_model" not in sys.modules


def test_generated_code_is_ruff_clean(tmp_path):
    graphs = {
        "mlp": chain(
            ("linear", {"out_features": 16}),
            ("gelu", {"approximate": "tanh"}),
            ("linear", {"out_features": 3}),
        ),
        "hostile": hostile_graph(HOSTILE[:30]),
        "long": hostile_graph(
            ["a_really_long_layer_name_for_wrapping_" + str(i) for i in range(6)]
        ),
    }
    wide = Graph()
    inp = wide.add_node("input", params={"shape": (4,)})
    cat = wide.add_node("concat", params={"num_inputs": 8}, name="concatenated_branches_output")
    for k in range(8):
        lin = wide.add_node(
            "linear", name=f"branch_number_{k}_with_a_long_name", params={"out_features": 2}
        )
        wide.connect(Edge(inp.id, lin.id))
        wide.connect(Edge(lin.id, cat.id, dst_port=f"in{k + 1}"))
    add = wide.add_node("add", params={"num_inputs": 3}, name="sum_of_everything_here")
    for k in range(3):
        wide.connect(Edge(cat.id, add.id, dst_port=f"in{k + 1}"))
    out = wide.add_node("output")
    wide.connect(Edge(add.id, out.id))
    graphs["wide"] = wide
    for name, g in graphs.items():
        (tmp_path / f"{name}.py").write_text(generate(g, name).text)
    ruff = [sys.executable, "-m", "ruff"]
    check = subprocess.run(
        [*ruff, "check", "--isolated", "--select", "E,F,W,I,B,UP", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        [*ruff, "format", "--isolated", "--check", "--diff", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
