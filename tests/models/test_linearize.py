"""Relations <-> text (biorel.models.linearize): known answers, round trips,
grounding back at offsets."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from biorel.models.linearize import TextRelation, ground, linearize, parse
from biorel.models.testing import toy_corpus
from biorel.registry import registry
from biorel.types import Document, Entity, Mention, Passage, Relation
from biorel.validate import check_document


def doc_with(relations) -> Document:
    text = "Cisplatin induced nephrotoxicity; lithium and seizures."
    mentions = [
        Mention("m0", ((0, 9),), "Cisplatin", "Chemical"),
        Mention("m1", ((18, 32),), "nephrotoxicity", "Disease"),
        Mention("m2", ((34, 41),), "lithium", "Chemical"),
        Mention("m3", ((46, 54),), "seizures", "Disease"),
    ]
    ents = [
        Entity("D1", "Chemical", ("m0",)),
        Entity("D2", "Disease", ("m1",), "renal toxicity"),
        Entity("D3", "Chemical", ("m2",)),
        Entity("D4", "Disease", ("m3",)),
    ]
    return Document("d", [Passage(0, text)], mentions, ents, relations)


def test_forms_are_registered():
    assert {"abroad", "typed"} <= set(registry.linearizations.choices())


def test_typed_form_known_answer():
    doc = doc_with([Relation("r0", "CID", "D1", "D2", directed=True), Relation("r1", "CID", "D3", "D4", directed=True)])
    text = linearize(doc, "typed")
    # names: the entity's name when it has one, else its first mention's text
    assert text == "Cisplatin @Chemical@ renal toxicity @Disease@ @CID@; lithium @Chemical@ seizures @Disease@ @CID@"
    rels, skipped = parse(text, "typed")
    assert skipped == []
    assert rels == [
        TextRelation("Cisplatin", "renal toxicity", "CID", "Chemical", "Disease"),
        TextRelation("lithium", "seizures", "CID", "Chemical", "Disease"),
    ]


def test_abroad_form_known_answer_and_skips():
    doc = doc_with([Relation("r0", "produces", "D1", "D3", directed=True)])
    assert linearize(doc, "abroad") == "Cisplatin produces lithium"
    rels, skipped = parse("A produces B; C; D produces E produces F", "abroad")
    assert [(r.head, r.tail) for r in rels] == [("A", "B")]
    assert skipped == [(1, "C", "no 'produces'"), (2, "D produces E produces F", "'produces' occurs 2 times")]
    assert parse("", "abroad") == ([], [])


def test_ground_puts_arguments_at_their_offsets_and_reports_the_rest():
    doc = doc_with([])
    rels = [
        TextRelation("cisplatin", "nephrotoxicity", "CID", "Chemical", "Disease"),
        TextRelation("aspirin", "seizures", "CID", "Chemical", "Disease"),
    ]
    out, ungrounded = ground(doc, rels)
    assert ungrounded == [rels[1]]  # 'aspirin' is not in the text: reported, not dropped silently
    assert check_document(out) == []
    assert [(m.spans, m.text, m.type) for m in out.mentions] == [(((0, 9),), "Cisplatin", "Chemical"), (((18, 32),), "nephrotoxicity", "Disease")]
    (r,) = out.relations
    ents = out.entity_index()
    assert (ents[r.head].name, ents[r.tail].name, r.type) == ("cisplatin", "nephrotoxicity", "CID")


NAME = (
    st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters=" -,()'"), min_size=1, max_size=20)
    .map(str.strip)
    .filter(lambda s: s and "produces" not in s and ";" not in s)
)
TYPE = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(NAME, NAME, TYPE, TYPE, TYPE), min_size=0, max_size=5))
def test_typed_round_trip(items):
    from biorel.models.linearize import TypedForm

    form = TypedForm()
    rels = [TextRelation(h, t, r, ht, tt) for h, t, r, ht, tt in items if "@" not in h + t]
    text = "; ".join(form.write(r) for r in rels)
    back, skipped = parse(text, form)
    assert skipped == [] and back == rels


def test_toy_corpus_round_trip_through_ground():
    for doc in toy_corpus(5):
        out, ungrounded = ground(doc, parse(linearize(doc, "typed"), "typed")[0])
        assert ungrounded == [] and check_document(out) == []
        assert sorted(linearize(out, "typed").lower().split("; ")) == sorted(linearize(doc, "typed").lower().split("; "))
