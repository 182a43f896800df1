"""Property tests for every reader and writer (issue 12, reading half).

1. **Mutated real files.** A small excerpt of a real file in each registered
   format (the first few documents) is mutated -- a byte flipped, the file
   truncated, a line deleted or duplicated, the keys of its JSON objects
   shuffled, an XML element deleted -- and read strictly and leniently. Every
   read either gives documents that validate (``check_document(doc) == []``)
   or stops with a coded :class:`BiorelError` that says where; any other
   exception (a traceback) fails the test.
2. **Every writer's output reads back.** Each real sample is written in every
   format that can hold it, read back, validated and compared on what the
   target holds: text, mention spans and types, relations.

Parts 1 and 2 also run on spec-written fixtures (``tests/io/data`` and small
documents built here) when no dataset mirror is present.
"""

from __future__ import annotations

import json
import random
import shutil
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biorel import io
from biorel.errors import BiorelError, Diagnostics
from biorel.types import Document, Entity, Mention, Passage, Relation
from biorel.validate import check_document

DATA = Path(__file__).parent / "data"
EXAMPLES = 40
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# ---- samples: a few documents of a real file in each format ------------------------------------------


@dataclass(frozen=True)
class Sample:
    """A small file in ``fmt``: ``main`` is the file the reader is given (for
    brat one ``.ann``, for BC2 the sentence file); ``mutable`` the files a
    mutation may change; ``json``/``xml`` say which structural mutations fit."""

    fmt: str
    main: str
    mutable: tuple[str, ...]
    kind: str = "text"  # "json", "jsonl", "xml" or "text"


def _head_blocks(text: str, n: int) -> str:
    """The first ``n`` blank-line-separated blocks of ``text`` (PubTator, CoNLL)."""
    blocks = [b for b in text.split("\n\n") if b.strip()]
    return "\n\n".join(blocks[:n]) + "\n\n"


def _head_lines(path: Path, n: int) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return "".join(line for _, line in zip(range(n), fh))


def _xml_head(path: Path, n: int) -> str:
    """The first ``n`` ``<document>`` elements of a BioC XML file, byte-exact, closed."""
    text = path.read_text(encoding="utf-8")
    end = 0
    for _ in range(n):
        end = text.index("</document>", end) + len("</document>")
    return text[:end] + "\n</collection>\n"


def _bioc_json_head(path: Path, n: int) -> str:
    tree = json.loads(path.read_text(encoding="utf-8"))
    tree["documents"] = tree["documents"][:n]
    return json.dumps(tree, indent=1, ensure_ascii=False)


def _abroad_head(path: Path, n: int) -> str:
    tree = json.loads(path.read_text(encoding="utf-8"))
    return json.dumps(dict(list(tree.items())[:n]), indent=4)


