"""PubMed XML (``biorel.io.pubmed``): the real efetch samples with answers read
off the XML by hand, inline markup, gzip, DeleteCitation, errors with
locations, lenient skipping, format detection and the command line."""

from __future__ import annotations

import gzip
import io as pyio
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biorel import io
from biorel.cli import app
from biorel.errors import BiorelError, Diagnostics
from biorel.io import pubmed, sniff
from biorel.validate import check_document

#: an inline tag left in a text (``<`` followed by a name or ``/``); a bare ``<``
#: before a number (``r2<0.25``, from ``&lt;``) is text
TAG = re.compile(r"</?[A-Za-z][\w:.-]*[\s/>]")


def _pm(mirror: Path, name: str) -> Path:
    return mirror / "pubmed_xml" / name


def _consistent(doc) -> None:
    assert check_document(doc) == []
    text = doc.text
    for p in doc.passages:
        assert text[p.offset : p.offset + len(p.text)] == p.text
        assert not TAG.search(p.text), (doc.id, p.text)
    ends = [p.offset + len(p.text) for p in doc.passages]
    assert [p.offset for p in doc.passages[1:]] == [e + 1 for e in ends[:-1]]  # one separator, PubTator's layout


def _words(text: str) -> tuple[str, str]:
    w = text.split()
    return w[0], w[-1]


# ---- the real samples ---------------------------------------------------------------------------------


@pytest.mark.realdata
def test_pubmed1_title_only_article_and_one_with_an_abstract(mirror):
    docs = io.load(_pm(mirror, "pubmed1.xml"))
    assert [d.id for d in docs] == ["12091962", "9997"]
    first, second = docs
    assert [p.type for p in first.passages] == ["title"]
    assert first.passages[0].text == "The treatment of AIDS behind the walls of correctional facilities."
    assert second.passages[0].text == "Magnetic studies of Chromatium flavocytochrome C552. A mechanism for heme-flavin interaction."
    assert [p.type for p in second.passages] == ["title", "abstract"]
    assert _words(second.passages[1].text) == ("Electron", "heme-flavin interaction.".split()[-1])
    assert second.passages[1].offset == len(second.passages[0].text) + 1
    meta = second.metadata["pubmed"]
    assert meta["journal"] == "Biochimica et biophysica acta" and meta["year"] == "1976"
    assert meta["doi"] == "10.1016/0005-2795(76)90109-4" and meta["languages"] == ["eng"]
    assert meta["publication_types"] == ["Journal Article"] and meta["version"] == "1"
    assert meta["mesh_headings"][1] == {
        "descriptor": "Chromatium",
        "ui": "D002844",
        "major": False,
        "qualifiers": [{"name": "enzymology", "ui": "Q000201", "major": True}],
    }
    assert first.metadata["pubmed"]["publication_types"] == ["Journal Article", "Review"]
    assert first.metadata["pubmed"]["keywords"] == ["Health Care and Public Health", "Legal Approach"]
    for d in docs:
        _consistent(d)


@pytest.mark.realdata
def test_pubmed2_two_abstracts(mirror):
    docs = io.load(_pm(mirror, "pubmed2.xml"))
    assert [d.id for d in docs] == ["11748933", "11700088"]
    assert docs[0].passages[0].text.startswith("Is cryopreservation a homogeneous process?")
    assert _words(docs[0].passages[1].text) == ("This", "damage.")
    assert "(P < 0.001)" in docs[0].passages[1].text  # &lt; is a character
    assert docs[1].passages[0].text == "Proton MRI of (13)C distribution by J and chemical shift editing."
    assert _words(docs[1].passages[1].text) == ("The", "water.")
    assert docs[0].metadata["pubmed"]["copyright"] == "Copyright 2001 Elsevier Science."
    assert docs[1].metadata["pubmed"]["status"] == "PubMed-not-MEDLINE"
    for d in docs:
        assert len(d.passages) == 2
        _consistent(d)


