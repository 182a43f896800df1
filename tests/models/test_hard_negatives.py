"""Hard negatives and the contrastive loss: known answers for the loss and the
mining, batch composition properties, and a bit-exact resume with mined
negatives (the mined groups travel in the checkpoint)."""

from __future__ import annotations

import json
import math
import random
import shutil

import torch
from hypothesis import given, settings, strategies as st

from biorel.config import Config
from biorel.models.heads import supcon_loss
from biorel.models.negatives import batch_units, compose_batches, mine, mine_by_label
from biorel.models.testing import CHEMICALS, DISEASES, make_tiny_tokenizer, tiny_encoder_config
from biorel.training import loop, train
from biorel.types import Document, Entity, Mention, Passage, Relation


def test_supcon_known_answer():
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    total, anchors = supcon_loss(z, torch.tensor([0, 0, 1]), temperature=1.0)
    # anchors 0 and 1: positive similarity 1, the other row 0: -(1 - log(e + 1)) each; row 2 has no positive
    assert anchors == 2 and math.isclose(float(total), 2 * (math.log(math.e + 1) - 1), rel_tol=1e-6)
    _, none = supcon_loss(z, torch.tensor([0, 1, 2]), temperature=0.1)
    assert none == 0


def test_mine_picks_the_closest_negatives():
    anchors = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    negatives = torch.tensor([[0.0, 1.0], [0.9, 0.1], [1.0, 1.0], [-1.0, 0.0]])
    assert mine(anchors, negatives, 2) == [[1, 2], [0, 2]]
    assert mine(anchors, negatives[:0], 2) == [[], []]


def test_mine_by_label_takes_negatives_and_confusable_types():
    # items 0, 1: type A; 2: type B; 3, 4: negatives; 5: no pairs (unusable)
    vecs = torch.tensor([[1.0, 0.0], [0.9, 0.2], [1.0, 0.05], [0.0, 1.0], [0.8, 0.3], [1.0, 0.0]])
    A, B, none = frozenset({0}), frozenset({1}), frozenset()
    labels = [A, A, B, none, none, none]
    usable = [True, True, True, True, True, False]
    groups = mine_by_label(vecs, labels, usable, 2)
    assert sorted(groups) == [0, 1, 2]  # every usable item with a label is an anchor
    assert groups[0] == [2, 4]  # the type-B item is its closest confusable, then a negative; never item 1 (same type) or 5
    assert groups[2][0] == 0 and set(groups[2]) <= {0, 1, 3, 4}
    assert mine_by_label(vecs, [A] * 6, [True] * 6, 3) == {i: [] for i in range(6)}  # nothing with another label
    batches = compose_batches(6, groups, 3, seed=0, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(6))  # a negative that is an anchor is placed once


def test_compose_batches_spreads_anchors_over_the_epoch():
    """Left-over items are shuffled in among the anchor groups: an epoch never
    ends on a run of left-over negatives (which taught the model to predict
    no relation at all)."""
    groups = {a: [20 + a] for a in range(20)}  # 20 anchors, one hard negative each; items 40..199 are left over
    for seed in range(5):
        batches = compose_batches(200, groups, 10, seed=seed, epoch=0)
        where = {i: b for b, batch in enumerate(batches) for i in batch}
        assert all(where[a] == where[20 + a] for a in groups)  # each anchor beside its negative
        last_anchor = max(where[a] for a in groups)
        assert last_anchor >= len(batches) - 4, (seed, last_anchor, len(batches))


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 30), st.integers(1, 6), st.integers(0, 3), st.integers(0, 5))
def test_compose_batches_uses_every_item_once(n, batch_size, k, seed):
    rng = random.Random(seed)
    anchors = rng.sample(range(n), rng.randint(0, n))
    others = [i for i in range(n) if i not in anchors]
    groups = {a: rng.sample(others, min(k, len(others))) for a in anchors}
    batches = compose_batches(n, groups, batch_size, seed, epoch=1)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(n)) and all(0 < len(b) <= batch_size for b in batches)
    where = {i: b for b, batch in enumerate(batches) for i in batch}
    units = batch_units(n, groups, seed, epoch=1)
    assert sorted(i for u in units for i in u) == list(range(n))  # a partition
    for unit in units:
        head, rest = unit[0], unit[1:]
        assert (head in groups and set(rest) <= set(groups[head])) or not rest  # an anchor and some of its negatives, or one item
        if len(unit) <= batch_size:  # a unit that fits is never split
            assert len({where[i] for i in unit}) == 1
    assert compose_batches(n, groups, batch_size, seed, 1) == batches  # a function of (seed, epoch)