def build_real_samples(mirror: Path, root: Path) -> dict[str, Sample]:
    """Excerpts of the mirror's files in ``root`` (a few KB each)."""
    out: dict[str, Sample] = {}

    def put(name: str, text: str) -> str:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8", newline="")
        return name

    cdr = (mirror / "bc5cdr" / "CDR_TestSet.PubTator.txt").read_text(encoding="utf-8")
    out["pubtator"] = Sample("pubtator", put("cdr.pubtator", _head_blocks(cdr, 3)), ("cdr.pubtator",))
    out["pubtator-biored"] = Sample(
        "pubtator", put("biored.pubtator", _head_blocks((mirror / "biored" / "Test.PubTator").read_text(encoding="utf-8"), 2)), ("biored.pubtator",)
    )
    out["bioc-xml"] = Sample("bioc-xml", put("biored.bioc.xml", _xml_head(mirror / "biored" / "Test.BioC.XML", 2)), ("biored.bioc.xml",), "xml")
    out["bioc-xml-cdr"] = Sample(
        "bioc-xml", put("cdr.bioc.xml", _xml_head(mirror / "bc5cdr" / "bioc_xml" / "CDR_TestSet.BioC.xml", 2)), ("cdr.bioc.xml",), "xml"
    )
    out["bioc-json"] = Sample(
        "bioc-json", put("biored.bioc.json", _bioc_json_head(mirror / "biored" / "Dev.BioC.JSON", 2)), ("biored.bioc.json",), "json"
    )
    out["bioc-json-cdr"] = Sample(
        "bioc-json",
        put("cdr.bioc.json", _bioc_json_head(mirror / "bc5cdr" / "bioc_json_converted" / "CDR_TestSet.BioC.json", 2)),
        ("cdr.bioc.json",),
        "json",
    )
    conll = (mirror / "ncbi_disease" / "conll" / "test.tsv").read_text(encoding="utf-8")
    out["conll"] = Sample("conll", put("ncbi.conll", _head_blocks(conll, 6)), ("ncbi.conll",))
    out["pure"] = Sample(
        "pure", put("chemprot.pure.json", _head_lines(mirror / "chemprot_pure_json" / "dev.json", 2)), ("chemprot.pure.json",), "jsonl"
    )
    out["sentence-tsv"] = Sample("sentence-tsv", put("gad.tsv", _head_lines(mirror / "gad" / "1" / "test.tsv", 25)), ("gad.tsv",))
    out["chemprot-scibert"] = Sample(
        "chemprot-scibert", put("scibert.jsonl", _head_lines(mirror / "chemprot_scibert" / "dev.jsonl", 25)), ("scibert.jsonl",), "jsonl"
    )
    out["lotus"] = Sample(
        "lotus", put("lotus.tsv", _head_lines(mirror / "abroad_re_lotus" / "gme_sampler_example" / "test_data.csv", 25)), ("lotus.tsv",)
    )
    out["abroad"] = Sample(
        "abroad", put("abroad.json", _abroad_head(mirror / "abroad_re_lotus" / "examples-validation__sub_valid.json", 2)), ("abroad.json",), "json"
    )
    out["bc2"] = _bc2_sample(mirror / "bc2gm" / "original" / "test", root, put)
    out["brat"] = _brat_sample(mirror / "ddi2013" / "DDICorpus-2013(BRAT).zip", root)
    out["text"] = Sample("text", put("abstracts.txt", _pubtator_as_text(_head_blocks(cdr, 3))), ("abstracts.txt",))
    out["pairs"] = _pairs_sample(root)
    pubmed = mirror / "pubmed_xml"
    out["pubmed-xml"] = Sample("pubmed-xml", put("pubmed1.xml", (pubmed / "pubmed1.xml").read_text(encoding="utf-8")), ("pubmed1.xml",), "xml")
    out["pubmed-xml-structured"] = Sample(
        "pubmed-xml", put("pubmed5.xml", (pubmed / "pubmed5.xml").read_text(encoding="utf-8")), ("pubmed5.xml",), "xml"
    )
    out["medline"] = Sample(
        "medline", put("records.medline", (pubmed / "medline_pubmed_result2.txt").read_text(encoding="utf-8")), ("records.medline",)
    )
    jsonl_docs = io.load(root / "cdr.pubtator", "pubtator")
    out["jsonl"] = Sample("jsonl", put("cdr.jsonl", io.dumps(jsonl_docs, "jsonl")), ("cdr.jsonl",), "jsonl")
    out["parquet"] = _parquet_sample(jsonl_docs, root)
    return out


def _parquet_sample(docs: list[Document], root: Path) -> Sample:
    """The PubTator sample as a Parquet output folder; read through its manifest, every file mutable."""
    io.write(docs, root / "cdr_parquet", "parquet")
    files = sorted(str(p.relative_to(root)) for p in (root / "cdr_parquet").rglob("*") if p.is_file())
    return Sample("parquet", "cdr_parquet/_biorel_parquet.json", tuple(files))


def _pairs_sample(root: Path) -> Sample:
    """The ``biorel pairs`` table (CSV, sentence scope) of the BioC JSON sample."""
    from biorel.pairs_table import pair_rows, write_pairs

    write_pairs(pair_rows(io.load(root / "biored.bioc.json", "bioc-json")), root / "biored_pairs.csv")
    return Sample("pairs", "biored_pairs.csv", ("biored_pairs.csv",))


def _pubtator_as_text(pubtator: str) -> str:
    """Title and abstract of each PubTator document, one block each."""
    blocks = []
    for block in pubtator.split("\n\n"):
        lines = [ln.split("|", 2)[2] for ln in block.splitlines() if ln.count("|") >= 2 and ln.split("|", 2)[1] in ("t", "a")]
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _bc2_sample(folder: Path, root: Path, put) -> Sample:
    lines = _head_lines(folder / "test.in", 15)
    ids = {line.split(" ", 1)[0] for line in lines.splitlines()}
    for name in ("GENE.eval", "ALTGENE.eval"):
        kept = [ln for ln in (folder / name).read_text(encoding="utf-8").splitlines(keepends=True) if ln.split("|", 1)[0] in ids]
        put(f"bc2/{name}", "".join(kept))
    return Sample("bc2", put("bc2/test.in", lines), ("bc2/test.in", "bc2/GENE.eval"))


