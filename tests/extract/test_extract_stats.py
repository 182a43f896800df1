"""ExtractStats.to_dict is JSON: type counts stay {type: count}."""

import json

from biorel.extract import ExtractStats
from biorel.models.testing import toy_corpus


def test_stats_to_dict_is_json_with_type_counts():
    stats = ExtractStats(output="x.jsonl")
    for doc in toy_corpus(3):
        stats.count(doc)
    d = json.loads(json.dumps(stats.to_dict()))
    assert d["mention_types"] == {
        "Chemical": sum(1 for doc in toy_corpus(3) for m in doc.mentions if m.type == "Chemical"),
        "Disease": sum(1 for doc in toy_corpus(3) for m in doc.mentions if m.type == "Disease"),
    }
    assert d["relation_types"] == {"CID": sum(len(doc.relations) for doc in toy_corpus(3))}
