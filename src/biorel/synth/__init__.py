"""Synthetic training abstracts (the second half of the ABroad-RE method).

An LLM writes a new abstract from a seed's title, keywords and verbalised
"main findings" (its relations); the target entities are then located in the
text, and only texts that state them (and pass the quality filters) are kept,
as a fully annotated biorel corpus.

    from biorel.synth import SynthJob, SynthConfig, get_template, make_backend, read_seeds
    seeds = read_seeds("examples__example-input.json")
    backend = make_backend("llama-cpp", model="qwen2.5-coder-0.5b")
    SynthJob(seeds, "out/", backend, get_template("chat-verbatim"), SynthConfig(n_per_seed=3)).run()

Modules: :mod:`.backends` (LLM backends, ``registry.llm_backends``),
:mod:`.models` (packaged offline GGUF models), :mod:`.templates` (prompt
templates, ``registry.prompt_templates``), :mod:`.verbalise` (main findings),
:mod:`.seeds` (title/keywords/targets of a seed), :mod:`.groups` (splitting
a seed with many entities into relation groups), :mod:`.align` and
:mod:`.annotate` (locating entities, building documents), :mod:`.quality`
(filters, near-duplicates), :mod:`.job` (the resumable job), :mod:`.report`.
"""

from .align import Alignment, align
from .annotate import annotate
from .backends import BackendError, Completion, LLMBackend, SamplingParams, make_backend
from .groups import SeedGroup, partition_relations, seed_groups
from .job import JobSummary, SynthConfig, SynthJob, job_key, read_seeds
from .models import DEFAULT_LLM, PACKAGED, resolve_llm
from .quality import NearDupIndex, QualityConfig, check_text, clean_completion
from .report import diversity, format_report, synth_report
from .seeds import SeedInput, key_phrases, seed_input
from .templates import Prompt, PromptTemplate, Shot, get_template, load_template_file
from .verbalise import target_entities, verbalise

__all__ = [
    "Alignment",
    "align",
    "annotate",
    "BackendError",
    "Completion",
    "LLMBackend",
    "SamplingParams",
    "make_backend",
    "SeedGroup",
    "partition_relations",
    "seed_groups",
    "JobSummary",
    "SynthConfig",
    "SynthJob",
    "job_key",
    "read_seeds",
    "DEFAULT_LLM",
    "PACKAGED",
    "resolve_llm",
    "NearDupIndex",
    "QualityConfig",
    "check_text",
    "clean_completion",
    "diversity",
    "format_report",
    "synth_report",
    "SeedInput",
    "key_phrases",
    "seed_input",
    "Prompt",
    "PromptTemplate",
    "Shot",
    "get_template",
    "load_template_file",
    "target_entities",
    "verbalise",
]
