from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from biorel.types import Document, Entity, Passage, Relation  # noqa: E402

ABROAD = "abroad_re_lotus"


def load_validation(mirror: Path) -> dict:
    return json.loads((mirror / ABROAD / "examples-validation__sub_valid.json").read_text(encoding="utf-8"))


def prompt_fields(prompt: str) -> dict[str, str]:
    """Title, keywords and findings of a recorded paper prompt."""
    out = {}
    for line in prompt.split("\n"):
        for key, label in (("title", "Title: "), ("keywords", "Keywords: "), ("findings", "Main findings: ")):
            if line.startswith(label):
                out[key] = line[len(label) :]
    return out


def make_seed(
    doc_id: str = "S1",
    title: str = "Alkaloids from the sponge Agelas nakamurai.",
    abstract: str = "",
    chems=("Agelasine B", "Nakamurol A"),
    orgs=("Agelas nakamurai",),
    rels=None,
) -> Document:
    ents = [Entity(f"O{i}", "organism", name=n) for i, n in enumerate(orgs)] + [Entity(f"C{i}", "chemical", name=n) for i, n in enumerate(chems)]
    pairs = rels if rels is not None else [(f"O{0}", f"C{i}") for i in range(len(chems))]
    passages = [Passage(0, title, "title")]
    if abstract:
        passages.append(Passage(len(title) + 1, abstract, "abstract"))
    return Document(
        doc_id, passages=passages, entities=ents, relations=[Relation(f"R{i}", "produces", h, t, directed=True) for i, (h, t) in enumerate(pairs)]
    )


@pytest.fixture
def seeds() -> list[Document]:
    return [
        make_seed("S1"),
        make_seed("S2", "Sterols of a soft coral.", chems=("Cholesterol", "Ergosterol", "Fucosterol"), orgs=("Dendronephthya gigantea",)),
        make_seed("S3", "Carotenoids of Flavobacterium.", chems=("Zeaxanthin",), orgs=("Flavobacterium",)),
    ]
