"""Vocabulary extension: chosen words, new embeddings = mean of the old pieces, round trip."""

from __future__ import annotations

import pytest
import torch

from biorel.errors import BiorelError
from biorel.models.encoder import load_tokenizer
from biorel.models.testing import make_tiny_tokenizer, tiny_encoder_config
from biorel.pretrain.config import VocabSection
from biorel.pretrain.vocab import extend_vocabulary

TEXTS = ["Zyxolol-induced quxemia in elderly rats treated with zyxolol.", "The zyxolol doses caused quxemia; zyxolol again."] * 15
HELD_OUT = ["Zyxolol caused quxemia in rats.", "Famotidine-associated delirium."]


def tiny_mlm(tmp_path):
    from transformers import AutoConfig, AutoModelForMaskedLM

    folder = make_tiny_tokenizer(tmp_path / "tok")
    conf = dict(tiny_encoder_config(folder)["random_init"])
    torch.manual_seed(0)
    model = AutoModelForMaskedLM.from_config(AutoConfig.for_model(conf.pop("model_type"), **conf))
    return model, load_tokenizer(str(folder))


def test_new_embeddings_are_the_mean_of_their_old_pieces(tmp_path):
    model, tok = tiny_mlm(tmp_path)
    old_pieces = {w: tok(w, add_special_tokens=False)["input_ids"] for w in ("zyxolol", "quxemia")}
    emb = model.get_input_embeddings().weight.detach().clone()
    bias = model.get_output_embeddings().bias.detach().clone()
    n_before = len(tok)
    report = extend_vocabulary(model, tok, TEXTS, HELD_OUT, VocabSection(add_tokens=2, min_count=10), "tiny")
    assert [t.token for t in report.added] == ["zyxolol", "quxemia"]  # most pieces saved first
    assert len(tok) == n_before + 2 and model.get_input_embeddings().weight.shape[0] == n_before + 2
    for t in report.added:
        assert t.piece_ids == old_pieces[t.token] and len(t.piece_ids) >= 2
        assert tok(t.token, add_special_tokens=False)["input_ids"] == [t.id]
        assert torch.allclose(model.get_input_embeddings().weight[t.id], emb[t.piece_ids].mean(0))
        assert torch.allclose(model.get_output_embeddings().bias[t.id], bias[t.piece_ids].mean())
    assert torch.equal(model.get_input_embeddings().weight[:n_before], emb)  # old rows untouched
    assert tok("zyxolols", add_special_tokens=False)["input_ids"][0] == report.added[0].id  # a word piece, not a whole-word token
    assert report.tokens_per_doc_after < report.tokens_per_doc_before and 0 < report.saved_share < 1


def test_extended_tokenizer_and_model_round_trip(tmp_path):
    from transformers import AutoModelForMaskedLM

    model, tok = tiny_mlm(tmp_path)
    report = extend_vocabulary(model, tok, TEXTS, HELD_OUT, VocabSection(add_tokens=1, min_count=10), "tiny")
    model.save_pretrained(tmp_path / "saved")
    tok.save_pretrained(tmp_path / "saved")
    tok2 = load_tokenizer(str(tmp_path / "saved"))
    model2 = AutoModelForMaskedLM.from_pretrained(tmp_path / "saved", local_files_only=True)
    new = report.added[0]
    assert tok2("zyxolol quxemia", add_special_tokens=False)["input_ids"] == tok("zyxolol quxemia", add_special_tokens=False)["input_ids"]
    assert torch.equal(model2.get_input_embeddings().weight[new.id], model.get_input_embeddings().weight[new.id])
    assert (tmp_path / "saved" / "vocab.txt").read_text("utf-8").splitlines()[new.id] == "zyxolol"


def test_rare_known_and_short_words_are_not_added(tmp_path):
    model, tok = tiny_mlm(tmp_path)
    report = extend_vocabulary(model, tok, TEXTS[:4], HELD_OUT, VocabSection(add_tokens=5, min_count=5, min_chars=4), "tiny")
    assert [t.token for t in report.added] == ["zyxolol"]  # quxemia: 4 times; rats, elderly, treated: in the vocabulary
    report = extend_vocabulary(model, tok, TEXTS[:4], HELD_OUT, VocabSection(add_tokens=5, min_count=1, min_chars=8), "tiny")
    assert report.added == []  # every other word is shorter than 8 characters or known


def test_only_wordpiece_vocabularies_are_extended(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(vocab={"a": 0, "b": 1, "<unk>": 2}, merges=[], unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>")
    model, _ = tiny_mlm(tmp_path)
    with pytest.raises(BiorelError) as e:
        extend_vocabulary(model, tok, ["ab ab"], [], VocabSection(add_tokens=1), "bpe-model")
    assert e.value.code == "E583" and "WordPiece" in str(e.value) and "BPE" in str(e.value)
