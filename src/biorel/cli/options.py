"""Option parsing shared by the commands: ``key=value`` reader and writer
options (``-r`` / ``-w``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import typer


def parse_options(items: Iterable[str] | None) -> dict[str, Any]:
    """``["a=1", "b=true", "c-d=x"]`` -> ``{"a": 1, "b": True, "c_d": "x"}`` (BadParameter for an item without ``=``)."""
    opts: dict[str, Any] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected key=value, got {item!r}")
        low = value.lower()
        opts[key.replace("-", "_")] = True if low == "true" else False if low == "false" else int(value) if value.lstrip("-").isdigit() else value
    return opts
