from __future__ import annotations

import typer
from rich.console import Console

from ..errors import BiorelError

app = typer.Typer(
    name="biorel",
    help="Typed biomedical relations from literature.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: where the commands print errors, warnings and progress
err = Console(stderr=True)


def fail(e: BiorelError) -> None:
    """Print a biorel error (its code, where, what is wrong) and exit 1."""
    err.print(f"error {e}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1)
