"""A small hand-built gold/prediction pair whose TP/FP/FN are known, and helpers."""

from __future__ import annotations

from biorel.types import Document, Entity, Mention, Passage, Relation

TEXT = "Cisplatin caused renal failure and nausea in rats given aspirin."


def span(word: str, text: str = TEXT) -> tuple[int, int]:
    start = text.index(word)
    return (start, start + len(word))


def _m(mid: str, word: str, type_: str, ids: tuple[str, ...] = (), score: float | None = None) -> Mention:
    s, e = span(word)
    return Mention(mid, ((s, e),), TEXT[s:e], type_, ids, infons={"score": score} if score is not None else {})


def gold_doc() -> Document:
    """Four mentions (two chemicals, two diseases), CID D1->D2 and D1->D3."""
    return Document(
        "d1",
        passages=[Passage(0, TEXT, "abstract")],
        mentions=[
            _m("g1", "Cisplatin", "Chemical", ("D1",)),
            _m("g2", "renal failure", "Disease", ("D2",)),
            _m("g3", "nausea", "Disease", ("D3",)),
            _m("g4", "aspirin", "Chemical", ("D4",)),
        ],
        entities=[
            Entity("D1", "Chemical", ("g1",)),
            Entity("D2", "Disease", ("g2",)),
            Entity("D3", "Disease", ("g3",)),
            Entity("D4", "Chemical", ("g4",)),
        ],
        relations=[Relation("R1", "CID", "D1", "D2", directed=True), Relation("R2", "CID", "D1", "D3", directed=True)],
    )


def pred_doc() -> Document:
    """Strict NER: cisplatin (twice, a duplicate) and nausea right (TP 2); 'failure'
    (boundary) and 'rats' wrong (FP 2); 'renal failure' and aspirin missed (FN 2).
    Relations (e2e and concept): D1->D3 right (TP 1); D1->X and D9->D3 wrong (FP 2);
    D1->D2 missed (FN 1)."""
    return Document(
        "d1",
        passages=[Passage(0, TEXT, "abstract")],
        mentions=[
            _m("p1", "Cisplatin", "Chemical", score=0.99),
            _m("p2", "failure", "Disease", score=0.8),
            _m("p3", "nausea", "Disease", score=0.95),
            _m("p4", "rats", "Chemical", score=0.4),
            _m("p5", "Cisplatin", "Chemical", score=0.9),
        ],
        entities=[
            Entity("D1", "Chemical", ("p1", "p5"), name="Cisplatin"),
            Entity("X", "Disease", ("p2",), name="failure"),
            Entity("D3", "Disease", ("p3",), name="nausea"),
            Entity("D9", "Chemical", ("p4",), name="rats"),
        ],
        relations=[
            Relation(
                "r1", "CID", "D1", "D3", directed=True, score=0.9, evidence=((0, len(TEXT)),), infons={"attributions": [[0, 9, 0.9], [10, 16, 0.5]]}
            ),
            Relation("r2", "CID", "D1", "X", directed=True, score=0.6),
            Relation("r3", "CID", "D9", "D3", directed=True, score=0.2),
        ],
    )


HOSTILE = '</script><img src=x onerror="window.__pwned=1"><!-- & \u2028 <script>window.__pwned=2</script>'


def hostile_doc() -> Document:
    """A document whose id, text, types and names try to break out of the page."""
    text = "Title " + HOSTILE + " end."
    s = text.index("<img")
    return Document(
        'evil"</script><b>',
        passages=[Passage(0, text, "title")],
        mentions=[Mention("m<1>", ((s, s + 4),), text[s : s + 4], "Chem</script>ical")],
        entities=[Entity("e</script>", "Chem</script>ical", ("m<1>",), name=HOSTILE)],
        relations=[Relation("r</script>", "<img src=y onerror=alert(1)>", "e</script>", "e</script>", score=0.7)],
    )