def _brat_sample(archive: Path, root: Path) -> Sample:
    folder = root / "ddi"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as z:
        anns = sorted(n for n in z.namelist() if n.endswith(".ann") and "/Test/" in n)
        for ann in anns:
            data = z.read(ann)
            if data.count(b"\n") >= 4:  # a document with mentions and a relation or two
                break
        (folder / "doc.ann").write_bytes(data)
        (folder / "doc.txt").write_bytes(z.read(ann[: -len(".ann")] + ".txt"))
    return Sample("brat", "ddi/doc.ann", ("ddi/doc.ann", "ddi/doc.txt"))


def build_fixture_samples(root: Path) -> dict[str, Sample]:
    """Spec-written samples (no mirror needed): the BioC fixtures in tests/io/data
    and the same small documents written by each format's writer."""
    out: dict[str, Sample] = {}
    for name, kind in (("bioc_v2.xml", "xml"), ("sentences_nary.bioc.xml", "xml"), ("pubtator3_docs.bioc.json", "json")):
        shutil.copy(DATA / name, root / name)
        out[name] = Sample("bioc-xml" if kind == "xml" else "bioc-json", name, (name,), kind)
    docs = small_documents()
    for fmt, name, kind in (
        ("pubtator", "s.pubtator", "text"),
        ("jsonl", "s.jsonl", "jsonl"),
        ("conll", "s.conll", "text"),
        ("text", "s.txt", "text"),
    ):
        (root / name).write_text(io.dumps(docs, fmt), encoding="utf-8", newline="")
        out[f"fixture-{fmt}"] = Sample(fmt, name, (name,), kind)
    return out


def small_documents() -> list[Document]:
    """Two abstracts with typed mentions, entities and a relation each."""
    out = []
    for i, (chem, dis) in enumerate((("Aspirin", "headache"), ("Caffeine", "insomnia")), start=1):
        title = f"{chem} and {dis}."
        abstract = f"{chem} caused {dis} in two patients."
        text = title + " " + abstract
        a, b = len(title) + 1, len(title) + 1 + len(chem) + len(" caused ")
        mentions = [
            Mention("M1", ((0, len(chem)),), chem, "Chemical", (f"C{i}",)),
            Mention("M2", ((len(chem) + 5, len(chem) + 5 + len(dis)),), dis, "Disease", (f"D{i}",)),
            Mention("M3", ((a, a + len(chem)),), chem, "Chemical", (f"C{i}",)),
            Mention("M4", ((b, b + len(dis)),), dis, "Disease", (f"D{i}",)),
        ]
        assert [text[m.start : m.end] for m in mentions] == [chem, dis, chem, dis]
        entities = [Entity(f"C{i}", "Chemical", ("M1", "M3")), Entity(f"D{i}", "Disease", ("M2", "M4"))]
        out.append(
            Document(
                f"90000{i}",
                [Passage(0, title, "title"), Passage(len(title) + 1, abstract, "abstract")],
                mentions,
                entities,
                [Relation("R1", "CID", f"C{i}", f"D{i}")],
            )
        )
    return out


@pytest.fixture(scope="module")
def real_samples(mirror, tmp_path_factory) -> tuple[Path, dict[str, Sample]]:
    root = tmp_path_factory.mktemp("real")
    return root, build_real_samples(mirror, root)


@pytest.fixture(scope="module")
def fixture_samples(tmp_path_factory) -> tuple[Path, dict[str, Sample]]:
    root = tmp_path_factory.mktemp("fixtures")
    return root, build_fixture_samples(root)


# ---- mutations -----------------------------------------------------------------------------------------


def flip_byte(data: bytes, rnd: random.Random) -> bytes:
    if not data:
        return data
    i = rnd.randrange(len(data))
    return data[:i] + bytes([rnd.randrange(256)]) + data[i + 1 :]


def truncate(data: bytes, rnd: random.Random) -> bytes:
    return data[: rnd.randrange(len(data) + 1)]


