"""BioC XML / BioC JSON: mapping rules on hand-built collections, malformed
input (strict and lenient), lossless round trips (examples and hypothesis)."""

from __future__ import annotations

import io as _io
import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biorel import io
from biorel.errors import BiorelError, Diagnostics, FormatError
from biorel.io.bioc import json as bjson
from biorel.io.bioc import xml as bxml
from biorel.io.bioc.mapping import ID_KEYS
from biorel.types import Document, Entity, Mention, Passage, Relation

# ---------------------------------------------------------------------------
# a hand-written collection and the documents it must give (offsets counted by hand)
# ---------------------------------------------------------------------------

TITLE1 = "Cisplatin-induced renal and liver injury."  # renal 18-23, liver 28-33, injury 34-40
ABSTRACT1 = "Cisplatin caused nephrotoxicity."  # at 42: Cisplatin 42-51, nephrotoxicity 59-73
TEXT2 = "BRCA1 and BRCA2 mutations in breast cancer."  # BRCA1 and BRCA2 0-15, breast cancer 29-42

XML = f"""<?xml version='1.0' encoding='UTF-8'?>
<!DOCTYPE collection SYSTEM 'BioC.dtd'>
<collection>
<source>PubTator</source><date>2024-01-01</date><key>toy.key</key><infon key="corpus">toy</infon>
<document><id>1</id><infon key="journal">J Tox</infon>
<passage><infon key="type">title</infon><offset>0</offset><text>{TITLE1}</text>
<annotation id="0"><infon key="type">Chemical</infon><infon key="MESH">D002945</infon><location offset="0" length="9"/><text>Cisplatin</text></annotation>
<annotation id="1"><infon key="type">Disease</infon><infon key="CompositeRole">CompositeMention</infon><infon key="MESH">D007674|D056486</infon><location offset="18" length="22"/><text>renal and liver injury</text></annotation>
<annotation id="2"><infon key="type">Disease</infon><infon key="CompositeRole">IndividualMention</infon><infon key="MESH">D007674</infon><location offset="18" length="5"/><location offset="34" length="6"/><text>renal injury</text></annotation>
<annotation id="3"><infon key="type">Disease</infon><infon key="CompositeRole">IndividualMention</infon><infon key="MESH">D056486</infon><location offset="28" length="12"/><text>liver injury</text></annotation>
</passage>
<passage><infon key="type">abstract</infon><offset>42</offset><text>{ABSTRACT1}</text>
<annotation id="4"><infon key="type">Chemical</infon><infon key="MESH">D002945</infon><location offset="42" length="9"/><text>Cisplatin</text></annotation>
<annotation id="5"><infon key="type">Disease</infon><infon key="MESH">D007674</infon><location offset="59" length="14"/><text>nephrotoxicity</text></annotation>
</passage>
<relation id="R0"><infon key="relation">CID</infon><infon key="Chemical">D002945</infon><infon key="Disease">D007674</infon></relation>
</document>
<document><id>2</id>
<passage><offset>0</offset><text>{TEXT2}</text>
<annotation id="0"><infon key="identifier">672,675</infon><infon key="type">Gene</infon><location offset="0" length="15"/><text>BRCA1 and BRCA2</text></annotation>
<annotation id="1"><infon key="identifier">D001943</infon><infon key="type">Disease</infon><location offset="29" length="13"/><text>breast cancer</text></annotation>
</passage>
<relation id="R0"><infon key="entity1">672</infon><infon key="entity2">D001943</infon><infon key="type">Association</infon><infon key="novel">Novel</infon></relation>
<relation id="R1"><infon key="type">assoc</infon><node refid="0" role="Gene"/><node refid="1" role="Disease"/></relation>
</document>
</collection>
"""

COLLECTION = {"source": "PubTator", "date": "2024-01-01", "key": "toy.key", "infons": {"corpus": "toy"}}


