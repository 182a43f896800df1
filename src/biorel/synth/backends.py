"""LLM backends behind ``registry.llm_backends``.

A backend turns a :class:`~biorel.synth.templates.Prompt` and
:class:`SamplingParams` into a :class:`Completion`. Three are built in:

* ``biorel.OpenAIHTTP.v1`` (``openai``): any OpenAI-compatible HTTP server
  (vLLM, llama.cpp server, Ollama, a hosted API). Completion prompts go to
  ``POST {base_url}/completions``, chat prompts to ``/chat/completions``. The
  API key is read from the environment variable ``api_key_env`` (default
  ``OPENAI_API_KEY``; no header is sent when it is unset and was not asked for
  explicitly). Connection errors, timeouts, HTTP 408/429/5xx and replies that
  are not valid JSON or lack ``choices`` are retried ``max_retries`` times with
  exponential backoff (``backoff * 2**attempt``, capped at ``max_backoff``,
  with jitter); other HTTP errors fail at once. ``max_concurrency`` requests may
  be in flight at a time (the job's worker pool size).
* ``biorel.LlamaCpp.v1`` (``llama-cpp``): llama-cpp-python in process, a GGUF path
  or a packaged model name (:mod:`biorel.synth.models`); chat prompts use the
  GGUF's own chat template. One request at a time.
* ``biorel.Transformers.v1`` (``transformers``): a local model folder, or a GGUF
  file loaded with ``gguf_file=`` (needs ``gguf`` and torch). One at a time.

A backend that has given up raises :class:`BackendError` (E300) with a short
machine-readable ``reason`` (``http_500``, ``timeout``, ``invalid_json``, ...) that
the job counts. A reply that parsed but is empty or was cut by the token limit
is *not* an error: it is returned and the quality filter rejects it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol
from collections.abc import Callable

from ..errors import BiorelError, error
from ..registry import registry
from .templates import Prompt


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.8
    max_tokens: int = 512
    stop: tuple[str, ...] = ()
    top_p: float = 1.0
    seed: int | None = None
    grammar: str | None = None  # GBNF; records keep its sha256 prefix, not the text
    # OpenAI-style additive penalties on tokens already generated (0: off)
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        grammar = d.pop("grammar")
        if grammar is not None:
            d["grammar_sha"] = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
        return d


@dataclass
class Completion:
    text: str
    finish_reason: str | None  # "stop" | "length" | None when unknown
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    attempts: int = 1
    seconds: float = 0.0


class BackendError(BiorelError):
    """A request that failed for good (after retries). ``reason`` is a short
    token for counting (``http_500``, ``timeout``, ``connect``, ``invalid_json``,
    ``bad_schema``, ``http_400``, ...)."""

    def __init__(self, code: str, message: str, *, reason: str = "error", where=None):
        super().__init__(code, message, where=where)
        self.reason = reason


def backend_error(backend: str, attempts: int, reason: str, detail: str) -> BackendError:
    err = error("E300", backend=backend, attempts=attempts, reason=f"{reason}: {detail}")
    return BackendError(err.code, err.message, reason=reason)


class LLMBackend(Protocol):
    supports_grammar: bool

    name: str  # the registered name
    model: str  # what provenance records as the model
    max_concurrency: int

    def generate(self, prompt: Prompt, params: SamplingParams) -> Completion: ...

    def describe(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class _Retryable(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _parse_choice(body: Any, chat: bool) -> tuple[str, str | None, dict]:
    if not isinstance(body, dict) or not isinstance(body.get("choices"), list) or not body["choices"]:
        raise _Retryable("bad_schema", "reply has no 'choices' list")
    ch = body["choices"][0]
    if not isinstance(ch, dict):
        raise _Retryable("bad_schema", "choices[0] is not an object")
    if chat:
        msg = ch.get("message")
        text = msg.get("content") if isinstance(msg, dict) else None
    else:
        text = ch.get("text")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise _Retryable("bad_schema", f"completion text is {type(text).__name__}, not a string")
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    return text, ch.get("finish_reason"), usage


class OpenAIHTTPBackend:
    """See the module docstring. ``sleep`` and ``rng`` are injectable for tests."""

    name = "biorel.OpenAIHTTP.v1"

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8080/v1",
        model: str = "default",
        *,
        api_key_env: str | None = None,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_concurrency: int = 4,
        grammar_field: str | None = "grammar",
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ):
        import httpx

        for opt, val, ok in (
            ("timeout", timeout, timeout > 0),
            ("max_retries", max_retries, max_retries >= 0),
            ("max_concurrency", max_concurrency, max_concurrency >= 1),
        ):
            if not ok:
                raise error("E305", option=opt, value=val, reason="out of range")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_concurrency = max_concurrency
        self.grammar_field = grammar_field or None
        self.supports_grammar = self.grammar_field is not None
        self._sleep = sleep
        self._rng = rng or random.Random(0)
        self._rng_lock = threading.Lock()
        headers = {"Content-Type": "application/json"}
        env = api_key_env or "OPENAI_API_KEY"
        key = os.environ.get(env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        elif api_key_env:
            raise error("E304", var=api_key_env)
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
        )
        self._httpx = httpx

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model, "base_url": self.base_url}

    def _payload(self, prompt: Prompt, params: SamplingParams) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {"model": self.model, "temperature": params.temperature, "max_tokens": params.max_tokens, "top_p": params.top_p}
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        for opt in ("frequency_penalty", "presence_penalty"):
            if getattr(params, opt):
                body[opt] = getattr(params, opt)
        if params.grammar is not None:
            if self.grammar_field is None:
                raise error("E306", backend=self.name, how="it was built with grammar_field=None")
            body[self.grammar_field] = params.grammar
        if prompt.kind == "chat":
            body["messages"] = prompt.chat_messages()
            return f"{self.base_url}/chat/completions", body
        body["prompt"] = prompt.text
        return f"{self.base_url}/completions", body

    def _once(self, url: str, body: dict[str, Any], chat: bool) -> Completion:
        httpx = self._httpx
        try:
            resp = self._client.post(url, json=body)
        except httpx.TimeoutException as e:
            raise _Retryable("timeout", f"{type(e).__name__}: {e}") from None
        except httpx.TransportError as e:
            raise _Retryable("connect", f"{type(e).__name__}: {e}") from None
        except httpx.HTTPError as e:  # protocol/decoding problems of one reply
            raise _Retryable("http_error", f"{type(e).__name__}: {e}") from None
        if resp.status_code >= 400:
            reason = f"http_{resp.status_code}"
            detail = resp.text[:200]
            if resp.status_code in (408, 429) or resp.status_code >= 500:
                raise _Retryable(reason, detail)
            raise BackendError("E300", detail, reason=reason)
        try:
            data = resp.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as e:
            raise _Retryable("invalid_json", f"{e}; body starts {resp.text[:80]!r}") from None
        text, finish, usage = _parse_choice(data, chat)
        return Completion(text, finish, str(data.get("model") or self.model), usage.get("prompt_tokens"), usage.get("completion_tokens"))

    def _delay(self, attempt: int) -> float:
        with self._rng_lock:
            jitter = self._rng.uniform(0.5, 1.0)
        return min(self.max_backoff, self.backoff * (2**attempt)) * jitter

    def generate(self, prompt: Prompt, params: SamplingParams) -> Completion:
        url, body = self._payload(prompt, params)
        t0 = time.perf_counter()
        last: _Retryable | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._sleep(self._delay(attempt - 1))
            try:
                out = self._once(url, body, prompt.kind == "chat")
            except _Retryable as e:
                last = e
                continue
            except BackendError as e:
                raise backend_error(self.name, attempt + 1, e.reason, e.message) from None
            out.attempts = attempt + 1
            out.seconds = time.perf_counter() - t0
            return out
        assert last is not None
        raise backend_error(self.name, self.max_retries + 1, last.reason, last.detail)

    def close(self) -> None:
        self._client.close()


def apply_stops(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class LlamaCppBackend:
    """llama-cpp-python in process (see the module docstring)."""

    name = "biorel.LlamaCpp.v1"
    max_concurrency = 1
    supports_grammar = True
    guide_by_default = True  # guide="auto" guides here (BENCHMARKS.md: synthetic abstracts)

    def __init__(
        self,
        model: str = "smollm2-135m",
        *,
        n_ctx: int = 2048,
        n_threads: int = 2,
        n_batch: int = 256,
        penalty_window: int = 512,
        grammar_last: bool = True,
    ):
        try:
            from llama_cpp import Llama
        except ImportError as e:
            raise error("E302", backend=self.name, reason=f"{e}; install biorel[llama]") from None
        if grammar_last:  # grammar checked after sampling, as llama.cpp's common sampler does (llama_grammar.py)
            from .llama_grammar import grammar_last_llama_class

            Llama = grammar_last_llama_class()
        self.grammar_last = grammar_last
        from .models import resolve_llm

        path = resolve_llm(model)
        self.model = model if not Path(model).exists() else Path(model).name
        self.path = str(path)
        self.n_threads = n_threads
        # penalty_window: how many recent tokens the frequency/presence penalties look back on
        self._llm = Llama(model_path=self.path, n_ctx=n_ctx, n_threads=n_threads, n_batch=n_batch, last_n_tokens_size=penalty_window, verbose=False)
        self._lock = threading.Lock()
        self._grammars: dict[str, Any] = {}  # GBNF text -> parsed LlamaGrammar (a job reuses a few per seed)

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model,
            "model_path": self.path,
            "n_threads": self.n_threads,
            "grammar_sampling": "last" if self.grammar_last else "first",
        }

    def _grammar(self, text: str) -> Any:
        from llama_cpp import LlamaGrammar

        g = self._grammars.get(text)
        if g is None:
            try:
                g = LlamaGrammar.from_string(text, verbose=False)
            except (ValueError, RuntimeError) as e:
                raise backend_error(self.name, 1, "bad_grammar", str(e)) from None
            if len(self._grammars) >= 64:
                self._grammars.pop(next(iter(self._grammars)))
            self._grammars[text] = g
        return g

    def generate(self, prompt: Prompt, params: SamplingParams) -> Completion:
        kw = dict(
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            stop=list(params.stop) or None,
            seed=params.seed,
            frequency_penalty=params.frequency_penalty,
            presence_penalty=params.presence_penalty,
        )
        t0 = time.perf_counter()
        with self._lock:
            if params.grammar is not None:
                kw["grammar"] = self._grammar(params.grammar)
            try:
                if prompt.kind == "chat":
                    out = self._llm.create_chat_completion(messages=prompt.chat_messages(), **kw)
                else:
                    out = self._llm.create_completion(prompt.text, **kw)
            except (RuntimeError, ValueError) as e:
                raise backend_error(self.name, 1, "runtime", str(e)) from None
        ch = out["choices"][0]
        text = ch["message"]["content"] if prompt.kind == "chat" else ch["text"]
        usage = out.get("usage", {})
        return Completion(
            text or "", ch.get("finish_reason"), self.model, usage.get("prompt_tokens"), usage.get("completion_tokens"), 1, time.perf_counter() - t0
        )

    def close(self) -> None:
        llm, self._llm = self._llm, None
        if llm is not None and hasattr(llm, "close"):
            llm.close()


class TransformersBackend:
    """transformers in process: ``model`` is a local folder, or a packaged GGUF
    model name / GGUF path (loaded with ``gguf_file=``, dequantised to float32)."""

    name = "biorel.Transformers.v1"
    max_concurrency = 1
    supports_grammar = False

    def __init__(self, model: str, *, gguf_file: str | None = None, n_threads: int = 2):
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as e:
            raise error("E302", backend=self.name, reason=f"{e}; install biorel[synth-transformers]") from None
        from .models import resolve_llm

        torch.set_num_threads(n_threads)
        p = Path(model)
        if gguf_file is None and not p.is_dir():
            gguf = resolve_llm(model)
            folder, gguf_file = str(gguf.parent), gguf.name
        else:
            folder = str(p)
        kw = {"gguf_file": gguf_file} if gguf_file else {}
        try:
            self._tok = AutoTokenizer.from_pretrained(folder, **kw)
            self._model = AutoModelForCausalLM.from_pretrained(folder, **kw)
        except (OSError, ValueError) as e:
            raise error("E303", model=model, reason=str(e)) from None
        self._model.eval()
        self._torch = torch
        self.model = model if not p.exists() else p.name
        self.path = folder
        self.gguf_file = gguf_file
        self._lock = threading.Lock()

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model, "model_path": self.path, "gguf_file": self.gguf_file}

    def _input_ids(self, prompt: Prompt):
        if prompt.kind == "chat":
            return self._tok.apply_chat_template(prompt.chat_messages(), add_generation_prompt=True, return_tensors="pt", return_dict=True)[
                "input_ids"
            ]
        return self._tok(prompt.text, return_tensors="pt")["input_ids"]

    def generate(self, prompt: Prompt, params: SamplingParams) -> Completion:
        if params.grammar is not None:
            raise error("E306", backend=self.name, how="transformers has no GBNF sampler")
        for opt in ("frequency_penalty", "presence_penalty"):
            if getattr(params, opt):
                raise error("E305", option=opt, value=getattr(params, opt), reason=f"{self.name} has no additive penalties; set it to 0")
        torch = self._torch
        t0 = time.perf_counter()
        with self._lock:
            ids = self._input_ids(prompt)
            if params.seed is not None:
                torch.manual_seed(params.seed)
            kw: dict[str, Any] = dict(max_new_tokens=params.max_tokens, pad_token_id=self._tok.pad_token_id or self._tok.eos_token_id)
            if params.temperature > 0:
                kw.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
            else:
                kw.update(do_sample=False)
            if params.stop:
                kw.update(stop_strings=list(params.stop), tokenizer=self._tok)
            with torch.no_grad():
                out = self._model.generate(ids, attention_mask=torch.ones_like(ids), **kw)
        new = out[0, ids.shape[1] :]
        text = self._tok.decode(new, skip_special_tokens=True)
        text, stopped = apply_stops(text, params.stop)
        eos = self._tok.eos_token_id
        ended = stopped or (len(new) and int(new[-1]) == eos) or len(new) < params.max_tokens
        return Completion(text, "stop" if ended else "length", self.model, int(ids.shape[1]), int(len(new)), 1, time.perf_counter() - t0)

    def close(self) -> None:
        self._model = None


registry.llm_backends.register("biorel.OpenAIHTTP.v1", OpenAIHTTPBackend, aliases=("openai",))
registry.llm_backends.register("biorel.LlamaCpp.v1", LlamaCppBackend, aliases=("llama-cpp",))
registry.llm_backends.register("biorel.Transformers.v1", TransformersBackend, aliases=("transformers",))


def make_backend(name: str, **options: Any) -> LLMBackend:
    """Build a registered backend; unknown options are an error (E305)."""
    return registry.llm_backends.create(name, **options)
