"""Length-sorted look-ahead batching (biorel.models.streaming)."""

from hypothesis import given
from hypothesis import strategies as st

from biorel.models.streaming import batches_by_tokens, predict_pools, sorted_batches
from biorel.types import Document, Passage


def _docs(lengths):
    return [Document(f"d{i}", [Passage(0, "x" * n)]) for i, n in enumerate(lengths)]


def _cost(doc):
    return len(doc.text)


@given(st.lists(st.integers(1, 60), max_size=40), st.integers(1, 80), st.integers(1, 5))
def test_pools_keep_input_order_and_each_document_once(lengths, budget, pool_factor):
    docs = _docs(lengths)
    seen_batches = []

    def predict(batch):
        seen_batches.append([d.id for d in batch])
        return [Document(d.id + "-pred", list(d.passages)) for d in batch]

    out = [pair for pool in predict_pools(predict, docs, _cost, batch_tokens=budget, pool_tokens=budget * pool_factor) for pair in pool]
    assert [d.id for d, _ in out] == [d.id for d in docs]
    assert all(p.id == d.id + "-pred" for d, p in out)
    assert sorted(i for b in seen_batches for i in b) == sorted(d.id for d in docs)
    by_id = {d.id: _cost(d) for d in docs}
    for b in seen_batches:  # a batch fits the budget unless it is one document
        assert len(b) == 1 or sum(by_id[i] for i in b) <= budget


def test_sorted_batches_known_answer():
    # costs 5, 1, 4, 1, 3 with budget 5: cheapest first (ties in input order), then cut
    assert sorted_batches([5, 1, 4, 1, 3], 5) == [[1, 3, 4], [2], [0]]
    assert sorted_batches([], 5) == []
    assert sorted_batches([9], 5) == [[0]]  # over budget: alone


def test_pool_equal_to_batch_is_plain_batching():
    docs = _docs([30, 5, 20, 10, 40])
    plain = [[d.id for d in b] for b in batches_by_tokens(docs, _cost, 40)]
    seen = []

    def predict(batch):
        seen.append([d.id for d in batch])
        return batch

    list(predict_pools(predict, docs, _cost, batch_tokens=40, pool_tokens=40))
    # one pool per plain batch; inside it the order is by cost
    assert [sorted(b) for b in seen] == [sorted(b) for b in plain]
    assert plain == [["d0", "d1"], ["d2", "d3"], ["d4"]]
