"""The torchvision import table's writer and cache (bench/import_table.py), from fake rows.

No torchvision here: the real rows are measured by `python -m bench.bench_import --table`.
"""

from __future__ import annotations

import sys

from bench import import_table as tab
from bench.bench_import import _child

FP = "abc123abc123"


def imported(model: str, *, diff: float = 0.0, params_ours: int = 1000, **extra) -> dict:
    return {
        "model": model,
        "input": "3×128×128",
        "status": "imported",
        "fingerprint": FP,
        "commit": "c0ffee1",
        "layers": 1234,
        "top_nodes": 13,
        "block_defs": 16,
        "block_uses": 24,
        "params": 1000,
        "params_ours": params_ours,
        "diff_import": 0.0,
        "diff_round_trip": diff,
        "same_graph": True,
        "build_s": 0.5,
        "import_s": 1.25,
        "wall_s": 14.0,
        "peak_rss_mb": 2048,
        **extra,
    }


def other(model: str, status: str, reason: str = "", **extra) -> dict:
    row = {"model": model, "input": "3×224×224", "status": status, "fingerprint": FP}
    return {**row, "commit": "c0ffee1", "reason": reason, "wall_s": 3.0, **extra}


REFUSAL = (
    "cannot import: 33 parts of the model have no Netcanvas layer:\n  - features.0.1.weight: "
    "a raw parameter (at /x/.venv/lib/python3.11/site-packages/torchvision/models/convnext.py:34)"
)


def lines_of(text: str, first_cell: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith(f"| {first_cell} |")]


def test_each_kind_of_row_renders_with_its_own_cells():
    rows = [
        imported("resnet18"),
        other("convnext_tiny", "refused", REFUSAL),
        other("vit_b_16", "crashed", "signal 9: Killed"),
        other("maxvit_t", "timeout", limit_s=900.0),
    ]
    text = tab.render(rows, header="# T", notes="## Notes", current=FP)
    (ok,) = lines_of(text, "resnet18")
    cells = [c.strip() for c in ok.strip("|").split("|")]
    header = [c.strip() for c in lines_of(text, "model")[0].strip("|").split("|")]
    row = dict(zip(header, cells, strict=True))
    assert row["imported"] == "yes" and row["identical"] == "yes"
    assert row["layers"] == "1,234" and row["blocks (defs / uses)"] == "16 / 24"
    assert row["params equal"] == "yes" and row["max diff round trip"] == "0.0e+00"
    assert row["import s"] == "1.2" and row["peak RSS GB"] == "2.0" and row["reason"] == ""
    assert row["code at"] == "c0ffee1"  # the commit of the importer code it was measured with

    (refused,) = lines_of(text, "convnext_tiny")
    assert "| no |" in refused and "33 parts of the model have no Netcanvas layer" in refused
    assert "site-packages" not in refused and "torchvision/models/convnext.py:34" in refused
    (crashed,) = lines_of(text, "vit_b_16")
    assert "crashed: signal 9: Killed" in crashed
    (timed_out,) = lines_of(text, "maxvit_t")
    assert "timed out after 900 s" in timed_out
    # The full refusal, one per refused or crashed model, below the table.
    assert "- **convnext_tiny** (refused): cannot import: 33 parts" in text
    assert "- **vit_b_16** (crashed)" in text and "- **maxvit_t**" not in text
    # Rows come out in family order (the issue's), whatever the input order.
    order = [ln.split("|")[1].strip() for ln in text.splitlines() if ln.startswith("| ")]
    models = [m for m in order if m in {r["model"] for r in rows}]
    assert models == ["resnet18", "convnext_tiny", "vit_b_16", "maxvit_t"]


def test_family_summaries_are_counted_from_the_rows():
    rows = [
        imported("resnet18"),
        imported("resnet50"),
        imported("resnet152", diff=3e-4),  # imported, outputs differ
        imported("vgg11"),
        imported("vgg11_bn", params_ours=999),  # parameter count differs
        other("vit_b_16", "refused", "cannot import: x"),
        other("vit_l_16", "timeout", limit_s=60.0),
        other("swin_t", "crashed", "exit code 1: KeyError"),
    ]
    counts = tab.summarize(rows)
    assert counts["resnet"] == {
        "models": 3,
        "imported": 3,
        "refused": 0,
        "crashed": 0,
        "timeout": 0,
        "same": 2,
    }
    assert counts["vgg"]["same"] == 1 and counts["vit"]["refused"] == 1
    assert counts["vit"]["timeout"] == 1 and counts["swin"]["crashed"] == 1
    text = "\n".join(tab.summary_lines(rows))
    assert "Families: 0 of 19 imported with identical outputs in every model (2 of 19" in text
    assert "Models: 5 of 8 imported, 3 of 8 with identical" in text
    assert "1 refused, 1 crashed, 1 timed out" in text
    assert "| resnet | 3 | 3 | 2 | 0 | 0 | 0 |" in text
    assert "| vit | 2 | 0 | 0 | 1 | 0 | 1 |" in text
    # Fix the two differing rows: the counts follow.
    rows[2], rows[4] = imported("resnet152"), imported("vgg11_bn")
    text = "\n".join(tab.summary_lines(rows))
    assert "Families: 2 of 19 imported with identical outputs in every model" in text


def test_families_and_order():
    assert tab.family("resnext101_64x4d") == "resnext" and tab.family("resnet101") == "resnet"
    assert tab.family("wide_resnet50_2") == "wide_resnet" and tab.family("swin_v2_t") == "swin"
    assert tab.family("efficientnet_v2_l") == "efficientnet"
    assert tab.family("mobilenet_v3_small") == "mobilenet_v3"
    names = ["resnet152", "resnet18", "alexnet", "resnet50", "resnet101", "maxvit_t"]
    assert sorted(names, key=tab.model_order) == [
        "alexnet",
        "resnet18",
        "resnet50",
        "resnet101",
        "resnet152",
        "maxvit_t",
    ]


def test_cache_round_trips_and_a_code_change_makes_rows_stale(tmp_path):
    for d in tab.CODE_DIRS:
        (tmp_path / d).mkdir(parents=True)
        (tmp_path / d / "a.py").write_text("x = 1\n")
    before = tab.fingerprint(tmp_path, extra="0.28.0")
    assert tab.fingerprint(tmp_path, extra="0.29.0") != before
    rows = {"resnet18": imported("resnet18", fingerprint=before), "vgg11": imported("vgg11")}
    tab.save_cache(rows, tmp_path / "cache.json")
    assert tab.load_cache(tmp_path / "cache.json") == rows
    assert tab.stale(rows, ["resnet18", "vgg11", "alexnet"], before) == ["vgg11", "alexnet"]
    (tmp_path / tab.CODE_DIRS[1] / "a.py").write_text("x = 2\n")
    assert tab.fingerprint(tmp_path, extra="0.28.0") != before


def test_a_child_that_dies_or_hangs_is_a_row_that_says_so():
    killed = _child("m", 30, 10, [sys.executable, "-c", "import os; os.kill(os.getpid(), 9)"])
    assert killed["status"] == "crashed" and killed["reason"].startswith("signal 9")
    hung = _child("m", 1, 10, [sys.executable, "-c", "import threading; threading.Event().wait()"])
    assert hung["status"] == "timeout" and hung["wall_s"] < 30
    assert "timed out after 1 s" in tab.table_row(hung)["reason"]
    fine = _child("m", 30, 10, [sys.executable, "-c", 'print(\'ROW {"status": "refused"}\')'])
    assert fine["status"] == "refused" and fine["peak_rss_mb"] > 0