@pytest.mark.realdata
def test_pubmed4_structured_abstract_and_inline_markup(mirror):
    (doc,) = io.load(_pm(mirror, "pubmed4.xml"))
    assert doc.id == "27797938"  # the article's PMID, not one of the ~50 PMIDs of its CommentsCorrections
    title, *sections = doc.passages
    assert title.text == "Leucocyte telomere length, genetic variants at the TERT gene region and risk of pancreatic cancer."
    assert [s.infons for s in sections] == [{"label": "OBJECTIVE"}, {"label": "DESIGN"}, {"label": "RESULTS"}, {"label": "CONCLUSIONS"}]
    assert [s.type for s in sections] == ["abstract"] * 4
    assert [_words(s.text) for s in sections] == [
        ("Telomere", "cancer."),
        ("We", "respectively."),
        ("Shorter", "(p=0.023)."),
        ("Prediagnostic", "cancer."),
    ]
    assert "reverse transcriptase (TERT) gene region" in sections[0].text
    assert "p=0.002" in sections[2].text and "ptrend=0.048" in sections[2].text and "r2<0.25" in sections[2].text
    # offsets: title 98 characters, then each section one character after the previous one
    assert [(p.offset, len(p.text)) for p in doc.passages] == [(0, 98), (99, 331), (431, 559), (991, 689), (1681, 132)]
    assert doc.metadata["pubmed"]["doi"] == "10.1136/gutjnl-2016-312510" and doc.metadata["pubmed"]["pmc"] == "PMC5442267"
    _consistent(doc)


@pytest.mark.realdata
def test_pubmed5_labels_and_nlm_categories(mirror):
    (doc,) = io.load(_pm(mirror, "pubmed5.xml"))
    assert doc.id == "28775130"
    assert doc.passages[0].text == "Occupational pesticide exposure and subclinical hypothyroidism among male pesticide applicators."
    sections = doc.passages[1:]
    assert [(s.infons["label"], s.infons["nlm_category"]) for s in sections] == [
        ("OBJECTIVES", "OBJECTIVE"),
        ("METHODS", "METHODS"),
        ("RESULTS", "RESULTS"),
        ("CONCLUSIONS", "CONCLUSIONS"),
    ]
    assert [_words(s.text) for s in sections] == [
        ("Animal", "applicators."),
        ("Self-reported", "models."),
        ("Higher", "(ptrend=0.01)."),
        ("Our", "applicators."),
    ]
    assert "(TSH >4.5 mIU/L) compared with normal TSH (0.4-<4.5 mIU/L)" in sections[1].text  # <u>&lt;</u>: the character stays
    assert "(ORQ3=4.15, 95% CI" in sections[2].text
    _consistent(doc)


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["pubmed1.xml", "pubmed2.xml", "pubmed4.xml", "pubmed5.xml"])
def test_real_samples_are_detected_by_content_and_gzip_reads_the_same(mirror, tmp_path, name):
    src = _pm(mirror, name)
    assert sniff.sniff_content(src) == "pubmed-xml" and io.detect_format(src).name == "pubmed-xml"
    want = io.load(src)
    gz = tmp_path / (name + ".gz")
    gz.write_bytes(gzip.compress(src.read_bytes()))
    assert io.detect_format(gz).name == "pubmed-xml"
    assert io.load(gz) == want
    odd = tmp_path / "no_extension"
    shutil.copy(gz, odd)
    assert sniff.sniff_content(odd) == "pubmed-xml" and io.load(odd) == want  # gzip told by content, not name
    with open(gz, "rb") as fh:  # a binary stream
        assert pubmed.load(fh) == want
    assert pubmed.loads(src.read_text(encoding="utf-8")) == want


# ---- inline markup ------------------------------------------------------------------------------------