def expected_docs() -> list[Document]:
    d1 = Document(
        "1",
        passages=[Passage(0, TITLE1, "title"), Passage(42, ABSTRACT1, "abstract")],
        mentions=[
            Mention("0", ((0, 9),), "Cisplatin", "Chemical", ("D002945",)),
            Mention("1", ((18, 40),), "renal and liver injury", "Disease", ("D007674", "D056486"), infons={"CompositeRole": "CompositeMention"}),
            Mention("2", ((18, 23), (34, 40)), "renal injury", "Disease", ("D007674",), infons={"CompositeRole": "IndividualMention"}),
            Mention("3", ((28, 40),), "liver injury", "Disease", ("D056486",), infons={"CompositeRole": "IndividualMention"}),
            Mention("4", ((42, 51),), "Cisplatin", "Chemical", ("D002945",)),
            Mention("5", ((59, 73),), "nephrotoxicity", "Disease", ("D007674",)),
        ],
        entities=[
            Entity("D002945", "Chemical", ("0", "4")),
            Entity("D007674", "Disease", ("1", "2", "5")),
            Entity("D056486", "Disease", ("1", "3")),
        ],
        # BC5CDR's relation: type from infon 'relation', arguments keyed by mention type (kept for writing back)
        relations=[Relation("R0", "CID", "D002945", "D007674", infons={"bioc.type_key": "relation", "bioc.roles": ["Chemical", "Disease"]})],
        metadata={"journal": "J Tox", "bioc.collection": COLLECTION},
    )
    d2 = Document(
        "2",
        passages=[Passage(0, TEXT2)],
        mentions=[
            # the ',' of the identifier is recorded: the PubTator writer joins with it (BioRED)
            Mention("0", ((0, 15),), "BRCA1 and BRCA2", "Gene", ("672", "675"), infons={"pubtator.ids_separator": ","}),
            Mention("1", ((29, 42),), "breast cancer", "Disease", ("D001943",)),
        ],
        entities=[Entity("672", "Gene", ("0",)), Entity("675", "Gene", ("0",)), Entity("D001943", "Disease", ("1",))],
        relations=[
            Relation("R0", "Association", "672", "D001943", infons={"novel": "Novel"}),
            Relation("R1", "assoc", "0", "1", level="mention", infons={"bioc.roles": ["Gene", "Disease"]}),
        ],
        metadata={"bioc.collection": COLLECTION},
    )
    return [d1, d2]


def to_bioc_json(xml_text: str) -> str:
    """The same collection as BioC JSON, converted by the independent ``bioc`` package."""
    from bioc import biocjson, biocxml

    body = xml_text.split("\n", 1)[1]  # lxml refuses str input with an encoding declaration
    return biocjson.dumps(biocxml.loads(body))


def test_expected_docs_are_self_consistent():
    for d in expected_docs():
        for m in d.mentions:
            pieces = d.span_text(m.spans)
            assert m.text in (pieces[0], " ".join(pieces))


def test_xml_reads_the_mapping_rules():
    assert bxml.loads(XML) == expected_docs()


def test_json_reads_the_same_documents():
    text = to_bioc_json(XML)
    assert '"documents"' in text
    assert bjson.loads(text) == expected_docs()


def test_passage_level_relations_and_sentences():
    xml = """<collection><source/><date/><key/>
<document><id>9</id>
<passage><offset>0</offset>
<sentence><offset>0</offset><text>Aspirin helps.</text>
<annotation id="a"><infon key="type">Chemical</infon><location offset="0" length="7"/><text>Aspirin</text></annotation></sentence>
<sentence><offset>16</offset><text>Pain goes.</text>
<annotation id="b"><infon key="type">Disease</infon><location offset="16" length="4"/><text>Pain</text></annotation>
<relation id="r"><infon key="type">treats</infon><node refid="a" role="head"/><node refid="b" role="tail"/></relation></sentence>
</passage></document></collection>"""
    (doc,) = bxml.loads(xml)
    assert doc.passages[0].text == "Aspirin helps.  Pain goes."
    # the sentences are kept with what each held, and the passage had no <text>
    assert doc.passages[0].infons == {
        "bioc.sentences": [{"offset": 0, "length": 14, "annotations": ["a"]}, {"offset": 16, "length": 10, "annotations": ["b"], "relations": ["r"]}],
        "bioc.no_text": True,
    }
    assert [m.text for m in doc.mentions] == ["Aspirin", "Pain"]
    # default roles are not recorded
    assert doc.relations == [Relation("r", "treats", "a", "b", level="mention")]
    assert "bioc.collection" not in doc.metadata
    assert bxml.loads(bxml.dumps([doc])) == [doc]


