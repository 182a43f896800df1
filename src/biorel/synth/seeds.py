"""From a seed document to the fields of a prompt.

A seed is any biorel :class:`~biorel.types.Document` with entity-level
relations (ABroad JSON, LOTUS tables, any corpus read by :func:`biorel.io.read`).

* **Title**: the passage of type ``title``; else ``metadata`` ``title`` /
  ``ArticleTitle`` / ``reference_title``; else, for ``produces`` relations
  (LOTUS rows carry no title), "Chemical constituents of {organisms}".
  A seed with none of these is skipped (E320).
* **Abstract** (few-shot examples, lexical-diversity baseline): the passages
  that are not the title, joined by a space.
* **Keywords**: ``metadata["keywords"]`` (a list or a comma-separated string)
  when present; else up to ``k`` key phrases of the abstract (or the title),
  found like RAKE: candidate phrases are runs of words between stop words and
  punctuation, a word scores degree/frequency, a phrase the sum of its words;
  ties keep text order. Phrases are lower-cased, joined by ", " and end with
  ".", as in the paper's prompts.
* **Targets**: the relation arguments (:func:`~biorel.synth.verbalise.target_entities`);
  each needs a name (E316).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ..errors import error
from ..types import Document, Entity
from .verbalise import entity_name, join_list, target_entities, verbalise

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below between both but by
    can could did do does doing down during each few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just may me might more most must my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves then there these they this those
    through to too under until up upon very was we were what when where which while who whom why will with within without would you your
    yours yourself yourselves using used use via however thus therefore herein well new novel two three four five one study studies
    showed shown show shows found obtained isolated identified compound compounds result results report reported respectively
    including based among against along whereas although further furthermore moreover""".split()
)
_WORD = re.compile(r"[A-Za-z\u0370-\u03ff][\w\u0370-\u03ff'-]*|\d[\w.-]*|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class SeedInput:
    doc_id: str
    title: str
    abstract: str
    keywords: str
    targets: tuple[Entity, ...]
    title_source: str  # passage | metadata | organisms

    def findings(self, doc: Document, numbered: bool) -> str:
        return verbalise(doc, numbered=numbered)


def title_of(doc: Document) -> tuple[str, str] | None:
    for p in doc.passages:
        if p.type.lower() in ("title", "front") and p.text.strip():
            return " ".join(p.text.split()), "passage"
    for k in ("title", "ArticleTitle", "reference_title"):
        v = doc.metadata.get(k)
        if isinstance(v, str) and v.strip():
            return " ".join(v.split()), "metadata"
    ents = doc.entity_index()
    orgs = [ents[r.head] for r in doc.relations if r.type == "produces" and r.head in ents]
    if orgs:
        names = list(dict.fromkeys(entity_name(o, doc) for o in orgs))
        return f"Chemical constituents of {join_list(names)}", "organisms"
    return None


def abstract_of(doc: Document) -> str:
    parts = [p.text for p in sorted(doc.passages, key=lambda p: p.offset) if p.type.lower() not in ("title", "front")]
    return " ".join(" ".join(parts).split())


def key_phrases(text: str, k: int = 7) -> list[str]:
    """RAKE-style key phrases (see the module docstring), at most 4 words each."""
    phrases: list[list[str]] = []
    cur: list[str] = []
    for tok in _WORD.findall(text):
        low = tok.lower()
        if low in STOPWORDS or not re.match(r"[\w\u0370-\u03ff]", tok) or low.replace(".", "").isdigit():
            if cur:
                phrases.append(cur)
            cur = []
        else:
            cur.append(low)
            if len(cur) == 4:
                phrases.append(cur)
                cur = []
    if cur:
        phrases.append(cur)
    freq: Counter[str] = Counter()
    degree: Counter[str] = Counter()
    for ph in phrases:
        for w in ph:
            freq[w] += 1
            degree[w] += len(ph)
    scored: dict[str, tuple[float, int]] = {}
    for i, ph in enumerate(phrases):
        key = " ".join(ph)
        if len(key) < 3 or key in scored:
            continue
        scored[key] = (sum(degree[w] / freq[w] for w in ph), i)
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
    return [kp for kp, _ in ranked[:k]]


def keywords_of(doc: Document, abstract: str, title: str, k: int = 7) -> str:
    given = doc.metadata.get("keywords")
    if isinstance(given, str) and given.strip():
        items = [x.strip() for x in given.split(",") if x.strip()]
    elif isinstance(given, list) and given:
        items = [str(x).strip() for x in given if str(x).strip()]
    else:
        items = key_phrases(abstract or title, k)
    return (", ".join(items) + ".") if items else ""


def seed_input(doc: Document, *, k_keywords: int = 7) -> SeedInput:
    """The prompt fields of a seed (E320 when it cannot be used)."""
    if not doc.relations:
        raise error("E320", doc=doc.id, reason="it has no relations")
    targets = target_entities(doc)
    if not targets:
        raise error("E320", doc=doc.id, reason="no relation connects two entities (mention-level relations are not supported)")
    for ent in targets:
        try:
            entity_name(ent, doc)
        except Exception:
            raise error("E316", entity=ent.id, doc=doc.id) from None
    found = title_of(doc)
    if found is None:
        raise error("E320", doc=doc.id, reason="it has no title (no title passage, no metadata title, no organism to name)")
    title, source = found
    abstract = abstract_of(doc)
    return SeedInput(doc.id, title, abstract, keywords_of(doc, abstract, title, k_keywords), tuple(targets), source)
