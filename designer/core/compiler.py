"""PythonSource -> live nn.Module, by executing exactly the generated text."""

from __future__ import annotations

import types

from designer.core.codegen import PythonSource, generate
from designer.core.graph import Graph


def load_module(source: PythonSource, module_name: str = "netcanvas_model") -> types.ModuleType:
    """Execute the generated text as a fresh module (never registered in sys.modules)."""
    module = types.ModuleType(module_name)
    module.__file__ = f"<{module_name}>"
    code = compile(source.text, module.__file__, "exec")
    exec(code, module.__dict__)  # noqa: S102 - the text is ours: codegen output, names sanitised
    return module


def build_model(graph: Graph, name: str = "Net"):
    """Generate, execute and instantiate. Returns (model, source)."""
    source = generate(graph, name)
    model = load_module(source).make_model()
    return model, source