def _article(pmid: str = "1", title: str = "A title.", abstract: str | None = "<AbstractText>An abstract.</AbstractText>", extra: str = "") -> str:
    abs_xml = f"<Abstract>{abstract}</Abstract>" if abstract is not None else ""
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE"><PMID Version="1">{pmid}</PMID><Article>'
        f"<ArticleTitle>{title}</ArticleTitle>{abs_xml}</Article>{extra}</MedlineCitation></PubmedArticle>\n"
    )


def _set(*articles: str, tail: str = "") -> str:
    return (
        '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
        '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n' + "".join(articles) + tail + "</PubmedArticleSet>\n"
    )


MML = 'xmlns:mml="http://www.w3.org/1998/Math/MathML"'


@pytest.mark.parametrize(
    "markup, text",
    [
        ("Effect of <i>TERT</i> on cells.", "Effect of TERT on cells."),
        ("r<sup>2</sup>&lt;0.25 and CO<sub>2</sub>", "r2<0.25 and CO2"),
        ("<b>Bold <i>and <u>nested</u></i> text</b>.", "Bold and nested text."),
        (f"Area <mml:math {MML}><mml:msup><mml:mi>r</mml:mi><mml:mn>2</mml:mn></mml:msup></mml:math> grows.", "Area r2 grows."),
        (
            f"Mean <mml:math {MML}><mml:semantics><mml:mover><mml:mi>x</mml:mi><mml:mo>&#xaf;</mml:mo></mml:mover>"
            f'<mml:annotation encoding="application/x-tex">\\bar{{x}}</mml:annotation></mml:semantics></mml:math> = 3.',
            "Mean x\u00af = 3.",
        ),
        ("  two  spaces\tand a tab  ", "  two  spaces\tand a tab  "),  # whitespace is kept exactly
    ],
)
def test_inline_markup_is_text_not_structure(markup, text):
    (doc,) = pubmed.loads(_set(_article(title=markup, abstract=f"<AbstractText>See {markup}</AbstractText>")))
    assert doc.passages[0].text == text
    assert doc.passages[1].text == "See " + text
    assert doc.passages[1].offset == len(text) + 1
    assert doc.text == text + " See " + text
    _consistent(doc)


def test_inline_markup_offsets_are_exact():
    xml = _set(
        _article(
            title="The <i>BRCA1</i> gene",
            abstract='<AbstractText Label="BACKGROUND" NlmCategory="BACKGROUND">Na<sup>+</sup> ions</AbstractText>'
            '<AbstractText Label="RESULTS">H<sub>2</sub>O<sub>2</sub> <b>up</b></AbstractText>',
        )
    )
    (doc,) = pubmed.loads(xml)
    assert doc.text == "The BRCA1 gene Na+ ions H2O2 up"
    assert [(p.offset, p.text, p.infons) for p in doc.passages] == [
        (0, "The BRCA1 gene", {}),
        (15, "Na+ ions", {"label": "BACKGROUND", "nlm_category": "BACKGROUND"}),
        (24, "H2O2 up", {"label": "RESULTS"}),
    ]
    assert doc.text[4:9] == "BRCA1" and doc.text[24:28] == "H2O2"


def test_metadata_other_abstract_and_vernacular_title():
    extra = (
        '<OtherAbstract Type="Publisher" Language="spa"><AbstractText>Un <i>resumen</i>.</AbstractText></OtherAbstract>'
        '<KeywordList Owner="NOTNLM"><Keyword MajorTopicYN="N">cells</Keyword></KeywordList>'
    )
    xml = _set(_article(title="[A translated title].", extra=extra)).replace(
        "</ArticleTitle>", "</ArticleTitle><VernacularTitle>Un título.</VernacularTitle>"
    )
    (doc,) = pubmed.loads(xml)
    meta = doc.metadata["pubmed"]
    assert meta["vernacular_title"] == "Un título."
    assert meta["other_abstracts"] == [{"type": "Publisher", "language": "spa", "sections": [{"text": "Un resumen."}]}]
    assert meta["keywords"] == ["cells"]
    assert [p.type for p in doc.passages] == ["title", "abstract"]  # OtherAbstract is metadata, not text


