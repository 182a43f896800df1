"""``biorel pairs``: candidate pair tables (known answers counted by hand,
directed and undirected types, negatives, scopes, unreachable relations,
CSV/Parquet read-back, real GAD and BioRED data, the command end to end)."""

from __future__ import annotations

import csv
import importlib.util
from collections import Counter
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from biorel import io
from biorel.errors import BiorelError
from biorel.pairs_table import COLUMNS, NONE_LABEL, PairStats, export_pairs, mark_text, pair_rows, read_pairs, write_pairs
from biorel.types import Document, Entity, Mention, NaryRelation, Passage, Relation

HAS_ARROW = importlib.util.find_spec("pyarrow") is not None
runner = CliRunner()

# sentence 0: [0, 35), sentence 1: [36, 62), sentence 2: [63, 87)
TITLE = "Cocaine and aspirin cause seizures."
ABSTRACT = "Aspirin relieves headache. Cocaine causes seizures."


def find_all(text: str, word: str) -> list[tuple[int, int]]:
    out, at = [], text.find(word)
    while at >= 0:
        out.append((at, at + len(word)))
        at = text.find(word, at + 1)
    return out


def build(passages: list[str], ents: dict[str, tuple[str, list[str]]], relations: list[Relation], doc_id: str = "d1") -> Document:
    """A document whose entity ``E`` (type, words) is mentioned wherever one of
    its words occurs."""
    doc = Document(doc_id)
    offset = 0
    for text in passages:
        doc.passages.append(Passage(offset, text))
        offset += len(text) + 1
    text = doc.text
    for eid, (etype, words) in ents.items():
        mids = []
        for word in words:
            for s, e in find_all(text, word):
                mids.append(f"M{len(doc.mentions)}")
                doc.mentions.append(Mention(mids[-1], ((s, e),), text[s:e], etype, (eid,)))
        doc.entities.append(Entity(eid, etype, tuple(mids)))
    doc.relations = relations
    return doc


def cid_doc(**extra) -> Document:
    """2 chemicals, 2 diseases; CID (directed) cocaine->seizures,
    aspirin->headache, cocaine->headache (never in one sentence)."""
    ents = {
        "C1": ("Chemical", ["Cocaine"]),
        "C2": ("Chemical", ["aspirin", "Aspirin"]),
        "D1": ("Disease", ["seizures"]),
        "D2": ("Disease", ["headache"]),
    }
    rels = [
        Relation("R1", "CID", "C1", "D1", directed=True),
        Relation("R2", "CID", "C2", "D2", directed=True),
        Relation("R3", "CID", "C1", "D2", directed=True),
    ]
    return build([TITLE, ABSTRACT], ents, rels, **extra)


def check_rows(rows: list[dict]) -> None:
    """Every row reads back: the arguments sit at their offsets in the plain
    text and in the document, and the markers surround them."""
    assert rows
    for r in rows:
        assert list(r) == list(COLUMNS)
        for arg in ("head", "tail"):
            s, e = r[f"{arg}_start"], r[f"{arg}_end"]
            assert r["text"][s:e] == r[f"{arg}_text"]
            assert r[f"{arg}_doc_start"] - r["text_start"] == s and r[f"{arg}_doc_end"] - r["text_start"] == e
            ms, me = r[f"marked_{arg}_start"], r[f"marked_{arg}_end"]
            assert r["marked_text"][ms:me] == r[f"{arg}_text"]
            if r["marked_text"] != r["text"]:  # marked: the markers stand right around the argument
                sym, inner = ("@", "*") if arg == "head" else ("#", "^")
                before = r["marked_text"][:ms]
                assert before.endswith(f"{sym} {inner} {r[f'{arg}_type']} {inner} ") or before.endswith(f"{sym} ")
                assert r["marked_text"][me:].startswith(f" {sym}")


