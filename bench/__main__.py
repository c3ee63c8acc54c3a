"""Run the benchmarks and write their tables into docs/BENCHMARKS.md.

    python -m bench                 # every bench/bench_*.py
    python -m bench training        # only bench/bench_training.py

Each module's section sits between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` markers and is
replaced in place; text outside the markers is kept.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import platform
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "BENCHMARKS.md"
HEADER = "# Benchmarks\n\nWritten by `python -m bench`; each section is rewritten when its benchmark runs.\n"


def machine() -> str:
    """CPU model, core count, torch version and date, for the section header."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    today = datetime.date.today().isoformat()
    return (
        f"{cpu} ({os.cpu_count()} cores), {gpu}, Python {platform.python_version()}, "
        f"torch {torch.__version__}, {_qt()}, {today}"
    )


def _qt() -> str:
    try:
        import PySide6
        from PySide6.QtCore import qVersion
    except ImportError:
        return "no PySide6"
    return f"PySide6 {PySide6.__version__} (Qt {qVersion()})"


def table(rows: list[dict]) -> str:
    if not rows:
        return "_no results_\n"
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def section(name: str, module, rows: list[dict]) -> str:
    notes = getattr(module, "NOTES", "").strip()
    body = (
        f"## {module.TITLE}\n\nMachine: {machine()}.\n"
        f"Command: `python -m bench {name}` (or `make bench` for all).\n\n{table(rows)}"
    )
    if notes:
        body += f"\n{notes}\n"
    return f"<!-- bench:{name} -->\n{body}<!-- /bench:{name} -->\n"


def write(name: str, text: str) -> None:
    doc = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    pattern = re.compile(
        rf"<!-- bench:{re.escape(name)} -->\n.*?<!-- /bench:{re.escape(name)} -->\n", re.S
    )
    if pattern.search(doc):
        doc = pattern.sub(lambda _: text, doc)
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args(argv)
    found = sorted(p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py"))
    names = args.names or found
    unknown = [n for n in names if n not in found]
    if unknown:
        parser.error(f"no benchmark {unknown[0]!r}; there are: {', '.join(found)}")
    began = time.perf_counter()
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"running {name}: {module.TITLE}", flush=True)
        rows = module.run()
        print(table(rows), flush=True)
        write(name, section(name, module, rows))
    if not args.names:
        minutes, seconds = divmod(round(time.perf_counter() - began), 60)
        write(
            "total",
            "<!-- bench:total -->\n## Full run\n\n"
            f"`make bench` (`python -m bench`, {len(names)} benchmarks: {', '.join(names)}) "
            f"took {minutes} min {seconds:02d} s. Machine: {machine()}.\n<!-- /bench:total -->\n",
        )
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
