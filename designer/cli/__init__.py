"""The `netcanvas` command: open the app, or work on project files from a terminal.

Each command lives in its own module (NAME, HELP, add_arguments, run); COMMAND_MODULES below is
the one list of them, so adding a command is one new module and one line here.

Exit codes: 0 success, 1 the project is invalid (validate, summary), 2 a user error (bad
arguments, unreadable file, failed export), printed as one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from designer import __version__
from designer.cli.common import UsageError
from designer.core import limits
from designer.core.errors import NetcanvasError

# The one list of commands, in the order `--help` shows them.
COMMAND_MODULES = (
    "validate",
    "summary",
    "export",
    "examples",
    "new",
    "train",
    "runs",
    "diff",
    "search",
    "import",
    "backbones",
    "check",
    "lr_find",
    "evaluate",
)
COMMANDS = tuple(m.replace("_", "-") for m in COMMAND_MODULES)  # lr_find -> `lr-find`

__all__ = ["COMMANDS", "UsageError", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _command(name: str):
    return importlib.import_module(f"designer.cli.{name.replace('-', '_')}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="netcanvas",
        description="Design neural networks on a canvas. With no command, opens the app "
        "(`netcanvas FILE` opens FILE in it).",
    )
    parser.add_argument("--version", action="version", version=f"netcanvas {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = _command(name)
        module.add_arguments(sub.add_parser(module.NAME, help=module.HELP))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `netcanvas` console script. Returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        # NOTE: `netcanvas FILE` opens FILE in the app; anything else is a mistyped command,
        # answered here (one line) rather than by launching Qt.
        problem = _not_a_file(argv[0])
        if problem:
            return _fail(problem)
        if len(argv) > 1:
            return _fail(
                f"the app opens one file; got {len(argv)} arguments (see 'netcanvas --help')"
            )
    if not argv or argv[0] not in COMMANDS and not argv[0].startswith("-"):
        from designer.app import main as app_main  # NOTE: Qt is only imported for the app

        return app_main(argv)
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as e:  # --help and --version
            return int(e.code or 0)
        if args.command is None:
            raise UsageError("no command given (see 'netcanvas --help')")
        return _command(args.command).run(args)
    except NetcanvasError as e:
        return _fail(str(e))
    except KeyboardInterrupt:
        return _fail("interrupted", code=130)
    except BrokenPipeError:  # `netcanvas summary x --json | head`: the reader left, fine
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stops the exit-time flush error
        return 0
    except OSError as e:  # a file the command had to read or write: one line, never a traceback
        where = f"{limits.clip(str(e.filename))}: " if e.filename else ""
        return _fail(f"{where}{e.strerror or e}")
    except MemoryError:
        return _fail("out of memory (the data or the model is too big for this machine)")


def _not_a_file(arg: str) -> str | None:
    """Why `netcanvas ARG` is neither a command nor a file the app could open, or None."""
    import difflib

    try:
        if os.path.isfile(arg):
            return None
        exists = os.path.exists(arg)
    except (OSError, ValueError):
        exists = False
    shown = limits.clip(arg)
    if exists:
        return f"{shown}: is not a file the app can open (see 'netcanvas --help')"
    close = difflib.get_close_matches(arg, COMMANDS, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return (
        f"{shown!r} is neither a command nor an existing file ({hint}"
        f"commands: {', '.join(COMMANDS)}; see 'netcanvas --help')"
    )


def _fail(message: str, code: int = 2) -> int:
    print("netcanvas: error: " + " ".join(message.split()), file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