def test_written_xml_and_json_load_in_the_bioc_package():
    from bioc import biocjson, biocxml

    docs = expected_docs()
    coll = biocxml.loads(bxml.dumps(docs).split("\n", 1)[1])
    assert (coll.source, coll.date, coll.key, coll.infons) == ("PubTator", "2024-01-01", "toy.key", {"corpus": "toy"})
    ann = coll.documents[0].passages[0].annotations[2]
    assert [(loc.offset, loc.length) for loc in ann.locations] == [(18, 5), (34, 6)]
    assert ann.infons == {"type": "Disease", "identifier": "D007674", "CompositeRole": "IndividualMention"}
    jcoll = biocjson.loads(bjson.dumps(docs))
    assert [d.id for d in jcoll.documents] == ["1", "2"]
    assert jcoll.documents[1].relations[1].nodes[0].refid == "0"
    assert jcoll.documents[1].relations[0].infons == {"type": "Association", "entity1": "672", "entity2": "D001943", "novel": "Novel"}


def test_registry_detection_and_sniffs(tmp_path):
    (tmp_path / "a.bioc.xml").write_text(XML, encoding="utf-8")
    (tmp_path / "b.xml").write_text(XML, encoding="utf-8")
    (tmp_path / "c.json").write_text(to_bioc_json(XML), encoding="utf-8")
    (tmp_path / "abroad.json").write_text(json.dumps({"12345": {"PMID": "12345", "documents": []}}), encoding="utf-8")
    (tmp_path / "other.xml").write_text("<corpus><document/></corpus>", encoding="utf-8")
    assert io.detect_format(tmp_path / "a.bioc.xml").name == "bioc-xml"
    assert io.detect_format(tmp_path / "c.json").name == "bioc-json"
    assert bxml.sniff(str(tmp_path / "b.xml")) and not bxml.sniff(str(tmp_path / "other.xml"))
    assert bjson.sniff(str(tmp_path / "c.json")) and not bjson.sniff(str(tmp_path / "abroad.json"))
    assert io.load(tmp_path / "b.xml", "bioc-xml") == io.load(tmp_path / "c.json", "biorel.BioCJSON.v1") == expected_docs()


# ---------------------------------------------------------------------------
# lossless writing of what BioC has no field for
# ---------------------------------------------------------------------------


def rich_doc() -> Document:
    d = expected_docs()[1]
    d.passages.append(Passage(44, "Tumours.", "abstract"))
    d.mentions.append(Mention("2", ((44, 51),), "Tumours", "Disease", ("D009369",)))
    d.mentions[0].components = ("BRCA1", "BRCA2")
    d.mentions[1].concept_ids = ("D00,1943", "-1")  # a separator inside an id
    d.mentions[1].infons = {"MESH": "x", "score": 0.5, "tags": ["a", "b"]}
    d.entities = d.entities_from_mentions()
    d.entities.reverse()
    d.entities.append(Entity("label:organism", "Organism", (), name="Homo sapiens", infons={"source": "LOTUS"}))
    d.entities[0].name = "breast cancer"
    d.relations[0].directed = True
    d.relations[0].score = 0.125
    d.relations[0].evidence = ((0, 15), (29, 42))
    d.relations[0].head = "672"
    d.relations[0].tail = "D00,1943"
    d.relations.append(Relation("R2", "found_in", "672", "label:organism"))
    d.mentions.reverse()  # not in passage order: the abstract's mention comes first
    d.metadata.update({"year": 2020, "mesh_terms": ["A", "B"], "bioc.extra": {"pmid": "2"}})
    return d


@pytest.mark.parametrize("mod", [bxml, bjson], ids=["xml", "json"])
def test_model_fields_survive_a_round_trip(mod):
    d = rich_doc()
    assert mod.loads(mod.dumps([d])) == [d]
    text = mod.dumps([d])
    for key in (
        "biorel:concept_ids",
        "biorel:components",
        "biorel:directed",
        "biorel:score",
        "biorel:evidence",
        "biorel:entities",
        "biorel:mention_order",
    ):
        assert key in text
    # BioC XML infons are text; BioC JSON keeps the JSON type of a value
    assert ("biorel:json:year" in text) == (mod is bxml)
    assert ('"year":2020' in text) == (mod is bjson)