# ---------------------------------------------------------------- known answers
def test_chemical_disease_known_answer_sentence_and_document_scope():
    doc = cid_doc()
    st = PairStats()
    rows = list(pair_rows([doc], scope="document", stats=st))
    # 2 chemicals x 2 diseases, Chemical->Disease only (CID is directed) = 4 rows
    assert [(r["head_entity"], r["tail_entity"], r["label"]) for r in rows] == [
        ("C1", "D1", "CID"),
        ("C1", "D2", "CID"),
        ("C2", "D1", NONE_LABEL),
        ("C2", "D2", "CID"),
    ]
    assert (st.rows, st.positive_rows, st.negatives, sum(st.unreachable.values())) == (4, 3, 1, 0)
    assert all(r["scope"] == "document" and r["sentence_index"] is None and (r["text_start"], r["text_end"]) == (0, 87) for r in rows)
    check_rows(rows)

    st = PairStats()
    rows = list(pair_rows([doc], scope="sentence", stats=st))
    # cocaine and headache are never in one sentence: 3 rows, R3 unreachable
    assert [(r["head_entity"], r["tail_entity"], r["label"], r["sentence_index"]) for r in rows] == [
        ("C1", "D1", "CID", 2),
        ("C2", "D1", NONE_LABEL, 0),
        ("C2", "D2", "CID", 1),
    ]
    assert st.unreachable == Counter({"arguments never mentioned in one sentence": 1})
    assert (st.rows, st.positives, st.negatives) == (3, Counter({"CID": 2}), 1)
    first = rows[0]  # the closest pair of mentions: sentence 2, not the title
    assert first["text"] == "Cocaine causes seizures." and (first["head_doc_start"], first["tail_doc_start"]) == (63, 78)
    assert first["marked_text"] == "@ * Chemical * Cocaine @ causes # ^ Disease ^ seizures #."
    assert first["directed"] is True and rows[1]["directed"] is None
    assert (first["head_mention"], first["tail_mention"]) == ("M1", "M5")  # the second Cocaine, the second seizures
    check_rows(rows)


def test_markers_and_window():
    doc = cid_doc()
    plain = list(pair_rows([doc], marker="plain"))
    assert plain[0]["marked_text"] == "@ Cocaine @ causes # seizures #."
    none = list(pair_rows([doc], marker="none"))
    assert all(r["marked_text"] == r["text"] for r in none)
    wide = list(pair_rows([doc], window=1))
    # sentence 1 with one sentence each side is the whole document; sentence 2 has no next one
    assert [(r["text_start"], r["text_end"]) for r in wide] == [(36, 87), (0, 62), (0, 87)]
    doc_window = list(pair_rows([doc], scope="document", window=0))
    assert (doc_window[0]["text_start"], doc_window[0]["text_end"]) == (63, 87)  # both mentions in sentence 2
    assert (doc_window[1]["text_start"], doc_window[1]["text_end"]) == (36, 87)  # headache (s1) .. cocaine (s2)
    for rows in (plain, none, wide, doc_window):
        check_rows(rows)


def test_mark_text_nests_and_closes_before_opening():
    marked, h, t = mark_text("ab cd", (0, 2), (2, 5), "A", "B")  # touching spans
    assert marked == "@ * A * ab @# ^ B ^  cd #" and marked[h[0] : h[1]] == "ab" and marked[t[0] : t[1]] == " cd"
    marked, h, t = mark_text("abcdef", (0, 6), (2, 4), "A", "B", "plain")  # nested
    assert marked == "@ ab# cd #ef @" and marked[t[0] : t[1]] == "cd" and marked[h[0] : h[1]] == "ab# cd #ef"


def test_directed_and_undirected_types():
    # directed CID with both argument orders allowed: the reverse order is a candidate labelled none
    st = PairStats()
    rows = list(pair_rows([cid_doc()], scope="document", pair_types=[("Chemical", "Disease"), ("Disease", "Chemical")], stats=st))
    labels = {(r["head_entity"], r["tail_entity"]): r["label"] for r in rows}
    assert len(rows) == 8 and labels[("C1", "D1")] == "CID" and labels[("D1", "C1")] == NONE_LABEL
    assert st.positive_rows == 3
    # undirected Association: both orders are candidates (default pair types) and both are labelled
    ents = {"G": ("Gene", ["BRCA1"]), "D": ("Disease", ["breast cancer"]), "X": ("Disease", ["fever"])}
    doc = build(["BRCA1 is linked to breast cancer and fever."], ents, [Relation("R1", "Association", "G", "D")])
    rows = list(pair_rows([doc]))
    got = {(r["head_entity"], r["tail_entity"]): (r["label"], r["directed"]) for r in rows}
    assert got == {
        ("G", "D"): ("Association", False),
        ("D", "G"): ("Association", False),
        ("G", "X"): (NONE_LABEL, None),
        ("X", "G"): (NONE_LABEL, None),
    }
    check_rows(rows)