def delete_line(data: bytes, rnd: random.Random) -> bytes:
    lines = data.splitlines(keepends=True)
    if lines:
        del lines[rnd.randrange(len(lines))]
    return b"".join(lines)


def duplicate_line(data: bytes, rnd: random.Random) -> bytes:
    lines = data.splitlines(keepends=True)
    if lines:
        i = rnd.randrange(len(lines))
        lines.insert(i, lines[i])
    return b"".join(lines)


def _shuffled(value, rnd: random.Random):
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: _shuffled(v, rnd) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rnd) for v in value]
    return value


def shuffle_json_keys(data: bytes, rnd: random.Random, *, lines: bool = False) -> bytes:
    """Every JSON object's keys in a random order (one value per line with ``lines``)."""
    text = data.decode("utf-8")
    if lines:
        return "".join(json.dumps(_shuffled(json.loads(ln), rnd)) + "\n" for ln in text.splitlines() if ln.strip()).encode()
    return json.dumps(_shuffled(json.loads(text), rnd), indent=1).encode()


def delete_xml_element(data: bytes, rnd: random.Random) -> bytes:
    root = ET.fromstring(data)
    parents = [(p, c) for p in root.iter() for c in p]
    if parents:
        parent, child = parents[rnd.randrange(len(parents))]
        parent.remove(child)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


BYTE_MUTATIONS = {"flip": flip_byte, "truncate": truncate, "delete-line": delete_line, "duplicate-line": duplicate_line}


def mutations_for(sample: Sample) -> list[str]:
    names = list(BYTE_MUTATIONS)
    if sample.kind in ("json", "jsonl"):
        names.append("shuffle-keys")
    if sample.kind == "xml":
        names.append("delete-element")
    return names


def mutate(sample: Sample, name: str, data: bytes, rnd: random.Random) -> bytes:
    if name == "shuffle-keys":
        return shuffle_json_keys(data, rnd, lines=sample.kind == "jsonl")
    if name == "delete-element":
        return delete_xml_element(data, rnd)
    return BYTE_MUTATIONS[name](data, rnd)


# ---- the property ----------------------------------------------------------------------------------------


def copy_sample(src_root: Path, sample: Sample, dst: Path) -> None:
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    for rel in {sample.main, *sample.mutable, *_companions(src_root, sample)}:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src_root / rel, dst / rel)


def _companions(root: Path, sample: Sample) -> list[str]:
    """Files a reader picks up beside the main one (BC2's ALTGENE.eval)."""
    folder = (root / sample.main).parent
    return [str((folder / n).relative_to(root)) for n in ("ALTGENE.eval",) if (folder / n).exists()]


def read_outcome(path: Path, fmt: str, *, lenient: bool) -> list[Document] | BiorelError:
    """Read ``path``; documents that must validate, or the coded error that
    stopped the read. Any other exception propagates and fails the test."""
    diags = Diagnostics() if lenient else None
    try:
        docs = io.load(path, fmt, lenient=lenient, diagnostics=diags)
    except BiorelError as err:
        assert err.code.startswith("E") and err.code[1:].isdigit(), err
        assert err.where is not None or str(path.name) in str(err), f"{err!r} names no location"
        return err
    for doc in docs:
        assert check_document(doc, require_text=_requires_text(fmt)) == [], (fmt, doc.id)
    if lenient:
        assert all(p.code and p.where is not None for p in diags)
    return docs


def _requires_text(fmt: str) -> bool:
    """LOTUS, JSONL and Parquet documents may be text-less (relations from a table)."""
    return fmt not in ("lotus", "jsonl", "parquet")


def check_mutations(root: Path, sample: Sample, work: Path, mutation: str, target: str, seed: int) -> None:
    copy_sample(root, sample, work)
    path = work / target
    rnd = random.Random(seed)
    try:
        path.write_bytes(mutate(sample, mutation, path.read_bytes(), rnd))
    except (ValueError, ET.ParseError):  # the structural mutation needs a parseable file; nothing to test
        return
    for lenient in (False, True):
        read_outcome(work / sample.main, sample.fmt, lenient=lenient)


def _property(samples_fixture, key: str):
    @SETTINGS
    @given(data=st.data())
    def run(tmp_path, data):
        root, samples = samples_fixture
        sample = samples[key]
        mutation = data.draw(st.sampled_from(mutations_for(sample)), label="mutation")
        target = data.draw(st.sampled_from(sample.mutable), label="file")
        seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
        check_mutations(root, sample, tmp_path / "work", mutation, target, seed)

    return run


