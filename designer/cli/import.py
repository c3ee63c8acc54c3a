"""`netcanvas import SOURCE -o FILE [--input-shape 3x224x224]`: a PyTorch model as a project.

SOURCE is `path/to/file.py:Name` (an nn.Module subclass or a zero-argument factory; the file is
executed), a `.pt2` from torch.export, or `torchvision:NAME`. The project holds only data; the
model's weights go beside it as FILE's .safetensors.
"""

from __future__ import annotations

import sys

from designer.cli.common import UsageError, new_file

NAME = "import"
HELP = "import a PyTorch model (file.py:Name, model.pt2 or torchvision:NAME) as a project"


def add_arguments(p) -> None:
    p.add_argument("source", metavar="SOURCE", help="file.py:Name, model.pt2 or torchvision:NAME")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument(
        "--input-shape",
        default="3x224x224",
        metavar="CxHxW",
        help="shape of one sample without the batch (default 3x224x224)",
    )
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def parse_shape(text: str) -> tuple[int, ...]:
    from designer.core.importer import parse_input_shape

    try:
        return parse_input_shape(text)
    except ValueError as e:
        raise UsageError(f"--input-shape {text!r}: {e}") from None


def run(args) -> int:
    from designer.core.importer.api import import_model
    from designer.core.importer.sources import describe
    from designer.core.limits import fit_name
    from designer.core.project_io import save_project
    from designer.core.weights import save_weights

    shape = parse_shape(args.input_shape)
    out = new_file(args.output, args.force)
    print(describe(args.source), file=sys.stderr)
    result = import_model(args.source, shape, fit_name(out.stem) or None)
    project = result.project
    save_project(project, out)
    weights = save_weights(result.model, out.with_suffix(".safetensors"))
    g = project.graph
    uses = sum(len(g.block_uses(b)) for b in g.blocks)
    print(
        f"Imported {args.source}: {len(g.nodes)} nodes, {len(g.blocks)} block definitions "
        f"({uses} uses); wrote {out} and {weights}"
    )
    return 0
