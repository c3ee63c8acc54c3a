"""The torchvision import table: families, the row cache and the Markdown written from it.

No torch here: bench/bench_import.py measures the rows (each model in its own process) and this
module turns the cached rows into docs/torchvision-import.md, so the writer is testable alone.

A cached row is a dict with `model`, `status` ("imported", "refused", "crashed" or "timeout"),
`fingerprint` (the importer and layer code it was measured with) and the measurements.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / "results" / "torchvision_import.json"
# What a row's results depend on: a change here makes every cached row stale.
CODE_DIRS = ("designer/core/importer", "designer/core/layers")
TOLERANCE = 1e-5  # "identical outputs": max |difference| after the round trip, and equal params

# The families, in its order; a model belongs to the first one its name starts with.
FAMILIES = (
    "alexnet", "vgg", "resnet", "resnext", "wide_resnet", "squeezenet", "densenet",
    "inception_v3", "googlenet", "shufflenet_v2", "mobilenet_v2", "mobilenet_v3", "mnasnet",
    "efficientnet", "regnet", "convnext", "vit", "swin", "maxvit",
)  # fmt: skip
STATUSES = ("imported", "refused", "crashed", "timeout")


def family(model: str) -> str:
    """The family of a torchvision model name (a name of no known family is its own)."""
    return next((f for f in FAMILIES if model == f or model.startswith(f)), model)


def model_order(model: str) -> tuple:
    """Family order, then natural order inside it (resnet18 < resnet34 < ... < resnet152)."""
    fam = family(model)
    index = FAMILIES.index(fam) if fam in FAMILIES else len(FAMILIES)
    parts = re.split(r"(\d+)", model)
    return index, [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts]


def fingerprint(root: Path = ROOT, extra: str = "") -> str:
    """A short hash of the importer and layer sources (and `extra`, e.g. the torchvision version)."""
    h = hashlib.sha256(extra.encode())
    for d in CODE_DIRS:
        for path in sorted((root / d).rglob("*.py")):
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def load_cache(path: Path = CACHE) -> dict[str, dict]:
    """Rows by model name ({} when there is no cache yet)."""
    if not path.exists():
        return {}
    return {row["model"]: row for row in json.loads(path.read_text("utf-8"))["rows"]}


def save_cache(rows: dict[str, dict], path: Path = CACHE) -> None:
    """Write the cache atomically (sorted in table order, so its diffs read well)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ordered = [rows[m] for m in sorted(rows, key=model_order)]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"rows": ordered}, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def stale(rows: dict[str, dict], models: Iterable[str], current: str) -> list[str]:
    """The models with no row, or a row measured with other code than `current`."""
    return [m for m in models if rows.get(m, {}).get("fingerprint") != current]


def identical(row: dict) -> bool:
    """Imported, same parameter count, outputs within TOLERANCE after import and round trip."""
    return (
        row.get("status") == "imported"
        and row.get("params") == row.get("params_ours")
        and max(row.get("diff_import", 1.0), row.get("diff_round_trip", 1.0)) <= TOLERANCE
    )


def summarize(rows: Iterable[dict]) -> dict[str, dict[str, int]]:
    """Counts per family (models, and one count per status, and identical), in family order."""
    out: dict[str, dict[str, int]] = {}
    for row in sorted(rows, key=lambda r: model_order(r["model"])):
        c = out.setdefault(family(row["model"]), dict.fromkeys(("models", *STATUSES, "same"), 0))
        c["models"] += 1
        c[row["status"]] += 1
        c["same"] += identical(row)
    return out


