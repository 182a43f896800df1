"""Grammar-constrained sampling for llama-cpp-python, checked after sampling.

llama-cpp-python 0.3 puts the GBNF grammar sampler into the sampler chain, so at
every step the grammar is matched against the whole vocabulary (151,936 entries
for Qwen2.5) before a token is drawn: guided decoding ran at 9.9-11.0 tokens/s
where free decoding ran at 18.6 (BENCHMARKS.md). llama.cpp's own ``common``
sampler does it the other way round, and so does :class:`GrammarLastLlama`:

1. the candidates (all logits) go through the chain *without* the grammar
   (penalties, top-k, top-p, min-p, temperature, the seeded draw), which picks a
   token;
2. the grammar looks at that one token. If it allows it, it is taken;
3. only if not, the candidates are rebuilt from the logits, the grammar removes
   every token it does not allow, the chain runs again on what is left and draws
   from it;
4. the chain and the grammar both accept the token drawn.

For a pure "filter, then draw" chain this draws from exactly the distribution
of grammar-first sampling: a token t the grammar allows is taken with
probability P(t) directly, plus (1 - S) * P(t) / S through step 3, where S is
the allowed mass; that is P(t) / S. With top-k/top-p truncation the two differ
only in whether the truncation sees the disallowed tokens. Greedy decoding
(temperature 0) gives the same text both ways, which the tests check.

The grammar is checked on one token per step, and the full check runs only
where the grammar forces a choice the model did not make (the start of the
findings sentence once the free sentences are used up, a sentence end at the
length cap).
"""

from __future__ import annotations

import ctypes
from typing import Any


def grammar_last_llama_class() -> type:
    """A ``llama_cpp.Llama`` subclass that samples grammar-last (see the
    module). Built on demand: llama-cpp-python is an optional extra."""
    import llama_cpp
    from llama_cpp import _internals as internals
    from llama_cpp import llama_cpp as C

    class GrammarLastLlama(llama_cpp.Llama):
        _grammar_sampler: Any = None
        _grammar_cands: Any = None

        def _free_grammar(self) -> None:
            g, self._grammar_sampler = self._grammar_sampler, None
            if g:
                C.llama_sampler_free(g)

        def _init_sampler(self, *args: Any, grammar: Any = None, **kw: Any):
            # the chain without the grammar; the grammar as its own sampler
            self._free_grammar()
            chain = super()._init_sampler(*args, grammar=None, **kw)
            if grammar is not None:
                g = C.llama_sampler_init_grammar(self._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8"))
                if not g:
                    raise ValueError("llama.cpp could not build the grammar sampler")
                self._grammar_sampler = g
                if self._grammar_cands is None:
                    self._grammar_cands = internals.LlamaTokenDataArray(n_vocab=self._n_vocab)
            return chain

        def sample(self, *args: Any, idx: int | None = None, **kw: Any):
            g = self._grammar_sampler
            if g is None or self._sampler is None:
                return super().sample(*args, idx=idx, **kw)
            ridx = idx - self.n_tokens if idx is not None else -1
            ptr = C.llama_get_logits_ith(self._ctx.ctx, ridx)
            import numpy as np

            logits = np.ctypeslib.as_array(ptr, shape=(self._n_vocab,))
            cands = self._grammar_cands
            chain = self._sampler.sampler
            arr = ctypes.byref(cands.candidates)

            def draw(with_grammar: bool) -> int:
                cands.copy_logits(logits)
                cands.candidates.selected = -1
                if with_grammar:
                    C.llama_sampler_apply(g, arr)
                C.llama_sampler_apply(chain, arr)
                return int(cands.candidates_data.id[cands.candidates.selected])

            token = draw(False)
            one = (C.llama_token_data * 1)(C.llama_token_data(token, 1.0, 0.0))
            single = C.llama_token_data_array(data=ctypes.cast(one, C.llama_token_data_p), size=1, selected=-1, sorted=False)
            C.llama_sampler_apply(g, ctypes.byref(single))
            if not np.isfinite(one[0].logit):
                token = draw(True)
            C.llama_sampler_accept(g, token)
            C.llama_sampler_accept(chain, token)
            return token

        def close(self) -> None:
            self._free_grammar()
            super().close()

        def __del__(self) -> None:
            try:
                self._free_grammar()
            finally:
                parent = getattr(super(), "__del__", None)
                if parent is not None:
                    parent()

    return GrammarLastLlama