REAL_KEYS = [
    "pubtator",
    "pubtator-biored",
    "bioc-xml",
    "bioc-xml-cdr",
    "bioc-json",
    "bioc-json-cdr",
    "conll",
    "pure",
    "sentence-tsv",
    "chemprot-scibert",
    "lotus",
    "pairs",
    "pubmed-xml",
    "pubmed-xml-structured",
    "medline",
    "abroad",
    "bc2",
    "brat",
    "text",
    "jsonl",
    "parquet",
]
FIXTURE_KEYS = [
    "bioc_v2.xml",
    "sentences_nary.bioc.xml",
    "pubtator3_docs.bioc.json",
    "fixture-pubtator",
    "fixture-jsonl",
    "fixture-conll",
    "fixture-text",
]


@pytest.mark.realdata
@pytest.mark.parametrize("key", REAL_KEYS)
def test_mutated_real_file_validates_or_fails_with_a_code(real_samples, key, tmp_path):
    root, samples = real_samples
    assert samples[key].fmt in io.format_names()
    assert io.load(root / samples[key].main, samples[key].fmt), f"the unmutated {key} sample reads documents"
    _property(real_samples, key)(tmp_path)


@pytest.mark.parametrize("key", FIXTURE_KEYS)
def test_mutated_fixture_validates_or_fails_with_a_code(fixture_samples, key, tmp_path):
    root, samples = fixture_samples
    assert io.load(root / samples[key].main, samples[key].fmt)
    _property(fixture_samples, key)(tmp_path)


@pytest.mark.realdata
def test_every_registered_format_has_a_real_sample(real_samples):
    _, samples = real_samples
    assert {s.fmt for s in samples.values()} == set(io.format_names())


# ---- 2. every writer's output reads back ------------------------------------------------------------


#: where each format writes (a folder for brat; BC2 writes GENE.eval beside its sentence file)
TARGETS = {
    "jsonl": "out.jsonl",
    "bioc-xml": "out.bioc.xml",
    "bioc-json": "out.bioc.json",
    "pubtator": "out.pubtator",
    "brat": "out_brat",
    "conll": "out.conll",
    "bc2": "bc2/out.in",
    "pure": "out.pure.json",
    "text": "out.txt",
    "sentence-tsv": "out.tsv",
    "chemprot-scibert": "out.scibert.jsonl",
    "lotus": "out.lotus.tsv",
    "abroad": "out.abroad.json",
    "parquet": "out_parquet",
}
#: the codes of "this format cannot hold that document"
CANNOT_HOLD = {"E104", "E124", "E153", "E166"}
#: formats that hold every document
LOSSLESS = ("jsonl", "bioc-xml", "bioc-json", "parquet")


def _squash(text: str) -> str:
    return " ".join(text.split())


def _mentions(docs: list[Document], *, typed: bool = True) -> Counter:
    """(type, covered text) of every mention, whitespace squashed (CoNLL and PURE rebuild the text from tokens)."""
    return Counter((m.type if typed else "", _squash(" ".join(d.span_text(m.spans)))) for d in docs for m in d.mentions)


def _relation_types(docs: list[Document]) -> Counter:
    return Counter(r.type for d in docs for r in d.relations)


def _relations(docs: list[Document]) -> list[list[tuple]]:
    """Each relation as (type, head, tail), an argument named by where its
    mentions are (ids differ between formats: brat renumbers them T1, T2, ...)."""
    return [sorted((r.type, _argument(d, r.head), _argument(d, r.tail)) for r in d.relations) for d in docs]


def _argument(doc: Document, ref: str):
    mentions, entities = doc.mention_index(), doc.entity_index()
    if ref in mentions:
        return (mentions[ref].spans,)
    if ref in entities and entities[ref].mention_ids:
        return tuple(sorted(mentions[m].spans for m in entities[ref].mention_ids if m in mentions))
    return ref


def _spans(docs: list[Document], typed: bool = True) -> list[list[tuple]]:
    return [sorted(((m.type if typed else ""), m.spans) for m in d.mentions) for d in docs]


