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
