"""`netcanvas backbones`: the pretrained backbones (the list the app's palette shows), and
`netcanvas backbones NAME -o FILE [--pretrained] [--classes N]`: one of them as a project.

With --pretrained, torchvision's ImageNet weights are downloaded once into the user cache
(checked against the SHA-256 prefix in their file name) and saved beside the project, which
records that its layers are pretrained from that file.
"""

from __future__ import annotations

import sys
from typing import Any

from designer.cli.common import UsageError, download_line, new_file

NAME = "backbones"
HELP = "list the pretrained backbones, or make a project of one (with its ImageNet weights)"


def add_arguments(p) -> None:
    p.add_argument("name", nargs="?", metavar="NAME", help="a backbone (omit to list them)")
    p.add_argument("-o", "--output", metavar="FILE", help="the project to write")
    p.add_argument(
        "--pretrained", action="store_true", help="download and load the ImageNet weights"
    )
    p.add_argument("--classes", type=int, metavar="N", help="a new head: Linear with N outputs")
    p.add_argument("--input-shape", default="3x224x224", metavar="CxHxW")
    p.add_argument(
        "--weights-url",
        metavar="URL",
        help="where to download the weights from instead of torchvision's URL (a mirror; the "
        "file name keeps torchvision's, with its hash)",
    )
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def run(args) -> int:
    from designer.core.backbones import BACKBONES

    if args.name is None:
        return _list(BACKBONES)
    if args.name not in BACKBONES:
        raise UsageError(f"no backbone {args.name!r}; there are: {', '.join(BACKBONES)}")
    if not args.output:
        raise UsageError(f"give the project to write: netcanvas backbones {args.name} -o FILE")
    if args.classes is not None and args.classes < 1:
        raise UsageError("--classes: expected a number ≥ 1")
    return _make(args)


def _list(backbones) -> int:
    from designer.core.backbones import cached_weights
    from designer.core.importer.tv import TorchvisionMissing

    try:
        rows = [
            (b.name, b.title, f"{b.megabytes:.0f} MB", _where(cached_weights(b.name)))
            for b in backbones.values()
        ]
    except TorchvisionMissing as err:
        for b in backbones.values():
            print(f"{b.name:<20} {b.title}")
        print(f"({err})", file=sys.stderr)
        return 0
    for name, title, size, where in rows:
        print(f"{name:<20} {title:<20} {size:>8}  {where}")
    return 0


def _where(path) -> str:
    return f"cached: {path}" if path is not None else "not downloaded"


def _make(args) -> int:
    import importlib

    from designer.core.backbones import backbone
    from designer.core.limits import fit_name
    from designer.core.origins import FRESH_ORIGIN, for_state, pretrained
    from designer.core.pair import save_pair

    parse_shape = importlib.import_module("designer.cli.import").parse_shape  # `import`: a keyword
    out = new_file(args.output, args.force)
    fetch = {"progress": download_line, "url": args.weights_url} if args.pretrained else {}
    loaded = backbone(
        args.name, parse_shape(args.input_shape), args.pretrained, args.classes, **fetch
    )
    project = loaded.result.project
    project.name = fit_name(out.stem) or project.name
    model: Any = loaded.result.model  # an nn.Module
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    origins = for_state(state, FRESH_ORIGIN)
    if loaded.weights is not None and loaded.report is not None:
        origins.update(for_state(loaded.report.matched, pretrained(loaded.weights.name)))
    project.weight_origins = origins
    notes = save_pair(project, out, state)
    g = project.graph
    said = [f"{args.name}: {len(g.nodes)} nodes, {len(g.blocks)} block definitions"]
    if loaded.weights is not None and loaded.report is not None:
        said.append(f"ImageNet weights from {loaded.weights}: {loaded.report.summary()}")
    if loaded.head is not None:
        said.append(f"new head: {loaded.head} has {args.classes} outputs (fresh)")
    print("; ".join(said) + f"; wrote {out}", *notes)
    return 0
