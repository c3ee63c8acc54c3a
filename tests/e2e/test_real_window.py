"""A real window under Xvfb, driven by real mouse and keyboard input through xdotool.

Drags Input and Linear from the palette onto the canvas (a true Qt drag and drop), wires the
Input's output port to the Linear's input port with the mouse, saves with Ctrl+S and checks
the file; then adds a layer by search with real keys (Tab on the canvas, type, Enter) and checks
it lands where the cursor was. The app runs in a subprocess; a test hook (NETCANVAS_TEST_PROBE) answers each line the test
writes to its stdin with one JSON line on its stdout: where things are on screen. The test
blocks on that pipe (with a deadline), never on a timer.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.xvfb

ROOT = Path(__file__).resolve().parents[2]
SCREEN = "1600x1000x24"


def _read_display(fd: int, timeout: float) -> str:
    """The display number Xvfb writes to `fd` once it accepts connections ("" on timeout)."""
    text = b""
    deadline = time.monotonic() + timeout
    while not text.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return ""
        chunk = os.read(fd, 16)
        if not chunk:
            return ""
        text += chunk
    return text.decode().strip()


@pytest.fixture
def xvfb():
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install xvfb xdotool)")
    # NOTE: -displayfd makes Xvfb pick a free display itself and report it when it is ready,
    # so there is no display-number guessing and no waiting for the socket to appear.
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        number = _read_display(read_end, 30)
        if not number:
            pytest.skip("Xvfb did not start")
        yield f":{number}"
    finally:
        os.close(read_end)
        server.terminate()
        server.wait(10)


class App:
    """The app in a subprocess, plus the mouse and keyboard to drive it."""

    def __init__(self, display: str, tmp: Path) -> None:
        self.display = display
        self.saved = tmp / "e2e.netcanvas"
        self.log = (tmp / "app.log").open("w")
        env = dict(os.environ)
        env.update(
            DISPLAY=display,
            QT_QPA_PLATFORM="xcb",
            HOME=str(tmp),
            XDG_CONFIG_HOME=str(tmp / "config"),
            XDG_DATA_HOME=str(tmp / "data"),
            XDG_RUNTIME_DIR=str(tmp),
            NETCANVAS_RECOVERY_DIR=str(tmp / "recovery"),
            NETCANVAS_NO_START="1",
            NETCANVAS_TEST_PROBE="1",
            NETCANVAS_TEST_SAVE_PATH=str(self.saved),
        )
        code = "import sys; from designer.app import main; sys.exit(main([]))"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        self.env = env
        self._buffer = b""

    def xdotool(self, *args: object) -> None:
        subprocess.run(
            ["xdotool", *map(str, args)], env=self.env, check=True, capture_output=True, timeout=20
        )

    def read_layout(self, timeout: float) -> dict:
        """The next JSON line the app writes: blocks on its stdout until then (or fails)."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                pytest.fail(f"the app did not answer within {timeout:.0f} s\n{self.output()}")
            chunk = os.read(fd, 65536)
            if not chunk:
                pytest.fail(f"the app exited\n{self.output()}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def layout(self) -> dict:
        """Fresh screen coordinates, after every input event sent so far was handled."""
        self.proc.stdin.write(b"?\n")
        self.proc.stdin.flush()
        return self.read_layout(20)

    def layout_until(self, condition: Callable[[dict], bool], what: str, timeout: float = 20):
        """Ask again until `condition(layout)` holds; each round trip waits on the app."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            layout = self.layout()
            if condition(layout):
                return layout
        pytest.fail(f"timed out waiting for {what}")

    def drag(self, start: tuple[int, int], end: tuple[int, int], steps: int = 12) -> None:
        """Press, move in steps (so Qt sees a drag), release: a real drag under X."""
        self.xdotool("mousemove", *start)
        self.xdotool("mousedown", 1)
        for i in range(1, steps + 1):
            x = start[0] + (end[0] - start[0]) * i // steps
            y = start[1] + (end[1] - start[1]) * i // steps
            self.xdotool("mousemove", x, y)
        self.xdotool("mousemove", *end)
        self.xdotool("mouseup", 1)

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")[-3000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.log.close()


@pytest.fixture
def app(xvfb, tmp_path):
    running = App(xvfb, tmp_path)
    try:
        yield running
    finally:
        running.close()


def _node_of_type(layout: dict, type_id: str) -> str:
    ids = [k for k, t in layout["types"].items() if t == type_id]
    assert len(ids) == 1, layout["types"]
    return ids[0]


def test_drag_layers_connect_and_save_with_real_mouse(app):
    app.read_layout(60)  # written once the window has painted
    layout = app.layout()
    assert {"input", "linear"} <= set(layout["palette"]), layout["palette"]
    x0, y0, w, h = layout["canvas"]
    cy = y0 + h // 2

    app.drag(tuple(layout["palette"]["input"]), (x0 + w // 5, cy))
    app.layout_until(lambda g: g["types"], "the Input to land on the canvas")
    app.drag(tuple(layout["palette"]["linear"]), (x0 + (4 * w) // 5, cy))
    app.layout_until(lambda g: len(g["types"]) == 2, "the Linear to land on the canvas")

    layout = app.layout()
    src = layout["nodes"][_node_of_type(layout, "input")]["out:y"]
    dst = layout["nodes"][_node_of_type(layout, "linear")]["in:x"]
    app.drag(tuple(src), tuple(dst))
    app.layout_until(lambda g: g["edges"] == 1, "the connection")

    app.xdotool("key", "ctrl+s")
    # The answer comes after the key press was handled, and saving is synchronous.
    app.layout_until(lambda g: app.saved.exists(), "Ctrl+S to write the project")
    data = json.loads(app.saved.read_text(encoding="utf-8"))
    types = {n["id"]: n["type"] for n in data["nodes"]}
    assert sorted(types.values()) == ["input", "linear"]
    assert len(data["edges"]) == 1
    edge = data["edges"][0]
    assert types[edge["src"]] == "input" and types[edge["dst"]] == "linear"
    assert (edge["src_port"], edge["dst_port"]) == ("y", "x")

    # Add by search, with real keys: click empty canvas, Tab, type, Enter.
    spot = (x0 + w // 2, y0 + h // 5)
    app.xdotool("mousemove", *spot)
    app.xdotool("click", 1)
    app.xdotool("key", "Tab")
    app.xdotool("type", "--delay", "40", "dropout")
    app.xdotool("key", "Return")
    layout = app.layout_until(lambda g: len(g["types"]) == 3, "the searched layer to be added")
    assert sorted(layout["types"].values()) == ["dropout", "input", "linear"]
    new = layout["nodes"][_node_of_type(layout, "dropout")]
    # placed at the cursor: its input port sits within a card's width of where Tab was pressed
    px, py = new["in:x"]
    assert abs(px - spot[0]) < 200 and abs(py - spot[1]) < 120, (new, spot)