def test_book_article():
    book = (
        '<PubmedBookArticle><BookDocument><PMID Version="1">20301295</PMID><Book><BookTitle>GeneReviews</BookTitle>'
        "<PubDate><Year>1993</Year></PubDate></Book><ArticleTitle>Alpha-Thalassemia</ArticleTitle>"
        '<Abstract><AbstractText Label="CLINICAL CHARACTERISTICS">Two types.</AbstractText></Abstract>'
        "<Language>eng</Language></BookDocument></PubmedBookArticle>\n"
    )
    (doc,) = pubmed.loads(_set(book))
    assert doc.id == "20301295" and doc.text == "Alpha-Thalassemia Two types."
    assert doc.passages[1].infons == {"label": "CLINICAL CHARACTERISTICS"}
    assert doc.metadata["pubmed"]["kind"] == "book" and doc.metadata["pubmed"]["journal"] == "GeneReviews"


# ---- deletions ---------------------------------------------------------------------------------------


DELETE = '<DeleteCitation>\n<PMID Version="1">111</PMID>\n<PMID Version="1">222</PMID>\n</DeleteCitation>\n'


def test_delete_citation_gives_no_documents_and_lists_its_pmids(tmp_path):
    path = tmp_path / "pubmed25n1300.xml.gz"
    path.write_bytes(gzip.compress(_set(_article("5"), _article("6"), tail=DELETE).encode()))
    assert [d.id for d in io.load(path)] == ["5", "6"]
    assert list(pubmed.deleted_pmids(path)) == ["111", "222"]
    only = tmp_path / "deletions.xml"
    only.write_text(_set(tail=DELETE), encoding="utf-8")
    assert io.load(only) == [] and list(pubmed.deleted_pmids(only)) == ["111", "222"]


def test_cli_convert_and_stats_on_an_update_file(tmp_path):
    src = tmp_path / "update.xml.gz"
    src.write_bytes(gzip.compress(_set(_article("5", "Title <i>five</i>."), tail=DELETE).encode()))
    runner = CliRunner()
    res = runner.invoke(app, ["convert", str(src), str(tmp_path / "out.jsonl")])
    assert res.exit_code == 0, res.output
    assert "wrote 1 documents" in res.output
    (doc,) = io.load(tmp_path / "out.jsonl")
    assert doc.id == "5" and doc.passages[0].text == "Title five."
    res = runner.invoke(app, ["stats", str(src), "--json"])
    assert res.exit_code == 0, res.output
    assert '"documents": 1' in res.output


# ---- errors -------------------------------------------------------------------------------------------


def test_truncated_xml_is_e023_with_a_line_after_the_articles_before_it(tmp_path):
    text = _set(_article("1"), _article("2"), _article("3"))
    path = tmp_path / "broken.xml"
    path.write_text(text[: text.index(">3</PMID>") + 5], encoding="utf-8")  # cut inside the third article
    got = []
    with pytest.raises(BiorelError) as e:
        for doc in io.read(path):
            got.append(doc.id)
    assert got == ["1", "2"]
    assert e.value.code == "E023" and e.value.where.file == str(path) and e.value.where.line is not None
    diags = Diagnostics()
    assert [d.id for d in io.load(path, lenient=True, diagnostics=diags)] == ["1", "2"]
    assert [p.code for p in diags] == ["E023"] and diags.problems[0].action == "rest of file skipped"


@pytest.mark.parametrize("n", [400, 20000])  # cut inside the first 64 KiB that are read to check the root, or after them
def test_truncated_gzip_is_e194(tmp_path, n):
    data = gzip.compress(_set(*(_article(str(i), f"Title {i}.") for i in range(1, n))).encode())
    path = tmp_path / "cut.xml.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BiorelError) as e:
        io.load(path)
    assert e.value.code == "E194" and str(path) in str(e.value)
    diags = Diagnostics()
    docs = io.load(path, lenient=True, diagnostics=diags)
    assert docs and [p.code for p in diags] == ["E194"] and diags.problems[0].action == "rest of file skipped"