def test_collection_header_comes_from_the_first_document():
    a, b = expected_docs()
    b.metadata["bioc.collection"] = {"source": "other"}
    c = Document("3", [Passage(0, "x")])
    for mod in (bxml, bjson):
        assert mod.loads(mod.dumps([a, b, c])) == [a, b, c]


@pytest.mark.parametrize("mod, marker", [(bxml, "<id>{}</id>"), (bjson, '{{"id":"{}","infons":{{"journal"')], ids=["xml", "json"])
def test_writing_streams(mod, marker):
    """Each document is written before the next one is asked for."""
    docs = three_docs()
    out = _io.StringIO()

    def produce():
        for i, d in enumerate(docs):
            if i:
                assert marker.format(docs[i - 1].id) in out.getvalue()
                assert marker.format(d.id) not in out.getvalue()
            yield d

    assert mod.dump(produce(), out) == 3
    assert mod.loads(out.getvalue()) == docs


def test_empty_input_writes_an_empty_collection():
    assert bxml.loads(bxml.dumps([])) == []
    assert bjson.loads(bjson.dumps([])) == []


@pytest.mark.parametrize(
    "change, needle",
    [
        (lambda d: d.mentions[0].infons.update({"type": "x"}), "'type'"),
        (lambda d: d.mentions[0].infons.update({"biorel:concept_ids": "x"}), "biorel:concept_ids"),
        (lambda d: d.relations[0].infons.update({"entity1": "x"}), "'entity1'"),
        (lambda d: setattr(d.passages[0], "text", "bad \x01 char " + d.passages[0].text[13:]), "XML compatible"),
        (lambda d: setattr(d.relations[0], "score", float("nan")), "finite"),
    ],
)
def test_writer_refuses_what_it_cannot_write_back(change, needle):
    d = expected_docs()[1]
    change(d)
    with pytest.raises(BiorelError) as e:
        bxml.dumps([d])
    assert e.value.code == "E104" and needle in str(e.value)


# ---------------------------------------------------------------------------
# malformed input: strict errors with locations, lenient diagnostics
# ---------------------------------------------------------------------------


def three_docs() -> list[Document]:
    out = []
    for i in (1, 2, 3):
        d = expected_docs()[0]
        d.id = str(i)
        out.append(d)
    return out


def line_of(text: str, needle: str, start: int = 0) -> int:
    return text.count("\n", 0, text.index(needle, start)) + 1


def test_truncated_xml_yields_the_documents_before_then_e023():
    text = bxml.dumps(three_docs())
    cut = text[: text.index("<id>3</id>") + 40]
    got = []
    with pytest.raises(FormatError) as e:
        for d in bxml.iterparse(_io.StringIO(cut)):
            got.append(d.id)
    assert got == ["1", "2"]
    assert e.value.code == "E023" and e.value.where.line == cut.count("\n") + 1
    diags = Diagnostics()
    assert [d.id for d in bxml.loads(cut, lenient=True, diagnostics=diags)] == ["1", "2"]
    assert [(p.code, p.action) for p in diags] == [("E023", "rest of file skipped")]


def test_non_utf8_bytes_in_xml_are_e020_with_line_and_byte(tmp_path):
    data = bxml.dumps(three_docs()).encode("utf-8")
    pos = data.index(b"nephrotoxicity", data.index(b"<id>2</id>"))
    data = data[:pos] + b"\xff" + data[pos + 1 :]
    path = tmp_path / "bad.bioc.xml"
    path.write_bytes(data)
    with pytest.raises(FormatError) as e:
        io.load(path)
    assert e.value.code == "E020"
    assert e.value.where.line == data.count(b"\n", 0, pos) + 1 and e.value.where.offset == pos
    diags = Diagnostics()
    assert [d.id for d in io.load(path, lenient=True, diagnostics=diags)] == ["1"]
    assert diags.counts() == {"E020": 1}


