"""Saving survives SIGKILL: the file on disk is always the old project or the new one, whole."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from designer.core.project_io import load_project

# The child saves two big-ish projects in turn, forever, and reports each completed save.
CHILD = textwrap.dedent(
    """
    import sys
    from designer.core.graph import Edge, Graph
    from designer.core.project import Project
    from designer.core.project_io import save_project

    def big(tag, width):
        g = Graph()
        prev = g.add_node("input", name="input", params={"shape": (8,)}, node_id="in")
        for i in range(400):
            node = g.add_node("linear", name=f"{tag}_{i}", params={"out_features": width},
                              pos=(i * 220.0, 0.0), node_id=f"n{i}")
            g.connect(Edge(prev.id, node.id))
            prev = node
        return Project(g, tag)

    path = sys.argv[1]
    projects = [big("old", 16), big("new", 32)]
    i = 0
    while True:
        save_project(projects[i % 2], path)
        sys.stdout.write(f"{i}\\n")
        sys.stdout.flush()
        i += 1
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_killed_saves_leave_old_or_new_file(tmp_path):
    script = tmp_path / "saver.py"
    script.write_text(CHILD, "utf-8")
    target = tmp_path / "model.netcanvas"
    rng = random.Random(1234)
    seen = {"old": 0, "new": 0}
    for _ in range(30):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(target)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert proc.stdout.readline().strip() != "", "the saver died before its first save"
            started = time.monotonic()
            assert proc.stdout.readline().strip() != "", "the saver died before its second save"
            period = time.monotonic() - started  # one save, however fast this machine is
            # Let it run a random while (waiting on the process, not sleeping), then kill it:
            # anywhere in the next two saves, so either project may be the last one whole.
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(timeout=rng.uniform(0.0, 2 * period))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        project = load_project(target)  # never half a file
        names = {
            n.name.split("_")[0] for n in project.graph.nodes.values() if n.type_id == "linear"
        }
        widths = {
            n.params["out_features"] for n in project.graph.nodes.values() if n.type_id == "linear"
        }
        assert len(project.graph.nodes) == 401 and len(project.graph.edges) == 400
        assert (project.name, names, widths) in [("old", {"old"}, {16}), ("new", {"new"}, {32})]
        seen[project.name] += 1
    assert seen["old"] and seen["new"], seen  # kills landed at different points of the cycle