def test_wrong_root_is_e190(tmp_path):
    path = tmp_path / "x.pubmed.xml"
    path.write_text("<?xml version='1.0'?>\n<collection><source>x</source></collection>\n", encoding="utf-8")
    with pytest.raises(BiorelError) as e:
        io.load(path)
    assert e.value.code == "E190" and e.value.where.line == 2 and "<collection>" in str(e.value)


@pytest.mark.parametrize(
    "article, reason",
    [
        (_article("", "A title."), "no PMID"),
        (_article("7", "", abstract=None), "title is empty and it has no abstract"),
        (_article("8", "  ", abstract="<AbstractText></AbstractText>"), "title is empty and it has no abstract"),
    ],
)
def test_unusable_article_is_e191_with_its_line_and_skipped_when_lenient(tmp_path, article, reason):
    path = tmp_path / "bad.xml"
    path.write_text(_set(_article("1"), article, _article("9")), encoding="utf-8")
    with pytest.raises(BiorelError) as e:
        io.load(path)
    assert e.value.code == "E191" and reason in str(e.value)
    assert e.value.where.file == str(path) and e.value.where.line == 5 and "PubmedArticle[2]" in e.value.where.path
    diags = Diagnostics()
    assert [d.id for d in io.load(path, lenient=True, diagnostics=diags)] == ["1", "9"]
    assert [(p.code, p.action) for p in diags] == [("E191", "article skipped")]
    assert f"{path}:5" in str(diags.problems[0])


def test_empty_title_with_an_abstract_keeps_the_layout():
    (doc,) = pubmed.loads(_set(_article("3", "", abstract="<AbstractText>Only an abstract.</AbstractText>")))
    assert [(p.offset, p.text) for p in doc.passages] == [(0, ""), (1, "Only an abstract.")]


def test_invalid_utf8_is_e020(tmp_path):
    path = tmp_path / "bad.xml"
    path.write_bytes(_set(_article("1"), _article("2", "Bad \xff byte")).encode("latin-1"))
    with pytest.raises(BiorelError) as e:
        io.load(path)
    assert e.value.code == "E020" and e.value.where.line is not None


def test_duplicate_pmid_is_e016():
    with pytest.raises(BiorelError) as e:
        pubmed.loads(_set(_article("4"), _article("4")))
    assert e.value.code == "E016"


def test_bioc_xml_and_broken_xml_keep_their_old_readers(tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text("<notxml", encoding="utf-8")
    assert io.detect_format(broken).name == "bioc-xml"
    bioc = tmp_path / "c.xml"
    bioc.write_text("<collection><source>s</source><date>d</date><key>k</key></collection>", encoding="utf-8")
    assert io.detect_format(bioc).name == "bioc-xml"
    assert io.detect_format(tmp_path / "new.xml", for_writing=True).name == "bioc-xml"


def test_reader_is_read_only():
    with pytest.raises(BiorelError) as e:
        pubmed.dumps([])
    assert e.value.code == "E004"


def test_memory_is_released_while_streaming():
    """The parsed tree never holds more than the current article (each one is
    cleared with its predecessors)."""
    xml = _set(*(_article(str(i), f"Title {i}.") for i in range(1, 2001)))
    seen = []
    for doc in pubmed.iterparse(pyio.BytesIO(xml.encode())):
        seen.append(doc.id)
    assert len(seen) == 2000
    from lxml import etree

    events = etree.iterparse(pyio.BytesIO(xml.encode()), events=("end",), tag=pubmed.TOP)
    left = []
    for _, el in events:
        pubmed._release(el)
        assert el.getprevious() is None and len(el) == 0  # nothing before it, nothing in it
        left.append(len(el.getparent()))  # itself, and what the parser has read ahead (one input block)
    assert max(left) < 400