def test_several_types_on_one_pair_are_joined():
    ents = {"G": ("Gene", ["BRCA1"]), "D": ("Disease", ["cancer"])}
    doc = build(["BRCA1 causes cancer."], ents, [Relation("R1", "Cause", "G", "D", directed=True), Relation("R2", "Association", "G", "D")])
    rows = list(pair_rows([doc]))
    assert [(r["head_entity"], r["label"], r["directed"]) for r in rows] == [("G", "Association|Cause", True), ("D", "Association", False)]


def test_negative_relations_label_none_and_negatives_none_leaves_them_out():
    ents = {"G": ("GENE", ["@GENE$"]), "D": ("DISEASE", ["@DISEASE$"])}
    pos = build(["@GENE$ causes @DISEASE$."], ents, [Relation("R1", "1", "G", "D")], doc_id="p")
    neg = build(["@GENE$ is unrelated to @DISEASE$."], ents, [Relation("R1", "0", "G", "D", infons={"negative": True})], doc_id="n")
    st = PairStats()
    rows = list(pair_rows([pos, neg], stats=st))
    assert [(r["doc_id"], r["label"]) for r in rows] == [("p", "1"), ("p", "1"), ("n", NONE_LABEL), ("n", NONE_LABEL)]
    assert (st.negative_relations, st.negatives, sum(st.unreachable.values())) == (1, 2, 0)
    st = PairStats()
    rows = list(pair_rows([pos, neg], negatives="none", stats=st))
    assert [r["doc_id"] for r in rows] == ["p", "p"] and st.negatives_left_out == 2 and st.negatives == 0
    assert [r["pair_index"] for r in rows] == [0, 1]


def test_unreachable_relations_are_counted_per_reason():
    doc = cid_doc()
    doc.entities.append(Entity("C9", "Chemical"))  # no mention
    doc.relations += [
        Relation("R4", "CID", "C9", "D1", directed=True),
        Relation("R5", "CID", "M0", "M3", level="mention", directed=True),
        Relation("R6", "CID", "C1", "C1", directed=True),
        Relation("R7", "CID", "C1", "NOPE", directed=True),
    ]
    doc.nary_relations.append(NaryRelation("N1", "CID", (("a", "C1"), ("b", "D1"), ("c", "D2"))))
    st = PairStats()
    rows = list(pair_rows([doc], scope="sentence", pair_types=[("Chemical", "Disease")], stats=st))  # R6 alone would allow Chemical:Chemical
    assert len(rows) == 3
    assert st.unreachable == Counter(
        {
            "arguments never mentioned in one sentence": 1,
            "argument has no mention in the text": 1,
            "mention-level relation": 1,
            "head and tail are one entity": 1,
            "argument is not an entity of the document": 1,
            "not a binary relation": 1,
        }
    )
    # a directed relation whose argument types are not allowed
    st = PairStats()
    doc = cid_doc()
    doc.relations.append(Relation("R8", "Treats", "D2", "C2", directed=True))
    rows = list(pair_rows([doc], scope="document", pair_types=[("Chemical", "Disease")], stats=st))
    assert len(rows) == 4 and st.unreachable == Counter({"argument types Disease:Chemical not among the pair types": 1})
    assert "unreachable gold relations: 1 (argument types Disease:Chemical not among the pair types: 1)" in st.summary_lines()


def test_same_pairs_and_marked_text_as_the_relation_classifier():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    docs = [cid_doc()]
    assert_like_relclf(docs)


def assert_like_relclf(docs: list[Document]) -> None:
    """The rows at sentence scope are the relation classifier's pairs, in its
    order, with its marked sentences (spans that touch or overlap excepted:
    the table closes one argument before opening the next)."""
    from biorel.models.grouping import group_mentions
    from biorel.models.relclf import RelationClassifier
    from biorel.pairs_table import pair_labels

    labels = pair_labels(docs)
    marked: list[str] = []

    def tokenizer(text, **_):
        marked.append(text)
        return {"input_ids": [0] * len(text), "offset_mapping": [(i, i + 1) for i in range(len(text))]}

    fake = SimpleNamespace(labels=labels, cfg=SimpleNamespace(markers="typed"))
    fake.encoder = SimpleNamespace(tokenizer=tokenizer, featurizer=SimpleNamespace(size=10**9, prefix=0, wrap=lambda ids: ids))
    fake._grounded = lambda *a: RelationClassifier._grounded(fake, *a)
    fake._markers = lambda *a: RelationClassifier._markers(fake, *a)
    fake._instance = lambda *a: RelationClassifier._instance(fake, *a)
    expected = []
    for doc in docs:
        refs, pairs, _ = RelationClassifier._pairs(fake, doc, doc.mentions, doc.entities or group_mentions(doc.mentions))
        expected += [(doc.id, refs[i].id, refs[j].id) for i, j in pairs]
    rows = list(pair_rows(docs, labels=labels))
    assert [(r["doc_id"], r["head_entity"], r["tail_entity"]) for r in rows] == expected
    apart = [k for k, r in enumerate(rows) if r["head_end"] < r["tail_start"] or r["tail_end"] < r["head_start"]]
    assert len(apart) > 0.99 * len(rows)
    assert [rows[k]["marked_text"] for k in apart] == [marked[k] for k in apart]


