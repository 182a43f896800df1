"""The ``biorel`` command line: thin Typer commands over importable functions.

Each command group lives in its own module and registers itself on ``app``;
this module only imports them.
"""

from __future__ import annotations

from .app import app

# command modules (each adds its commands to ``app``)
from . import formats as _formats  # noqa: F401,E402
from . import datasets as _datasets  # noqa: F401,E402
from . import train as _train  # noqa: F401,E402
from . import extract as _extract  # noqa: F401,E402
from . import evaluate as _evaluate  # noqa: F401,E402
from . import synth as _synth  # noqa: F401,E402
from . import sample as _sample  # noqa: F401,E402
from . import pairs as _pairs  # noqa: F401,E402
from . import serve as _serve  # noqa: F401,E402
from . import view as _view  # noqa: F401,E402
from . import pretrain as _pretrain  # noqa: F401,E402
from . import query as _query  # noqa: F401,E402


def main() -> None:  # console-script entry point
    app()
