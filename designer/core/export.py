"""Export a project: PyTorch source, a training script, ONNX, a torch.export program (.pt2) or
the trained weights (safetensors).

`FORMATS` is the one list of export formats: the CLI's `--format` choices and help and the
export dialog's list are read from it. Adding a format is one `ExportFormat` entry here.

torch is imported inside the functions: importing this module (for the menu) stays cheap.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from designer.core.codegen import generate
from designer.core.errors import NetcanvasError, first_line
from designer.core.project import Project
from designer.core.project_io import atomic_write, replacing

PathLike = str | os.PathLike
# Weights to export: a safetensors file, or a state dict (the app's last trained model).
Weights = PathLike | Mapping
EXAMPLE_BATCH = 2  # NOTE: not 1: the exporters specialise a dimension of size 1


class ExportError(NetcanvasError):
    """An export that failed (the graph can be compiled, but the exporter refused it)."""


@dataclass(frozen=True)
class Exported:
    """What an export wrote, and what the user must be told about it (a fixed batch size,
    converted weights): `notes` are sentences, shown by every front end."""

    path: Path
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportFormat:
    """One export format. `weights` is "none" (the format holds no weights), "optional"
    (trained weights if given, else freshly initialised ones) or "required"."""

    key: str
    title: str
    suffix: str
    file_filter: str
    note: str
    weights: str
    writer: Callable[[Project, Path, Weights | None], Exported]
    default_stem: str = ""  # file name stem proposed for it ("" = the project's name)

    @property
    def needs_weights(self) -> bool:
        return self.weights == "required"

    @property
    def takes_weights(self) -> bool:
        return self.weights != "none"


def export_python(project: Project, out: PathLike, weights: Weights | None = None) -> Exported:
    """Write the model's PyTorch source: the very text the app runs. Needs only torch."""
    text = generate(project.graph, project.name).text
    return Exported(_write_text(Path(out), text))


def export_training_script(
    project: Project, out: PathLike, weights: Weights | None = None
) -> Exported:
    """Write a stand-alone train.py for the project (model, data loading and training loop)."""
    from designer.core.data.pipeline import SKLEARN_TABLES, save_table, table_file
    from designer.core.training.script import training_script

    out = _write_text(Path(out), training_script(project))
    data = project.training.data
    notes: tuple[str, ...] = ()
    if data.source == "builtin" and data.name in SKLEARN_TABLES:
        # NOTE: the script needs only torch and numpy: a table that comes with scikit-learn in
        # the app travels beside it as plain arrays (np.load(..., allow_pickle=False)).
        table = out.parent / table_file(data.name)
        with replacing(table, suffix=".npz") as tmp:
            save_table(data.name, tmp)
        notes = (
            f"The {data.name} table is beside it as {table.name} (the script reads it when "
            "scikit-learn is not installed).",
        )
    return Exported(out, notes)


def export_onnx(project: Project, out: PathLike, weights: Weights | None = None) -> Exported:
    """Write an ONNX model (dynamo exporter) with a dynamic batch dimension where possible."""
    import torch

    out = Path(out)
    model, source, args, loaded = _model_and_inputs(project, weights)
    names = _input_names(project, source)

    def write(tmp: Path, dynamic: bool) -> None:
        with _quiet():
            # NOTE: traced by torch.export first: given dynamic shapes, the ONNX exporter relaxes a
            # batch the model's code fixes and still labels it dynamic (a model fixed at batch 2
            # then silently computes garbage for 3); torch.export refuses, and that is reported.
            dims = _batch_dims(args) if dynamic else None
            program = torch.export.export(model, args, dynamic_shapes=dims)
            torch.onnx.export(
                program,
                args,
                str(tmp),
                input_names=names,
                output_names=_output_names(project, source),
                external_data=False,
                dynamo=True,
                verbose=False,
            )

    return _export_batch_dynamic(out, write, "ONNX", loaded)


def export_pt2(project: Project, out: PathLike, weights: Weights | None = None) -> Exported:
    """Write a torch.export program (`torch.export.load` reads it back)."""
    import torch

    out = Path(out)
    model, _, args, loaded = _model_and_inputs(project, weights)

    def write(tmp: Path, dynamic: bool) -> None:
        with _quiet():
            dims = _batch_dims(args) if dynamic else None
            torch.export.save(torch.export.export(model, args, dynamic_shapes=dims), str(tmp))

    return _export_batch_dynamic(out, write, "PT2", loaded)