# ---------------------------------------------------------------- options and errors
@pytest.mark.parametrize("option, value", [("scope", "paragraph"), ("marker", "bold"), ("negatives", "some"), ("window", -1)])
def test_bad_options_are_coded_errors_listing_the_choices(option, value):
    with pytest.raises(BiorelError) as e:
        pair_rows([cid_doc()], **{option: value})
    assert e.value.code == "E180" and "Valid choices" in e.value.message


def test_pair_types_errors(tmp_path):
    with pytest.raises(BiorelError) as e:
        pair_rows([cid_doc()], pair_types=[("Chemical", "Gene")])
    assert e.value.code == "E183" and "Gene" in e.value.message and "Chemical, Disease" in e.value.message
    io.write([cid_doc()], tmp_path / "c.jsonl")
    with pytest.raises(BiorelError) as e:
        export_pairs(str(tmp_path / "c.jsonl"), tmp_path / "p.csv", pair_types=["Chemical-Disease"])
    assert e.value.code == "E180" and "HEAD:TAIL" in e.value.message
    unlabelled = cid_doc()
    unlabelled.relations = []
    with pytest.raises(BiorelError) as e:
        pair_rows([unlabelled])
    assert e.value.code == "E184" and "--pair-types" in e.value.message
    # an unlabelled corpus with pair types given: every pair is a candidate labelled none
    rows = list(pair_rows([unlabelled], scope="document", pair_types=[("Chemical", "Disease")]))
    assert len(rows) == 4 and {r["label"] for r in rows} == {NONE_LABEL}


def test_a_relation_typed_none_is_refused():
    doc = cid_doc()
    doc.relations.append(Relation("R9", "none", "C2", "D1"))
    with pytest.raises(BiorelError) as e:
        list(pair_rows([doc]))
    assert e.value.code == "E185" and "R9" in e.value.message


def test_output_name_and_rows_are_checked(tmp_path):
    with pytest.raises(BiorelError) as e:
        write_pairs([], tmp_path / "p.tsv")
    assert e.value.code == "E181" and ".csv, .parquet" in e.value.message
    row = next(iter(pair_rows([cid_doc()])))
    with pytest.raises(BiorelError) as e:
        write_pairs([{**row, "extra": 1}], tmp_path / "p.csv")
    assert e.value.code == "E186" and "extra" in e.value.message
    with pytest.raises(BiorelError) as e:
        write_pairs([{**row, "pair_index": "0"}], tmp_path / "p.csv")
    assert e.value.code == "E186" and "pair_index" in e.value.message
    assert not (tmp_path / "p.csv").exists() and not list(tmp_path.glob(".p.csv*"))  # nothing half-written


# ---------------------------------------------------------------- writing and reading back
def test_csv_reads_back_with_the_csv_module(tmp_path):
    ents = {"C1": ("Chemical", ["Cocaine"]), "C2": ("Chemical", ["aspirin"]), "D1": ("Disease", ["seizures"])}
    doc = build(['Cocaine, "a drug",\nand aspirin cause seizures.'], ents, [Relation("R1", "CID", "C1", "D1", directed=True)])
    rows = list(pair_rows([doc], scope="document", source="here", format="jsonl"))
    path = tmp_path / "pairs.csv"
    assert write_pairs(rows, path) == 2
    with open(path, newline="", encoding="utf-8") as fh:
        got = list(csv.DictReader(fh))
    assert list(got[0]) == list(COLUMNS) and [r["label"] for r in got] == ["CID", NONE_LABEL]
    for r in got:
        for arg in ("head", "tail"):
            assert r["text"][int(r[f"{arg}_start"]) : int(r[f"{arg}_end"])] == r[f"{arg}_text"]
        assert r["source"] == "here" and r["format"] == "jsonl" and r["sentence_index"] == ""
        assert r["directed"] in ("true", "") and r["text"] == doc.text
    assert list(read_pairs(path)) == rows
    check_rows(list(read_pairs(path)))


