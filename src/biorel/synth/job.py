"""The resumable synthetic-abstract job.

Output folder layout (``OUT``):

* ``job.json``: the configuration of the first run and what must not change
  between runs (backend, model, template and its hash, sampling limits, score
  threshold, filter settings, ``max_entities``, ``repairs``). A rerun with a
  different one fails (E322) unless ``force``. ``n_per_seed`` and
  ``temperatures`` may grow: the new keys are simply added. A folder written
  before ``max_entities``/``repairs`` existed resumes with both set to 0.
* ``synthetic.jsonl``: accepted documents (biorel native JSONL; read it with
  ``biorel.io.read``).
* ``rejected.jsonl``: rejected outputs, also as documents (whatever was located
  is annotated) with the reason in ``metadata["synth"]["reason"]``.
* ``errors.jsonl``: backend failures after retries (one JSON object per line).
  A failed key is not done: a rerun tries it again.

Splitting (``max_entities``, :mod:`.groups`): a seed whose relations mention
more than ``max_entities`` entities is cut into G relation groups, and sample
index ``i`` targets group ``i mod G``: its findings, labels and score cover
that group only. ``n_per_seed`` counts abstracts per *seed* (and temperature),
as without splitting, so every seed weighs the same in the figures; a seed
with more groups than ``n_per_seed`` gets G abstracts, one per group, so that
no relation is left without an abstract.

Repairs (``repairs``): a reply that passes every quality check but misses
target entities (score below the threshold) gets up to ``repairs`` follow-ups
(:meth:`PromptTemplate.render_repair`: for chat templates a further user turn
naming the missing entities after the model's reply, or with
``repair_style="reprompt"`` a fresh prompt with that request appended; for
completion templates a fresh prompt with the names appended to the
findings). Each new reply is cleaned, checked and aligned again; the record
keeps the last one. Only the model writes text: no code inserts a name. A
backend failure during a repair leaves the whole key pending, like any
backend failure.

Guided decoding (``guide="findings"``, :mod:`.guide`): every request carries a
GBNF grammar under which the reply must contain the key's main findings
verbatim, between free sentences the model writes. The model still writes
every token; the grammar only removes the choices that would leave the
findings out. Backends without a GBNF sampler are refused up front (E306).
``guide="auto"`` (the default) guides on llama.cpp in process and not on an
HTTP server, which may not take a grammar; the job's ``config.guide`` and
its fingerprint hold the guide in effect.

Every job key (``{seed id}|t={temperature}|i={sample index}``) ends in exactly
one record in ``synthetic.jsonl`` or ``rejected.jsonl``. The three files are
journals (:class:`biorel.jobs.Journal`): records are written by one thread, a
whole line at a time, flushed and fsynced. On start the job reads both files,
takes the keys already there as done, and truncates a partial last line left by
a killed run (reported as E052; a malformed complete line is E053). So a rerun
after ``kill -9`` produces no duplicate and loses no finished record.

One writer: a run holds the lock ``OUT.lock`` beside the folder
(:func:`biorel.jobs.exclusive_lock`) from before it reads the folder until it
ends; a second ``biorel synth`` into the same folder stops at once with E050
(naming the folder and the running job's pid) and writes nothing. ``job.json``
is replaced atomically.

Each record's ``metadata["synth"]`` holds the provenance: key, status, reason,
score and located/missing entities (of the final text, against the targeted
group), seed document id, sample index, temperature, the group (``index``,
``of``, relation ids, entity count, the seed's relation count), backend,
model, template name/version hash, sampling parameters of the final generation
(including its random seed), the first prompt, the verbalised findings, the
keywords, finish reason and token counts of the final generation,
``generations`` (LLM calls for this record: 1 + repairs made),
``first_score``/``first_reason`` (the first reply's), ``repair_style`` and
``repairs`` (for each earlier reply: its text, reason, score, missing
entities, and the feedback sent after it), ``attempts`` (backend requests
over all generations, retries included) and ``seconds`` (backend time over
all generations).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, UTC
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterator, Sequence

from ..errors import BiorelError, Diagnostics, Problem, SourceLocation, error
from ..jobs import Journal, atomic_file, exclusive_lock
from ..types import Document
from .align import Alignment
from .annotate import alignment_summary, annotate
from .backends import BackendError, Completion, LLMBackend, SamplingParams
from .groups import SeedGroup, seed_groups
from .guide import GUIDES, FindingsGuide, resolve_guide
from .quality import NearDupIndex, QualityConfig, check_text, clean_completion
from .seeds import SeedInput, seed_input
from .templates import REPAIR_STYLES, Prompt, PromptTemplate, Shot
from .verbalise import compress_series, entity_name, join_list

ACCEPTED = "synthetic.jsonl"
REJECTED = "rejected.jsonl"
ERRORS = "errors.jsonl"
MANIFEST = "job.json"
#: what a fingerprint key added after the first release meant before it existed
LEGACY_FINGERPRINT = {"max_entities": 0, "repairs": 0, "repair": None, "guide": "none", "frequency_penalty": 0.0, "presence_penalty": 0.0}
DEFAULT_MAX_ENTITIES = 6
#: off by default: with the offline Qwen2.5-0.5B none of 12 turn-style repairs fixed a reply (BENCHMARKS.md)
DEFAULT_REPAIRS = 0


@dataclass(frozen=True)
class SynthConfig:
    n_per_seed: int = 3
    temperatures: tuple[float, ...] = (0.8,)
    max_tokens: int = 512
    top_p: float = 1.0
    threshold: float = 1.0
    numbering: str = "alternate"  # never | always | alternate (odd cycles over the groups numbered: odd sample indices when unsplit)
    base_seed: int = 0
    quality: QualityConfig = field(default_factory=QualityConfig)
    max_entities: int = DEFAULT_MAX_ENTITIES  # 0: never split a seed
    repairs: int = DEFAULT_REPAIRS  # follow-ups after a reply that misses target entities
    repair_style: str = "turn"  # chat templates: turn (a further user turn) | reprompt (a fresh prompt)
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    guide: str = "auto"  # auto | none | findings: grammar-guided decoding (biorel.synth.guide)
    guide_options: FindingsGuide = field(default_factory=FindingsGuide)

    def check(self) -> None:
        def bad(option: str, value: Any, reason: str) -> BiorelError:
            return error("E321", option=option, value=value, reason=reason)

        if self.n_per_seed < 1:
            raise bad("n_per_seed", self.n_per_seed, "must be at least 1")
        if not self.temperatures or any(t < 0 or t > 2 for t in self.temperatures):
            raise bad("temperatures", self.temperatures, "give one or more values in [0, 2]")
        if len(set(self.temperatures)) != len(self.temperatures):
            raise bad("temperatures", self.temperatures, "values must be distinct")
        if self.max_tokens < 16:
            raise bad("max_tokens", self.max_tokens, "must be at least 16")
        if not 0 < self.threshold <= 1:
            raise bad("threshold", self.threshold, "must be in (0, 1]")
        if self.numbering not in ("never", "always", "alternate"):
            raise bad("numbering", self.numbering, "one of never, always, alternate")
        if self.max_entities < 0 or self.max_entities == 1:
            raise bad("max_entities", self.max_entities, "0 (no splitting) or at least 2 (a relation has two entities)")
        if not 0 <= self.repairs <= 5:
            raise bad("repairs", self.repairs, "must be in 0..5")
        if self.repair_style not in REPAIR_STYLES:
            raise bad("repair_style", self.repair_style, f"one of {', '.join(REPAIR_STYLES)}")
        for opt in ("frequency_penalty", "presence_penalty"):
            if not -2.0 <= getattr(self, opt) <= 2.0:
                raise bad(opt, getattr(self, opt), "must be in [-2, 2]")
        if self.guide not in GUIDES:
            raise bad("guide", self.guide, f"one of {', '.join(GUIDES)}")
        g = self.guide_options
        if g.intro_sentences < 0 or g.rest_sentences < 0 or g.max_sentence_chars < 20:
            raise bad("guide_options", g, "sentence counts must be >= 0 and max_sentence_chars >= 20")


@dataclass(frozen=True)
class Task:
    key: str
    seed_id: str
    seed_index: int
    sample_index: int
    temperature: float
    group: int = 0  # index into the seed's groups
    cycle: int = 0  # sample_index // number of groups (drives numbering)

    @property
    def sample_seed(self) -> int:
        return int.from_bytes(hashlib.sha256(self.key.encode("utf-8")).digest()[:4], "little")

    @property
    def doc_id(self) -> str:
        return f"{self.seed_id}.synth.t{self.temperature:g}.{self.sample_index}"


def job_key(seed_id: str, temperature: float, index: int) -> str:
    return f"{seed_id}|t={temperature:g}|i={index}"


@dataclass
class JobSummary:
    """Counts of one run. ``processed`` is records written; ``rejected`` counts
    those records by final reason (so ``accepted + sum(rejected) ==
    processed``); ``failed_attempts`` counts every reply that failed, by
    reason, including first replies that a repair then fixed. ``seconds`` is
    the run's wall time, so :attr:`per_hour` is records written per wall hour,
    time spent on repairs included."""

    total_keys: int = 0
    already_done: int = 0
    processed: int = 0
    accepted: int = 0
    accepted_first_time: int = 0
    accepted_after_repair: int = 0
    generations: int = 0
    repaired: int = 0  # records that needed at least one repair
    rejected: Counter = field(default_factory=Counter)
    failed_attempts: Counter = field(default_factory=Counter)
    backend_errors: Counter = field(default_factory=Counter)
    seeds_skipped: int = 0
    seeds_split: int = 0
    truncated_partial_lines: int = 0
    seconds: float = 0.0

    @property
    def per_hour(self) -> float:
        """Records written per wall-clock hour of this run."""
        return 3600.0 * self.processed / self.seconds if self.seconds > 0 else 0.0

    @property
    def acceptance(self) -> float:
        return self.accepted / self.processed if self.processed else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rejected"] = dict(self.rejected)
        d["failed_attempts"] = dict(self.failed_attempts)
        d["backend_errors"] = dict(self.backend_errors)
        d["abstracts_per_hour"] = round(self.per_hour, 1)
        d["acceptance_rate"] = round(self.acceptance, 4)
        return d


# ---------------------------------------------------------------- output files
def recover_jsonl(path: Path, diagnostics: Diagnostics) -> list[dict[str, Any]]:
    """Read a job file (a :class:`biorel.jobs.Journal`), truncating a partial
    last line (E052, reported). A complete line that is not a JSON object is
    an error (E053)."""
    return Journal(path, diagnostics).read()


def record_key(rec: dict[str, Any], path: Path, lineno: int) -> str:
    try:
        return str(rec["metadata"]["synth"]["key"])
    except (KeyError, TypeError):
        raise error("E053", where=SourceLocation(str(path), lineno), path=str(path), line=lineno, reason="no metadata.synth.key") from None


# ---------------------------------------------------------------- the job
ProgressFn = Callable[[JobSummary], None]


class SynthJob:
    """Generate, align, filter and write synthetic abstracts for ``seeds``.

    ``backend`` is a built backend; ``template`` a :class:`PromptTemplate`.
    ``progress`` is called after every finished key with the running summary.
    """

    def __init__(
        self,
        seeds: Sequence[Document],
        out_dir: str | Path,
        backend: LLMBackend,
        template: PromptTemplate,
        config: SynthConfig = SynthConfig(),
        *,
        diagnostics: Diagnostics | None = None,
        force: bool = False,
        seeds_source: str = "",
        progress: ProgressFn | None = None,
        limit: int | None = None,
    ):
        config.check()
        config = replace(config, guide=resolve_guide(config.guide, backend))
        if config.guide != "none" and not getattr(backend, "supports_grammar", False):
            raise error("E306", backend=getattr(backend, "name", type(backend).__name__), how="it does not take a GBNF grammar")
        self.out = Path(out_dir)
        self.backend = backend
        self.template = template
        self.config = config
        self.diagnostics = diagnostics if diagnostics is not None else Diagnostics()
        self.force = force
        self.seeds_source = seeds_source
        self.progress = progress
        self.limit = limit
        self.seeds: list[Document] = []
        self.inputs: dict[str, SeedInput] = {}
        self.summary = JobSummary()
        for doc in seeds:
            try:
                if doc.id in self.inputs:
                    raise error("E320", doc=doc.id, reason="its id was already used by an earlier seed (job keys would collide)")
                inp = seed_input(doc)
            except BiorelError as e:
                self.diagnostics.add(e, "seed skipped")
                self.summary.seeds_skipped += 1
                continue
            self.seeds.append(doc)
            self.inputs[doc.id] = inp
        self.groups: dict[str, list[SeedGroup]] = {doc.id: seed_groups(doc, config.max_entities) for doc in self.seeds}
        self.summary.seeds_split = sum(len(g) > 1 for g in self.groups.values())
        self._shots_pool = [(d.id, self._shot(d)) for d in self.seeds if len(self.inputs[d.id].abstract.split()) >= 50]

    # -- manifest ----------------------------------------------------------
    def fingerprint(self) -> dict[str, Any]:
        c = self.config
        return {
            **{k: v for k, v in self.backend.describe().items() if k in ("backend", "model", "base_url")},
            "template": self.template.name,
            "template_sha": self.template.sha256,
            "max_tokens": c.max_tokens,
            "top_p": c.top_p,
            "frequency_penalty": c.frequency_penalty,
            "presence_penalty": c.presence_penalty,
            "threshold": c.threshold,
            "numbering": c.numbering,
            "base_seed": c.base_seed,
            "quality": asdict(c.quality),
            "max_entities": c.max_entities,
            "repairs": c.repairs,
            "guide": c.guide if c.guide == "none" else f"{c.guide}:{asdict(c.guide_options)}",
            # how repairs are asked for (style and feedback text hash); None when there are none
            "repair": f"{self._repair_style()}:{hashlib.sha256(self.template.repair_text(c.repair_style).encode('utf-8')).hexdigest()[:16]}"
            if c.repairs
            else None,
        }

    def _repair_style(self) -> str:
        """The repair style in effect (a completion template always re-prompts)."""
        return self.config.repair_style if self.template.kind == "chat" else "reprompt"

    def _check_manifest(self) -> None:
        path = self.out / MANIFEST
        fp = self.fingerprint()
        if path.exists():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as e:
                raise error("E053", where=SourceLocation(str(path), 1), path=str(path), line=1, reason=str(e)) from None
            prev = {**LEGACY_FINGERPRINT, **old.get("fingerprint", {})}
            diff = sorted(k for k in set(prev) | set(fp) if prev.get(k) != fp.get(k))
            if diff and not self.force:
                raise error("E322", path=str(self.out), diff=", ".join(f"{k}: {prev.get(k)!r} -> {fp.get(k)!r}" for k in diff))
            runs = old.get("runs", [])
        else:
            runs = []
        runs.append(
            {"started": _now(), "n_per_seed": self.config.n_per_seed, "temperatures": list(self.config.temperatures), "seeds": self.seeds_source}
        )
        manifest = {"fingerprint": fp, "backend": self.backend.describe(), "runs": runs}
        with atomic_file(path) as fh:
            fh.write(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")

    # -- tasks -------------------------------------------------------------
    def tasks(self) -> list[Task]:
        """Every key of the job, in seed, temperature, sample order. A seed of
        G groups has ``max(n_per_seed, G)`` samples per temperature; sample
        ``i`` targets group ``i mod G``."""
        out = []
        for si, doc in enumerate(self.seeds):
            n_groups = len(self.groups[doc.id])
            for t in self.config.temperatures:
                for i in range(max(self.config.n_per_seed, n_groups)):
                    out.append(Task(job_key(doc.id, t, i), doc.id, si, i, t, i % n_groups, i // n_groups))
        return out

    def _numbered(self, task: Task) -> bool:
        """Compound numbers in the findings: ``alternate`` numbers every other
        cycle over the seed's groups (odd sample indices when unsplit)."""
        n = self.config.numbering
        return n == "always" or (n == "alternate" and task.cycle % 2 == 1)

    def _shot(self, doc: Document) -> Shot:
        inp = self.inputs[doc.id]
        return Shot(inp.title, inp.keywords, inp.findings(doc, False), inp.abstract)

    def group_of(self, task: Task) -> SeedGroup:
        return self.groups[task.seed_id][task.group]

    def _prompt_fields(self, task: Task) -> tuple[SeedInput, SeedGroup, str, list[Shot]]:
        doc = self.seeds[task.seed_index]
        inp = self.inputs[doc.id]
        group = self.group_of(task)
        findings = inp.findings(group.doc, self._numbered(task))
        shots: list[Shot] = []
        if self.template.n_shots:
            pool = [s for sid, s in self._shots_pool if sid != doc.id]
            if len(pool) < self.template.n_shots:
                raise error("E312", name=self.template.name, need=self.template.n_shots, doc=doc.id, have=len(pool))
            shots = random.Random(task.sample_seed).sample(pool, self.template.n_shots)
        return inp, group, findings, shots

    def prompt_for(self, task: Task) -> tuple[Prompt, str]:
        """The first prompt of a key and its verbalised findings."""
        inp, _, findings, shots = self._prompt_fields(task)
        return self.template.render(inp.title, inp.keywords, findings, shots), findings

    def params_for(self, task: Task, generation: int = 0, findings: str | None = None) -> SamplingParams:
        """Sampling parameters of a key's generation (0: the first reply,
        k: the k-th repair, sampled with the key's seed + k). A guided job
        adds the grammar of ``findings`` (the key's verbalised findings)."""
        c = self.config
        grammar = None
        if c.guide == "findings":
            grammar = c.guide_options.grammar(findings if findings is not None else self._prompt_fields(task)[2])
        return SamplingParams(
            task.temperature,
            c.max_tokens,
            self.template.stop,
            c.top_p,
            (task.sample_seed + c.base_seed + generation) % (2**31),
            grammar,
            c.frequency_penalty,
            c.presence_penalty,
        )

    # -- one key -----------------------------------------------------------
    def _evaluate(self, task: Task, group: SeedGroup, prompt: Prompt, params: SamplingParams, comp: Completion, feedback: str | None) -> Generation:
        """Clean, check and align one reply (no near-duplicate check: that
        needs the accepted texts, which only the writer thread holds)."""
        inp = self.inputs[task.seed_id]
        text = clean_completion(comp.text, self.template.stop)
        # a reply cut at a stop string or paragraph break ended there, whatever
        # the backend says about the rest of its output
        whole = text == comp.text.strip()
        finish = comp.finish_reason if whole else "stop"
        reason = check_text(text, finish_reason=finish, prompt=prompt.instruction_text(), config=self.config.quality)
        doc, result, dropped = annotate(group.doc, task.doc_id, inp.title, text, group.targets, threshold=self.config.threshold)
        if reason is None and result.score < self.config.threshold:
            reason = "low_score"
        return Generation(prompt, params, comp, text, whole, reason, result, doc, dropped, feedback)

    def missing_names(self, group: SeedGroup, result: Alignment) -> str:
        """The entities a reply missed, as the feedback lists them: quoted,
        series compressed as in the findings ("Oxytropiols A-J")."""
        ents = {t.id: t for t in group.targets}
        names = [(eid, entity_name(ents[eid], group.doc)) for eid in result.missing]
        return join_list([f'"{text}"' for text, _ in compress_series(names)])

    def _run_key(self, task: Task) -> Outcome:
        """All generations of one key: the first reply, then repairs while the
        reply fails on the score alone (runs in a worker thread)."""
        inp, group, findings, shots = self._prompt_fields(task)
        prompt = self.template.render(inp.title, inp.keywords, findings, shots)
        gens: list[Generation] = []
        feedback: str | None = None
        for k in range(self.config.repairs + 1):
            if k:
                last = gens[-1]
                prompt, feedback = self.template.render_repair(
                    last.prompt,
                    last.text,
                    self.missing_names(group, last.alignment),
                    inp.title,
                    inp.keywords,
                    findings,
                    shots,
                    style=self.config.repair_style,
                )
            params = self.params_for(task, k, findings)
            try:
                comp = self.backend.generate(prompt, params)
            except BackendError as e:
                return Outcome(task, findings, gens, e)
            gens.append(self._evaluate(task, group, prompt, params, comp, feedback))
            if gens[-1].reason != "low_score":
                break
        return Outcome(task, findings, gens, None)

    def build_record(self, out: Outcome, near_dup: NearDupIndex) -> tuple[bool, dict[str, Any]]:
        """The record of a finished key (near-duplicate check on the final text)."""
        task, gens = out.task, out.generations
        first, final = gens[0], gens[-1]
        doc = self.seeds[task.seed_index]
        inp = self.inputs[doc.id]
        comp = final.completion
        reason = final.reason
        dup_of = None
        if reason is None:
            hit = near_dup.query(final.text)
            if hit is not None:
                reason, dup_of = "near_duplicate", {"key": hit[0], "jaccard": round(hit[1], 4)}
        meta: dict[str, Any] = {
            "key": task.key,
            "status": "accepted" if reason is None else "rejected",
            "reason": reason,
            **alignment_summary(final.alignment),
            "seed_id": doc.id,
            "sample_index": task.sample_index,
            "temperature": task.temperature,
            "group": self.group_of(task).provenance(),
            **self.backend.describe(),
            "model_reported": comp.model,
            "template": self.template.name,
            "template_sha": self.template.sha256,
            "sampling": final.params.to_dict(),
            "guide": self.config.guide,
            "prompt": first.prompt.text if first.prompt.kind == "completion" else first.prompt.chat_messages(),
            "findings": out.findings,
            "keywords": inp.keywords,
            "title_source": inp.title_source,
            "finish_reason": comp.finish_reason,
            "prompt_tokens": comp.prompt_tokens,
            "completion_tokens": comp.completion_tokens,
            "generations": len(gens),
            "first_score": round(first.alignment.score, 6),
            "first_reason": first.reason,
            "attempts": sum(g.completion.attempts for g in gens),
            "seconds": round(sum(g.completion.seconds for g in gens), 3),
            "created": _now(),
        }
        if len(gens) > 1:
            meta["repair_style"] = self._repair_style()
            meta["repairs"] = [
                {
                    "text": g.text,
                    "reason": g.reason,
                    "score": round(g.alignment.score, 6),
                    "missing": list(g.alignment.missing),
                    "finish_reason": g.completion.finish_reason,
                    "completion_tokens": g.completion.completion_tokens,
                    "seconds": round(g.completion.seconds, 3),
                    "seed": g.params.seed,
                    "feedback": nxt.feedback,
                }
                for g, nxt in zip(gens, gens[1:])
            ]
        if final.dropped:
            meta["dropped_relations"] = final.dropped
        if dup_of:
            meta["near_duplicate_of"] = dup_of
        if reason is not None or not final.whole:
            meta["raw_completion"] = comp.text
        out_doc = final.doc
        out_doc.metadata = {"synth": meta}
        if reason is None:
            near_dup.add(task.key, final.text)
        return reason is None, out_doc.to_dict()

    def _count(self, out: Outcome, ok: bool, reason: str | None) -> None:
        s = self.summary
        s.processed += 1
        s.generations += len(out.generations)
        s.repaired += len(out.generations) > 1
        for g in out.generations[:-1]:
            s.failed_attempts[str(g.reason)] += 1  # an earlier reply (low_score, or it would not have been repaired)
        if ok:
            s.accepted += 1
            if len(out.generations) == 1:
                s.accepted_first_time += 1
            else:
                s.accepted_after_repair += 1
        else:
            s.rejected[reason] += 1
            s.failed_attempts[reason] += 1

    # -- run ---------------------------------------------------------------
    def _resume(self) -> tuple[set[str], NearDupIndex]:
        done: set[str] = set()
        near_dup = NearDupIndex(threshold=self.config.quality.near_dup_jaccard)
        for name in (ACCEPTED, REJECTED):
            path = self.out / name
            before = len(self.diagnostics)
            recs = recover_jsonl(path, self.diagnostics)
            self.summary.truncated_partial_lines += len(self.diagnostics) - before
            for lineno, rec in enumerate(recs, start=1):
                key = record_key(rec, path, lineno)
                done.add(key)
                if name == ACCEPTED:
                    doc = Document.from_dict(rec)
                    abstract = next((p.text for p in doc.passages if p.type == "abstract"), "")
                    near_dup.add(key, abstract)
        recover_jsonl(self.out / ERRORS, self.diagnostics)
        return done, near_dup

    def run(self) -> JobSummary:
        """Run the pending keys, holding the folder's one-writer lock (E050 for a second run)."""
        with exclusive_lock(self.out):
            return self._run()

    def _run(self) -> JobSummary:
        self.out.mkdir(parents=True, exist_ok=True)
        self._check_manifest()
        done, near_dup = self._resume()
        tasks = self.tasks()
        self.summary.total_keys = len(tasks)
        todo = [t for t in tasks if t.key not in done]
        self.summary.already_done = len(tasks) - len(todo)
        if self.limit is not None:
            todo = todo[: self.limit]
        acc, rej, errs = (Journal(self.out / name, self.diagnostics).open() for name in (ACCEPTED, REJECTED, ERRORS))
        t0 = time.perf_counter()
        workers = max(1, int(getattr(self.backend, "max_concurrency", 1)))
        try:
            for out in _bounded_map(self._run_key, todo, workers):
                task, comp = out.task, out.error
                if comp is not None:
                    self.summary.backend_errors[comp.reason] += 1
                    errs.append(
                        {"key": task.key, "reason": comp.reason, "message": comp.message, "generation": len(out.generations), "created": _now()}
                    )
                    self.diagnostics.problems.append(
                        Problem(
                            "E325",
                            SourceLocation(str(self.out / ERRORS)),
                            error("E325", key=task.key, reason=comp.reason).message,
                            "key left pending",
                        )
                    )
                else:
                    ok, rec = self.build_record(out, near_dup)
                    (acc if ok else rej).append(rec)
                    self._count(out, ok, rec["metadata"]["synth"]["reason"])
                # wall time since the run started: the rate is records written per wall hour
                self.summary.seconds = time.perf_counter() - t0
                if self.progress:
                    self.progress(self.summary)
        finally:
            for a in (acc, rej, errs):
                a.close()
        self.summary.seconds = time.perf_counter() - t0
        return self.summary