def test_offset_drift_names_the_xml_path_and_line():
    text = bxml.dumps(three_docs())
    start = text.index("<id>2</id>")
    bad = text[:start] + text[start:].replace('<location offset="59" length="14"/>', '<location offset="58" length="14"/>', 1)
    with pytest.raises(FormatError) as e:
        bxml.loads(bad)
    err = e.value
    assert err.code == "E010"
    assert err.where.path == "/collection/document[2]/passage[2]/annotation[@id='5']"
    assert err.where.line == line_of(bad, '<annotation id="5">', start)
    diags = Diagnostics()
    docs = bxml.loads(bad, lenient=True, diagnostics=diags)
    assert [len(d.mentions) for d in docs] == [6, 5, 6]
    assert diags.counts() == {"E010": 1}
    assert next(iter(diags)).where.path == err.where.path


def test_duplicate_document_id():
    docs = three_docs()
    docs[2].id = "1"
    text = bxml.dumps(docs)
    with pytest.raises(FormatError) as e:
        bxml.loads(text)
    assert e.value.code == "E016" and e.value.where.path == "/collection/document[3]"
    diags = Diagnostics()
    assert [d.id for d in bxml.loads(text, lenient=True, diagnostics=diags)] == ["1", "2"]
    assert [(p.code, p.action) for p in diags] == [("E016", "document skipped")]


def test_relation_to_a_missing_id():
    text = bxml.dumps(expected_docs()).replace('<infon key="entity2">D001943</infon>', '<infon key="entity2">D999999</infon>')
    with pytest.raises(FormatError) as e:
        bxml.loads(text)
    assert e.value.code == "E014" and e.value.where.path == "/collection/document[2]/relation[@id='R0']"
    assert "D999999" in str(e.value)
    diags = Diagnostics()
    docs = bxml.loads(text, lenient=True, diagnostics=diags)
    assert [r.id for r in docs[1].relations] == ["R1"]
    assert diags.counts() == {"E014": 1}


def test_empty_document():
    docs = three_docs()
    empty = Document("empty", [Passage(0, "   ")])
    text = bxml.dumps(docs[:1] + [empty] + docs[1:])
    with pytest.raises(FormatError) as e:
        bxml.loads(text)
    assert e.value.code == "E015" and e.value.where.path == "/collection/document[2]"
    diags = Diagnostics()
    assert [d.id for d in bxml.loads(text, lenient=True, diagnostics=diags)] == ["1", "2", "3"]
    assert diags.counts() == {"E015": 1}


def test_malformed_json_is_located():
    text = bjson.dumps(three_docs())
    doc3 = text.index('{"id":"3","infons":{"journal"')
    cut = text[: doc3 + 60]
    got = []
    with pytest.raises(FormatError) as e:
        for d in bjson.iterparse(_io.StringIO(cut)):
            got.append(d.id)
    assert got == ["1", "2"] and e.value.code == "E024" and e.value.where.line == cut.count("\n") + 1
    broken = text.replace('{"id":"2","infons":{"journal"', '{"id" "2","infons":{"journal"')
    with pytest.raises(FormatError) as e:
        bjson.loads(broken)
    assert e.value.code == "E024" and e.value.where.line == line_of(broken, '{"id" "2"')
    assert e.value.where.offset == broken.index('{"id" "2"') + len('{"id" ')
    diags = Diagnostics()
    assert [d.id for d in bjson.loads(broken, lenient=True, diagnostics=diags)] == ["1"]
    assert diags.counts() == {"E024": 1}


def test_json_errors_carry_json_paths():
    tree = json.loads(bjson.dumps(three_docs()))
    tree["documents"][1]["passages"][1]["annotations"][1]["locations"][0]["offset"] = 58
    with pytest.raises(FormatError) as e:
        bjson.loads(json.dumps(tree))
    assert e.value.code == "E010" and e.value.where.path == "$.documents[1].passages[1].annotations[1]"
    tree["documents"][1]["passages"][1]["annotations"][1]["locations"][0]["offset"] = "x"
    with pytest.raises(FormatError) as e:
        bjson.loads(json.dumps(tree))
    assert e.value.code == "E101" and e.value.where.path == "$.documents[1].passages[1].annotations[1].locations[0]"
    diags = Diagnostics()
    docs = bjson.loads(json.dumps(tree), lenient=True, diagnostics=diags)
    assert [len(d.mentions) for d in docs] == [6, 5, 6] and [(p.code, p.action) for p in diags] == [("E101", "annotation skipped")]