def sentence_set(n: int, seed: int) -> list[Document]:
    """GAD-like sentences: one chemical and one disease; 'induced' states the
    relation ('1'), 'showed no' is a negative (a relation marked negative)."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        chem, dis = rng.choice(CHEMICALS), rng.choice(DISEASES)
        positive = rng.random() < 0.4
        text = f"{chem} induced {dis} in rats." if positive else f"{chem} showed no {dis} in rats."
        d0 = text.index(dis)
        mentions = [Mention("m0", ((0, len(chem)),), chem, "Chemical"), Mention("m1", ((d0, d0 + len(dis)),), dis, "Disease")]
        ents = [Entity("e0", "Chemical", ("m0",)), Entity("e1", "Disease", ("m1",))]
        rel = Relation("r0", "1" if positive else "0", "e0", "e1", infons={"negative": not positive})
        docs.append(Document(f"s{i}", [Passage(0, text)], mentions, ents, [rel]))
    return docs


def make_cfg(tok, out, **training):
    t = {
        "epochs": 3,
        "batch_size": 4,
        "lr": 1e-3,
        "head_lr": 3e-3,
        "output_dir": str(out),
        "progress": False,
        "log_every": 0,
        "seed": 5,
        "loss_weights": {"contrastive": 0.5},
    }
    t.update(training)
    model = {
        "architecture": "biorel.RelationClassifier.v1",
        "encoder": tiny_encoder_config(tok),
        "max_length": 32,
        "stride": 8,
        "hidden_dim": 16,
        "dropout": 0.1,
        "relation_types": ["1"],
        "hard_negatives": 2,
    }
    return Config.model_validate({"model": model, "training": t})


def test_hard_negatives_are_mined_and_resume_is_bit_exact(tmp_path, monkeypatch):
    tok = make_tiny_tokenizer(tmp_path / "tok")
    docs = sentence_set(16, seed=3)
    original = loop.save_training_state

    def snapshot(folder, model, opt, state):  # keep the state written after step 6 (mid-epoch 2)
        out = original(folder, model, opt, state)
        if state["global_step"] == 6:
            shutil.copytree(out, tmp_path / "snap")
        return out

    monkeypatch.setattr(loop, "save_training_state", snapshot)
    straight = train(make_cfg(tok, tmp_path / "s", checkpoint_every=6), train_docs=docs)
    monkeypatch.setattr(loop, "save_training_state", original)
    saved = json.loads((tmp_path / "snap" / "trainer_state.json").read_text())
    groups = saved["hooks"]["groups"]
    assert saved["hooks"]["epoch"] == 1 and groups  # mined at the start of epoch 2
    positives = {i for i, d in enumerate(docs) if not d.relations[0].infons["negative"]}
    assert {int(a) for a in groups} == positives
    assert all(len(js) == 2 and not set(js) & positives for js in groups.values())
    resumed = train(make_cfg(tok, tmp_path / "r", checkpoint_every=6), train_docs=docs, resume=tmp_path / "snap")
    assert resumed.global_step == straight.global_step
    from safetensors.torch import load_file

    wa = load_file(str(straight.output_dir / "last" / "model" / "model.safetensors"))
    wb = load_file(str(resumed.output_dir / "last" / "model" / "model.safetensors"))
    assert wa.keys() == wb.keys() and all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)
    assert all(h["train_loss"] > 0 for h in resumed.history)


def test_embed_gives_one_vector_and_label_per_pair(tmp_path):
    from biorel.evaluation.clustering import cluster_quality
    from biorel.models import build_model

    tok = make_tiny_tokenizer(tmp_path / "tok")
    docs = sentence_set(12, seed=4)
    model = build_model(make_cfg(tok, tmp_path / "x").model, docs)
    z, labels = model.embed(docs)
    assert z.shape == (len(docs) * 2, 16)  # undirected: both argument orders
    assert set(labels) <= {"1", "none"} and labels.count("1") == 2 * sum(not d.relations[0].infons["negative"] for d in docs)
    q = cluster_quality(z.numpy(), labels)
    assert -1.0 <= q.ari <= 1.0 and 0.0 <= q.nmi <= 1.0
