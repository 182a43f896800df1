"""Diversity-optimised sampling of documents by the entities of their relations.

A sampler picks *items* (LOTUS references, corpus documents) so that the
entities of their relations are as diverse (high Shannon entropy) as
possible, per variable (e.g. organisms and chemicals):

    from biorel.sampling import load_table, get_sampler
    table = load_table("lotus.tsv", on=["structure_wikidata", "organism_wikidata"])
    result = get_sampler("gme", selector="dutopia").sample(table, n=1000)
    result.write("picks.tsv"); result.stop().step

Samplers live in ``registry.samplers``: ``biorel.GME.v1`` (alias ``gme``, the
exact incremental Greedy Maximum Entropy sampler, :mod:`.gme`) and
``biorel.Random.v1`` (alias ``random``, :mod:`.rand`). Inputs are built by
:mod:`.sources`, held in :class:`.table.ItemTable`; :mod:`.report` compares a
sample with random samples of the same size.
"""

from __future__ import annotations

from ..registry import registry
from .gme import SELECTORS, GMESampler, rankable
from .measures import diversity, entropy, evenness, richness, simpson
from .rand import RandomSampler
from .result import SampleResult, StopPoint
from .sources import document_records, is_table, load_table, table_records
from .strata import QUOTAS, next_stratum, quotas
from .table import ItemTable, Record


def get_sampler(name: str, **options):
    """A sampler from the registry by name or alias, built with ``options``."""
    return registry.samplers.create(name, **options)


__all__ = [
    "GMESampler",
    "RandomSampler",
    "ItemTable",
    "Record",
    "SampleResult",
    "StopPoint",
    "SELECTORS",
    "QUOTAS",
    "get_sampler",
    "load_table",
    "table_records",
    "document_records",
    "is_table",
    "rankable",
    "quotas",
    "next_stratum",
    "diversity",
    "entropy",
    "evenness",
    "richness",
    "simpson",
]
