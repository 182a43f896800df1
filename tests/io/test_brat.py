"""brat standoff: every annotation kind on a hand-made document, writing back,
and the DDI 2013 brat release against the counts of its XML release."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel import io
from biorel.errors import BiorelError, Diagnostics
from biorel.io import brat, pubtator
from biorel.types import Document, Mention, Passage, Relation

# "Aspirin\r\nreduces pain.\r\n": Aspirin 0-7, \r 7, \n 8, reduces 9-16, pain 17-21
TXT = "Aspirin\r\nreduces pain.\r\n"
ANN = "".join(
    line + "\n"
    for line in [
        "T1\tDrug 0 7\tAspirin",
        "T2\tSymptom 17 21\tpain",
        "T3\tDrugPain 0 7;17 21\tAspirin pain",
        "T4\tTreat 9 16\treduces",
        "R1\tTreats Arg1:T1 Arg2:T2\t",
        "R2\tPart Whole:T3 Piece:T2",
        "E1\tTreat:T4 Agent:T1 Theme:T2",
        "E2\tTreat:T4 Cause:E1",
        "*\tEquiv T1 T3",
        "N1\tReference T1 MESH:D001241\tAspirin",
        "N2\tReference T2 MESH:D010146",
        "A1\tNegated E1",
        "A2\tConfidence T2 High",
        "#1\tAnnotatorNotes T1\tchecked by hand",
        "#2\tAnnotatorNotes R1\tmaybe",
    ]
)


def _pair(folder: Path, name: str = "doc", txt: str = TXT, ann: str = ANN) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.txt").write_bytes(txt.encode())
    (folder / f"{name}.ann").write_bytes(ann.encode())
    return folder / f"{name}.ann"


def test_every_annotation_kind(tmp_path):
    ann_path = _pair(tmp_path)
    (doc,) = brat.load(tmp_path)
    assert doc.id == "doc" and doc.text == TXT and doc.passages == [Passage(0, TXT)]
    m = doc.mention_index()
    # offsets count the \r
    assert m["T4"].spans == ((9, 16),) and doc.text[9:16] == "reduces"
    assert m["T3"].spans == ((0, 7), (17, 21)) and m["T3"].text == "Aspirin pain"
    assert m["T1"].concept_ids == ("MESH:D001241",)
    assert m["T1"].infons[brat.NORMALIZATIONS] == [{"id": "N1", "type": "Reference", "ref": "MESH:D001241", "text": "Aspirin"}]
    assert m["T1"].infons[brat.NOTES] == [{"id": "#1", "type": "AnnotatorNotes", "text": "checked by hand"}]
    assert m["T2"].infons[brat.ATTRIBUTES] == [{"id": "A2", "name": "Confidence", "value": "High"}]
    assert {e.id: e.mention_ids for e in doc.entities} == {"MESH:D001241": ("T1",), "MESH:D010146": ("T2",)}
    r = {x.id: x for x in doc.relations}
    assert set(r) == {"R1", "R2", "E1:Agent", "E1:Theme", "E2:Cause", "*1:0"}
    assert (r["R1"].type, r["R1"].head, r["R1"].tail, r["R1"].level, r["R1"].directed) == ("Treats", "T1", "T2", "mention", True)
    assert r["R1"].infons == {brat.TRAILING_TAB: True, brat.NOTES: [{"id": "#2", "type": "AnnotatorNotes", "text": "maybe"}]}
    assert r["R2"].infons == {brat.ROLES: ["Whole", "Piece"]}
    assert (r["E1:Theme"].type, r["E1:Theme"].head, r["E1:Theme"].tail) == ("Treat", "T4", "T2")
    assert r["E1:Agent"].infons[brat.ATTRIBUTES] == [{"id": "A1", "name": "Negated"}]
    # an event argument that is an event points at that event's trigger
    assert (r["E2:Cause"].head, r["E2:Cause"].tail, r["E2:Cause"].infons[brat.ARG_EVENT]) == ("T4", "T4", "E1")
    assert (r["*1:0"].head, r["*1:0"].tail, r["*1:0"].directed) == ("T1", "T3", False)
    # the writer gives the .ann back byte for byte (this file is in the writer's order)
    assert brat.dumps([doc]) == ANN
    out = tmp_path / "out"
    assert brat.dump([doc], out) == 1
    assert (out / "doc.ann").read_bytes() == ann_path.read_bytes()
    assert (out / "doc.txt").read_bytes() == TXT.encode()


def test_single_ann_path_loads_and_stream_with_text(tmp_path):
    ann_path = _pair(tmp_path / "corpus")
    assert io.detect_format(ann_path).name == "brat"
    assert io.detect_format(tmp_path / "corpus").name == "brat"
    (a,) = io.load(ann_path)
    (b,) = brat.loads(ANN, text=TXT, doc_id="doc")
    assert a == b
    with pytest.raises(BiorelError, match="E129"):
        brat.loads(ANN)


def test_writer_order_and_renumbering(tmp_path):
    # a file in another order keeps its lines; the writer regroups them
    shuffled = "".join(sorted(ANN.splitlines(keepends=True), reverse=True))
    (doc,) = brat.loads(shuffled, text=TXT, doc_id="d")
    assert sorted(brat.dumps([doc]).splitlines()) == sorted(ANN.splitlines())
    # ids that are not brat ids are renumbered, without clashing with kept ones
    d = Document("x", [Passage(0, "ab cd")], [Mention("m0", ((0, 2),), "ab", "X"), Mention("T0", ((3, 5),), "cd", "X")])
    d.relations = [Relation("rel", "Y", "m0", "T0", level="mention")]
    assert brat.dumps([d]) == "T1\tX 0 2\tab\nT0\tX 3 5\tcd\nR0\tY Arg1:T1 Arg2:T0\n"


def test_writer_refuses_entity_level_relations():
    (doc,) = pubtator.loads("1|t|Aspirin causes ulcers.\n1\t0\t7\tAspirin\tChemical\tD1\n1\t15\t21\tulcers\tDisease\tD2\n1\tCID\tD1\tD2\n")
    with pytest.raises(BiorelError) as e:
        brat.dumps([doc])
    assert e.value.code == "E124" and "between entities" in str(e.value)
    doc.relations = []
    # concept ids without N records become N lines
    assert brat.dumps([doc]) == "T0\tChemical 0 7\tAspirin\nT1\tDisease 15 21\tulcers\nN0\tReference T0 D1\nN1\tReference T1 D2\n"
    (back,) = brat.loads(brat.dumps([doc]), text=doc.text, doc_id="1")
    assert [m.concept_ids for m in back.mentions] == [("D1",), ("D2",)]


# ---- property: generated mention-level documents round-trip through brat ------


@st.composite
def brat_documents(draw) -> Document:
    text = draw(st.text(alphabet="ab \r\n-é", min_size=1, max_size=40).filter(lambda s: s.strip()))
    doc = Document("d", [Passage(0, text)])
    for i in range(draw(st.integers(0, 5))):
        n_spans = draw(st.integers(1, min(2, (len(text) + 1) // 2)))
        cuts = sorted(draw(st.lists(st.integers(0, len(text)), min_size=2 * n_spans, max_size=2 * n_spans, unique=True)))
        spans = tuple((cuts[2 * k], cuts[2 * k + 1]) for k in range(n_spans))
        pieces = [text[s:e] for s, e in spans]
        if any("\n" in p or "\r" in p for p in pieces):
            continue  # brat text-bound text cannot hold a line break
        ids = tuple(draw(st.lists(st.sampled_from(["MESH:D1", "CHEBI:2"]), max_size=2)))
        infons = {}
        if ids:
            infons[brat.NORMALIZATIONS] = [{"id": f"N{i}{k}", "type": "Reference", "ref": c} for k, c in enumerate(ids)]
        doc.mentions.append(Mention(f"T{i}", spans, " ".join(pieces), draw(st.sampled_from(["Drug", "Gene"])), ids, (), infons))
    doc.entities = doc.entities_from_mentions()
    mids = [m.id for m in doc.mentions]
    if mids:
        for j in range(draw(st.integers(0, 3))):
            h, t = draw(st.sampled_from(mids)), draw(st.sampled_from(mids))
            doc.relations.append(Relation(f"R{j}", draw(st.sampled_from(["INT", "EFFECT"])), h, t, level="mention", directed=True))
    return doc


@settings(max_examples=100, deadline=None)
@given(brat_documents())
def test_property_round_trip(doc):
    ann = brat.dumps([doc])
    assert brat.loads(ann, text=doc.text, doc_id="d") == [doc]


# ---- DDI 2013, brat release ----------------------------------------------------


@pytest.fixture(scope="module")
def ddi(mirror, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ddi")
    with zipfile.ZipFile(mirror / "ddi2013" / "DDICorpus-2013(BRAT).zip") as z:
        z.extractall(out)
    return out / "DDICorpusBrat"


def _ddi_task_documents(mirror: Path) -> set[tuple[str, str]]:
    """(part, stem) of the test documents of the DDI task, from the XML release's layout."""
    with zipfile.ZipFile(mirror / "ddi2013" / "DDICorpus-2013.zip") as z:
        return {
            (PurePosixPath(n).parent.name, PurePosixPath(n).stem) for n in z.namelist() if n.endswith(".xml") and "Test for DDI Extraction task" in n
        }