@pytest.mark.parametrize(
    "old, new, code, action",
    [
        ('<node refid="1" role="Disease"/>', '<node role="Disease"/>', "E100", "relation skipped"),
        ('<infon key="entity1">672</infon>', '<infon key="arg">672</infon>', "E103", "relation skipped"),
        ('<location offset="29" length="13"/>', '<location length="13"/>', "E100", "annotation skipped"),
        ('<location offset="29" length="13"/>', '<location offset="29" length="-2"/>', "E101", "annotation skipped"),
        ("<offset>0</offset><text>BRCA1", "<offset>zero</offset><text>BRCA1", "E101", "document skipped"),
        ("<id>2</id>", "<id> </id>", "E100", "document skipped"),
        ("<id>2</id>", "<id>2</id><title>x</title>", "E106", "element skipped"),
        ('<infon key="type">assoc</infon>', '<infon key="type">assoc</infon><infon key="type">again</infon>', "E106", "infon skipped"),
    ],
)
def test_structural_errors_strict_and_lenient(old, new, code, action):
    assert old in XML
    bad = XML.replace(old, new, 1)
    with pytest.raises(FormatError) as e:
        bxml.loads(bad)
    assert e.value.code == code and e.value.where.path.startswith("/collection/document[2]")
    assert e.value.where.line is not None
    diags = Diagnostics()
    docs = bxml.loads(bad, lenient=True, diagnostics=diags)
    problems = [(p.code, p.action) for p in diags]
    assert problems[0] == (code, action)
    # a skipped annotation takes the relations that named it along, each reported
    assert all(p == ("E014", "relation skipped") for p in problems[1:])
    assert len(problems) == (3 if action == "annotation skipped" else 1)
    assert docs[0] == expected_docs()[0]
    assert len(docs) == (1 if action == "document skipped" else 2)


def test_not_a_collection_and_bad_biorel_infon():
    with pytest.raises(FormatError) as e:
        bxml.loads("<corpus><document/></corpus>")
    assert e.value.code == "E107"
    with pytest.raises(FormatError) as e:
        bjson.loads("[1, 2]")  # a list of documents whose items are not objects
    assert e.value.code == "E101" and e.value.where.path == "$[0]"
    with pytest.raises(FormatError) as e:
        bjson.loads("1")
    assert e.value.code == "E107" and "Not a BioC JSON collection" in str(e.value)
    bad = XML.replace('<infon key="journal">J Tox</infon>', '<infon key="biorel:entities">[{"id": </infon>')
    with pytest.raises(FormatError) as e:
        bxml.loads(bad)
    assert e.value.code == "E105" and e.value.where.path == "/collection/document[1]/infon[@key='biorel:entities']"


# ---------------------------------------------------------------------------
# hypothesis: Document -> BioC -> Document is the identity
# ---------------------------------------------------------------------------

# XML 1.0 holds neither control characters (but tab, LF, CR) nor surrogates / U+FFFE.
CHARS = st.one_of(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), st.sampled_from("\t\n\r "))
TEXT = st.text(CHARS, min_size=1, max_size=30)
IDENT = st.text(string.ascii_letters + string.digits + "-_.:", min_size=1, max_size=6)
CONCEPT = st.text(string.ascii_letters + string.digits + ",|-:; ", max_size=7)
KEY = st.one_of(
    st.sampled_from(["note", "CompositeRole", "identifier", "MESH", "Identifier", "relation", "novel", "Chemical"]), st.text(CHARS, max_size=6)
).filter(lambda k: k not in ("type", "entity1", "entity2") and not k.startswith("biorel:"))
VALUE = st.one_of(st.text(CHARS, max_size=10), st.integers(-5, 10**12), st.lists(st.text(CHARS, max_size=4), max_size=2), st.booleans())
INFONS = st.dictionaries(KEY, VALUE, max_size=3)


@st.composite
def evidence_span(draw, n: int):
    s = draw(st.integers(0, n - 1))
    return (s, draw(st.integers(s + 1, n)))


