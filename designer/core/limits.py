"""The limits of a project, defined once: the graph's mutators, the editor and the loader all
enforce these, so the app never saves a file that it then refuses to open.

Also the one place that turns user or file text into something safe to keep and to show:
`clean_text` (no lone UTF-16 surrogates, which can't be written as UTF-8) and `clip` (a long
bad value is echoed as its first characters, an ellipsis and its full length).
"""

from __future__ import annotations

import os
import re

from designer.core.errors import NetcanvasError

# -- project files -----------------------------------------------------------------------------
MAX_FILE_BYTES = 50 * 1024 * 1024  # a .netcanvas file
# NOTE: far beyond any hand-built network, and low enough that a hostile file can't make the
# graph mutators (linear scans per edge) run for minutes.
MAX_NODES = 2_000
MAX_EDGES = 4_000
MAX_ID = 64  # node ids
MAX_NAME = 200  # layer names, the project name, type ids and port names
MAX_STRING = 4_096  # any other text field (a dataset path, a column name)

# -- weights files (safetensors) ---------------------------------------------------------------
MAX_WEIGHTS_HEADER = 4 * 1024 * 1024  # the JSON header before the tensor bytes (~40,000 tensors)
MAX_TENSORS = 20_000  # tensors in one weights file

# -- messages ----------------------------------------------------------------------------------
ECHO = 80  # characters of a bad value shown in a message

_SURROGATE = re.compile("[\ud800-\udfff]")


class LimitError(NetcanvasError):
    """Text or a count beyond the limits above (the message says which and what is allowed)."""


def clean_text(text: str) -> str:
    """`text` with every lone UTF-16 surrogate (from JSON `"\\udfff"`) replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def check_name(name: str, what: str = "a layer name", limit: int = MAX_NAME) -> str:
    """The cleaned `name`, or LimitError if it is longer than `limit` characters."""
    name = clean_text(name)
    if len(name) > limit:
        raise LimitError(
            f"{what} can be at most {limit} characters long (this one has {len(name):,})"
        )
    return name


def fit_name(name: str, limit: int = MAX_NAME) -> str:
    """`name` cleaned and shortened to `limit` characters (for names we derive, e.g. a file stem)."""
    return clean_text(name)[:limit]


def clip(text: str, limit: int = ECHO) -> str:
    """`text` if short, else its first `limit` characters, an ellipsis and its full length."""
    text = clean_text(str(text))
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def available_memory() -> int | None:
    """Bytes of memory available to allocate now (Linux, macOS), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def size_text(n: float) -> str:
    """1.0 GB, 512.0 MB, 900 bytes."""
    if n >= 2**30:
        return f"{n / 2**30:,.1f} GB"
    return f"{n / 2**20:,.1f} MB" if n >= 2**20 else f"{n:,.0f} bytes"