@pytest.mark.realdata
def test_ddi_counts_match_the_xml_release(ddi, mirror):
    assert io.detect_format(ddi).name == "brat"
    diags = Diagnostics()
    docs = brat.load(ddi, lenient=True, diagnostics=diags)
    # one upstream span starts a character early: "(R)-" of "(R)- or (S)-warfarin"
    assert [(p.code, Path(p.where.file).name, p.where.line) for p in diags] == [("E010", "Eszopiclone_ddi.ann", 36)]
    raw = brat.load(ddi, validate=False)
    part = lambda d: "/".join(d.id.split("/")[:2])  # noqa: E731
    docs_n = Counter(part(d) for d in raw)
    ents = Counter()
    rels = Counter()
    for d in raw:
        ents[part(d)] += len(d.mentions)
        for r in d.relations:
            rels[part(d), r.type] += 1
    assert docs_n == {"Train/DrugBank": 572, "Train/MedLine": 142, "Test/DrugBank": 212, "Test/MedLine": 91}
    # README (XML): train entities 12929 / 1836
    assert ents["Train/DrugBank"] == 12929 and ents["Train/MedLine"] == 1836
    # README: train positives 3789 (1535/1257/818/178 + 1 untyped, labelled INT in brat) and 232 (152/62/8/10)
    assert {t: n for (p, t), n in rels.items() if p == "Train/DrugBank" and n} == {"EFFECT": 1535, "MECHANISM": 1257, "ADVISE": 818, "INT": 179}
    assert {t: n for (p, t), n in rels.items() if p == "Train/MedLine" and n} == {"EFFECT": 152, "MECHANISM": 62, "ADVISE": 8, "INT": 10}
    # brat's Test folders also hold the 112 DrugNER-task documents; the DDI-task ones match the README
    task = _ddi_task_documents(mirror)
    assert len(task) == 191
    in_task = [d for d in raw if d.id.startswith("Test/") and tuple(d.id.split("/")[1:]) in task]
    assert len(in_task) == 191
    assert sum(len(d.mentions) for d in in_task if "/DrugBank/" in d.id) == 2512
    assert sum(len(d.mentions) for d in in_task if "/MedLine/" in d.id) == 528
    test_types = Counter(r.type for d in raw if d.id.startswith("Test/") for r in d.relations)
    assert test_types == {"EFFECT": 360, "MECHANISM": 302, "ADVISE": 221, "INT": 96}
    assert sum(1 for d in raw for m in d.mentions if len(m.spans) > 1) == 49
    assert len(docs) == 1017 and sum(len(d.mentions) for d in docs) == sum(ents.values()) - 1


