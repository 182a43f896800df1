"""Typed registries with versioned names, spaCy style.

Objects are registered under a versioned name such as ``biorel.PubTator.v1``.
A registry may also map short aliases (``pubtator``) to a versioned name so the
CLI can take the short form; the alias always points at the newest version.

    from biorel.registry import registry

    @registry.samplers.register("biorel.GME.v1", aliases=("gme",))
    def make_gme(...): ...

    registry.samplers.get("gme")        # or "biorel.GME.v1"
"""

from __future__ import annotations

import importlib
from typing import Callable, Generic, Iterable, TypeVar

from .errors import RegistryError, error

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, builtins: Iterable[str] = ()):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}
        # modules that register built-in entries; imported on first look-up so
        # that importing biorel stays cheap.
        self._builtins = tuple(builtins)
        self._loaded = False

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._loaded = True
            for mod in self._builtins:
                importlib.import_module(mod)

    def register(self, name: str, obj: T | None = None, *, aliases: Iterable[str] = ()) -> Callable[[T], T] | T:
        def do(o: T) -> T:
            if name in self._items:
                raise error("E002", kind=self.kind, name=name, cls=RegistryError)
            self._items[name] = o
            for a in aliases:
                self._aliases[a] = name
            return o

        return do(obj) if obj is not None else do

    def resolve(self, name: str) -> str:
        self._ensure_loaded()
        if name in self._items:
            return name
        if name in self._aliases:
            return self._aliases[name]
        raise error("E001", kind=self.kind, name=name, choices=", ".join(self.choices()), cls=RegistryError)

    def get(self, name: str) -> T:
        return self._items[self.resolve(name)]

    def __contains__(self, name: str) -> bool:
        self._ensure_loaded()
        return name in self._items or name in self._aliases

    def names(self) -> list[str]:
        self._ensure_loaded()
        return sorted(self._items)

    def choices(self) -> list[str]:
        """Short aliases and full names, for error messages and CLI help."""
        self._ensure_loaded()
        return sorted(set(self._aliases) | set(self._items))

    def items(self) -> list[tuple[str, T]]:
        self._ensure_loaded()
        return sorted(self._items.items())


class _Registries:
    def __init__(self) -> None:
        self.formats: Registry = Registry("format", builtins=("biorel.io",))
        self.datasets: Registry = Registry("dataset", builtins=("biorel.datasets",))
        self.evaluators: Registry = Registry("evaluator", builtins=("biorel.evaluation",))
        self.samplers: Registry = Registry("sampler", builtins=("biorel.sampling",))
        self.models: Registry = Registry("model", builtins=("biorel.models",))
        self.llm_backends: Registry = Registry("LLM backend", builtins=("biorel.synth",))
        self.prompt_templates: Registry = Registry("prompt template", builtins=("biorel.synth",))


registry = _Registries()
