"""Benchmarks. `python -m bench` runs every bench_*.py module and rewrites its section of
docs/BENCHMARKS.md. A module exposes TITLE (str) and run() -> list[dict] (one table row per
dict); optionally NOTES (markdown shown under the table)."""