@pytest.mark.realdata
def test_ddi_round_trip_is_byte_exact(ddi, tmp_path):
    docs = brat.load(ddi, validate=False)
    assert io.write(docs, tmp_path, format="brat") == 1017
    originals = sorted(p for p in ddi.rglob("*") if p.suffix in (".ann", ".txt"))
    assert len(originals) == 2034
    for p in originals:
        assert (tmp_path / p.relative_to(ddi)).read_bytes() == p.read_bytes(), p


# ---- lenient reading drops dependents too, and what it keeps validates (issue 12, class 8) ----

# BioNLP-ST style: E1 has no arguments (as in real GENIA/BioNLP-ST files); E2 and
# E3 point at it through event arguments, A1/M2/#1 through their targets.
ST_TXT = "IL-2 expression is induced by TCR binding and blocked."
ST_ANN = "".join(
    line + "\n"
    for line in [
        "T1\tProtein 0 4\tIL-2",
        "T2\tGene_expression 5 15\texpression",
        "T3\tPositive_regulation 19 26\tinduced",
        "T4\tNegative_regulation 46 53\tblocked",
        "T5\tBinding 34 41\tbinding",
        "E1\tGene_expression:T2",
        "E2\tPositive_regulation:T3 Theme:E1 Cause:T5",
        "E3\tNegative_regulation:T4 Theme:E2",
        "E4\tBinding:T5 Theme:T1",
        "A1\tNegation E2",
        "M2\tSpeculation E1",
        "#1\tAnnotatorNotes E3\tcheck this",
        "R1\tRel Arg1:T1 Arg2:T5",
        "R2\tRel Arg1:E3 Arg2:T1",
        "N1\tReference T1 UniProt:P60568",
    ]
)


