from __future__ import annotations

import typer

app = typer.Typer(
    name="biorel",
    help="Typed biomedical relations from literature.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