def export_weights(project: Project, out: PathLike, weights: Weights | None = None) -> Exported:
    """Write the trained weights as safetensors, after checking that they fit the graph."""
    from designer.core.weights import save_weights

    if weights is None:
        raise ExportError("there are no trained weights to export: train the model first")
    out = Path(out)
    _folder(out)
    model, _, _, loaded = _model_and_inputs(project, weights)
    return Exported(save_weights(model, out), loaded)


FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat(
        "python",
        "PyTorch model code (.py)",
        ".py",
        "Python (*.py)",
        "The model class exactly as the app runs it; needs only PyTorch.",
        "none",
        export_python,
    ),
    ExportFormat(
        "script",
        "Training script (.py)",
        ".py",
        "Python (*.py)",
        "A stand-alone train.py: model, data loading and the training loop.",
        "none",
        export_training_script,
        default_stem="train",
    ),
    ExportFormat(
        "onnx",
        "ONNX model (.onnx)",
        ".onnx",
        "ONNX (*.onnx)",
        "For ONNX Runtime and other tools, with a dynamic batch dimension where the model allows.",
        "optional",
        export_onnx,
    ),
    ExportFormat(
        "pt2",
        "torch.export program (.pt2)",
        ".pt2",
        "PT2 (*.pt2)",
        "A torch.export program; read it back with torch.export.load().",
        "optional",
        export_pt2,
    ),
    ExportFormat(
        "weights",
        "Trained weights (.safetensors)",
        ".safetensors",
        "safetensors (*.safetensors)",
        "The trained weights, loadable into the exported model class.",
        "required",
        export_weights,
    ),
)
_BY_KEY = {f.key: f for f in FORMATS}


def export_format(key: str) -> ExportFormat:
    """The format `key`. ExportError naming the known ones if there is none."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise ExportError(
            f"unknown export format {key!r}; choose one of {', '.join(_BY_KEY)}"
        ) from None


def export(project: Project, key: str, out: PathLike, weights: Weights | None = None) -> Exported:
    """Write `project` in format `key` to `out` (with `weights` where the format holds them)."""
    fmt = export_format(key)
    return fmt.writer(project, Path(out), weights if fmt.takes_weights else None)


def example_inputs(source, batch: int = EXAMPLE_BATCH) -> tuple:
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


def _model_and_inputs(project: Project, weights: Weights | None):
    from designer.core.compiler import build_model
    from designer.core.weights import load_state, load_weights

    model, source = build_model(project.graph, project.name)
    notes: tuple[str, ...] = ()
    if isinstance(weights, Mapping):
        load_state(model, weights)
    elif weights is not None:
        notes = tuple(load_weights(model, weights))  # dtype conversions, non-finite values
    model.eval()
    return model, source, example_inputs(source), notes


def _batch_dims(args: tuple) -> tuple:
    import torch

    batch = torch.export.Dim("batch")
    return tuple({0: batch} for _ in args)


def _export_batch_dynamic(
    out: Path, write: Callable[[Path, bool], None], what: str, notes: tuple[str, ...] = ()
) -> Exported:
    """Run `write(tmp, dynamic=True)` into a temp file beside `out`, then move it into place.

    NOTE: when the dynamic-batch export fails (the model's code fixes the batch size, or the
    exporter can't prove it free), the model is exported for the example batch instead, and the
    result carries a note that says so and why. If that fails too, ExportError gives the reason.
    """
    _folder(out)
    try:
        with replacing(out, suffix=out.suffix or ".tmp") as tmp:
            try:
                write(tmp, True)
            except Exception as dynamic_error:  # noqa: BLE001  (exporters raise many types)
                try:
                    write(tmp, False)
                except Exception as static_error:
                    raise ExportError(
                        f"{out}: {what} export failed: {first_line(static_error)}"
                    ) from static_error
                notes += (
                    f"Exported with a fixed batch of {EXAMPLE_BATCH} because a dynamic batch "
                    f"failed: {_why_not_dynamic(dynamic_error)}; feed it batches of exactly "
                    f"{EXAMPLE_BATCH}.",
                )
    except NetcanvasError:
        raise
    except Exception as e:  # NOTE: exporters raise many types; the user needs one clear line
        raise ExportError(f"{out}: {what} export failed: {first_line(e)}") from e
    return Exported(out, notes)


def _why_not_dynamic(err: BaseException) -> str:
    text = str(err)
    if "Constraints violated" in text or "specialized" in text or "specialised" in text:
        return "the model's code fixes the batch size"
    return first_line(err)


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


def _write_text(out: Path, text: str) -> Path:
    _folder(out)
    try:
        atomic_write(out, text.encode("utf-8"))
    except OSError as e:
        raise ExportError(f"{out}: could not be written: {e.strerror or e}") from None
    return out