def compare(target: str, docs: list[Document], back: list[Document]) -> None:
    """What ``target`` holds of ``docs`` is what came back."""
    if target in ("jsonl", "parquet"):
        assert back == docs
        return
    if target in ("conll", "pure"):  # token formats: documents may split into sentences, text is rebuilt from tokens
        assert _mentions(back) == _mentions(docs)
        if target == "pure":
            assert _relation_types(back) == _relation_types(docs)
        return
    assert len(back) == len(docs)
    if target in ("sentence-tsv", "chemprot-scibert"):  # masked / marked sentences: the labels
        assert _relation_types(back) == _relation_types(docs)
        return
    if target == "lotus":
        assert _relations(back) == _relations(docs)
        return
    texts = [d.text for d in docs]
    assert [_squash(d.text) for d in back] == [_squash(t) for t in texts]
    if target in ("pubtator", "abroad"):  # PubTator joins passages as title|abstract; ABroad holds title + abstract
        if target == "pubtator":
            assert _mentions(back) == _mentions(docs)
        assert _relation_types(back) == _relation_types(docs)
        return
    assert [d.text for d in back] == texts
    if target == "text":
        return
    if target == "bc2":  # BC2 holds untyped gene spans
        assert _spans(back, typed=False) == _spans(docs, typed=False)
        return
    assert _spans(back) == _spans(docs)
    assert _relations(back) == _relations(docs)


def write_and_read_back(docs: list[Document], target: str, out: Path) -> list[Document] | BiorelError:
    api = io.get_format(target).api
    try:
        api.dump(docs, out)
    except BiorelError as err:
        assert err.code in CANNOT_HOLD, err
        assert target not in LOSSLESS, err
        return err
    back = io.load(out, target)
    for doc in back:
        assert check_document(doc, require_text=_requires_text(target)) == [], (target, doc.id)
    return back


def _round_trips(samples_fixture, key: str, tmp_path: Path) -> dict[str, str]:
    root, samples = samples_fixture
    sample = samples[key]
    docs = io.load(root / sample.main, sample.fmt)
    outcome = {}
    for target, name in TARGETS.items():
        back = write_and_read_back(docs, target, tmp_path / target / name)
        if isinstance(back, BiorelError):
            outcome[target] = back.code
            continue
        if target == "brat":  # a folder: its documents come back in file-name order
            rank = {d.id: i for i, d in enumerate(docs)}
            back = sorted(back, key=lambda d: rank.get(d.id, len(rank)))
        compare(target, docs, back)
        outcome[target] = "ok"
    return outcome


#: formats that read only (``pairs``: tables are written by ``biorel pairs``;
#: PubMed XML and MEDLINE: NLM's formats, read for extraction)
READ_ONLY = {"pairs", "pubmed-xml", "medline"}


def test_every_writable_format_is_a_target():
    def writes(name: str) -> bool:
        try:
            io.dumps([], name)
        except BiorelError as err:
            return err.code != "E004"  # E004: the format cannot write
        return True

    assert set(TARGETS) == {name for name in io.format_names() if writes(name)}
    assert READ_ONLY == {name for name in io.format_names() if not writes(name)}


@pytest.mark.realdata
@pytest.mark.parametrize("key", REAL_KEYS)
def test_real_sample_written_in_every_format_reads_back(real_samples, key, tmp_path):
    outcome = _round_trips(real_samples, key, tmp_path)
    assert all(outcome[t] == "ok" for t in LOSSLESS), outcome
    fmt = samples_format(real_samples, key)
    if fmt in READ_ONLY:  # its documents were written in every other format above
        return
    assert outcome[fmt] == "ok", outcome  # a format holds what it read


@pytest.mark.parametrize("key", FIXTURE_KEYS)
def test_fixture_written_in_every_format_reads_back(fixture_samples, key, tmp_path):
    outcome = _round_trips(fixture_samples, key, tmp_path)
    assert all(outcome[t] == "ok" for t in LOSSLESS), outcome


def samples_format(samples_fixture, key: str) -> str:
    return samples_fixture[1][key].fmt


def test_small_documents_reach_the_formats_that_hold_them(fixture_samples, tmp_path):
    docs = small_documents()
    got = {t: write_and_read_back(docs, t, tmp_path / t / name) for t, name in TARGETS.items()}
    held = {t for t, b in got.items() if not isinstance(b, BiorelError)}
    assert {"jsonl", "bioc-xml", "bioc-json", "pubtator", "conll", "text", "bc2"} <= held, {t: getattr(b, "code", "ok") for t, b in got.items()}
    for t in held:
        compare(t, docs, got[t])
