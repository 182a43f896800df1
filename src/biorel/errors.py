"""Coded errors and the diagnostics that lenient modes report.

Every error biorel raises on purpose is a :class:`BiorelError` with a stable code
(``E0xx``), so users and tests can match on the code and not on the wording.
Errors about input files carry a :class:`SourceLocation` naming the file and the
line, byte offset or XML/JSON path of the problem.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from collections.abc import Iterable


class Errors:
    """Message templates, one per code. Codes are never reused."""

    # registry / configuration
    E001 = "Unknown {kind} '{name}'. Valid choices: {choices}."
    E002 = "{kind} '{name}' is already registered."
    E003 = "Cannot infer the format of '{path}'. Give one of: {choices}."
    E004 = "Format '{name}' cannot {action}."
    E005 = "Invalid {kind} option {option}={value!r}: {reason}."
    # document model
    E010 = "Mention text does not match the document text at its offsets (offset drift): mention {item} says {expected!r} but the text at {spans} is {found!r}."
    E011 = "Span {spans} of {item} is invalid (start must be >= 0 and < end, end <= document length {length})."
    E012 = "Span {spans} of {item} does not lie inside a single passage."
    E013 = "Duplicate {what} id '{id}' in document '{doc}'."
    E014 = "{item} refers to {what} id '{ref}', which does not exist in document '{doc}'."
    E015 = "Empty document '{doc}': it has no text."
    E016 = "Duplicate document id '{doc}' (first seen at {first})."
    E017 = "Passages of document '{doc}' overlap: passage at {a} overlaps passage at {b}."
    E018 = "Example documents differ: predicted '{pred}' vs reference '{ref}' ({what})."
    # decoding / syntax
    E020 = "Invalid UTF-8 at byte {byte} of the line: {reason}."
    E021 = "Malformed {fmt} line: {reason}."
    E022 = "Malformed {fmt}: {reason}."
    E023 = "Truncated or broken XML: {reason}."
    E024 = "Invalid JSON: {reason}."
    # datasets
    E030 = "Dataset '{name}' has no split '{split}'. Valid splits: {choices}."
    E031 = "Checksum mismatch for {path}: expected sha256 {expected}, got {found}."
    E032 = "Could not fetch {url}: {reason}. Set BIOREL_DATA_MIRROR to a folder holding a copy ({hint})."
    E033 = "Dataset '{name}' file '{file}' not found in mirror {mirror} nor in cache {cache}."
    # jobs: atomic outputs, journals, locks (E050-E069)
    E050 = "Output {path} is being written by another biorel process ({holder}); wait for it to finish or write elsewhere (lock file {lock})."
    E051 = "Cannot take the lock {lock} for output {path}: {reason}."
    E052 = "Partial last record ({size} bytes) of journal {path} from an interrupted run; truncated."
    E053 = "Malformed record in journal {path} line {line}: {reason}."
    E054 = "Cannot replace {path}: {reason}."
    # BioC XML and BioC JSON formats (E100-E119)
    E100 = "BioC {what} is missing its {field}."
    E101 = "BioC {what} has an invalid {field} {value!r}: {reason}."
    E102 = "BioC relation '{id}' has {n} node(s); biorel relations are binary, so exactly 2 nodes are needed."
    E103 = "BioC relation '{id}' names no arguments: give 2 nodes, infons entity1/entity2, or two infons keyed by mention types (BC5CDR: Chemical/Disease); its infon keys are {keys}."
    E104 = "Cannot write document '{doc}' as BioC: {reason}."
    E105 = "Malformed biorel infon '{key}': {reason}."
    E106 = "Unexpected {what} in BioC {parent}: {reason}."
    E107 = "Not a {fmt} collection: {reason}."
    # PubTator, brat standoff and raw-text formats (E120-E139)
    E120 = "Not a PubTator line (expected 'PMID|t|text', a tab-separated annotation line or a blank line): {line!r}."
    E121 = "PubTator annotation line has {n} tab-separated columns; {expected}."
    E122 = "PubTator mention offsets must be non-negative integers: got start {start!r}, end {end!r}."
    E123 = "Orphan PubTator line for document '{pmid}': {why}."
    E124 = "Cannot write document '{doc}' as {fmt}: {reason}."
    E125 = "Malformed brat annotation line ({kind}): {reason}."
    E126 = "brat annotation file {ann} has no text file {txt}."
    E127 = "Unsupported brat annotation {item}: {reason}."
    E128 = "Raw-text line has no tab between document id and text (id_column=True): {line!r}."
    E129 = "Cannot read {path} as {fmt}: {reason}."
    E130 = "No documents in {path}: {reason}; nothing was extracted or converted."
    E131 = "PubTator mention line has a tab inside the mention text (column 4), so its columns shift: {reason}."
    E132 = "brat annotation '{item}' points at '{ref}', which was skipped; it is skipped too."
    # table formats: LOTUS tables, ABroad JSON, sentence-level relation sets (E140-E159)
    E140 = "Table lacks required column(s): {missing}. Expected: {expected}."
    E141 = "{fmt} row has {found} cells but the header has {expected} (delimiter {delimiter})."
    E142 = "Empty cell in column '{column}': {reason}."
    E143 = "Rows of reference '{key}' are not contiguous: it was already read at lines {first}-{last}, before another reference started. Group the table by {column} first (e.g. sort it)."
    E144 = "ABroad JSON {what} must be {expected}, found {found}."
    E145 = "ABroad JSON {what} lacks the required key '{key}'."
    E146 = "ABroad JSON relation must be a pair [organism id, chemical id] of strings, found {found}."
    E147 = "Duplicate key '{key}' in a JSON object: JSON readers keep only one of them."
    E148 = "{fmt} sentence has {n} entity mask(s) {masks}; expected exactly 2 (like @GENE$ and @DISEASE$)."
    E149 = "Unknown entity mask '{mask}'. Known masks: {known} (pass masks=None to accept any @NAME$)."
    E150 = "{fmt} entity marker {marker!r}: {reason}."
    E151 = "Empty or invalid label {label!r}: {reason}."
    E152 = "Not a {fmt} record: {reason}."
    E153 = "Cannot write {fmt}: {reason}."
    E154 = "Unknown {fmt} header {header}: expected {expected}."
    # datasets registry, CoNLL/BC2 formats, sentences, convert/validate/stats CLI (E160-E179)
    E160 = "Invalid BIO tag {tag!r}: {reason}."
    E161 = "BC2 offsets {start} {end} of sentence '{sid}' lie outside its {n} non-whitespace characters."
    E162 = "BC2 mention text {expected!r} does not match sentence '{sid}' at non-whitespace offsets {start}-{end}: found {found!r}."
    E163 = "BC2 annotation names sentence '{sid}', which is not in {source}."
    E164 = "Dataset '{name}' option '{option}': {reason}."
    E165 = "Unknown option(s) {options} for dataset '{name}'. Valid options: {choices}."
    E166 = "Cannot write {fmt}: {reason}."
    E167 = "Unsafe archive member '{member}' in {archive}: {reason}."
    E168 = "Cannot read archive {archive}: {reason}."
    E169 = "Sentence splitter backend '{name}' is not available: {reason}."
    E170 = "Cannot convert {src} to {dst}: {reason}."
    E171 = "Input {path} does not exist."
    E172 = "PURE span [{start}, {end}] of sentence {sent} is outside its tokens {lo}..{hi} (or end < start)."
    E173 = "PURE relation {rel} of sentence {sent}: argument [{start}, {end}] is not an entity span of that sentence."
    E174 = "{path} holds no documents: {reason}."
    # candidate pair tables (E180-E189)
    E180 = "Invalid pairs option {option}={value!r}: {reason}. Valid choices: {choices}."
    E181 = "Cannot write the pairs table {path}: {reason}. Valid choices: {choices}."
    E182 = "Parquet pairs tables need pyarrow ({reason}); install biorel[parquet] (pip install pyarrow), or write .csv."
    E183 = "Pair type {value!r} names entity type(s) {missing} that no mention of {source} has. Entity types there: {choices}."
    E184 = "No candidate pairs in {source}: {reason}. Give --pair-types HEAD:TAIL; entity types there: {choices}."
    E185 = "Relation '{rel}' of document '{doc}' has type {type!r}, which is the label of pairs without a relation; rename the type or mark the relation infons['negative']."
    E186 = "Pairs table row {row}: {reason}. Columns: {choices}."
    E187 = "Cannot read the pairs table {path}: {reason}."
    E188 = "Pairs table row cannot be read as a document: {reason}."
    # PubMed XML and MEDLINE formats (E190-E199)
    E190 = "Not a PubMed XML file: {reason}."
    E191 = "PubMed article {pmid} cannot be read as a document: {reason}."
    E192 = "MEDLINE record {pmid} cannot be read as a document: {reason}."
    E193 = "Malformed MEDLINE line: {reason}."
    E194 = "Cannot decompress the gzip stream: {reason}."
    # evaluation: scorers, protocols, bootstrap, clustering, reports (E200-E219)
    E200 = "Evaluator '{name}' does not support {what}: {reason}."
    E201 = "Invalid evaluation option {option}={value!r}: {reason}."
    E202 = "Document '{doc}': {item} refers to {what} '{ref}', which does not exist, so it cannot be scored."
    E203 = "Cannot compare the two reports: {reason}."
    E204 = "Bootstrap needs {need}: {reason}."
    E205 = "Embeddings and labels do not fit: {reason}."
    E206 = "Output of document '{doc}', item {index} {item!r} cannot be parsed: {reason}."
    E207 = "Output of document '{doc}' cannot be parsed: {reason}; its gold pairs count as false negatives."
    E208 = "Cannot read model outputs from {path}: {reason}."
    E209 = "Cannot write the evaluation report to {path}: {reason}."
    E210 = "Relation '{rel}' of document '{doc}' is {level}-level; evaluator '{name}' scores only {need}-level relations."
    E211 = "The evaluation report needs matplotlib ({reason}); install biorel[report]."
    # diversity-optimised sampling (E220-E239)
    E220 = "Invalid sampling option {option}={value!r}: {reason}."
    E221 = "Column '{column}' not found in {source}. Available columns: {choices}."
    E222 = "Empty value in column '{column}' (item {item!r}): every row needs an item id and a value for each sampled variable."
    E223 = "Nothing to sample: {reason}."
    E224 = "Item '{item}' has no relation with an argument in {variables}; it cannot be ranked."
    E225 = "Sample size n={n} is larger than the {available} rankable items{scope}."
    E226 = "Relation '{relation}' of document '{doc}' has no argument matching {variables}; it is ignored."
    E227 = "Malformed table: {reason}."
    E228 = "Cannot write {what} to '{path}': {reason}."
    E229 = "The diversity report needs matplotlib ({reason}); install biorel[report]."
    E230 = "Argument '{arg}' of relation '{relation}' in document '{doc}' {reason}; the argument is ignored."
    # synthetic abstracts: LLM backends, templates, verbaliser, aligner, job, report (E300-E339)
    E300 = "LLM backend '{backend}' request failed after {attempts} attempt(s): {reason}."
    E302 = "LLM backend '{backend}' is not available: {reason}."
    E303 = "Model '{model}' cannot be used: {reason}."
    E304 = "Environment variable {var} (the API key) is not set."
    E305 = "Invalid backend option {option}={value!r}: {reason}."
    E306 = "LLM backend '{backend}' cannot do grammar-guided decoding ({how}); use guide 'none', or a backend that can: llama-cpp, openai (a server that takes a GBNF 'grammar' field)."
    E310 = "Prompt template {source} is invalid: {reason}."
    E312 = "Few-shot template '{name}' needs {need} seed abstract(s) other than '{doc}'; only {have} available."
    E315 = "Cannot verbalise document '{doc}': {reason}."
    E316 = "Entity '{entity}' of document '{doc}' has no name to look for in generated text."
    E320 = "Seed document '{doc}' is skipped: {reason}."
    E321 = "Invalid synth option {option}={value!r}: {reason}."
    E322 = "Output folder {path} holds a job with a different configuration ({diff}); use another folder or --force."
    E323 = "Partial last record ({size} bytes) of {path} from an interrupted run; truncated."
    E324 = "Malformed record in {path} line {line}: {reason}."
    E325 = "Backend reply for job key '{key}' failed: {reason}; the key stays pending for a rerun."
    E330 = "Nothing to report in {path}: {reason}."

    # joint NER+RE models, training, extraction (E400-E449)
    E400 = "Config file {path} cannot be read: {reason}."
    E401 = "Config file {path} is not valid {fmt}: {reason}."
    E402 = "Invalid config value at '{key}': {reason}."
    E403 = "Bad config override {override!r}: {reason}. Overrides look like --section.key VALUE or --section.key=VALUE."
    E404 = "'{path}' is not a saved biorel model: {reason}."
    E405 = "Cannot load encoder '{name}': {reason}."
    E406 = "Tokenizer of '{name}' is not a fast tokenizer; biorel needs offset mappings (use a model with a tokenizer.json)."
    E407 = "No usable training data: {reason}."
    E408 = "Cannot load data '{ref}': {reason}."
    E409 = "Gold-entity mode needs entities grounded in mentions, but document '{doc}' has none that the model can use ({reason})."
    E410 = "Cannot resume from '{path}': {reason}."
    E411 = "Cannot resume extraction into '{path}': {reason}. Delete {partial} or pass --no-resume to start over."
    E412 = "Invalid extraction option {option}: {reason}."
    E413 = "Dev evaluation returned no metric '{metric}'. Metrics returned: {choices}."
    E414 = "Checkpoint weights do not fit the model: {reason}."
    # HTTP service: biorel serve (E500-E519)
    E500 = "Request body of {size} bytes is larger than this server accepts ({limit} bytes, --max-body-bytes)."
    E501 = "Document '{doc}' has {n} characters; this server accepts at most {limit} per document (--max-doc-chars)."
    E502 = "No answer within {limit} s (--timeout-s); the request's unfinished documents were dropped."
    E503 = "The server is busy: {what}; retry after {retry} s."
    E504 = "Missing or wrong API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."
    E505 = "The model is not ready: {reason}."
    E506 = "Invalid request: {reason}."
    E507 = "Not found: {method} {path}."
    E508 = "Method {method} is not allowed for {path}; allowed: {allowed}."
    E509 = "Evidence is not available: {reason}."
    E510 = "Prediction failed: {reason}."
    E511 = "Internal server error: {reason}."
    E512 = "Cannot write the predictions as {fmt}: {reason}; ask for output=json."
    E513 = "The request holds {n} documents ({tokens} tokens); at most {limit} can wait in this server's queue (--max-queue, --max-queue-tokens)."
    E514 = "Invalid serve option {option}: {reason}."
    E515 = "Static file '{name}' is not part of this installation: {reason}."
    E516 = "HTTP error {status}: {reason}."
    # corpus viewer: biorel view (E520-E529)
    E520 = "Input {path} to view does not exist."
    E521 = "Protocol '{name}' cannot colour a corpus view: {reason}; use ner, concept, cid, mention or e2e."
    E522 = "Cannot write the view page {path}: {reason}."
    E523 = "The view's counts for document '{doc}' disagree with the scorer {name} ({what}); please report this."
    E524 = "The viewer's file '{name}' is missing from the biorel package: {reason}."
    # relation evidence and token attributions (E530-E539)
    E530 = "Unknown attribution method '{method}'. Valid choices: {choices}."
    E531 = "Model {architecture} cannot explain relations with '{method}': {reason}. Methods this model offers: {choices}."
    E532 = "Invalid evidence option {option}: {reason}."
    # Parquet extraction output and biorel query (E540-E549)
    E540 = "{path} is not a biorel Parquet output: {reason}."
    E541 = "Parquet output {path} has schema version {found}; this biorel reads and writes version {expected}."
    E542 = "Parquet output {path} is incomplete: {reason}."
    E543 = "Not a table file of a biorel Parquet output: {reason}."
    E544 = "Bad row in a Parquet output table: {reason}."
    E545 = "Cannot write the Parquet output {path}: {reason}."
    E546 = "A Parquet output is a folder of files; it cannot be {action} a string or a stream. {hint}."
    E547 = "{what} needs {package} ({reason}); install biorel[{extra}]."
    E548 = "Query on {path} failed: {reason}."
    E549 = "Invalid query option {option}: {reason}."
    # Ray extraction engine: biorel extract --engine ray (E550-E559)
    E550 = "The Ray engine needs Ray Data ({reason}); install the extra: pip install 'biorel[ray]'."
    E551 = "Cannot connect to the Ray cluster at {address}: {reason}."
    E552 = "{n} shard(s) of {path} failed: {reason}. The other shards are done (listed in {manifest}); run the same command again to retry the failed ones."
    E553 = "Cannot resume the Ray extraction in {path}: {reason}. Delete {manifest} or pass --no-resume to start over."
    E554 = "The Ray engine writes a folder of shards; {path} {reason}."
    E555 = "Invalid Ray engine option {option}: {reason}."
    E556 = "The Ray job stopped: {reason}. The shards done are listed in {manifest}; run the same command again to resume."
    # generative models (E560-E579)
    E560 = "Cannot load the base language model '{name}': {reason}."
    E561 = "QLoRA cannot run here: {reason}. Set model.qlora = false to train LoRA adapters on the full-precision base."
    E562 = "Copy-constrained decoding cannot use {name}: {reason}; set model.decoding.constrained = false to decode without it."
    E563 = "Cannot dequantise the GGUF model '{name}' into {path}: {reason}."
    E564 = "Waited {seconds} s for another process to dequantise '{name}' into {path} ({reason}); run again once it has finished."
    E565 = "The adapter in {path} does not fit the base model '{name}': {reason}."
    E566 = "Invalid generation option {option}: {reason}."
    E567 = "LoRA target modules {modules} are not layers of the base model '{name}'; its linear layers: {choices} (or 'all-linear')."
    E568 = "Nothing to train: {reason}. Set model.adapter = true to train LoRA adapters; a prompted model is used as it is (save it, then predict or extract with it)."
    E569 = "The generative model needs {k} in-context example(s) (model.shots) but {reason}."
    E570 = "The tokenizer of the base model '{name}' has no chat template, which model.chat = true needs; set model.chat = false to use model.prompt as plain text."
    # MLM pretraining and the DAPT corpus (E580-E599)
    E580 = "Corpus source {path} cannot be read: {reason}."
    E581 = "Not enough text to pretrain on in {path}: {reason}."
    E582 = "Cannot resume pretraining in {path}: {reason}. Use another output folder, or --restart to start over."
    E583 = "Cannot extend the vocabulary of '{name}': {reason}."
    E584 = "The corpus counts of source {source} do not add up ({what}); please report this."
    E585 = "Invalid pretraining option {option}: {reason}. Valid choices: {choices}."
    E586 = "MLM loss is not finite at step {step} ({loss}); lower training.lr or set training.precision = 'fp32'."
    E587 = "Cannot save the trained encoder to {path}: {reason}."


class BiorelError(Exception):
    """Base class. ``code`` is the stable error code."""

    def __init__(self, code: str, message: str, *, where: SourceLocation | None = None):
        self.code = code
        self.where = where
        self.message = message
        super().__init__(f"[{code}] {where}: {message}" if where else f"[{code}] {message}")


def error(code: str, *, where: SourceLocation | None = None, cls: type[BiorelError] | None = None, **fields) -> BiorelError:
    """Build an error from its code's template: ``raise error("E010", item=..., ...)``."""
    template = getattr(Errors, code)
    cls = cls or (FormatError if where is not None else BiorelError)
    return cls(code, template.format(**fields), where=where)


