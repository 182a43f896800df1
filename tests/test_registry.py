"""Every registry finds its built-in entries on first look-up, without the
caller importing the module that registers them."""

from __future__ import annotations

import subprocess
import sys

import pytest

EXPECTED = {
    "formats": "pubtator",
    "datasets": "bc5cdr",
    "evaluators": "cid",
    "samplers": "gme",
    "llm_backends": "openai",
    "prompt_templates": "paper",
}


@pytest.mark.parametrize("name,alias", sorted(EXPECTED.items()))
def test_builtins_load_on_first_lookup(name: str, alias: str):
    code = f"from biorel.registry import registry; r = registry.{name}; print(r.resolve({alias!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("biorel.")


def test_unknown_name_lists_choices():
    from biorel.registry import registry

    with pytest.raises(KeyError) as e:
        registry.samplers.get("nope")
    assert "E001" in str(e.value) and "gme" in str(e.value) and "random" in str(e.value)


def test_create_checks_options_with_coded_errors():
    """Every factory goes through Registry.create: an unknown name lists the
    choices (E001), an unknown option lists the valid ones (the registry's code)."""
    import pytest

    from biorel.errors import BiorelError
    from biorel.registry import Registry

    reg = Registry("widget")

    class Widget:
        def __init__(self, size: int = 1, *, colour: str = "red"):
            self.size, self.colour = size, colour

    class Big(Widget):
        def __init__(self, depth: int = 2, **kw):
            super().__init__(**kw)
            self.depth = depth

    reg.register("biorel.Widget.v1", Widget, aliases=("widget",))
    reg.register("biorel.Big.v1", Big, aliases=("big",))
    assert reg.create("widget", size=3).size == 3
    big = reg.create("big", depth=5, colour="blue")  # options of the parent class pass through **kw
    assert (big.depth, big.colour) == (5, "blue")
    with pytest.raises(BiorelError) as e:
        reg.create("big", weight=1)
    assert e.value.code == "E005" and "weight" in str(e.value) and "colour, depth, size" in str(e.value)
    with pytest.raises(BiorelError) as e:
        reg.create("nope")
    assert e.value.code == "E001" and "big" in str(e.value) and "widget" in str(e.value)


def test_factories_use_their_registry_codes():
    import pytest

    from biorel.errors import BiorelError
    from biorel.evaluation import make_evaluator
    from biorel.sampling import get_sampler
    from biorel.synth import make_backend

    for build, name, code in ((make_evaluator, "cid", "E201"), (make_backend, "openai", "E305"), (get_sampler, "gme", "E005")):
        with pytest.raises(BiorelError) as e:
            build(name, no_such_option=1)
        assert e.value.code == code and "no_such_option" in str(e.value) and "valid options" in str(e.value)
