"""The Qt-free core: layer catalog, graph, validation, shapes, codegen, projects, data, training.

NOTE: nothing under designer.core may import PySide6, shiboken6 or pyqtgraph (import-linter
contract in pyproject.toml, and tests/core/test_no_qt.py).
"""
