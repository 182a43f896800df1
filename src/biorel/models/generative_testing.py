"""Tiny offline language models for the tests of generative architectures: a
byte-level BPE tokenizer trained in memory on the toy corpus (leading-space
tokens, as GPT-2, SmolLM2 and Qwen have) and a randomly initialised 2-layer
Llama (or BART, for the seq2seq path) saved as a model folder. Nothing here
touches the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .testing import CHEMICALS, DISEASES, long_document, toy_corpus

EOS = "<|endoftext|>"
PAD = "<pad>"
#: a chat template for the tiny tokenizer: each turn ends with EOS, as in ChatML ("<|im_end|>")
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}" + EOS + "\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}"
)


def _training_texts() -> list[str]:
    docs = toy_corpus(12, seed=7)
    words = " ".join(CHEMICALS + DISEASES)
    typed = [f" {c} @Chemical@ {d} @Disease@ @CID@; " for c, d in zip(CHEMICALS, DISEASES)]
    return [d.text for d in docs] + [long_document(n_sentences=20).text, words, *typed, " produces β-lactam 5α (3'-O-methyl)."]


def make_tiny_bpe_tokenizer(folder: str | Path, vocab_size: int = 420, chat_template: str | None = CHAT_TEMPLATE) -> Path:
    """Train a byte-level BPE tokenizer on the toy corpus and save it (fast
    tokenizer files, with ``chat_template`` unless it is ``None``) to ``folder``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=[EOS, PAD], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(_training_texts(), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=PAD, bos_token=EOS, clean_up_tokenization_spaces=False)
    fast.chat_template = chat_template
    folder = Path(folder)
    fast.save_pretrained(str(folder))
    return folder


def make_tiny_lm(folder: str | Path, *, seed: int = 0, seq2seq: bool = False, chat_template: str | None = CHAT_TEMPLATE, **overrides: Any) -> Path:
    """A random tiny decoder-only Llama (``seq2seq``: a tiny BART) with the tiny
    BPE tokenizer, saved to ``folder`` in safetensors. Weights are drawn with a
    standard deviation of 0.3 (``initializer_range``): with the usual 0.02 the
    frozen tied embeddings of so small a model cap every logit near 0.6, and
    adapters alone cannot learn anything. ``chat_template``: the tokenizer's
    (``None``: it has none)."""
    import torch
    from transformers import AutoTokenizer, BartConfig, BartForConditionalGeneration, LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    make_tiny_bpe_tokenizer(folder, chat_template=chat_template)
    tok = AutoTokenizer.from_pretrained(str(folder))
    ids = dict(vocab_size=len(tok), eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id)
    torch.manual_seed(seed)
    if seq2seq:
        size = dict(d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2)
        conf = BartConfig(
            **ids, **size, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=1024, decoder_start_token_id=tok.eos_token_id, init_std=0.3
        )
        conf.update(overrides)
        model = BartForConditionalGeneration(conf)
    else:
        size = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2)
        conf = LlamaConfig(**ids, **size, max_position_embeddings=2048, tie_word_embeddings=True, initializer_range=0.3)
        conf.update(overrides)
        model = LlamaForCausalLM(conf)
    model.save_pretrained(str(folder), safe_serialization=True)
    return folder


def tiny_generative_config(lm_folder: str | Path, **model: Any) -> dict[str, Any]:
    """A ``[model]`` section of ``biorel.GenerativeRE.v1`` over a tiny LM folder."""
    cfg: dict[str, Any] = {
        "architecture": "biorel.GenerativeRE.v1",
        "base": str(lm_folder),
        "form": "typed",
        "max_length": 96,
        "max_new_tokens": 24,
        "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]},
    }
    cfg.update(model)
    return cfg


__all__ = ["CHAT_TEMPLATE", "make_tiny_bpe_tokenizer", "make_tiny_lm", "tiny_generative_config"]