def short_reason(reason: str, limit: int | None = None) -> str:
    """The importer's message on one line, site-packages paths shortened, cut at `limit`."""
    text = re.sub(r"\S*/site-packages/", "", " ".join(reason.split()))
    text = text.replace("|", "\\|")
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _diff(value: float | None) -> str:
    return "" if value is None else f"{value:.1e}"


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def table_row(row: dict) -> dict[str, str]:
    """One row of the Markdown table, every kind of row with the same columns."""
    status = row["status"]
    ok = status == "imported"
    reason = {
        "imported": "",
        "refused": short_reason(row.get("reason", ""), 240),
        "crashed": "crashed: " + short_reason(row.get("reason", ""), 230),
        "timeout": f"timed out after {row.get('limit_s', 0):.0f} s",
    }[status]
    rss = row.get("peak_rss_mb")
    equal = ""
    if ok:
        equal = "yes" if row["params"] == row["params_ours"] else f"no ({row['params_ours']:,})"
    return {
        "model": row["model"],
        "input": row.get("input", ""),
        "imported": "yes" if ok else "no",
        "identical": ("yes" if identical(row) else "no") if ok else "",
        "layers": f"{row['layers']:,}" if ok else "",
        "top-level nodes": str(row["top_nodes"]) if ok else "",
        "blocks (defs / uses)": f"{row['block_defs']} / {row['block_uses']}" if ok else "",
        "params": f"{row['params']:,}" if ok else "",
        "params equal": equal,
        "max diff import": _diff(row.get("diff_import")) if ok else "",
        "max diff round trip": _diff(row.get("diff_round_trip")) if ok else "",
        "same graph after round trip": ("yes" if row.get("same_graph") else "no") if ok else "",
        "build s": _seconds(row.get("build_s")),
        "import s": _seconds(row.get("import_s")),
        "wall s": _seconds(row.get("wall_s")),
        "peak RSS GB": "" if rss is None else f"{rss / 1024:.1f}",
        "code at": row.get("commit", ""),
        "reason": reason,
    }


def markdown_table(cells: list[dict[str, str]]) -> str:
    if not cells:
        return "_no rows_\n"
    columns = list(cells[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(c[k] for k in columns) + " |" for c in cells]
    return "\n".join(lines) + "\n"


def summary_lines(rows: list[dict]) -> list[str]:
    """The overall line, then one line per family; every number counted from `rows`."""
    counts = summarize(rows)
    known = [f for f in FAMILIES if f in counts] + [f for f in counts if f not in FAMILIES]
    n_families = len(set(FAMILIES) | set(counts))
    all_same = [f for f in known if counts[f]["same"] == counts[f]["models"]]
    some_same = [f for f in known if counts[f]["same"]]
    total = {k: sum(c[k] for c in counts.values()) for k in ("models", *STATUSES, "same")}
    lines = [
        f"**Families: {len(all_same)} of {n_families} imported with identical outputs in every "
        f"model ({len(some_same)} of {n_families} in at least one). Models: {total['imported']} "
        f"of {total['models']} imported, {total['same']} of {total['models']} with identical "
        f"parameter counts and outputs within 1e-5 after the round trip; "
        f"{total['refused']} refused, {total['crashed']} crashed, {total['timeout']} timed out.**",
        "",
        "| family | models | imported | identical | refused | crashed | timed out |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in known:
        c = counts[f]
        lines.append(
            f"| {f} | {c['models']} | {c['imported']} | {c['same']} | {c['refused']} "
            f"| {c['crashed']} | {c['timeout']} |"
        )
    return lines


def provenance(rows: list[dict], current: str) -> str:
    """Which code each row was measured with, so a partial rerun says so."""
    by_code: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row.get("commit", "?"), row.get("fingerprint", "?"))
        by_code[key] = by_code.get(key, 0) + 1
    parts = [
        f"{n} row{'s' * (n != 1)} at commit `{commit}` (code `{fp}`"
        f"{', current' if fp == current else ', since changed'})"
        for (commit, fp), n in sorted(by_code.items(), key=lambda kv: -kv[1])
    ]
    return "Rows measured: " + "; ".join(parts) + "."


def render(rows: list[dict], *, header: str, notes: str, current: str) -> str:
    """The whole document: header, summary, the table, full refusal reasons, notes."""
    rows = sorted(rows, key=lambda r: model_order(r["model"]))
    refused = [r for r in rows if r["status"] in ("refused", "crashed")]
    reasons = [
        f"- **{r['model']}** ({r['status']}): {short_reason(r.get('reason', ''), 1500)}"
        for r in refused
    ]
    parts = [
        header.rstrip() + "\n",
        provenance(rows, current) + "\n",
        "\n".join(summary_lines(rows)) + "\n",
        "## Every model\n",
        markdown_table([table_row(r) for r in rows]),
    ]
    if reasons:
        parts.append(
            "## Why each refused model is refused\n\nThe importer's own message (the first "
            "1,500 characters; the whole text is in `bench/results/torchvision_import.json`).\n\n"
            + "\n".join(reasons)
            + "\n"
        )
    parts.append(notes.strip() + "\n")
    return "\n".join(parts)
