"""The vectorised entity pooling equals the definition (log-sum-exp over
mentions of each mention's token mean), values and gradients."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel.models.heads import pool_entities


def _by_definition(tokens, entities):
    return torch.stack([torch.logsumexp(torch.stack([tokens[i:j].mean(0) for i, j in ranges]), 0) for ranges in entities])


@st.composite
def _case(draw):
    n = draw(st.integers(1, 30))
    span = st.integers(0, n - 1).flatmap(lambda i: st.tuples(st.just(i), st.integers(i + 1, n)))
    entities = draw(st.lists(st.lists(span, min_size=1, max_size=4), min_size=1, max_size=6))
    seed = draw(st.integers(0, 2**16))
    return n, entities, seed


@settings(max_examples=60, deadline=None)
@given(_case())
def test_matches_the_definition(case):
    n, entities, seed = case
    tokens = torch.randn(n, 8, generator=torch.Generator().manual_seed(seed), requires_grad=True)
    got, want = pool_entities(tokens, entities), _by_definition(tokens, entities)
    assert torch.allclose(got, want, atol=1e-5)
    g_got, g_want = (torch.autograd.grad(x.sum(), tokens)[0] for x in (got, want))
    assert torch.allclose(g_got, g_want, atol=1e-5)


def test_no_entities():
    assert pool_entities(torch.randn(4, 8), []).shape == (0, 8)
