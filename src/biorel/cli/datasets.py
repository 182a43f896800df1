"""``biorel datasets list | fetch NAME | path NAME``: thin commands over
:mod:`biorel.datasets`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from .. import datasets as ds
from ..errors import BiorelError
from .app import app, fail

datasets_app = typer.Typer(help="Benchmark datasets: list, fetch (cache / mirror / download), locate.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")

out = Console()


def _where(spec: ds.DatasetSpec) -> str:
    """Where the dataset's files are now, without fetching: cache, mirror or remote."""
    mirror = ds.mirror_dir()
    places = set()
    for f in spec.files:
        if (ds.cache_dir() / f.path).is_file():
            places.add("cache")
        elif mirror is not None and (mirror / f.path).is_file():
            places.add("mirror")
        else:
            places.add("remote" if f.url else "missing")
    return "+".join(sorted(places))


def dataset_rows() -> list[dict]:
    """One row per dataset (what ``biorel datasets list`` shows)."""
    rows = []
    for name in ds.list_datasets():
        spec = ds.get_dataset(name)
        rows.append(
            {
                "name": spec.name,
                "title": spec.title,
                "variants": {v: spec.splits(v) for v in spec.variants},
                "folds": list(spec.folds),
                "formats": spec.formats(),
                "files": len(spec.files),
                "where": _where(spec),
                "license": spec.license,
                "source": spec.source,
            }
        )
    return rows


@datasets_app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table")) -> None:
    """List the registered datasets, their splits and where their files are."""
    rows = dataset_rows()
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="biorel datasets")
    for col in ("name", "variants: splits", "folds", "formats", "where"):
        table.add_column(col)
    for r in rows:
        variants = "\n".join(f"{v}: {', '.join(s)}" for v, s in r["variants"].items())
        folds = f"{r['folds'][0]}..{r['folds'][-1]}" if r["folds"] else ""
        table.add_row(r["name"], variants, folds, ", ".join(r["formats"]), r["where"])
    out.print(table)


@datasets_app.command("fetch")
def fetch_cmd(name: str = typer.Argument(..., help="dataset name")) -> None:
    """Make the dataset's files available (cache, else mirror, else download; sha256 checked)."""
    try:
        paths = ds.fetch(name)
    except BiorelError as e:
        fail(e)
    for rel, local in paths.items():
        out.print(f"{rel}\t{local}", markup=False, highlight=False, soft_wrap=True)


@datasets_app.command("path")
def path_cmd(name: str = typer.Argument(..., help="dataset name")) -> None:
    """Print the local folder of the dataset (fetching it first if needed)."""
    try:
        p: Path = ds.dataset_path(name)
    except BiorelError as e:
        fail(e)
    print(p)