def test_lenient_drop_takes_every_dependent_and_reports_each(tmp_path):
    diags = Diagnostics()
    (doc,) = brat.loads(ST_ANN, text=ST_TXT, doc_id="st", lenient=True, diagnostics=diags)
    assert [(p.code, p.where.line) for p in diags] == [
        ("E127", 6),  # E1: no arguments
        ("E132", 7),  # E2 -> E1
        ("E132", 8),  # E3 -> E2
        ("E132", 14),  # R2 -> E3
        ("E132", 10),  # A1 -> E2
        ("E132", 11),  # M2 -> E1
        ("E132", 12),  # #1 -> E3
    ]
    assert all(p.action == "line skipped" for p in diags)
    assert [r.id for r in doc.relations] == ["R1", "E4:Theme"]
    # what is kept validates: written and read back strictly, and as PubTator too
    io.write([doc], tmp_path / "out", "brat")
    (back,) = io.load(tmp_path / "out")
    assert [r.id for r in back.relations] == ["R1", "E4:Theme"]
    assert [line.split("\t")[0] for line in (tmp_path / "out" / "st.ann").read_text().splitlines()] == [
        "T1",
        "T2",
        "T3",
        "T4",
        "T5",
        "R1",
        "E4",
        "N1",
    ]
    io.write([doc], tmp_path / "st.pubtator")
    assert len(io.load(tmp_path / "st.pubtator")[0].relations) == 2
    with pytest.raises(BiorelError) as e:
        brat.loads(ST_ANN, text=ST_TXT, doc_id="st")
    assert e.value.code == "E127" and e.value.where.line == 6


@pytest.mark.realdata
def test_ddi_lenient_output_validates_as_brat_and_pubtator(ddi, tmp_path):
    diags = Diagnostics()
    docs = brat.load(ddi, lenient=True, diagnostics=diags)
    assert diags.counts() == {"E010": 1}
    n_rel = sum(len(d.relations) for d in docs)
    assert io.write(docs, tmp_path / "brat", "brat") == 1017
    assert sum(len(d.relations) for d in brat.load(tmp_path / "brat")) == n_rel  # strict read: valid
    # brat documents have untyped passages with line breaks, discontinuous
    # mentions and mention-level relations: PubTator takes them all (issue 12, class 5)
    assert io.write(docs, tmp_path / "ddi.pubtator") == 1017
    back = pubtator.load(tmp_path / "ddi.pubtator")
    assert len(back) == 1017 and sum(len(d.relations) for d in back) == sum(len({(r.head, r.tail, r.type) for r in d.relations}) for d in docs)
