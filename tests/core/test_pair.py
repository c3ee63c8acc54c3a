"""A project and its weights are one pair: kills during Save leave the old pair or the new one,
saves through a symlink replace its target, and temp files of killed saves are cleaned."""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from designer.core.atomic import clean_stale_temps
from designer.core.compiler import build_model
from designer.core.pair import check_pair, save_pair
from designer.core.project import Project
from designer.core.project_io import load_project, save_project
from designer.core.weights import read_header, state_for
from tests.core.helpers import chain


def _project(width: int, name: str) -> tuple[Project, dict]:
    graph = chain(
        ("linear", {"out_features": width}), ("relu", {}), ("linear", {"out_features": 3})
    )
    torch.manual_seed(width)
    model, _ = build_model(graph, name)
    return Project(graph, name), model.state_dict()


def test_weights_are_written_under_a_content_name_that_the_project_records(tmp_path):
    project, state = _project(16, "net")
    path = tmp_path / "net.netcanvas"
    assert save_pair(project, path, state) == []
    loaded = load_project(path)
    assert loaded.weights is not None and loaded.weights.file.startswith("net.")
    assert loaded.weights_path.exists() and check_pair(loaded) is None
    got = state_for(loaded.graph, loaded.name, loaded.weights_path).tensors
    assert all(torch.equal(got[k], state[k]) for k in state)
    # A new pair replaces the old one: the old weights file goes once the project names the new.
    old = loaded.weights_path
    state2 = {k: v + 1 for k, v in state.items()}
    save_pair(loaded, path, state2)
    again = load_project(path)
    assert again.weights_path != old and not old.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["net.netcanvas", again.weights.file]
    )


def test_weights_that_no_longer_fit_are_left_out_with_a_note(tmp_path):
    project, state = _project(16, "net")
    other, _ = _project(8, "net")
    notes = save_pair(other, tmp_path / "net.netcanvas", state)
    assert notes and "changed since it was trained" in notes[0]
    assert load_project(tmp_path / "net.netcanvas").weights is None


def test_save_as_without_new_weights_takes_the_pair_along(tmp_path):
    project, state = _project(16, "net")
    save_pair(project, tmp_path / "a.netcanvas", state)
    loaded = load_project(tmp_path / "a.netcanvas")
    (tmp_path / "b").mkdir()
    save_pair(loaded, tmp_path / "b" / "b.netcanvas", None)
    copy = load_project(tmp_path / "b" / "b.netcanvas")
    assert copy.weights_path.parent == tmp_path / "b" and check_pair(copy) is None


def test_a_changed_weights_file_is_reported(tmp_path):
    project, state = _project(16, "net")
    save_pair(project, tmp_path / "net.netcanvas", state)
    loaded = load_project(tmp_path / "net.netcanvas")
    with loaded.weights_path.open("r+b") as f:
        f.seek(-4, os.SEEK_END)
        f.write(b"\0\0\0\1")
    assert "changed after the project was saved" in check_pair(loaded)


