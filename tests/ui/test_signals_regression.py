"""PySide6 6.12.0 on Python 3.11 corrupts the refcount of True in Signal.emit and aborts after
about 600 emits. constraints.txt excludes it; this test notices if it comes back."""

from __future__ import annotations

import PySide6
from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    flag = Signal(bool)


def test_installed_pyside_is_not_the_broken_release():
    assert PySide6.__version__ != "6.12.0"


def test_ten_thousand_bool_signals_arrive(qapp):
    emitter = _Emitter()
    received: list[bool] = []
    emitter.flag.connect(received.append)
    for i in range(10_000):
        emitter.flag.emit(i % 2 == 0)
    assert len(received) == 10_000
    assert received.count(True) == 5_000
    assert received[:4] == [True, False, True, False]
