"""PythonSource -> live nn.Module, by executing exactly the generated text."""

from __future__ import annotations

import types

from designer.core.codegen import PythonSource, generate
from designer.core.errors import NetcanvasError
from designer.core.graph import Graph


def load_module(source: PythonSource, module_name: str = "netcanvas_model") -> types.ModuleType:
    """Execute the generated text as a fresh module (never registered in sys.modules)."""
    module = types.ModuleType(module_name)
    module.__file__ = f"<{module_name}>"
    code = compile(source.text, module.__file__, "exec")
    exec(code, module.__dict__)  # noqa: S102 - the text is ours: codegen output, names sanitised
    return module


class ModelTooBig(NetcanvasError):
    """The model's parameters would not fit in the memory that is free."""


def check_model_size(graph: Graph, analysis=None) -> None:
    """ModelTooBig if the graph's parameters (float32) exceed the free memory: say so before
    torch tries to allocate them (a MemoryError, or a swap storm)."""
    from designer.core.analysis import analyze
    from designer.core.limits import available_memory, size_text

    params = (analysis or analyze(graph)).total_params
    need, free = params * 4, available_memory()
    if free is not None and need > free:
        raise ModelTooBig(
            f"the model is too big to build: {params:,} parameters need {size_text(need)} "
            f"as float32, and only {size_text(free)} of memory are free; make its layers smaller"
        )


def build_model(graph: Graph, name: str = "Net"):
    """Generate, execute and instantiate. Returns (model, source). ModelTooBig if its
    parameters would not fit in free memory."""
    from designer.core.analysis import analyze

    analysis = analyze(graph)
    check_model_size(graph, analysis)
    source = generate(graph, name, analysis=analysis)
    model = load_module(source).make_model()
    return model, source
