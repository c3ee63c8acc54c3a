"""Where an imported model comes from: a Python file, a torch.export .pt2, or torchvision.

SOURCE is `path/to/file.py:Name` (an nn.Module subclass or a zero-argument factory; the file
is executed), `path/to/model.pt2` (torch.export's archive, read with the safe loader: weights
only, nothing unpickled) or `torchvision:resnet18`.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path

from torch import nn

from designer.core.importer.trace import ImportRefused

RUNS_CODE = "Importing a .py file runs it, with your permissions: import only code you trust."


def describe(source: str) -> str:
    """What loading `source` does, for the CLI and the dialog to say before doing it."""
    if source.startswith("torchvision:"):
        return f"Builds torchvision's {source.split(':', 1)[1]} (random weights, no download)."
    if source.endswith(".pt2"):
        return "Reads a torch.export archive (weights only; nothing in it is executed)."
    return RUNS_CODE


def load_source(source: str) -> nn.Module:
    """The nn.Module named by `source` (ImportRefused with the reason if it can't be had)."""
    if source.startswith("torchvision:"):
        return _torchvision(source.split(":", 1)[1])
    if source.endswith(".pt2"):
        return _pt2(Path(source))
    path, sep, name = source.rpartition(":")
    if not sep or not path.endswith(".py"):
        raise ImportRefused(
            f"{source}: expected path/to/file.py:Name, a .pt2 file or torchvision:NAME"
        )
    return _python(Path(path), name)


def _torchvision(name: str) -> nn.Module:
    from designer.core.importer.tv import torchvision_models

    models = torchvision_models()
    names = models.list_models(module=models)
    if name not in names:
        raise ImportRefused(f"torchvision has no classification model {name!r}")
    kwargs: dict[str, object] = {}
    if name in ("inception_v3", "googlenet"):
        kwargs = {"aux_logits": False, "init_weights": True}  # eval-mode graph: no aux heads
    return models.get_model(name, weights=None, **kwargs)


def _python(path: Path, name: str) -> nn.Module:
    if not path.is_file():
        raise ImportRefused(f"{path}: no such file")
    module_name = f"netcanvas_import_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportRefused(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # NOTE: dataclasses and fx look classes up by module
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001 - the user's code; report, don't crash
        raise ImportRefused(f"{path}: running it failed: {type(e).__name__}: {e}") from None
    obj = getattr(module, name, None)
    if obj is None:
        raise ImportRefused(f"{path}: defines no {name!r}")
    try:
        is_class = inspect.isclass(obj)
        if (is_class and issubclass(obj, nn.Module)) or (callable(obj) and not is_class):
            model = obj()
        else:
            raise ImportRefused(f"{path}:{name} is neither an nn.Module subclass nor a function")
    except ImportRefused:
        raise
    except TypeError as e:
        raise ImportRefused(
            f"{path}:{name} needs arguments ({e}); give a zero-argument factory function"
        ) from None
    except Exception as e:  # noqa: BLE001
        raise ImportRefused(f"{path}:{name}() failed: {type(e).__name__}: {e}") from None
    if not isinstance(model, nn.Module):
        raise ImportRefused(f"{path}:{name}() returned {type(model).__name__}, not an nn.Module")
    return model


def _pt2(path: Path) -> nn.Module:
    import torch

    if not path.is_file():
        raise ImportRefused(f"{path}: no such file")
    try:
        # NOTE: torch.export.load reads the archive's JSON graph and raw tensors; it refuses
        # pickled content unless asked, so a stranger's .pt2 runs no code here.
        program = torch.export.load(str(path))
    except Exception as e:  # noqa: BLE001
        raise ImportRefused(f"{path}: not a readable torch.export archive ({e})") from None
    # NOTE: the exported graph is made of aten ops; tracing its module maps those that have a
    # layer and names the rest in one ImportRefused.
    return program.module()
