"""Copy-constrained decoding: the grammar read off the forms, the automaton over
one input (known answers), tokens as bytes, and the guarantee as properties:
whatever path is taken through the allowed tokens (random walks, and greedy or
beam search of random tiny language models), every argument name of the output
occurs in the input and every complete item parses."""

from __future__ import annotations

import random

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biorel.errors import BiorelError
from biorel.models.generative_decode import Choice, CopyAutomaton, CopyConstraint, Slot, build_grammar, token_table
from biorel.models.generative_testing import make_tiny_lm
from biorel.models.linearize import get_form, parse

TYPED = [("CID", "Chemical", "Disease"), ("CID", "Chemical", "Chemical")]
ABROAD = [("produces", "organism", "chemical")]
TEXT = "Famotidine-associated delirium. In this report we describe delirium induced by famotidine (5 mg)."


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = make_tiny_lm(tmp_path_factory.mktemp("lm"))
    return AutoModelForCausalLM.from_pretrained(str(folder)), AutoTokenizer.from_pretrained(str(folder))


@pytest.fixture(scope="module")
def table(lm):
    return token_table(lm[1])


def accepts(automaton: CopyAutomaton, text: str) -> bool:
    state = automaton.run(text.encode())
    return bool(state) and automaton.can_end(state)


def test_grammars_are_read_off_the_forms():
    g = build_grammar(get_form("abroad"), ABROAD)
    assert g.segments == (Slot(), Choice((b" produces ",)), Slot(), Choice((b"; ",)))
    assert b"produces" in g.reserved and b"; " in g.reserved and b"\n" in g.reserved
    g = build_grammar(get_form("typed"), TYPED)
    assert g.segments == (
        Slot(),
        Choice((b" @Chemical@ ",)),
        Slot(),
        Choice((b" @Chemical@ @CID@", b" @Disease@ @CID@")),
        Choice((b"; ",)),
    )
    assert b"@" in g.reserved
    with pytest.raises(BiorelError) as e:
        build_grammar(get_form("typed"), [])
    assert e.value.code == "E562"


@pytest.mark.parametrize(
    "output, ok",
    [
        ("", True),
        (" famotidine @Chemical@ delirium @Disease@ @CID@", True),
        ("Famotidine @Chemical@ delirium @Disease@ @CID@; famotidine (5 mg) @Chemical@ delirium @Disease@ @CID@", True),
        ("Famotidine-associated delirium @Chemical@ famotidine @Chemical@ @CID@", True),
        ("aspirin @Chemical@ delirium @Disease@ @CID@", False),  # not in the text
        ("famotid @Chemical@ delirium @Disease@ @CID@", False),  # ends inside a word
        ("amotidine @Chemical@ delirium @Disease@ @CID@", False),  # starts inside a word
        ("delirium. In @Chemical@ delirium @Disease@ @CID@", False),  # crosses the passage boundary
        ("famotidine @Chemical@ delirium @Disease@ @XYZ@", False),  # not a relation type
        ("famotidine @Chemical@ delirium @Disease@ @CID@;", False),  # incomplete
        ("famotidine @Chemical@ delirium @Disease@", False),
        ("  famotidine @Chemical@ delirium @Disease@ @CID@", False),  # one leading space at most
        ("Famotidine @Chemical@ Delirium @Disease@ @CID@", False),  # case differs
    ],
)
def test_automaton_known_answers(output, ok):
    g = build_grammar(get_form("typed"), TYPED)
    a = CopyAutomaton(g, TEXT, [(0, 31), (32, len(TEXT))])
    assert accepts(a, output) is ok


def test_ignore_case_and_reserved_words():
    g = build_grammar(get_form("abroad"), ABROAD)
    text = "Nuapapuin A and nuapapuin B from Diacarnus sp. overproduces X; or Y."
    strict, loose = CopyAutomaton(g, text), CopyAutomaton(g, text, ignore_case=True)
    assert not accepts(strict, "Diacarnus sp. produces Nuapapuin B")
    assert accepts(loose, "Diacarnus sp. produces Nuapapuin B") and accepts(loose, "diacarnus SP. produces nuapapuin a")
    for a in (strict, loose):
        assert accepts(a, "Diacarnus sp. produces Nuapapuin A")
        assert not accepts(a, "Diacarnus sp. produces sp. overproduces X")  # 'produces' inside a name
        assert not accepts(a, "Diacarnus sp. produces X; or Y")  # the separator inside a name
        assert not a.run(b"Diacarnus sp. produces sp. overproduce")  # a name that could never be closed


