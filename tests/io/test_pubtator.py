"""PubTator reader/writer: hand-computed answers, the real corpora's published
counts, byte-exact round trips and a round-trip property over generated documents."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biorel import io
from biorel.errors import BiorelError, Diagnostics
from biorel.io import pubtator
from biorel.types import Document, Mention, Passage, Relation

# ---- a small file whose answers are worked out by hand ----------------------

TITLE = "Famotidine-associated delirium and hemorrhagic cystitis."
ABSTRACT = "Famotidine and the GRIN1,GRIN2 genes."
SMALL = "\n".join(
    [
        f"8701013|t|{TITLE}",
        f"8701013|a|{ABSTRACT}",
        "8701013\t0\t10\tFamotidine\tChemical\tD015738",
        "8701013\t22\t30\tdelirium\tDisease\tD003693",
        "8701013\t35\t55\themorrhagic cystitis\tDisease\tD006470|D003556\themorrhagic|cystitis",
        "8701013\t57\t67\tFamotidine\tChemical\tD015738",
        "8701013\t76\t87\tGRIN1,GRIN2\tGene\t2902,2903",
        "8701013\t88\t93\tgenes\tGene\t-1",
        "8701013\tCID\tD015738\tD003693",
        "8701013\tAssociation\t2902\tD006470\tNovel",
        "",
        "",
    ]
)


def test_small_file_known_answers():
    (doc,) = pubtator.loads(SMALL)
    assert doc.id == "8701013"
    # title at 0; abstract at len(title) + 1 = 57
    assert [(p.offset, p.type) for p in doc.passages] == [(0, "title"), (57, "abstract")]
    assert doc.text == TITLE + " " + ABSTRACT
    assert [m.id for m in doc.mentions] == ["T0", "T1", "T2", "T3", "T4", "T5"]
    comp = doc.mentions[2]
    assert comp.concept_ids == ("D006470", "D003556") and comp.components == ("hemorrhagic", "cystitis")
    assert comp.is_composite and IDS_SEP not in comp.infons
    genes = doc.mentions[4]
    assert genes.concept_ids == ("2902", "2903") and genes.infons == {IDS_SEP: ","}
    assert doc.mentions[5].concept_ids == ("-1",) and doc.mentions[5].grounded_ids == ()
    ents = {e.id: e.mention_ids for e in doc.entities}
    assert ents == {
        "D015738": ("T0", "T3"),
        "D003693": ("T1",),
        "D006470": ("T2",),
        "D003556": ("T2",),
        "2902": ("T4",),
        "2903": ("T4",),
    }
    cid, assoc = doc.relations
    assert (cid.id, cid.type, cid.head, cid.tail, cid.level, cid.directed, cid.infons) == ("R0", "CID", "D015738", "D003693", "entity", True, {})
    assert (assoc.head, assoc.tail, assoc.directed, assoc.infons) == ("2902", "D006470", False, {"novel": "Novel"})
    assert pubtator.dumps([doc]) == SMALL.rstrip("\n") + "\n\n"


IDS_SEP = pubtator.IDS_SEPARATOR


@pytest.mark.parametrize(
    "column,mtype,ids,sep",
    [
        ("D001943|D010051", "Disease", ("D001943", "D010051"), "|"),
        ("D015862+D058499", "CompositeMention", ("D015862", "D058499"), "+"),
        ("20208,20210,6288", "GeneOrGeneProduct", ("20208", "20210", "6288"), ","),
        ("c|SUB|G|CODON1763|A", "SequenceVariant", ("c|SUB|G|CODON1763|A",), "|"),
        ("|DEL|46|S", "SequenceVariant", ("|DEL|46|S",), "|"),
        ("p|SUB|V|173|L", "Anything", ("p|SUB|V|173|L",), "|"),  # tmVar shape, whatever the type
        (" D007153", "Modifier", ("D007153",), "|"),
        ("-1", "Chemical", ("-1",), "|"),
        ("", "Chemical", (), "|"),
    ],
)
def test_split_ids(column, mtype, ids, sep):
    assert pubtator.split_ids(column, mtype) == (ids, sep)


def test_verbatim_ids_column_is_kept():
    text = "1|t|A rare disease.\n1\t7\t14\tdisease\tModifier\t D007153\n\n"
    (doc,) = pubtator.loads(text)
    m = doc.mentions[0]
    assert m.concept_ids == ("D007153",) and m.infons[pubtator.IDS_FIELD] == " D007153"
    assert pubtator.dumps([doc]) == text
    # once the ids change, the stale verbatim column is not written
    m.concept_ids = ("D000001",)
    assert "\tD000001\n" in pubtator.dumps([doc])


def test_five_column_mention_and_more_passage_types():
    text = "7|t|Title.\n7|x|Extra passage.\n7\t0\t5\tTitle\tThing\n\n"
    (doc,) = pubtator.loads(text)
    assert [p.type for p in doc.passages] == ["title", "x"] and doc.passages[1].offset == 7
    assert doc.mentions[0].concept_ids == () and doc.mentions[0].infons == {}
    assert doc.entities == []
    assert pubtator.dumps([doc]) == text


def test_crlf_gives_the_same_documents_as_lf(tmp_path):
    lf = tmp_path / "lf.pubtator"
    crlf = tmp_path / "crlf.pubtator"
    lf.write_bytes(SMALL.encode())
    crlf.write_bytes(SMALL.replace("\n", "\r\n").encode())
    assert b"\r\n" in crlf.read_bytes()
    diags = Diagnostics()
    assert pubtator.load(crlf, lenient=True, diagnostics=diags) == pubtator.load(lf)
    assert len(diags) == 0


def test_writer_still_refuses_what_no_rule_can_express():
    (doc,) = pubtator.loads(SMALL)
    doc.mentions[0].type = "Chem\tical"
    with pytest.raises(BiorelError, match="E124"):
        pubtator.dumps([doc])
    (doc,) = pubtator.loads(SMALL)
    doc.id = "a|b"
    with pytest.raises(BiorelError, match="E124"):
        pubtator.dumps([doc])


# ---- writing documents that are not in PubTator's layout (issue 12, class 5) ----


def test_untyped_passages_first_is_title_rest_joined_as_abstract():
    # BioC-like: three untyped passages with gaps; line breaks inside a passage
    doc = Document("d", [Passage(0, "Title here."), Passage(20, "First\nparagraph."), Passage(50, "Second.")])
    t = doc.text
    doc.mentions = [
        Mention("a", ((t.index("paragraph"), t.index("paragraph") + 9),), "paragraph", "Thing", ("X1",)),
        Mention("b", ((50, 56),), "Second", "Thing", ("X2",)),
    ]
    doc.entities = doc.entities_from_mentions()
    doc.relations = [Relation("R0", "Rel", "X1", "X2")]
    text = pubtator.dumps([doc])
    # title at 0, abstract at 12 = len(title) + 1; passage 3 at 12 + len(passage 2) + 1 = 29
    assert text == (
        "d|t|Title here.\nd|a|First paragraph. Second.\nd\t18\t27\tparagraph\tThing\tX1\nd\t29\t35\tSecond\tThing\tX2\nd\tRel\tX1\tX2\n\n"
    )
    (back,) = pubtator.loads(text)
    assert [(p.offset, p.type) for p in back.passages] == [(0, "title"), (12, "abstract")]
    assert [(r.type, r.head, r.tail) for r in back.relations] == [("Rel", "X1", "X2")]


def test_raw_text_and_brat_documents_write_and_read_back(tmp_path):
    from biorel.io import brat

    (raw,) = io.load(_write(tmp_path / "notes.txt", "Aspirin helps.\nSecond line.\n"), split="file")  # the whole file, byte-exact
    assert pubtator.dumps([raw]) == "notes|t|Aspirin helps. Second line. \n\n"
    ann = "T1\tDrug 0 7\tAspirin\nT2\tDrug 15 21;22 26\tSecond line\nR1\tint Arg1:T1 Arg2:T2\n"
    (doc,) = brat.loads(ann, text="Aspirin helps.\nSecond line.\n", doc_id="b1")
    out = tmp_path / "b.pubtator"
    io.write([doc], out)
    # one line per piece of the discontinuous T2; a mention in no entity stands for itself (its id is its concept id)
    assert out.read_text() == (
        "b1|t|Aspirin helps. Second line. \n"
        "b1\t0\t7\tAspirin\tDrug\tT1\n"
        "b1\t15\t21\tSecond\tDrug\tT2\n"
        "b1\t22\t26\tline\tDrug\tT2\n"
        "b1\tint\tT1\tT2\n\n"
    )
    (back,) = io.load(out)
    assert [(r.head, r.tail, r.level) for r in back.relations] == [("T1", "T2", "entity")]


def _write(path, text):
    path.write_text(text)
    return path


def test_detection_by_extension_and_sniffing(tmp_path):
    pt = tmp_path / "NCBIsmall_corpus.txt"
    pt.write_text(SMALL)
    plain = tmp_path / "notes.txt"
    plain.write_text("Just some text | with a bar.\nSecond line.\n")
    for name in ("a.PubTator", "a.pubtator", "CDR_TestSet.PubTator.txt", "b.PUBTATOR.TXT"):
        assert io.detect_format(tmp_path / name).name == "pubtator"
    assert io.detect_format(pt).name == "pubtator"
    assert io.detect_format(plain).name == "text"
    assert len(io.load(pt)) == 1


# ---- real corpora -----------------------------------------------------------


def _counts(docs: list[Document]) -> tuple[int, int, int]:
    return len(docs), sum(len(d.mentions) for d in docs), sum(len(d.relations) for d in docs)


@pytest.mark.realdata
def test_biored_test_counts_and_round_trip(mirror):
    path = mirror / "biored" / "Test.PubTator"
    docs = pubtator.load(path)  # strict: every relation argument resolves
    assert _counts(docs) == (100, 3535, 1163)
    assert Counter(r.infons["novel"] for d in docs for r in d.relations) == {"Novel": 859, "No": 304}
    assert all(not r.directed for d in docs for r in d.relations)
    # gene lists are ','-joined and kept so; variant ids keep their '|'
    commas = [m for d in docs for m in d.mentions if m.infons.get(IDS_SEP) == ","]
    assert len(commas) == 85 and all(len(m.concept_ids) >= 2 for m in commas)
    variants = [m for d in docs for m in d.mentions if m.type == "SequenceVariant" and "|" in m.concept_ids[0]]
    assert variants and all(len(m.concept_ids) == 1 for m in variants)
    # the one relation naming a whole '|' composite resolves to its own entity
    whole = [(d.id, e.id) for d in docs for e in d.entities if pubtator.COMPOSITE_OF in e.infons]
    assert whole == [("16428827", "D007859|D008569")]
    src = path.read_text(encoding="utf-8")
    assert pubtator.dumps(docs).rstrip("\n") == src.rstrip("\n")


@pytest.mark.realdata
def test_bc5cdr_test_counts_composites_and_byte_identical_round_trip(mirror, tmp_path):
    path = mirror / "bc5cdr" / "CDR_TestSet.PubTator.txt"
    assert io.detect_format(path).name == "pubtator"
    docs = list(io.read(path))
    assert _counts(docs) == (500, 9809, 1066)
    assert {r.type for d in docs for r in d.relations} == {"CID"}
    assert Counter(m.type for d in docs for m in d.mentions) == {"Chemical": 5385, "Disease": 4424}
    # composite mentions: 75 with several ids, 57 of them with their 7th column
    comp = [m for d in docs for m in d.mentions if m.is_composite]
    assert len(comp) == 75 and sum(1 for m in comp if m.components) == 57
    by_text = {(m.text, m.components) for m in comp}
    assert ("end-stage or malignant liver disease", ("end-stage liver disease", "malignant liver disease")) in by_text
    doc = next(d for d in docs if d.id == "24100055")
    m = next(m for m in doc.mentions if m.text == "end-stage or malignant liver disease")
    assert m.concept_ids == ("D058625", "D017114") and m.spans == ((914, 950),)
    ents = doc.entity_index()
    assert m.id in ents["D058625"].mention_ids and m.id in ents["D017114"].mention_ids
    out = tmp_path / "out.PubTator.txt"
    assert io.write(docs, out) == 500
    assert out.read_bytes().rstrip(b"\n") == path.read_bytes().rstrip(b"\n")


NCBI = {
    "NCBIdevelopset_corpus.txt": (100, 787),
    "NCBItestset_corpus.txt": (100, 960),
    "NCBItrainset_corpus.txt": (593, 5145),
}


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(NCBI))
def test_ncbi_disease_counts(mirror, name):
    path = mirror / "ncbi_disease" / name
    assert io.detect_format(path).name == "pubtator"
    raw = pubtator.load(path, validate=False)
    assert (len(raw), sum(len(d.mentions) for d in raw)) == NCBI[name]
    assert Counter(m.type for d in raw for m in d.mentions).keys() <= {"SpecificDisease", "DiseaseClass", "Modifier", "CompositeMention"}
    assert pubtator.dumps(raw).strip("\n") == path.read_text(encoding="utf-8").strip("\n")
    if name != "NCBItrainset_corpus.txt":
        assert pubtator.load(path) == raw


@pytest.mark.realdata
def test_ncbi_train_quirks_are_located(mirror, tmp_path):
    path = mirror / "ncbi_disease" / "NCBItrainset_corpus.txt"
    with pytest.raises(BiorelError) as e:
        pubtator.load(path)
    assert (e.value.code, e.value.where.file, e.value.where.line) == ("E010", str(path), 3249)
    assert "generalized epilepsy" in str(e.value)
    diags = Diagnostics()
    docs = pubtator.load(path, lenient=True, diagnostics=diags)
    assert sorted((p.code, p.where.line) for p in diags) == [("E010", 3249), ("E016", 4557)]
    assert "8528200" in next(p.message for p in diags if p.code == "E016")
    # 592 unique PMIDs; the duplicate's 11 mentions and the drifting one are gone
    assert (len(docs), sum(len(d.mentions) for d in docs)) == (592, 5145 - 11 - 1)
    # without the drifting line, strict reading stops at the duplicate (one line earlier now)
    lines = path.read_text(encoding="utf-8").split("\n")
    del lines[3249 - 1]
    fixed = tmp_path / "train.txt"
    fixed.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(BiorelError) as e:
        pubtator.load(fixed)
    assert (e.value.code, e.value.where.line) == ("E016", 4556)


# ---- property: Document -> PubTator -> Document ------------------------------

TEXT = st.text(alphabet="abcXYZ 019-().,|;+/é", max_size=60)
CONCEPTS = ["D001", "D002", "C123", "9606", "-1"]


@st.composite
def pubtator_documents(draw) -> Document:
    pmid = draw(st.from_regex(r"[1-9][0-9]{0,7}", fullmatch=True))
    title = draw(TEXT.filter(lambda s: s.strip()))
    passages = [Passage(0, title, "title")]
    if draw(st.booleans()):
        passages.append(Passage(len(title) + 1, draw(TEXT), "abstract"))
    doc = Document(pmid, passages)
    usable = [p for p in passages if p.text]
    for i in range(draw(st.integers(0, 6))):
        p = draw(st.sampled_from(usable))
        s = draw(st.integers(0, len(p.text) - 1))
        e = draw(st.integers(s + 1, len(p.text)))
        ids = tuple(draw(st.lists(st.sampled_from(CONCEPTS), max_size=3)))
        infons = {}
        if len(ids) > 1:
            sep = draw(st.sampled_from(pubtator.ID_SEPARATORS))
            if sep != "|":
                infons[IDS_SEP] = sep
        comps = tuple(draw(st.lists(st.text(alphabet="abc -", min_size=1, max_size=8), max_size=3))) if ids else ()
        mtype = draw(st.sampled_from(["Chemical", "Disease", "Gene"]))
        doc.mentions.append(Mention(f"T{i}", ((p.offset + s, p.offset + e),), doc.text[p.offset + s : p.offset + e], mtype, ids, comps, infons))
    doc.entities = doc.entities_from_mentions()
    ent_ids = [ent.id for ent in doc.entities]
    if ent_ids:
        for i in range(draw(st.integers(0, 4))):
            rtype = draw(st.sampled_from(["CID", "Association", "Bind"]))
            infons = {"novel": draw(st.sampled_from(["Novel", "No"]))} if draw(st.booleans()) else {}
            head, tail = draw(st.sampled_from(ent_ids)), draw(st.sampled_from(ent_ids))
            doc.relations.append(Relation(f"R{i}", rtype, head, tail, directed=rtype == "CID", infons=infons))
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pubtator_documents(), min_size=1, max_size=3, unique_by=lambda d: d.id))
def test_property_documents_round_trip_through_pubtator(docs):
    text = pubtator.dumps(docs)
    assert pubtator.loads(text) == docs
    assert pubtator.dumps(pubtator.loads(text)) == text
    assert pubtator.loads(text.replace("\n", "\r\n")) == docs


def test_empty_ids_column_round_trips():
    text = "5|t|Some title.\n5\t0\t4\tSome\tThing\t\n\n"
    (doc,) = pubtator.loads(text)
    assert doc.mentions[0].concept_ids == () and doc.mentions[0].infons == {pubtator.IDS_FIELD: ""}
    assert pubtator.dumps([doc]) == text
    doc.mentions[0].components = ("a|b",)
    doc.mentions[0].concept_ids = ("D1",)
    with pytest.raises(BiorelError, match="components separator"):
        pubtator.dumps([doc])
