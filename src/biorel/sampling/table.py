"""The sampler's input: an item x entity count matrix per variable.

An *item* is what a sampler picks (a LOTUS reference, a corpus document). Each
item carries relations; each relation names one entity per *variable* (e.g.
``organism_wikidata`` and ``structure_wikidata``, or the ``Chemical`` and
``Disease`` arguments of a CID relation). :class:`ItemTable` stores, for each
variable, a ``scipy.sparse`` CSR matrix whose entry ``[i, j]`` counts the
relations of item ``i`` involving entity ``j``.

Rules:

* Items are sorted by id (Unicode code point order, as Python's ``sorted``).
  That order is the samplers' tie-break order, so results never depend on the
  order of the input rows.
* Every relation (table row) counts once per variable, duplicates included
  (the reference GME sampler counts rows, not distinct pairs). A relation
  with several entities of one variable (two ``Gene`` arguments) counts each.
* A relation may lack a variable (a BioRED Gene-Disease relation has no
  ``Chemical``): it then counts only in the variables it has.
* An item's stratum is the most frequent stratum value over its relations
  (ties: the smallest value); an item with no value is in stratum ``(none)``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from ..errors import error

#: the stratum of an item whose relations carry no stratum value
NO_STRATUM = "(none)"


class Record(NamedTuple):
    """One relation of an item: ``values`` maps a variable to an entity id (or
    to several ids, or to ``None`` when the relation lacks that variable). A
    record with no value at all registers its item (a document without
    relations), which then cannot be ranked and is reported."""

    item: str
    values: Mapping[str, str | Sequence[str] | None]
    stratum: str | None = None


@dataclass(frozen=True, eq=False)
class ItemTable:
    """Items x entities counts, one CSR matrix per variable (see module doc)."""

    items: np.ndarray  # object array of item ids, sorted
    variables: tuple[str, ...]
    counts: tuple[sp.csr_matrix, ...]  # (n_items, n_entities[v]) int64, canonical CSR
    entities: tuple[np.ndarray, ...]  # entity ids per variable (column order)
    strata: np.ndarray | None = None  # int32 stratum code per item
    stratum_names: tuple[str, ...] = ()
    stratify: str | None = None  # the column / key the strata came from
    n_relations: np.ndarray | None = None  # relations per item

    # ---- shape -------------------------------------------------------------
    @property
    def n_items(self) -> int:
        return len(self.items)

    def n_entities(self, v: int) -> int:
        """|V|: the distinct entities of variable ``v`` in the whole table."""
        return self.counts[v].shape[1]

    def index(self) -> dict[str, int]:
        return {it: i for i, it in enumerate(self.items)}

    def stratum_of(self, i: int) -> str | None:
        return None if self.strata is None else self.stratum_names[self.strata[i]]

    # ---- derived tables ------------------------------------------------------
    def binarised(self) -> ItemTable:
        """Each distinct entity counts once per item."""
        counts = []
        for m in self.counts:
            b = m.copy()
            b.data[:] = 1
            counts.append(b)
        return _replace(self, counts=tuple(counts))

    def subset(self, rows: Sequence[int] | np.ndarray) -> ItemTable:
        """The table restricted to ``rows`` (kept in item order); entities that no
        longer occur are dropped, so |V| is recomputed for the subset."""
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        counts, entities = [], []
        for m, names in zip(self.counts, self.entities):
            sub = m[rows]
            used = np.flatnonzero(np.asarray(sub.sum(axis=0)).ravel() > 0)
            counts.append(sp.csr_matrix(sub[:, used]))
            entities.append(names[used])
        strata = None if self.strata is None else self.strata[rows]
        nrel = None if self.n_relations is None else self.n_relations[rows]
        return ItemTable(self.items[rows], self.variables, tuple(counts), tuple(entities), strata, self.stratum_names, self.stratify, nrel)

    def totals(self, v: int, rows: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Entity counts of variable ``v`` summed over ``rows`` (all items if None)."""
        m = self.counts[v] if rows is None else self.counts[v][np.asarray(rows, dtype=np.int64)]
        return np.asarray(m.sum(axis=0)).ravel().astype(np.int64)

    # ---- construction --------------------------------------------------------
    @classmethod
    def from_codes(
        cls,
        items: Sequence[str],
        variables: Sequence[str],
        pairs: Sequence[tuple[np.ndarray, np.ndarray]],
        entities: Sequence[Sequence[str]],
        *,
        strata: np.ndarray | None = None,
        stratum_names: Sequence[str] = (),
        stratify: str | None = None,
        n_relations: np.ndarray | None = None,
    ) -> ItemTable:
        """Build from integer codes: ``pairs[v] = (item_codes, entity_codes)``, one
        entry per (relation, entity) occurrence. Items are re-sorted by id and
        entities that never occur are dropped."""
        items_arr = np.empty(len(items), dtype=object)
        items_arr[:] = list(items)
        if len(set(items_arr.tolist())) != len(items_arr):
            raise error("E220", option="items", value="(list)", reason="item ids must be unique")
        order = np.array(sorted(range(len(items_arr)), key=items_arr.__getitem__), dtype=np.int64)
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        counts, ents = [], []
        for (ic, ec), names in zip(pairs, entities):
            ic = rank[np.asarray(ic, dtype=np.int64)]
            ec = np.asarray(ec, dtype=np.int64)
            m = sp.csr_matrix((np.ones(len(ic), dtype=np.int64), (ic, ec)), shape=(len(items_arr), len(names)))
            m.sum_duplicates()
            used = np.flatnonzero(np.asarray(m.sum(axis=0)).ravel() > 0)
            if len(used) < m.shape[1]:
                m = sp.csr_matrix(m[:, used])
            names_arr = np.empty(len(names), dtype=object)
            names_arr[:] = list(names)
            m.sort_indices()
            counts.append(m)
            ents.append(names_arr[used])
        if strata is not None:
            strata = np.asarray(strata, dtype=np.int32)[order]
        if n_relations is not None:
            n_relations = np.asarray(n_relations, dtype=np.int64)[order]
        return cls(items_arr[order], tuple(variables), tuple(counts), tuple(ents), strata, tuple(stratum_names), stratify, n_relations)

    @classmethod
    def from_records(cls, records: Iterable[Record], variables: Sequence[str], *, stratify: str | None = None) -> ItemTable:
        """Build from relation records (see :class:`Record` and the module rules)."""
        variables = tuple(variables)
        if not variables:
            raise error("E220", option="variables", value=variables, reason="give at least one variable")
        if len(set(variables)) != len(variables):
            raise error("E220", option="variables", value=variables, reason="variables must be distinct")
        item_code: dict[str, int] = {}
        ent_code: list[dict[str, int]] = [{} for _ in variables]
        pair_i: list[list[int]] = [[] for _ in variables]
        pair_e: list[list[int]] = [[] for _ in variables]
        votes: dict[int, Counter] = {}
        nrel: list[int] = []
        for rec in records:
            i = item_code.setdefault(rec.item, len(item_code))
            if i == len(nrel):
                nrel.append(0)
            used = False
            for v, var in enumerate(variables):
                val = rec.values.get(var)
                if val is None:
                    continue
                for e in (val,) if isinstance(val, str) else val:
                    pair_i[v].append(i)
                    pair_e[v].append(ent_code[v].setdefault(e, len(ent_code[v])))
                    used = True
            nrel[i] += used  # a record with no value only registers its item
            if stratify is not None and rec.stratum not in (None, ""):
                votes.setdefault(i, Counter())[rec.stratum] += 1
        items = list(item_code)
        pairs, entities = [], []
        for v in range(len(variables)):
            names = sorted(ent_code[v])
            remap = np.empty(len(names), dtype=np.int64)
            for new, name in enumerate(names):
                remap[ent_code[v][name]] = new
            pairs.append((np.asarray(pair_i[v], dtype=np.int64), remap[np.asarray(pair_e[v], dtype=np.int64)]))
            entities.append(names)
        strata, names = None, ()
        if stratify is not None:
            labels = [_majority(votes.get(i)) for i in range(len(items))]
            names = tuple(sorted(set(labels)))
            code = {s: k for k, s in enumerate(names)}
            strata = np.array([code[s] for s in labels], dtype=np.int32)
        return cls.from_codes(
            items, variables, pairs, entities, strata=strata, stratum_names=names, stratify=stratify, n_relations=np.asarray(nrel, dtype=np.int64)
        )


def _majority(votes: Counter | None) -> str:
    if not votes:
        return NO_STRATUM
    best = max(votes.values())
    return min(s for s, c in votes.items() if c == best)


def _replace(t: ItemTable, **kw) -> ItemTable:
    fields = dict(
        items=t.items,
        variables=t.variables,
        counts=t.counts,
        entities=t.entities,
        strata=t.strata,
        stratum_names=t.stratum_names,
        stratify=t.stratify,
        n_relations=t.n_relations,
    )
    fields.update(kw)
    return ItemTable(**fields)
