"""Hard negatives: mining them and composing batches around them.

A relation model that trains with hard negatives keeps, per *anchor* item (an
item with at least one positive pair), the ``k`` items with another label set
(negative-only items, and the confusable items of other relation types) whose
pair embeddings lie closest to the anchor's under the current model (cosine
similarity of mean pair embeddings), refreshed at the start of each epoch
(``BiorelModel.on_epoch_start``; :func:`mine_by_label`). :func:`compose_batches` then lays each anchor
and its hard negatives side by side in one batch, so that a contrastive loss
sees them together; every item still appears exactly once per epoch.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch


def mine(anchor_vecs: torch.Tensor, negative_vecs: torch.Tensor, k: int) -> list[list[int]]:
    """Per anchor row, the indices of the ``k`` most similar negative rows
    (cosine similarity, highest first; ties by index)."""
    if k <= 0 or not len(anchor_vecs) or not len(negative_vecs):
        return [[] for _ in range(len(anchor_vecs))]
    a = torch.nn.functional.normalize(anchor_vecs.float(), dim=-1)
    n = torch.nn.functional.normalize(negative_vecs.float(), dim=-1)
    sim = a @ n.T
    top = torch.topk(sim, min(k, len(n)), dim=-1).indices
    return top.tolist()


def mine_by_label(vecs: torch.Tensor, labels: Sequence[frozenset], usable: Sequence[bool], k: int) -> dict[int, list[int]]:
    """``{anchor: hard negatives}``: every usable item with a non-empty label
    set is an anchor; its candidates are the usable items whose label set
    differs from its own (negative-only items and items of other relation
    types), of which the ``k`` most similar are kept."""
    groups: dict[int, list[int]] = {}
    anchors = [i for i, lab in enumerate(labels) if lab and usable[i]]
    for lab in sorted({labels[a] for a in anchors}, key=sorted):
        members = [a for a in anchors if labels[a] == lab]
        cands = [i for i, other in enumerate(labels) if usable[i] and other != lab]
        picked = mine(vecs[members], vecs[cands], k) if cands else [[] for _ in members]
        groups.update({a: [cands[j] for j in js] for a, js in zip(members, picked)})
    return groups


def batch_units(n_items: int, groups: dict[int, Sequence[int]], seed: int, epoch: int) -> list[list[int]]:
    """The units :func:`compose_batches` packs: each anchor (a key of
    ``groups``, in a seeded order) not placed yet followed by its hard
    negatives not placed yet (a hard negative may be another anchor), and
    every item left over alone; shuffled together (seeded), so anchors, their
    negatives and the rest are spread over the whole epoch (never a run of
    left-over negatives at its end). Every item is in exactly one unit."""
    rng = random.Random(seed * 1_000_003 + epoch)
    anchors = sorted(groups)
    rng.shuffle(anchors)
    placed: set[int] = set()
    units: list[list[int]] = []
    for a in anchors:
        unit = list(dict.fromkeys(i for i in [a, *groups[a]] if i not in placed))
        placed.update(unit)
        if unit:
            units.append(unit)
    units.extend([i] for i in range(n_items) if i not in placed)
    rng.shuffle(units)
    return units


def compose_batches(n_items: int, groups: dict[int, Sequence[int]], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Batches of item indices: the :func:`batch_units` packed in order into
    batches of ``batch_size`` items, never splitting a unit that fits in one
    batch (a larger one fills whole batches first)."""
    batches: list[list[int]] = []
    current: list[int] = []
    for unit in batch_units(n_items, groups, seed, epoch):
        if current and len(current) + len(unit) > batch_size:
            batches.append(current)
            current = []
        while len(unit) > batch_size:
            batches.append(unit[:batch_size])
            unit = unit[batch_size:]
        current.extend(unit)
    if current:
        batches.append(current)
    return batches


__all__ = ["mine", "mine_by_label", "batch_units", "compose_batches"]
