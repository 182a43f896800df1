"""Random baseline, stopping rule, writers and the diversity report."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from biorel.errors import BiorelError
from biorel.registry import registry
from biorel.sampling import GMESampler, ItemTable, RandomSampler, Record, get_sampler
from biorel.sampling.report import diversity_report
from biorel.sampling.result import SampleResult


def table(stratify: bool = False) -> ItemTable:
    rng = np.random.default_rng(3)
    recs = []
    for i in range(40):
        k = "K1" if i % 3 else "K2"
        for _ in range(int(rng.integers(1, 4))):
            recs.append(Record(f"r{i:02d}", {"org": f"o{min(rng.zipf(1.5), 12)}", "chem": f"c{min(rng.zipf(1.3), 30)}"}, k))
    return ItemTable.from_records(recs, ["org", "chem"], stratify="k" if stratify else None)


def test_registry_names_and_aliases():
    assert registry.samplers.resolve("gme") == "biorel.GME.v1"
    assert registry.samplers.resolve("random") == "biorel.Random.v1"
    assert isinstance(get_sampler("gme", selector="sum"), GMESampler)
    with pytest.raises(BiorelError) as e:
        get_sampler("nope")
    assert e.value.code == "E001"


def test_bad_options_are_coded_errors():
    for kw in ({"selector": "max"}, {"decimals": -1}, {"quota": "fair"}):
        with pytest.raises(BiorelError) as e:
            GMESampler(**kw)
        assert e.value.code == "E220"
    t = table()
    with pytest.raises(BiorelError) as e:
        GMESampler().sample(t, t.n_items + 1)
    assert e.value.code == "E225"
    with pytest.raises(BiorelError) as e:
        GMESampler().sample(t, 0)
    assert e.value.code == "E220"


def test_random_is_seeded_without_replacement_and_records_the_trajectory():
    t = table()
    a, b, c = RandomSampler(seed=1).sample(t, 15), RandomSampler(seed=1).sample(t, 15), RandomSampler(seed=2).sample(t, 15)
    assert a.items == b.items and a.items != c.items
    assert len(set(a.items)) == 15
    # the last entropy equals the entropy of the sample's summed counts
    for v in range(2):
        counts = t.totals(v, a.indices)
        p = counts[counts > 0] / counts.sum()
        assert a.entropies[-1, v] == pytest.approx(-(p * np.log(p)).sum())


def test_stratified_random_meets_the_quotas():
    t = table(stratify=True)
    r = RandomSampler(seed=0).sample(t, 10)
    assert r.quota == {"K1": 5, "K2": 5}
    assert sorted(r.strata) == ["K1"] * 5 + ["K2"] * 5
    assert r.strata[:4] == ["K1", "K2", "K1", "K2"]  # round robin


def test_gme_beats_random_on_its_objective():
    t = table()
    g = GMESampler().sample(t, 12)
    d = [RandomSampler(seed=s).sample(t, 12).objective[-1] for s in range(10)]
    assert g.objective[-1] < min(d)


def result_with(objective, entropies, name="dutopia") -> SampleResult:
    k = len(objective)
    return SampleResult(
        "x",
        {},
        ("A", "B"),
        [f"i{j}" for j in range(k)],
        np.arange(k),
        np.array(entropies, dtype=float),
        np.array(objective, dtype=float),
        name,
        np.array([1.0, 1.0]),
    )


def test_stopping_rule_known_answers():
    H = [[0.1, 0.2], [0.5, 0.3], [0.6, 0.6], [0.4, 0.7], [0.3, 0.65]]
    r = result_with([1.0, 0.5, 0.3, 0.31, 0.4], H)
    stop = r.stop()
    assert (stop.step, stop.objective) == (3, 0.3)
    assert stop.variable_peaks == {"A": 3, "B": 4}
    assert r.stop(tolerance=0.25).step == 2  # first step within 0.25 of the best
    s = result_with([1.0, 2.0, 2.0, 1.5], H[:4], name="sum")
    assert s.stop().step == 2  # maximised; first of the tied best


def test_tsv_and_json_writers(tmp):
    r = GMESampler().sample(table(), 5)
    r.write(tmp / "p.tsv")
    lines = (tmp / "p.tsv").read_text().splitlines()
    assert lines[0].split("\t") == ["rank", "item", "H(org)", "H(chem)", "dutopia"]
    assert [ln.split("\t")[1] for ln in lines[1:]] == r.items
    assert float(lines[-1].split("\t")[2]) == pytest.approx(r.entropies[-1, 0], abs=1e-6)
    r.write(tmp / "p.json")
    d = json.loads((tmp / "p.json").read_text())
    assert [p["item"] for p in d["picks"]] == r.items and d["stop"]["step"] == r.stop().step
    with pytest.raises(BiorelError) as e:
        r.write(tmp / "p.xlsx")
    assert e.value.code == "E228"


def test_report_numbers_and_files(tmp):
    t = table(stratify=True)
    g = GMESampler().sample(t, 12)
    rep = diversity_report(t, g, seeds=10)
    # the sample's measures, recomputed here from the picked items' counts
    counts = t.totals(1, g.indices)
    p = counts[counts > 0] / counts.sum()
    assert rep.sample["chem"]["entropy"] == pytest.approx(-(p * np.log(p)).sum())
    assert rep.sample["chem"]["richness"] == np.count_nonzero(counts)
    assert rep.sample["chem"]["simpson"] == pytest.approx(1 - (p**2).sum())
    assert rep.sample["chem"]["evenness"] == pytest.approx(rep.sample["chem"]["entropy"] / math.log(np.count_nonzero(counts)))
    # the random baseline, recomputed from 10 seeded random samples
    ents = []
    for s in range(10):
        c = t.totals(1, RandomSampler(seed=s).sample(t, 12).indices)
        q = c[c > 0] / c.sum()
        ents.append(-(q * np.log(q)).sum())
    assert rep.random_mean["chem"]["entropy"] == pytest.approx(np.mean(ents))
    assert rep.random_sd["chem"]["entropy"] == pytest.approx(np.std(ents, ddof=1))
    assert rep.strata["K1"]["sample"] + rep.strata["K2"]["sample"] == 12
    out = rep.write(tmp / "rep")
    for f in ("report.json", "report.md", "entropy_trajectory.png", "rank_frequency.png", "strata.png"):
        assert (out / f).stat().st_size > 0
    assert (out / "entropy_trajectory.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "report.json").read_text())["measures"]["org"]["entropy"]["sample"] == pytest.approx(rep.sample["org"]["entropy"])
    with pytest.raises(BiorelError) as e:
        diversity_report(t, g, seeds=5)
    assert e.value.code == "E220"
