"""`netcanvas evaluate FILE --weights W`: confusion matrix, per-class scores, worst mistakes
(or predicted vs true for regression), written as CSV and PNG."""

from __future__ import annotations

import json
from pathlib import Path

from designer.cli.common import existing, load, num

NAME = "evaluate"
HELP = "evaluate trained weights on the test split (CSV and PNG into a folder)"


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--weights", required=True, metavar="W", help="a .safetensors file")
    p.add_argument("--out", metavar="DIR", help="folder to write to (default: beside W)")


def run(args) -> int:
    from designer.core.training import evaluation
    from designer.core.training.prepare import prepare
    from designer.core.weights import load_weights

    path = existing(args.file)
    weights = existing(args.weights)
    project = load(path)
    model, _source, data = prepare(project, path.parent)
    load_weights(model, weights)
    ev = evaluation.evaluate(model, data, project.training.to_dict())
    out = Path(args.out) if args.out else weights.parent / "evaluation"
    written = evaluation.write(ev, out, data)
    (out / "evaluation.json").write_text(
        json.dumps({"summary": ev.summary, "per_class": ev.per_class, "wrong": ev.wrong}, indent=2,
                   default=float) + "\n", encoding="utf-8",
    )  # fmt: skip
    shown = ", ".join(f"{k} {num(v)}" for k, v in ev.summary.items())
    print(f"Evaluated {project.name} on {len(ev.y_true)} test samples: {shown}")
    if ev.task == "classification":
        worst = min(ev.per_class, key=lambda c: c["f1"])
        print(f"  weakest class: {worst['class']} (F1 {worst['f1']:.3f})")
    print(f"Wrote {out} ({', '.join(p.name for p in written)}, evaluation.json)")
    return 0
