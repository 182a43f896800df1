"""The packaged SmolLM2-135M GGUF as the base of a generative model: dequantised
once into the biorel cache (``$BIOREL_CACHE/hf``; the first run builds it, about
a minute, later runs reuse it), loaded as a Hugging Face folder, and decoding
with the copy constraint on its byte-level tokenizer."""

from __future__ import annotations

import pytest

from biorel.errors import BiorelError
from biorel.models.linearize import parse
from biorel.models.testing import toy_corpus
from biorel.validate import check_document

pytestmark = pytest.mark.llm


@pytest.fixture(scope="module")
def gguf():
    from biorel.synth.models import resolve_llm

    try:
        return resolve_llm("smollm2-135m")
    except BiorelError as e:
        pytest.skip(str(e))


def test_smollm2_is_dequantised_once_and_generates(gguf):
    import torch

    from biorel.models import build_model
    from biorel.models.gguf_cache import SIDECAR, dequantised_folder, file_sha256

    torch.set_num_threads(1)
    folder, info = dequantised_folder("smollm2-135m")
    assert info["sha256"] == file_sha256(gguf) and (folder / SIDECAR).is_file() and (folder / "model.safetensors").is_file()
    mtime = (folder / "model.safetensors").stat().st_mtime_ns
    assert dequantised_folder("smollm2-135m")[0] == folder and (folder / "model.safetensors").stat().st_mtime_ns == mtime

    docs = toy_corpus(2)
    cfg = {"architecture": "biorel.GenerativeRE.v1", "base": "smollm2-135m", "max_new_tokens": 16, "lora": {"r": 2, "alpha": 4}}
    model = build_model(cfg, docs)
    assert model.base.folder == folder and model.base.fingerprint == "gguf-sha256:" + info["sha256"]
    tok = model.base.tokenizer
    assert tok.eos_token == "<|im_end|>" and tok("Hi")["input_ids"][0] != tok.bos_token_id  # the GGUF's special tokens
    assert model.token_table().kind == "byte-level"
    (pred,) = model.predict(docs[:1])
    assert check_document(pred) == []
    rels, _ = parse(pred.metadata["output"], "typed")
    assert all(name in docs[0].text for r in rels for name in (r.head, r.tail))
    assert pred.metadata["generation"]["new_tokens"] > 0