@st.composite
def documents(draw, doc_id: str = "d"):
    passages = []
    offset = draw(st.integers(0, 3))
    for _ in range(draw(st.integers(1, 3))):
        text = draw(TEXT)
        passages.append(Passage(offset, text, draw(st.sampled_from(["", "title", "abstract", "a b"])), draw(INFONS)))
        offset += len(text) + draw(st.integers(0, 3))
    doc = Document(doc_id, passages)
    text = doc.text
    mention_ids = draw(st.lists(IDENT, unique=True, max_size=6))
    for mid in mention_ids:
        p = draw(st.sampled_from(passages))
        s = draw(st.integers(p.offset, p.end - 1))
        e = draw(st.integers(s + 1, p.end))
        spans = [(s, e)]
        if e < p.end - 1 and draw(st.booleans()):
            s2 = draw(st.integers(e + 1, p.end - 1))
            spans.append((s2, draw(st.integers(s2 + 1, p.end))))
        pieces = [text[a:b] for a, b in spans]
        doc.mentions.append(
            Mention(
                mid,
                tuple(spans),
                " ".join(pieces),
                draw(st.sampled_from(["Chemical", "Disease", "", "Gene product"])),
                tuple(draw(st.lists(CONCEPT, max_size=3))),
                tuple(draw(st.lists(TEXT, max_size=2))),
                draw(INFONS),
            )
        )
    doc.mentions = draw(st.permutations(doc.mentions))
    doc.entities = doc.entities_from_mentions()
    if draw(st.booleans()):  # entities the mentions do not give: order, names, mention-less labels
        doc.entities = draw(st.permutations(doc.entities))
        for ent in doc.entities:
            ent.name = draw(st.one_of(st.none(), TEXT))
        taken = {e.id for e in doc.entities}
        for label in draw(st.lists(IDENT, unique=True, max_size=2)):
            if "label:" + label not in taken:
                doc.entities.append(Entity("label:" + label, "Organism", (), draw(st.one_of(st.none(), TEXT)), draw(INFONS)))
    ent_ids = [e.id for e in doc.entities]
    for i in range(draw(st.integers(0, 4))):
        level = draw(st.sampled_from(["entity", "mention"]))
        pool = ent_ids if level == "entity" else [m.id for m in doc.mentions]
        if not pool:
            continue
        infons = draw(INFONS)
        if level == "mention" and draw(st.booleans()):
            roles = draw(st.lists(st.text(CHARS, max_size=5), min_size=2, max_size=2))
            if roles != ["head", "tail"]:  # the default roles are not recorded
                infons["bioc.roles"] = roles
        doc.relations.append(
            Relation(
                f"r{i}",
                draw(st.text(CHARS, max_size=8)),
                draw(st.sampled_from(pool)),
                draw(st.sampled_from(pool)),
                level,
                draw(st.booleans()),
                draw(st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))),
                tuple(draw(st.lists(evidence_span(len(text)), max_size=2))),
                infons,
            )
        )
    doc.metadata = draw(st.dictionaries(KEY, VALUE, max_size=3))
    if draw(st.booleans()):
        coll = draw(
            st.fixed_dictionaries(
                {}, optional={"source": TEXT, "date": st.sampled_from(["", "2024"]), "infons": st.dictionaries(IDENT, TEXT, max_size=2)}
            )
        )
        doc.metadata["bioc.collection"] = coll
    return doc


def _valid(doc: Document) -> bool:
    return bool(doc.text.strip())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(docs=st.tuples(documents("a"), documents("b")).filter(lambda t: all(_valid(d) for d in t)))
def test_roundtrip_property(docs):
    docs = list(docs)
    assert bxml.loads(bxml.dumps(docs)) == docs
    assert bjson.loads(bjson.dumps(docs)) == docs
    # and XML -> JSON -> XML text is stable
    assert bxml.dumps(bjson.loads(bjson.dumps(bxml.loads(bxml.dumps(docs))))) == bxml.dumps(docs)


def test_id_keys_documented_order():
    assert [k for k, _ in ID_KEYS] == ["identifier", "Identifier", "MESH", "MeSH"]
