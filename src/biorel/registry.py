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
import inspect
from typing import Any, Generic, TypeVar
from collections.abc import Callable, Iterable

from .errors import RegistryError, error

T = TypeVar("T")


def option_names(factory: Callable) -> set[str] | None:
    """The keyword options a factory (a function, or a class through its
    ``__init__`` s up the MRO) takes; ``None`` when it takes any (``**kwargs``
    all the way up)."""
    names: set[str] = set()
    targets = (
        [k.__dict__["__init__"] for k in factory.__mro__ if "__init__" in k.__dict__ and k is not object] if inspect.isclass(factory) else [factory]
    )
    open_ended = bool(targets)
    for target in targets:
        params = inspect.signature(target).parameters.values()
        names.update(p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self")
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            open_ended = False  # this level says what it takes; kwargs above it go here
    return None if open_ended else names


class Registry(Generic[T]):
    def __init__(self, kind: str, builtins: Iterable[str] = (), *, option_error: str = "E005", hidden_options: Iterable[str] = ()):
        self.kind = kind
        #: the coded error for an unknown or invalid option (its template takes
        #: option, value and reason)
        self.option_error = option_error
        #: options a factory takes that are not for users (test hooks)
        self.hidden_options = frozenset(hidden_options)
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}
        # modules that register built-in entries; imported on first look-up so
        # that importing biorel stays cheap.
        self._builtins = tuple(builtins)
        self._loaded = False

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._loaded = True
            for entry in self._builtins:
                # "module" imports it; "module:function" also calls the function
                mod, _, func = entry.partition(":")
                module = importlib.import_module(mod)
                if func:
                    getattr(module, func)()

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

    def create(self, name: str, **options: Any) -> Any:
        """Build the entry ``name`` with ``options``: an unknown name is E001
        (with the valid choices), an option the factory does not take is this
        registry's option error (with the valid options)."""
        factory: Any = self.get(name)
        valid = option_names(factory)
        if valid is not None:
            unknown = sorted(set(options) - valid)
            if unknown:
                shown = ", ".join(sorted(valid - self.hidden_options)) or "(none)"
                raise error(
                    self.option_error,
                    kind=self.kind,
                    option=", ".join(unknown),
                    value=options[unknown[0]],
                    reason=f"not an option of {self.resolve(name)}; valid options: {shown}",
                )
        return factory(**options)

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
        self.evaluators: Registry = Registry("evaluator", builtins=("biorel.evaluation",), option_error="E201")
        self.samplers: Registry = Registry("sampler", builtins=("biorel.sampling",))
        self.models: Registry = Registry("model", builtins=("biorel.models:load_builtin_models",))
        self.linearizations: Registry = Registry("linearization", builtins=("biorel.models.linearize",))
        self.llm_backends: Registry = Registry("LLM backend", builtins=("biorel.synth",), option_error="E305", hidden_options=("sleep", "rng"))
        self.prompt_templates: Registry = Registry("prompt template", builtins=("biorel.synth",))


registry = _Registries()
