"""Where the app's resource files (examples, icons, styles) are, in every way it can be run.

- From the source tree (or an editable install): the repository's top-level `resources/`.
- From a wheel: the same folder is installed as the data package `designer/_resources`
  (see setup.py, which maps it).
- From a PyInstaller bundle: `resources/` inside the bundle folder (`sys._MEIPASS`).
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


@cache
def resources_root() -> Path:
    """The folder that holds examples/, icons/ and the other resource folders."""
    here = Path(__file__).resolve().parent
    bundle = getattr(sys, "_MEIPASS", None)
    candidates = [
        here / "_resources",  # installed from a wheel
        here.parent / "resources",  # source tree, editable install
        *([Path(bundle) / "resources"] if bundle else []),
    ]
    for folder in candidates:
        if (folder / "examples").is_dir():
            return folder
    return candidates[1]


def resource_path(*parts: str) -> Path:
    """`resource_path("examples", "iris_mlp.netcanvas")` -> the file's absolute path."""
    return resources_root().joinpath(*parts)
