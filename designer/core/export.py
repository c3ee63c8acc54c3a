"""Export a project: PyTorch source, ONNX, a torch.export program (.pt2), a training script.

torch is imported inside the functions: importing this module (for the menu) stays cheap.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from pathlib import Path

from designer.core.codegen import generate
from designer.core.errors import NetcanvasError
from designer.core.project import Project
from designer.core.project_io import atomic_write, replacing

PathLike = str | os.PathLike


class ExportError(NetcanvasError):
    """An export that failed (the graph can be compiled, but the exporter refused it)."""


def export_python(project: Project, out: PathLike) -> Path:
    """Write the model's PyTorch source: the very text the app runs. Needs only torch."""
    text = generate(project.graph, project.name).text
    return _write_text(Path(out), text)


def export_training_script(project: Project, out: PathLike) -> Path:
    """Write a stand-alone train.py for the project (model, data loading and training loop)."""
    from designer.core.training.script import training_script

    return _write_text(Path(out), training_script(project))


def export_onnx(project: Project, out: PathLike, weights: PathLike | None = None) -> Path:
    """Write an ONNX model (dynamo exporter) with a dynamic batch dimension where possible."""
    import torch

    out = Path(out)
    model, source, args = _model_and_inputs(project, weights)
    names = _input_names(project, source)

    def write(tmp: Path, dynamic: bool) -> None:
        with _quiet():
            torch.onnx.export(
                model,
                args,
                str(tmp),
                input_names=names,
                output_names=_output_names(project, source),
                dynamic_shapes=_batch_dims(args) if dynamic else None,
                external_data=False,
                dynamo=True,
                verbose=False,
            )

    _export_with_fallback(out, write, "ONNX")
    return out


def export_pt2(project: Project, out: PathLike, weights: PathLike | None = None) -> Path:
    """Write a torch.export program (`torch.export.load` reads it back)."""
    import torch

    out = Path(out)
    model, _, args = _model_and_inputs(project, weights)

    def write(tmp: Path, dynamic: bool) -> None:
        with _quiet():
            dims = _batch_dims(args) if dynamic else None
            torch.export.save(torch.export.export(model, args, dynamic_shapes=dims), str(tmp))

    _export_with_fallback(out, write, "PT2")
    return out


def example_inputs(source, batch: int = 2) -> tuple:
    """One batch of zeros per model input, with the model's dtypes."""
    import torch

    return tuple(
        torch.zeros((batch, *shape), dtype=getattr(torch, dtype))
        for shape, dtype in zip(source.input_shapes, source.input_dtypes, strict=True)
    )


@contextlib.contextmanager
def _quiet():
    """Silence the exporters' progress lines, log records and warnings: the caller reports."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "torch._export")]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _model_and_inputs(project: Project, weights: PathLike | None):
    from designer.core.compiler import build_model
    from designer.core.weights import load_weights

    model, source = build_model(project.graph, project.name)
    if weights is not None:
        load_weights(model, weights)
    model.eval()
    # NOTE: a batch of 2, not 1: the exporters specialise a dimension of size 1.
    return model, source, example_inputs(source, batch=2)


def _batch_dims(args: tuple) -> tuple:
    import torch

    batch = torch.export.Dim("batch")
    return tuple({0: batch} for _ in args)


def _export_with_fallback(out: Path, write, what: str) -> None:
    """Run `write(tmp, dynamic)` into a temp file beside `out`, then move it into place.

    A model whose code fixes the batch size can't have a dynamic batch dimension: then it is
    exported for the example batch size instead.
    """
    _folder(out)
    try:
        with replacing(out, suffix=out.suffix or ".tmp") as tmp:
            try:
                write(tmp, True)
            except Exception:
                write(tmp, False)
    except NetcanvasError:
        raise
    except Exception as e:  # NOTE: exporters raise many types; the user needs one clear line
        raise ExportError(f"{out}: {what} export failed: {_first_line(e)}") from e


def _folder(out: Path) -> Path:
    folder = out.parent
    if not folder.is_dir():
        raise ExportError(f"{out}: the folder {str(folder)!r} does not exist")
    return folder


def _input_names(project: Project, source) -> list[str]:
    return _unique([project.graph.nodes[i].name or "input" for i in source.input_ids])


def _output_names(project: Project, source) -> list[str]:
    return _unique([project.graph.nodes[i].name or "output" for i in source.output_ids])


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def _first_line(e: BaseException) -> str:
    text = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
    return text if len(text) <= 200 else text[:197] + "..."


def _write_text(out: Path, text: str) -> Path:
    _folder(out)
    try:
        atomic_write(out, text.encode("utf-8"))
    except OSError as e:
        raise ExportError(f"{out}: could not be written: {e.strerror or e}") from None
    return out