def test_saving_through_a_symlink_replaces_its_target(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    project, state = _project(16, "net")
    save_project(project, real / "net.netcanvas")
    link = tmp_path / "link.netcanvas"
    link.symlink_to(real / "net.netcanvas")
    project.graph.rename(next(iter(project.graph.nodes)), "renamed")
    save_pair(load_project(link), link, state)  # the issue: the link became a regular file
    assert link.is_symlink()
    assert load_project(real / "net.netcanvas").weights is not None
    loaded = load_project(link)
    assert loaded.weights_path.parent == real and check_pair(loaded) is None


def test_temp_files_of_killed_saves_are_cleaned_on_the_next_save(tmp_path):
    for i in range(5):  # what SIGKILLed saves leave behind
        (tmp_path / f".net.netcanvas.abcd{i:04d}.tmp").write_bytes(b"x" * 1000)
    (tmp_path / ".net.safetensors.zzzz0000.tmp").write_bytes(b"x")
    (tmp_path / ".other.txt.abcd0000.tmp").write_bytes(b"not ours")
    save_project(Project(), tmp_path / "net.netcanvas")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [".other.txt.abcd0000.tmp", "net.netcanvas"]


def test_a_temp_file_another_save_holds_is_kept(tmp_path):
    import fcntl

    held = tmp_path / ".net.netcanvas.live0000.tmp"
    fd = os.open(held, os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert clean_stale_temps(tmp_path, "net.netcanvas") == 0
        assert held.exists()
    finally:
        os.close(fd)
    assert clean_stale_temps(tmp_path, "net.netcanvas") == 1


# A server that imports everything once and forks one saver per round, so that 200 kills take
# seconds (each saver alternates two pairs through the app's Save, save_pair, forever).
SERVER = textwrap.dedent(
    """
    import os, sys
    import torch
    from designer.core.compiler import build_model
    from designer.core.pair import save_pair
    from designer.core.project import Project
    from tests.core.helpers import chain

    torch.set_num_threads(1)
    pairs = []
    for width, name in ((64, "old"), (96, "new")):
        graph = chain(("linear", {"out_features": width}), ("relu", {}),
                      ("linear", {"out_features": width}), ("linear", {"out_features": 3}))
        torch.manual_seed(width)
        model, _ = build_model(graph, "net")
        pairs.append((Project(graph, name), model.state_dict()))
    path = sys.argv[1]
    import time
    started = time.monotonic()
    for project, state in (pairs[1], pairs[0]):  # ends on "old"; also times one save here
        save_pair(project, path, state)
    print("ready", (time.monotonic() - started) / 2, flush=True)
    for line in sys.stdin:
        if line.strip() == "fork":
            pid = os.fork()
            if pid == 0:
                i = 1
                while True:
                    project, state = pairs[i % 2]
                    save_pair(project, path, state)
                    os.write(1, b"saved\\n")  # the test waits on these, never on a clock
                    i += 1
            print(pid, flush=True)
        elif line.strip() == "reap":
            os.waitpid(pid, 0)
            print("ok", flush=True)
    """
)


class _Lines:
    """Lines from a pipe, each wait bounded. A line that must come fails the test after a
    minute; with `required=False`, `next` returns None when none came within `timeout`."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buffer = fd, b""

    def next(self, timeout: float = 60.0, required: bool = True) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = max(0.0, deadline - time.monotonic())
            if not select.select([self.fd], [], [], left)[0]:
                assert not required, "the save server went quiet"
                return None
            chunk = os.read(self.fd, 4096)
            assert chunk, "the save server died"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode().strip()


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="SIGKILL and fork are POSIX")
def test_200_kills_during_save_always_leave_a_matching_pair(tmp_path):
    server_py = tmp_path / "server.py"
    server_py.write_text(SERVER, "utf-8")
    target = tmp_path / "net.netcanvas"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.getcwd())
    server = subprocess.Popen(
        [sys.executable, str(server_py), str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
        env=env,
    )
    lines = _Lines(server.stdout.fileno())
    expected = {}
    for width, name in ((64, "old"), (96, "new")):
        graph = chain(
            ("linear", {"out_features": width}),
            ("relu", {}),
            ("linear", {"out_features": width}),
            ("linear", {"out_features": 3}),
        )
        model, _ = build_model(graph, "net")
        expected[name] = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    rng = random.Random(9)
    seen = {"old": 0, "new": 0}

    try:
        ready, period = str(lines.next()).split()
        assert ready == "ready"
        for _ in range(200):
            server.stdin.write("fork\n")
            server.stdin.flush()
            pid = int(str(lines.next()))
            # Wait for 0-2 finished saves (the saver alternates the pairs), then for a random
            # part of one more: the kill lands anywhere in the cycle, however loaded the machine.
            for _ in range(rng.randint(0, 2)):
                lines.next()
            lines.next(timeout=rng.uniform(0.0, float(period)), required=False)
            os.kill(pid, signal.SIGKILL)
            server.stdin.write("reap\n")
            server.stdin.flush()
            while lines.next() != "ok":  # "saved" reports still in the pipe
                pass
            project = load_project(target)  # the project is whole ...
            assert check_pair(project) is None  # ... its weights file is there, unchanged ...
            shapes = {k: i.shape for k, i in read_header(project.weights_path).items()}
            assert shapes == expected[project.name]  # ... and it is this project's
            seen[project.name] += 1
    finally:
        server.kill()
        server.wait()
    assert seen["old"] and seen["new"], seen  # kills landed at different points of the cycle
    temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(temps) <= 2, temps  # a killed save's leftovers go on the next save
