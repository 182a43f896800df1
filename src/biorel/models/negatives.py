"""Hard negatives: mining them and composing batches around them.

A relation model that trains with hard negatives keeps, per *anchor* item (an
item with at least one positive pair), the ``k`` negative-only items whose pair
embeddings lie closest to the anchor's under the current model (cosine
similarity of mean pair embeddings), refreshed at the start of each epoch
(``BiorelModel.on_epoch_start``). :func:`compose_batches` then lays each anchor
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


def compose_batches(n_items: int, groups: dict[int, Sequence[int]], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Batches of item indices: each anchor (a key of ``groups``) followed by
    its hard negatives not already placed, anchors in a seeded order, then the
    items not placed yet in a seeded order; groups are packed into batches of
    ``batch_size`` items without splitting a group that fits in one batch."""
    rng = random.Random(seed * 1_000_003 + epoch)
    anchors = sorted(groups)
    rng.shuffle(anchors)
    placed: set[int] = set()
    units: list[list[int]] = []
    for a in anchors:
        unit = [a] + [i for i in groups[a] if i not in placed and i != a and i not in groups]
        unit = list(dict.fromkeys(unit))
        placed.update(unit)
        units.append(unit)
    rest = [i for i in range(n_items) if i not in placed]
    rng.shuffle(rest)
    units.extend([i] for i in rest)
    batches: list[list[int]] = []
    current: list[int] = []
    for unit in units:
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


__all__ = ["mine", "compose_batches"]