class RegistryError(BiorelError, KeyError):
    def __str__(self) -> str:  # KeyError would repr() the message
        return Exception.__str__(self)


class FormatError(BiorelError, ValueError):
    """A problem in an input file, with its location."""


class ValidationError(FormatError):
    """A document that parsed but breaks the document model's invariants."""


class DatasetError(BiorelError):
    pass


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where in an input something came from.

    ``line`` is 1-based; ``path`` is an XML path (``/collection/document[3]/passage[2]``)
    or a JSON path (``$.documents[3]``); ``offset`` a byte or character offset.
    """

    file: str = "<string>"
    line: int | None = None
    path: str | None = None
    offset: int | None = None

    def __str__(self) -> str:
        out = self.file
        if self.line is not None:
            out += f":{self.line}"
        if self.path:
            out += f" {self.path}"
        if self.offset is not None:
            out += f" (offset {self.offset})"
        return out


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing lenient reading skipped or repaired."""

    code: str
    where: SourceLocation
    message: str
    action: str = "skipped"

    def __str__(self) -> str:
        return f"[{self.code}] {self.where}: {self.message} ({self.action})"


@dataclass
class Diagnostics:
    """Collects the problems a lenient read skipped. Nothing is dropped silently."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, err: BiorelError, action: str = "skipped") -> None:
        self.problems.append(Problem(err.code, err.where or SourceLocation(), err.message, action))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def counts(self) -> Counter:
        return Counter(p.code for p in self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    def __bool__(self) -> bool:  # an empty collector is still a collector
        return True

    def __iter__(self):
        return iter(self.problems)