@dataclass
class Generation:
    """One reply of a key, cleaned, checked and aligned."""

    prompt: Prompt
    params: SamplingParams
    completion: Completion
    text: str  # cleaned
    whole: bool  # the cleaned text is the whole reply
    reason: str | None  # quality or low_score reason (near-duplicates are checked later)
    alignment: Alignment
    doc: Document
    dropped: list[str]
    feedback: str | None  # the repair feedback that asked for this reply (None: the first)


@dataclass
class Outcome:
    """Every generation of one key, or the backend error that stopped it."""

    task: Task
    findings: str
    generations: list[Generation]
    error: BackendError | None


def _bounded_map(fn: Callable[[Task], Any], items: Sequence[Task], workers: int) -> Iterator[Any]:
    """``map`` with at most ``2 * workers`` items in flight, results in
    completion order. One worker runs in the calling thread."""
    if workers <= 1:
        for it in items:
            yield fn(it)
        return
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        it = iter(items)
        pending: set[cf.Future] = set()
        for x in it:
            pending.add(pool.submit(fn, x))
            if len(pending) >= 2 * workers:
                break
        while pending:
            finished, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for f in finished:
                yield f.result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.add(pool.submit(fn, nxt))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_seeds(path: str | Path, fmt: str | None = None, *, lenient: bool = False, diagnostics: Diagnostics | None = None) -> list[Document]:
    """Seeds from any format :func:`biorel.io.read` knows (ABroad JSON, LOTUS
    tables, native JSONL, BioC, PubTator, ...)."""
    from .. import io

    p = Path(path)
    if not p.exists():
        raise error("E171", path=str(p))
    return list(io.read(p, fmt, lenient=lenient, diagnostics=diagnostics))