@pytest.mark.skipif(not HAS_ARROW, reason="pyarrow not installed")
def test_parquet_reads_back_with_pyarrow(tmp_path):
    import pyarrow.parquet as pq

    rows = list(pair_rows([cid_doc()]))
    path = tmp_path / "pairs.parquet"
    assert write_pairs(rows, path) == 3
    table = pq.read_table(path)
    assert table.column_names == list(COLUMNS)
    assert str(table.schema.field("pair_index").type) == "int64" and str(table.schema.field("directed").type) == "bool"
    assert table.to_pylist() == rows == list(read_pairs(path))
    check_rows(table.to_pylist())
    assert write_pairs([], tmp_path / "empty.parquet") == 0 and pq.read_table(tmp_path / "empty.parquet").num_rows == 0


def test_parquet_without_pyarrow_is_a_coded_error(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_arrow(name, *a, **k):
        if name.startswith("pyarrow"):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_arrow)
    with pytest.raises(BiorelError) as e:
        write_pairs([], tmp_path / "p.parquet")
    assert e.value.code == "E182" and "biorel[parquet]" in e.value.message and not (tmp_path / "p.parquet").exists()


def test_one_writer_per_output(tmp_path):
    from biorel.jobs import exclusive_lock

    path = tmp_path / "p.csv"
    with exclusive_lock(path):  # re-entrant in one process: the write goes through
        assert write_pairs(pair_rows([cid_doc()]), path) == 3
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from biorel.jobs import exclusive_lock\nimport time\nwith exclusive_lock({str(path)!r}):\n"
            "    print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(BiorelError) as e:
            write_pairs(pair_rows([cid_doc()]), path)
        assert e.value.code == "E050"
    finally:
        holder.kill()
        holder.wait()


# ---------------------------------------------------------------- the command
def test_cli_end_to_end_on_a_file(tmp_path):
    from biorel.cli import app

    io.write([cid_doc()], tmp_path / "c.bioc.json")
    out = tmp_path / "pairs.csv"
    res = runner.invoke(app, ["pairs", str(tmp_path / "c.bioc.json"), "-o", str(out), "--scope", "sentence"])
    assert res.exit_code == 0, res.output
    assert "3 candidate pairs written" in res.output and "positives: 2 rows (CID 2)" in res.output
    assert "unreachable gold relations: 1 (arguments never mentioned in one sentence: 1)" in res.output
    rows = list(read_pairs(out))
    assert len(rows) == 3 and rows[0]["format"] == "bioc-json" and rows[0]["source"] == str((tmp_path / "c.bioc.json").resolve())
    res = runner.invoke(app, ["pairs", str(tmp_path / "c.bioc.json"), "-o", str(out), "--marker", "bold"])
    assert res.exit_code == 1 and "E180" in res.output and "typed, plain, none" in res.output
    res = runner.invoke(
        app,
        [
            "pairs",
            str(tmp_path / "c.bioc.json"),
            "-o",
            str(out),
            "--pair-types",
            "Chemical:Disease,Disease:Chemical",
            "--scope",
            "document",
            "--negatives",
            "none",
        ],
    )
    assert res.exit_code == 0 and "3 candidate pairs written" in res.output and "5 more left out" in res.output


# ---------------------------------------------------------------- real data
@pytest.fixture
def data_env(mirror, monkeypatch, tmp_path):
    monkeypatch.setenv("BIOREL_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("BIOREL_CACHE", str(tmp_path / "cache"))
    return mirror


@pytest.mark.realdata
def test_gad_fold1_test_every_sentence_gives_its_pair(data_env):
    from biorel.datasets import load_dataset

    with open(data_env / "gad" / "1" / "test.tsv", newline="", encoding="utf-8") as fh:
        gold = {r["index"]: r["label"] for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)}
    docs = load_dataset("gad", split="test", fold=1)
    assert len(docs) == len(gold) == 534
    st = PairStats()
    rows = list(pair_rows(docs, scope="document", stats=st))
    # one unordered GENE/DISEASE pair per sentence, in both orders (the GAD relation is undirected)
    per_doc = Counter(r["doc_id"] for r in rows)
    assert set(per_doc) == set(gold) and set(per_doc.values()) == {2}
    for r in rows:
        assert {r["head_text"], r["tail_text"]} == {"@GENE$", "@DISEASE$"}
        assert r["label"] == ("1" if gold[r["doc_id"]] == "1" else NONE_LABEL)
    assert st.positive_rows == 2 * 281 and st.negatives == 2 * 253 and st.negative_relations == 253 and not st.unreachable
    check_rows(rows)
    # sentence scope: sentence 135 is two sentences with one mask in each, so its relation is counted unreachable
    st = PairStats()
    rows = list(pair_rows(docs, stats=st))
    assert len(rows) == 2 * 533 and "135" not in {r["doc_id"] for r in rows}
    assert st.unreachable == Counter({"arguments never mentioned in one sentence": 1})


