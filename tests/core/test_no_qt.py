"""The core never imports Qt: checked in a fresh interpreter, module by module."""

import pkgutil
import subprocess
import sys

import designer.core


def test_core_imports_without_qt():
    names = [m.name for m in pkgutil.walk_packages(designer.core.__path__, "designer.core.")]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in ('PySide6', 'pyqtgraph', 'shiboken6') if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"designer.core pulled in {out.stdout.strip()}"
    assert len(names) > 10


def test_design_time_core_does_not_import_torch():
    # The canvas revalidates on every edit; that path must not pay torch's import time.
    code = (
        "import sys\n"
        "import designer.core.analysis, designer.core.codegen, designer.core.layers\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