def test_the_token_table_reads_tokens_as_bytes(lm, table):
    _, tok = lm
    assert table.kind == "byte-level"
    assert table.data[tok.eos_token_id] is None and table.data[tok.pad_token_id] is None
    for text in (TEXT, " produces β-lactam; (3'-O-methyl) @Chemical@"):
        assert table.text(tok(text)["input_ids"]) == text
    assert any(d and d.startswith(b" ") and len(d) > 1 for d in table.data)  # leading-space tokens


def test_a_tokenizer_that_is_not_bytes_is_refused(tmp_path):
    from biorel.models.testing import make_tiny_tokenizer
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(make_tiny_tokenizer(tmp_path / "wp")))
    with pytest.raises(BiorelError) as e:
        token_table(tok, "word pieces")
    assert e.value.code == "E562" and "word pieces" in str(e.value)


def test_allowed_tokens_at_the_start(table):
    g = build_grammar(get_form("typed"), TYPED)
    a = CopyAutomaton(g, TEXT, [(0, 31), (32, len(TEXT))])
    allowed = {table.data[i] for i in a.allowed(a.start, table)}
    assert {b" ", b"F", b"f", b"(", b" delirium", b" describe"} <= allowed
    assert not any(d.strip().startswith((b"@", b";", b".", b"-", b")")) for d in allowed)
    assert all(TEXT.encode().find(d.strip()) >= 0 for d in allowed)  # prefixes of input words only
    assert not {b"amotidine", b" amot", b"elirium"} & allowed


words = st.sampled_from(["famotidine", "Delirium", "β-lactam", "(5", "mg)", "sp.", "rats,", "α", "produces", "@", ";", "3'-O", "X"])
texts = st.lists(words, min_size=0, max_size=14).map(" ".join)


def _names(output: str, form: str) -> tuple[list[str], list]:
    rels, skipped = parse(output, form)
    return [n for r in rels for n in (r.head, r.tail)], skipped


def _occurs(name: str, text: str, ignore_case: bool) -> bool:
    return name.lower() in text.lower() if ignore_case else name in text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts, second=texts, form=st.sampled_from(["typed", "abroad"]), ignore_case=st.booleans(), seed=st.integers(0, 10**6))
def test_random_walks_through_the_allowed_tokens_copy_the_input(table, text, second, form, ignore_case, seed):
    """Any sequence of allowed tokens ending where EOS is allowed is a valid
    output whose names occur in the input (one passage each)."""
    full = f"{text}. {second}"
    g = build_grammar(get_form(form), TYPED if form == "typed" else ABROAD)
    a = CopyAutomaton(g, full, [(0, len(text) + 1), (len(text) + 2, len(full))], ignore_case=ignore_case)
    rng = random.Random(seed)
    state, out = a.start, b""
    for _ in range(40):
        options = a.allowed(state, table)
        assert options or a.can_end(state)  # never a dead end
        if not options or (a.can_end(state) and rng.random() < 0.2):
            break
        piece = table.data[rng.choice(options)]
        out += piece
        state = a.run(piece, state)
        assert state
    if a.can_end(state):
        names, skipped = _names(out.decode(), form)
        assert not skipped
        pieces = (text + ".", second)
        assert all(any(_occurs(n, p, ignore_case) for p in pieces) for n in names)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts, seed=st.integers(0, 10**6), beams=st.sampled_from([1, 3]), form=st.sampled_from(["typed", "abroad"]))
def test_random_language_models_copy_the_input(lm, table, text, seed, beams, form):
    """Greedy and beam search of a tiny Llama with random weights, constrained:
    every argument name of the output is in the input; only a last item cut by
    the token limit may fail to parse."""
    model, tok = lm
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.3)
    g = build_grammar(get_form(form), TYPED if form == "typed" else ABROAD)
    prompt = tok(f"Text: {text}\nRelations:")["input_ids"]
    constraint = CopyConstraint(CopyAutomaton(g, text), table, tok.eos_token_id, len(prompt))
    ids = torch.tensor([prompt])
    out = model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=30,
        do_sample=False,
        num_beams=beams,
        logits_processor=[constraint],
        pad_token_id=tok.pad_token_id,
    )
    new = out[0, len(prompt) :].tolist()
    ended = tok.eos_token_id in new
    output = table.text(new[: new.index(tok.eos_token_id)] if ended else new)
    names, skipped = _names(output, form)
    assert all(n in text for n in names)
    assert not skipped or (not ended and [i for i, *_ in skipped] == [len(names) // 2])
    assert constraint.log.dead_ends == 0 and constraint.log.steps > 0
