"""One summary, two front ends: `netcanvas summary` and the Summary dock show the same rows
(the Output included) and the same totals, computed by designer.core.summary."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json

from designer.cli import main
from designer.core.examples import example_path
from designer.core.layers.spec import format_shape
from designer.core.project_io import load_project, save_project
from designer.ui.document import Document
from designer.ui.summary_view import SummaryView


def test_the_cli_and_the_dock_list_the_same_rows(qtbot, tmp_path, capsys):
    project = load_project(example_path("residual_net"))
    frozen = project.graph.by_name("stem").id
    project.graph.nodes[frozen].frozen = True
    path = tmp_path / "res.netcanvas"
    save_project(project, path)

    assert main(["summary", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    cli_rows = [
        (
            r["name"],
            r["type"],
            format_shape(tuple(r["output_shape"])),
            f"{r['params']:,}",
            f"{r['macs']:,}",
        )
        for r in data["layers"]
    ]
    view = SummaryView(Document(load_project(path)))
    qtbot.addWidget(view)
    shown = [
        tuple(view.item(i, c).text() for c in range(view.columnCount()))
        for i in range(view.rowCount())
    ]
    app_rows = [(name.removeprefix("🔒 "), *rest) for name, *rest in shown[: len(cli_rows)]]
    assert app_rows == cli_rows
    assert cli_rows[-1][:3] == ("output", "Output", "N×10")  # the Output row, in both
    assert shown[len(cli_rows)][0] == "Trainable" and shown[len(cli_rows) + 1][0] == "Frozen"
    assert shown[-1][0] == "Total"
    assert view.totals() == (data["total_params"], data["total_macs"])
    assert int(shown[len(cli_rows) + 1][3].replace(",", "")) == data["frozen_params"] > 0

    assert main(["summary", str(path)]) == 0
    table = capsys.readouterr().out
    assert "stem (frozen)" in table and "Output" in table and "Frozen" in table
