"""One scorer for every model and protocol.

Evaluators are pure functions of gold/predicted :class:`~biorel.types.Example` s
that return a typed :class:`Report` (TP/FP/FN per type, micro and macro P/R/F1,
bootstrap intervals over documents). They are registered in
``registry.evaluators`` under versioned names with short aliases, and each
declares a ``primary_metric``:

=========================  ===============  ==============================================
name                       alias            what it scores
=========================  ===============  ==============================================
``biorel.NER.v1``          ``ner``          mentions: strict / overlap / type-agnostic
``biorel.RE.Concept.v1``   ``concept``      entity-level relations by concept ids
``biorel.RE.CID.v1``       ``cid``          official BioCreative V CDR CID protocol
``biorel.RE.Mention.v1``   ``mention``      mention-level relations (exact argument spans)
``biorel.RE.EndToEnd.v1``  ``e2e``          seq2rel/BioGPT end-to-end entity-string matching
``biorel.RE.ABroad.v1``    ``abroad``       ABroad-RE normalised-string protocol
``biorel.SentenceRE.v1``   ``sentence``     sentence classification (GAD, ChemProt-SciBERT)
=========================  ===============  ==============================================

::

    from biorel.evaluation import evaluate, paired_bootstrap
    report = evaluate(examples, "cid")            # or make_evaluator("ner", match="overlap")(examples)
    report.primary, report.intervals["micro_f1"], report.to_dict()
    paired_bootstrap(report_a, report_b).p_value

The rules of each protocol are in its module's docstring and in docs/evaluation.md.
"""

from __future__ import annotations

from .base import Evaluator, build_report, evaluate, make_evaluator, register
from .bootstrap import bootstrap_intervals, paired_bootstrap
from .clustering import ClusteringReport, adjusted_rand_index, cluster_quality, kmeans, normalized_mutual_info
from .matching import DocResult, MatchItem, score_items
from .report import PRF, Averages, Confusion, Interval, PairedTest, Report, ScoredPrediction

# evaluator modules (each registers its evaluators)
from . import ner as ner  # noqa: E402
from . import relations as relations  # noqa: E402
from . import abroad as abroad  # noqa: E402
from . import sentence as sentence  # noqa: E402
from .abroad import ABroadEvaluator, normalise as abroad_normalise, outputs_to_documents, parse_output  # noqa: E402
from .ner import NEREvaluator  # noqa: E402
from .relations import CIDEvaluator, ConceptEvaluator, EndToEndEvaluator, MentionRelationEvaluator  # noqa: E402
from .sentence import SentenceEvaluator  # noqa: E402

__all__ = [
    "evaluate",
    "make_evaluator",
    "register",
    "Evaluator",
    "build_report",
    "bootstrap_intervals",
    "paired_bootstrap",
    "cluster_quality",
    "adjusted_rand_index",
    "normalized_mutual_info",
    "kmeans",
    "ClusteringReport",
    "Report",
    "PRF",
    "Averages",
    "Interval",
    "Confusion",
    "PairedTest",
    "ScoredPrediction",
    "MatchItem",
    "DocResult",
    "score_items",
    "NEREvaluator",
    "ConceptEvaluator",
    "CIDEvaluator",
    "MentionRelationEvaluator",
    "EndToEndEvaluator",
    "ABroadEvaluator",
    "SentenceEvaluator",
    "parse_output",
    "abroad_normalise",
    "outputs_to_documents",
]