def independent_candidates(docs: list[Document]) -> int:
    """Ordered pairs of distinct mentioned entities whose types a gold
    relation has (both orders when undirected), with two distinct spans."""
    allowed = set()
    for d in docs:
        types = {e.id: e.type for e in d.entities}
        for r in d.relations:
            allowed.add((types[r.head], types[r.tail]))
            if not r.directed:
                allowed.add((types[r.tail], types[r.head]))
    n = 0
    for d in docs:
        spans = {m.id: set(m.spans) for m in d.mentions}
        ents = [(e.type, set().union(*(spans[m] for m in e.mention_ids if m in spans))) for e in d.entities]
        ents = [e for e in ents if e[1]]
        for a, (ta, sa) in enumerate(ents):
            for b, (tb, sb) in enumerate(ents):
                if a != b and (ta, tb) in allowed and (len(sa | sb) > 1):
                    n += 1
    return n


@pytest.mark.realdata
def test_biored_dev_bioc_json_document_scope(data_env, tmp_path):
    from biorel.datasets import load_dataset

    docs = load_dataset("biored", split="dev", variant="bioc-json")
    st = PairStats()
    rows = list(pair_rows(docs, scope="document", stats=st))
    assert len(rows) == independent_candidates(docs)
    # every gold relation (undirected) labels both orders, except one whose head and tail are one entity
    assert st.unreachable == Counter({"head and tail are one entity": 1})
    assert st.positive_rows == 2 * (sum(len(d.relations) for d in docs) - 1)
    check_rows(rows)


@pytest.mark.realdata
def test_biored_dev_sentence_scope_matches_the_relation_classifier(data_env):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from biorel.datasets import load_dataset

    assert_like_relclf(load_dataset("biored", split="dev", variant="bioc-json"))


@pytest.mark.realdata
def test_cli_end_to_end_on_biored(data_env, tmp_path):
    from biorel.cli import app

    out = tmp_path / "pairs.csv"
    res = runner.invoke(app, ["pairs", "biored:dev?variant=bioc-json", "-o", str(out), "--scope", "document"])
    assert res.exit_code == 0, res.output
    with open(out, newline="", encoding="utf-8") as fh:
        got = list(csv.DictReader(fh))
    assert f"{len(got)} candidate pairs written" in res.output and "unreachable gold relations: 1" in res.output
    assert {r["source"] for r in got} == {"biored:dev?variant=bioc-json"} and {r["format"] for r in got} == {"bioc-json"}
    for r in got:
        for arg in ("head", "tail"):
            assert r["text"][int(r[f"{arg}_start"]) : int(r[f"{arg}_end"])] == r[f"{arg}_text"]


def test_closest_spans_helper():
    pytest.importorskip("torch")
    from biorel.models.pairs import SpanAt, char_grounding, closest_spans

    head = [SpanAt(0, 3, 0, "a"), SpanAt(40, 43, 1, "b"), SpanAt(70, 73, -1, "c")]
    tail = [SpanAt(10, 13, 0, "x"), SpanAt(44, 47, 2, "y"), SpanAt(75, 78, -1, "z"), SpanAt(0, 3, 0, "w")]
    # one sentence: only a/x (w is a's own span); any sentence: b/y (4 apart); spans outside every sentence pair only at document scope
    assert closest_spans(head, tail) == (head[0], tail[0])
    assert closest_spans(head, tail, same_sentence=False) == (head[1], tail[1])
    assert closest_spans(head[2:], tail[2:]) is None and closest_spans(head[:1], tail[3:], same_sentence=False) is None
    doc = cid_doc()
    refs, where = char_grounding(doc.entities, doc.mentions, [(0, 35), (36, 62), (63, 87)])
    assert [(r.id, r.ranges) for r in refs][:2] == [("C1", [(0, 7), (63, 70)]), ("C2", [(12, 19), (36, 43)])]
    assert where["C2"] == [SpanAt(12, 19, 0, "M2"), SpanAt(36, 43, 1, "M3")]
